// The forkserver start method: a server process forked while the scenario is still
// single-threaded, which forks a fresh copy of itself for every request. Its children inherit
// only the clean state of the server, never the locks held by the scenario's threads.
//
// Protocol: the scenario sends one SOCK_SEQPACKET message per request on the control socket:
// "line\0path\0function\0key\0value\0..." (where the scenario asked: the server's child_start
// event names that line) with one end of a new socketpair attached (SCM_RIGHTS). The server
// writes the child's pid on that socket, then, when the child ends, its raw wait status.
#include "sim/probe/fd_io.hpp"
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace forklore::probe {

namespace {
int g_control_fd = -1; // the scenario's end of the control socket
constexpr std::size_t kMaxRequest = 64 * 1024;

int pidfd_open(pid_t pid) {
    return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

bool write_int(int fd, int value) {
    return write(fd, &value, sizeof value) == static_cast<ssize_t>(sizeof value);
}

struct Request {
    std::uint32_t line = 0; // where the scenario called start_child ("" and 0: unknown)
    std::string path;
    std::string function;
    ChildArgs args;
    int status_fd = -1;
};

std::string encode(const CallSite& site, const std::string& function, const ChildArgs& args) {
    std::string payload = std::to_string(site.line);
    payload.push_back('\0');
    payload += site.path ? site.path : "";
    payload.push_back('\0');
    payload += function;
    payload.push_back('\0');
    for (const auto& [key, value] : args) {
        payload += key;
        payload.push_back('\0');
        payload += value;
        payload.push_back('\0');
    }
    return payload;
}

Request decode(const char* data, std::size_t size) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (std::size_t i = 0; i < size; ++i)
        if (data[i] == '\0') {
            fields.emplace_back(data + start, i - start);
            start = i + 1;
        }
    Request request;
    if (fields.size() < 3)
        return request; // encode() always writes the three
    request.line = static_cast<std::uint32_t>(std::strtoul(fields[0].c_str(), nullptr, 10));
    request.path = fields[1];
    request.function = fields[2];
    for (std::size_t i = 3; i + 1 < fields.size(); i += 2)
        request.args[fields[i]] = fields[i + 1];
    return request;
}

// Where the scenario asked for the child, as the request says.
CallSite site_of(const Request& request) {
    CallSite site = CallSite::unknown();
    if (request.path.empty())
        return site;
    site.path = request.path.c_str();
    site.file = source_file_id(request.path);
    site.line = request.line;
    return site;
}

// Receives one request; false at end of stream (the scenario's process has gone).
bool receive_request(int control_fd, Request& request) {
    std::vector<char> buffer(kMaxRequest);
    int status_fd = -1;
    long long n = fd_io::receive_with_fd(control_fd, buffer.data(), buffer.size(), status_fd);
    if (n <= 0)
        return false;
    request = decode(buffer.data(), static_cast<std::size_t>(n));
    if (status_fd >= 0)
        request.status_fd = status_fd;
    return true;
}

struct Running {
    pid_t pid;
    int pidfd;
    int status_fd;
};

[[noreturn]] void serve(int control_fd) {
    std::vector<Running> running;
    bool accepting = true;
    while (accepting || !running.empty()) {
        std::vector<pollfd> fds;
        if (accepting)
            fds.push_back({control_fd, POLLIN, 0});
        for (const auto& child : running)
            fds.push_back({child.pidfd, POLLIN, 0});
        if (poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR)
                continue;
            _exit(70);
        }
        std::size_t first_child = accepting ? 1 : 0;
        // Reap first: a finished child's slot is freed before new ones are added.
        for (std::size_t i = fds.size(); i-- > first_child;) {
            if (!(fds[i].revents & (POLLIN | POLLHUP)))
                continue;
            Running child = running[i - first_child];
            int status = 0;
            if (waitpid(child.pid, &status, 0) == child.pid) {
                record(EventKind::process_exit, static_cast<std::uint64_t>(child.pid), status, 0,
                       "forkserver", nullptr, CallSite::unknown());
                write_int(child.status_fd, status);
            }
            close(child.status_fd);
            close(child.pidfd);
            running.erase(running.begin() + static_cast<long>(i - first_child));
        }
        if (!accepting || !(fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        Request request;
        if (!receive_request(control_fd, request)) {
            accepting = false; // the scenario closed its end: finish the children, then leave
            continue;
        }
        if (request.status_fd < 0)
            continue;
        pid_t pid = fork();
        if (pid == 0) {
            // A copy of the clean, single-threaded server: no scenario thread ever ran here.
            close(control_fd);
            for (const auto& other : running) {
                close(other.pidfd);
                close(other.status_fd);
            }
            close(request.status_fd);
            set_thread_name("main"); // a worker process's main thread, as with other methods
            _exit(run_child_function(request.function, request.args, StartMethod::forkserver));
        }
        if (pid < 0) {
            close(request.status_fd);
            continue;
        }
        record(EventKind::child_start, static_cast<std::uint64_t>(pid),
               static_cast<std::int64_t>(StartMethod::forkserver), 0, request.function.c_str(),
               nullptr, site_of(request));
        write_int(request.status_fd, pid);
        running.push_back({pid, pidfd_open(pid), request.status_fd});
    }
    _exit(0);
}
} // namespace

void start_forkserver() {
    if (g_control_fd >= 0)
        return;
    int ends[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0)
        throw std::runtime_error(std::string("forkserver socketpair: ") + strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        throw std::runtime_error(std::string("forkserver fork: ") + strerror(errno));
    if (pid == 0) {
        close(ends[0]);
        set_thread_name("forkserver");
        record(EventKind::process_start, 0, getppid(), 0, "forkserver", "fork",
               CallSite::unknown());
        serve(ends[1]);
    }
    close(ends[1]);
    g_control_fd = ends[0];
    record(EventKind::child_start, static_cast<std::uint64_t>(pid),
           static_cast<std::int64_t>(StartMethod::fork), 0, "forkserver", nullptr,
           CallSite::unknown());
}

bool forkserver_running() {
    return g_control_fd >= 0;
}

Child forkserver_request(const std::string& function, const ChildArgs& args, CallSite site) {
    if (g_control_fd < 0)
        throw std::runtime_error("the forkserver start method needs a server: none was started");
    int ends[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0)
        throw std::runtime_error(std::string("forkserver request socketpair: ") + strerror(errno));
    std::string payload = encode(site, function, args);
    bool sent = fd_io::send_with_fd(g_control_fd, payload.data(), payload.size(), ends[1]);
    close(ends[1]);
    if (!sent) {
        close(ends[0]);
        throw std::runtime_error(std::string("forkserver request: ") + strerror(errno));
    }
    pid_t pid = -1;
    if (read(ends[0], &pid, sizeof pid) != static_cast<ssize_t>(sizeof pid) || pid <= 0) {
        close(ends[0]);
        throw std::runtime_error("the forkserver did not start the child");
    }
    return Child(pid, StartMethod::forkserver, ends[0]);
}

} // namespace forklore::probe
