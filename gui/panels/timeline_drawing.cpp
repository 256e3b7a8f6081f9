// The Timeline tab's drawing (timeline_drawing.hpp): shapes and words, given a Mapping.
//
// Index of this file:
// [SECTION] Colours and a lane's geometry
// [SECTION] The time axis and grid
// [SECTION] Rows of bars, hold bands and fork copies
// [SECTION] A stuck thread's wait, badges and markers
// [SECTION] Arrows, process headers and the legend
#include "gui/panels/timeline_drawing.hpp"

#include "gui/widgets.hpp"

#include <fmt/format.h>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <optional>

namespace forklore::gui::timeline_drawing {

// [SECTION] Colours and a lane's geometry -----------------------------------------------------

constexpr ImU32 kAxisColour = IM_COL32(170, 170, 180, 255);
constexpr ImU32 kGridColour = IM_COL32(255, 255, 255, 18);
constexpr ImU32 kStuckOutline = IM_COL32(255, 190, 190, 255); // around a stuck thread's last wait
constexpr ImU32 kStuckHatch = IM_COL32(60, 10, 10, 170);      // its diagonal stripes
constexpr ImU32 kLiveBadge = IM_COL32(140, 140, 150, 255);    // a thread running beside them
constexpr ImU32 kBandText = IM_COL32(15, 25, 15, 255);        // a lock's name on its band
constexpr int kHoldTintAlpha = 40; // a held lock's colour over the holder's waits below its band
// A lock fork copied into a child: orange, striped when orphaned (its holder was not copied).
constexpr ImU32 kCopyColour = IM_COL32(240, 160, 60, 255);
constexpr ImU32 kOrphanFill = IM_COL32(110, 70, 20, 255);
constexpr ImU32 kOrphanStripe = IM_COL32(160, 105, 35, 255);
constexpr ImU32 kCopyText = IM_COL32(255, 235, 200, 255);

// What the samples show of a thread no probe records: muted, so red waits stand out.
constexpr ImU32 kSampledRunning = IM_COL32(150, 160, 175, 255);
constexpr ImU32 kSampledSleeping = IM_COL32(55, 75, 125, 255);

static ImU32 bar_colour(BarKind kind) {
    switch (kind) {
    case BarKind::running:
        return kSampledRunning;
    case BarKind::sleeping:
        return kSampledSleeping;
    case BarKind::held:
        return palette::held;
    case BarKind::held_with_waiters:
        return palette::held_with_waiters;
    case BarKind::waiting:
        return palette::waiting;
    }
    return palette::running;
}

static ImU32 marker_colour(MarkerKind kind) {
    switch (kind) {
    case MarkerKind::note:
        return IM_COL32(120, 180, 255, 255);
    case MarkerKind::output:
        return IM_COL32(215, 215, 215, 255);
    case MarkerKind::measurement:
        return IM_COL32(190, 130, 255, 255);
    case MarkerKind::signal:
        return kExitBySignal;
    case MarkerKind::exit:
        return IM_COL32(235, 235, 240, 255);
    case MarkerKind::child_start:
    case MarkerKind::exec:
        return palette::process_edge;
    case MarkerKind::cond_signal:
        return IM_COL32(110, 200, 200, 255);
    case MarkerKind::process_start:
    case MarkerKind::thread_start:
    case MarkerKind::thread_exit:
        return IM_COL32(150, 150, 160, 255);
    case MarkerKind::other:
        return IM_COL32(120, 120, 130, 255);
    }
    return palette::running;
}

// A band carries a lock's name: one line of text high.
float band_height() {
    return ImGui::GetTextLineHeight() + 3;
}

static float bands_height(const TimelineLane& lane) {
    return static_cast<float>(lane.copies.size() + lane.hold_rows.size()) *
           (band_height() + kRowGap);
}

float lane_height(const TimelineLane& lane) {
    return kMarkerBand + bands_height(lane) +
           static_cast<float>(lane.rows.size()) * (kRowHeight + kRowGap) + kLanePad;
}

// A row's top, relative to its lane's top: copies, then holds, then waits.
float row_offset(const TimelineLane& lane, LaneRow row) {
    const float band = band_height() + kRowGap;
    switch (row.kind) {
    case LaneRowKind::copy:
        return kMarkerBand + static_cast<float>(row.index) * band;
    case LaneRowKind::hold:
        return kMarkerBand + static_cast<float>(lane.copies.size() + row.index) * band;
    case LaneRowKind::wait:
        return kMarkerBand + bands_height(lane) +
               static_cast<float>(row.index) * (kRowHeight + kRowGap);
    }
    return kMarkerBand;
}

float row_height(LaneRowKind kind) {
    return kind == LaneRowKind::wait ? kRowHeight : band_height();
}

float header_height() {
    return ImGui::GetTextLineHeight() + 6;
}

static std::string ms_label(double ns, int decimals) {
    return fmt::format("{:.{}f} ms", ns / 1e6, decimals);
}

// [SECTION] The time axis and grid -----------------------------------------------------------

static double nice_step(double raw) {
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0})
        if (m * power >= raw)
            return m * power;
    return 10 * power;
}

