// The fork-aware lock replay: every lock, condition variable, barrier and file lock of a run, who
// holds it at the end, who waits on it, and whether its owner is missing from the waiter's process
// (an "orphaned" lock), with a sentence for students on each. Built from a record's trace, then
// corrected with what the kernel showed: the verdict's wait-for graph (owners read from the lock
// words) and the last /proc samples. Plain data, valid on its own after the record; the GUI's
// Locks tab, the CLI, exports and lessons read it.
//
// One lock, several copies: fork() copies the parent's memory, so after a fork the same address
// names one lock in the parent and an independent COPY in the child, in the state it had at that
// instant. A LockCopy is therefore (process whose memory it lives in, address).
#pragma once

#include "sim/record/record.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace forklore {

// What kind of synchronisation object a copy is. The lock kinds of sim/protocol/events.hpp (a
// rwlock's read and write sides are one object here), plus the waits that have no owner at all.
enum class SyncKind {
    mutex,
    recursive_mutex,
    rwlock,
    semaphore,
    spin,
    condition_variable,
    barrier,
    futex, // a futex the kernel showed a thread blocked on, that no event names
};
std::string_view to_string(SyncKind kind);
// True for kinds held by a thread (mutexes, rwlocks, spin locks): only those can be orphaned.
// A semaphore is a count, a condition variable is signalled by anyone, a barrier opens when
// enough threads arrive: none has an owner to lose.
bool has_owner(SyncKind kind);

inline constexpr std::size_t kNoEvent = static_cast<std::size_t>(-1);
inline constexpr std::int64_t kUnknownTime = -1;

// A thread as the trace names it (namespace ids).
struct ThreadRef {
    pid_t pid = 0; // the process the thread lives in; 0 when unknown
    pid_t tid = 0;
    std::string name;
};
// "'reader' (tid 3)", or "(tid 3)" when unnamed.
std::string thread_label(const ThreadRef& thread);

struct LockHolder {
    ThreadRef thread;
    bool reader = false; // holds a rwlock for reading (the kernel counts readers, never names them)
    int count = 1;       // a recursive mutex taken several times
    std::int64_t since_ns = kUnknownTime; // relative to the run's start
    std::size_t event = kNoEvent;         // index of its lock_acquired event
    bool inherited = false; // copied by fork with the memory: taken before this process existed
    bool exists = false;    // the thread is still alive at the end of the run (in its process)
};

struct LockWaiter {
    ThreadRef thread;
    std::int64_t since_ns = kUnknownTime;
    std::size_t event = kNoEvent; // its wait event
    bool seen_by_kernel = false;  // the verdict or the last sample shows it blocked there
    bool destroying = false;      // a pthread_cond_destroy waiting for the waiters to leave
};

// A lock's state at the end of the run, worst first.
enum class LockState { orphaned, held_with_waiters, waited, held, free };
std::string_view to_string(LockState state);

// What happened to the object over the run, in the copy's own process.
struct LockHistory {
    int waits = 0;        // lock_wait / cond_wait / barrier_wait events
    int acquisitions = 0; // lock taken (a barrier: passed)
    int releases = 0;     // lock released (a semaphore: posted)
    int signals = 0;      // condition variables: signal and broadcast
    std::int64_t longest_wait_ns = 0;
    std::optional<ThreadRef> last_taker;
    std::int64_t last_taken_ns = kUnknownTime;
    std::size_t last_taken_event = kNoEvent;
    std::optional<ThreadRef> last_signaller;                      // condition variables
    std::int64_t first_ns = kUnknownTime, last_ns = kUnknownTime; // first and latest event
};

// One copy of an in-memory object: the object at `address` in the memory of `process`.
struct LockCopy {
    std::uint64_t address = 0;
    std::string name; // empty when the trace never named it
    // For an object no event names: where its waiters wait, from a waiter's native stack (the C
    // library function and its first caller outside it): "sem_wait in PyThread_acquire_lock_timed"
    // (a Python lock), "pthread_mutex_lock in worker_loop". Empty when no stack says.
    std::string waited_in;
    SyncKind kind = SyncKind::mutex;
    pid_t process = 0;     // whose memory this copy lives in (namespace pid)
    pid_t copied_from = 0; // the process fork copied it from; 0 when it was not copied
    std::int64_t copied_at_ns = kUnknownTime;
    bool replaced_by_exec = false;   // the process exec'd: this copy no longer exists
    bool process_ended = false;      // the process was reaped before the run ended
    std::vector<LockHolder> holders; // at the end of the run: writer/owner, or the readers
    std::vector<LockWaiter> waiters; // at the end of the run
    // A condition variable's copy still counts the waiters its parent had at fork, though those
    // threads were not copied: it never sees them leave.
    std::vector<ThreadRef> inherited_waiters;
    LockState state = LockState::free;
    bool orphaned = false;          // an owner does not exist in this process
    bool owner_from_kernel = false; // the owner was read from the lock word (verdict / sample)
    std::string owner_text;   // "'reader' (tid 3) @ process 2", "no owner: a semaphore is a count"
    std::string state_text;   // one sentence: why it is in this state
    std::string verdict_text; // the verdict's wait-for edge on it, when the verdict names it
    LockHistory history;

    const LockHolder* owner() const { return holders.empty() ? nullptr : &holders.front(); }
    // "'file_lock'", "0x55d0c0a0 (sem_wait in PyThread_acquire_lock_timed)" or "0x55d0c0a0"
    std::string label() const;
};

// A process in /proc/locks (or /proc/PID/fdinfo) holding or requesting a file lock.
struct FileLockParty {
    pid_t pid = 0;      // namespace pid; 0 when outside the sandbox, or an OFD lock (no process)
    pid_t host_pid = 0; // as /proc/locks wrote it (-1 for an OFD lock)
    std::string type;   // FLOCK, POSIX, OFDLCK
    bool write = false;
    std::string range; // "0-EOF"
    // The fd it holds or asks through (/proc/PID/fdinfo, or the blocked thread's flock/fcntl
    // call); -1 when unknown. A flock or OFD lock belongs to an open file description: one
    // process can hold it through one fd and wait for it through another.
    int fd = -1;
};

// A file lock: a kernel object, not memory, so one per file (device, inode) across processes.
struct ReplayedFileLock {
    std::uint64_t inode = 0;
    std::string device; // "08:01"; empty when only the trace knows the lock
    std::string name;   // from the trace
    std::string kind;   // flock, fcntl, ofd (from the trace), else the /proc/locks type
    std::vector<FileLockParty> holders;    // from the last detailed sample
    std::vector<FileLockParty> waiters;    // its blocked requests ("->" lines)
    std::vector<LockHolder> trace_holders; // threads whose latest event on it is an acquisition
    std::vector<LockWaiter> trace_waiters; // threads whose latest event on it is a wait
    LockState state = LockState::free;
    std::string state_text;
    std::string verdict_text;
    LockHistory history;

    std::string label() const; // "'log_lock' (inode 2)"
};

struct LockReplay {
    // Every copy the run touched or left holding state, in the order the replay made them.
    std::vector<LockCopy> locks;
    // By (device, inode).
    std::vector<ReplayedFileLock> file_locks;
    // The sample /proc/locks was read in (relative time), and what that means for this run.
    std::int64_t file_locks_seen_ns = kUnknownTime;
    std::string file_locks_note;
};

// `live`: the record is still growing, so the last sample shows the present and processes with
// no exit status are running, not "killed by the runner".
LockReplay replay_locks(const RunRecord& record, bool live = false);

} // namespace forklore
