// The GUI's side of a stepped run: the scheduler the runner asks, on the run's thread, and what
// the Scheduler panel shows and chooses, on the UI thread.
//
// The runner asks whenever the sandbox has settled; the control publishes who is waiting and
// what each is about to do, and answers "not yet" until the student clicks (the runner asks again
// at its next sample, every 2 ms). Undo is a replay: a fresh run follows the steps chosen so far
// but the last, then waits for the student again.
#pragma once

#include "sim/record/schedule.hpp"
#include "sim/run/scheduler.hpp"

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace forklore::gui {

// One thread the student can let go, and what it is about to do.
struct WaitingThread {
    int slot = -1;
    ScheduleStep next; // the step it would take
};

// A thread of the board that cannot be chosen now, and why.
struct OtherThread {
    ScheduleStep who;  // pid, tid and name (what it did last is not known here)
    std::string state; // "blocked in the kernel or running", "gone"
};

struct StepPrompt {
    std::size_t step = 0; // the number of the step to choose (1 = the first)
    std::vector<WaitingThread> waiting;
    std::vector<OtherThread> others;
};

class StepControl : public std::enable_shared_from_this<StepControl> {
  public:
    // A scheduler for one run: follows `prefix` first (Undo), then asks the student.
    Scheduler scheduler(std::vector<ScheduleStep> prefix = {});

    // What the runner is waiting for the student to choose, if it is.
    std::optional<StepPrompt> prompt() const;
    // The steps taken so far in the current run (the prefix's included).
    std::vector<ScheduleStep> chosen() const;
    // The replayed prefix could not be followed: why ("" when it was).
    std::string diverged() const;

    // Lets the thread in `slot` take the next step (once the runner asks again).
    void choose(int slot);
    // Lets the thread in `slot` go on, step after step, until it is about to lock or unlock
    // something (or blocks, or leaves): "run to its next lock operation".
    void run_to_next_lock(int slot);
    // Lets the rest of the run go unscheduled.
    void run_free();

  private:
    StepChoice answer(const StepState& state, const std::vector<ScheduleStep>& prefix);

    mutable std::mutex mutex_;
    std::optional<StepPrompt> prompt_;
    std::vector<ScheduleStep> chosen_;
    std::optional<int> pending_slot_;
    std::optional<int> running_to_lock_; // the slot let go until its next lock operation
    bool first_of_run_ = false;          // its first step is taken whatever it is
    bool pending_free_ = false;
    std::string diverged_;
    ReplayPatience patience_;
};

} // namespace forklore::gui