void draw_axis(ImDrawList* draw, const Mapping& map, ImVec2 min, ImVec2 max) {
    draw->AddLine(ImVec2(min.x, max.y - 1), ImVec2(max.x, max.y - 1), kAxisColour);
    const double step = nice_step(map.ns_per_px * 90); // a label every 90 px or more
    const int decimals = std::clamp(static_cast<int>(std::ceil(-std::log10(step / 1e6))), 0, 6);
    const double first = std::ceil(map.t(min.x) / step) * step;
    draw->PushClipRect(min, max, true);
    for (double t = first; map.x(t) <= max.x; t += step) {
        const float x = std::round(map.x(t));
        draw->AddLine(ImVec2(x, max.y - 6), ImVec2(x, max.y - 1), kAxisColour);
        draw->AddText(ImVec2(x + 3, min.y + 1), kAxisColour, ms_label(t, decimals).c_str());
    }
    draw->PopClipRect();
}

void draw_grid(ImDrawList* draw, const Mapping& map, ImVec2 min, ImVec2 max) {
    const double step = nice_step(map.ns_per_px * 90);
    for (double t = std::ceil(map.t(min.x) / step) * step; map.x(t) <= max.x; t += step) {
        const float x = std::round(map.x(t));
        draw->AddLine(ImVec2(x, min.y), ImVec2(x, max.y), kGridColour);
    }
}

float clamp_x(float x, ImVec2 min, ImVec2 max) {
    return std::clamp(x, min.x - 8, max.x + 8);
}

// [SECTION] Rows of bars, hold bands and fork copies -----------------------------------------

// The word before a wait's name on its bar, by what it waits for.
struct WaitPrefix {
    BarSubject what;
    const char* words;
};
constexpr WaitPrefix kWaitPrefixes[] = {{BarSubject::barrier, "barrier "},
                                        {BarSubject::condition, "condition "},
                                        {BarSubject::join, "join "},
                                        {BarSubject::child, "child "}};

// What a wait bar says on itself, when it fits: "barrier finished", "file_lock", "child 4"; the
// bare name when only that fits.
static void wait_text(ImDrawList* draw, const TimelineBar& bar, const RunRecord& record, float x0,
                      float x1, float y0, ImVec2 plot_min, ImVec2 plot_max) {
    if (bar.begin_event >= record.events.size())
        return;
    const Event& e = record.events[bar.begin_event];
    const std::string name = bar.what == BarSubject::child ? fmt::format("{}", e.object)
                                                           : std::string(field_text(e.name));
    if (name.empty())
        return;
    if (bar.what == BarSubject::sampled) // no event: its hover text says what the samples showed
        return;
    const char* prefix = ""; // a lock's or a file lock's name needs none
    for (const auto& [what, words] : kWaitPrefixes)
        if (what == bar.what)
            prefix = words;
    const float room = std::min(x1, plot_max.x) - std::max(x0, plot_min.x) - 6;
    std::string text = prefix + name;
    if (ImGui::CalcTextSize(text.c_str()).x > room && bar.what != BarSubject::child)
        text = name; // a bare pid would say nothing
    if (ImGui::CalcTextSize(text.c_str()).x > room)
        return;
    draw->AddText(
        ImVec2(std::max(x0, plot_min.x) + 3, y0 + (kRowHeight - ImGui::GetTextLineHeight()) / 2),
        IM_COL32(255, 235, 235, 255), text.c_str());
}

