// Native stacks of the threads of another process, with libdw (elfutils).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace forklore {

struct StackFrame {
    std::uint64_t pc = 0;
    std::string function;     // demangled symbol, or empty when unknown
    std::string module;       // file name of the ELF module ("libc.so.6")
    std::uint64_t offset = 0; // pc - symbol start
};

struct ThreadStack {
    pid_t pid = 0;    // host pid
    pid_t tid = 0;    // host tid
    pid_t ns_pid = 0; // filled by the caller
    pid_t ns_tid = 0;
    std::string thread_name;
    std::vector<StackFrame> frames; // innermost first
    std::string error;              // why no stack could be taken, when frames is empty
};

// Attaches to the threads of `pid` (ptrace, through dwfl_linux_proc_attach), unwinds each one,
// detaches. The process stays stopped only while this runs (~1-2 ms per thread). `only_tids`
// (host tids) limits it to those threads; empty: every thread.
std::vector<ThreadStack> capture_stacks(pid_t pid, const std::vector<pid_t>& only_tids = {},
                                        std::size_t max_frames = 48);

} // namespace forklore
