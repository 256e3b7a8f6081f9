// The stuck set on synthetic snapshots: who can wake whom (private and shared futexes, children,
// pipes, file locks, polls, signals, stopped processes), partial deadlocks beside live threads,
// and the detector's rules for confirming a stuck set (structural orphans in two samples).
//
// Host ids are namespace ids + 1000, as in test_verdict.cpp.
#include "sim/verdict/stuck_set.hpp"
#include "sim/verdict/verdict.hpp"

#include "tests/unit/snapshot_builders.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace forklore;
using Catch::Matchers::Contains;

namespace {

using namespace forklore::test;

ThreadSnapshot reading(pid_t ns_tid, const std::string& name, const std::string& target) {
    ThreadSnapshot t = thread(ns_tid, name, WaitKind::pipe);
    t.syscall = 0;
    t.fd = 3;
    t.fd_target = target;
    return t;
}

Snapshot snapshot_of(std::vector<ProcessSnapshot> processes, bool detailed = true,
                     std::int64_t time_ns = 0) {
    Snapshot s;
    s.time_ns = time_ns;
    s.detailed = detailed;
    ProcessSnapshot reaper = process(1, 0, {waiting_for_child(1, "forklore-reaper", -1)});
    reaper.infrastructure = true;
    s.processes.push_back(reaper);
    for (auto& p : processes)
        s.processes.push_back(std::move(p));
    return s;
}

std::vector<std::string> names(const std::vector<StuckSet::Member>& members) {
    std::vector<std::string> result;
    for (const auto& m : members)
        result.push_back(m.thread->name);
    std::sort(result.begin(), result.end());
    return result;
}

using Names = std::vector<std::string>;

// A stuck set points into its snapshot: these judge one and keep only names.
Names stuck_names(const Snapshot& snapshot) {
    return names(find_stuck_threads(snapshot).stuck);
}
Names live_names(const Snapshot& snapshot) {
    return names(find_stuck_threads(snapshot).live);
}
bool none_stuck(const Snapshot& snapshot) {
    return find_stuck_threads(snapshot).empty();
}
bool needs_detail(const Snapshot& snapshot) {
    return find_stuck_threads(snapshot).needs_detail;
}

// The classic partial hang: the parent's 'holder' sits in pause() holding the mutex, 'chatter'
// keeps printing, 'main' polls the child with WNOHANG and sleeps; the child waits forever.
Snapshot orphan_beside_chatter() {
    ThreadSnapshot supervisor = thread(2, "main", WaitKind::sleep);
    ThreadSnapshot holder = thread(3, "holder", WaitKind::signal);
    ThreadSnapshot chatter = thread(4, "chatter", WaitKind::running);
    ProcessSnapshot parent = process(2, 1, {supervisor, holder, chatter});
    ProcessSnapshot child = process(5, 2, {on_futex(5, "child", 0x4000, 3)});
    return snapshot_of({parent, child});
}

} // namespace

TEST_CASE("stuck set: a child stuck on its copy of a lock, beside a parent that keeps running",
          "[stuck]") {
    Snapshot snapshot = orphan_beside_chatter();
    StuckSet stuck = find_stuck_threads(snapshot);
    CHECK(names(stuck.stuck) == Names{"child"});
    // The pause()ing holder is live: a live thread of the sandbox could signal it.
    CHECK(names(stuck.live) == Names{"chatter", "holder", "main"});
    CHECK(has_structural_orphan(stuck));
}

TEST_CASE("stuck set: the parent waiting for a stuck child is stuck too", "[stuck]") {
    ProcessSnapshot parent =
        process(2, 1, {waiting_for_child(2, "main", 5), thread(3, "chatter", WaitKind::running)});
    ProcessSnapshot child = process(5, 2, {on_futex(5, "child", 0x4000, 3)});
    CHECK(stuck_names(snapshot_of({parent, child})) == Names{"child", "main"});
    CHECK(live_names(snapshot_of({parent, child})) == Names{"chatter"});

    SECTION("unless the child has a live thread that may still exit") {
        child.threads.push_back(thread(6, "heartbeat", WaitKind::sleep));
        CHECK(none_stuck(snapshot_of({parent, child})));
    }
}

