// The one place that defines what a run can end as, and why a deadlock happened.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace forklore {

enum class VerdictKind : int {
    completed,   // every process exited 0
    failed,      // some process exited non-zero
    crashed,     // some process died by a signal nobody sent on purpose
    deadlocked,  // proven: every thread blocked with nothing left that can wake it
    timed_out,   // the deadline passed without proof either way
    limit,       // a sandbox limit stopped it (CPU, processes, output, file size)
    setup_error, // the sandbox or the scenario could not start
    stopped,     // the user stopped it before a verdict was proven: no outcome at all, so it
                 // counts in no hang rate, no outcome count and no expectation check
};

inline constexpr std::array<std::string_view, 8> kVerdictNames = {
    "completed", "failed", "crashed", "deadlocked", "timed_out", "limit", "setup_error", "stopped"};

// Why a deadlocked run can never make progress again.
enum class DeadlockReason : int {
    orphaned_lock,      // a lock's owner thread does not exist in the waiter's process
    cycle,              // threads wait on each other's locks
    blocked_on_process, // waits on a child, a pipe or a file lock whose holder is itself blocked
    no_waker,           // waits on something with no owner (a semaphore, a condition variable, a
                        // barrier, a thread's exit) that no thread left can ever signal
};

inline constexpr std::array<std::string_view, 4> kDeadlockReasonNames = {
    "orphaned_lock", "cycle", "blocked_on_process", "no_waker"};

constexpr std::string_view to_string(VerdictKind kind) {
    return kVerdictNames[static_cast<int>(kind)];
}
constexpr std::string_view to_string(DeadlockReason reason) {
    return kDeadlockReasonNames[static_cast<int>(reason)];
}

constexpr std::optional<VerdictKind> verdict_from_string(std::string_view name) {
    for (std::size_t i = 0; i < kVerdictNames.size(); ++i)
        if (kVerdictNames[i] == name)
            return static_cast<VerdictKind>(i);
    return std::nullopt;
}
constexpr std::optional<DeadlockReason> deadlock_reason_from_string(std::string_view name) {
    for (std::size_t i = 0; i < kDeadlockReasonNames.size(); ++i)
        if (kDeadlockReasonNames[i] == name)
            return static_cast<DeadlockReason>(i);
    return std::nullopt;
}

// A hang, for hang-rate statistics, is a run that never finished on its own.
constexpr bool is_hang(VerdictKind kind) {
    return kind == VerdictKind::deadlocked || kind == VerdictKind::timed_out;
}

// Whether a run has an outcome to count: a run the user stopped has none (it is neither a hang
// nor a completion, and matches or contradicts no expectation).
constexpr bool has_outcome(VerdictKind kind) {
    return kind != VerdictKind::stopped;
}

} // namespace forklore
