#include "sim/sandbox/host.hpp"

#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"
#include "sim/probe/step_point.hpp"
#include "sim/protocol/channel.hpp"
#include "sim/protocol/schedule_board.hpp"
#include "sim/protocol/wait_status.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <exception>

namespace forklore {

namespace {
// The channel lives as long as the process: forked children inherit the mapping.
Channel g_channel;
// A stepped run's board, likewise; installed for the probes only in the scenario's processes
// (the host and the reaper never stop at a scheduling point).
ScheduleBoard g_board;

// Attaches the board behind `fd` (none when -1). Returns why it failed, or "".
std::string attach_board(int fd) {
    if (fd < 0)
        return {};
    try {
        g_board = ScheduleBoard::attach(fd); // keeps a duplicate: the launch context names it
    } catch (const std::exception& error) {
        return error.what();
    }
    close(fd);
    return {};
}

[[noreturn]] void setup_failed(const std::string& why) {
    fmt::print(stderr, "forklore-host: setup: {}\n", why);
    _exit(kHostSetupErrorCode);
}

int encode_status(int raw_status) {
    const WaitStatus status = WaitStatus::from_raw(raw_status);
    if (status.exited())
        return status.exit_code();
    if (status.killed())
        return 128 + status.fatal_signal();
    return kHostSetupErrorCode;
}

bool uses_forkserver(const Scenario& scenario, const KnobValues& knobs) {
    for (const auto& knob : scenario.knobs) {
        if (knob.type != KnobType::choice)
            continue;
        auto it = knobs.find(knob.name);
        if (it != knobs.end() && it->second == to_string(StartMethod::forkserver) &&
            std::find(knob.choices.begin(), knob.choices.end(), "forkserver") != knob.choices.end())
            return true;
    }
    return false;
}

// The scenario's main process: pid 2 of the sandbox.
[[noreturn]] void scenario_main(const Scenario& scenario, const HostRunOptions& options) {
    if (auto error = contain_limits(options.limits); !error.empty())
        setup_failed(error);
    probe::set_thread_name("main");
    if (g_board.valid())
        probe::install_board(&g_board);
    probe::record(EventKind::process_start, 0, getppid(), 0, "main", scenario.id.c_str(),
                  CallSite::unknown());
    int code = 0;
    try {
        // Like Python's forkserver, the server is made before the scenario starts any thread.
        if (uses_forkserver(scenario, options.knobs))
            probe::start_forkserver();
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

// The reaper's last duty when the host (and so the runner) died under it: no process of the
// sandbox may outlive the runner. Without a PID namespace nothing else would end them. Only
// async-signal-safe calls: it runs in a signal handler.
constexpr std::size_t kMaxCgroups = 8;
char g_cgroup_dirs[kMaxCgroups][512];
std::size_t g_cgroup_count = 0;

void kill_cgroup_members(const char* directory) {
    char path[600];
    std::size_t length = strlen(directory);
    if (length + 20 > sizeof path)
        return;
    memcpy(path, directory, length);
    memcpy(path + length, "/cgroup.kill", 13);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t ignored = write(fd, "1", 1);
        (void)ignored;
        close(fd);
    }
    memcpy(path + length, "/cgroup.procs", 14);
    for (int round = 0; round < 50; ++round) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return;
        char buffer[4096];
        bool others = false;
        pid_t pid = 0;
        for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;)
            for (ssize_t i = 0; i < n; ++i) {
                if (buffer[i] >= '0' && buffer[i] <= '9') {
                    pid = pid * 10 + (buffer[i] - '0');
                } else {
                    if (pid > 0 && pid != getpid()) {
                        kill(pid, SIGKILL);
                        others = true;
                    }
                    pid = 0;
                }
            }
        close(fd);
        if (!others)
            return;
    }
}

void on_host_gone(int) {
    for (std::size_t i = 0; i < g_cgroup_count; ++i)
        kill_cgroup_members(g_cgroup_dirs[i]);
    // pid 1 of a namespace: -1 reaches every other process of it. Otherwise the process group.
    if (getpid() == 1)
        kill(-1, SIGKILL);
    else
        kill(0, SIGKILL);
    _exit(kHostSetupErrorCode);
}

// The reaper: pid 1 of the PID namespace (or a subreaper without one). Records the exit status
// of every process it reaps, and leaves when the last one is gone.
[[noreturn]] void reaper(const Scenario& scenario, const HostRunOptions& options,
                         const Containment& containment, pid_t host_pid) {
    for (const auto& directory : options.cgroups)
        if (g_cgroup_count < kMaxCgroups && directory.size() < sizeof g_cgroup_dirs[0])
            memcpy(g_cgroup_dirs[g_cgroup_count++], directory.c_str(), directory.size() + 1);
    struct sigaction action {};
    action.sa_handler = on_host_gone;
    sigfillset(&action.sa_mask);
    sigaction(SIGHUP, &action, nullptr);
    prctl(PR_SET_PDEATHSIG, SIGHUP, 0, 0, 0);
    // The host may have died before the prctl (in a PID namespace getppid() says 0: the
    // parent is outside, and the runner's kill of the sandbox covers that case).
    if (!containment.pid_ns && getppid() != host_pid)
        on_host_gone(0);
    if (!containment.pid_ns)
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    probe::set_thread_name("forklore-reaper");
    pid_t main_pid = fork();
    if (main_pid < 0)
        setup_failed(fmt::format("fork of the scenario process: {}", strerror(errno)));
    if (main_pid == 0) {
        signal(SIGHUP, SIG_DFL);
        scenario_main(scenario, options);
    }
    int main_status = 0;
    for (;;) {
        int status = 0;
        pid_t pid = waitpid(-1, &status, __WALL);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break; // ECHILD: nobody left
        }
        // The scenario's first process is marked: the run ends with it (see the runner).
        probe::record(EventKind::process_exit, static_cast<std::uint64_t>(pid), status,
                      pid == main_pid ? kFirstProcessExit : 0, "reaper", nullptr,
                      CallSite::unknown());
        if (pid == main_pid)
            main_status = status;
    }
    _exit(encode_status(main_status));
}
} // namespace

