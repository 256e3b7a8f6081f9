// The /proc readers against live processes: a child blocked on a mutex, a pipe, a child, a file
// lock, a sleep; a zombie; each wait classified from what /proc says. classify_wait on hand-made
// syscall records is test_wait_classification.cpp; the rwlock reader, test_glibc_lock_words.cpp.
//
// Index of this file:
// [SECTION] A live thread, classified; a thread blocked on a mutex
// [SECTION] Sleeps, polls, pipes and children
// [SECTION] File locks
// [SECTION] Zombies and odd names
#include "sim/observe/glibc_lock_words.hpp"
#include "sim/observe/proc_files.hpp"
#include "sim/observe/wait_classification.hpp"

#include <catch2/catch.hpp>

#include "live_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

using namespace forklore;
using namespace forklore::testing;

//-----------------------------------------------------------------------------
// [SECTION] A live thread, classified; a thread blocked on a mutex
//-----------------------------------------------------------------------------

namespace {

using namespace std::chrono_literals;

ThreadSnapshot classified(pid_t pid, pid_t tid) {
    ThreadSnapshot thread;
    thread.tid = tid;
    auto stat = procfs::read_task_stat(pid, tid);
    REQUIRE(stat);
    thread.state = stat->state;
    auto call = procfs::read_syscall(pid, tid);
    REQUIRE(call);
    thread.syscall = call->number;
    thread.syscall_args = call->args;
    waits::classify_wait(thread, pid);
    return thread;
}

constexpr long futex_syscall = 202, flock_syscall = 73, fcntl_syscall = 72, read_syscall = 0;
constexpr long wait4_syscall = 61, poll_syscall = 7, clock_nanosleep_syscall = 230;

pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;

struct MutexScene {
    pid_t owner_tid = 0, waiter_tid = 0;
};

// In the child: thread "owner" locks g_mutex and sleeps; thread "waiter" then blocks on it.
// `timed` makes the waiter use pthread_mutex_timedlock with a far deadline instead.
void run_mutex_scene(const Pipe& report, bool timed) {
    Pipe steps;
    std::thread owner([&] {
        ::pthread_setname_np(::pthread_self(), "owner");
        ::pthread_mutex_lock(&g_mutex);
        steps.send(::gettid());
        sleep_forever();
    });
    auto owner_tid = steps.receive<pid_t>();
    std::thread waiter([&] {
        ::pthread_setname_np(::pthread_self(), "waiter");
        steps.send(::gettid());
        if (timed) {
            timespec deadline{};
            ::clock_gettime(CLOCK_REALTIME, &deadline);
            deadline.tv_sec += 1000;
            ::pthread_mutex_timedlock(&g_mutex, &deadline);
        } else {
            ::pthread_mutex_lock(&g_mutex);
        }
    });
    auto waiter_tid = steps.receive<pid_t>();
    report.send(MutexScene{owner_tid.value_or(0), waiter_tid.value_or(0)});
    sleep_forever();
}

} // namespace

TEST_CASE("procfs: a thread blocked on a mutex held by another thread", "[procfs]") {
    Pipe report;
    ChildProcess child([&] { run_mutex_scene(report, false); });
    report.close_write();
    auto scene = report.receive<MutexScene>();
    REQUIRE(scene);
    const pid_t pid = child.pid();
    const auto mutex_address = reinterpret_cast<std::uint64_t>(&g_mutex);
    REQUIRE(eventually([&] { return blocked_in(pid, scene->waiter_tid, futex_syscall); }));

    auto call = procfs::read_syscall(pid, scene->waiter_tid);
    REQUIRE(call);
    CHECK(call->number == futex_syscall);
    CHECK(call->args[0] == mutex_address);

    auto waiter = classified(pid, scene->waiter_tid);
    CHECK(waiter.wait == WaitKind::futex);
    CHECK(waiter.untimed);
    CHECK(waiter.futex_address == mutex_address);

    // No PID namespace here: the namespace tid in __owner is the host tid.
    CHECK(lock_words::read_mutex_owner(pid, mutex_address) == scene->owner_tid);
    CHECK(lock_words::read_mutex_owner(pid, 8) == std::nullopt); // the unmapped first page

    auto nspid = procfs::read_nspid(pid, scene->waiter_tid);
    REQUIRE(nspid);
    REQUIRE(!nspid->empty());
    CHECK(nspid->back() == scene->waiter_tid);

    auto threads = procfs::list_threads(pid);
    // >= rather than ==: a sanitizer runtime (TSan) may add a thread of its own to the child.
    CHECK(threads.size() >= 3);
    CHECK(std::count(threads.begin(), threads.end(), scene->owner_tid) == 1);
    CHECK(std::count(threads.begin(), threads.end(), scene->waiter_tid) == 1);

    auto stat = procfs::read_task_stat(pid, scene->waiter_tid);
    REQUIRE(stat);
    CHECK(stat->comm == "waiter");
    CHECK(stat->state == 'S');
    CHECK(stat->ppid == ::getpid());
    CHECK(!procfs::read_wchan(pid, scene->waiter_tid).empty());

    auto family = procfs::descendants_of(::getpid(), procfs::list_processes());
    CHECK(family.front() == ::getpid());
    CHECK(std::count(family.begin(), family.end(), pid) == 1);
}

