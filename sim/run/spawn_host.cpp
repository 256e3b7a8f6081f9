// Starting a run's sandbox: its working directory, the pipes that capture its output, its
// cgroup, and the forklore-host program spawned with posix_spawn (the runner may have threads: it
// never forks).
#include "sim/run/sandbox_run.hpp"

#include "sim/sandbox/host.hpp"
#include "sim/sandbox/stale_runs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

extern char** environ;

namespace forklore::runner {

namespace {

int remove_entry(const char* path, const struct stat*, int, FTW*) {
    return remove(path);
}

} // namespace

void remove_tree(const std::string& path) {
    nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

namespace {

std::vector<std::string> host_argv(const RunRequest& request, const SandboxLimits& limits,
                                   const std::string& host_path, const std::string& workdir,
                                   const std::vector<std::string>& cgroups) {
    std::vector<std::string> argv = {host_path,         "run",
                                     "--scenario",      request.scenario->id,
                                     "--channel-fd",    "3",
                                     "--runner-pid",    std::to_string(getpid()),
                                     "--workdir",       workdir,
                                     "--cpu-seconds",   std::to_string(limits.cpu_seconds),
                                     "--address-space", std::to_string(limits.address_space),
                                     "--max-tasks",     std::to_string(limits.max_tasks),
                                     "--max-file-size", std::to_string(limits.max_file_size)};
    if (request.scheduler) {
        argv.push_back("--board-fd");
        argv.push_back("4");
    }
    if (!request.namespaces)
        argv.push_back("--no-namespaces");
    for (const auto& path : request.visible_paths) {
        argv.push_back("--visible");
        argv.push_back(path);
    }
    for (const auto& directory : cgroups) {
        argv.push_back("--cgroup");
        argv.push_back(directory);
    }
    for (const auto& [name, value] : request.knobs) {
        argv.push_back("--knob");
        argv.push_back(name + "=" + value);
    }
    return argv;
}

// "pipe:[INODE]" of an fd of this process, as /proc shows it to the sandbox's threads.
std::string pipe_target(int fd) {
    struct stat st {};
    if (fstat(fd, &st) != 0)
        return {};
    return fmt::format("pipe:[{}]", st.st_ino);
}

std::atomic<std::uint64_t> g_runs_started{0};

// A working directory is named after the runner that made it (/tmp/forklore-run-PID-XXXXXX).
// Only the runner removes it, so a runner killed with SIGKILL leaves it behind: the first run
// of each later runner removes those whose runner is gone, as it does their cgroups.
void sweep_stale_workdirs() {
    DIR* tmp = opendir("/tmp");
    if (!tmp)
        return;
    std::vector<std::string> stale;
    while (dirent* entry = readdir(tmp))
        if (runner_is_gone(runner_in_name(entry->d_name, "forklore-run-")))
            stale.push_back(std::string("/tmp/") + entry->d_name);
    closedir(tmp);
    for (const auto& path : stale)
        remove_tree(path);
}

} // namespace

bool SandboxRun::start(const std::string& host_path) {
    static std::once_flag swept;
    std::call_once(swept, sweep_stale_workdirs);
    std::string directory = fmt::format("/tmp/forklore-run-{}-XXXXXX", getpid());
    if (!mkdtemp(directory.data())) {
        stop_with(VerdictKind::setup_error,
                  fmt::format("cannot make a working directory: {}", strerror(errno)));
        return false;
    }
    workdir_ = directory;
    if (!stdout_.create() || !stderr_.create()) {
        stop_with(VerdictKind::setup_error, fmt::format("pipe: {}", strerror(errno)));
        return false;
    }
    stdout_target_ = pipe_target(stdout_.read_fd);
    stderr_target_ = pipe_target(stderr_.read_fd);
    if (request_.cgroups) {
        CgroupSettings settings;
        settings.max_tasks = static_cast<std::uint64_t>(std::max(0, request_.limits.max_tasks));
        settings.max_memory = request_.limits.max_memory;
        // The sandbox's tasks compete for the CPU as one group, weighted as four ordinary
        // processes: a scenario's few runnable threads run as fast as they would outside a
        // cgroup (the corpus's race windows do not move on a busy machine), and a fork bomb's
        // 256 spinning processes still weigh only four.
        settings.cpu_weight = 400;
        // The name says which runner made it: a later run removes it if that runner died.
        cgroup_ =
            RunCgroup::create(fmt::format("forklore-{}-{}", getpid(), ++g_runs_started), settings);
    }
    // With the sandbox's memory bounded by its cgroup, a per-process address-space limit only
    // gets in the way: a memory bomb would see malloc fail at 4 GiB and spin (timed out)
    // instead of being OOM-killed (limit, memory), and programs that reserve far more than they
    // use (ASan, the JVM, Go) would fail. It stays where no cgroup bounds the memory.
    SandboxLimits limits = request_.limits;
    if (cgroup_.enforces_memory() && limits.max_memory > 0)
        limits.address_space = 0;
    record_.limits = limits;
    record_.cgroups = cgroup_.describe();
    if (!cgroup_.notes().empty())
        record_.cgroups += fmt::format(" ({})", fmt::join(cgroup_.notes(), "; "));
    record_.enforcement = enforcement_of(request_, limits, cgroup_);
    auto argv_strings = host_argv(request_, limits, host_path, workdir_, cgroup_.directories());
    std::vector<char*> argv;
    for (auto& s : argv_strings)
        argv.push_back(s.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, stdout_.write_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, stderr_.write_fd, STDERR_FILENO);
    posix_spawn_file_actions_adddup2(&actions, channel_.fd(), 3);
    if (stepper_.active())
        posix_spawn_file_actions_adddup2(&actions, stepper_.board().fd(), 4);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setpgroup(&attributes, 0); // its own process group: one kill reaches all
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                              POSIX_SPAWN_SETSIGDEF);
    int rc =
        posix_spawn(&host_pid_, host_path.c_str(), &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    stdout_.close_write();
    stderr_.close_write();
    if (rc != 0) {
        host_pid_ = -1;
        stop_with(VerdictKind::setup_error,
                  fmt::format("cannot start the sandbox host {}: {}", host_path, strerror(rc)));
        return false;
    }
    host_pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, host_pid_, 0));
    return true;
}

} // namespace forklore::runner
