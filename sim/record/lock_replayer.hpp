// The lock replay's working state, internal to sim/record/lock_*.cpp; everyone else reads
// lock_replay.hpp. One LockReplayer replays one record, in the steps of LockReplayer::run():
//
//   lock_replay.cpp          who is who, the copies fork makes, the end state of each copy
//   lock_replay_events.cpp   the trace, event by event (locks, condition variables, barriers,
//                            file locks)
//   lock_replay_kernel.cpp   corrections from what the kernel showed: the verdict's wait-for
//                            edges, the last samples, /proc/locks
//   lock_sentences.cpp       the sentences for students (owner, state, file lock state)
//
// When a process is made by fork (or by a fork server, which forks too), every copy of its parent
// is duplicated at that instant, holders included, as fork() duplicates memory: the duplicate of a
// lock held by another thread of the parent keeps that owner, which does not exist in the child.
// The thread that called fork goes on in the child as its main thread, so what it held, the
// child's main thread holds.
#pragma once

#include "sim/record/lock_replay.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace forklore::lock_replay_detail {

// A thread inside a wait, while the trace is replayed.
struct PendingWait {
    pid_t tid = 0;
    std::int64_t since_ns = kUnknownTime;
    std::size_t event = kNoEvent;
    bool destroying = false;
    bool seen_by_kernel = false;
};

// One copy of an object while the trace is replayed.
struct Copy {
    LockCopy row;
    std::vector<PendingWait> pending;
    bool touched = false; // an event of its own process, or the kernel, concerns it
    std::optional<ThreadRef> outstanding_take; // a semaphore: taken, not posted since
    std::optional<bool> kernel_orphaned, kernel_owner_exists;
};

// A file lock (by inode) while the trace is replayed.
struct FileTrace {
    ReplayedFileLock row;
    std::vector<PendingWait> pending;
    std::vector<LockHolder> holders;
};

// The largest object a probe waits in is a pthread_rwlock_t (56 bytes). A waiter of a rwlock, a
// semaphore or a barrier sleeps on a futex word inside the object, not at its first byte.
inline constexpr std::uint64_t kLargestObject = 64;

SyncKind sync_kind_of(std::int64_t lock_kind); // an event's LockKind
// WaitEdge::object_kind and StackWait::object_kind ("mutex", "rwlock_write", "barrier" ...).
SyncKind sync_kind_of(std::string_view object_kind);

double to_ms(std::int64_t ns);

// ---- the sentences (lock_sentences.cpp) ------------------------------------------------------

// "'reader' (tid 3) @ process 2", "no owner: a semaphore is only a count", "free" ...
std::string owner_text(const LockCopy& copy);
// Why the copy is in its state; `outstanding_take` is a semaphore's last take with no post since.
std::string state_text(const LockCopy& copy, const std::optional<ThreadRef>& outstanding_take);
// Decides a file lock's state from the kernel's lists (or the trace's) and says why.
void decide_file_state(ReplayedFileLock& lock);

class LockReplayer {
  public:
    LockReplayer(const RunRecord& record, bool live) : record_(record), live_(live) {}
    LockReplay run();

  private:
    struct ForkOrigin {
        pid_t parent = 0;
        pid_t forking_tid = 0; // 0 when unknown
    };

    // ---- who is who (lock_replay.cpp) ----
    void index_threads_and_forks();
    pid_t home_of(pid_t tid) const;
    std::string name_of(pid_t tid) const;
    ThreadRef thread(pid_t tid) const { return {home_of(tid), tid, name_of(tid)}; }
    // During the replay: names are filled in once at the end (a 100k-event trace would copy a
    // name string per event otherwise).
    ThreadRef bare(pid_t tid) const { return {home_of(tid), tid, {}}; }
    void name(ThreadRef& thread) const;
    void name(std::optional<ThreadRef>& thread) const;
    bool process_ended(pid_t pid) const;
    bool thread_alive_at_end(pid_t tid) const;
    // The sandbox was still running at the end: the last sample is the end.
    bool sample_is_the_end() const;

    // ---- copies (lock_replay.cpp) ----
    void be_born(pid_t pid, std::int64_t t);
    Copy& copy_at(pid_t pid, std::uint64_t address, SyncKind kind, std::string_view name);
    Copy* copy_containing(pid_t pid, std::uint64_t address);
    void retire(pid_t pid);

    // ---- the trace (lock_replay_events.cpp) ----
    void replay(const Event& event, std::size_t index);
    void replay_lock(const Event& event, std::size_t index, std::int64_t t);
    void replay_condition(const Event& event, std::size_t index, std::int64_t t);
    void replay_barrier(const Event& event, std::size_t index, std::int64_t t);
    void replay_file_lock(const Event& event, std::size_t index, std::int64_t t);
    void taken(LockHistory& history, const Event& event, std::size_t index, std::int64_t t);

    // ---- what the kernel showed (lock_replay_kernel.cpp) ----
    void set_kernel_owner(Copy& copy, pid_t owner_tid, pid_t owner_pid, std::string owner_name);
    void apply_verdict();
    void apply_last_sample();
    void finish_file_locks(LockReplay& replay);

    // ---- the end of the run (lock_replay.cpp) ----
    std::vector<LockWaiter> waiters_of(const std::vector<PendingWait>& pending) const;
    void finish_locks(LockReplay& replay);
    void name_from_stacks(LockCopy& row) const;

    const RunRecord& record_;
    bool live_;
    std::unordered_map<pid_t, pid_t> home_;        // thread -> the process it lives in
    std::unordered_map<pid_t, std::string> names_; // thread -> name
    std::unordered_map<pid_t, ForkOrigin> fork_origin_;
    std::set<pid_t> born_;
    pid_t last_born_ = 0;
    std::set<pid_t> exited_threads_;
    std::set<pid_t> waiting_threads_; // inside some wait by the trace (locks, joins ...)
    std::vector<Copy> copies_;        // every copy ever made, in order
    std::map<std::pair<pid_t, std::uint64_t>, std::size_t> active_; // (process, address) -> copy
    std::map<std::uint64_t, FileTrace> files_;                      // by inode
};

// ---- small helpers (lock_replay_events.cpp, lock_replay.cpp) -------------------------------

// An event of the copy's own process concerns it, at `t`.
void touch(Copy& copy, std::int64_t t);

// Thread `wait.tid` waits (again): its earlier wait on the same object is replaced.
void add_pending(std::vector<PendingWait>& pending, PendingWait wait);
// Ends thread `tid`'s wait; returns how long it lasted (0 when it was not waiting).
std::int64_t end_pending(std::vector<PendingWait>& pending, pid_t tid, std::int64_t t);
// The kernel shows thread `tid` blocked on the object (a wait the trace may not have).
void mark_waiter(std::vector<PendingWait>& pending, pid_t tid);

// The first holder that does not live in the copy's process, if any.
const LockHolder* absent_holder(const LockCopy& row);
// The copy's state at the end, from its holders and waiters (and the kernel's word on its owner).
void decide_state(Copy& copy);

} // namespace forklore::lock_replay_detail
