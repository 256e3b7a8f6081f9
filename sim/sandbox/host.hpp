// The sandbox host: the program the runner spawns. `run` mode contains itself, forks the
// sandbox's reaper (pid 1 of the new PID namespace) which forks the scenario's main process.
// `child` mode is the entry of fork_exec and spawn children: it runs one child function.
#pragma once

#include "sim/sandbox/containment.hpp"
#include "sim/scenario/scenario.hpp"

#include <string>
#include <vector>

namespace forklore {

// The host's exit code when the sandbox could not be set up (its stderr says why).
inline constexpr int kHostSetupErrorCode = 125;

struct HostRunOptions {
    std::string scenario_id;
    KnobValues knobs;
    int channel_fd = 3;
    int board_fd = -1; // a stepped run: the schedule board (sim/protocol/schedule_board.hpp)
    pid_t runner_pid = 0;
    std::string workdir;
    SandboxLimits limits;
    bool namespaces = true;                 // false: the fallback a kernel without namespaces gets
    std::vector<std::string> cgroups;       // the run's cgroup directories, joined first
    std::vector<std::string> visible_paths; // under /tmp: kept visible, read-only
};

// Never returns: the host exits with the scenario main's code (128 + signal when it was
// killed), or kHostSetupErrorCode.
[[noreturn]] void host_run(const HostRunOptions& options);

struct HostChildOptions {
    std::string scenario_id;
    std::string function;
    std::string method;
    ChildArgs args;
    int channel_fd = 3;
    int board_fd = -1;
};
int host_child(const HostChildOptions& options);

// The host executable's absolute path, from /proc/self/exe.
std::string own_executable_path();

} // namespace forklore
