// The controls (top strip): the chosen scenario's knobs as widgets, its variant presets, Run,
// Repeat N and Stop, the live status of the session, and the expected outcome beside the actual.
#pragma once

#include "gui/record_view.hpp"
#include "gui/run_config.hpp"
#include "gui/run_session.hpp"

#include <string>

namespace forklore::gui {

struct ControlsPanelState {
    // What the user asked for this frame; the app carries it out (the panel only edits the
    // configuration and reads the session's progress).
    enum class Request { none, run, repeat, stop };
    Request request = Request::none;
    // Set by the app: where the record on screen came from when it was not run here ("on
    // screen: its last run in the Matrix"); said instead of "Not run yet."
    std::string view_origin;
};

// The variant a record on screen ran as, when the chosen knobs are that record's and match none
// of the scenario's presets (a `forklore exec` record: variant "default" with its program as
// knobs): the controls then name that variant instead of "custom knobs". "" otherwise.
std::string recorded_variant(const RunConfig& config, const RecordView& view);

// The status line of a session: "running for 230 ms", "7 of 10 runs: deadlocked(orphaned_lock)
// 7 | hang rate 100% [65%, 100%]". Exposed for the tests.
std::string describe_progress(const RunProgress& progress);

void draw_controls_panel(ControlsPanelState& state, RunConfig& config, const RunProgress& progress,
                         const RecordView& view);

} // namespace forklore::gui
