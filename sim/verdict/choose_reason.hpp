// Which deadlock a wait-for graph shows, decided in one place. explain.cpp only writes the
// sentences for the choice made here.
#pragma once

#include "sim/protocol/verdict_kind.hpp"
#include "sim/verdict/verdict.hpp"

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <vector>

namespace forklore {

// Why a proven deadlock can never make progress, and the edges of its wait-for graph (indices
// into it) that show why, in the order the explanation tells them.
struct ReasonChoice {
    DeadlockReason reason = DeadlockReason::blocked_on_process;
    // orphaned_lock: the first orphaned edge.
    // cycle: the edges of the lock cycle; the owner of each edge's lock waits in the next one, and
    //   the owner of the last edge's lock in the first.
    // blocked_on_process, no_waker: the chain from the wait of the scenario's main process, each
    //   edge's owner (thread or process) waiting in the next; empty only when the graph is.
    std::vector<std::size_t> edges;
    // blocked_on_process, no_waker: the edge the chain's last owner waits in when the chain has
    // already passed it (the waits form a loop); unset when that owner waits in no edge, and for
    // the other reasons.
    std::optional<std::size_t> loops_back_to;
    // The process the verdict is about (a namespace pid): the orphaned lock's waiter, the first
    // waiter of the cycle, the last waiter of the chain; 0 for an empty graph.
    pid_t culprit_pid = 0;
};

// The reason, by precedence: an orphaned lock (its owner does not exist in the waiter's process)
// before a cycle of threads waiting for each other's locks, a cycle before a chain of waits. A
// chain whose last wait is on an object nobody owns (a semaphore, a barrier, a condition
// variable, a join) or for a signal nobody sends is no_waker; any other chain (its last wait is on
// a process: a child, a pipe's writer, a file lock's holder) is blocked_on_process.
ReasonChoice choose_reason(const std::vector<WaitEdge>& graph);

} // namespace forklore
