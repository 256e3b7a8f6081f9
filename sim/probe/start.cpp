#include "sim/probe/start.hpp"

#include "sim/probe/fd_io.hpp"
#include "sim/probe/probe.hpp"
#include "sim/probe/step_point.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

extern char** environ;

namespace forklore::probe {

namespace {
LaunchContext g_launch;

// An argv whose strings are built before fork: between fork and exec the child of a
// multithreaded process may only call async-signal-safe functions, so nothing is allocated there.
struct PreparedArgv {
    std::vector<std::string> strings;
    std::vector<char*> pointers;

    char* const* data() {
        pointers.clear();
        for (auto& s : strings)
            pointers.push_back(s.data());
        pointers.push_back(nullptr);
        return pointers.data();
    }
};

PreparedArgv host_child_argv(const std::string& function, const ChildArgs& args,
                             StartMethod method) {
    PreparedArgv argv;
    argv.strings = {g_launch.host_path, "child",
                    "--scenario",       g_launch.scenario->id,
                    "--function",       function,
                    "--method",         std::string(to_string(method)),
                    "--channel-fd",     std::to_string(g_launch.channel_fd)};
    if (g_launch.board_fd >= 0) {
        argv.strings.push_back("--board-fd");
        argv.strings.push_back(std::to_string(g_launch.board_fd));
    }
    for (const auto& [key, value] : args) {
        argv.strings.push_back("--arg");
        argv.strings.push_back(key + "=" + value);
    }
    return argv;
}

ChildFunction find_child_function(const std::string& function) {
    if (!g_launch.scenario)
        throw std::runtime_error("no scenario is running in this process");
    auto it = g_launch.scenario->children.find(function);
    if (it == g_launch.scenario->children.end())
        throw std::runtime_error("scenario '" + g_launch.scenario->id +
                                 "' has no child function '" + function + "'");
    return it->second;
}

void record_child_start(pid_t pid, StartMethod method, const std::string& function, CallSite site) {
    record(EventKind::child_start, static_cast<std::uint64_t>(pid),
           static_cast<std::int64_t>(method), 0, function.c_str(), nullptr, site);
}
} // namespace

void set_launch_context(LaunchContext context) {
    g_launch = std::move(context);
}
const LaunchContext& launch_context() {
    return g_launch;
}

Child::Child(Child&& other) noexcept {
    *this = std::move(other);
}

Child& Child::operator=(Child&& other) noexcept {
    if (this != &other) {
        if (status_fd_ >= 0)
            close(status_fd_);
        pid_ = std::exchange(other.pid_, -1);
        method_ = other.method_;
        status_fd_ = std::exchange(other.status_fd_, -1);
        waited_ = std::exchange(other.waited_, false);
    }
    return *this;
}

Child::~Child() {
    // A child never waited for is left to the sandbox's reaper: blocking here could turn a
    // scenario's early return into a hang of its own.
    if (status_fd_ >= 0)
        close(status_fd_);
}

WaitStatus Child::wait(CallSite site) {
    if (!valid() || waited_)
        return WaitStatus();
    step_point(EventKind::child_wait, static_cast<std::uint64_t>(pid_), nullptr, site);
    int status = -1;
    // Says which child this thread waits for, and how: a fork server's child is waited for by
    // reading a socket, which /proc alone cannot tie to the child.
    record(EventKind::child_wait, static_cast<std::uint64_t>(pid_), status_fd_, 0, nullptr, nullptr,
           site);
    if (status_fd_ >= 0) {
        // The forkserver is the parent and reaps it; it sends the wait status when it does.
        int received = 0;
        if (fd_io::read_all(status_fd_, &received, sizeof received))
            status = received;
    } else {
        while (waitpid(pid_, &status, 0) < 0) {
            if (errno != EINTR) {
                status = -1;
                break;
            }
        }
    }
    waited_ = true;
    if (status != -1)
        record(EventKind::process_exit, static_cast<std::uint64_t>(pid_), status, 0, "parent",
               nullptr, site);
    return WaitStatus::from_raw(status);
}

void Child::kill(int signal, CallSite site) {
    if (!valid())
        return;
    step_point(EventKind::signal_sent, static_cast<std::uint64_t>(pid_), nullptr, site);
    // Recorded first: the death must never look unexpected, whichever event the reader sees first.
    record(EventKind::signal_sent, static_cast<std::uint64_t>(pid_), signal, 0, nullptr, nullptr,
           site);
    ::kill(pid_, signal);
}

Child start_child(StartMethod method, const std::string& function, const ChildArgs& args,
                  CallSite site) {
    ChildFunction entry = find_child_function(function);
    step_point(EventKind::child_start, 0, function.c_str(), site);
    switch (method) {
    case StartMethod::fork: {
        pid_t pid = fork();
        if (pid < 0)
            throw std::runtime_error(std::string("fork: ") + strerror(errno));
        if (pid == 0) {
            // The child: only the thread that called fork() exists here. Every lock is in the
            // state it had in the parent at this instant, held or not.
            (void)entry;
            _exit(run_child_function(function, args, StartMethod::fork));
        }
        record_child_start(pid, method, function, site);
        return Child(pid, method);
    }
    case StartMethod::fork_exec: {
        PreparedArgv argv = host_child_argv(function, args, method);
        char* const* argv_data = argv.data();
        const char* program = g_launch.host_path.c_str();
        pid_t pid = fork();
        if (pid < 0)
            throw std::runtime_error(std::string("fork: ") + strerror(errno));
        if (pid == 0) {
            // Async-signal-safe only until exec: recording is, stepping is, execv is. The
            // child stops here first: the moment between fork and exec is a point of its own.
            step_point(EventKind::exec, 0, "forklore-host", site);
            record(EventKind::exec, 0, 0, 0, "forklore-host", nullptr, site);
            execv(program, argv_data);
            _exit(127);
        }
        record_child_start(pid, method, function, site);
        return Child(pid, method);
    }
    case StartMethod::spawn: {
        PreparedArgv argv = host_child_argv(function, args, method);
        pid_t pid = -1;
        int rc =
            posix_spawn(&pid, g_launch.host_path.c_str(), nullptr, nullptr, argv.data(), environ);
        if (rc != 0)
            throw std::runtime_error(std::string("posix_spawn: ") + strerror(rc));
        record_child_start(pid, method, function, site);
        return Child(pid, method);
    }
    case StartMethod::forkserver:
        return forkserver_request(function, args, site);
    }
    throw std::runtime_error("unknown start method");
}

int run_child_function(const std::string& function, const ChildArgs& args, StartMethod method) {
    std::string method_name(to_string(method));
    // A new process starts stopped, before its first event: its parent may run on meanwhile.
    step_point(EventKind::process_start, 0, function.c_str(), CallSite::unknown());
    record(EventKind::process_start, 0, getppid(), 0, function.c_str(), method_name.c_str(),
           CallSite::unknown());
    int code = find_child_function(function)(args);
    fflush(stdout);
    fflush(stderr);
    leave_board();
    return code;
}

} // namespace forklore::probe
