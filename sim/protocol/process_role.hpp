// What part a process plays in a run, as the trace names it: the one place that turns the names
// the probes write ("main", "forkserver", "reaper", "host", a child function's) into a role.
#pragma once

#include <array>
#include <string_view>

namespace forklore {

enum class ProcessRole : int {
    child,      // a process the scenario or the program made (named by its function or program)
    main,       // the scenario's first process
    forkserver, // the server the forkserver start method asks for children
    reaper,     // pid 1 of the sandbox's PID namespace: the sandbox's own, not the scenario's
    host,       // forklore-host, outside the namespace: the sandbox's own, not the scenario's
};

inline constexpr std::array<std::string_view, 5> kProcessRoleNames = {"child", "main", "forkserver",
                                                                      "reaper", "host"};

constexpr std::string_view to_string(ProcessRole role) {
    return kProcessRoleNames[static_cast<int>(role)];
}

// The role a process's name stands for: the sandbox's and the engine's own processes have fixed
// names; any other name is a child's.
constexpr ProcessRole role_from_name(std::string_view name) {
    for (std::size_t i = 1; i < kProcessRoleNames.size(); ++i)
        if (kProcessRoleNames[i] == name)
            return static_cast<ProcessRole>(i);
    return ProcessRole::child;
}

// The sandbox's own processes (the host and the namespace's reaper): the GUI hides them unless
// asked, and no verdict is about them.
constexpr bool is_sandbox_process(ProcessRole role) {
    return role == ProcessRole::host || role == ProcessRole::reaper;
}

} // namespace forklore
