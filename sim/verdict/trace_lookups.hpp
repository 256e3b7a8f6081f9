// Internal to the verdict engine: what the trace says about a lock, a thread or a process. Events
// are in recording order ("latest" means the last one); ids are the namespace ids the trace
// records.
#pragma once

#include "sim/protocol/events.hpp"

#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace forklore {

// The latest event `match` accepts; nullptr when none does.
template <typename Match>
const Event* latest_event(const std::vector<Event>& events, Match&& match) {
    auto found = std::find_if(events.rbegin(), events.rend(), match);
    return found == events.rend() ? nullptr : &*found;
}

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
// The call that copied the child `made` made: "_Fork()", "a raw clone system call", or
// "fork()" (also for a fork server's children, and when nothing recorded it: `made` null).
std::string_view copy_call_that_made(const Event* made);
const Event* first_event_of_kind(const std::vector<Event>& events, EventKind kind);
// True when a signal_sent event announced this death: the scenario killed `pid` on purpose.
bool death_was_intended(const std::vector<Event>& events, pid_t pid, int signal);

} // namespace forklore
