// The observer on a live process tree shaped like a sandbox: host -> reaper -> scenario processes.
//
// Index of this file:
// [SECTION] Helpers: a process-shared mutex, finding processes and threads
// [SECTION] A sandbox-shaped tree: quick and detailed samples
// [SECTION] File locks: the sandbox's and an outsider's
// [SECTION] Zombies, a second thread's child, a host that is gone
#include "sim/observe/observer.hpp"

#include <catch2/catch.hpp>

#include "live_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

using namespace forklore;
using namespace forklore::testing;

// [SECTION] Helpers: a process-shared mutex, finding processes and threads ------------------------

namespace {

using namespace std::chrono_literals;

// A process-shared mutex in memory every forked process of the test shares.
class SharedMutex {
  public:
    SharedMutex() {
        void* memory = ::mmap(nullptr, sizeof(pthread_mutex_t), PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        REQUIRE(memory != MAP_FAILED);
        mutex_ = static_cast<pthread_mutex_t*>(memory);
        pthread_mutexattr_t attributes;
        ::pthread_mutexattr_init(&attributes);
        ::pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
        ::pthread_mutex_init(mutex_, &attributes);
        ::pthread_mutexattr_destroy(&attributes);
    }
    ~SharedMutex() { ::munmap(mutex_, sizeof(pthread_mutex_t)); }
    pthread_mutex_t* get() const { return mutex_; }

  private:
    pthread_mutex_t* mutex_ = nullptr;
};

enum class Role : int { reaper, holder, waiter };
struct Member {
    Role role;
    pid_t pid;
    pid_t tid; // the thread that holds or waits for the mutex
};

const ProcessSnapshot& process_in(const Snapshot& snapshot, pid_t pid) {
    const ProcessSnapshot* process = snapshot.find_process(pid);
    REQUIRE(process);
    return *process;
}

const ThreadSnapshot& thread_in(const ProcessSnapshot& process, pid_t tid) {
    auto it = std::find_if(process.threads.begin(), process.threads.end(),
                           [tid](const ThreadSnapshot& thread) { return thread.tid == tid; });
    REQUIRE(it != process.threads.end());
    return *it;
}

constexpr long futex_syscall = 202, wait4_syscall = 61, flock_syscall = 73;

} // namespace

// [SECTION] A sandbox-shaped tree: quick and detailed samples -------------------------------------

TEST_CASE("observer: a sandbox-shaped tree with a mutex shared across processes", "[observer]") {
    SharedMutex shared;
    Pipe report;
    // host -> reaper -> {holder, waiter}: the holder's second thread locks the shared mutex, then
    // the waiter blocks on it. The reaper and the host wait for their children.
    ChildProcess host([&] {
        pid_t reaper = fork_tied_to_parent();
        if (reaper == 0) {
            report.send(Member{Role::reaper, ::getpid(), ::gettid()});
            Pipe locked;
            if (fork_tied_to_parent() == 0) {
                std::thread holder([&] {
                    ::pthread_mutex_lock(shared.get());
                    report.send(Member{Role::holder, ::getpid(), ::gettid()});
                    locked.send(true);
                    sleep_forever();
                });
                sleep_forever();
            }
            locked.receive<bool>();
            if (fork_tied_to_parent() == 0) {
                report.send(Member{Role::waiter, ::getpid(), ::gettid()});
                ::pthread_mutex_lock(shared.get());
                sleep_forever();
            }
            while (::wait(nullptr) > 0 || errno == EINTR) {
            }
            ::_exit(0);
        }
        ::waitpid(reaper, nullptr, 0);
    });
    const int report_write_fd = report.write_end;
    report.close_write();
    Member members[3]{};
    for (int i = 0; i < 3; ++i) {
        auto member = report.receive<Member>();
        REQUIRE(member);
        members[static_cast<int>(member->role)] = *member;
    }
    const auto& reaper = members[static_cast<int>(Role::reaper)];
    const auto& holder = members[static_cast<int>(Role::holder)];
    const auto& waiter = members[static_cast<int>(Role::waiter)];
    REQUIRE(eventually([&] {
        return blocked_in(waiter.pid, waiter.tid, futex_syscall) &&
               blocked_in(reaper.pid, reaper.pid, wait4_syscall) &&
               blocked_in(host.pid(), host.pid(), wait4_syscall);
    }));

    Observer observer(host.pid());
    CHECK(observer.host_pid() == host.pid());

    SECTION("a quick sample: processes, roles and waits") {
        Snapshot snapshot = observer.sample(false);
        CHECK_FALSE(snapshot.detailed);
        CHECK(snapshot.time_ns > 0);
        CHECK(snapshot.processes.size() == 4);
        CHECK(snapshot.file_locks.empty());

        const auto& host_process = process_in(snapshot, host.pid());
        CHECK(host_process.infrastructure);
        CHECK(host_process.ns_pid == host.pid());
        // Its main thread, by tid: a sanitizer runtime (TSan) may add a thread of its own.
        CHECK(thread_in(host_process, host.pid()).wait == WaitKind::child);
        CHECK(thread_in(host_process, host.pid()).waited_pid == reaper.pid);

        const auto& reaper_process = process_in(snapshot, reaper.pid);
        CHECK(reaper_process.infrastructure);
        CHECK(reaper_process.ppid == host.pid());
        CHECK(thread_in(reaper_process, reaper.pid).waited_pid == -1);

        const auto& holder_process = process_in(snapshot, holder.pid);
        CHECK_FALSE(holder_process.infrastructure);
        CHECK(holder_process.ppid == reaper.pid);
        CHECK(holder_process.threads.size() >= 2); // TSan may add a thread of its own
        CHECK(holder_process.channel_ends.empty());

        const auto& waiter_process = process_in(snapshot, waiter.pid);
        CHECK_FALSE(waiter_process.infrastructure);
        CHECK(waiter_process.state == 'S');
        const auto& waiting = thread_in(waiter_process, waiter.tid);
        CHECK(waiting.wait == WaitKind::futex);
        CHECK(waiting.untimed);
        CHECK(waiting.futex_address == reinterpret_cast<std::uint64_t>(shared.get()));
        CHECK(waiting.ns_tid == waiter.tid);
        CHECK(waiting.syscall == futex_syscall);
        CHECK_FALSE(waiting.owner_ns_tid.has_value()); // owners are read by detailed samples only
        CHECK(waiting.owner_tid == 0);
    }

    SECTION("a detailed sample maps the mutex owner to a thread of another process") {
        Snapshot first = observer.sample(true);
        Snapshot snapshot = observer.sample(true);
        CHECK(snapshot.detailed);
        CHECK(snapshot.time_ns > first.time_ns);

        const auto& waiting = thread_in(process_in(snapshot, waiter.pid), waiter.tid);
        CHECK(waiting.owner_ns_tid == holder.tid);
        CHECK(waiting.owner_tid == holder.tid);
        CHECK(snapshot.process_of_thread(waiting.owner_tid)->pid == holder.pid);

        // Every process inherited both ends of the report pipe.
        const auto& holder_ends = process_in(snapshot, holder.pid).channel_ends;
        auto report_end = std::find_if(holder_ends.begin(), holder_ends.end(),
                                       [&](const auto& end) { return end.fd == report_write_fd; });
        REQUIRE(report_end != holder_ends.end());
        CHECK(report_end->writable);
        CHECK(report_end->target.rfind("pipe:[", 0) == 0);
    }
}

// [SECTION] File locks: the sandbox's and an outsider's -------------------------------------------

namespace {

struct TempFile {
    std::string path = "/tmp/forklore-observer-XXXXXX";
    TempFile() {
        int fd = ::mkstemp(path.data());
        REQUIRE(fd >= 0);
        ::close(fd);
    }
    ~TempFile() { ::unlink(path.c_str()); }
    std::uint64_t inode() const {
        struct stat status {};
        REQUIRE(::stat(path.c_str(), &status) == 0);
        return status.st_ino;
    }
};

} // namespace

TEST_CASE("observer: file locks of the sandbox and of whoever shares its files", "[observer]") {
    TempFile contended, unrelated;
    // The test process itself holds a lock on a file the sandbox never touches: not reported.
    int unrelated_fd = ::open(unrelated.path.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(unrelated_fd >= 0);
    REQUIRE(::flock(unrelated_fd, LOCK_EX) == 0);

    Pipe report;
    ChildProcess outsider([&] {
        int fd = ::open(contended.path.c_str(), O_RDWR);
        report.send(::flock(fd, LOCK_EX) == 0);
        sleep_forever();
    });
    REQUIRE(report.receive<bool>() == true);
    ChildProcess host([&] {
        int fd = ::open(contended.path.c_str(), O_RDWR);
        ::flock(fd, LOCK_EX);
        sleep_forever();
    });
    REQUIRE(eventually([&] { return blocked_in(host.pid(), host.pid(), flock_syscall); }));

    Snapshot snapshot = Observer(host.pid()).sample(true);
    ::close(unrelated_fd);

    const auto& waiting = thread_in(process_in(snapshot, host.pid()), host.pid());
    CHECK(waiting.wait == WaitKind::file_lock);
    CHECK(waiting.fd_target == contended.path);

    REQUIRE(snapshot.file_locks.size() == 2);
    for (const auto& entry : snapshot.file_locks) {
        CHECK(entry.inode == contended.inode());
        CHECK(entry.type == "FLOCK");
    }
    auto waiter_entry = std::find_if(snapshot.file_locks.begin(), snapshot.file_locks.end(),
                                     [](const FileLockEntry& entry) { return entry.waiting; });
    REQUIRE(waiter_entry != snapshot.file_locks.end());
    CHECK(waiter_entry->pid == host.pid());
    auto holder_entry = std::find_if(snapshot.file_locks.begin(), snapshot.file_locks.end(),
                                     [](const FileLockEntry& entry) { return !entry.waiting; });
    REQUIRE(holder_entry != snapshot.file_locks.end());
    CHECK(holder_entry->pid == outsider.pid()); // outside the sandbox, but it blocks the sandbox
}

// [SECTION] Zombies, a second thread's child, a host that is gone ---------------------------------

TEST_CASE("observer: a zombie in the sandbox", "[observer]") {
    Pipe report;
    ChildProcess host([&] {
        pid_t child = fork_tied_to_parent();
        if (child == 0)
            ::_exit(5);
        report.send(child);
        sleep_forever(); // never reaps it
    });
    report.close_write();
    auto zombie = report.receive<pid_t>();
    REQUIRE(zombie);
    // Wait until every thread is a zombie: under a sanitizer a runtime thread may still be
    // exiting for a moment after the main thread became one.
    Snapshot snapshot;
    REQUIRE(eventually([&] {
        snapshot = Observer(host.pid()).sample(false);
        for (const auto& process : snapshot.processes)
            if (process.pid == *zombie)
                return process.state == 'Z' &&
                       std::all_of(process.threads.begin(), process.threads.end(),
                                   [](const ThreadSnapshot& t) { return t.state == 'Z'; });
        return false;
    }));

    const auto& process = process_in(snapshot, *zombie);
    CHECK(process.state == 'Z');
    CHECK(process.exit_code == (5 << 8));
    CHECK(process.infrastructure); // a direct child of the host is, by position, the reaper
    for (const auto& thread : process.threads)
        CHECK(thread.wait == WaitKind::zombie);
}

TEST_CASE("observer: a child forked by a second thread of the host is found", "[observer]") {
    Pipe report;
    ChildProcess host([&] {
        std::thread forker([&] {
            pid_t child = fork_tied_to_parent();
            if (child == 0)
                sleep_forever();
            report.send(child);
            sleep_forever();
        });
        sleep_forever();
    });
    report.close_write();
    auto child = report.receive<pid_t>();
    REQUIRE(child);
    REQUIRE(eventually([&] { return blocked_in(*child, *child, 34); })); // pause()

    Observer observer(host.pid());
    for (int round = 0; round < 3; ++round) {
        Snapshot snapshot = observer.sample(round == 2);
        REQUIRE(snapshot.processes.size() == 2);
        const auto& process = process_in(snapshot, *child);
        CHECK(process.ppid == host.pid());
        CHECK(process.ns_pid == *child);
        REQUIRE(process.threads.size() == 1);
        CHECK(process.threads[0].ns_tid == *child);
        CHECK(process.threads[0].wait == WaitKind::signal); // pause()
    }
}

TEST_CASE("observer: a host that is gone gives an empty sample", "[observer]") {
    pid_t gone = 0;
    {
        ChildProcess child([] { ::_exit(0); });
        gone = child.pid();
    }
    Snapshot snapshot = Observer(gone).sample(true);
    CHECK(snapshot.processes.empty());
    CHECK(snapshot.file_locks.empty());
}