TEST_CASE("procfs: a timed mutex wait is a futex wait with a timeout", "[procfs]") {
    Pipe report;
    ChildProcess child([&] { run_mutex_scene(report, true); });
    report.close_write();
    auto scene = report.receive<MutexScene>();
    REQUIRE(scene);
    REQUIRE(eventually([&] { return blocked_in(child.pid(), scene->waiter_tid, futex_syscall); }));
    auto waiter = classified(child.pid(), scene->waiter_tid);
    CHECK(waiter.wait == WaitKind::futex);
    CHECK_FALSE(waiter.untimed);
}

//-----------------------------------------------------------------------------
// [SECTION] Sleeps, polls, pipes and children
//-----------------------------------------------------------------------------

TEST_CASE("procfs: sleeping, polling and reading a pipe", "[procfs]") {
    Pipe report, idle;
    ChildProcess child([&] {
        // One tid after the other, so that the order on the pipe says whose tid it is.
        std::vector<std::thread> threads;
        auto start = [&](auto body) {
            Pipe started;
            threads.emplace_back([&started, body] {
                started.send(::gettid());
                body();
            });
            report.send(started.receive<pid_t>().value_or(0));
        };
        start([] { std::this_thread::sleep_for(1000s); });
        start([] { ::poll(nullptr, 0, -1); });
        start([&] {
            char byte;
            if (::read(idle.read_end, &byte, 1) < 0)
                ::_exit(97);
        });
        sleep_forever();
    });
    report.close_write();
    auto sleeper = report.receive<pid_t>();
    auto poller = report.receive<pid_t>();
    auto reader = report.receive<pid_t>();
    REQUIRE((sleeper && poller && reader));
    const pid_t pid = child.pid();
    REQUIRE(eventually([&] {
        return blocked_in(pid, *sleeper, clock_nanosleep_syscall) &&
               blocked_in(pid, *poller, poll_syscall) && blocked_in(pid, *reader, read_syscall);
    }));

    auto sleeping = classified(pid, *sleeper);
    CHECK(sleeping.wait == WaitKind::sleep);
    CHECK_FALSE(sleeping.untimed);

    auto polling = classified(pid, *poller);
    CHECK(polling.wait == WaitKind::poll);
    CHECK(polling.untimed);

    auto reading = classified(pid, *reader);
    CHECK(reading.wait == WaitKind::pipe);
    CHECK(reading.untimed);
    CHECK(reading.fd == idle.read_end);
    CHECK(reading.fd_target.rfind("pipe:[", 0) == 0);

    auto ends = procfs::read_channel_ends(pid);
    auto end_of = [&](int fd) {
        return std::find_if(ends.begin(), ends.end(), [fd](auto& end) { return end.fd == fd; });
    };
    REQUIRE(end_of(idle.read_end) != ends.end());
    REQUIRE(end_of(idle.write_end) != ends.end());
    CHECK_FALSE(end_of(idle.read_end)->writable);
    CHECK(end_of(idle.write_end)->writable);
    CHECK(end_of(idle.read_end)->target == procfs::read_fd_target(pid, idle.read_end));
    CHECK(procfs::fd_is_writable(pid, idle.write_end) == true);
    CHECK(procfs::fd_is_writable(pid, 1000) == std::nullopt);
}

TEST_CASE("procfs: a process waiting for its child", "[procfs]") {
    Pipe report;
    ChildProcess child([&] {
        pid_t grandchild = fork_tied_to_parent();
        if (grandchild == 0)
            sleep_forever();
        report.send(grandchild);
        ::waitpid(grandchild, nullptr, 0);
    });
    report.close_write();
    auto grandchild = report.receive<pid_t>();
    REQUIRE(grandchild);
    const pid_t pid = child.pid();
    REQUIRE(eventually([&] { return blocked_in(pid, pid, wait4_syscall); }));

    auto waiting = classified(pid, pid);
    CHECK(waiting.wait == WaitKind::child);
    CHECK(waiting.untimed);
    CHECK(waiting.waited_pid == *grandchild);

    auto family = procfs::descendants_of(pid, procfs::list_processes());
    CHECK(family == std::vector<pid_t>{pid, *grandchild});
    if (auto children = procfs::read_children(pid, pid)) // where the kernel has children files
        CHECK(*children == std::vector<pid_t>{*grandchild});
}

//-----------------------------------------------------------------------------
// [SECTION] File locks
//-----------------------------------------------------------------------------

