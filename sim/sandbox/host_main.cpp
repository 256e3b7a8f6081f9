// forklore-host: the sandbox. The runner spawns `forklore-host run ...`; the fork_exec and spawn
// start methods start `forklore-host child ...`. Not meant to be started by hand.
#include "sim/sandbox/host.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdio>

namespace {
// "key=value" options into a map; false on a malformed one.
bool parse_pairs(const std::vector<std::string>& pairs, std::map<std::string, std::string>& out) {
    for (const auto& pair : pairs) {
        auto equals = pair.find('=');
        if (equals == std::string::npos || equals == 0)
            return false;
        out[pair.substr(0, equals)] = pair.substr(equals + 1);
    }
    return true;
}
} // namespace

int main(int argc, char** argv) {
    CLI::App app{"forklore sandbox host (started by forklore; not for direct use)"};
    app.require_subcommand(1);

    forklore::HostRunOptions run;
    std::vector<std::string> knobs;
    auto* run_command = app.add_subcommand("run", "contain this process and run a scenario");
    run_command->add_option("--scenario", run.scenario_id)->required();
    run_command->add_option("--knob", knobs, "knob=value");
    run_command->add_option("--channel-fd", run.channel_fd);
    run_command->add_option("--board-fd", run.board_fd, "a stepped run's schedule board");
    run_command->add_option("--runner-pid", run.runner_pid);
    run_command->add_option("--workdir", run.workdir)->required();
    run_command->add_option("--cpu-seconds", run.limits.cpu_seconds);
    run_command->add_option("--address-space", run.limits.address_space);
    run_command->add_option("--max-tasks", run.limits.max_tasks);
    run_command->add_option("--max-file-size", run.limits.max_file_size);
    run_command->add_option("--cgroup", run.cgroups, "a cgroup directory to join (repeatable)");
    run_command->add_option("--visible", run.visible_paths,
                            "a path under /tmp kept visible, read-only (repeatable)");
    bool no_namespaces = false;
    run_command->add_flag("--no-namespaces", no_namespaces,
                          "run as on a kernel without namespaces");

    forklore::HostChildOptions child;
    std::vector<std::string> args;
    auto* child_command = app.add_subcommand("child", "run one child function of a scenario");
    child_command->add_option("--scenario", child.scenario_id)->required();
    child_command->add_option("--function", child.function)->required();
    child_command->add_option("--method", child.method)->required();
    child_command->add_option("--channel-fd", child.channel_fd);
    child_command->add_option("--board-fd", child.board_fd, "a stepped run's schedule board");
    child_command->add_option("--arg", args, "key=value");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        if (error.get_exit_code() == 0)
            return app.exit(error); // --help
        std::fprintf(stderr, "forklore-host: %s\n", error.what());
        return forklore::kHostSetupErrorCode;
    }
    if (*run_command) {
        if (!parse_pairs(knobs, run.knobs)) {
            std::fprintf(stderr, "forklore-host: --knob takes name=value\n");
            return forklore::kHostSetupErrorCode;
        }
        run.namespaces = !no_namespaces;
        forklore::host_run(run);
    }
    if (!parse_pairs(args, child.args)) {
        std::fprintf(stderr, "forklore-host: --arg takes key=value\n");
        return forklore::kHostSetupErrorCode;
    }
    return forklore::host_child(child);
}