TEST_CASE("stuck set: a private futex is woken only from its own process", "[stuck]") {
    // 'waiter' waits on a lock its own sleeping sibling will release: never stuck.
    ProcessSnapshot slow =
        process(2, 1, {on_futex(2, "waiter", 0x10), thread(3, "sleeper", WaitKind::sleep)});
    CHECK(none_stuck(snapshot_of({slow})));
    // A running thread in another process cannot touch a private futex.
    ProcessSnapshot alone = process(2, 1, {on_futex(2, "waiter", 0x10)});
    ProcessSnapshot busy = process(3, 1, {thread(3, "busy", WaitKind::running)});
    CHECK(stuck_names(snapshot_of({alone, busy})) == Names{"waiter"});
}

TEST_CASE("stuck set: a shared futex is woken from every process that maps it", "[stuck]") {
    ThreadSnapshot waiter = on_futex(2, "waiter", 0x10);
    waiter.futex_private = false;
    ProcessSnapshot a = process(2, 1, {waiter});
    ProcessSnapshot b = process(3, 1, {thread(3, "holder", WaitKind::sleep)});
    SECTION("cheap sample: the mappers are unknown, so it stays live and asks for detail") {
        CHECK(none_stuck(snapshot_of({a, b}, false)));
        CHECK(needs_detail(snapshot_of({a, b}, false)));
    }
    SECTION("the other process maps it and can still run") {
        a.threads[0].futex_sharers = {a.pid, b.pid};
        CHECK(none_stuck(snapshot_of({a, b})));
    }
    SECTION("only the waiter's process maps it") {
        a.threads[0].futex_sharers = {a.pid};
        CHECK(stuck_names(snapshot_of({a, b})) == Names{"waiter"});
    }
}

TEST_CASE("stuck set: a pipe reader is woken by whoever holds the pipe", "[stuck]") {
    ProcessSnapshot reader = process(2, 1, {reading(2, "reader", "pipe:[7]")});
    reader.channel_ends = {{3, "pipe:[7]", false}};
    ProcessSnapshot writer = process(3, 1, {thread(3, "writer", WaitKind::sleep)});
    writer.channel_ends = {{4, "pipe:[7]", true}};
    CHECK(none_stuck(snapshot_of({reader, writer})));
    // The writer is itself stuck on a lock only it could release: so is the reader.
    writer.threads = {on_futex(3, "writer", 0x20)};
    CHECK(stuck_names(snapshot_of({reader, writer})) == Names{"reader", "writer"});
    // A cheap sample knows no fds: the reader is assumed live until a detailed one.
    CHECK(stuck_names(snapshot_of({reader, writer}, false)) == Names{"writer"});
    CHECK(needs_detail(snapshot_of({reader, writer}, false)));
}

TEST_CASE("stuck set: signal waits and stopped processes", "[stuck]") {
    ProcessSnapshot pauser = process(2, 1, {thread(2, "pauser", WaitKind::signal)});
    SECTION("nobody left to send a signal") {
        CHECK(stuck_names(snapshot_of({pauser})) == Names{"pauser"});
    }
    SECTION("a live thread anywhere in the sandbox could send one") {
        ProcessSnapshot other = process(3, 1, {thread(3, "ticker", WaitKind::sleep)});
        CHECK(none_stuck(snapshot_of({pauser, other})));
    }
    SECTION("a timer of its own may send one (alarm, setitimer, POSIX timers)") {
        pauser.threads[0].timer_may_signal = true;
        CHECK(none_stuck(snapshot_of({pauser})));
    }
    SECTION("a stopped child whose parent waits for it, and nobody to continue it") {
        ProcessSnapshot parent = process(2, 1, {waiting_for_child(2, "parent", 3)});
        ProcessSnapshot child = process(3, 2, {thread(3, "stopped", WaitKind::stopped)});
        CHECK(stuck_names(snapshot_of({parent, child})) == Names{"parent", "stopped"});
    }
}

TEST_CASE("stuck set: an event loop's wakers are its watched fds", "[stuck]") {
    ThreadSnapshot loop = thread(2, "loop", WaitKind::poll);
    loop.syscall = 232;
    ProcessSnapshot server = process(2, 1, {loop});
    SECTION("fds unknown: live") {
        CHECK(none_stuck(snapshot_of({server})));
    }
    SECTION("a terminal or a file: unknown wakers, live") {
        server.threads[0].watched_known = true;
        server.threads[0].watched_targets = {"/dev/pts/3"};
        CHECK(none_stuck(snapshot_of({server})));
    }
    SECTION("a pipe only a stuck process holds") {
        server.threads[0].watched_known = true;
        server.threads[0].watched_targets = {"pipe:[9]"};
        server.channel_ends = {{5, "pipe:[9]", false}};
        ProcessSnapshot feeder = process(3, 1, {on_futex(3, "feeder", 0x30)});
        feeder.channel_ends = {{6, "pipe:[9]", true}};
        CHECK(stuck_names(snapshot_of({server, feeder})) == Names{"feeder", "loop"});
    }
}

