// Who schedules a stepped run: the GUI's student, a replayed schedule, an explorer.
//
// In a stepped run every probe stops its thread at each scheduling point (sim/probe/step_point.hpp)
// and the runner, each time the sandbox has settled (every thread stopped at a point, blocked in
// the kernel or gone, for two samples in a row), asks the scheduler which waiting thread takes
// the next step. The scheduler may also let the run go on unscheduled, or not answer yet (a
// student thinking: the runner asks again at the next sample).
#pragma once

#include "sim/protocol/schedule_board.hpp"
#include "sim/record/schedule.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace forklore {

struct RunRecord;

// What the scheduler is shown: every thread on the board and which of them can be let go.
struct StepState {
    const std::vector<StepView>& slots; // every thread that ever stopped, in the order they came
    std::vector<std::size_t> runnable;  // indexes into `slots` of the threads waiting for a turn
    const RunRecord& partial;           // the run so far (events, samples)
    std::size_t steps_taken = 0;        // steps granted so far
};

struct StepChoice {
    enum class Kind { grant, run_free, later };
    Kind kind = Kind::later;
    int slot = -1;      // grant: the board slot (StepView::slot) of a waiting thread
    std::string reason; // run_free: why, when it is not simply the end of stepping (a divergence)

    static StepChoice grant(int slot) { return {Kind::grant, slot, {}}; }
    static StepChoice run_free(std::string reason = {}) {
        return {Kind::run_free, -1, std::move(reason)};
    }
    static StepChoice later() { return {}; }
};

// A request may be run several times (--repeat): a scheduler that keeps state of its own must
// start afresh when it sees steps_taken == 0.
using Scheduler = std::function<StepChoice(const StepState&)>;

// Waiting for the thread a schedule names at a step. The sandbox may look settled while that
// thread is not back at its point yet (woken but not yet run, or paging its code in from disk),
// so a replay asks again at the next samples before it calls the schedule diverged.
class ReplayPatience {
  public:
    static constexpr int kTries = 50; // about 100 ms of samples
    // True once the thread has been missing at this step of this run for kTries questions.
    bool give_up(const StepState& state);

  private:
    std::int64_t run_ = 0; // the run's start time: a new run starts afresh
    std::size_t step_ = 0;
    int tries_ = 0;
};

// Replays `schedule`: at each step lets go the thread it names (by pid and tid), provided that
// thread is waiting to do what the schedule says it did (operation and line); the run then goes
// on unscheduled once the steps are used up. A thread that is not waiting, or about to do
// something else, ends the replay there: the run goes on unscheduled and its record says where
// and why it diverged.
Scheduler replay_schedule(Schedule schedule);

// Plays a run as a student clicking names would: at step N lets go the waiting thread named
// `threads[N]` (by its thread name, "reader", or "main@3", play_token_matches), and once the names
// are used up, the first waiting thread in the board's order (the first row of the Scheduler tab),
// step after step, to the end. A name that no waiting thread has (after the replay's patience) ends
// the play: the run goes on unscheduled and its record says why it diverged.
Scheduler play_threads(std::vector<std::string> threads);

// Whether a play's token names a thread: "reader" (by name), or "main@3" (thread 'main' of the
// process whose pid in the sandbox is 3, where several processes have a thread of that name).
bool play_token_matches(std::string_view token, std::string_view thread, pid_t pid);

// The step a waiting thread is about to take, as a schedule records it (the file's path from the
// record's table of source files).
ScheduleStep step_of(const StepView& view, const RunRecord& partial);

} // namespace forklore
