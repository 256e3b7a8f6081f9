// The reason choice alone (sim/verdict/choose_reason.hpp): which deadlock a wait-for graph shows,
// from small hand-built snapshots, with the outcomes test_verdict_deadlocks.cpp expects of the
// whole explanation; and the precedence between reasons when a graph shows more than one.
//
// Host ids are namespace ids + 1000 throughout, as in the other verdict tests.
#include "sim/verdict/choose_reason.hpp"

#include "sim/verdict/verdict.hpp"
#include "tests/unit/snapshot_builders.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <ostream>

using namespace forklore;
using namespace forklore::test;

namespace {

using Tids = std::vector<pid_t>;

// A choice in one value a CHECK can compare and print, with edges named by their waiting threads.
struct Outcome {
    DeadlockReason reason = DeadlockReason::blocked_on_process;
    pid_t culprit_pid = 0;
    Tids waiters; // the waiting thread of each chosen edge, in the order the explanation tells
    std::optional<pid_t> loops_back_to = std::nullopt; // the waiter of the edge a chain loops to
    bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Outcome& outcome) {
    out << to_string(outcome.reason) << ", culprit " << outcome.culprit_pid << ", waiters";
    for (pid_t tid : outcome.waiters)
        out << ' ' << tid;
    if (outcome.loops_back_to)
        out << ", loops back to " << *outcome.loops_back_to;
    return out;
}

Outcome outcome_of(const std::vector<WaitEdge>& graph, const ReasonChoice& choice) {
    Outcome outcome{choice.reason, choice.culprit_pid, {}};
    for (std::size_t edge : choice.edges)
        outcome.waiters.push_back(graph.at(edge).waiter_tid);
    if (choice.loops_back_to)
        outcome.loops_back_to = graph.at(*choice.loops_back_to).waiter_tid;
    return outcome;
}

// The choice for the wait-for graph of `snapshot`'s stuck threads, built as explain_deadlock
// builds it but with no trace (what /proc shows is enough to choose); the explanation of the same
// snapshot must name the same reason and culprit.
Outcome outcome_of(const Snapshot& snapshot) {
    StuckSet stuck = find_stuck_threads(snapshot);
    std::vector<WaitEdge> graph = build_wait_for_graph(snapshot, {}, {}, &stuck);
    ReasonChoice choice = choose_reason(graph);
    Verdict verdict = explain_deadlock(snapshot, {}, 0);
    CHECK(verdict.reason == choice.reason);
    CHECK(verdict.culprit_pid == choice.culprit_pid);
    return outcome_of(graph, choice);
}

// Main (process 2) waits for child 4, whose main waits on a lock its parent's 'reader' (tid 3)
// holds: the lock fork() copied.
Snapshot child_on_a_copied_lock() {
    return snapshot_at(
        0, {sandbox_infrastructure(),
            process(2, 1, {waiting_for_child(2, "main", 4), on_futex(3, "reader", 0x55d0c100)}),
            process(4, 2, {on_futex(4, "main", 0x55d0c0a0, 3)})});
}

// Threads 'a' (tid 3) and 'b' (tid 4) of process 2 each wait for the lock the other holds.
ProcessSnapshot two_threads_in_a_cycle() {
    return process(
        2, 1, {on_futex(2, "main", 0xc0), on_futex(3, "a", 0xb0, 4), on_futex(4, "b", 0xa0, 3)});
}

// Main (process 2) waits for child `child`, whose only thread is `child_wait`.
Snapshot main_waits_for(pid_t child, ThreadSnapshot child_wait) {
    return snapshot_at(0, {process(2, 1, {waiting_for_child(2, "main", child)}),
                           process(child, 2, {std::move(child_wait)})});
}

} // namespace

TEST_CASE("choose_reason: a lock whose owner is not in the waiter's process is orphaned",
          "[verdict][reason]") {
    SECTION("the owner stayed in the parent at fork") {
        CHECK(outcome_of(child_on_a_copied_lock()) ==
              Outcome{DeadlockReason::orphaned_lock, 4, {4}});
    }
    SECTION("the owner no longer exists") {
        Snapshot snapshot = snapshot_at(0, {process(2, 1, {on_futex(2, "main", 0x55d0c0a0, 3)})});
        CHECK(outcome_of(snapshot) == Outcome{DeadlockReason::orphaned_lock, 2, {2}});
    }
}