// The first bar at or after `from` that starts right of the pixel column holding x.
static std::size_t first_right_of_column(const TimelineRow& row, const Mapping& map, float x,
                                         std::size_t from) {
    const double column_end = map.t(std::floor(x) + 1);
    return row.first_starting_at_or_after(static_cast<std::int64_t>(std::ceil(column_end)), from);
}

// Walks the bars of a row that the plot shows: each bar at least kMinBarPx wide goes to
// `wide(bar, x0, x1)`; the bars that start within one pixel column become one block,
// `block(kind, x0, x1)`, coloured by the kind that took most of its time. O(visible pixels x log
// bars) whatever the record's size. Returns the index of the first visible bar.
template <class Wide, class Block>
static std::size_t walk_visible_bars(const TimelineRow& row, const Mapping& map, ImVec2 plot_min,
                                     ImVec2 plot_max, Wide wide, Block block) {
    const auto& bars = row.bars;
    const double t_begin = map.t(plot_min.x), t_end = map.t(plot_max.x);
    std::size_t i = row.first_ending_at_or_after(static_cast<std::int64_t>(std::floor(t_begin)));
    const std::size_t first_visible = i;
    auto width = [&](const TimelineBar& bar) {
        return static_cast<float>((bar.end_ns - bar.start_ns) / map.ns_per_px);
    };
    while (i < bars.size() && static_cast<double>(bars[i].start_ns) <= t_end) {
        const TimelineBar& bar = bars[i];
        const float x0 = clamp_x(map.x(static_cast<double>(bar.start_ns)), plot_min, plot_max);
        if (width(bar) >= kMinBarPx) {
            wide(bar, x0, clamp_x(map.x(static_cast<double>(bar.end_ns)), plot_min, plot_max));
            ++i;
            continue;
        }
        // Every bar that starts within this pixel column becomes one block.
        std::size_t j = std::max(first_right_of_column(row, map, x0, i), i + 1);
        if (j - 1 > i && width(bars[j - 1]) >= kMinBarPx)
            --j; // a wide one is drawn on its own
        const float x1 = std::max(
            x0 + 1, clamp_x(map.x(static_cast<double>(bars[j - 1].end_ns)), plot_min, plot_max));
        block(row.dominant_kind(i, j), x0, x1);
        i = j;
    }
    return first_visible;
}

static bool is_selected(const TimelineBar& bar, const Selection& selection) {
    return selection.event &&
           (bar.begin_event == *selection.event || bar.end_event == *selection.event);
}

// One row of bars: wide bars one by one, bars narrower than a pixel merged. With the record, a
// wide bar says what it waits for.
void draw_row(ImDrawList* draw, const TimelineRow& row, const Mapping& map, float y0,
              ImVec2 plot_min, ImVec2 plot_max, const Selection& selection,
              const RunRecord* record) {
    walk_visible_bars(
        row, map, plot_min, plot_max,
        [&](const TimelineBar& bar, float x0, float x1) {
            draw->AddRectFilled(ImVec2(x0, y0), ImVec2(x1, y0 + kRowHeight), bar_colour(bar.kind));
            if (record && bar.kind == BarKind::waiting)
                wait_text(draw, bar, *record, x0, x1, y0, plot_min, plot_max);
            if (is_selected(bar, selection))
                draw->AddRect(ImVec2(x0 - 1, y0 - 1), ImVec2(x1 + 1, y0 + kRowHeight + 1),
                              palette::selected, 0, 0, 2);
        },
        [&](BarKind kind, float x0, float x1) {
            draw->AddRectFilled(ImVec2(x0, y0), ImVec2(x1, y0 + kRowHeight), bar_colour(kind));
        });
}

