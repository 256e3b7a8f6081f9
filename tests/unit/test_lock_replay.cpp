// The fork-aware lock replay (sim/record/lock_replay.hpp) over records made in the test: what
// fork copies (holders, the forking thread as the child's main thread, a condition variable's
// count of waiters), what exec and a reaped process end, the objects with no owner, and every
// sentence a student reads, word for word. The kernel's corrections and file locks are in
// test_lock_replay_kernel.cpp.
//
// Index of this file:
// [SECTION] Names and labels
// [SECTION] What fork copies
// [SECTION] Ownerless objects
#include "tests/unit/lock_replay_records.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace forklore;
using namespace forklore::test;

// ---------------------------------------------------------------------------------------------
// [SECTION] Names and labels
// ---------------------------------------------------------------------------------------------

TEST_CASE("lock replay: kinds, states, threads and labels in words", "[lock_replay]") {
    CHECK(to_string(SyncKind::recursive_mutex) == "recursive mutex");
    CHECK(to_string(SyncKind::spin) == "spin lock");
    CHECK(to_string(SyncKind::condition_variable) == "condition variable");
    CHECK(to_string(LockState::orphaned) == "ORPHANED");
    CHECK(to_string(LockState::held_with_waiters) == "held with waiters");
    CHECK(to_string(LockState::waited) == "waited on");
    for (SyncKind kind :
         {SyncKind::mutex, SyncKind::recursive_mutex, SyncKind::rwlock, SyncKind::spin})
        CHECK(has_owner(kind));
    for (SyncKind kind :
         {SyncKind::semaphore, SyncKind::condition_variable, SyncKind::barrier, SyncKind::futex})
        CHECK_FALSE(has_owner(kind));
    CHECK(thread_label({2, 3, "reader"}) == "'reader' (tid 3)");
    CHECK(thread_label({2, 3, ""}) == "(tid 3)");

    LockCopy copy;
    copy.address = 0x55d0c0a0;
    CHECK(copy.label() == "0x55d0c0a0");
    copy.waited_in = "sem_wait in PyThread_acquire_lock_timed";
    CHECK(copy.label() == "0x55d0c0a0 (sem_wait in PyThread_acquire_lock_timed)");
    copy.name = "file_lock";
    CHECK(copy.label() == "'file_lock'");
    ReplayedFileLock file;
    file.inode = 2;
    CHECK(file.label() == "inode 2");
    file.name = "log_lock";
    CHECK(file.label() == "'log_lock' (inode 2)");
}

// ---------------------------------------------------------------------------------------------
// [SECTION] What fork copies
// ---------------------------------------------------------------------------------------------

TEST_CASE("lock replay: fork copies a lock another thread holds, and the child's copy is orphaned",
          "[lock_replay][fork]") {
    Trace trace(VerdictKind::deadlocked);
    trace.process(2, 0, StartMethod::fork, {{2, "main"}, {3, "reader"}});
    trace.process(4, 2, StartMethod::fork, {{4, "main"}});
    trace.lock(1, EventKind::lock_acquired, 2, 3, "reader", kFileLock, LockKind::mutex,
               "file_lock");
    trace.fork(2, 2, 2, "main", 4);
    trace.lock(3, EventKind::lock_released, 2, 3, "reader", kFileLock, LockKind::mutex,
               "file_lock");
    trace.lock(4, EventKind::lock_wait, 4, 4, "main", kFileLock, LockKind::mutex, "file_lock");

    const LockReplay replay = replay_locks(trace.record);
    REQUIRE(replay.locks.size() == 2);
    const LockCopy* copy = copy_in(replay, 4, kFileLock);
    REQUIRE(copy != nullptr);
    CHECK(copy->name == "file_lock");
    CHECK(copy->kind == SyncKind::mutex);
    CHECK(copy->copied_from == 2);
    CHECK(copy->copied_at_ns == 2 * kMs);
    CHECK(copy->orphaned);
    CHECK(copy->state == LockState::orphaned);
    CHECK_FALSE(copy->owner_from_kernel);
    REQUIRE(copy->owner() != nullptr);
    CHECK(copy->owner()->thread.name == "reader");
    CHECK(copy->owner()->thread.tid == 3);
    CHECK(copy->owner()->thread.pid == 2); // the owner lives in the parent only
    CHECK(copy->owner()->inherited);
    CHECK(copy->owner()->exists);
    REQUIRE(copy->waiters.size() == 1);
    CHECK(copy->waiters[0].thread.name == "main");
    CHECK(copy->waiters[0].thread.pid == 4);
    CHECK(copy->waiters[0].since_ns == 4 * kMs);
    CHECK(copy->waiters[0].event == 3);
    CHECK_FALSE(copy->waiters[0].seen_by_kernel);
    CHECK(copy->owner_text == "'reader' (tid 3) @ process 2");
    CHECK(copy->state_text == "owner 'reader' (tid 3) exists only in process 2; thread 'main' of "
                              "process 4 waits on its copy. fork() copied it, locked, from "
                              "process 2 at 2.0 ms");
    // The copy's history is its own process's: only the child's wait.
    CHECK(copy->history.waits == 1);
    CHECK(copy->history.acquisitions == 0);

    // The parent's lock is another object at the same address: released, free there.
    const LockCopy* original = copy_in(replay, 2, kFileLock);
    REQUIRE(original != nullptr);
    CHECK(original->copied_from == 0);
    CHECK_FALSE(original->orphaned);
    CHECK(original->state == LockState::free);
    CHECK(original->owner_text == "free");
    CHECK(original->state_text == "free at the end of the run");
    CHECK(original->history.acquisitions == 1);
    CHECK(original->history.releases == 1);
    REQUIRE(original->history.last_taker);
    CHECK(original->history.last_taker->name == "reader");
    CHECK(original->history.last_taken_ns == 1 * kMs);
    CHECK(original->history.first_ns == 1 * kMs);
    CHECK(original->history.last_ns == 3 * kMs);
}

