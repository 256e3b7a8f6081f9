// Reading and splitting small /proc files, fast: open/read into a caller's stack buffer, fields
// split on blanks without copies. What proc_files.cpp (and stacks.cpp, for a thread's name) read
// their files with.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace forklore::procfs {

// Reads a small /proc file whole into `buffer` (NUL-terminated). Returns the length, or -1 when
// the file cannot be opened or read (the process or thread is gone, most of the time).
ssize_t read_small_file(const char* path, char* buffer, std::size_t capacity);

// Reads a /proc file of any size (like /proc/locks) into a string; empty when unreadable.
std::string read_whole_file(const char* path);

// Reads /proc/PID/task/TID/FILE into `buffer` as read_small_file does: the length, or -1.
ssize_t read_task_file(pid_t pid, pid_t tid, const char* file, char* buffer, std::size_t capacity);

// A /proc directory entry named by a number (a pid, a tid or an fd).
bool parse_number(const char* text, int& out);

// The entries of a /proc directory named by a number (/proc, /proc/PID/task, /proc/PID/fd), in
// the order the kernel lists them; empty when the directory is gone.
std::vector<int> numbered_entries(const char* directory);

// Splits `text` on spaces and tabs; stops after `max_fields`.
std::size_t split_fields(std::string_view text, std::string_view* fields, std::size_t max_fields);

// A decimal field as a number (0 when it is not one).
std::int64_t to_int(std::string_view field);

// The comm of a stat line sits in parentheses and may itself contain spaces and ')': it ends at
// the LAST ')' of the line. Returns the text after it (starting at the state field) and the comm.
bool split_stat_line(std::string_view line, std::string_view& comm, std::string_view& rest);

} // namespace forklore::procfs
