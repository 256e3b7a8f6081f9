// Internal to the verdict engine (verdict.cpp, explain.cpp): what the trace says about a lock,
// a thread or a process, and the phrases every verdict sentence is built from. Ids are the
// namespace ids the trace records.
#pragma once

#include "sim/protocol/events.hpp"
#include "sim/verdict/verdict.hpp"

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace forklore {

// ---- trace look-ups (events are in recording order; "latest" means the last one) ----

// The name of the mutex or barrier at `address`, from its latest lock or barrier event; "" when
// it was never named. A forked child shares its parent's addresses, so any process counts.
std::string recorded_lock_name(const std::vector<Event>& events, std::uint64_t address);
// The name of the file lock on `inode`, from its latest file_lock_* event.
std::string recorded_file_lock_name(const std::vector<Event>& events, std::uint64_t inode);
// A thread's name: its thread_start event, else the name it recorded any event under.
std::string recorded_thread_name(const std::vector<Event>& events, pid_t tid);
// The process a thread recorded its latest event in; 0 when it recorded none.
pid_t recorded_pid_of_thread(const std::vector<Event>& events, pid_t tid);
// The inode a thread is blocked locking, when its latest file-lock event is a file_lock_wait.
std::optional<std::uint64_t> pending_file_lock_inode(const std::vector<Event>& events, pid_t tid);
// The wait the trace says thread `tid` is in: its latest lock_wait, cond_wait, barrier_wait or
// join_wait not followed by that wait's end (lock_acquired, cond_woken ...); nullptr when none.
const Event* pending_wait_of(const std::vector<Event>& events, pid_t tid);
// The child_wait event of thread `tid` when its latest child_wait has no process_exit for that
// child after it; nullptr otherwise.
const Event* pending_child_wait_of(const std::vector<Event>& events, pid_t tid);
// True when `futex_address` lies inside the object a wait event names: a rwlock's or a
// semaphore's waiters sleep on a word inside it, not at its start.
bool futex_belongs_to(const Event& wait, std::uint64_t futex_address);

// The latest child_start event that made process `pid`; nullptr when the trace has none.
const Event* child_start_of(const std::vector<Event>& events, pid_t pid);
const Event* first_event_of_kind(const std::vector<Event>& events, EventKind kind);
// True when a signal_sent event announced this death: the scenario killed `pid` on purpose.
bool death_was_intended(const std::vector<Event>& events, pid_t pid, int signal);

// ---- waits on objects without an owner (wait_objects.cpp) ----

// What a blocked thread's native stack says it waits in, for a program that records nothing: the
// C library function (the object kind follows from it) and the first caller outside the C
// library, which often names the real object (PyThread_acquire_lock_timed: a Python lock).
struct StackWait {
    std::string object_kind; // "semaphore", "mutex", "condition variable", ...; "" when unknown
    std::string function;    // the C library function it waits in ("sem_wait")
    std::string caller;      // the first named caller outside the C library
};
StackWait wait_from_stack(const ThreadStack* stack);

// Where a live thread is now: the namespace pid of its process, 0 when it exists nowhere.
using LiveProcessOf = std::function<pid_t(pid_t ns_tid)>;
// Fills edge.object_kind and edge.description for a thread blocked on a futex with no readable
// owner, from the wait the trace says it is in (`pending`, may be null): a semaphore, a condition
// variable (a wait, or a destroy waiting for its waiters), a barrier, a join, or an unnamed futex.
// With no event, what the stack shows (`from_stack`) names the kind of object, honestly without
// an owner.
void describe_unowned_wait(WaitEdge& edge, const Event* pending, const std::vector<Event>& events,
                           const LiveProcessOf& live_process_of, const StackWait& from_stack = {});

// ---- phrases ----

// "process 3 (child 'read_file')", "process 2 ('main')", or "process 2" when the trace
// never named it.
std::string process_label(const std::vector<Event>& events, pid_t pid);
// "thread 'main' (tid 3)"; "thread (tid 3)" when unnamed.
std::string thread_phrase(std::string_view name, pid_t tid);
// "thread 'main' (tid 3) of process 3"
std::string waiter_phrase(const WaitEdge& edge);
// "lock 'file_lock'", or "the lock at 0x55d0c0a0" when unnamed ("the mutex at ..." when only its
// kind is known).
std::string lock_label(const WaitEdge& edge);
// "3", "3 and 4", "3, 4 and 5"
std::string pid_list(const std::vector<pid_t>& pids);
// The text with its first letter in capitals: a phrase that starts a sentence.
std::string capitalized(std::string text);
// "3.1 ms": `time_ns` after the run's start (RunRecord::start_time_ns), the one origin of every
// time a student sees: the event log, the timeline, the JSON and the verdict's sentences.
std::string time_in_run(std::int64_t run_start_ns, std::int64_t time_ns);

} // namespace forklore
