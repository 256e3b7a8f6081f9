// The probes cache each thread's pid and tid instead of asking the kernel at every event. These
// tests prove the cache is never wrong: after fork, _Fork, vfork (through probe::vfork_exec) and
// a raw clone without CLONE_VM, in threads made inside such children, in grandchildren, and in a
// child in a new PID namespace whose pid repeats its parent's. And that once warm, recording
// makes no system call at all (a seccomp filter kills the process at the first one).
//
// Each "truth" event carries, in arg0 and arg1, the tid and pid the kernel gave the recording
// thread (asked with raw system calls): the event's own pid and tid must match them.
//
// Index of this file:
// [SECTION] Helpers: the kernel's ids, recorded as truth events
// [SECTION] After fork, _Fork and a raw clone
// [SECTION] In a vfork child made by probe::vfork_exec
// [SECTION] In a new PID namespace, where the pid repeats
// [SECTION] Once warm: no system call at all
#include "sim/probe/probe.hpp"
#include "sim/protocol/channel.hpp"
#include "sim/protocol/events.hpp"

#include <catch2/catch.hpp>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace forklore;

// [SECTION] Helpers: the kernel's ids, recorded as truth events -----------------------------------

namespace {

pid_t kernel_pid() {
    return static_cast<pid_t>(syscall(SYS_getpid));
}
pid_t kernel_tid() {
    return static_cast<pid_t>(syscall(SYS_gettid));
}

// Records the ids the kernel gives this thread, twice: the first event may fill the cache, the
// second is served from it.
void record_truth(const char* where) {
    for (int i = 0; i < 2; ++i)
        probe::record(EventKind::note, 0, kernel_tid(), kernel_pid(), where, "truth");
}

// In a child: records, starts a thread that records, joins it, records again.
void child_body(const char* where, const char* thread_where) {
    record_truth(where);
    std::thread thread([thread_where] { record_truth(thread_where); });
    thread.join();
    record_truth(where);
}

int wait_status(pid_t pid) {
    int status = -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

bool exited_zero(int status) {
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct InstalledChannel {
    explicit InstalledChannel(Channel* channel) { probe::install_channel(channel); }
    ~InstalledChannel() { probe::install_channel(nullptr); }
    InstalledChannel(const InstalledChannel&) = delete;
    InstalledChannel& operator=(const InstalledChannel&) = delete;
};

// The truth events of a channel, by where they were recorded; each must carry the right ids.
std::map<std::string, std::vector<Event>> truth_by_place(const Channel& channel) {
    std::uint64_t cursor = 0;
    std::vector<Event> events;
    channel.read(cursor, events, true);
    std::map<std::string, std::vector<Event>> by_place;
    for (const Event& e : events) {
        if (std::strcmp(e.text, "truth") != 0)
            continue;
        INFO("event recorded at '" << e.name << "': pid " << e.pid << " tid " << e.tid
                                   << ", the kernel said pid " << e.arg1 << " tid " << e.arg0);
        CHECK(e.pid == e.arg1);
        CHECK(e.tid == e.arg0);
        by_place[e.name].push_back(e);
    }
    return by_place;
}

} // namespace

// [SECTION] After fork, _Fork and a raw clone -----------------------------------------------------

TEST_CASE("probe ids are the kernel's in the parent, its threads and a fork child's threads",
          "[probe][ids]") {
    Channel channel = Channel::create(1024);
    InstalledChannel installed(&channel);
    record_truth("parent"); // warms the parent thread's cache before any child exists

    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        child_body("fork child", "fork child thread");
        // A grandchild, from a thread of the child that had cached its own ids.
        std::thread forker([] {
            record_truth("fork child forker");
            pid_t grandchild = fork();
            if (grandchild == 0) {
                child_body("grandchild", "grandchild thread");
                _exit(0);
            }
            _exit(exited_zero(wait_status(grandchild)) ? 0 : 1);
        });
        forker.join(); // not reached: the thread exits the process
        _exit(1);
    }
    REQUIRE(exited_zero(wait_status(child)));
    record_truth("parent");

    auto by_place = truth_by_place(channel);
    for (const char* place : {"parent", "fork child", "fork child thread", "fork child forker",
                              "grandchild", "grandchild thread"}) {
        INFO(place);
        CHECK(by_place[place].size() >= 2);
    }
    CHECK(by_place["fork child"].front().pid == child);
    CHECK(by_place["fork child"].front().tid == child);
    CHECK(by_place["fork child thread"].front().pid == child);
    CHECK(by_place["fork child thread"].front().tid != child);
    CHECK(by_place["grandchild"].front().pid != child);
    CHECK(by_place["parent"].back().pid == getpid());
}

TEST_CASE("probe ids are right after _Fork, which runs no atfork handler", "[probe][ids]") {
    Channel channel = Channel::create(1024);
    InstalledChannel installed(&channel);
    record_truth("parent");
    pid_t child = _Fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        child_body("_Fork child", "_Fork child thread");
        _exit(0);
    }
    REQUIRE(exited_zero(wait_status(child)));
    record_truth("parent");
    auto by_place = truth_by_place(channel);
    REQUIRE(by_place["_Fork child"].size() == 4);
    CHECK(by_place["_Fork child"].front().pid == child);
    CHECK(by_place["_Fork child thread"].size() == 2);
    CHECK(by_place["parent"].size() == 4);
}

