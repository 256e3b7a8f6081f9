// The challenges (challenges.hpp): seven goals on three scenarios, each judged on the verdict
// and the schedule of the player's run.
#include "sim/lesson/challenges.hpp"

#include "sim/run/matrix.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace forklore {

namespace {

// The index of the first step of `thread` doing `kind` (on `object`, when given).
std::optional<std::size_t> first_step(const Schedule& schedule, const std::string& thread,
                                      EventKind kind, const std::string& object = {}) {
    for (std::size_t i = 0; i < schedule.steps.size(); ++i) {
        const ScheduleStep& step = schedule.steps[i];
        if (step.thread == thread && step.kind == kind && (object.empty() || step.object == object))
            return i;
    }
    return std::nullopt;
}

// Whether a pool worker was about to send an exception's report (its note "... raised ...:
// sending it to the parent") at some step.
bool raised_at(const Schedule& schedule) {
    return std::any_of(schedule.steps.begin(), schedule.steps.end(), [](const ScheduleStep& s) {
        return s.kind == EventKind::note && s.object.find(" raised ") != std::string::npos;
    });
}

// The first fork of the main thread of the scenario's first process (pid 2).
std::optional<std::size_t> first_fork(const Schedule& schedule) {
    for (std::size_t i = 0; i < schedule.steps.size(); ++i)
        if (schedule.steps[i].kind == EventKind::child_start)
            return i;
    return std::nullopt;
}

std::string verdict_missed(const RunRecord& record, VerdictKind kind,
                           std::optional<DeadlockReason> reason = std::nullopt) {
    if (record.verdict.kind == kind && (!reason || record.verdict.reason == reason))
        return {};
    Verdict wanted;
    wanted.kind = kind;
    wanted.reason = reason;
    return fmt::format("the run ended {}, not {}", outcome_label(record.verdict),
                       outcome_label(wanted));
}

// The goals that want a completion judge the schedule too: "" when the run completed and was
// stepped, otherwise why not.
std::string completed_when_stepped(const RunRecord& record) {
    if (auto why = verdict_missed(record, VerdictKind::completed); !why.empty())
        return why;
    return record.schedule ? std::string() : std::string("the run was not stepped");
}

std::vector<Challenge> make_challenges() {
    const KnobValues reader_fork = {
        {"start_method", "fork"}, {"timing", "natural"}, {"reader_thread", "on"}};
    std::vector<Challenge> list;
    list.push_back(
        {"orphan-the-lock", "Make the child hang", "file-read-under-lock", reader_fork,
         "Schedule the reader and the main thread so that the worker process never finishes.",
         "fork() copies every lock as it is at that instant. Let the reader take file_lock, "
         "then let the main thread start the worker before the reader lets it go.",
         "The child's copy of file_lock is locked by a thread the child does not have: fork() "
         "copied the lock, not its owner. Nobody in the child can ever unlock it.",
         [](const RunRecord& r) {
             return verdict_missed(r, VerdictKind::deadlocked, DeadlockReason::orphaned_lock);
         }});
    list.push_back(
        {"the-safe-moment", "Fork after the read", "file-read-under-lock", reader_fork,
         "Let the reader read (take file_lock) before the fork, keep the reader thread alive "
         "at the fork, and still have the worker finish.",
         "There are two kinds of moment to fork: while the reader holds the lock, and while it "
         "does not. Which steps of the reader come after its lock, and before its unlock?",
         "Forking a threaded process is safe only at moments when no other thread holds a lock "
         "the child will need: here, after the reader's unlock. A real program cannot choose "
         "that moment; pthread_atfork handlers, or a start method that does not copy the "
         "parent (spawn, fork_exec, forkserver), make every moment safe.",
         [](const RunRecord& r) {
             if (auto why = completed_when_stepped(r); !why.empty())
                 return why;
             const auto fork = first_fork(*r.schedule);
             const auto lock = first_step(*r.schedule, "reader", EventKind::lock_wait);
             const auto exit = first_step(*r.schedule, "reader", EventKind::thread_exit);
             if (!fork)
                 return std::string("the main thread never started the worker");
             if (!lock || *lock > *fork)
                 return std::string("the reader had not taken file_lock before the fork: it "
                                    "never read while the worker was started");
             if (exit && *exit < *fork)
                 return std::string("the reader had exited before the fork");
             return std::string();
         }});
    list.push_back(
        {"fork-exec-is-fresh",
         "Fork while the lock is held, and still finish",
         "file-read-under-lock",
         {{"start_method", "fork_exec"}, {"timing", "natural"}, {"reader_thread", "on"}},
         "Start the worker while the reader holds file_lock, and have the worker finish anyway.",
         "This time the worker is started with fork then exec. Hold the fork at the worst "
         "moment you found before: what does the exec do to the copied lock?",
         "exec replaces the child's whole memory with a fresh program: the copied, locked "
         "file_lock is gone, and the new program's lock is free. Only the code between fork and "
         "exec runs with the copies (and must be async-signal-safe).",
         [](const RunRecord& r) {
             if (auto why = completed_when_stepped(r); !why.empty())
                 return why;
             const auto fork = first_fork(*r.schedule);
             const auto lock = first_step(*r.schedule, "reader", EventKind::lock_wait);
             const auto unlock = first_step(*r.schedule, "reader", EventKind::lock_released);
             if (!fork || !lock || *lock > *fork || (unlock && *unlock < *fork))
                 return std::string("the reader did not hold file_lock at the fork: hold the "
                                    "fork between the reader's lock and its unlock");
             return std::string();
         }});
    list.push_back({"cause-the-cycle",
                    "Cause the cycle",
                    "lock-cycle",
                    {{"order", "opposite"}, {"timing", "natural"}},
                    "Make threads a and b wait for each other for ever.",
                    "a takes left then right; b takes right then left. What must each hold "
                    "before either asks for its second lock?",
                    "Each thread holds the lock the other one asks for: a cycle in the wait-for "
                    "graph. Both owners exist, in the same process: that is what tells a cycle "
                    "from an orphaned lock. One lock order everywhere makes the cycle impossible.",
                    [](const RunRecord& r) {
                        return verdict_missed(r, VerdictKind::deadlocked, DeadlockReason::cycle);
                    }});
    list.push_back(
        {"one-order-no-cycle",
         "Wait, but never deadlock",
         "lock-cycle",
         {{"order", "same"}, {"timing", "natural"}},
         "Both threads take left then right. Make b ask for left while a holds it, and try to "
         "reach a deadlock.",
         "Let a take left, then let b ask for it: b blocks in the kernel, and the scheduler can "
         "only choose among the threads that can run.",
         "With one lock order a thread can wait, but every wait is for a thread that itself "
         "waits for nothing it holds: the holder can always go on and let go. No schedule "
         "deadlocks: you have checked it step by step, and `forklore explore` checks them all.",
         [](const RunRecord& r) {
             if (auto why = completed_when_stepped(r); !why.empty())
                 return why;
             const auto a_locks = first_step(*r.schedule, "a", EventKind::lock_wait, "left");
             const auto b_locks = first_step(*r.schedule, "b", EventKind::lock_wait, "left");
             const auto a_unlocks = first_step(*r.schedule, "a", EventKind::lock_released, "left");
             if (!a_locks || !b_locks || *b_locks < *a_locks ||
                 (a_unlocks && *a_unlocks < *b_locks))
                 return std::string("b never asked for left while a held it");
             return std::string();
         }});
    const KnobValues first_result = {{"pool", "first_result"}, {"start_method", "fork"}};
    list.push_back(
        {"lose-the-exception", "Lose the worker's exception", "pool-worker-exception", first_result,
         "Two workers race; the pool returns the first outcome. Let worker 1's task raise its "
         "exception, and still have the program return an answer as if nothing had gone wrong.",
         "Each worker's main thread is 'main' in its own process: the Scheduler lists them by "
         "pid. Step worker 1 until it is about to send its error, then look at what worker 0 "
         "can do meanwhile.",
         "The parent read one outcome and shut the pool down: worker 1's exception was raised, "
         "sent, and never read. Code that waits for the first completed future, or breaks out "
         "of imap_unordered, drops every later error unless it collects them on purpose.",
         [](const RunRecord& r) {
             if (auto why = completed_when_stepped(r); !why.empty())
                 return why;
             if (!raised_at(*r.schedule))
                 return std::string("no worker raised its exception: step worker 1 until it "
                                    "is about to send it");
             return std::string();
         }});
    list.push_back(
        {"catch-the-exception", "Make the pool raise it", "pool-worker-exception", first_result,
         "Same race, other goal: make the parent receive worker 1's exception and raise it "
         "again, so that the program fails and says why.",
         "Unscheduled, the quick task always wins. Which worker must send first?",
         "The same program loses or reports the error depending only on which message arrives "
         "first: the error handling of a first-result pool is a race. Collect every outcome "
         "(or cancel the others and wait for them) before trusting the first.",
         [](const RunRecord& r) {
             if (auto why = verdict_missed(r, VerdictKind::failed); !why.empty())
                 return why;
             if (!r.schedule)
                 return std::string("the run was not stepped");
             if (!raised_at(*r.schedule))
                 return std::string("no worker raised its exception");
             return std::string();
         }});
    return list;
}

} // namespace

const std::vector<Challenge>& challenges() {
    static const std::vector<Challenge> list = make_challenges();
    return list;
}

const Challenge* find_challenge(const std::string& id) {
    for (const auto& challenge : challenges())
        if (challenge.id == id)
            return &challenge;
    return nullptr;
}

std::optional<int> challenge_index(const std::string& id) {
    const auto& list = challenges();
    for (std::size_t i = 0; i < list.size(); ++i)
        if (list[i].id == id)
            return static_cast<int>(i);
    return std::nullopt;
}

std::string challenge_ids() {
    std::vector<std::string> ids;
    for (const auto& challenge : challenges())
        ids.push_back(challenge.id);
    return fmt::format("{}", fmt::join(ids, ", "));
}

std::string challenge_missed(const Challenge& challenge, const RunRecord& record) {
    return challenge.missed(record);
}

} // namespace forklore
