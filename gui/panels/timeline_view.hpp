// The Timeline tab's model and view (TimelinePanelState's): the model rebuilt once per record
// generation and laid out, and the view fitted to the program's part of the run, zoomed around a
// point, or showing the whole run. Internal to the Timeline tab (gui/panels/timeline_*.cpp).
#pragma once

#include "gui/panels/timeline_panel.hpp"
#include "gui/record_view.hpp"

namespace forklore::gui::timeline_view {

inline constexpr double kZoomStep = 1.25; // one wheel notch or one press of + or -

// Builds the model when the record (or the infrastructure toggle) changed, at most a few times a
// second for a live run, and lays out its groups and lanes; a new run resets the view.
void rebuild_if_needed(TimelinePanelState& state, const RecordView& view);

// The default view: the program's part of the run (the model's story span), with a little room
// before its first event and after its last, where a wait that never ended runs on.
void fit(TimelinePanelState& state, float plot_width);
void show_whole_run(TimelinePanelState& state, float plot_width);
// Keeps the zoom between the clock's resolution and 4x the run, and the run in view.
void clamp_view(TimelinePanelState& state, float plot_width);
// Zooms by `factor` (above 1: out) keeping the time under `anchor_px` where it is.
void zoom_at(TimelinePanelState& state, float plot_width, float anchor_px, double factor);

} // namespace forklore::gui::timeline_view