TEST_CASE("lock replay: what the forking thread held, the child's main thread holds",
          "[lock_replay][fork]") {
    Trace trace(VerdictKind::completed);
    trace.process(2, 0, StartMethod::fork, {{2, "main"}});
    trace.process(4, 2, StartMethod::fork, {{4, "child"}});
    trace.lock(1, EventKind::lock_acquired, 2, 2, "main", kFileLock, LockKind::mutex, "log");
    trace.fork(2, 2, 2, "main", 4);

    SECTION("held in both processes, by each one's own thread") {
        const LockReplay replay = replay_locks(trace.record);
        const LockCopy* copy = copy_in(replay, 4, kFileLock);
        REQUIRE(copy != nullptr);
        REQUIRE(copy->owner() != nullptr);
        CHECK(copy->owner()->thread.tid == 4);
        CHECK(copy->owner()->thread.pid == 4);
        CHECK(copy->owner()->thread.name == "child");
        CHECK(copy->owner()->inherited);
        CHECK_FALSE(copy->orphaned);
        CHECK(copy->state == LockState::held);
        CHECK(copy->state_text == "held by 'child' (tid 4) @ process 4; nobody waits for it");
        const LockCopy* original = copy_in(replay, 2, kFileLock);
        REQUIRE(original != nullptr);
        CHECK(original->state_text == "held by 'main' (tid 2) @ process 2; nobody waits for it");
    }
    SECTION("the child's main thread releases its copy; the parent's stays held") {
        trace.lock(3, EventKind::lock_released, 4, 4, "child", kFileLock, LockKind::mutex, "log");
        const LockReplay replay = replay_locks(trace.record);
        CHECK(copy_in(replay, 4, kFileLock)->state == LockState::free);
        CHECK(copy_in(replay, 2, kFileLock)->state == LockState::held);
    }
}

TEST_CASE("lock replay: a process the list says was forked gets its copies at its first event",
          "[lock_replay][fork]") {
    // No child_start event (dropped): the process list still says how each child was made.
    Trace trace(VerdictKind::deadlocked);
    trace.process(2, 0, StartMethod::fork, {{2, "main"}, {3, "reader"}});
    trace.process(4, 2, StartMethod::forkserver, {{4, "forked"}});
    trace.process(5, 2, StartMethod::spawn, {{5, "spawned"}});
    trace.lock(1, EventKind::lock_acquired, 2, 3, "reader", kFileLock, LockKind::mutex,
               "file_lock");
    trace.lock(3, EventKind::lock_wait, 4, 4, "forked", kFileLock, LockKind::mutex, "file_lock");
    trace.lock(4, EventKind::lock_wait, 5, 5, "spawned", kFileLock, LockKind::mutex, "file_lock");

    const LockReplay replay = replay_locks(trace.record);
    const LockCopy* forked = copy_in(replay, 4, kFileLock);
    REQUIRE(forked != nullptr);
    CHECK(forked->copied_from == 2);
    CHECK(forked->copied_at_ns == 3 * kMs);
    CHECK(forked->state == LockState::orphaned);
    // Which thread forked is unknown: the holder stays the parent's reader.
    CHECK(forked->state_text == "owner 'reader' (tid 3) exists only in process 2; thread 'forked' "
                                "of process 4 waits on its copy. fork() copied it, locked, from "
                                "process 2 at 3.0 ms");
    // A spawned process is a fresh program: its lock is its own, never a copy.
    const LockCopy* spawned = copy_in(replay, 5, kFileLock);
    REQUIRE(spawned != nullptr);
    CHECK(spawned->copied_from == 0);
    CHECK(spawned->holders.empty());
    CHECK(spawned->state == LockState::waited);
    CHECK(spawned->state_text ==
          "thread 'spawned' since 4.0 ms waits for it, yet by the trace nobody holds it");
}

