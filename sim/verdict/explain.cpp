// Why a deadlocked run can never finish, and why a run that timed out could not be judged, in
// sentences a student understands. Which deadlock it is was decided by choose_reason.cpp; this
// file only writes the sentences for it.
//
// Index of this file:
// [SECTION] Pieces every deadlock sentence shares
// [SECTION] Orphaned lock
// [SECTION] Cycle
// [SECTION] A chain of waits: blocked on process, no waker
// [SECTION] Beside the deadlock: earlier endings and the live threads
// [SECTION] The deadlock explanation
// [SECTION] The timeout explanation
#include "sim/verdict/explain.hpp"

#include "sim/protocol/start_method.hpp"
#include "sim/verdict/choose_reason.hpp"
#include "sim/verdict/thread_names.hpp"
#include "sim/verdict/verdict.hpp"

#include <fmt/format.h>

#include <sys/wait.h>

#include <algorithm>

namespace forklore {

namespace {

// ---------------------------------------------------------------------------------------------
// [SECTION] Pieces every deadlock sentence shares
// ---------------------------------------------------------------------------------------------

// "lock 'file_lock' (0x55d0c0a0)", or "the lock at 0x55d0c0a0".
std::string lock_with_address(const WaitEdge& edge) {
    if (edge.lock_name.empty())
        return lock_label(edge);
    return fmt::format("{} ({:#x})", lock_label(edge), edge.address);
}

// "'left'", or "the lock at 0x55d0c0a0".
std::string short_lock_label(const WaitEdge& edge) {
    if (edge.lock_name.empty())
        return lock_label(edge);
    return fmt::format("'{}'", edge.lock_name);
}

// Appends what the main sentences did not mention, so the whole graph stays visible.
void append_other_waits(std::string& text, const std::vector<WaitEdge>& graph,
                        const std::vector<bool>& mentioned) {
    std::vector<std::string> others;
    for (std::size_t i = 0; i < graph.size(); ++i)
        if (!mentioned[i])
            others.push_back(graph[i].description);
    if (!others.empty())
        text += fmt::format(" Other waits: {}.", fmt::join(others, "; "));
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Orphaned lock
// ---------------------------------------------------------------------------------------------

std::string copied_the_lock(const Event* made) {
    return fmt::format("{} copied the lock in its locked state but not the thread that would "
                       "have unlocked it",
                       copy_call_that_made(made));
}

// "the child was made by fork() from process 2 at 3.1 ms"
std::string how_child_was_made(const Event& made, std::int64_t run_start_ns) {
    auto method = static_cast<StartMethod>(made.arg0);
    std::string when = time_in_run(run_start_ns, made.time_ns);
    if (method == StartMethod::fork)
        return fmt::format("the child was made by {} from process {} at {}",
                           copy_call_name(made.arg1), made.pid, when);
    if (method == StartMethod::forkserver)
        return fmt::format("the child was forked by the fork server (process {}) at {}", made.pid,
                           when);
    return fmt::format("the child was started by {} from process {} at {}", to_string(method),
                       made.pid, when);
}

// The waiter's parent by /proc (namespace pid), 0 when unknown or the sandbox's reaper (which
// adopts orphans: it is nobody's maker).
pid_t parent_by_proc(const Snapshot& snapshot, pid_t ns_pid) {
    for (const auto& process : snapshot.processes) {
        if (process.ns_pid != ns_pid || process.infrastructure)
            continue;
        const ProcessSnapshot* parent = snapshot.find_process(process.ppid);
        return parent && !parent->infrastructure ? parent->ns_pid : 0;
    }
    return 0;
}

std::string orphan_owner_sentence(const WaitEdge& edge, const std::vector<Event>& events,
                                  std::int64_t run_start_ns, pid_t waiter_parent) {
    std::string owner = thread_phrase(edge.owner_thread, edge.owner_tid);
    const Event* made = child_start_of(events, edge.waiter_pid);
    bool forked = made && copies_memory(static_cast<StartMethod>(made->arg0));
    if (edge.owner_exists && !made) {
        // Nothing recorded how the waiter was made (an uninstrumented program): say what /proc
        // shows, and what follows if it was a fork.
        std::string where =
            fmt::format("Its owner is {}, which exists only in process {}", owner, edge.owner_pid);
        if (waiter_parent == edge.owner_pid)
            return fmt::format(
                "{}, the parent of process {} (as /proc shows; nothing recorded how it was made). "
                "A child made by fork() while the lock was held starts with it locked: {}.",
                where, edge.waiter_pid, copied_the_lock(nullptr));
        return fmt::format(
            "{}. Nothing recorded how the two processes came to share the lock: fork() copies a "
            "held lock without its owner, and memory shared between processes shares it with "
            "an owner that may never release it.",
            where);
    }
    if (edge.owner_exists) {
        std::string where =
            fmt::format("Its owner is {}, which exists only in process {}", owner, edge.owner_pid);
        if (forked && made->tid == edge.owner_tid)
            return fmt::format(
                "{}: that is the very thread that called {} at {}, holding the lock itself. "
                "The child runs on a copy of it with a new id (tid {}), and the lock word still "
                "names the parent's thread, so not even a recursive lock lets the child back in.",
                where, copy_call_that_made(made), time_in_run(run_start_ns, made->time_ns),
                edge.waiter_tid);
        if (forked)
            return fmt::format("{}: {}, and {}.", where, how_child_was_made(*made, run_start_ns),
                               copied_the_lock(made));
        if (made) // a fresh program: the lock can only be in memory both processes share
            return fmt::format("{}: {}, so the lock lives in memory shared with process {}.", where,
                               how_child_was_made(*made, run_start_ns), edge.owner_pid);
        return fmt::format("{}: {}.", where, copied_the_lock(made));
    }
    pid_t home = recorded_pid_of_thread(events, edge.owner_tid);
    if (forked && home != 0 && home != edge.waiter_pid)
        return fmt::format("Its owner, {}, stayed behind in process {} when this child was "
                           "forked at {}, and has since exited: {}.",
                           owner, home, time_in_run(run_start_ns, made->time_ns),
                           copied_the_lock(made));
    // The owner's whole process may have died (killed while holding a lock in shared memory).
    const Event* died = home == 0 ? nullptr : latest_event(events, [&](const Event& e) {
        return e.kind == EventKind::process_exit && e.object == static_cast<std::uint64_t>(home);
    });
    if (died && home != edge.waiter_pid) {
        const WaitStatus ending = WaitStatus::from_raw(static_cast<int>(died->arg0));
        return fmt::format(
            "Its owner, {} of process {}, died holding the lock: process {} {}. A normal mutex "
            "keeps naming its dead owner, so nobody can ever unlock it (a robust mutex would "
            "have told the next locker, with EOWNERDEAD).",
            owner, home, home, ending.killed() ? "was " + ending.text() : ending.text());
    }
    if (home == 0)
        return fmt::format("Its owner, {}, no longer exists in the sandbox: it exited (or its "
                           "process did) while holding the lock, so nobody can ever unlock it.",
                           owner);
    return fmt::format(
        "Its owner, {}, exited while holding the lock, so nobody can ever unlock it.", owner);
}

std::string orphaned_lock_text(const std::vector<WaitEdge>& graph, std::size_t root,
                               const std::vector<Event>& events, std::int64_t run_start_ns,
                               const Snapshot& snapshot) {
    const WaitEdge& edge = graph[root];
    std::vector<bool> mentioned(graph.size(), false);
    mentioned[root] = true;
    pid_t waiter_parent = parent_by_proc(snapshot, edge.waiter_pid);
    std::string process = fmt::format("process {}", edge.waiter_pid);
    if (child_start_of(events, edge.waiter_pid))
        process = fmt::format("child process {}", edge.waiter_pid);
    else if (waiter_parent != 0)
        process = fmt::format("process {} (a child of process {})", edge.waiter_pid, waiter_parent);
    std::string text = fmt::format(
        "Deadlocked: orphaned lock. {} of {} waits forever for {}. {}",
        capitalized(thread_phrase(edge.waiter_thread, edge.waiter_tid)), process,
        lock_with_address(edge), orphan_owner_sentence(edge, events, run_start_ns, waiter_parent));
    // The parent usually waits for the stuck child: that is why the whole run hangs.
    for (std::size_t i = 0; i < graph.size(); ++i) {
        if (graph[i].kind == WaitEdge::Kind::child && graph[i].owner_pid == edge.waiter_pid) {
            text += fmt::format(" Process {} waits for child {}.", graph[i].waiter_pid,
                                edge.waiter_pid);
            mentioned[i] = true;
        }
    }
    append_other_waits(text, graph, mentioned);
    return text;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Cycle
// ---------------------------------------------------------------------------------------------

std::string_view cycle_consequence(std::size_t threads) {
    if (threads == 1)
        return "It locked a mutex it already holds, so it waits for itself: a normal mutex is not "
               "recursive.";
    if (threads == 2)
        return "Each waits for the lock the other holds, so neither can ever continue.";
    return "Each waits for a lock the next one holds, so none can ever continue.";
}

std::string cycle_text(const std::vector<WaitEdge>& graph, const std::vector<std::size_t>& cycle) {
    bool across_processes = std::any_of(cycle.begin(), cycle.end(), [&](std::size_t i) {
        return graph[i].waiter_pid != graph[cycle.front()].waiter_pid;
    });
    std::vector<std::string> links;
    std::vector<bool> mentioned(graph.size(), false);
    for (std::size_t k = 0; k < cycle.size(); ++k) {
        const WaitEdge& edge = graph[cycle[k]];
        // Each thread holds the lock the previous one in the cycle waits for.
        const WaitEdge& previous = graph[cycle[(k + cycle.size() - 1) % cycle.size()]];
        std::string thread = across_processes ? waiter_phrase(edge)
                                              : thread_phrase(edge.waiter_thread, edge.waiter_tid);
        links.push_back(fmt::format("{} holds {} and waits for {}", thread,
                                    short_lock_label(previous), short_lock_label(edge)));
        mentioned[cycle[k]] = true;
    }
    std::string text = fmt::format("Deadlocked: cycle. {}. {}",
                                   capitalized(fmt::format("{}", fmt::join(links, "; "))),
                                   cycle_consequence(cycle.size()));
    append_other_waits(text, graph, mentioned);
    return text;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] A chain of waits: blocked on process, no waker
// ---------------------------------------------------------------------------------------------

// " Process 4 is a copy: the child was made by fork() from process 2 at 3.1 ms, ..." for the
// innermost waiter of a chain when it waits on a lock and the trace shows its process was made by
// copying another's memory: the lock word it waits on is a copy too, taken before the fork.
std::string copied_process_sentence(const WaitEdge& innermost, const std::vector<Event>& events,
                                    std::int64_t run_start_ns) {
    if (innermost.kind != WaitEdge::Kind::lock)
        return "";
    const Event* made = child_start_of(events, innermost.waiter_pid);
    if (!made || !copies_memory(static_cast<StartMethod>(made->arg0)))
        return "";
    return fmt::format(" Process {} is a copy: {}, and a copy gets every lock word as it was at "
                       "that instant but only the thread that made the copy, so a lock another "
                       "thread was inside stays taken in it.",
                       innermost.waiter_pid, how_child_was_made(*made, run_start_ns));
}

std::string chain_text(const std::vector<WaitEdge>& graph, const ReasonChoice& choice,
                       const std::vector<Event>& events, std::int64_t run_start_ns) {
    if (graph.empty())
        return "Deadlocked: blocked on process. Every thread is blocked, but none of the waits "
               "could be identified.";
    const std::vector<std::size_t>& chain = choice.edges;
    std::vector<bool> mentioned(graph.size(), false);
    std::vector<std::string> steps;
    for (std::size_t i : chain) {
        steps.push_back(capitalized(graph[i].description));
        mentioned[i] = true;
    }
    const WaitEdge& innermost = graph[chain.back()];
    std::string ending =
        choice.loops_back_to
            ? fmt::format("That leads back to {}: they wait on each other, so none can finish.",
                          waiter_phrase(graph[*choice.loops_back_to]))
            : fmt::format("Nothing can wake {}, so none of them can finish.",
                          waiter_phrase(innermost));
    std::string text =
        fmt::format("Deadlocked: {}. {}. {}",
                    choice.reason == DeadlockReason::no_waker ? "no waker" : "blocked on process",
                    fmt::join(steps, ". "), ending);
    text += copied_process_sentence(innermost, events, run_start_ns);
    append_other_waits(text, graph, mentioned);
    return text;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Beside the deadlock: earlier endings and the live threads
// ---------------------------------------------------------------------------------------------

// "process 3 (child 'worker') was killed by SIGKILL", or "" for a clean exit.
std::string abnormal_ending(const std::vector<Event>& events, pid_t pid, WaitStatus status) {
    if (status.killed())
        return fmt::format(
            "{} was killed by {}{}", process_label(events, pid), signal_name(status.fatal_signal()),
            death_was_intended(events, pid, status.fatal_signal()) ? " (sent by the scenario)"
                                                                   : "");
    if (status.exited() && status.exit_code() != 0)
        return fmt::format("{} exited with code {}", process_label(events, pid),
                           status.exit_code());
    return {};
}

// " Before the hang, process 3 (child 'worker') was killed by SIGKILL." A process that died or
// failed earlier is often the cause of the hang (the pool whose worker was killed waits for its
// result forever), and it appears in no wait. Reaped processes come from the trace; one nobody
// waited for is still a zombie in the snapshot, with its wait status in /proc/PID/stat.
std::string earlier_endings(const Snapshot& snapshot, const std::vector<Event>& events) {
    std::vector<std::string> endings;
    std::vector<pid_t> told;
    for (const auto& event : events) {
        if (event.kind != EventKind::process_exit)
            continue;
        auto pid = static_cast<pid_t>(event.object);
        if (std::find(told.begin(), told.end(), pid) != told.end())
            continue;
        told.push_back(pid);
        if (auto ending =
                abnormal_ending(events, pid, WaitStatus::from_raw(static_cast<int>(event.arg0)));
            !ending.empty())
            endings.push_back(ending);
    }
    for (const auto& process : snapshot.processes) {
        if (process.infrastructure || process.state != 'Z' ||
            std::find(told.begin(), told.end(), process.ns_pid) != told.end())
            continue;
        if (auto ending =
                abnormal_ending(events, process.ns_pid, WaitStatus::from_raw(process.exit_code));
            !ending.empty())
            endings.push_back(ending + ", and nobody has waited for it yet");
    }
    if (endings.empty())
        return {};
    return fmt::format(" Before the hang, {}.", fmt::join(endings, "; "));
}

// " Still running beside the stuck threads: thread 'chatter' (tid 3) of process 2 runs; ...
// None of them can help: ..." Real programs are never quiet: the live threads are named with
// why they cannot wake the stuck ones.
std::string live_threads_sentence(const Verdict& verdict) {
    if (verdict.live.empty())
        return {};
    constexpr std::size_t kNamed = 6;
    std::vector<std::string> named;
    for (std::size_t i = 0; i < verdict.live.size() && i < kNamed; ++i) {
        const ThreadState& thread = verdict.live[i];
        named.push_back(fmt::format("{} of process {} {}", thread_phrase(thread.name, thread.tid),
                                    thread.pid, thread.wait));
    }
    if (verdict.live.size() > kNamed)
        named.push_back(fmt::format("{} more", verdict.live.size() - kNamed));
    std::vector<pid_t> stuck_processes;
    for (const auto& thread : verdict.stuck)
        if (std::find(stuck_processes.begin(), stuck_processes.end(), thread.pid) ==
            stuck_processes.end())
            stuck_processes.push_back(thread.pid);
    std::string why;
    const WaitEdge* orphan = nullptr;
    for (const auto& edge : verdict.wait_for)
        if (edge.orphaned && edge.owner_exists)
            orphan = &edge;
    bool owner_live =
        orphan && std::any_of(verdict.live.begin(), verdict.live.end(),
                              [&](const ThreadState& t) { return t.tid == orphan->owner_tid; });
    if (owner_live)
        why = fmt::format(" {} is still alive in process {}, but it cannot release a lock that "
                          "exists, in process {}, only as a copy; and every thread of process {} "
                          "is stuck.",
                          capitalized(thread_phrase(orphan->owner_thread, orphan->owner_tid)),
                          orphan->owner_pid, orphan->waiter_pid, orphan->waiter_pid);
    else
        why = fmt::format(" None of them can wake the stuck threads: each stuck thread waits on "
                          "something only stuck threads could release or signal (process{} {}).",
                          stuck_processes.size() > 1 ? "es" : "", pid_list(stuck_processes));
    return fmt::format(" Still running beside the {} stuck thread{}: {}.{}", verdict.stuck.size(),
                       verdict.stuck.size() == 1 ? "" : "s", fmt::join(named, "; "), why);
}

// ---------------------------------------------------------------------------------------------
// [SECTION] The deadlock explanation
// ---------------------------------------------------------------------------------------------

// The verdict for the reason choose_reason finds in the graph, with its sentences.
Verdict explain_wait_for_graph(const Snapshot& snapshot, const std::vector<Event>& events,
                               std::int64_t run_start_ns, const std::vector<ThreadStack>& stacks,
                               const StuckSet& stuck) {
    Verdict verdict;
    verdict.kind = VerdictKind::deadlocked;
    verdict.wait_for = build_wait_for_graph(snapshot, events, stacks, &stuck);
    const std::vector<WaitEdge>& graph = verdict.wait_for;
    const ReasonChoice choice = choose_reason(graph);
    verdict.reason = choice.reason;
    verdict.culprit_pid = choice.culprit_pid;
    switch (choice.reason) {
    case DeadlockReason::orphaned_lock:
        verdict.explanation =
            orphaned_lock_text(graph, choice.edges.front(), events, run_start_ns, snapshot);
        break;
    case DeadlockReason::cycle:
        verdict.explanation = cycle_text(graph, choice.edges);
        break;
    case DeadlockReason::blocked_on_process:
    case DeadlockReason::no_waker:
        verdict.explanation = chain_text(graph, choice, events, run_start_ns);
        break;
    }
    return verdict;
}

// "waits on barrier 'finished' at 0x7ffd10 (its futex word is at 0x7ffd14)": a listed thread's
// futex wait named by the object its pending wait event names, at the address the events and the
// graph use; "" when the trace names no object for it (then /proc's futex word is all there is).
std::string object_wait_text(const ThreadSnapshot& thread, const std::vector<Event>& events) {
    if (thread.wait != WaitKind::futex || thread.futex_address == 0)
        return {};
    const Event* pending = pending_wait_of(events, thread.ns_tid);
    if (!pending || pending->kind == EventKind::join_wait ||
        !futex_belongs_to(*pending, thread.futex_address))
        return {};
    std::string kind = "lock";
    if (pending->kind == EventKind::barrier_wait)
        kind = "barrier";
    else if (pending->kind == EventKind::cond_wait)
        kind = "condition variable";
    else
        kind = std::string(to_string(static_cast<LockKind>(pending->arg0)));
    if (kind.starts_with("rwlock"))
        kind = "rwlock";
    std::string name(field_text(pending->name));
    std::string text = name.empty()
                           ? fmt::format("waits on a {} at {:#x}", kind, pending->object)
                           : fmt::format("waits on {} '{}' at {:#x}", kind, name, pending->object);
    if (thread.futex_address != pending->object)
        text += fmt::format(" (its futex word is at {:#x})", thread.futex_address);
    return text;
}

// The member's `doing` with its futex named as the object it belongs to: the stuck set words
// what /proc shows ("waits on the private futex at 0x...4"), the trace knows what it is.
std::string named_doing(const StuckSet::Member& member, const std::vector<Event>& events) {
    std::string named = object_wait_text(*member.thread, events);
    if (named.empty())
        return member.doing;
    // Keep what the stuck set said after the wait itself ("(a live thread can wake it)").
    const std::string futex_words = fmt::format(" futex at {:#x}", member.thread->futex_address);
    auto at = member.doing.find(futex_words);
    if (at == std::string::npos)
        return named;
    return named + member.doing.substr(at + futex_words.size());
}

} // namespace

Verdict explain_deadlock(const Snapshot& sampled, const std::vector<Event>& events,
                         std::int64_t run_start_ns, const std::vector<ThreadStack>& stacks) {
    // Names a student can tell apart: not 'python3' for every thread of an uninstrumented program.
    // A Python thread goes by its threading name ("printer") where its stack read one.
    const Snapshot snapshot = with_readable_thread_names(with_python_thread_names(sampled, stacks));
    StuckSet stuck = find_stuck_threads(snapshot);
    Verdict verdict = explain_wait_for_graph(snapshot, events, run_start_ns, stacks, stuck);
    auto state_of = [&](const StuckSet::Member& member) {
        return ThreadState{member.process->ns_pid, member.thread->ns_tid, member.thread->name,
                           named_doing(member, events)};
    };
    for (const auto& member : stuck.stuck)
        verdict.stuck.push_back(state_of(member));
    if (!stuck.empty())
        for (const auto& member : stuck.live)
            verdict.live.push_back(state_of(member));
    verdict.explanation += live_threads_sentence(verdict);
    verdict.explanation += earlier_endings(snapshot, events);
    return verdict;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] The timeout explanation
// ---------------------------------------------------------------------------------------------

namespace {

// "'main' (tid 4) of process 4 spins on spin lock 'ready' since 2.1 ms, last taken by ..."
std::optional<std::string> spin_description(const ProcessSnapshot& process,
                                            const ThreadSnapshot& thread,
                                            const std::vector<Event>& events,
                                            std::int64_t run_start_ns) {
    const Event* pending = pending_wait_of(events, thread.ns_tid);
    if (thread.wait != WaitKind::running || !pending || pending->kind != EventKind::lock_wait ||
        static_cast<LockKind>(pending->arg0) != LockKind::spin)
        return std::nullopt;
    std::string text = fmt::format(
        "{} of process {} has been spinning on spin lock '{}' since {}, running on the CPU the "
        "whole time",
        thread_phrase(thread.name, thread.ns_tid), process.ns_pid, field_text(pending->name),
        time_in_run(run_start_ns, pending->time_ns));
    const Event* taken = latest_event(events, [&](const Event& e) {
        return e.object == pending->object &&
               (e.kind == EventKind::lock_acquired || e.kind == EventKind::lock_released);
    });
    if (taken && taken->kind == EventKind::lock_acquired)
        text +=
            fmt::format(" (the trace shows it was last taken by {} in process {}{})",
                        thread_phrase(field_text(taken->thread), taken->tid), taken->pid,
                        taken->pid != process.ns_pid ? ", before the fork that made this one" : "");
    return text;
}

} // namespace

std::string explain_timeout(const Snapshot& sampled, const std::vector<Event>& events,
                            std::int64_t run_start_ns, double timeout_seconds) {
    const Snapshot snapshot = with_readable_thread_names(sampled);
    std::vector<std::string> spinning, activity;
    for (const auto& process : snapshot.processes) {
        if (process.infrastructure)
            continue;
        for (const auto& thread : process.threads) {
            if (auto spin = spin_description(process, thread, events, run_start_ns))
                spinning.push_back(*spin);
            bool plain = thread.wait == WaitKind::running || thread.untimed;
            activity.push_back(fmt::format("'{}' (tid {}) of process {}: {}{}", thread.name,
                                           thread.ns_tid, process.ns_pid, to_string(thread.wait),
                                           plain ? "" : " (timed or unknown)"));
        }
    }
    std::string text =
        fmt::format("Timed out after {:g} s without proof of a deadlock", timeout_seconds);
    if (!spinning.empty())
        text += fmt::format(
            ". {}. A spin lock never sleeps, so the kernel never shows its waiter blocked: the "
            "hang looks like work, and only the deadline ends it",
            capitalized(fmt::format("{}", fmt::join(spinning, "; "))));
    else
        text += " (a spin, a sleep loop or a wait forklore cannot see through)";
    text += fmt::format(". Threads: {}.", activity.empty()
                                              ? std::string("no scenario thread was alive")
                                              : fmt::format("{}", fmt::join(activity, "; ")));
    return text;
}

} // namespace forklore