// The name of a band: on it when it fits; else just right of it, in the band's colour, when the
// row is free there up to `free_until` (a short hold at the default zoom still reads "file_lock");
// else cut to the band, when a few letters fit. The tooltip always has it. Returns whether a
// name was written.
static bool band_text(ImDrawList* draw, float x0, float x1, float y0, ImU32 colour,
                      const char* text, ImVec2 plot_min, ImVec2 plot_max, float free_until = 0,
                      ImU32 outside = 0) {
    const float left = std::max(x0, plot_min.x), right = std::min(x1, plot_max.x);
    const float width = ImGui::CalcTextSize(text).x;
    if (width + 6 > right - left && outside != 0 && x1 >= plot_min.x &&
        x1 + 4 + width <= std::min(free_until, plot_max.x)) {
        draw->AddRectFilled(ImVec2(x1 + 2, y0), ImVec2(x1 + 6 + width, y0 + band_height()),
                            IM_COL32(25, 25, 30, 220), 2);
        draw->AddText(ImVec2(x1 + 4, y0 + 1), outside, text);
        return true;
    }
    if (right - left < ImGui::GetFontSize() * 1.5f)
        return false;
    draw->PushClipRect(ImVec2(left, y0), ImVec2(right, y0 + band_height()), true);
    draw->AddText(ImVec2(left + 3, y0 + 1), colour, text);
    draw->PopClipRect();
    return true;
}

// One row of a lane's hold bands: as draw_row, then each hold wide enough carries its lock's name
// (once, over all its green and yellow segments) and tints the holder's rows below it, so a wait
// inside a hold reads as "waits while holding".
void draw_hold_row(ImDrawList* draw, const TimelineRow& row, const Mapping& map, float y0,
                   float tint_bottom, ImVec2 plot_min, ImVec2 plot_max, const Selection& selection,
                   const RunRecord& record, std::vector<DrawnBand>& drawn, std::size_t lane,
                   std::size_t row_index) {
    const auto& bars = row.bars;
    const double t_end = map.t(plot_max.x);
    const float height = band_height();
    const std::size_t first_visible = walk_visible_bars(
        row, map, plot_min, plot_max,
        [&](const TimelineBar& bar, float x0, float x1) {
            draw->AddRectFilled(ImVec2(x0, y0 + height), ImVec2(x1, tint_bottom),
                                with_alpha(bar_colour(bar.kind), kHoldTintAlpha));
            draw->AddRectFilled(ImVec2(x0, y0), ImVec2(x1, y0 + height), bar_colour(bar.kind), 2);
            if (is_selected(bar, selection))
                draw->AddRect(ImVec2(x0 - 1, y0 - 1), ImVec2(x1 + 1, y0 + height + 1),
                              palette::selected, 0, 0, 2);
        },
        [&](BarKind kind, float x0, float x1) {
            draw->AddRectFilled(ImVec2(x0, y0), ImVec2(x1, y0 + height), bar_colour(kind));
        });
    // Names last, so that no segment is filled over them: one per hold, across its segments.
    for (std::size_t k = first_visible;
         k < bars.size() && static_cast<double>(bars[k].start_ns) <= t_end;) {
        std::size_t last = k;
        while (last + 1 < bars.size() && bars[last + 1].begin_event == bars[k].begin_event)
            ++last;
        const float x0 = map.x(static_cast<double>(bars[k].start_ns));
        const float x1 = map.x(static_cast<double>(bars[last].end_ns));
        if (x1 - x0 >= kMinBarPx) {
            // The row is free after this hold up to the next one's start.
            const float free_until = last + 1 < bars.size()
                                         ? map.x(static_cast<double>(bars[last + 1].start_ns)) - 4
                                         : plot_max.x;
            const bool named =
                bars[k].begin_event < record.events.size() &&
                band_text(draw, x0, x1, y0, kBandText, record.events[bars[k].begin_event].name,
                          plot_min, plot_max, free_until, bar_colour(bars[k].kind));
            drawn.push_back({lane,
                             {LaneRowKind::hold, row_index},
                             std::max(x0, plot_min.x),
                             std::min(x1, plot_max.x),
                             named,
                             bars[k].begin_event});
            k = last + 1;
            continue;
        }
        // A narrow hold. Of the holds that start in its pixel column only the last can be wide
        // (bars never overlap, so the others end before it starts): jump to that one's first
        // segment, so a frame costs the visible columns, not the visible holds.
        std::size_t next = std::max(first_right_of_column(row, map, x0, k), k + 1) - 1;
        while (next > 0 && bars[next - 1].begin_event == bars[next].begin_event)
            --next;
        k = std::max(last + 1, next);
    }
}

