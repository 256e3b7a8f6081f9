#include "sim/host.hpp"

#include "sim/channel.hpp"
#include "sim/probe.hpp"
#include "sim/start.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <exception>

namespace forklore {

namespace {
// The channel lives as long as the process: forked children inherit the mapping.
Channel g_channel;

[[noreturn]] void setup_failed(const std::string& why) {
    fmt::print(stderr, "forklore-host: setup: {}\n", why);
    _exit(kHostSetupErrorCode);
}

int encode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return kHostSetupErrorCode;
}

bool uses_forkserver(const Scenario& scenario, const KnobValues& knobs) {
    for (const auto& knob : scenario.knobs) {
        if (knob.type != KnobType::choice) continue;
        auto it = knobs.find(knob.name);
        if (it != knobs.end() && it->second == to_string(StartMethod::forkserver) &&
            std::find(knob.choices.begin(), knob.choices.end(), "forkserver") != knob.choices.end())
            return true;
    }
    return false;
}

// The scenario's main process: pid 2 of the sandbox.
[[noreturn]] void scenario_main(const Scenario& scenario, const HostRunOptions& options) {
    if (auto error = contain_limits(options.limits); !error.empty()) setup_failed(error);
    probe::set_thread_name("main");
    probe::record(EventKind::process_start, 0, getppid(), 0, "main", scenario.id.c_str());
    int code = 0;
    try {
        // Like Python's forkserver, the server is made before the scenario starts any thread.
        if (uses_forkserver(scenario, options.knobs)) probe::start_forkserver();
        ScenarioContext context(options.knobs);
        code = scenario.body(context);
    } catch (const std::exception& error) {
        fmt::print(stderr, "scenario error: {}\n", error.what());
        code = 70;
    }
    fflush(stdout);
    fflush(stderr);
    // _exit, not exit: static destructors must not run under threads that are still working.
    _exit(code);
}

// The reaper: pid 1 of the PID namespace (or a subreaper without one). Records the exit status
// of every process it reaps, and leaves when the last one is gone.
[[noreturn]] void reaper(const Scenario& scenario, const HostRunOptions& options,
                         const Containment& containment) {
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (!containment.pid_ns) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    probe::set_thread_name("forklore-reaper");
    pid_t main_pid = fork();
    if (main_pid < 0) setup_failed(fmt::format("fork of the scenario process: {}", strerror(errno)));
    if (main_pid == 0) scenario_main(scenario, options);
    int main_status = 0;
    for (;;) {
        int status = 0;
        pid_t pid = waitpid(-1, &status, __WALL);
        if (pid < 0) {
            if (errno == EINTR) continue;
            break; // ECHILD: nobody left
        }
        // The scenario's first process is marked: the run ends with it (see the runner).
        probe::record(EventKind::process_exit, static_cast<std::uint64_t>(pid), status,
                      pid == main_pid ? kFirstProcessExit : 0, "reaper");
        if (pid == main_pid) main_status = status;
    }
    _exit(encode_status(main_status));
}
} // namespace

std::string own_executable_path() {
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) return {};
    path[n] = '\0';
    return path;
}

void host_run(const HostRunOptions& options) {
    const Scenario* scenario = ScenarioRegistry::instance().find(options.scenario_id);
    if (!scenario) setup_failed("unknown scenario '" + options.scenario_id + "'");
    try {
        g_channel = Channel::attach(options.channel_fd);
    } catch (const std::exception& error) {
        setup_failed(error.what());
    }
    probe::install_channel(&g_channel);
    probe::set_thread_name("forklore-host");

    // The recipe: each step contains one kernel concern.
    if (auto error = contain_die_with_parent(options.runner_pid); !error.empty())
        setup_failed(error);
    Containment containment;
    if (!options.namespaces)
        containment.notes.push_back("namespaces turned off for this run");
    else if (auto error = contain_namespaces(containment); !error.empty())
        setup_failed(error);
    if (auto error = contain_workdir(options.workdir, containment, options.limits.max_file_size);
        !error.empty())
        setup_failed(error);
    std::string sandbox_note = "sandbox namespaces: " + containment.describe();
    probe::record(EventKind::note, 0, 0, 0, "sandbox", sandbox_note.c_str());
    for (const auto& note : containment.notes)
        probe::record(EventKind::note, 0, 0, 0, "sandbox", note.c_str());

    probe::set_launch_context({own_executable_path(), scenario, options.channel_fd});

    // unshare(CLONE_NEWPID) applies to the children of the caller: the first child is pid 1.
    pid_t reaper_pid = fork();
    if (reaper_pid < 0) setup_failed(fmt::format("fork of the reaper: {}", strerror(errno)));
    if (reaper_pid == 0) reaper(*scenario, options, containment);
    int status = 0;
    while (waitpid(reaper_pid, &status, 0) < 0)
        if (errno != EINTR) setup_failed("lost the reaper");
    // _exit, not a return through exit(): after unshare(CLONE_NEWPID) any helper a runtime
    // forks at exit lands in the sandbox's namespace (LeakSanitizer's tracer does, and fails).
    fflush(stderr);
    _exit(encode_status(status));
}

int host_child(const HostChildOptions& options) {
    const Scenario* scenario = ScenarioRegistry::instance().find(options.scenario_id);
    if (!scenario) {
        fmt::print(stderr, "forklore-host: unknown scenario '{}'\n", options.scenario_id);
        return kHostSetupErrorCode;
    }
    auto method = start_method_from_string(options.method);
    if (!method) {
        fmt::print(stderr, "forklore-host: unknown start method '{}'\n", options.method);
        return kHostSetupErrorCode;
    }
    try {
        g_channel = Channel::attach(options.channel_fd);
    } catch (const std::exception& error) {
        fmt::print(stderr, "forklore-host: {}\n", error.what());
        return kHostSetupErrorCode;
    }
    probe::install_channel(&g_channel);
    probe::set_thread_name("main");
    probe::set_launch_context({own_executable_path(), scenario, options.channel_fd});
    try {
        int code = probe::run_child_function(options.function, options.args, *method);
        _exit(code);
    } catch (const std::exception& error) {
        fmt::print(stderr, "forklore-host: {}\n", error.what());
        return kHostSetupErrorCode;
    }
}

} // namespace forklore
