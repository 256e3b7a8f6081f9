// Helpers for tests that need live processes: a forked child in its own process group that is
// always killed and reaped, a pipe to report values from it, and a poll-until helper.
// Header-only, for the unit tests of the /proc readers, the observer and the stacks.
#pragma once

#include "sim/observe/proc_files.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <thread>

namespace forklore::testing {

using namespace std::chrono_literals;

// Polls `condition` every millisecond for up to ten seconds.
template <class Condition> bool eventually(Condition condition) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition())
            return true;
        std::this_thread::sleep_for(1ms);
    }
    return condition();
}

struct Pipe {
    int read_end = -1, write_end = -1;
    Pipe() {
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        read_end = fds[0];
        write_end = fds[1];
    }
    ~Pipe() {
        if (read_end >= 0)
            ::close(read_end);
        close_write();
    }
    void close_write() {
        if (write_end >= 0)
            ::close(write_end);
        write_end = -1;
    }
    template <class T> void send(const T& value) const {
        if (::write(write_end, &value, sizeof value) != sizeof value)
            ::_exit(98);
    }
    // Reads one value; nullopt when the writers are gone or nothing came for ten seconds.
    template <class T> std::optional<T> receive() const {
        pollfd ready{read_end, POLLIN, 0};
        if (::poll(&ready, 1, 10'000) != 1)
            return std::nullopt;
        T value{};
        if (::read(read_end, &value, sizeof value) != sizeof value)
            return std::nullopt;
        return value;
    }
};

// fork() whose child is killed when the forking thread dies: nothing outlives a killed test.
inline pid_t fork_tied_to_parent() {
    pid_t pid = ::fork();
    if (pid == 0)
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    return pid;
}

// A forked child in its own process group running `body`, never returning into Catch2.
// Destruction kills the whole group and reaps it; while any ChildProcess lives, the test process
// is a child subreaper so that orphaned grandchildren come back to it to be reaped as well.
class ChildProcess {
  public:
    template <class Body> explicit ChildProcess(Body body) {
        if (live_count_++ == 0)
            ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        pid_ = fork_tied_to_parent();
        if (pid_ == 0) {
            ::setpgid(0, 0);
            try {
                body();
            } catch (...) {
                ::_exit(99);
            }
            ::_exit(0);
        }
        if (pid_ > 0)
            ::setpgid(pid_, pid_); // also here: no race with the kill below
        REQUIRE(pid_ > 0);
    }
    ~ChildProcess() {
        if (pid_ > 0) {
            ::kill(-pid_, SIGKILL);
            while (::waitpid(-pid_, nullptr, __WALL) > 0 || errno == EINTR) {
            }
        }
        if (--live_count_ == 0)
            ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }

  private:
    static inline int live_count_ = 0;
    pid_t pid_ = -1;
};

[[noreturn]] inline void sleep_forever() {
    for (;;)
        ::pause();
}

inline bool blocked_in(pid_t pid, pid_t tid, long syscall) {
    auto call = procfs::read_syscall(pid, tid);
    return call && call->number == syscall;
}

} // namespace forklore::testing
