// The verdict engine: decides how a run ended from what the kernel showed (snapshots, exit
// statuses) and what the trace recorded (events). Pure functions and one small state machine;
// no I/O, so every rule is unit-tested on synthetic snapshots.
#pragma once

#include "sim/observe/snapshot.hpp"
#include "sim/observe/stacks.hpp"
#include "sim/protocol/events.hpp"
#include "sim/protocol/verdict_kind.hpp"
#include "sim/protocol/wait_status.hpp"
#include "sim/verdict/stuck_set.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace forklore {

// One arrow of the wait-for graph: a blocked thread and what it waits for. Ids are the ones the
// sandbox sees (namespace ids), as in the trace, so a student can match them with the events.
struct WaitEdge {
    // signal: a signal wait, or a stopped process waiting for SIGCONT
    enum class Kind { lock, file_lock, child, pipe, unknown, signal };
    Kind kind = Kind::unknown;
    pid_t waiter_pid = 0;
    pid_t waiter_tid = 0;
    std::string waiter_thread;
    // The object waited on: a lock's, barrier's, condition variable's or semaphore's own
    // address (the one its events name), or the inode of a file lock. A futex nobody named is
    // its futex word's address.
    std::uint64_t address = 0;
    // Futex waits: the futex word the thread sleeps on, a detail. A rwlock, a semaphore, a barrier
    // or a condition variable keeps it inside the object, so it differs from `address` there.
    std::uint64_t futex_address = 0;
    std::string lock_name; // from the trace; empty when the lock was never named
    // What the native stack says the lock is when no event names it, for a lock the program never
    // made itself ("the dynamic loader's lock _dl_load_lock"); empty when the stack does not say.
    std::string known_as;
    std::string object_kind; // "mutex", "rwlock_write", "semaphore", "condition variable",
                             // "barrier", "thread", "file lock" ...; empty when unknown
    pid_t owner_pid = 0;     // the process holding what is waited for; 0 when unknown
    pid_t owner_tid = 0;     // the owner thread of a mutex; 0 when unknown or none
    std::string owner_thread;
    bool orphaned = false;     // the owner thread does not exist in the waiter's process
    bool owner_exists = false; // the owner thread still exists somewhere in the sandbox
    std::string description;   // one line: "thread 'main' of process 3 waits for ..."
    // File-lock waits: the fd the waiter asks through (-1 when unknown), and the fds through
    // which each holder holds it (flock and OFD locks belong to an open file description, so a
    // process can hold the lock through one fd and wait for it through another).
    int waiter_fd = -1;
    struct HoldingFd {
        pid_t pid = 0; // namespace pid
        int fd = -1;   // -1 when only /proc/locks named the holder
        bool operator==(const HoldingFd&) const = default;
    };
    std::vector<HoldingFd> holding_fds;
};

std::string_view to_string(WaitEdge::Kind kind);

// A thread named by a verdict: in the stuck set, or live beside it. Namespace ids.
struct ThreadState {
    pid_t pid = 0;
    pid_t tid = 0;
    std::string name;
    std::string wait; // what it does, in words: "waits on the private futex at 0x...", "runs"
};

// A hazard the trace shows in a run that did not suffer from it this time: the reader should know
// it was there (a lock fork() copied held, that the child happened not to take; a file lock two
// processes held at once through one open file description). Found from the events, never from
// what the scenario expects.
struct VerdictWarning {
    std::string kind; // "copied_held_lock", "shared_file_lock"
    std::string text; // sentences a student understands
    pid_t pid = 0;    // the process it is about (namespace pid)
};

struct Verdict {
    VerdictKind kind = VerdictKind::setup_error;
    std::optional<DeadlockReason> reason; // set exactly when kind == deadlocked
    std::string explanation;              // sentences a student understands
    std::vector<WaitEdge> wait_for;       // the wait-for graph of the stuck threads (deadlocks)
    std::vector<ThreadState> stuck;       // deadlocks: the threads that can never run again
    std::vector<ThreadState> live;        // deadlocks: the threads that still could, beside them
    std::string limit;                    // limit: which one: "tasks", "memory", "processes",
                                          // "output", "cpu time", "file size"
    int signal = 0;                       // crashed / limit: the signal that ended the process
    int exit_code = 0;                    // failed: the exit code
    pid_t culprit_pid = 0;                // the namespace pid the verdict is about
    std::vector<VerdictWarning> warnings; // hazards that did not bite (sim/verdict/completion.hpp)
};

