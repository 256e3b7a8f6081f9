// The verdict engine's state machine: which threads are blocked, the deadlock detector, and the
// judgement of exit statuses. The wait-for graph is built in wait_for_graph.cpp, the deadlock's
// reason chosen in choose_reason.cpp, and its sentences written in explain.cpp.
//
// Index of this file:
// [SECTION] Blocked threads
// [SECTION] The detector
// [SECTION] Exits
#include "sim/verdict/verdict.hpp"

#include "sim/verdict/explain.hpp"
#include "sim/verdict/snapshot_queries.hpp"

#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <set>

namespace forklore {

// ---------------------------------------------------------------------------------------------
// [SECTION] Blocked threads
// ---------------------------------------------------------------------------------------------

bool is_untimed_block(const ThreadSnapshot& thread) {
    switch (thread.wait) {
    case WaitKind::futex:
    case WaitKind::file_lock:
    case WaitKind::child:
    case WaitKind::pipe:
    case WaitKind::poll:
    case WaitKind::signal:
        return thread.untimed;
    default:
        return false; // running, sleeping, stopped, unclassified or gone: never proof
    }
}

bool all_threads_blocked(const Snapshot& snapshot) {
    int blocked = 0;
    bool any_can_progress = false;
    for_each_scenario_thread(snapshot, [&](const ProcessSnapshot&, const ThreadSnapshot& thread) {
        if (is_untimed_block(thread))
            ++blocked;
        else
            any_can_progress = true;
    });
    return blocked > 0 && !any_can_progress;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] The detector
// ---------------------------------------------------------------------------------------------

bool has_structural_orphan(const StuckSet& stuck) {
    // The owner must be alive in another process (the fork case). An owner that has just died
    // is not enough: a robust mutex's waiter is woken by the kernel as its owner exits, a moment
    // after a sample may have seen the owner gone; the full window judges that case.
    return std::any_of(stuck.stuck.begin(), stuck.stuck.end(), [](const StuckSet::Member& m) {
        const ThreadSnapshot& thread = *m.thread;
        return thread.wait == WaitKind::futex && thread.untimed && thread.futex_private &&
               thread.owner_ns_tid && *thread.owner_ns_tid > 0 && thread.owner_tid != 0 &&
               !has_live_thread(*m.process, *thread.owner_ns_tid);
    });
}

bool DeadlockDetector::observe(const Snapshot& snapshot, const StuckSet& stuck,
                               const std::vector<Event>& events) {
    if (stuck.empty()) {
        reset();
        events_read_ = events.size();
        return false;
    }
    std::string signature = stuck.signature();
    // Any sign of life in the stuck set (a different set, a thread scheduled or spending CPU
    // time, an event it recorded) means it could still be moving: prove again from here.
    bool moved = quiet_samples_ == 0 || signature != signature_;
    for (const auto& member : stuck.stuck) {
        const ThreadSnapshot& thread = *member.thread;
        auto known = activity_.find(thread.tid);
        Activity now{thread.cpu_ticks, thread.run_ns, thread.run_slices};
        if (known == activity_.end() || !(known->second == now))
            moved = true;
    }
    for (std::size_t i = events_read_; i < events.size() && !moved; ++i)
        if (std::find(stuck_ns_tids_.begin(), stuck_ns_tids_.end(), events[i].tid) !=
            stuck_ns_tids_.end())
            moved = true;
    events_read_ = events.size();
    if (moved) {
        quiet_samples_ = 1;
        quiet_since_ns_ = snapshot.time_ns;
        signature_ = std::move(signature);
        activity_.clear();
        stuck_ns_tids_.clear();
        for (const auto& member : stuck.stuck) {
            const ThreadSnapshot& thread = *member.thread;
            activity_[thread.tid] = {thread.cpu_ticks, thread.run_ns, thread.run_slices};
            stuck_ns_tids_.push_back(thread.ns_tid);
        }
        return false;
    }
    ++quiet_samples_;
    if (quiet_samples_ >= settings_.structural_samples && has_structural_orphan(stuck))
        return true;
    return quiet_samples_ >= settings_.min_samples &&
           snapshot.time_ns - quiet_since_ns_ >= settings_.min_quiet_ns;
}

void DeadlockDetector::reset() {
    quiet_since_ns_ = 0;
    quiet_samples_ = 0;
    signature_.clear();
    activity_.clear();
    stuck_ns_tids_.clear();
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Exits
// ---------------------------------------------------------------------------------------------

namespace {

// One reaped process: its namespace pid and raw wait status.
struct ProcessEnd {
    pid_t pid = 0;
    WaitStatus status;

    bool killed() const { return status.killed(); }
    int signal() const { return status.fatal_signal(); }
    int exit_code() const { return status.exited() ? status.exit_code() : 0; }
};

// A process can be reported twice (by the parent's wait and by the reaper): keep the first.
std::vector<ProcessEnd> reaped_processes(const std::vector<Event>& events) {
    std::vector<ProcessEnd> ends;
    std::set<pid_t> seen;
    for (const auto& event : events) {
        if (event.kind != EventKind::process_exit)
            continue;
        auto pid = static_cast<pid_t>(event.object);
        if (seen.insert(pid).second)
            ends.push_back({pid, WaitStatus::from_raw(static_cast<int>(event.arg0))});
    }
    return ends;
}

bool is_limit_signal(int signal) {
    return signal == SIGXCPU || signal == SIGXFSZ;
}

std::string_view limit_reason(int signal) {
    return signal == SIGXCPU ? "it used more CPU time than the sandbox allows"
                             : "it wrote a file larger than the sandbox allows";
}

Verdict verdict_of(VerdictKind kind, std::string explanation, pid_t culprit) {
    Verdict verdict;
    verdict.kind = kind;
    verdict.explanation = std::move(explanation);
    verdict.culprit_pid = culprit;
    return verdict;
}

Verdict limit_verdict(pid_t pid, std::string_view label, int signal) {
    Verdict verdict = verdict_of(VerdictKind::limit,
                                 fmt::format("Limit: {} was killed by {}: {}.", label,
                                             signal_name(signal), limit_reason(signal)),
                                 pid);
    verdict.signal = signal;
    verdict.limit = signal == SIGXCPU ? "cpu time" : "file size";
    return verdict;
}

// " Its last output: 'task 3 raised ...'." from the process's latest output or note event: the
// scenario's own words usually say what went wrong.
std::string last_words(const std::vector<Event>& events, pid_t pid) {
    auto found = std::find_if(events.rbegin(), events.rend(), [&](const Event& e) {
        return e.pid == pid && (e.kind == EventKind::output || e.kind == EventKind::note) &&
               e.text[0] != '\0';
    });
    if (found == events.rend())
        return {};
    std::string_view text = field_text(found->text);
    bool cut = text.size() == sizeof found->text - 1; // the event's text field was full
    return fmt::format(" Its last {}: '{}{}'.", found->kind == EventKind::note ? "note" : "output",
                       text, cut ? "..." : "");
}

Verdict crash_verdict(const std::vector<Event>& events, pid_t pid, std::string_view label,
                      int signal) {
    Verdict verdict = verdict_of(VerdictKind::crashed,
                                 fmt::format("Crashed: {} was killed by {}.{}", label,
                                             signal_name(signal), last_words(events, pid)),
                                 pid);
    verdict.signal = signal;
    verdict.limit = signal == SIGXCPU ? "cpu time" : "file size";
    return verdict;
}

Verdict failure_verdict(const std::vector<Event>& events, pid_t pid, std::string_view label,
                        int code) {
    Verdict verdict = verdict_of(
        VerdictKind::failed,
        fmt::format("Failed: {} exited with code {}.{}", label, code, last_words(events, pid)),
        pid);
    verdict.exit_code = code;
    return verdict;
}

Verdict completion_verdict(const std::vector<Event>& events, const std::vector<ProcessEnd>& ends) {
    std::vector<std::string> intended_kills;
    for (const auto& end : ends)
        if (end.killed())
            intended_kills.push_back(fmt::format("{} was killed by {} on purpose",
                                                 process_label(events, end.pid),
                                                 signal_name(end.signal())));
    std::size_t clean = ends.size() - intended_kills.size();
    std::string exited_cleanly;
    if (clean == 1 && ends.size() == 1)
        exited_cleanly = "the process exited with code 0";
    else if (clean == ends.size())
        exited_cleanly = fmt::format("all {} processes exited with code 0", clean);
    else if (clean > 0)
        exited_cleanly =
            fmt::format("{} process{} exited with code 0", clean, clean == 1 ? "" : "es");
    if (!intended_kills.empty() && !exited_cleanly.empty())
        exited_cleanly += "; ";
    return verdict_of(
        VerdictKind::completed,
        fmt::format("Completed: {}{}.", exited_cleanly, fmt::join(intended_kills, "; ")), 0);
}

// Without any process_exit event the host's status stands for the scenario's main process:
// the host exits with its code, or with 128 + the signal that killed it.
Verdict judge_host_status(const std::vector<Event>& events, int host_status) {
    const Event* main_start = first_event_of_kind(events, EventKind::process_start);
    pid_t main_pid = main_start ? main_start->pid : 0;
    std::string label = main_pid ? process_label(events, main_pid) : "the scenario";
    const WaitStatus status = WaitStatus::from_raw(host_status);
    int code = status.exited() ? status.exit_code() : 0;
    // The host passes its main process's death on as an exit code of 128 + the signal.
    int signal = status.fatal_signal();
    if (status.exited() && code > 128 && code < 128 + NSIG)
        signal = code - 128;
    if (signal && is_limit_signal(signal))
        return limit_verdict(main_pid, label, signal);
    if (signal && !death_was_intended(events, main_pid, signal))
        return crash_verdict(events, main_pid, label, signal);
    if (!signal && code != 0)
        return failure_verdict(events, main_pid, label, code);
    return verdict_of(
        VerdictKind::completed,
        fmt::format("Completed: {} {}.", label, WaitStatus::from_raw(host_status).text()), 0);
}

} // namespace

Verdict judge_exits(const std::vector<Event>& events, int host_status) {
    std::vector<ProcessEnd> ends = reaped_processes(events);
    if (ends.empty())
        return judge_host_status(events, host_status);

    auto unintended_death = [&](const ProcessEnd& end) {
        return end.killed() && !death_was_intended(events, end.pid, end.signal());
    };
    for (const auto& end : ends)
        if (unintended_death(end) && is_limit_signal(end.signal()))
            return limit_verdict(end.pid, process_label(events, end.pid), end.signal());
    for (const auto& end : ends)
        if (unintended_death(end))
            return crash_verdict(events, end.pid, process_label(events, end.pid), end.signal());
    // The first failure reaped is named (a parent that fails because its worker did is reaped
    // after it); any others are listed, so the text does not depend on which one came first.
    std::vector<const ProcessEnd*> failures;
    for (const auto& end : ends)
        if (end.exit_code() != 0)
            failures.push_back(&end);
    if (!failures.empty()) {
        const ProcessEnd& first = *failures.front();
        Verdict verdict =
            failure_verdict(events, first.pid, process_label(events, first.pid), first.exit_code());
        if (failures.size() > 1) {
            std::vector<std::string> others;
            for (std::size_t i = 1; i < failures.size(); ++i)
                others.push_back(fmt::format("{} with code {}",
                                             process_label(events, failures[i]->pid),
                                             failures[i]->exit_code()));
            std::sort(others.begin(), others.end());
            verdict.explanation += fmt::format(" Also failed: {}.", fmt::join(others, "; "));
        }
        return verdict;
    }
    return completion_verdict(events, ends);
}

} // namespace forklore
