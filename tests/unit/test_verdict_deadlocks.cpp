// The verdict engine's deadlocks on synthetic snapshots and traces: the wait-for graph, each
// reason (orphaned lock, cycle, blocked on process, no waker) and the sentences that explain it,
// including waits on objects without an owner, named from the trace.
//
// Host ids are namespace ids + 1000 throughout, so a test fails if the engine ever shows a
// student a host id instead of the id the trace shows.
//
// Index of this file:
// [SECTION] Deadlock reasons and explanations
// [SECTION] Waits on objects without an owner, named from the trace
#include "sim/verdict/verdict.hpp"

#include "sim/protocol/start_method.hpp"
#include "tests/unit/snapshot_builders.hpp"
#include "tests/unit/verdict_trace.hpp"

#include <catch2/catch.hpp>

#include <csignal>

using namespace forklore;
using namespace forklore::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

// ---------------------------------------------------------------------------------------------
// [SECTION] Deadlock reasons and explanations
// ---------------------------------------------------------------------------------------------

namespace {

constexpr std::uint64_t kFileLock = 0x55d0c0a0;
constexpr std::uint64_t kCondition = 0x55d0c100;

// The teaching case: 'reader' (tid 3) holds file_lock when main forks child 4 at 3.1 ms.
Trace fork_while_reader_holds_lock() {
    Trace trace;
    trace.process_start(2, "main")
        .thread_start(2, 3, "reader")
        .lock_acquired(2, 3, "reader", kFileLock, "file_lock")
        .child_start(2, 4, StartMethod::fork, "read_file", 31)
        .process_start(4, "read_file")
        .add(EventKind::lock_wait, 4, 4, "main", kFileLock, 0, 0, "file_lock");
    return trace;
}

} // namespace

TEST_CASE("verdict: a lock whose owner stayed in the parent at fork is orphaned", "[verdict]") {
    Trace trace = fork_while_reader_holds_lock();
    Snapshot snapshot = snapshot_at(
        0, {sandbox_infrastructure(),
            process(2, 1, {waiting_for_child(2, "main", 4), on_futex(3, "reader", kCondition)}),
            process(4, 2, {on_futex(4, "main", kFileLock, 3)})});

    Verdict verdict = explain_deadlock(snapshot, trace.events, kTraceStart);
    CHECK(verdict.kind == VerdictKind::deadlocked);
    CHECK(verdict.reason == DeadlockReason::orphaned_lock);
    CHECK(verdict.culprit_pid == 4);
    CHECK_THAT(verdict.explanation, Contains("Thread 'main' (tid 4) of child process 4") &&
                                        Contains("lock 'file_lock' (0x55d0c0a0)") &&
                                        Contains("thread 'reader' (tid 3)") &&
                                        Contains("exists only in process 2") &&
                                        Contains("fork() from process 2 at 3.1 ms") &&
                                        Contains("Process 2 waits for child 4."));

    REQUIRE(verdict.wait_for.size() == 3);
    const WaitEdge& orphan = verdict.wait_for[2];
    CHECK(orphan.kind == WaitEdge::Kind::lock);
    CHECK(orphan.waiter_pid == 4);
    CHECK(orphan.lock_name == "file_lock");
    CHECK(orphan.owner_tid == 3);
    CHECK(orphan.owner_pid == 2);
    CHECK(orphan.owner_thread == "reader");
    CHECK(orphan.orphaned);
    CHECK(orphan.owner_exists);
    CHECK(verdict.wait_for[0].kind == WaitEdge::Kind::child);
    CHECK(verdict.wait_for[0].owner_pid == 4);
}

