// Native stacks of the threads of another process, with libdw (elfutils).
#pragma once

#include "sim/observe/python_frames.hpp"
#include "sim/observe/snapshot.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace forklore {

struct StackFrame {
    std::uint64_t pc = 0;
    std::string function;     // demangled symbol, or empty when unknown
    std::string module;       // file name of the ELF module ("libc.so.6")
    std::uint64_t offset = 0; // pc - symbol start
};

// What the interpreter of a CPython process says about one of its threads, read at the moment
// its native stack was taken (python_frames.hpp).
struct PythonStack {
    std::string name;                // its threading name ("printer"), "" when threading has none
    std::uint64_t ident = 0;         // threading.get_ident()
    std::vector<PythonFrame> frames; // innermost first
    bool without_thread = false;     // a thread state with no thread of this process behind it
    std::string waits_on;            // the Python object whose lock its futex is, when known
    std::string lock_holder;         // the thread that object records as inside it, when known
    bool lock_holder_here = false;   // that thread is a thread of this process
};

struct ThreadStack {
    pid_t pid = 0;    // host pid
    pid_t tid = 0;    // host tid
    pid_t ns_pid = 0; // filled by the caller
    pid_t ns_tid = 0;
    std::string thread_name;
    std::vector<StackFrame> frames;    // innermost first
    std::string error;                 // why no stack could be taken, when frames is empty
    std::optional<PythonStack> python; // a thread of a CPython process
    std::string python_error;          // a CPython process whose interpreter could not be read
};

// Attaches to the threads of `pid` (ptrace, through dwfl_linux_proc_attach), unwinds each one,
// detaches. The process stays stopped only while this runs (~1-2 ms per thread). `only_tids`
// (host tids) limits it to those threads; empty: every thread.
std::vector<ThreadStack> capture_stacks(pid_t pid, const std::vector<pid_t>& only_tids = {},
                                        std::size_t max_frames = 48);

// Adds the Python side to `stacks` (those of `process`, ns ids filled), when the process is a
// CPython interpreter: each thread's Python frames and threading name, the Python object whose
// lock a waiting thread's futex is. A thread state the interpreter lists with no thread of the
// process behind it is added as a stack of its own, marked without_thread. Reads memory only
// (process_vm_readv): never stops or signals the process. Returns the threading name of every
// thread of the process the interpreter names (host tid -> name), those without a stack too.
using ThreadNameList = std::vector<std::pair<pid_t, std::string>>;
ThreadNameList add_python_stacks(const ProcessSnapshot& process, std::vector<ThreadStack>& stacks);

// Only the threading names of a CPython process's threads (host tid -> name); none for a process
// that is not one, or whose executable is not named python*. Reads memory only, as
// add_python_stacks.
ThreadNameList python_thread_names(const ProcessSnapshot& process);

} // namespace forklore
