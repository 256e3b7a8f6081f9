// run_cli: the real `forklore` started with posix_spawn, its output collected, and a check that
// nothing it ran is left behind (see cli_run.hpp).
#include "cli_run.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace forklore::cli_test {

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

namespace {

// The parent pid of a process, or -1 if it is gone.
pid_t parent_of(pid_t pid) {
    std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos)
        return -1;
    std::istringstream rest(stat.substr(close_paren + 1));
    std::string state;
    pid_t ppid = -1;
    rest >> state >> ppid;
    return ppid;
}

bool descends_from_us(pid_t pid) {
    const pid_t self = getpid();
    for (int depth = 0; depth < 64 && pid > 1; ++depth) {
        pid = parent_of(pid);
        if (pid == self)
            return true;
    }
    return false;
}

// What a run may leave behind if it fails to kill its sandbox: the host, and the programs the
// exec tests run inside it (the test programs, and the scripts written to forklore-cli-* dirs).
// Every program in tests/programs is named here (a forked child keeps its parent's command line;
// a Python script is named by its path).
const char* const kSandboxedNames[] = {"forklore-host",
                                       "orphaned_mutex",
                                       "partial_deadlock",
                                       "pipe_wait_deadlock",
                                       "completes_with_children",
                                       "orphan_owner_pauses",
                                       "orphan_supervised_wnohang",
                                       "orphan_with_event_loop",
                                       "child_stopped",
                                       "flood_and_fork",
                                       "daemonizes",
                                       "fork_bomb",
                                       "thread_bomb",
                                       "memory_bomb",
                                       "cpu_spin",
                                       "ignores_sigterm",
                                       "stops_itself",
                                       "reaches_network",
                                       "writes_outside",
                                       "slow_unlock",
                                       "slow_writer",
                                       "signal_after_sleep",
                                       "timer_loop",
                                       "sigsuspend_parent",
                                       "python_printer_thread",
                                       "python_queue_pool",
                                       "forklore-cli-"};

// Live processes (not zombies: their cmdline is empty) whose command line names forklore-host
// (or a program run by exec) and that descend from this test process. Other tests may be
// running sandboxes at the same time (ctest -j): only ours count.
std::vector<std::string> leftover_hosts() {
    std::vector<std::string> found;
    DIR* proc = opendir("/proc");
    if (!proc)
        return found;
    while (dirent* entry = readdir(proc)) {
        char* end = nullptr;
        long pid = std::strtol(entry->d_name, &end, 10);
        if (pid <= 0 || *end != '\0')
            continue;
        std::string cmdline = read_text(std::string("/proc/") + entry->d_name + "/cmdline");
        bool sandboxed =
            std::any_of(std::begin(kSandboxedNames), std::end(kSandboxedNames),
                        [&](const char* name) { return cmdline.find(name) != std::string::npos; });
        if (!sandboxed)
            continue;
        if (!descends_from_us(static_cast<pid_t>(pid)))
            continue;
        for (char& c : cmdline)
            if (c == '\0')
                c = ' ';
        found.push_back(std::to_string(pid) + ": " + cmdline);
    }
    closedir(proc);
    return found;
}

void reap_adopted_children() {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

// Nothing left behind: give the kernel a moment to finish killing and re-parenting.
void require_no_leftover_hosts() {
    std::vector<std::string> leftovers;
    for (int attempt = 0; attempt < 40; ++attempt) {
        reap_adopted_children();
        leftovers = leftover_hosts();
        if (leftovers.empty())
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    INFO("left behind: " << leftovers.front());
    CHECK(leftovers.empty());
}

} // namespace

// Runs `forklore ARGS...`, stdin from /dev/null, collecting stdout and stderr until both close.
// A `launcher` (an absolute program path and its arguments) goes before it, e.g. setpriv.
// With `interrupt_after_ms` >= 0, SIGINT is sent that long after the start, as Ctrl-C would;
// with `interrupt_when`, once it says so.
CliResult run_cli(const std::vector<std::string>& args, int timeout_seconds,
                  const std::vector<std::string>& launcher, int interrupt_after_ms,
                  const std::function<bool()>& interrupt_when) {
    return run_program("forklore", args, timeout_seconds, launcher, interrupt_after_ms,
                       interrupt_when);
}

CliResult run_program(const std::string& program, const std::vector<std::string>& args,
                      int timeout_seconds, const std::vector<std::string>& launcher,
                      int interrupt_after_ms, const std::function<bool()>& interrupt_when) {
    static const bool subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
    REQUIRE(subreaper);

    std::vector<std::string> argv_strings = launcher;
    argv_strings.push_back(std::string(FORKLORE_BIN_DIR) + "/" + program);
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_strings)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    int out_pipe[2], err_pipe[2];
    REQUIRE(pipe2(out_pipe, O_CLOEXEC) == 0);
    REQUIRE(pipe2(err_pipe, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);

    pid_t pid = -1;
    int spawned = posix_spawn(&pid, argv[0], &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (spawned != 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        FAIL("cannot start " << argv[0] << ": " << std::strerror(spawned));
    }

    CliResult result;
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + std::chrono::seconds(timeout_seconds);
    bool interrupted = interrupt_after_ms < 0 && !interrupt_when;
    interrupt_after_ms = std::max(interrupt_after_ms, 0);
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    bool timed_out = false;
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        if (!interrupted) {
            auto since = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - started);
            if (since.count() >= interrupt_after_ms && (!interrupt_when || interrupt_when())) {
                kill(pid, SIGINT);
                interrupted = true;
                continue;
            }
            left = std::min(left, since.count() < interrupt_after_ms
                                      ? std::chrono::milliseconds(interrupt_after_ms) - since
                                      : std::chrono::milliseconds(10));
        }
        if (poll(fds, 2, static_cast<int>(left.count())) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0)
                continue;
            char buffer[65536];
            ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                sinks[i]->append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
            }
        }
    }
    for (auto& fd : fds)
        if (fd.fd >= 0)
            close(fd.fd);

    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    INFO(program << " " << (args.empty() ? "" : args.front()) << " ...\nstdout:\n"
                 << result.out << "\nstderr:\n"
                 << result.err);
    CHECK_FALSE(timed_out);
    require_no_leftover_hosts();
    return result;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

void require_one_line(const CliResult& result, int code, const std::string& message,
                      const std::string& prefix) {
    INFO("exit " << result.exit_code << "\nstdout: " << result.out << "\nstderr: " << result.err);
    CHECK(result.exit_code == code);
    CHECK(result.out.empty());
    const auto lines = lines_of(result.err);
    REQUIRE(lines.size() == 1);
    CHECK(result.err.back() == '\n');
    CHECK(lines[0].rfind(prefix, 0) == 0);
    CHECK(lines[0].size() > prefix.size());
    CHECK_THAT(lines[0], Catch::Matchers::Contains(message));
}

} // namespace forklore::cli_test