// True when the thread can only be woken by another thread or process (no timeout): futex,
// flock/fcntl, wait, pipe, poll and signal waits without a timeout. Zombies do not count as
// threads.
bool is_untimed_block(const ThreadSnapshot& thread);

// True when every live scenario thread of the snapshot is in an untimed blocking wait, and at
// least one such thread exists.
bool all_threads_blocked(const Snapshot& snapshot);

// Proves a hang: the same non-empty stuck set (see stuck_set.hpp) in consecutive samples, none
// of its threads scheduled (schedstat) or spending CPU time, and no event recorded by any of
// them, for at least `min_samples` samples spanning `min_quiet_ns`, whatever the live threads
// do meanwhile. An orphaned lock is structural (its owner does not exist in the only address
// space that could release it, and every thread there is stuck): `structural_samples`
// consistent samples prove it. Any change to the stuck set restarts the window.
class DeadlockDetector {
  public:
    struct Settings {
        int min_samples = 3;
        std::int64_t min_quiet_ns = 15'000'000;
        int structural_samples = 2;
    };
    DeadlockDetector() = default;
    explicit DeadlockDetector(Settings settings) : settings_(settings) {}

    // Feed every sample in order, with its stuck set and the trace recorded so far (the detector
    // remembers how far it has read). True once proven.
    bool observe(const Snapshot& snapshot, const StuckSet& stuck, const std::vector<Event>& events);
    // The same, computing the stuck set.
    bool observe(const Snapshot& snapshot, const std::vector<Event>& events) {
        return observe(snapshot, find_stuck_threads(snapshot), events);
    }
    void reset();
    // The time the current quiet window started (0 when none is open).
    std::int64_t quiet_since_ns() const { return quiet_since_ns_; }

  private:
    struct Activity {
        std::uint64_t cpu_ticks = 0, run_ns = 0, run_slices = 0;
        bool operator==(const Activity&) const = default;
    };
    Settings settings_{};
    std::int64_t quiet_since_ns_ = 0;
    int quiet_samples_ = 0;
    std::size_t events_read_ = 0;
    std::string signature_; // the stuck threads and their waits when the window opened
    std::unordered_map<pid_t, Activity> activity_; // host tid -> at the window's start
    std::vector<pid_t> stuck_ns_tids_;
};

// True when the stuck set holds an orphaned lock that is structural: a stuck thread waits on a
// private futex whose owner (from the lock word) is no thread of its own process but a live
// thread of another one (the thread that stayed behind at fork).
bool has_structural_orphan(const StuckSet& stuck);

// Builds the wait-for graph (wait_for_graph.cpp) from a detailed snapshot taken while proven
// deadlocked: an edge for each thread of `only` (the stuck set), or for every untimed blocked
// thread when it is null or empty. `stacks` (optional, host tids) name what a futex belongs to
// when no event does: a program nobody instrumented shows a semaphore or a condition variable
// only in its native stack.
std::vector<WaitEdge> build_wait_for_graph(const Snapshot& snapshot,
                                           const std::vector<Event>& events,
                                           const std::vector<ThreadStack>& stacks = {},
                                           const StuckSet* only = nullptr);

// The deadlocked verdict: its reason, chosen from the wait-for graph by choose_reason
// (choose_reason.hpp: orphaned_lock takes precedence over cycle, cycle over a chain of waits), and
// an explanation (explain.cpp) naming the lock, the waiting thread and process, the owner thread,
// and the fork that left the owner behind. Without events (forklore exec) it says what /proc and
// the stacks show: addresses instead of names, the parent instead of the fork. Times in the text
// count from `run_start_ns` (RunRecord::start_time_ns), as the event log does.
Verdict explain_deadlock(const Snapshot& snapshot, const std::vector<Event>& events,
                         std::int64_t run_start_ns, const std::vector<ThreadStack>& stacks = {});

// Why a run that reached its deadline could not be judged: what each thread was doing, and for a
// thread spinning on a spin lock (running, never blocked) which lock and who took it last.
std::string explain_timeout(const Snapshot& snapshot, const std::vector<Event>& events,
                            std::int64_t run_start_ns, double timeout_seconds);

// How a run that ended on its own (the sandbox exited) is judged: from the process_exit events
// (raw wait statuses of every reaped process) and the signal_sent events (deaths that were
// meant). `host_status` is the sandbox host's own wait status.
Verdict judge_exits(const std::vector<Event>& events, int host_status);

// Text for a raw wait status: "exited with code 3", "killed by SIGSEGV".

} // namespace forklore
