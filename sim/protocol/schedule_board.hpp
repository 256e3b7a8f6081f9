// The schedule board: where the threads of a stepped run stop and wait for their turn.
//
// In stepped mode every scheduling point (a probe about to lock, unlock, wait, fork, print ...)
// is a place where the thread stops, says on the board what it is about to do (the operation,
// its object, its source line) and waits until the one who schedules (the GUI, the CLI, an
// explorer) lets it take that step. Everything else stays real: the lock the thread then takes
// is a real pthread mutex, the fork a real fork(). A thread that blocks in the kernel (a real
// lock wait) is simply not on the board as waiting: only the runnable can be chosen.
//
// Like the event channel, the board is a memfd mapped MAP_SHARED: forked children inherit it,
// exec'd ones attach from the fd. A thread claims a slot once (a forked child's thread is a new
// thread and claims its own), publishes a request with a release store of its state, and sleeps
// on a shared futex (the slot's turn counter) until the runner bumps it. Nothing allocates or
// locks: claiming, publishing and waiting are async-signal-safe, and safe in the child of fork.
#pragma once

#include "sim/protocol/events.hpp"

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace forklore {

struct BoardHeader; // at the start of the shared mapping
struct StepSlot;    // one per thread that ever stepped

// What a thread is about to do at a scheduling point.
struct StepRequest {
    EventKind kind = EventKind::note;
    std::uint64_t object = 0; // the lock's address, the child's pid ... as the event will say
    std::uint32_t file = 0;   // source_file_id of the call (0: unknown)
    std::uint32_t line = 0;
    const char* name = nullptr; // the object's name ("file_lock"), cut to fit
};

// A slot as the runner reads it.
struct StepView {
    int slot = -1;
    pid_t pid = 0, tid = 0;  // as the thread knows them (namespace ids inside the sandbox)
    std::string thread;      // its name when it claimed the slot
    bool waiting = false;    // stopped at a scheduling point, ready to be let go
    bool left = false;       // the thread said it will not step again (it is exiting)
    std::uint64_t steps = 0; // turns granted so far
    // It woke up for its latest turn (or never had one): false between a grant and the moment
    // the thread runs again, when /proc still shows it asleep.
    bool awake = true;
    EventKind kind = EventKind::note;
    std::uint64_t object = 0;
    std::uint32_t file = 0, line = 0;
    std::string name;
};

class ScheduleBoard {
  public:
    static constexpr std::size_t kSlots = 512;
    static constexpr std::size_t kNameSize = 88; // a note's text, cut to fit

    ScheduleBoard() = default;
    ScheduleBoard(ScheduleBoard&&) noexcept;
    ScheduleBoard& operator=(ScheduleBoard&&) noexcept;
    ScheduleBoard(const ScheduleBoard&) = delete;
    ScheduleBoard& operator=(const ScheduleBoard&) = delete;
    ~ScheduleBoard();

    // A new board (memfd, close-on-exec). Throws std::system_error.
    static ScheduleBoard create();
    // Maps the board behind an inherited fd. Throws std::runtime_error when it holds none.
    static ScheduleBoard attach(int fd);

    bool valid() const { return header_ != nullptr; }
    int fd() const { return fd_; }

    // --- Inside the sandbox (async-signal-safe) ---
    // The calling thread's slot, claimed for (pid, tid); -1 when every slot is taken (the
    // thread then runs free, as without stepping).
    int claim(pid_t pid, pid_t tid, const char* thread_name) noexcept;
    // Publishes what the thread is about to do and sleeps until the runner lets it go.
    void wait_for_turn(int slot, const StepRequest& request) noexcept;
    // The thread will not step again (it is exiting): the runner stops waiting for it.
    void leave(int slot) noexcept;

    // --- The runner ---
    // Every claimed slot, in the order they were claimed.
    std::vector<StepView> slots() const;
    // Lets a waiting thread take its step. False when it is not waiting (running, blocked in
    // the kernel, gone): only a thread stopped at a scheduling point can be chosen. The step is
    // everything the thread does up to its next point: one thread at a time means granting the
    // next turn only once this thread is back on the board (waiting, or left) or blocked in
    // the kernel (which /proc tells, not the board); otherwise two steps overlap.
    bool grant(int slot) noexcept;
    // Lets every waiting thread go and every later request pass at once: the run continues
    // unscheduled (the end of a replay, or a runner that gives up stepping).
    void release_all() noexcept;

  private:
    StepSlot* slot_at(int slot) const noexcept;

    int fd_ = -1;
    BoardHeader* header_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace forklore
