// Which deadlock a wait-for graph shows: the orphan, the lock cycle or the chain of waits, and
// where the chain ends. See choose_reason.hpp.
#include "sim/verdict/choose_reason.hpp"

#include <algorithm>

namespace forklore {

namespace {

// ---- orphaned lock ----

std::optional<std::size_t> first_orphaned_edge(const std::vector<WaitEdge>& graph) {
    auto orphan = std::find_if(graph.begin(), graph.end(),
                               [](const WaitEdge& edge) { return edge.orphaned; });
    if (orphan == graph.end())
        return std::nullopt;
    return static_cast<std::size_t>(orphan - graph.begin());
}

// ---- cycle ----

// The lock edge of the thread `tid`, if it waits for a lock with a known owner.
std::optional<std::size_t> owned_lock_wait_of(const std::vector<WaitEdge>& graph, pid_t tid) {
    for (std::size_t i = 0; i < graph.size(); ++i)
        if (graph[i].kind == WaitEdge::Kind::lock && graph[i].owner_tid != 0 &&
            graph[i].waiter_tid == tid)
            return i;
    return std::nullopt;
}

// Edges waiter -> owner -> owner's own wait ... that come back to where they started.
std::vector<std::size_t> find_lock_cycle(const std::vector<WaitEdge>& graph) {
    for (std::size_t start = 0; start < graph.size(); ++start) {
        if (graph[start].kind != WaitEdge::Kind::lock || graph[start].owner_tid == 0)
            continue;
        std::vector<std::size_t> path{start};
        while (auto next = owned_lock_wait_of(graph, graph[path.back()].owner_tid)) {
            if (*next == start)
                return path;
            if (std::find(path.begin(), path.end(), *next) != path.end())
                break;
            path.push_back(*next);
        }
    }
    return {};
}

// ---- chain of waits ----

// The edge of the main thread of the lowest pid (the scenario's main process) if it waits.
std::size_t chain_start(const std::vector<WaitEdge>& graph) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < graph.size(); ++i) {
        const WaitEdge& edge = graph[i];
        bool lower_pid = edge.waiter_pid < graph[best].waiter_pid;
        bool main_thread_of_same =
            edge.waiter_pid == graph[best].waiter_pid && edge.waiter_tid == edge.waiter_pid;
        if (lower_pid || main_thread_of_same)
            best = i;
    }
    return best;
}

// What the waited-for thread or process itself waits for (never the edge itself: a reader
// holding its own pipe's write end waits on its own process).
std::optional<std::size_t> next_in_chain(const std::vector<WaitEdge>& graph, std::size_t current) {
    const WaitEdge& edge = graph[current];
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < graph.size(); ++i) {
        const WaitEdge& next = graph[i];
        if (i == current)
            continue;
        if (edge.owner_tid != 0) {
            if (next.waiter_tid == edge.owner_tid)
                return i;
        } else if (edge.owner_pid != 0 && next.waiter_pid == edge.owner_pid) {
            if (next.waiter_tid == next.waiter_pid)
                return i; // prefer the process's main thread
            if (!found)
                found = i;
        }
    }
    return found;
}

ReasonChoice chain_of_waits(const std::vector<WaitEdge>& graph) {
    ReasonChoice choice;
    choice.reason = DeadlockReason::blocked_on_process;
    if (graph.empty())
        return choice;
    std::vector<bool> passed(graph.size(), false);
    choice.edges.push_back(chain_start(graph));
    passed[choice.edges.front()] = true;
    while (auto next = next_in_chain(graph, choice.edges.back())) {
        if (passed[*next]) {
            choice.loops_back_to = next;
            break;
        }
        choice.edges.push_back(*next);
        passed[*next] = true;
    }
    // The chain ends where the cause is: a wait on a process (a child, a pipe, a file lock), or
    // a wait on an object nobody owns and nobody left can signal.
    // A signal wait nobody left can signal has no waker either.
    const WaitEdge& innermost = graph[choice.edges.back()];
    bool ownerless = (innermost.kind == WaitEdge::Kind::lock && innermost.owner_tid == 0) ||
                     innermost.kind == WaitEdge::Kind::signal;
    if (ownerless)
        choice.reason = DeadlockReason::no_waker;
    choice.culprit_pid = innermost.waiter_pid;
    return choice;
}

} // namespace

ReasonChoice choose_reason(const std::vector<WaitEdge>& graph) {
    if (auto orphan = first_orphaned_edge(graph)) {
        ReasonChoice choice;
        choice.reason = DeadlockReason::orphaned_lock;
        choice.edges = {*orphan};
        choice.culprit_pid = graph[*orphan].waiter_pid;
        return choice;
    }
    if (std::vector<std::size_t> cycle = find_lock_cycle(graph); !cycle.empty()) {
        ReasonChoice choice;
        choice.reason = DeadlockReason::cycle;
        choice.culprit_pid = graph[cycle.front()].waiter_pid;
        choice.edges = std::move(cycle);
        return choice;
    }
    return chain_of_waits(graph);
}

} // namespace forklore
