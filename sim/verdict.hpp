// The verdict engine: decides how a run ended from what the kernel showed (snapshots, exit
// statuses) and what the trace recorded (events). Pure functions and one small state machine;
// no I/O, so every rule is unit-tested on synthetic snapshots.
#pragma once

#include "sim/events.hpp"
#include "sim/snapshot.hpp"
#include "sim/stacks.hpp"
#include "sim/verdict_kind.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace forklore {

// One arrow of the wait-for graph: a blocked thread and what it waits for. Ids are the ones the
// sandbox sees (namespace ids), as in the trace, so a student can match them with the events.
struct WaitEdge {
    enum class Kind { lock, file_lock, child, pipe, unknown };
    Kind kind = Kind::unknown;
    pid_t waiter_pid = 0;
    pid_t waiter_tid = 0;
    std::string waiter_thread;
    std::uint64_t address = 0;  // futex address of a lock, or the inode of a file lock
    std::string lock_name;      // from the trace; empty when the lock was never named
    std::string object_kind;    // "mutex", "rwlock_write", "semaphore", "condition variable",
                                // "barrier", "thread", "file lock" ...; empty when unknown
    pid_t owner_pid = 0;        // the process holding what is waited for; 0 when unknown
    pid_t owner_tid = 0;        // the owner thread of a mutex; 0 when unknown or none
    std::string owner_thread;
    bool orphaned = false;      // the owner thread does not exist in the waiter's process
    bool owner_exists = false;  // the owner thread still exists somewhere in the sandbox
    std::string description;    // one line: "thread 'main' of process 3 waits for ..."
};

std::string_view to_string(WaitEdge::Kind kind);

struct Verdict {
    VerdictKind kind = VerdictKind::setup_error;
    std::optional<DeadlockReason> reason; // set exactly when kind == deadlocked
    std::string explanation;              // sentences a student understands
    std::vector<WaitEdge> wait_for;       // the wait-for graph (deadlocks)
    int signal = 0;                       // crashed / limit: the signal that ended the process
    int exit_code = 0;                    // failed: the exit code
    pid_t culprit_pid = 0;                // the namespace pid the verdict is about
};

// True when the thread can only be woken by another thread or process (no timeout, no signal
// we know of): futex/flock/fcntl/wait/pipe/poll waits without a timeout. Zombies do not count
// as threads.
bool is_untimed_block(const ThreadSnapshot& thread);

// True when every live scenario thread of the snapshot is in an untimed blocking wait, and at
// least one such thread exists.
bool all_threads_blocked(const Snapshot& snapshot);

// Proves a hang over a quiet window: every thread blocked without a timeout, the same waits in
// every sample, no CPU time spent and no event recorded, for at least `min_samples` samples
// spanning `min_quiet_ns`. Any change restarts the window.
class DeadlockDetector {
  public:
    struct Settings {
        int min_samples = 3;
        std::int64_t min_quiet_ns = 15'000'000;
    };
    DeadlockDetector() = default;
    explicit DeadlockDetector(Settings settings) : settings_(settings) {}

    // Feed every sample in order, with the number of events recorded so far. True once proven.
    bool observe(const Snapshot& snapshot, std::uint64_t events_seen);
    void reset();
    // The time the current quiet window started (0 when none is open).
    std::int64_t quiet_since_ns() const { return quiet_since_ns_; }

  private:
    Settings settings_{};
    std::int64_t quiet_since_ns_ = 0;
    int quiet_samples_ = 0;
    std::uint64_t events_at_start_ = 0;
    std::string signature_; // the threads and their waits when the window opened
    std::uint64_t cpu_at_start_ = 0;
};

// Builds the wait-for graph from a detailed snapshot taken while proven deadlocked. `stacks`
// (optional, host tids) name what a futex belongs to when no event does: a program nobody
// instrumented shows a semaphore or a condition variable only in its native stack.
std::vector<WaitEdge> build_wait_for_graph(const Snapshot& snapshot,
                                           const std::vector<Event>& events,
                                           const std::vector<ThreadStack>& stacks = {});

// The deadlocked verdict: reason (orphaned_lock takes precedence over cycle, cycle over
// blocked_on_process) and an explanation naming the lock, the waiting thread and process, the
// owner thread, and the fork that left the owner behind. Without events (forklore exec) it says
// what /proc and the stacks show: addresses instead of names, the parent instead of the fork.
Verdict explain_deadlock(const Snapshot& snapshot, const std::vector<Event>& events,
                         const std::vector<ThreadStack>& stacks = {});

// Why a run that reached its deadline could not be judged: what each thread was doing, and for a
// thread spinning on a spin lock (running, never blocked) which lock and who took it last.
std::string explain_timeout(const Snapshot& snapshot, const std::vector<Event>& events,
                            double timeout_seconds);

// How a run that ended on its own (the sandbox exited) is judged: from the process_exit events
// (raw wait statuses of every reaped process) and the signal_sent events (deaths that were
// meant). `host_status` is the sandbox host's own wait status.
Verdict judge_exits(const std::vector<Event>& events, int host_status);

// Text for a raw wait status: "exited with code 3", "killed by SIGSEGV".
std::string describe_wait_status(int status);

// A signal's name: "SIGSEGV"; "signal 40" for one without a name (real-time signals).
std::string signal_name(int signal);

} // namespace forklore
