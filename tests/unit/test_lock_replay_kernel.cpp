// The lock replay's corrections from what the kernel showed (a verdict's owner read from the lock
// word, the last sample's blocked threads) and its file locks, by the trace and by /proc/locks
// and fdinfo, over records made in the test; every sentence word for word.
//
// Index of this file:
// [SECTION] What the kernel showed
// [SECTION] File locks
#include "tests/unit/lock_replay_records.hpp"

#include <catch2/catch.hpp>

using namespace forklore;
using namespace forklore::test;

// ---------------------------------------------------------------------------------------------
// [SECTION] What the kernel showed
// ---------------------------------------------------------------------------------------------

TEST_CASE("lock replay: the verdict's owner, read from the lock word, replaces the trace's",
          "[lock_replay][kernel]") {
    Trace trace(VerdictKind::deadlocked);
    trace.process(4, 0, StartMethod::fork, {{4, "main"}});
    trace.lock(4, EventKind::lock_wait, 4, 4, "main", kFileLock, LockKind::mutex, "m");
    WaitEdge edge = waiting_for(WaitEdge::Kind::lock, 4, kFileLock,
                                "thread 'main' of process 4 waits for mutex 'm'");
    edge.object_kind = "mutex";
    edge.owner_pid = 2;
    edge.owner_tid = 3;
    edge.owner_thread = "holder";
    edge.orphaned = true;
    edge.owner_exists = false;
    trace.record.verdict.wait_for.push_back(edge);
    WaitEdge join = edge; // a wait for a thread: the timeline's, not a lock's
    join.object_kind = "thread";
    join.address = 0x7000;
    trace.record.verdict.wait_for.push_back(join);

    const LockReplay replay = replay_locks(trace.record);
    REQUIRE(replay.locks.size() == 1);
    const LockCopy& copy = replay.locks.front();
    CHECK(copy.owner_from_kernel);
    CHECK(copy.orphaned);
    REQUIRE(copy.owner() != nullptr);
    CHECK(copy.owner()->thread.tid == 3);
    CHECK(copy.owner()->thread.pid == 2);
    CHECK(copy.owner()->thread.name == "holder");
    CHECK_FALSE(copy.owner()->exists);
    REQUIRE(copy.waiters.size() == 1);
    CHECK(copy.waiters[0].seen_by_kernel);
    CHECK(copy.verdict_text == "thread 'main' of process 4 waits for mutex 'm'");
    CHECK(copy.owner_text == "'holder' (tid 3) @ process 2");
    CHECK(copy.state_text ==
          "owner 'holder' (tid 3) no longer exists; thread 'main' of process 4 waits on it");
}

