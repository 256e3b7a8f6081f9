// The one place that defines how a child process can be made.
#pragma once

#include <array>
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

constexpr std::optional<StartMethod> start_method_from_string(std::string_view name) {
    for (std::size_t i = 0; i < kStartMethodNames.size(); ++i)
        if (kStartMethodNames[i] == name)
            return static_cast<StartMethod>(i);
    return std::nullopt;
}

} // namespace forklore