TEST_CASE("verdict: a lock whose owner thread no longer exists anywhere", "[verdict]") {
    SECTION("the owner stayed in the parent at fork and exited since") {
        Trace trace = fork_while_reader_holds_lock();
        trace.add(EventKind::thread_exit, 2, 3, "reader", 0, 0, 0, "reader");
        Snapshot snapshot = snapshot_at(0, {process(2, 1, {waiting_for_child(2, "main", 4)}),
                                            process(4, 2, {on_futex(4, "main", kFileLock, 3)})});
        Verdict verdict = explain_deadlock(snapshot, trace.events, kTraceStart);
        CHECK(verdict.reason == DeadlockReason::orphaned_lock);
        REQUIRE(verdict.wait_for.size() == 2);
        CHECK_FALSE(verdict.wait_for[1].owner_exists);
        CHECK(verdict.wait_for[1].owner_thread == "reader");
        CHECK_THAT(verdict.explanation,
                   Contains("thread 'reader' (tid 3), stayed behind in process 2") &&
                       Contains("forked at 3.1 ms") && Contains("has since exited") &&
                       Contains("fork() copied the lock"));
    }
    SECTION("the owner exited while holding the lock in the same process") {
        Trace trace;
        trace.process_start(2, "main")
            .thread_start(2, 3, "worker")
            .lock_acquired(2, 3, "worker", kFileLock, "state")
            .add(EventKind::thread_exit, 2, 3, "worker", 0, 0, 0, "worker");
        Snapshot snapshot = snapshot_at(0, {process(2, 1, {on_futex(2, "main", kFileLock, 3)})});
        Verdict verdict = explain_deadlock(snapshot, trace.events, kTraceStart);
        CHECK(verdict.reason == DeadlockReason::orphaned_lock);
        CHECK_THAT(verdict.explanation,
                   Contains("lock 'state'") &&
                       Contains("thread 'worker' (tid 3), exited while holding"));
    }
}

TEST_CASE("verdict: two threads waiting for each other's locks are a cycle", "[verdict]") {
    constexpr std::uint64_t kLeft = 0xa0, kRight = 0xb0;
    Trace trace;
    trace.thread_start(2, 3, "a")
        .thread_start(2, 4, "b")
        .lock_acquired(2, 3, "a", kLeft, "left")
        .lock_acquired(2, 4, "b", kRight, "right");
    Snapshot snapshot =
        snapshot_at(0, {process(2, 1,
                                {on_futex(2, "main", 0xc0), on_futex(3, "a", kRight, 4),
                                 on_futex(4, "b", kLeft, 3)})});
    Verdict verdict = explain_deadlock(snapshot, trace.events, kTraceStart);
    CHECK(verdict.reason == DeadlockReason::cycle);
    CHECK(verdict.culprit_pid == 2);
    CHECK_THAT(verdict.explanation,
               Contains("Thread 'a' (tid 3) holds 'left' and waits for 'right'; "
                        "thread 'b' (tid 4) holds 'right' and waits for 'left'") &&
                   Contains("Other waits: thread 'main' (tid 2) of process 2"));
}

TEST_CASE("verdict: a thread locking a mutex it already holds is a cycle of one", "[verdict]") {
    Trace trace;
    trace.lock_acquired(2, 2, "main", 0xa0, "config");
    Verdict verdict = explain_deadlock(
        snapshot_at(0, {process(2, 1, {on_futex(2, "main", 0xa0, 2)})}), trace.events, kTraceStart);
    CHECK(verdict.reason == DeadlockReason::cycle);
    CHECK_THAT(verdict.explanation,
               Contains("holds 'config' and waits for 'config'") && Contains("waits for itself"));
}