TEST_CASE("probe ids are right after a raw clone without CLONE_VM", "[probe][ids]") {
    Channel channel = Channel::create(1024);
    InstalledChannel installed(&channel);
    record_truth("parent");
    // glibc does not know about this child: its own cached tid (THREAD_SELF) stays the
    // parent's. Only the kernel's wipe of the identity page tells the probes.
    long child = syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    REQUIRE(child >= 0);
    if (child == 0) {
        record_truth("clone child");
        _exit(0);
    }
    REQUIRE(exited_zero(wait_status(static_cast<pid_t>(child))));
    record_truth("parent");
    auto by_place = truth_by_place(channel);
    REQUIRE(by_place["clone child"].size() == 2);
    CHECK(by_place["clone child"].front().pid == child);
    CHECK(by_place["clone child"].front().tid == child);
    CHECK(by_place["parent"].size() == 4);
}

// [SECTION] In a vfork child made by probe::vfork_exec --------------------------------------------

TEST_CASE("probe ids are the child's in a vfork child made by probe::vfork_exec", "[probe][ids]") {
    Channel channel = Channel::create(1024);
    InstalledChannel installed(&channel);
    record_truth("parent");
    std::string program = "/bin/true", missing = "/nonexistent/forklore-test";
    char* argv_true[] = {program.data(), nullptr};
    char* argv_missing[] = {missing.data(), nullptr};

    pid_t ran = probe::vfork_exec(program.c_str(), argv_true);
    REQUIRE(ran > 0);
    record_truth("parent"); // the parent's cache survived the child that borrowed it
    pid_t failed = probe::vfork_exec(missing.c_str(), argv_missing);
    REQUIRE(failed > 0);
    CHECK(exited_zero(wait_status(ran)));
    int status = wait_status(failed);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 127));
    record_truth("parent");

    std::uint64_t cursor = 0;
    std::vector<Event> events;
    channel.read(cursor, events, true);
    std::vector<Event> execs, failures;
    for (const Event& e : events) {
        if (e.kind == EventKind::exec)
            execs.push_back(e);
        if (e.kind == EventKind::note && std::strcmp(e.text, "exec failed") == 0)
            failures.push_back(e);
    }
    REQUIRE(execs.size() == 2);
    CHECK(execs[0].pid == ran);
    CHECK(execs[0].tid == ran);
    CHECK(std::string(execs[0].name) == program);
    CHECK(execs[1].pid == failed);
    REQUIRE(failures.size() == 1);
    CHECK(failures[0].pid == failed);
    CHECK(failures[0].tid == failed);
    CHECK(failures[0].arg0 == ENOENT);
    CHECK(truth_by_place(channel)["parent"].size() == 6);
}

// [SECTION] In a new PID namespace, where the pid repeats -----------------------------------------

TEST_CASE("probe ids are right in a new PID namespace where the pid repeats", "[probe][ids]") {
    // A child in a new PID namespace is pid 1; its child in another new one is pid 1 again,
    // made by a thread whose cached word named pid 1 too: a word of pid alone would match there
    // and hand that thread its old tid. Needs CAP_SYS_ADMIN.
    Channel channel = Channel::create(1024);
    InstalledChannel installed(&channel);
    long child = syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (child < 0) {
        WARN("clone(CLONE_NEWPID) not permitted here (" << std::strerror(errno) << "): skipped");
        return;
    }
    if (child == 0) {
        // In the first namespace, pid 1: a thread caches (word: pid 1), then makes the next.
        std::thread maker([] {
            record_truth("first namespace thread");
            long inner =
                syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
            if (inner == 0) {
                // A new thread installs the process's word first: pid 1 again, as the word
                // this thread still holds from the first namespace. Only the epoch differs.
                std::thread first([] { record_truth("second namespace thread"); });
                first.join();
                record_truth("second namespace");
                _exit(0);
            }
            _exit(inner > 0 && exited_zero(wait_status(static_cast<pid_t>(inner))) ? 0 : 1);
        });
        maker.join();
        _exit(1);
    }
    REQUIRE(exited_zero(wait_status(static_cast<pid_t>(child))));
    auto by_place = truth_by_place(channel);
    REQUIRE(by_place["first namespace thread"].size() == 2);
    CHECK(by_place["first namespace thread"].front().pid == 1);
    REQUIRE(by_place["second namespace thread"].size() == 2);
    REQUIRE(by_place["second namespace"].size() == 2);
    CHECK(by_place["second namespace"].front().pid == 1);
    CHECK(by_place["second namespace"].front().tid == 1);
}

// [SECTION] Once warm: no system call at all ------------------------------------------------------

TEST_CASE("once warm, recording makes no system call", "[probe][ids]") {
    Channel channel = Channel::create(4096);
    InstalledChannel installed(&channel);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        probe::Mutex mutex("seccomp_lock");
        record_truth("before the filter"); // the one time this process asks for its ids
        // From here on any system call but exit kills the process with SIGSYS.
        struct sock_filter filter[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        };
        struct sock_fprog program = {static_cast<unsigned short>(sizeof filter / sizeof filter[0]),
                                     filter};
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
        // Not under a sanitizer: its runtime (interceptors, allocator) makes system calls of
        // its own around the probes' code, so the claim is about the build users run. The
        // sanitizer builds still check the events below.
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
            _exit(3);
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
            _exit(4);
#else
        (void)program;
#endif
        for (int i = 0; i < 1000; ++i) {
            mutex.lock();
            mutex.unlock();
        }
        probe::note("after the filter");
        _exit(0);
    }
    int status = wait_status(child);
    INFO("status " << status << (WIFSIGNALED(status) ? " (killed by a signal)" : ""));
    REQUIRE(exited_zero(status));
    std::uint64_t cursor = 0;
    std::vector<Event> events;
    channel.read(cursor, events, true);
    REQUIRE(events.size() == 2 + 2000 + 1); // a free lock: acquired and released, no wait
    for (const Event& e : events) {
        if (e.pid != child || e.tid != child)
            FAIL("an event with the wrong ids");
    }
    CHECK(events.back().kind == EventKind::note);
}