// A lock a forked child was born holding. Orphaned (its holder stayed in the parent): dark orange
// with stripes; the forking thread's own lock: green, outlined in orange. Named in words.
void draw_copy_band(ImDrawList* draw, const CopyBand& copy, const Mapping& map, float y0,
                    ImVec2 plot_min, ImVec2 plot_max, const Selection& selection,
                    std::vector<DrawnBand>& drawn, std::size_t lane, std::size_t index) {
    const float height = band_height();
    const float x0 = clamp_x(map.x(static_cast<double>(copy.start_ns)), plot_min, plot_max);
    const float x1 =
        std::max(x0 + 2, clamp_x(map.x(static_cast<double>(copy.end_ns)), plot_min, plot_max));
    if (x1 < plot_min.x || x0 > plot_max.x)
        return;
    const ImVec2 min(x0, y0), max(x1, y0 + height);
    if (copy.lock.orphaned) {
        draw->AddRectFilled(min, max, kOrphanFill);
        draw->PushClipRect(ImVec2(std::max(x0, plot_min.x), y0),
                           ImVec2(std::min(x1, plot_max.x), y0 + height), true);
        const float first = std::max(x0, plot_min.x - height);
        for (float x = first - std::fmod(first - x0, 8.0f); x < std::min(x1, plot_max.x); x += 8)
            draw->AddLine(ImVec2(x, y0 + height), ImVec2(x + height, y0), kOrphanStripe, 3);
        draw->PopClipRect();
    } else {
        draw->AddRectFilled(min, max, with_alpha(palette::held, 200));
    }
    const bool selected = selection.is_event(copy.fork_event);
    draw->AddRect(min, max, selected ? palette::selected : kCopyColour, 0, 0, selected ? 2 : 1.5f);
    // The whole sentence when it fits, else shorter ones: the lock's name first of all.
    const std::string name =
        copy.lock.name.empty() ? fmt::format("{:#x}", copy.lock.address) : copy.lock.name;
    const std::string labels[] = {
        copy_band_label(copy), name + (copy.lock.orphaned ? " (orphaned copy)" : " (copy)"), name};
    const float room = std::min(x1, plot_max.x) - std::max(x0, plot_min.x) - 6;
    const std::string* label = &labels[2];
    for (const std::string& candidate : labels)
        if (ImGui::CalcTextSize(candidate.c_str()).x <= room) {
            label = &candidate;
            break;
        }
    const bool named = band_text(draw, x0, x1, y0, copy.lock.orphaned ? kCopyText : kBandText,
                                 label->c_str(), plot_min, plot_max);
    drawn.push_back({lane,
                     {LaneRowKind::copy, index},
                     std::max(x0, plot_min.x),
                     std::min(x1, plot_max.x),
                     named,
                     copy.fork_event});
}