TEST_CASE("verdict: waiting on a child stuck at a barrier nobody else reaches", "[verdict]") {
    constexpr std::uint64_t kBarrier = 0x7f00;
    Trace trace;
    trace.process_start(2, "main")
        .child_start(2, 3, StartMethod::spawn, "consumer")
        .add(EventKind::barrier_wait, 3, 3, "consumer", kBarrier, 0, 0, "items");
    Snapshot snapshot =
        snapshot_at(0, {sandbox_infrastructure(), process(2, 1, {waiting_for_child(2, "main", 3)}),
                        process(3, 2, {on_futex(3, "consumer", kBarrier)})});
    Verdict verdict = explain_deadlock(snapshot, trace.events, kTraceStart);
    CHECK(verdict.reason == DeadlockReason::no_waker);
    CHECK(verdict.culprit_pid == 3);
    CHECK_THAT(
        verdict.explanation,
        StartsWith("Deadlocked: no waker.") &&
            Contains("Thread 'main' (tid 2) of process 2 waits for child process 3 to exit") &&
            Contains("waits at barrier 'items' (0x7f00) for the other threads to arrive; "
                     "a barrier has no owner"));
    CHECK(verdict.wait_for[1].object_kind == "barrier");
    REQUIRE(verdict.wait_for.size() == 2);
    CHECK(verdict.wait_for[1].owner_tid == 0);
    CHECK_FALSE(verdict.wait_for[1].orphaned);
}

TEST_CASE("verdict: a file lock held by a parent that waits for the child", "[verdict]") {
    constexpr std::uint64_t kInode = 777;
    Trace trace;
    trace.add(EventKind::file_lock_acquired, 2, 2, "main", 5, 0, kInode, "data.lock");
    Snapshot snapshot = snapshot_at(0, {process(2, 1, {waiting_for_child(2, "main", -1)}),
                                        process(3, 2, {thread(3, "writer", WaitKind::file_lock)})});
    snapshot.file_locks = {
        {1, "FLOCK", true, false, 2 + kHostOffset, kInode, "08:01", "0", "EOF"},
        {1, "FLOCK", true, true, 3 + kHostOffset, kInode, "08:01", "0", "EOF"},
    };
    Verdict verdict = explain_deadlock(snapshot, trace.events, kTraceStart);
    CHECK(verdict.reason == DeadlockReason::blocked_on_process);
    REQUIRE(verdict.wait_for.size() == 2);
    const WaitEdge& any_child = verdict.wait_for[0];
    CHECK(any_child.kind == WaitEdge::Kind::child);
    CHECK(any_child.owner_pid == 3);
    const WaitEdge& file_lock = verdict.wait_for[1];
    CHECK(file_lock.kind == WaitEdge::Kind::file_lock);
    CHECK(file_lock.address == kInode);
    CHECK(file_lock.lock_name == "data.lock");
    CHECK(file_lock.owner_pid == 2);
    CHECK_THAT(verdict.explanation,
               Contains("waits for a child to exit (running: process 3)") &&
                   Contains("waits for file lock 'data.lock' (inode 777) held by process 2") &&
                   Contains("leads back to thread 'main' (tid 2) of process 2"));
}