TEST_CASE("lock replay: exec ends a process's copies, a reaped process's copy says it exited",
          "[lock_replay][fork]") {
    Trace trace(VerdictKind::completed);
    trace.process(2, 0, StartMethod::fork, {{2, "main"}});
    trace.process(4, 2, StartMethod::fork, {{4, "worker"}});
    trace.process(5, 2, StartMethod::fork, {{5, "other"}}).wait_status = WaitStatus::from_raw(0);
    trace.lock(1, EventKind::lock_acquired, 2, 2, "main", kFileLock, LockKind::mutex, "log");
    trace.fork(2, 2, 2, "main", 4);
    trace.event(3, EventKind::exec, 4, 4, "worker", 0, 0);
    trace.fork(4, 2, 2, "main", 5);
    trace.lock(5, EventKind::lock_acquired, 4, 4, "worker", kFileLock, LockKind::mutex, "log");

    const LockReplay replay = replay_locks(trace.record);
    std::vector<const LockCopy*> in_worker;
    for (const auto& copy : replay.locks)
        if (copy.process == 4)
            in_worker.push_back(&copy);
    REQUIRE(in_worker.size() == 2);
    const LockCopy* gone = in_worker[0]->replaced_by_exec ? in_worker[0] : in_worker[1];
    const LockCopy* fresh = in_worker[0]->replaced_by_exec ? in_worker[1] : in_worker[0];
    CHECK(gone->replaced_by_exec);
    CHECK(gone->copied_from == 2);
    CHECK(gone->state_text == "held by 'worker' (tid 4) @ process 4; nobody waits for it. "
                              "Process 4 then exec'd a new program: this copy is gone");
    CHECK_FALSE(fresh->replaced_by_exec);
    CHECK(fresh->copied_from == 0);
    CHECK(fresh->history.acquisitions == 1);

    const LockCopy* reaped = copy_in(replay, 5, kFileLock);
    REQUIRE(reaped != nullptr);
    CHECK(reaped->process_ended);
    CHECK_FALSE(reaped->owner()->exists);
    CHECK(reaped->state_text ==
          "held by 'other' (tid 5) @ process 5; nobody waits for it (process 5 has exited)");
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Ownerless objects
// ---------------------------------------------------------------------------------------------

TEST_CASE("lock replay: a recursive mutex counts its takes, a rwlock's readers are the trace's",
          "[lock_replay]") {
    constexpr std::uint64_t kRecursive = 0x2000, kTable = 0x3000;
    Trace trace(VerdictKind::completed);
    trace.process(2, 0, StartMethod::fork, {{2, "main"}, {3, "r1"}, {5, "r2"}, {6, "w"}});
    for (std::int64_t ms : {1, 2, 3})
        trace.lock(ms, EventKind::lock_acquired, 2, 2, "main", kRecursive,
                   LockKind::recursive_mutex, "rec");
    trace.lock(4, EventKind::lock_released, 2, 2, "main", kRecursive, LockKind::recursive_mutex,
               "rec");
    trace.lock(1, EventKind::lock_acquired, 2, 3, "r1", kTable, LockKind::rwlock_read, "table");
    trace.lock(2, EventKind::lock_acquired, 2, 5, "r2", kTable, LockKind::rwlock_read, "table");
    trace.lock(5, EventKind::lock_wait, 2, 6, "w", kTable, LockKind::rwlock_write, "table");

    const LockReplay replay = replay_locks(trace.record);
    const LockCopy* recursive = copy_in(replay, 2, kRecursive);
    REQUIRE(recursive != nullptr);
    CHECK(recursive->kind == SyncKind::recursive_mutex);
    REQUIRE(recursive->holders.size() == 1);
    CHECK(recursive->holders[0].count == 2);
    CHECK(recursive->history.acquisitions == 3);
    CHECK(recursive->history.releases == 1);
    CHECK(recursive->owner_text == "'main' (tid 2) @ process 2 (2 times)");
    CHECK(recursive->state_text ==
          "held by 'main' (tid 2) @ process 2 (2 times); nobody waits for it");

    const LockCopy* table = copy_in(replay, 2, kTable);
    REQUIRE(table != nullptr);
    CHECK(table->kind == SyncKind::rwlock);
    CHECK(table->state == LockState::held_with_waiters);
    CHECK(table->owner_text == "read by 'r1' (tid 3) @ process 2, 'r2' (tid 5) @ process 2 "
                               "(named by the trace: the kernel only counts readers)");
    CHECK(table->state_text ==
          "held by 'r1' (tid 3) @ process 2; thread 'w' since 5.0 ms waits for it");
}

TEST_CASE("lock replay: a semaphore and a barrier have no owner, and say so", "[lock_replay]") {
    constexpr std::uint64_t kSlots = 0x4000, kFinished = 0x5000;
    Trace trace(VerdictKind::deadlocked);
    trace.process(2, 0, StartMethod::fork, {{2, "main"}, {3, "worker"}});
    trace.lock(1, EventKind::lock_acquired, 2, 3, "worker", kSlots, LockKind::semaphore, "slots");
    trace.event(2, EventKind::barrier_wait, 2, 3, "worker", kFinished, 0, "finished");
    trace.lock(5, EventKind::lock_wait, 2, 2, "main", kSlots, LockKind::semaphore, "slots");

    const LockReplay replay = replay_locks(trace.record);
    const LockCopy* slots = copy_in(replay, 2, kSlots);
    REQUIRE(slots != nullptr);
    CHECK(slots->holders.empty());
    CHECK(slots->state == LockState::waited);
    CHECK_FALSE(slots->orphaned);
    CHECK(slots->owner_text == "no owner: a semaphore is only a count");
    CHECK(slots->state_text ==
          "thread 'main' since 5.0 ms waits on it; a semaphore has no owner: it is only a count, "
          "and nothing records who should post it; the trace shows it was last taken by 'worker' "
          "(tid 3), with no post since");

    const LockCopy* finished = copy_in(replay, 2, kFinished);
    REQUIRE(finished != nullptr);
    CHECK(finished->kind == SyncKind::barrier);
    CHECK(finished->owner_text == "no owner: it opens when enough threads arrive");
    CHECK(finished->state_text == "thread 'worker' since 2.0 ms waits at it for the other threads "
                                  "to arrive; a barrier has no owner");
}

TEST_CASE("lock replay: a condition variable's copy counts waiters fork did not copy",
          "[lock_replay][fork]") {
    constexpr std::uint64_t kReady = 0x6000;
    Trace trace(VerdictKind::deadlocked);
    trace.process(2, 0, StartMethod::fork, {{2, "main"}, {3, "waiter"}});
    trace.process(4, 2, StartMethod::fork, {{4, "child"}});
    trace.event(1, EventKind::cond_wait, 2, 3, "waiter", kReady,
                static_cast<std::int64_t>(CondWaitKind::wait), "ready");
    trace.event(2, EventKind::cond_signal, 2, 2, "main", kReady, 0, "ready");
    trace.fork(3, 2, 2, "main", 4);

    SECTION("the parent's waiter, the child's count") {
        const LockReplay replay = replay_locks(trace.record);
        const LockCopy* original = copy_in(replay, 2, kReady);
        REQUIRE(original != nullptr);
        CHECK(original->owner_text == "no owner: any thread may signal it");
        CHECK(original->history.signals == 1);
        CHECK(original->state_text ==
              "thread 'waiter' since 1.0 ms waits to be signalled; a condition variable has no "
              "owner: any thread may signal it; last signalled by 'main' (tid 2)");
        const LockCopy* copy = copy_in(replay, 4, kReady); // untouched, yet it carries a count
        REQUIRE(copy != nullptr);
        REQUIRE(copy->inherited_waiters.size() == 1);
        CHECK(copy->inherited_waiters[0].name == "waiter");
        CHECK(copy->state == LockState::free);
        CHECK(copy->state_text ==
              "nobody waits on it at the end of the run; its copy still counts thread 'waiter' as "
              "waiting (fork copied the count of waiters, not the threads)");
    }
    SECTION("the child destroys its copy and waits for a waiter that is not there") {
        trace.event(4, EventKind::cond_wait, 4, 4, "child", kReady,
                    static_cast<std::int64_t>(CondWaitKind::destroy), "ready");
        const LockReplay replay = replay_locks(trace.record);
        const LockCopy* copy = copy_in(replay, 4, kReady);
        REQUIRE(copy != nullptr);
        REQUIRE(copy->waiters.size() == 1);
        CHECK(copy->waiters[0].destroying);
        CHECK(copy->state_text ==
              "thread 'child' since 4.0 ms destroys it: pthread_cond_destroy waits until every "
              "waiter has left; its copy still counts thread 'waiter' as waiting (fork copied the "
              "count of waiters, not the threads)");
    }
}
