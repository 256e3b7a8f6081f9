// The Timeline tab: one lane per thread, grouped by process; the locks a thread holds as named
// bands (green, yellow while others wait) over the bars of what it waits on (red); starts, execs
// and exits as arrows between the process groups, a fork's arrow listing the locks it copied. Zoom
// with the wheel or the buttons, pan by dragging, hover for an event's details, click to select it
// in every panel.
#pragma once

#include "gui/record_view.hpp"
#include "sim/timeline/timeline_model.hpp"

#include <imgui.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace forklore::gui {

// A band drawn in the last frame: where, and whether its lock's name fitted on it.
struct DrawnBand {
    std::size_t lane = 0;
    LaneRow row;
    float x0 = 0, x1 = 0; // screen x, clipped to the plot
    bool named = false;   // the name was written on it (else only its tooltip has it)
    std::size_t event = kNoTimelineEvent; // the hold's acquire, or the fork of a copy
};

struct TimelinePanelState {
    // The model, rebuilt only when the record's generation changes (and at most five times a
    // second while a run is live: a 100k-event record takes milliseconds to analyse).
    TimelineModel model;
    ModelKey built_from;           // with show_infrastructure as its option
    std::int64_t run_start_ns = 0; // identifies the run: a new run resets the view
    double built_at = -1;          // ImGui time of the last build
    double build_ms = 0;           // how long the last build took
    // The sandbox's host and reaper are not the scenario's code: hidden unless the user ticks
    // the toggle (sim/timeline/infrastructure.hpp). The model holds only what is shown.
    bool show_infrastructure = false;
    std::size_t infrastructure_groups = 0; // in the record, shown or not

    // The view: the time at the plot's left edge and the zoom. Until the user zooms or pans
    // (user_moved), the view fits the whole run, and so follows the end of a live run.
    double view_start_ns = 0;
    double ns_per_px = 0; // 0: fit at the next frame
    bool user_moved = false;

    // Layout of the last frame, in screen coordinates (for hit tests and the tests).
    ImVec2 plot_min{0, 0}, plot_max{0, 0}; // the visible plot area (lanes, without labels)
    float content_top = 0;                 // screen y of the first group's header
    std::vector<float> lane_top;           // per lane, relative to content_top
    std::vector<float> group_top;          // per group, relative to content_top
    float content_height = 0;
    std::optional<std::size_t> hovered_event; // under the mouse in the last frame
    std::vector<DrawnBand> drawn_bands;       // the hold and copy bands of the last frame
};

void draw_timeline_panel(TimelinePanelState& state, const RecordView& view, Selection& selection);

// The toolbar's range: "0.000 .. 47.256 ms of 47.256 ms". The view may reach past the run (fit
// leaves a margin, zoom out is allowed to 4x the run): the numbers stay within the run, and a
// view wider than it says so ("whole run, 47.256 ms").
std::string describe_visible_range(double view_start_ns, double view_end_ns, double run_end_ns,
                                   bool live);

// Where a time on a lane's row was drawn in the last frame (the middle of the bar's height);
// nothing when that point is scrolled out of the plot.
std::optional<ImVec2> timeline_screen_position(const TimelinePanelState& state, std::size_t lane,
                                               LaneRow row, std::int64_t t_ns);

} // namespace forklore::gui
