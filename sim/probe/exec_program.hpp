// Running an uninstrumented program inside the sandbox, for scenario bodies (a Python program, a
// shell script) and for `forklore exec`.
//
// exec_program replaces the calling process (the scenario's main process, usually) with the
// program. The program records no events: the observer sees it from /proc like any process of
// the sandbox (its forks, execs, exits, threads and waits), and the verdict is judged from that.
#pragma once

#include "sim/protocol/call_site.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace forklore::probe {

// Records an `exec` event (name = argv[0], text = the command line, cut), then execve's argv[0]
// (a path when it contains '/', else searched for in the PATH of the resulting environment, as
// execvp does) with the current environment plus `env` (each pair overrides or adds a variable).
// The event channel's fd is closed on exec: the program cannot see or write it.
// Returns only on failure: it records a note with the reason, prints one line to stderr and
// returns 127 (the shell's "command not found" code), which the body can return as its own.
// The exec event and the failure's note carry the line of this call.
int exec_program(const std::vector<std::string>& argv,
                 const std::vector<std::pair<std::string, std::string>>& env = {},
                 CallSite site = {});

// A command line as one knob value, a JSON array of strings (readable in the run record), and
// back. decode_argv gives nullopt for text that is not such an array.
std::string encode_argv(const std::vector<std::string>& argv);
std::optional<std::vector<std::string>> decode_argv(const std::string& text);

// What of the caller's /tmp a `forklore exec` run must still see, read-only, in its private
// /tmp: the directory it runs in and every path of its command line that exists, when they are
// under /tmp (the sandbox mounts a fresh tmpfs there). Real paths, each once.
std::vector<std::string> paths_to_keep_visible(const std::string& cwd,
                                               const std::vector<std::string>& argv);

} // namespace forklore::probe

namespace forklore {
// Scenario files usually `using namespace forklore;`: the same function, by either name.
using probe::exec_program;
} // namespace forklore