TEST_CASE("detector: a structural orphan is proven by two consistent samples", "[stuck]") {
    DeadlockDetector detector({3, 15 * kMs, 2});
    Snapshot first = orphan_beside_chatter();
    first.time_ns = 0;
    Snapshot second = first;
    second.time_ns = 1 * kMs;
    CHECK_FALSE(detector.observe(first, {}));
    CHECK(detector.observe(second, {}));
}

TEST_CASE("detector: an owner that no longer exists needs the full window", "[stuck]") {
    // A robust mutex's waiter is woken by the kernel as its owner exits: a sample may see the
    // owner gone a moment before. Only an owner alive elsewhere makes the orphan structural.
    DeadlockDetector detector({3, 15 * kMs, 2});
    ThreadSnapshot locker = on_futex(5, "child", 0x4000, 3);
    locker.owner_tid = 0; // the observer found no thread 3 anywhere: it has exited
    ProcessSnapshot alone = process(5, 1, {locker});
    std::vector<bool> proven;
    for (int sample = 0; sample < 4; ++sample)
        proven.push_back(detector.observe(snapshot_of({alone}, true, sample * 5 * kMs), {}));
    CHECK(proven == std::vector<bool>{false, false, false, true});
}

TEST_CASE("detector: the live threads' activity never restarts the window", "[stuck]") {
    DeadlockDetector detector({3, 15 * kMs, 2});
    // An ownerless wait (no structural proof): the full window is needed.
    ProcessSnapshot parent = process(2, 1, {thread(2, "chatter", WaitKind::running)});
    ProcessSnapshot child = process(5, 2, {on_futex(5, "child", 0x4000)});
    std::vector<Event> trace;
    for (int sample = 0; sample < 4; ++sample) {
        Snapshot s = snapshot_of({parent, child}, true, sample * 10 * kMs);
        s.processes[1].threads[0].cpu_ticks += static_cast<std::uint64_t>(sample); // chatter runs
        Event printed{};
        printed.tid = 2; // and records events
        trace.push_back(printed);
        bool proven = detector.observe(s, trace);
        CHECK(proven == (sample == 2 || sample == 3));
        if (proven)
            break;
    }
}

TEST_CASE("detector: a stuck thread that was scheduled in between restarts the window", "[stuck]") {
    DeadlockDetector detector({3, 15 * kMs, 2});
    Snapshot first = orphan_beside_chatter();
    Snapshot second = first;
    second.time_ns = 1 * kMs;
    second.processes[2].threads[0].run_slices = 1; // the child ran: woken, and blocked again
    CHECK_FALSE(detector.observe(first, {}));
    CHECK_FALSE(detector.observe(second, {}));
    Snapshot third = second;
    third.time_ns = 2 * kMs;
    CHECK(detector.observe(third, {}));
}

TEST_CASE("explanation: the live threads are named beside the stuck set", "[stuck]") {
    Snapshot snapshot = orphan_beside_chatter();
    Verdict verdict = explain_deadlock(snapshot, {}, 0);
    REQUIRE(verdict.kind == VerdictKind::deadlocked);
    CHECK(verdict.reason == DeadlockReason::orphaned_lock);
    REQUIRE(verdict.stuck.size() == 1);
    CHECK(verdict.stuck[0].name == "child");
    CHECK(verdict.stuck[0].pid == 5);
    CHECK(verdict.live.size() == 3);
    CHECK_THAT(verdict.explanation, Contains("thread 'chatter' (tid 4) of process 2 runs"));
    CHECK_THAT(verdict.explanation, Contains("cannot release a lock that exists, in process 5, "
                                             "only as a copy"));
    // The wait-for graph is the stuck set's: the live threads have no edge.
    REQUIRE(verdict.wait_for.size() == 1);
    CHECK(verdict.wait_for[0].waiter_tid == 5);
}
