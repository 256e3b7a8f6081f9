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
};

// The status line of a session: "running for 230 ms", "7 of 10 runs: deadlocked(orphaned_lock)
// 7 | hang rate 100% [65%, 100%]". Exposed for the tests.
std::string describe_progress(const RunProgress& progress);

void draw_controls_panel(ControlsPanelState& state, RunConfig& config, const RunProgress& progress,
                         const RecordView& view);

} // namespace forklore::gui