TEST_CASE("lock replay: the last sample of a hung or live run shows who is blocked on which futex",
          "[lock_replay][kernel]") {
    constexpr std::uint64_t kTable = 0x3000, kJoined = 0x9000, kUnnamed = 0xa000;
    Trace trace(VerdictKind::timed_out);
    trace.process(2, 0, StartMethod::fork,
                  {{2, "main"}, {3, "reader"}, {4, "late"}, {5, "joiner"}, {6, "lost"}});
    trace.lock(1, EventKind::lock_acquired, 2, 3, "reader", kTable, LockKind::rwlock_write,
               "table");
    trace.event(2, EventKind::join_wait, 2, 5, "joiner", 3, 0);
    Snapshot sample;
    sample.time_ns = kStart + 30 * kMs;
    // A rwlock's waiter sleeps on a futex word inside it, not at its first byte.
    sample.processes.push_back(
        sampled_process(2, {on_futex(4, "late", kTable + 8), on_futex(5, "joiner", kJoined),
                            on_futex(6, "lost", kUnnamed)}));
    trace.record.snapshots.push_back(sample);

    SECTION("a hang: the sample is the end") {
        const LockReplay replay = replay_locks(trace.record);
        const LockCopy* table = copy_in(replay, 2, kTable);
        REQUIRE(table != nullptr);
        REQUIRE(table->waiters.size() == 1);
        CHECK(table->waiters[0].thread.name == "late");
        CHECK(table->waiters[0].seen_by_kernel);
        CHECK(table->waiters[0].since_ns == kUnknownTime);
        CHECK(table->state_text ==
              "held by 'reader' (tid 3) @ process 2; thread 'late' waits for it");
        // The trace says what the joiner waits on: no row for its futex.
        CHECK(copy_in(replay, 2, kJoined) == nullptr);
        const LockCopy* unnamed = copy_in(replay, 2, kUnnamed);
        REQUIRE(unnamed != nullptr);
        CHECK(unnamed->kind == SyncKind::futex);
        CHECK(unnamed->label() == "0xa000");
        CHECK(unnamed->owner_text == "unknown: no event names this futex");
        CHECK(unnamed->state_text == "thread 'lost' waits on it; no event names this futex, so "
                                     "what it is and who would wake it are unknown");
    }
    SECTION("the kernel's owner of an unnamed futex makes it a mutex") {
        trace.record.snapshots.back().processes.back().threads.back().owner_ns_tid = 3;
        const LockReplay replay = replay_locks(trace.record);
        const LockCopy* unnamed = copy_in(replay, 2, kUnnamed);
        REQUIRE(unnamed != nullptr);
        CHECK(unnamed->kind == SyncKind::mutex);
        CHECK(unnamed->owner_from_kernel);
        CHECK(unnamed->owner_text == "'reader' (tid 3) @ process 2");
    }
    SECTION("a completed run: the sample is before the end, a live one's is now") {
        trace.record.verdict.kind = VerdictKind::completed;
        CHECK(copy_in(replay_locks(trace.record), 2, kUnnamed) == nullptr);
        CHECK(copy_in(replay_locks(trace.record, true), 2, kUnnamed) != nullptr);
    }
}

// ---------------------------------------------------------------------------------------------
// [SECTION] File locks
// ---------------------------------------------------------------------------------------------

TEST_CASE("lock replay: file locks by the trace when no detailed sample was taken",
          "[lock_replay][file_locks]") {
    constexpr std::int64_t kFcntl = 1, kInode = 55;
    Trace trace(VerdictKind::deadlocked);
    trace.process(2, 0, StartMethod::fork, {{2, "main"}});
    trace.process(4, 2, StartMethod::fork, {{4, "child"}});
    trace.event(1, EventKind::file_lock_acquired, 2, 2, "main", 3, kFcntl, "log_lock", kInode);
    trace.fork(2, 2, 2, "main", 4);
    trace.event(3, EventKind::file_lock_wait, 4, 4, "child", 3, kFcntl, "log_lock", kInode);

    const LockReplay replay = replay_locks(trace.record);
    CHECK(replay.file_locks_seen_ns == kUnknownTime);
    CHECK(replay.file_locks_note ==
          "no detailed sample was taken: file locks come from the trace only");
    REQUIRE(replay.file_locks.size() == 1);
    const ReplayedFileLock& lock = replay.file_locks.front();
    CHECK(lock.label() == "'log_lock' (inode 55)");
    CHECK(lock.kind == "fcntl");
    CHECK(lock.device.empty());
    CHECK(lock.state == LockState::held_with_waiters);
    CHECK(lock.history.acquisitions == 1);
    CHECK(lock.history.waits == 1);
    REQUIRE(lock.trace_holders.size() == 1);
    CHECK(lock.trace_holders[0].exists);
    CHECK(lock.state_text == "by the trace: held by 'main' (tid 2) of process 2; requested by "
                             "'child' (tid 4) of process 4 since 3.0 ms");
    // A file lock is the kernel's, not memory: fork made no copy of it.
    CHECK(replay.locks.empty());
}