// [SECTION] A stuck thread's wait, badges and markers ----------------------------------------

// A stuck thread's final wait: outlined and hatched, so it reads differently from a wait that a
// live thread could still end. Over the red bar when the trace has one; filled red otherwise.
void draw_stuck_wait(ImDrawList* draw, const TimelineLane& lane, const Mapping& map, float lane_y,
                     ImVec2 plot_min, ImVec2 plot_max) {
    if (lane.verdict != LaneVerdict::stuck || !lane.stuck_from_ns)
        return;
    const float y0 = lane_y + row_offset(lane, {LaneRowKind::wait, lane.stuck_row});
    const float y1 = y0 + kRowHeight;
    const float x0 = clamp_x(map.x(static_cast<double>(*lane.stuck_from_ns)), plot_min, plot_max);
    const float x1 =
        std::max(x0 + 3, clamp_x(map.x(static_cast<double>(lane.end_ns)), plot_min, plot_max));
    const bool has_bar =
        lane.stuck_row < lane.rows.size() && !lane.rows[lane.stuck_row].bars.empty();
    if (!has_bar)
        draw->AddRectFilled(ImVec2(x0, y0), ImVec2(x1, y1), palette::waiting);
    draw->PushClipRect(ImVec2(std::max(x0, plot_min.x), y0), ImVec2(std::min(x1, plot_max.x), y1),
                       true);
    const float first = std::max(x0, plot_min.x - kRowHeight);
    const float last = std::min(x1, plot_max.x);
    for (float x = first - std::fmod(first - x0, 6.0f); x < last; x += 6.0f)
        draw->AddLine(ImVec2(x, y1), ImVec2(x + kRowHeight, y0), kStuckHatch, 1.5f);
    draw->PopClipRect();
    draw->AddRect(ImVec2(x0, y0 - 1), ImVec2(x1, y1 + 1), kStuckOutline, 0, 0, 1.5f);
}

// The badge at the right of a lane's name: "STUCK" in the wait colour, "live" in grey.
void draw_lane_badge(ImDrawList* draw, const TimelineLane& lane, float right, float lane_y) {
    if (lane.verdict == LaneVerdict::none)
        return;
    const std::string text(to_string(lane.verdict));
    const ImVec2 size = ImGui::CalcTextSize(text.c_str());
    const ImVec2 min(right - size.x - 6, lane_y + 1), max(right, lane_y + size.y + 3);
    if (lane.verdict == LaneVerdict::stuck) {
        draw->AddRectFilled(min, max, with_alpha(palette::waiting, 70), 3);
        draw->AddRect(min, max, palette::waiting, 3);
        draw->AddText(ImVec2(min.x + 3, min.y + 1), kStuckOutline, text.c_str());
    } else {
        draw->AddRect(min, max, with_alpha(kLiveBadge, 120), 3);
        draw->AddText(ImVec2(min.x + 3, min.y + 1), kLiveBadge, text.c_str());
    }
}

