// The Scheduler tab: be the scheduler of a real run. A challenge (sim/lesson/challenges.hpp) sets
// the scenario and its goal; each thread waiting at a scheduling point is listed with what it is
// about to do and on which line, and a click lets it take one step. Undo replays the steps so far
// but the last in a fresh sandbox. When the run ends, the verdict says whether the goal was met.
// The timeline, the locks and the process tree follow the run as it goes, as for any run.
#pragma once

#include "gui/models/step_control.hpp"
#include "gui/record_view.hpp"
#include "gui/run_session.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace forklore::gui {

struct SchedulerPanelState {
    int challenge = 0; // index into challenges()
    // The stepped run in progress (or the last one), and the prefix it replayed.
    std::shared_ptr<StepControl> control;
    std::uint64_t run_generation = 0; // the session's record generation when it started
    bool stepping = false;            // the session's current run is this panel's

    // What the user asked for this frame; the app carries it out.
    enum class Request { none, play, undo };
    Request request = Request::none;
    std::vector<ScheduleStep> replay; // undo: the steps to replay first
};

// Whether the finished record achieves the chosen challenge: "" (victory) or why not.
std::string challenge_outcome(const SchedulerPanelState& state, const RecordView& view);

void draw_scheduler_panel(SchedulerPanelState& state, const RunProgress& progress,
                          const RecordView& view);

} // namespace forklore::gui
