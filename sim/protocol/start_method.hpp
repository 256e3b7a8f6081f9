// The one place that defines how a child process can be made.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace forklore {

// How a scenario creates a child process; Python's multiprocessing vocabulary.
enum class StartMethod : int {
    fork, // fork(): a copy of the caller's memory, only the calling thread, every lock as it was
    fork_exec,  // fork() then exec of the host: a fresh program, only inherited fds survive
    spawn,      // posix_spawn of the host: fresh program, function and arguments passed explicitly
    forkserver, // a request to a server that was forked while the scenario was single-threaded
};

inline constexpr std::array<std::string_view, 4> kStartMethodNames = {"fork", "fork_exec", "spawn",
                                                                      "forkserver"};

constexpr std::string_view to_string(StartMethod method) {
    return kStartMethodNames[static_cast<int>(method)];
}

// Whether the child is a copy of a process's memory, and so of every lock in the state it had:
// fork copies its caller; a fork server's child copies the server. fork_exec and spawn children
// are fresh programs.
constexpr bool copies_memory(StartMethod method) {
    return method == StartMethod::fork || method == StartMethod::forkserver;
}

// The call that made a copy (StartMethod::fork), in a child_start event's arg1. glibc repairs its
// own locks (stdio, malloc) in the child of fork() only: a child of _Fork() or of a raw clone
// system call starts with them as they were, so an explanation must say which call it was.
enum class CopyCall : int {
    fork,      // glibc's fork(): atfork handlers, stdio and malloc locks reset
    bare_fork, // _Fork() (glibc 2.34+): the system call alone, nothing reset
    raw_clone, // syscall(SYS_clone, SIGCHLD, ...): glibc not involved at all
};

// The call that made a child, from its child_start event (arg0, arg1): only a `fork` child can
// have been copied by something other than fork(); a fork server's children are fork()'s.
constexpr CopyCall copy_call_of(std::int64_t method, std::int64_t call) {
    return static_cast<StartMethod>(method) == StartMethod::fork ? static_cast<CopyCall>(call)
                                                                 : CopyCall::fork;
}

constexpr std::string_view copy_call_name(std::int64_t arg1) {
    switch (static_cast<CopyCall>(arg1)) {
    case CopyCall::bare_fork:
        return "_Fork()";
    case CopyCall::raw_clone:
        return "a raw clone system call";
    default:
        return "fork()";
    }
}

constexpr std::optional<StartMethod> start_method_from_string(std::string_view name) {
    for (std::size_t i = 0; i < kStartMethodNames.size(); ++i)
        if (kStartMethodNames[i] == name)
            return static_cast<StartMethod>(i);
    return std::nullopt;
}

} // namespace forklore