std::string own_executable_path() {
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0)
        return {};
    path[n] = '\0';
    return path;
}

void host_run(const HostRunOptions& options) {
    const Scenario* scenario = ScenarioRegistry::instance().find(options.scenario_id);
    if (!scenario)
        setup_failed("unknown scenario '" + options.scenario_id + "'");
    try {
        g_channel = Channel::attach(options.channel_fd);
    } catch (const std::exception& error) {
        setup_failed(error.what());
    }
    probe::install_channel(&g_channel);
    probe::set_thread_name("forklore-host");
    if (auto error = attach_board(options.board_fd); !error.empty())
        setup_failed(error);

    // The recipe: each step contains one kernel concern. The cgroups first, so that every
    // process of the sandbox is born inside them; the capabilities last, once nothing needs them.
    if (auto error = contain_die_with_parent(options.runner_pid); !error.empty())
        setup_failed(error);
    Containment containment;
    if (auto error = contain_cgroups(options.cgroups, containment); !error.empty())
        setup_failed(error);
    if (!options.namespaces)
        containment.notes.push_back("namespaces turned off for this run");
    else if (auto error = contain_namespaces(containment); !error.empty())
        setup_failed(error);
    // The directory of this program stays visible: spawn, fork_exec and forkserver start this
    // same program again, and next to it lie the programs the corpus runs. A build tree under
    // /tmp (a clone made there, as CI may) would otherwise vanish behind the private /tmp, and
    // every exec of it fail with 127.
    std::vector<std::string> visible = options.visible_paths;
    if (std::string self = own_executable_path(); !self.empty())
        visible.push_back(self.substr(0, self.rfind('/')));
    if (auto error =
            contain_filesystem(options.workdir, containment, options.limits.max_file_size, visible);
        !error.empty())
        setup_failed(error);
    if (auto error = contain_capabilities(containment); !error.empty())
        setup_failed(error);
    // The runner reads the flags from the object field; the text (cut at 87 characters) is for a
    // reader.
    std::string sandbox_note = "sandbox: " + containment.describe();
    probe::record(EventKind::note, containment.bits(), 0, 0, "sandbox", sandbox_note.c_str(),
                  CallSite::unknown());
    for (const auto& note : containment.notes)
        probe::record(EventKind::note, 0, 0, 0, "sandbox", note.c_str(), CallSite::unknown());

    probe::set_launch_context(
        {own_executable_path(), scenario, options.channel_fd, g_board.valid() ? g_board.fd() : -1});

    // unshare(CLONE_NEWPID) applies to the children of the caller: the first child is pid 1.
    pid_t host_pid = getpid();
    pid_t reaper_pid = fork();
    if (reaper_pid < 0)
        setup_failed(fmt::format("fork of the reaper: {}", strerror(errno)));
    if (reaper_pid == 0)
        reaper(*scenario, options, containment, host_pid);
    int status = 0;
    while (waitpid(reaper_pid, &status, 0) < 0)
        if (errno != EINTR)
            setup_failed("lost the reaper");
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
    if (auto error = attach_board(options.board_fd); !error.empty()) {
        fmt::print(stderr, "forklore-host: {}\n", error);
        return kHostSetupErrorCode;
    }
    if (g_board.valid())
        probe::install_board(&g_board);
    probe::set_launch_context(
        {own_executable_path(), scenario, options.channel_fd, g_board.valid() ? g_board.fd() : -1});
    try {
        int code = probe::run_child_function(options.function, options.args, *method);
        _exit(code);
    } catch (const std::exception& error) {
        fmt::print(stderr, "forklore-host: {}\n", error.what());
        return kHostSetupErrorCode;
    }
}

} // namespace forklore