TEST_CASE("lock replay: file locks from /proc/locks and fdinfo name processes and fds",
          "[lock_replay][file_locks]") {
    constexpr std::int64_t kFlock = 0;
    constexpr std::uint64_t kLog = 77, kOfd = 88, kOutside = 99;
    Trace trace(VerdictKind::deadlocked);
    trace.process(2, 0, StartMethod::fork, {{2, "main"}});
    trace.process(4, 2, StartMethod::fork, {{4, "main"}});
    trace.event(10, EventKind::file_lock_wait, 4, 4, "main", 6, kFlock, "log_lock",
                static_cast<std::int64_t>(kLog));
    const WaitEdge edge =
        waiting_for(WaitEdge::Kind::file_lock, 4, kLog,
                    "thread 'main' of process 4 waits for the flock on 'log_lock'");
    trace.record.verdict.wait_for.push_back(edge);

    Snapshot sample;
    sample.time_ns = kStart + 20 * kMs;
    sample.detailed = true;
    ThreadSnapshot blocked = thread(4, "main", WaitKind::file_lock);
    blocked.fd = 6;
    blocked.fd_inode = kLog;
    const ProcessSnapshot child = sampled_process(4, {blocked});
    sample.processes = {sampled_process(2), child};
    // The child holds the flock through fd 5 (/proc/locks, then fdinfo) and waits through fd 6.
    sample.file_locks.push_back(lock_line("FLOCK", true, child.pid, kLog, "08:01"));
    sample.file_locks.push_back(lock_line("FLOCK", true, child.pid, kLog, "08:01", 5));
    sample.file_locks.push_back(lock_line("FLOCK", true, child.pid, kLog, "08:01", -1, true));
    sample.file_locks.push_back(lock_line("OFDLCK", false, -1, kOfd, "08:01"));
    sample.file_locks.push_back(lock_line("POSIX", true, 999, kOutside, "08:02"));
    trace.record.snapshots.push_back(sample);

    SECTION("a deadlock: the last detailed sample is the end") {
        const LockReplay replay = replay_locks(trace.record);
        CHECK(replay.file_locks_seen_ns == 20 * kMs);
        CHECK(replay.file_locks_note ==
              "/proc/locks (and each process's fdinfo) in the last detailed sample, at 20.0 ms");
        REQUIRE(replay.file_locks.size() == 3);
        const ReplayedFileLock* log = file_lock(replay, kLog);
        REQUIRE(log != nullptr);
        CHECK(log->name == "log_lock");
        CHECK(log->kind == "flock"); // the trace's word over /proc/locks' FLOCK
        CHECK(log->device == "08:01");
        REQUIRE(log->holders.size() == 1); // one holder, in /proc/locks and in fdinfo
        CHECK(log->holders[0].pid == 4);
        CHECK(log->holders[0].fd == 5);
        CHECK(log->holders[0].range == "0-EOF");
        REQUIRE(log->waiters.size() == 1);
        CHECK(log->waiters[0].fd == 6);
        REQUIRE(log->trace_waiters.size() == 1);
        CHECK(log->trace_waiters[0].seen_by_kernel);
        CHECK(log->verdict_text == edge.description);
        CHECK(log->state == LockState::held_with_waiters);
        CHECK(log->state_text ==
              "by /proc/locks: held by process 4 through fd 5 (FLOCK WRITE); requested by process "
              "4 through fd 6 (FLOCK WRITE). Process 4 holds it through fd 5 and waits for it "
              "through fd 6: a flock belongs to the open file description, not to the process, "
              "so the two fds are two owners");
        const ReplayedFileLock* ofd = file_lock(replay, kOfd);
        REQUIRE(ofd != nullptr);
        CHECK(ofd->kind == "OFDLCK");
        CHECK(ofd->state == LockState::held);
        CHECK(ofd->state_text == "by /proc/locks: held by an open file description (an OFD lock "
                                 "has no process) (OFDLCK READ)");
        const ReplayedFileLock* outside = file_lock(replay, kOutside);
        REQUIRE(outside != nullptr);
        CHECK(outside->state_text ==
              "by /proc/locks: held by host pid 999 (outside the sandbox) (POSIX WRITE)");
    }
    SECTION("a completed run: the sample shows what was held before the end") {
        trace.record.verdict.kind = VerdictKind::completed;
        trace.record.verdict.wait_for.clear();
        const LockReplay replay = replay_locks(trace.record);
        CHECK(replay.file_locks_note == "/proc/locks at 20.0 ms, the last detailed sample: what "
                                        "was held then, before the run ended");
    }
}
