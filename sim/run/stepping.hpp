// A stepped run's side of the runner (only sim/run includes this): the schedule board it
// created for the sandbox, when the sandbox has settled, and the scheduler it asks then.
#pragma once

#include "sim/observe/snapshot.hpp"
#include "sim/protocol/schedule_board.hpp"
#include "sim/record/schedule.hpp"
#include "sim/run/scheduler.hpp"

#include <cstdint>
#include <optional>

namespace forklore {

struct RunRecord;

namespace runner {

class Stepper {
  public:
    Stepper() = default; // an ordinary run: does nothing
    Stepper(ScheduleBoard board, Scheduler scheduler);

    bool active() const { return board_.valid(); }
    const ScheduleBoard& board() const { return board_; }

    // A thread stopped at a scheduling point (or let go, but not yet awake) waits for the
    // runner, outside the sandbox: like a write to the runner's pipes, never part of a hang.
    void excuse_waits_for_turn(Snapshot& snapshot) const;
    // After each sample: once the sandbox has settled, asks the scheduler and grants its choice.
    void after_sample(const Snapshot& snapshot, const RunRecord& partial, std::int64_t now_ns);
    // The run ends: nobody may stay asleep on the board (the sandbox is being killed anyway).
    void release();

    Schedule take_schedule() { return std::move(schedule_); }

  private:
    bool settled(const Snapshot& snapshot, const std::vector<StepView>& views, std::int64_t now_ns);

    ScheduleBoard board_;
    Scheduler scheduler_;
    Schedule schedule_;
    bool free_ = false;            // no longer stepping: the board let everyone go
    int quiet_samples_ = 0;        // samples in a row in which no scenario thread ran
    std::optional<int> in_flight_; // the slot last let go, until its step is over
    std::int64_t last_grant_ns_ = 0;
};

} // namespace runner
} // namespace forklore