TEST_CASE("choose_reason: threads waiting for each other's locks are a cycle",
          "[verdict][reason]") {
    SECTION("two threads: 'a' waits for the lock 'b' holds, 'b' for the one 'a' holds") {
        // main waits too, on a lock nobody holds: it is left out of the cycle.
        CHECK(outcome_of(snapshot_at(0, {two_threads_in_a_cycle()})) ==
              Outcome{DeadlockReason::cycle, 2, {3, 4}});
    }
    SECTION("one thread locking a mutex it already holds") {
        Snapshot snapshot = snapshot_at(0, {process(2, 1, {on_futex(2, "main", 0xa0, 2)})});
        CHECK(outcome_of(snapshot) == Outcome{DeadlockReason::cycle, 2, {2}});
    }
}

TEST_CASE("choose_reason: a chain ending in a wait nobody owns has no waker", "[verdict][reason]") {
    SECTION("a child at a barrier (a futex without an owner)") {
        CHECK(outcome_of(main_waits_for(3, on_futex(3, "consumer", 0x7f00))) ==
              Outcome{DeadlockReason::no_waker, 3, {2, 3}});
    }
    SECTION("a signal nobody sends") {
        CHECK(outcome_of(main_waits_for(3, thread(3, "waiter", WaitKind::signal))) ==
              Outcome{DeadlockReason::no_waker, 3, {2, 3}});
    }
    SECTION("a stopped process nobody continues") {
        CHECK(outcome_of(main_waits_for(3, thread(3, "paused", WaitKind::stopped))) ==
              Outcome{DeadlockReason::no_waker, 3, {2, 3}});
    }
}

TEST_CASE("choose_reason: a chain ending in a wait on a process is blocked on process",
          "[verdict][reason]") {
    SECTION("a file lock held by the parent that waits for any child: a loop") {
        constexpr std::uint64_t kInode = 777;
        Snapshot snapshot = main_waits_for(3, thread(3, "writer", WaitKind::file_lock));
        snapshot.processes[0].threads[0].waited_pid = -1;
        snapshot.file_locks = {
            {1, "FLOCK", true, false, 2 + kHostOffset, kInode, "08:01", "0", "EOF"},
            {1, "FLOCK", true, true, 3 + kHostOffset, kInode, "08:01", "0", "EOF"},
        };
        // The writer's file lock is held by process 2, whose main began the chain.
        CHECK(outcome_of(snapshot) == Outcome{DeadlockReason::blocked_on_process, 3, {2, 3}, 2});
    }
    SECTION("a pipe whose only writer waits in poll() with no timeout") {
        ThreadSnapshot reader = thread(2, "main", WaitKind::pipe);
        reader.fd = 3;
        reader.fd_target = "pipe:[55]";
        ProcessSnapshot writer = process(3, 2, {thread(3, "loop", WaitKind::poll)});
        writer.channel_ends = {{4, "pipe:[55]", true}};
        CHECK(outcome_of(snapshot_at(0, {process(2, 1, {reader}), writer})) ==
              Outcome{DeadlockReason::blocked_on_process, 3, {2, 3}});
    }
    SECTION("an empty graph: every thread blocked, no wait identified") {
        CHECK(outcome_of({}, choose_reason({})) ==
              Outcome{DeadlockReason::blocked_on_process, 0, {}});
    }
}

TEST_CASE("choose_reason: an orphaned lock outranks a cycle, a cycle outranks a chain",
          "[verdict][reason]") {
    SECTION("an orphan beside a cycle") {
        // Child 5 waits on a lock its parent's thread 'a' (tid 3) holds; 'a' and 'b' are in a
        // cycle in process 2.
        Snapshot snapshot = snapshot_at(
            0, {two_threads_in_a_cycle(), process(5, 2, {on_futex(5, "child", 0xa0, 3)})});
        CHECK(outcome_of(snapshot) == Outcome{DeadlockReason::orphaned_lock, 5, {5}});
    }
    SECTION("a cycle beside a chain with no waker") {
        ProcessSnapshot cycle = two_threads_in_a_cycle();
        cycle.threads.front() = waiting_for_child(2, "main", 6);
        Snapshot snapshot =
            snapshot_at(0, {cycle, process(6, 2, {on_futex(6, "consumer", 0x7f00)})});
        CHECK(outcome_of(snapshot) == Outcome{DeadlockReason::cycle, 2, {3, 4}});
    }
}
