// Scheduling points: where a probe stops its thread, in a stepped run, before the real operation.
//
// Every probe calls step_point() just before it does the real thing (takes the lock, forks,
// writes the line): with a schedule board installed (sim/protocol/schedule_board.hpp), the thread
// publishes what it is about to do and sleeps until the runner grants its turn; the operation
// that follows is as real as ever. Without a board (every run that is not stepped) the call is one
// load and a branch. A thread claims its board slot at its first point and keeps it; a forked
// child's thread is a new thread of a new process and claims its own (the identity page tells,
// as it tells record() to ask the kernel for the ids again). A vfork child never stops: it
// borrows its parent's thread, which must not sleep on the board in its name.
#pragma once

#include "sim/protocol/call_site.hpp"
#include "sim/protocol/events.hpp"

#include <cstdint>

namespace forklore {
class ScheduleBoard;
}

namespace forklore::probe {

// The process-wide board (set by the sandbox host in a stepped run, inherited by fork).
void install_board(ScheduleBoard* board) noexcept;
ScheduleBoard* installed_board() noexcept;

// A scheduling point: `kind` is the event the operation will record (lock_wait for a lock about to
// be asked for, child_start for a fork ...), `object` and `name` what it acts on. Async-signal-
// safe; returns at once without a board, or once the board lets the thread go.
void step_point(EventKind kind, std::uint64_t object, const char* name, CallSite site) noexcept;

// The calling thread will not step again (it is exiting): the runner stops waiting for it.
void leave_board() noexcept;

} // namespace forklore::probe
