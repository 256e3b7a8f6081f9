// What the Timeline tab draws inside its plot, one piece a function: the time axis and grid, a
// lane's rows of bars (waits), hold bands and fork copies, a stuck thread's hatched wait, the
// markers, the arrows between processes, and the legend. Internal to the Timeline tab
// (gui/panels/timeline_*.cpp); the panel itself is timeline_panel.hpp. Every function draws
// into an ImDrawList and decides nothing about the view: where a time is drawn is `Mapping`'s.
#pragma once

#include "gui/panels/timeline_panel.hpp"
#include "gui/record_view.hpp"
#include "sim/timeline/timeline_model.hpp"

#include <imgui.h>

#include <cstddef>
#include <string>
#include <vector>

namespace forklore::gui::timeline_drawing {

// The geometry of a lane, in pixels at the default font.
inline constexpr float kLabelWidth = 210; // the column of process and thread names
inline constexpr float kMarkerBand = 9;   // top of each lane: event markers
inline constexpr float kRowHeight = 14;   // one row of bars (a wait's name fits on it)
inline constexpr float kRowGap = 2;
inline constexpr float kLanePad = 4;
inline constexpr float kScrollbarHeight = 12;
inline constexpr float kMinBarPx = 2; // narrower bars are merged per pixel
inline constexpr float kMarkerHalfWidth = 3.5f;

inline constexpr ImU32 kLaneShade = IM_COL32(255, 255, 255, 10);
inline constexpr ImU32 kHeaderShade = IM_COL32(255, 255, 255, 22);
inline constexpr ImU32 kLabelColour = IM_COL32(220, 220, 225, 255);
inline constexpr ImU32 kDimLabelColour = IM_COL32(150, 150, 160, 255);
inline constexpr ImU32 kExitBySignal = IM_COL32(240, 140, 60, 255);

// A band carries a lock's name: one line of text high.
float band_height();
float lane_height(const TimelineLane& lane);
// A row's top, relative to its lane's top: copies, then holds, then waits.
float row_offset(const TimelineLane& lane, LaneRow row);
float row_height(LaneRowKind kind);
float header_height();
// A screen x kept a little outside the plot, so that clipped shapes have no visible ends.
float clamp_x(float x, ImVec2 min, ImVec2 max);

// Screen x for a time and back, for the current view.
struct Mapping {
    double start_ns = 0, ns_per_px = 1;
    float x0 = 0;
    float x(double t_ns) const { return x0 + static_cast<float>((t_ns - start_ns) / ns_per_px); }
    double t(float x_px) const { return start_ns + static_cast<double>(x_px - x0) * ns_per_px; }
};

void draw_axis(ImDrawList* draw, const Mapping& map, ImVec2 min, ImVec2 max);
void draw_grid(ImDrawList* draw, const Mapping& map, ImVec2 min, ImVec2 max);

// One row of bars: wide bars one by one, bars narrower than a pixel merged. With the record, a
// wide bar says what it waits for.
void draw_row(ImDrawList* draw, const TimelineRow& row, const Mapping& map, float y0,
              ImVec2 plot_min, ImVec2 plot_max, const Selection& selection,
              const RunRecord* record = nullptr);
// One row of a lane's hold bands: as draw_row, then each hold wide enough carries its lock's name
// (once, over all its green and yellow segments) and tints the holder's rows below it, so a wait
// inside a hold reads as "waits while holding".
void draw_hold_row(ImDrawList* draw, const TimelineRow& row, const Mapping& map, float y0,
                   float tint_bottom, ImVec2 plot_min, ImVec2 plot_max, const Selection& selection,
                   const RunRecord& record, std::vector<DrawnBand>& drawn, std::size_t lane,
                   std::size_t row_index);
// A lock a forked child was born holding. Orphaned (its holder stayed in the parent): dark orange
// with stripes; the forking thread's own lock: green, outlined in orange. Named in words.
void draw_copy_band(ImDrawList* draw, const CopyBand& copy, const Mapping& map, float y0,
                    ImVec2 plot_min, ImVec2 plot_max, const Selection& selection,
                    std::vector<DrawnBand>& drawn, std::size_t lane, std::size_t index);
// A stuck thread's final wait: outlined and hatched, so it reads differently from a wait that a
// live thread could still end. Over the red bar when the trace has one; filled red otherwise.
void draw_stuck_wait(ImDrawList* draw, const TimelineLane& lane, const Mapping& map, float lane_y,
                     ImVec2 plot_min, ImVec2 plot_max);
// The badge at the right of a lane's name: "STUCK" in the wait colour, "live" in grey.
void draw_lane_badge(ImDrawList* draw, const TimelineLane& lane, float right, float lane_y);
void draw_markers(ImDrawList* draw, const TimelineLane& lane, const Mapping& map, float y0,
                  ImVec2 plot_min, ImVec2 plot_max, const Selection& selection,
                  const RunRecord& record);

// A start arrow's label: the method, then (in the copies' colour) the locks fork carried across.
void draw_arrow_label(ImDrawList* draw, ImVec2 at, ImU32 colour, const std::string& method,
                      const std::string& copies, float plot_right);
void draw_arrow(ImDrawList* draw, ImVec2 from, ImVec2 to, ImU32 colour, const std::string& label);

// A process's header row: "pid 4 read (fork)", and its tooltip.
std::string group_label(const TimelineGroup& group);
std::string group_tooltip(const TimelineGroup& group, const TimelineModel& model);

// The colours of the timeline, as lines of swatches (wrapped to the window they are drawn in).
void draw_legend(const TimelineModel& model);

} // namespace forklore::gui::timeline_drawing