namespace {

struct TempFile {
    std::string path = "/tmp/forklore-procfs-XXXXXX";
    TempFile() {
        int fd = ::mkstemp(path.data());
        REQUIRE(fd >= 0);
        ::close(fd);
    }
    ~TempFile() { ::unlink(path.c_str()); }
};

bool take_write_lock(int fd, bool posix, bool wait) {
    if (!posix)
        return ::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0;
    struct flock whole_file {};
    whole_file.l_type = F_WRLCK;
    whole_file.l_whence = SEEK_SET;
    return ::fcntl(fd, wait ? F_SETLKW : F_SETLK, &whole_file) == 0;
}

} // namespace

TEST_CASE("procfs: a file lock conflict between two processes", "[procfs]") {
    const bool posix = GENERATE(false, true);
    INFO((posix ? "fcntl(F_SETLKW)" : "flock"));
    TempFile file;
    struct stat file_status {};
    REQUIRE(::stat(file.path.c_str(), &file_status) == 0);

    Pipe report;
    ChildProcess holder([&] {
        int fd = ::open(file.path.c_str(), O_RDWR);
        report.send(take_write_lock(fd, posix, false));
        sleep_forever();
    });
    REQUIRE(report.receive<bool>() == true);
    ChildProcess waiter([&] {
        int fd = ::open(file.path.c_str(), O_RDWR);
        report.send(fd);
        take_write_lock(fd, posix, true);
        sleep_forever();
    });
    report.close_write();
    auto waiter_fd = report.receive<int>();
    REQUIRE(waiter_fd);
    const long lock_syscall = posix ? fcntl_syscall : flock_syscall;
    REQUIRE(eventually([&] { return blocked_in(waiter.pid(), waiter.pid(), lock_syscall); }));

    auto waiting = classified(waiter.pid(), waiter.pid());
    CHECK(waiting.wait == WaitKind::file_lock);
    CHECK(waiting.untimed);
    CHECK(waiting.fd == *waiter_fd);
    CHECK(waiting.fd_target == file.path);

    auto locks = procfs::read_file_locks();
    auto find = [&](pid_t pid, bool is_waiting) {
        return std::find_if(locks.begin(), locks.end(), [&](const FileLockEntry& entry) {
            return entry.pid == pid && entry.waiting == is_waiting;
        });
    };
    auto held = find(holder.pid(), false);
    auto blocked = find(waiter.pid(), true);
    REQUIRE(held != locks.end());
    REQUIRE(blocked != locks.end());
    CHECK(held->type == (posix ? "POSIX" : "FLOCK"));
    CHECK(held->write);
    CHECK(held->inode == file_status.st_ino);
    CHECK(blocked->inode == file_status.st_ino);
    CHECK(blocked->device == held->device);
    CHECK(blocked->id == held->id);
    CHECK(held->start == "0");
    CHECK(held->end == "EOF");
}

//-----------------------------------------------------------------------------
// [SECTION] Zombies and odd names
//-----------------------------------------------------------------------------

TEST_CASE("procfs: a zombie's stat shows its wait status", "[procfs]") {
    ChildProcess child([] { ::_exit(3); });
    const pid_t pid = child.pid();
    REQUIRE(eventually([&] {
        auto stat = procfs::read_task_stat(pid, pid);
        return stat && stat->state == 'Z';
    }));
    auto stat = procfs::read_task_stat(pid, pid);
    REQUIRE(stat);
    CHECK(stat->exit_code == (3 << 8));
    // A zombie still has its ids: only reaping takes them.
    auto zombie_ids = procfs::read_nspid(pid, pid);
    REQUIRE(zombie_ids);
    REQUIRE(!zombie_ids->empty());
    CHECK(zombie_ids->back() == pid);

    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(status == stat->exit_code);
    CHECK(procfs::read_task_stat(pid, pid) == std::nullopt);
    CHECK(procfs::read_syscall(pid, pid) == std::nullopt);
    // Gone, not "a kernel with no NSpid line": the observer must not let its host pid stand in.
    CHECK(procfs::read_nspid(pid, pid) == std::nullopt);
}

TEST_CASE("procfs: a comm with spaces and parentheses", "[procfs]") {
    Pipe report;
    ChildProcess child([&] {
        ::prctl(PR_SET_NAME, "a) b (c)");
        report.send(true);
        sleep_forever();
    });
    report.close_write();
    REQUIRE(report.receive<bool>());
    auto stat = procfs::read_task_stat(child.pid(), child.pid());
    REQUIRE(stat);
    CHECK(stat->comm == "a) b (c)");
    CHECK(stat->ppid == ::getpid());

    auto all = procfs::list_processes();
    auto entry =
        std::find_if(all.begin(), all.end(), [&](auto& p) { return p.pid == child.pid(); });
    REQUIRE(entry != all.end());
    CHECK(entry->ppid == ::getpid());
}