void draw_markers(ImDrawList* draw, const TimelineLane& lane, const Mapping& map, float y0,
                  ImVec2 plot_min, ImVec2 plot_max, const Selection& selection,
                  const RunRecord& record) {
    const auto& markers = lane.markers;
    const double t_begin = map.t(plot_min.x - kMarkerHalfWidth);
    const double t_end = map.t(plot_max.x + kMarkerHalfWidth);
    auto first_at = [&](double t) {
        return static_cast<std::size_t>(std::lower_bound(markers.begin(), markers.end(), t,
                                                         [](const TimelineMarker& m, double value) {
                                                             return static_cast<double>(m.t_ns) <
                                                                    value;
                                                         }) -
                                        markers.begin());
    };
    for (std::size_t i = first_at(t_begin);
         i < markers.size() && static_cast<double>(markers[i].t_ns) <= t_end;) {
        const TimelineMarker& marker = markers[i];
        const float x = map.x(static_cast<double>(marker.t_ns));
        ImU32 colour = marker_colour(marker.kind);
        if (marker.kind == MarkerKind::exit && marker.event < record.events.size()) {
            if (WaitStatus::from_raw(static_cast<int>(record.events[marker.event].arg0)).killed())
                colour = kExitBySignal;
        }
        const bool selected = selection.is_event(marker.event);
        // A downward triangle in the lane's marker band; an exit is a bar across the lane.
        if (marker.kind == MarkerKind::exit)
            draw->AddRectFilled(ImVec2(x - 1.5f, y0),
                                ImVec2(x + 1.5f, y0 + lane_height(lane) - kLanePad), colour);
        draw->AddTriangleFilled(ImVec2(x - kMarkerHalfWidth, y0), ImVec2(x + kMarkerHalfWidth, y0),
                                ImVec2(x, y0 + kMarkerBand - 2), colour);
        if (selected)
            draw->AddRect(ImVec2(x - kMarkerHalfWidth - 2, y0 - 1),
                          ImVec2(x + kMarkerHalfWidth + 2, y0 + kMarkerBand), palette::selected, 0,
                          0, 2);
        // Markers closer than a marker's width overlap: skip to the next free position.
        const std::size_t next = first_at(map.t(x + kMarkerHalfWidth));
        i = std::max(next, i + 1);
    }
}

// [SECTION] Arrows, process headers and the legend -------------------------------------------

// A start arrow's label: the method, then (in the copies' colour) the locks fork carried across.
void draw_arrow_label(ImDrawList* draw, ImVec2 at, ImU32 colour, const std::string& method,
                      const std::string& copies, float plot_right) {
    const float gap = ImGui::GetFontSize() * 0.5f;
    const ImVec2 method_size = ImGui::CalcTextSize(method.c_str());
    const float copies_width = copies.empty() ? 0 : gap + ImGui::CalcTextSize(copies.c_str()).x;
    // Past the plot's right edge, the label goes to the left of the arrow's head.
    if (at.x + method_size.x + copies_width + 4 > plot_right)
        at.x = std::max(at.x - 12 - method_size.x - copies_width,
                        plot_right - method_size.x - copies_width - 4);
    at.y += 1;
    draw->AddRectFilled(ImVec2(at.x - 2, at.y),
                        ImVec2(at.x + method_size.x + copies_width + 2, at.y + method_size.y),
                        IM_COL32(30, 30, 36, 230), 3);
    draw->AddText(at, colour, method.c_str());
    if (!copies.empty())
        draw->AddText(ImVec2(at.x + method_size.x + gap, at.y), kCopyColour, copies.c_str());
}

void draw_arrow(ImDrawList* draw, ImVec2 from, ImVec2 to, ImU32 colour, const std::string& label) {
    draw->AddLine(from, to, colour, 1.5f);
    const float dx = to.x - from.x, dy = to.y - from.y;
    const float length = std::sqrt(dx * dx + dy * dy);
    if (length < 1)
        return;
    const float ux = dx / length, uy = dy / length;
    const float head = 7;
    draw->AddTriangleFilled(
        to, ImVec2(to.x - ux * head - uy * head * 0.5f, to.y - uy * head + ux * head * 0.5f),
        ImVec2(to.x - ux * head + uy * head * 0.5f, to.y - uy * head - ux * head * 0.5f), colour);
    if (label.empty())
        return;
    const ImVec2 size = ImGui::CalcTextSize(label.c_str());
    const ImVec2 at((from.x + to.x) / 2 + 4, (from.y + to.y) / 2 - size.y / 2);
    draw->AddRectFilled(ImVec2(at.x - 2, at.y), ImVec2(at.x + size.x + 2, at.y + size.y),
                        IM_COL32(30, 30, 36, 220), 3);
    draw->AddText(at, colour, label.c_str());
}

std::string group_label(const TimelineGroup& group) {
    std::string label = fmt::format("pid {} {}", group.pid, group.name);
    if (!group.start_method.empty())
        label += fmt::format(" ({})", group.start_method);
    if (group.role == ProcessRole::host) // it lives outside the sandbox's PID namespace
        label += " (machine pid)";
    return label;
}

