// Internal to the verdict engine (verdict.cpp, explain.cpp): what the trace says about a lock,
// a thread or a process, and the phrases every verdict sentence is built from. Ids are the
// namespace ids the trace records.
#pragma once

#include "sim/events.hpp"
#include "sim/verdict.hpp"

#include <sys/types.h>

#include <cstdint>
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
// The latest child_start event that made process `pid`; nullptr when the trace has none.
const Event* child_start_of(const std::vector<Event>& events, pid_t pid);
const Event* first_event_of_kind(const std::vector<Event>& events, EventKind kind);
// True when a signal_sent event announced this death: the scenario killed `pid` on purpose.
bool death_was_intended(const std::vector<Event>& events, pid_t pid, int signal);

// ---- phrases ----

// "process 3 (child 'read_file')", "process 2 ('main')", or "process 2" when the trace
// never named it.
std::string process_label(const std::vector<Event>& events, pid_t pid);
// "thread 'main' (tid 3)"; "thread (tid 3)" when unnamed.
std::string thread_phrase(std::string_view name, pid_t tid);
// "thread 'main' (tid 3) of process 3"
std::string waiter_phrase(const WaitEdge& edge);
// "lock 'file_lock'", or "the lock at 0x55d0c0a0" when unnamed.
std::string lock_label(const WaitEdge& edge);
// "3", "3 and 4", "3, 4 and 5"
std::string pid_list(const std::vector<pid_t>& pids);

} // namespace forklore