TEST_CASE("verdict: pipe and poll waits", "[verdict]") {
    ThreadSnapshot reader = thread(2, "main", WaitKind::pipe);
    reader.fd = 3;
    reader.fd_target = "pipe:[55]";
    ProcessSnapshot parent = process(2, 1, {reader});
    ProcessSnapshot child = process(3, 2, {thread(3, "loop", WaitKind::poll)});
    child.channel_ends = {{4, "pipe:[55]", true}};

    auto graph = build_wait_for_graph(snapshot_at(0, {parent, child}), {});
    REQUIRE(graph.size() == 2);
    CHECK(graph[0].kind == WaitEdge::Kind::pipe);
    CHECK(graph[0].owner_pid == 3);
    CHECK_THAT(graph[0].description, Contains("write end is held open by process 3"));
    CHECK(graph[1].kind == WaitEdge::Kind::unknown);
    CHECK_THAT(graph[1].description, Contains("waits in poll() with no timeout"));

    SECTION("a reader that kept its own write end open") {
        parent.channel_ends = {{4, "pipe:[55]", true}};
        child.channel_ends.clear();
        auto own = build_wait_for_graph(snapshot_at(0, {parent, child}), {});
        CHECK(own[0].owner_pid == 2);
        CHECK_THAT(own[0].description, Contains("in its own process"));
    }
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Waits on objects without an owner, named from the trace
// ---------------------------------------------------------------------------------------------

TEST_CASE("verdict: a semaphore taken in the parent before fork has no owner to name",
          "[verdict]") {
    constexpr std::uint64_t kSemaphore = 0x5000;
    const auto semaphore = static_cast<std::int64_t>(LockKind::semaphore);
    Trace trace;
    trace.process_start(2, "main")
        .add(EventKind::thread_start, 2, 3, "holder", 0, 2, 0, "holder")
        .add(EventKind::lock_acquired, 2, 3, "holder", kSemaphore, semaphore, 0, "slots")
        .child_start(2, 4, StartMethod::fork, "take")
        .add(EventKind::lock_wait, 4, 4, "main", kSemaphore, semaphore, 0, "slots");
    Snapshot snapshot = snapshot_at(
        0, {process(2, 1, {waiting_for_child(2, "main", 4), on_futex(3, "holder", 0x9000)}),
            process(4, 2, {on_futex(4, "main", kSemaphore)})});
    Verdict verdict = explain_deadlock(snapshot, trace.events, kTraceStart);
    CHECK(verdict.reason == DeadlockReason::no_waker);
    CHECK(verdict.culprit_pid == 4);
    const WaitEdge& wait = verdict.wait_for.back();
    CHECK(wait.object_kind == "semaphore");
    CHECK(wait.lock_name == "slots");
    CHECK(wait.owner_tid == 0);
    CHECK_FALSE(wait.orphaned);
    CHECK_THAT(verdict.explanation,
               Contains("waits on semaphore 'slots' (0x5000), which has no owner") &&
                   Contains("last taken by thread 'holder' (tid 3), which exists only in "
                            "process 2, with no post since"));
}

TEST_CASE("verdict: destroying a condition variable copied with a waiter in it", "[verdict]") {
    constexpr std::uint64_t kCondition = 0x6000;
    const auto wait = static_cast<std::int64_t>(CondWaitKind::wait);
    const auto destroy = static_cast<std::int64_t>(CondWaitKind::destroy);
    Trace trace;
    trace.process_start(2, "main")
        .add(EventKind::cond_wait, 2, 3, "sleeper", kCondition, wait, 0x6100, "work_ready")
        .child_start(2, 4, StartMethod::fork, "teardown")
        .add(EventKind::cond_wait, 4, 4, "main", kCondition, destroy, 0, "work_ready");
    Snapshot snapshot = snapshot_at(
        0,
        {process(2, 1, {waiting_for_child(2, "main", 4), on_futex(3, "sleeper", kCondition + 8)}),
         // pthread_cond_destroy sleeps on __wrefs, 36 bytes into the condition variable
         process(4, 2, {on_futex(4, "main", kCondition + 36)})});
    Verdict verdict = explain_deadlock(snapshot, trace.events, kTraceStart);
    CHECK(verdict.reason == DeadlockReason::no_waker);
    CHECK_THAT(verdict.explanation,
               Contains("destroys condition variable 'work_ready' (0x6000)") &&
                   Contains("still includes thread 'sleeper' (tid 3), which exists only in "
                            "process 2") &&
                   Contains("copied the count of waiters but not the waiters"));
    CHECK(verdict.wait_for.back().object_kind == "condition variable");
}

TEST_CASE("verdict: joining a thread that stayed in the parent", "[verdict]") {
    Trace trace;
    trace.process_start(2, "main")
        .add(EventKind::thread_start, 2, 3, "worker", 0, 2, 0, "worker")
        .child_start(2, 4, StartMethod::fork, "join")
        .add(EventKind::join_wait, 4, 4, "main", 3, 0, 0, "worker");
    Snapshot snapshot = snapshot_at(
        0, {process(2, 1, {waiting_for_child(2, "main", 4), on_futex(3, "worker", 0x9000)}),
            process(4, 2, {on_futex(4, "main", 0x7ffff7a00910)})});
    Verdict verdict = explain_deadlock(snapshot, trace.events, kTraceStart);
    CHECK(verdict.reason == DeadlockReason::no_waker);
    CHECK_THAT(verdict.explanation,
               Contains("joins thread 'worker' (tid 3), which exists only in process 2: fork() "
                        "copied the thread's handle but not the thread"));
    CHECK(verdict.wait_for.back().object_kind == "thread");
}

TEST_CASE("verdict: an rwlock's writer left in the parent orphans it in the child", "[verdict]") {
    constexpr std::uint64_t kRwlock = 0x7000;
    const auto write = static_cast<std::int64_t>(LockKind::rwlock_write);
    Trace trace;
    trace.process_start(2, "main")
        .add(EventKind::lock_acquired, 2, 3, "writer", kRwlock, write, 0, "table")
        .child_start(2, 4, StartMethod::fork, "update")
        .add(EventKind::lock_wait, 4, 4, "main", kRwlock, write, 0, "table");
    Snapshot snapshot = snapshot_at(
        0, {process(2, 1, {waiting_for_child(2, "main", 4), on_futex(3, "writer", 0x9000)}),
            // writers sleep on __writers_futex, 12 bytes in; the observer read __cur_writer = 3
            process(4, 2, {on_futex(4, "main", kRwlock + 12, 3)})});
    Verdict verdict = explain_deadlock(snapshot, trace.events, kTraceStart);
    CHECK(verdict.reason == DeadlockReason::orphaned_lock);
    const WaitEdge& wait = verdict.wait_for.back();
    CHECK(wait.lock_name == "table");
    CHECK(wait.object_kind == "rwlock_write");
    CHECK(wait.owner_tid == 3);
    CHECK_THAT(verdict.explanation,
               Contains("lock 'table'") && Contains("thread 'writer' (tid 3)"));
}

TEST_CASE("verdict: a lock in shared memory whose owner's process was killed", "[verdict]") {
    constexpr std::uint64_t kShared = 0x7fd0000;
    Trace trace;
    trace.process_start(2, "main")
        .child_start(2, 3, StartMethod::spawn, "hold")
        .add(EventKind::lock_acquired, 3, 3, "main", kShared, 0, 0, "shared_lock")
        .signal_sent(2, 3, SIGKILL)
        .process_exit(2, 3, SIGKILL) // a raw wait status: killed by SIGKILL
        .add(EventKind::lock_wait, 2, 2, "main", kShared, 0, 0, "shared_lock");
    Snapshot snapshot = snapshot_at(0, {process(2, 1, {on_futex(2, "main", kShared, 3)})});
    Verdict verdict = explain_deadlock(snapshot, trace.events, kTraceStart);
    CHECK(verdict.reason == DeadlockReason::orphaned_lock);
    CHECK_THAT(verdict.explanation,
               Contains("Its owner, thread 'main' (tid 3) of process 3, died holding the lock: "
                        "process 3 was killed by SIGKILL") &&
                   Contains("EOWNERDEAD"));
}

TEST_CASE("verdict: a fork server's child is waited for on a socket, and named", "[verdict]") {
    Trace trace;
    trace.process_start(2, "main")
        .child_start(3, 4, StartMethod::forkserver, "append")
        .add(EventKind::child_wait, 2, 2, "main", 4, 6);
    ThreadSnapshot reader = thread(2, "main", WaitKind::pipe);
    reader.fd = 6;
    reader.fd_target = "socket:[4242]";
    Snapshot snapshot = snapshot_at(0, {process(2, 1, {reader}),
                                        process(3, 2, {thread(3, "forkserver", WaitKind::poll)}),
                                        process(4, 3, {on_futex(4, "main", 0x9000)})});
    std::vector<WaitEdge> graph = build_wait_for_graph(snapshot, trace.events);
    REQUIRE(!graph.empty());
    CHECK(graph[0].kind == WaitEdge::Kind::child);
    CHECK(graph[0].owner_pid == 4);
    CHECK_THAT(graph[0].description,
               Contains("waits for child process 4 to exit, made by the fork server"));
}