std::string group_tooltip(const TimelineGroup& group, const TimelineModel& model) {
    std::string text = fmt::format("process {} '{}'", group.pid, group.name);
    if (group.role == ProcessRole::host)
        text += "\nthe sandbox's host: it lives outside the sandbox, so this pid is the "
                "machine's; every other pid is the sandbox's own (its PID namespace)";
    else if (group.role == ProcessRole::reaper)
        text += "\nthe sandbox's reaper: pid 1 of the sandbox, it collects orphaned processes";
    if (group.parent_pid != 0)
        text += fmt::format(
            "\nstarted by process {}{}", group.parent_pid,
            group.start_method.empty() ? "" : fmt::format(" with {}", group.start_method));
    text += fmt::format("\nfrom {:.3f} ms", static_cast<double>(group.start_ns) / 1e6);
    if (group.ended)
        text += fmt::format(" to {:.3f} ms", static_cast<double>(group.end_ns) / 1e6);
    else
        text += fmt::format(", alive at the end of the run ({:.3f} ms)",
                            static_cast<double>(model.end_ns) / 1e6);
    if (!group.exit_description.empty())
        text += "\n" + group.exit_description;
    text += fmt::format("\n{} thread{}", group.lane_count, group.lane_count == 1 ? "" : "s");
    return text;
}

static void legend_swatch(ImU32 colour, const char* label) {
    // On the same line while it fits the panel; a narrow panel wraps the legend.
    const float width = ImGui::GetTextLineHeight() + 4 + ImGui::CalcTextSize(label).x;
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    if (ImGui::GetItemRectMax().x + ImGui::GetStyle().ItemSpacing.x + width < right)
        ImGui::SameLine();
    const float size = ImGui::GetTextLineHeight() * 0.7f;
    ImGui::Dummy(ImVec2(size, ImGui::GetTextLineHeight()));
    const ImVec2 min = ImGui::GetItemRectMin();
    const float pad = (ImGui::GetTextLineHeight() - size) / 2;
    ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(min.x, min.y + pad),
                                              ImVec2(min.x + size, min.y + pad + size), colour);
    ImGui::SameLine(0, 4);
    ImGui::TextUnformatted(label);
}

// The colours of the timeline, as lines of swatches (wrapped to the window they are drawn in).
void draw_legend(const TimelineModel& model) {
    ImGui::TextDisabled("Legend:");
    legend_swatch(palette::held, "lock held (band)");
    legend_swatch(palette::held_with_waiters, "held, others waiting");
    legend_swatch(palette::waiting, "waiting");
    if (std::any_of(model.lanes.begin(), model.lanes.end(),
                    [](const TimelineLane& lane) { return !lane.copies.empty(); }))
        legend_swatch(kOrphanFill, "fork's copy of a held lock");
    legend_swatch(IM_COL32(120, 180, 255, 255), "events");
    legend_swatch(palette::process_edge, "start / exec / exit");
    if (!model.sampled_spans.empty()) {
        // Threads no probe records, drawn from the kernel's samples.
        ImGui::TextDisabled("Sampled:");
        legend_swatch(kSampledRunning, "running");
        legend_swatch(kSampledSleeping, "sleeping");
        legend_swatch(palette::waiting, "waiting (on what: hover)");
    }
    if (std::any_of(model.lanes.begin(), model.lanes.end(),
                    [](const TimelineLane& lane) { return lane.verdict == LaneVerdict::stuck; })) {
        // A deadlock verdict's stuck set, on its own line: the sentence must stay readable.
        ImGui::TextDisabled("Deadlock:");
        legend_swatch(kStuckOutline, "STUCK: hatched wait, can never end");
        legend_swatch(kLiveBadge, "live: still runs beside them");
    }
}

} // namespace forklore::gui::timeline_drawing
