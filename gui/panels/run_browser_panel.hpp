// The runs of a Repeat, one line under the controls: which run is on screen ("run 7 of 40"),
// previous / next, a strip of every run's outcome (click one to show it), and a filter that
// steps through the hung runs only, or the completed ones only.
#pragma once

#include "gui/record_view.hpp"
#include "gui/run_history.hpp"

#include <cstddef>
#include <optional>
#include <vector>

namespace forklore::gui {

struct RunBrowserState {
    RunFilter filter = RunFilter::all;
    // What the user asked for this frame; the app carries it out.
    std::optional<int> show_run; // a run's number
    bool follow_latest = false;  // back to the newest run (and the ones still to come)
};

// "run 7 of 40", "run 7 of 40 (running)", "" for a record that is not a session's run.
std::string run_label(const RecordView& view, int runs_asked, int runs_done);

// `runs`: the session's finished runs; `runs_asked`: the Repeat count; `pinned`: the user chose
// the run on screen (it stays while more runs finish).
void draw_run_browser(RunBrowserState& state, const std::vector<RunEntry>& runs, int runs_asked,
                      const RecordView& view, bool pinned, std::size_t budget_bytes);

} // namespace forklore::gui
