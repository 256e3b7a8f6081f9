// A run record's parts as plain text, the same wherever they are shown: the CLI prints them
// (`forklore exec`, `forklore run`) and the Markdown report quotes them, so a teacher's handout
// says what the terminal said.
#pragma once

#include "sim/record/record.hpp"

#include <cstddef>
#include <string>

namespace forklore {

// The process tree of a record, one process a line, children indented under their parent
// (4 spaces, then 2 more a level): "3 child: made by fork by 2 at 104.2 ms; thread main (3);
// exited with code 0 at 130.0 ms". The sandbox's own processes (host, reaper) are left out.
std::string process_tree_text(const RunRecord& record);

// The last `count` lines of `text`, each after `indent` and cut to a screen's worth (a program
// may write megabytes with no newline); a line "...", first, when lines were left out.
std::string output_tail(const std::string& text, std::size_t count, const std::string& indent);

// A demangled C++ name without its template and parameter lists, which can run to hundreds of
// characters: "std::vector<...>::push_back(...)" (the record keeps the full name).
std::string short_function_name(const std::string& name);

// A command line on one line: runs of white space (a script's newlines and indentation) become
// one space, and a long one is cut after `max_length` bytes with "...".
std::string one_line(const std::string& text, std::size_t max_length);

// The Python side of a stack, one line each, after `indent`: "Python (innermost call first):",
// then "  printer_thread.py:56 in worker()" per frame (the file's full path is in the record), then
// what it waits for when the interpreter named it; "" for a thread that is not Python.
std::string python_stack_text(const ThreadStack& stack, const std::string& indent);

// "waits for sys.stderr's buffer lock (...), which records thread 'printer' as inside it (a
// thread this process does not have: left behind by fork)": what a Python thread waits for in
// Python's words; "" when the interpreter named no object. The text export and the GUI say it.
std::string python_wait_words(const PythonStack& python);

} // namespace forklore
