// [SECTION] constants and small helpers
// [SECTION] model and layout (once per record generation)
// [SECTION] the view: fit, zoom, pan
// [SECTION] drawing: axis, group headers, lanes (bars, markers), arrows
// [SECTION] the panel
#include "gui/panels/timeline_panel.hpp"

#include "gui/models/infrastructure.hpp"
#include "gui/widgets.hpp"

#include <fmt/format.h>

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace forklore::gui {

namespace {

// [SECTION] constants and small helpers ------------------------------------------------------

constexpr float kLabelWidth = 210; // the column of process and thread names
constexpr float kMarkerBand = 9;   // top of each lane: event markers
constexpr float kRowHeight = 14;   // one row of bars (a wait's name fits on it)
constexpr float kRowGap = 2;
constexpr float kLanePad = 4;
constexpr float kScrollbarHeight = 12;
constexpr float kMinBarPx = 2; // narrower bars are merged per pixel
constexpr float kMarkerHalfWidth = 3.5f;
constexpr double kZoomStep = 1.25;
constexpr double kMinNsPerPx = 0.05; // a few pixels per nanosecond: the clock's resolution
constexpr double kLiveRebuildSeconds = 0.2;

constexpr ImU32 kLaneShade = IM_COL32(255, 255, 255, 10);
constexpr ImU32 kHeaderShade = IM_COL32(255, 255, 255, 22);
constexpr ImU32 kAxisColour = IM_COL32(170, 170, 180, 255);
constexpr ImU32 kGridColour = IM_COL32(255, 255, 255, 18);
constexpr ImU32 kLabelColour = IM_COL32(220, 220, 225, 255);
constexpr ImU32 kDimLabelColour = IM_COL32(150, 150, 160, 255);
constexpr ImU32 kExitBySignal = IM_COL32(240, 140, 60, 255);
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

ImU32 bar_colour(BarKind kind) {
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

ImU32 marker_colour(MarkerKind kind) {
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

float bands_height(const TimelineLane& lane) {
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

std::string ms_label(double ns, int decimals) {
    return fmt::format("{:.{}f} ms", ns / 1e6, decimals);
}

// Screen x for a time and back, for the current view.
struct Mapping {
    double start_ns = 0, ns_per_px = 1;
    float x0 = 0;
    float x(double t_ns) const { return x0 + static_cast<float>((t_ns - start_ns) / ns_per_px); }
    double t(float x_px) const { return start_ns + static_cast<double>(x_px - x0) * ns_per_px; }
};

// [SECTION] model and layout (once per record generation) ----------------------------------

void layout(TimelinePanelState& state) {
    const TimelineModel& model = state.model;
    state.lane_top.assign(model.lanes.size(), 0);
    state.group_top.assign(model.groups.size(), 0);
    float y = 0;
    for (std::size_t g = 0; g < model.groups.size(); ++g) {
        state.group_top[g] = y;
        y += header_height();
        const TimelineGroup& group = model.groups[g];
        for (std::size_t l = group.first_lane; l < group.first_lane + group.lane_count; ++l) {
            state.lane_top[l] = y;
            y += lane_height(model.lanes[l]);
        }
    }
    state.content_height = y;
}

void rebuild_if_needed(TimelinePanelState& state, const RecordView& view) {
    const RunRecord& record = *view.get();
    const double now = ImGui::GetTime();
    const int options = state.show_infrastructure ? 1 : 0;
    if (state.built_from.matches(view, options))
        return;
    const bool filter_changed = state.built_from.built() && state.built_from.options() != options;
    // A live record changes after every sample; analysing 100k events each time would stall
    // the frames, so a live view is refreshed a few times a second.
    if (state.built_from.built() && view.live && !filter_changed && state.run_start_ns == record.start_time_ns &&
        now - state.built_at < kLiveRebuildSeconds)
        return;
    const auto started = std::chrono::steady_clock::now();
    state.model = build_timeline_model(record);
    state.infrastructure_groups = infrastructure_groups(state.model);
    if (!state.show_infrastructure)
        state.model = without_infrastructure(state.model);
    state.build_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    if (!state.built_from.built() || state.run_start_ns != record.start_time_ns) {
        state.user_moved = false; // a new run: show all of it
        state.ns_per_px = 0;
    }
    state.built_from.remember(view, options);
    state.run_start_ns = record.start_time_ns;
    state.built_at = now;
    layout(state);
}

// [SECTION] the view: fit, zoom, pan ----------------------------------------------------------

double max_ns_per_px(const TimelinePanelState& state, float plot_width) {
    return std::max(1.0, static_cast<double>(state.model.end_ns)) * 4 / plot_width;
}

// The default view: the program's part of the run (the model's story span), with a little room
// before its first event and after its last, where a wait that never ended runs on.
void fit(TimelinePanelState& state, float plot_width) {
    const TimelineModel& model = state.model;
    const double span =
        std::max(1.0, static_cast<double>(model.story_end_ns - model.story_start_ns));
    state.ns_per_px = span * 1.12 / plot_width;
    state.view_start_ns = static_cast<double>(model.story_start_ns) - span * 0.04;
}

void show_whole_run(TimelinePanelState& state, float plot_width) {
    state.ns_per_px = std::max(1.0, static_cast<double>(state.model.end_ns)) * 1.02 / plot_width;
    state.view_start_ns = 0;
    state.user_moved = true;
}

void clamp_view(TimelinePanelState& state, float plot_width) {
    state.ns_per_px = std::clamp(state.ns_per_px, kMinNsPerPx, max_ns_per_px(state, plot_width));
    const double visible = state.ns_per_px * plot_width;
    state.view_start_ns =
        std::clamp(state.view_start_ns, -visible / 2,
                   std::max(0.0, static_cast<double>(state.model.end_ns) - visible / 2));
}

void zoom_at(TimelinePanelState& state, float plot_width, float anchor_px, double factor) {
    const double anchor_ns = state.view_start_ns + anchor_px * state.ns_per_px;
    state.ns_per_px *= factor;
    clamp_view(state, plot_width);
    state.view_start_ns = anchor_ns - anchor_px * state.ns_per_px;
    clamp_view(state, plot_width);
    state.user_moved = true;
}

// [SECTION] drawing: axis, group headers, lanes (bars, markers), arrows ------------------------

double nice_step(double raw) {
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

// What a wait bar says on itself, when it fits: "barrier finished", "file_lock", "child 4"; the
// bare name when only that fits.
void wait_text(ImDrawList* draw, const TimelineBar& bar, const RunRecord& record, float x0,
               float x1, float y0, ImVec2 plot_min, ImVec2 plot_max) {
    if (bar.begin_event >= record.events.size())
        return;
    const Event& e = record.events[bar.begin_event];
    const std::string name =
        bar.what == BarSubject::child ? fmt::format("{}", e.object) : std::string(e.name);
    if (name.empty())
        return;
    const char* prefix = "";
    switch (bar.what) {
    case BarSubject::barrier:
        prefix = "barrier ";
        break;
    case BarSubject::condition:
        prefix = "condition ";
        break;
    case BarSubject::join:
        prefix = "join ";
        break;
    case BarSubject::child:
        prefix = "child ";
        break;
    case BarSubject::lock:
    case BarSubject::file_lock:
        break;
    case BarSubject::sampled: // no event names it: its hover text says what the samples showed
        return;
    }
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

// Walks the bars of a row that the plot shows: each bar at least kMinBarPx wide goes to
// `wide(bar, x0, x1)`; the bars that start within one pixel column become one block,
// `block(kind, x0, x1)`, coloured by the kind that took most of its time. O(visible pixels x log
// bars) whatever the record's size. Returns the index of the first visible bar.
template <class Wide, class Block>
std::size_t walk_visible_bars(const TimelineRow& row, const Mapping& map, ImVec2 plot_min,
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
        const double column_end = map.t(std::floor(x0) + 1);
        std::size_t j =
            row.first_starting_at_or_after(static_cast<std::int64_t>(std::ceil(column_end)));
        j = std::max(j, i + 1);
        if (j - 1 > i && width(bars[j - 1]) >= kMinBarPx)
            --j; // a wide one is drawn on its own
        const float x1 = std::max(
            x0 + 1, clamp_x(map.x(static_cast<double>(bars[j - 1].end_ns)), plot_min, plot_max));
        block(row.dominant_kind(i, j), x0, x1);
        i = j;
    }
    return first_visible;
}

bool is_selected(const TimelineBar& bar, const Selection& selection) {
    return selection.event &&
           (bar.begin_event == *selection.event || bar.end_event == *selection.event);
}

// One row of bars: wide bars one by one, bars narrower than a pixel merged. With the record, a
// wide bar says what it waits for.
void draw_row(ImDrawList* draw, const TimelineRow& row, const Mapping& map, float y0,
              ImVec2 plot_min, ImVec2 plot_max, const Selection& selection,
              const RunRecord* record = nullptr) {
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
bool band_text(ImDrawList* draw, float x0, float x1, float y0, ImU32 colour, const char* text,
               ImVec2 plot_min, ImVec2 plot_max, float free_until = 0, ImU32 outside = 0) {
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
        }
        k = last + 1;
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
            const int status = static_cast<int>(record.events[marker.event].arg0);
            if (WIFSIGNALED(status))
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
    std::string label = fmt::format("pid {} {}", group.pid, group.role);
    if (!group.start_method.empty())
        label += fmt::format(" ({})", group.start_method);
    if (group.role == "host") // it lives outside the sandbox's PID namespace
        label += " (machine pid)";
    return label;
}

std::string group_tooltip(const TimelineGroup& group, const TimelineModel& model) {
    std::string text = fmt::format("process {} '{}'", group.pid, group.role);
    if (group.role == "host")
        text += "\nthe sandbox's host: it lives outside the sandbox, so this pid is the "
                "machine's; every other pid is the sandbox's own (its PID namespace)";
    else if (group.role == "reaper")
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

void legend_swatch(ImU32 colour, const char* label) {
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

// The lane (or the group header) at a y offset from the content top.
struct RowAt {
    std::optional<std::size_t> lane, group;
    std::optional<LaneRow> row; // none in the marker band
};

RowAt row_at(const TimelinePanelState& state, float y) {
    RowAt at;
    const auto& model = state.model;
    if (y < 0 || y >= state.content_height)
        return at;
    auto group_it = std::upper_bound(state.group_top.begin(), state.group_top.end(), y);
    if (group_it == state.group_top.begin())
        return at;
    const std::size_t g = static_cast<std::size_t>(group_it - state.group_top.begin()) - 1;
    const TimelineGroup& group = model.groups[g];
    if (y < state.group_top[g] + header_height()) {
        at.group = g;
        return at;
    }
    auto lane_it = std::upper_bound(
        state.lane_top.begin() + static_cast<std::ptrdiff_t>(group.first_lane),
        state.lane_top.begin() + static_cast<std::ptrdiff_t>(group.first_lane + group.lane_count),
        y);
    const std::size_t lane = static_cast<std::size_t>(lane_it - state.lane_top.begin()) - 1;
    at.lane = lane;
    const TimelineLane& found = model.lanes[lane];
    const float inside = y - state.lane_top[lane];
    auto within = [&](LaneRowKind kind, std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) {
            const float top = row_offset(found, {kind, i});
            if (inside >= top && inside < top + row_height(kind) + kRowGap)
                at.row = LaneRow{kind, i};
        }
    };
    within(LaneRowKind::copy, found.copies.size());
    within(LaneRowKind::hold, found.hold_rows.size());
    within(LaneRowKind::wait, found.rows.size());
    return at;
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

} // namespace

std::string describe_visible_range(double view_start_ns, double view_end_ns, double run_end_ns,
                                   bool live) {
    const double run_end = std::max(0.0, run_end_ns);
    const char* suffix = live ? " (live)" : "";
    if (view_start_ns <= 0 && view_end_ns >= run_end)
        return fmt::format("whole run, {:.3f} ms{}", run_end / 1e6, suffix);
    const double from = std::clamp(view_start_ns, 0.0, run_end);
    const double to = std::clamp(view_end_ns, from, run_end);
    return fmt::format("{:.3f} .. {:.3f} ms of {:.3f} ms{}", from / 1e6, to / 1e6, run_end / 1e6,
                       suffix);
}

std::optional<ImVec2> timeline_screen_position(const TimelinePanelState& state, std::size_t lane,
                                               LaneRow row, std::int64_t t_ns) {
    if (lane >= state.lane_top.size() || lane >= state.model.lanes.size() || state.ns_per_px <= 0)
        return std::nullopt;
    const float x =
        state.plot_min.x +
        static_cast<float>((static_cast<double>(t_ns) - state.view_start_ns) / state.ns_per_px);
    const float y = state.content_top + state.lane_top[lane] +
                    row_offset(state.model.lanes[lane], row) + row_height(row.kind) / 2;
    if (x < state.plot_min.x || x >= state.plot_max.x || y < state.plot_min.y ||
        y >= state.plot_max.y)
        return std::nullopt;
    return ImVec2(x, y);
}

// [SECTION] the panel ---------------------------------------------------------------------------

void draw_timeline_panel(TimelinePanelState& state, const RecordView& view, Selection& selection) {
    ImGui::TextUnformatted("Timeline");
    help_marker(
        "One lane per thread, grouped by process (the header row of each group names the process, "
        "its role and how it was started). What a thread holds and what it waits on are apart: "
        "each lock it holds is a band with the lock's name (green, yellow while another thread "
        "waits for it), tinting the lane below it for as long as it is held; under the bands, red "
        "bars are what the thread waits on (a lock, a file lock, a condition variable, a barrier, "
        "a thread to join or a child process). So a red bar under a green band reads: it waits "
        "while it holds that lock. A red bar that runs to the right edge never ended: that thread "
        "was still waiting when the run stopped. A child made by fork() starts with a copy of "
        "every lock its parent's threads held at that instant: the fork arrow lists them, and the "
        "child's first lane shows each copy as an orange band from its start; striped when its "
        "holder is a thread the child does not have (fork copies only the thread that called it), "
        "so nobody in the child can ever unlock it. spawn and fork_exec start a fresh program: "
        "nothing is copied. After a "
        "deadlock, a thread badged STUCK can never run again (its last wait is outlined and "
        "hatched); one badged 'live' still ran beside them, and could not wake them. Triangles "
        "are other events (notes, output, thread starts ...); arrows join a parent to the child "
        "it started (labelled with the start method), an exec, and an exit to the process that "
        "reaped it. A thread no probe records (a program run by 'forklore exec', a Python "
        "interpreter) is drawn from the kernel's samples: running, sleeping, or waiting in red "
        "(hover: on what, since which sample); its process's start, execs and exit come from "
        "the process history.\n\nMouse wheel: zoom around the mouse (shift+wheel scrolls the lanes). Drag: "
        "pan. Hover: details. Click a bar or a triangle to select its event in every panel; click "
        "a thread's name to select the thread. 'Fit' shows the program's part of the run, from its "
        "first process to its last event (and follows a live run); 'Whole run' adds the sandbox's "
        "setup before it and the time the verdict took after it.");
    state.hovered_event.reset();
    state.drawn_bands.clear();
    if (!view) {
        ImGui::TextDisabled("No run yet.");
        return;
    }
    const RunRecord& record = *view.get();
    rebuild_if_needed(state, view);
    const TimelineModel& model = state.model;

    // Toolbar: zoom buttons act around the plot's middle, on last frame's width.
    const float last_width = std::max(1.0f, state.plot_max.x - state.plot_min.x);
    if (ImGui::SmallButton("-"))
        zoom_at(state, last_width, last_width / 2, kZoomStep);
    ImGui::SameLine();
    if (ImGui::SmallButton("+"))
        zoom_at(state, last_width, last_width / 2, 1 / kZoomStep);
    ImGui::SameLine();
    if (ImGui::SmallButton("Fit"))
        state.user_moved = false;
    ImGui::SameLine();
    if (ImGui::SmallButton("Whole run"))
        show_whole_run(state, last_width);
    ImGui::SameLine();
    ImGui::TextDisabled("%s",
                        describe_visible_range(state.view_start_ns,
                                               state.view_start_ns + state.ns_per_px * last_width,
                                               static_cast<double>(model.end_ns), view.live)
                            .c_str());
    if (state.infrastructure_groups > 0) {
        ImGui::SameLine(0, ImGui::GetFontSize() * 1.5f);
        ImGui::Checkbox("sandbox host and reaper", &state.show_infrastructure);
        help_marker("The sandbox's own processes: the host, which sets the sandbox up and lives "
                    "outside it (its pid is the machine's, while every other pid is the "
                    "sandbox's own), and the reaper, pid 1 inside the sandbox, which collects "
                    "orphaned processes. They are not the scenario's code: hidden unless ticked.");
    }
    // The legend takes up to four lines: where they would push lanes out of sight (a short
    // panel, as at 1024x700), it shrinks to one word whose tooltip holds it whole.
    const float legend_lines_height = ImGui::GetTextLineHeightWithSpacing() * 4;
    const float room_for_lanes = ImGui::GetContentRegionAvail().y - ImGui::GetTextLineHeight() * 2 -
                                 kScrollbarHeight - legend_lines_height;
    if (state.content_height > 0 && room_for_lanes < state.content_height) {
        ImGui::SameLine(0, ImGui::GetFontSize());
        ImGui::TextDisabled("Legend (hover)");
        if (ImGui::IsItemHovered()) {
            ImGui::BeginTooltip();
            ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
            draw_legend(model);
            ImGui::PopTextWrapPos();
            ImGui::EndTooltip();
        }
    } else {
        draw_legend(model);
    }

    ImGuiIO& io = ImGui::GetIO();
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float axis_height = ImGui::GetTextLineHeight() + 8;
    const ImVec2 axis_pos = ImGui::GetCursorScreenPos();
    ImGui::Dummy(ImVec2(std::max(1.0f, avail.x), axis_height));
    const float lanes_height = std::max(40.0f, avail.y - axis_height - kScrollbarHeight -
                                                   ImGui::GetStyle().ItemSpacing.y * 2);

    ImGui::BeginChild("##timeline_lanes", ImVec2(std::max(1.0f, avail.x), lanes_height), false,
                      ImGuiWindowFlags_NoScrollWithMouse |
                          ImGuiWindowFlags_AlwaysVerticalScrollbar);
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    // The names' column grows with the font (zoom), within a third of a narrow panel.
    const float label_width = std::min(kLabelWidth * ImGui::GetFontSize() / 13.0f,
                                       ImGui::GetContentRegionAvail().x * 0.35f);
    const float plot_width = std::max(50.0f, ImGui::GetContentRegionAvail().x - label_width);
    if (!state.user_moved || state.ns_per_px <= 0)
        fit(state, plot_width);
    clamp_view(state, plot_width);

    ImGui::InvisibleButton("##timeline_canvas",
                           ImVec2(label_width + plot_width, std::max(1.0f, state.content_height)));
    const bool hovered = ImGui::IsItemHovered();
    const bool clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
    ImDrawList* draw = ImGui::GetWindowDrawList();
    const ImVec2 clip_min = draw->GetClipRectMin(), clip_max = draw->GetClipRectMax();
    const ImVec2 plot_min(origin.x + label_width, clip_min.y);
    const ImVec2 plot_max(origin.x + label_width + plot_width, clip_max.y);
    state.plot_min = plot_min;
    state.plot_max = plot_max;
    state.content_top = origin.y;

    // Zoom and pan before drawing, so what is drawn is what the mouse points at.
    if (hovered && io.MouseWheel != 0) {
        if (io.KeyShift || io.MousePos.x < plot_min.x) {
            ImGui::SetScrollY(ImGui::GetScrollY() - io.MouseWheel * ImGui::GetTextLineHeight() * 3);
        } else {
            zoom_at(state, plot_width, io.MousePos.x - plot_min.x,
                    std::pow(kZoomStep, -static_cast<double>(io.MouseWheel)));
        }
    }
    if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left)) {
        state.view_start_ns -= static_cast<double>(io.MouseDelta.x) * state.ns_per_px;
        state.user_moved = true;
        clamp_view(state, plot_width);
        ImGui::SetScrollY(ImGui::GetScrollY() - io.MouseDelta.y);
    }
    const Mapping map{state.view_start_ns, state.ns_per_px, plot_min.x};

    // Only the groups and lanes inside the visible vertical range are drawn.
    const float visible_top = clip_min.y - origin.y, visible_bottom = clip_max.y - origin.y;
    draw_grid(draw, map, plot_min, plot_max);
    std::optional<double> selected_time;
    if (selection.event && *selection.event < record.events.size())
        selected_time =
            static_cast<double>(record.events[*selection.event].time_ns - record.start_time_ns);
    for (std::size_t g = 0; g < model.groups.size(); ++g) {
        const TimelineGroup& group = model.groups[g];
        const float top = state.group_top[g];
        const float bottom =
            g + 1 < model.groups.size() ? state.group_top[g + 1] : state.content_height;
        if (bottom < visible_top || top > visible_bottom)
            continue;
        // Header: the process's name in the label column, its lifetime as a band in the plot.
        const float header_y = origin.y + top;
        draw->AddRectFilled(ImVec2(origin.x, header_y),
                            ImVec2(plot_max.x, header_y + header_height() - 2), kHeaderShade);
        draw->PushClipRect(ImVec2(origin.x, clip_min.y), ImVec2(plot_min.x - 4, clip_max.y), true);
        draw->AddText(ImVec2(origin.x + 4 + 10.0f * static_cast<float>(group.depth), header_y + 3),
                      kLabelColour, group_label(group).c_str());
        draw->PopClipRect();
        draw->PushClipRect(plot_min, plot_max, true);
        const float band_y = header_y + header_height() / 2;
        draw->AddRectFilled(
            ImVec2(clamp_x(map.x(static_cast<double>(group.start_ns)), plot_min, plot_max),
                   band_y - 2),
            ImVec2(clamp_x(map.x(static_cast<double>(group.end_ns)), plot_min, plot_max),
                   band_y + 2),
            with_alpha(palette::process_edge, 110));
        draw->PopClipRect();

        for (std::size_t l = group.first_lane; l < group.first_lane + group.lane_count; ++l) {
            const TimelineLane& lane = model.lanes[l];
            const float lane_y = origin.y + state.lane_top[l];
            const float height = lane_height(lane);
            if (state.lane_top[l] + height < visible_top || state.lane_top[l] > visible_bottom)
                continue;
            const bool selected_thread =
                selection.pid == lane.pid && selection.tid == lane.tid && selection.tid != 0;
            draw->AddRectFilled(ImVec2(origin.x, lane_y), ImVec2(plot_max.x, lane_y + height - 1),
                                selected_thread ? with_alpha(palette::selected, 45) : kLaneShade);
            draw->PushClipRect(ImVec2(origin.x, clip_min.y), ImVec2(plot_min.x - 4, clip_max.y),
                               true);
            const std::string name = fmt::format("tid {} {}", lane.tid, lane.name);
            draw->AddText(
                ImVec2(origin.x + 14 + 10.0f * static_cast<float>(group.depth), lane_y + 2),
                selected_thread ? palette::selected : kDimLabelColour, name.c_str());
            draw_lane_badge(draw, lane, plot_min.x - 6, lane_y);
            draw->PopClipRect();

            draw->PushClipRect(plot_min, plot_max, true);
            // The thread's lifetime, under its waits.
            const float life_y = lane_y + row_offset(lane, {LaneRowKind::wait, 0}) + kRowHeight / 2;
            draw->AddLine(
                ImVec2(clamp_x(map.x(static_cast<double>(lane.start_ns)), plot_min, plot_max),
                       life_y),
                ImVec2(clamp_x(map.x(static_cast<double>(lane.end_ns)), plot_min, plot_max),
                       life_y),
                palette::running, 2);
            for (std::size_t r = 0; r < lane.copies.size(); ++r)
                draw_copy_band(draw, lane.copies[r], map,
                               lane_y + row_offset(lane, {LaneRowKind::copy, r}), plot_min,
                               plot_max, selection, state.drawn_bands, l, r);
            for (std::size_t r = 0; r < lane.hold_rows.size(); ++r)
                draw_hold_row(draw, lane.hold_rows[r], map,
                              lane_y + row_offset(lane, {LaneRowKind::hold, r}),
                              lane_y + height - kLanePad, plot_min, plot_max, selection, record,
                              state.drawn_bands, l, r);
            for (std::size_t r = 0; r < lane.rows.size(); ++r)
                draw_row(draw, lane.rows[r], map, lane_y + row_offset(lane, {LaneRowKind::wait, r}),
                         plot_min, plot_max, selection, &record);
            draw_stuck_wait(draw, lane, map, lane_y, plot_min, plot_max);
            draw_markers(draw, lane, map, lane_y, plot_min, plot_max, selection, record);
            draw->PopClipRect();
        }
    }

    // Arrows between groups, over the lanes. There are as many as processes, so all are
    // considered; the ones outside the visible time range are skipped.
    draw->PushClipRect(plot_min, plot_max, true);
    auto lane_middle = [&](std::size_t lane) {
        return origin.y + state.lane_top[lane] +
               row_offset(model.lanes[lane], {LaneRowKind::wait, 0}) + kRowHeight / 2;
    };
    for (const TimelineArrow& arrow : model.arrows) {
        const float x_from = map.x(static_cast<double>(arrow.from_ns));
        const float x_to = map.x(static_cast<double>(arrow.to_ns));
        if (std::max(x_from, x_to) < plot_min.x || std::min(x_from, x_to) > plot_max.x)
            continue;
        ImVec2 from(x_from, lane_middle(arrow.from_lane)), to(x_to, lane_middle(arrow.to_lane));
        ImU32 colour = palette::process_edge;
        if (arrow.kind == ArrowKind::exec) {
            // Same process: drawn along its header row.
            const float y =
                origin.y + state.group_top[model.lanes[arrow.to_lane].group] + header_height() / 2;
            from.y = to.y = y;
        } else if (arrow.kind == ArrowKind::exit) {
            colour = IM_COL32(170, 170, 180, 200);
            if (arrow.event < record.events.size() &&
                WIFSIGNALED(static_cast<int>(record.events[arrow.event].arg0)))
                colour = kExitBySignal;
        }
        if (selection.is_event(arrow.event))
            colour = palette::selected;
        // Normal exits are many and say little: only an abnormal one is labelled (the exit
        // marker's tooltip has every status).
        const bool quiet = arrow.kind == ArrowKind::exit && arrow.label == "exit 0";
        const ImVec2 clamped_to(clamp_x(to.x, plot_min, plot_max), to.y);
        if (arrow.kind == ArrowKind::start) {
            // A start is labelled on the child's header row, beside the arrow's head, so that the
            // label covers none of the lanes the arrow crosses (the holder's band is there): the
            // start method, then the locks it carried across.
            draw_arrow(draw, ImVec2(clamp_x(from.x, plot_min, plot_max), from.y), clamped_to,
                       colour, {});
            const std::size_t child_group = model.lanes[arrow.to_lane].group;
            draw_arrow_label(draw,
                             ImVec2(clamped_to.x + 6, origin.y + state.group_top[child_group]),
                             colour, arrow.label, copies_label(arrow), plot_max.x);
        } else {
            draw_arrow(draw, ImVec2(clamp_x(from.x, plot_min, plot_max), from.y), clamped_to,
                       colour, quiet ? std::string() : arrow.label);
        }
    }
    if (selected_time) {
        const float x = map.x(*selected_time);
        draw->AddLine(ImVec2(x, plot_min.y), ImVec2(x, plot_max.y),
                      with_alpha(palette::selected, 140));
    }
    draw->PopClipRect();

    // Hover and click.
    if (hovered) {
        const ImVec2 mouse = io.MousePos;
        const RowAt at = row_at(state, mouse.y - origin.y);
        if (mouse.x >= plot_min.x && at.lane) {
            const double t = map.t(mouse.x);
            const bool in_marker_band = !at.row.has_value();
            const double tolerance_px = in_marker_band ? kMarkerHalfWidth + 1 : 1;
            auto hit = hit_test(model, static_cast<std::int64_t>(std::llround(t)), *at.lane,
                                static_cast<std::int64_t>(std::ceil(tolerance_px * map.ns_per_px)),
                                at.row);
            if (hit) {
                state.hovered_event = hit->event;
                ImGui::BeginTooltip();
                ImGui::PushTextWrapPos(ImGui::GetFontSize() * 36);
                if (hit->copy) {
                    ImGui::TextUnformatted(copy_band_label(*hit->copy).c_str());
                    ImGui::Separator();
                    ImGui::TextUnformatted(describe_copy(model, record, *hit->copy).c_str());
                    ImGui::Separator();
                    ImGui::TextDisabled("click: select the fork");
                } else if (hit->bar) {
                    ImGui::TextUnformatted(describe_bar(model, record, *hit->bar).c_str());
                    ImGui::Separator();
                    if (!hit->bar->from_samples())
                        ImGui::TextDisabled("%s", hit->bar->kind == BarKind::waiting
                                                      ? "click: select the wait"
                                                      : "click: select the acquire");
                } else {
                    ImGui::TextUnformatted(describe_marker(model, record, *hit->marker).c_str());
                }
                ImGui::PopTextWrapPos();
                ImGui::EndTooltip();
                if (clicked && hit->event == kNoTimelineEvent) // drawn from the samples
                    selection.select_thread(model.lanes[*at.lane].pid, model.lanes[*at.lane].tid);
                else if (clicked)
                    selection.select_event(record, hit->event);
            }
        } else if (mouse.x < plot_min.x && at.lane) {
            const TimelineLane& lane = model.lanes[*at.lane];
            ImGui::BeginTooltip();
            ImGui::PushTextWrapPos(ImGui::GetFontSize() * 36);
            ImGui::TextUnformatted(describe_lane(lane).c_str());
            ImGui::PopTextWrapPos();
            ImGui::EndTooltip();
            if (clicked)
                selection.select_thread(lane.pid, lane.tid);
        } else if (at.group) {
            const TimelineGroup& group = model.groups[*at.group];
            ImGui::SetTooltip("%s", group_tooltip(group, model).c_str());
            if (clicked)
                selection.select_thread(group.pid, group.pid);
        }
    }
    ImGui::EndChild();

    // The time axis above the lanes, aligned with the plot.
    draw_axis(ImGui::GetWindowDrawList(), map, ImVec2(plot_min.x, axis_pos.y),
              ImVec2(plot_max.x, axis_pos.y + axis_height));

    // A horizontal scrollbar under the plot: the thumb is the visible part of the run.
    ImGui::SetCursorScreenPos(ImVec2(plot_min.x, ImGui::GetCursorScreenPos().y));
    ImGui::InvisibleButton("##timeline_hscroll", ImVec2(plot_width, kScrollbarHeight));
    const ImVec2 bar_min = ImGui::GetItemRectMin(), bar_max = ImGui::GetItemRectMax();
    const double total = std::max({1.0, static_cast<double>(model.end_ns),
                                   state.view_start_ns + state.ns_per_px * plot_width});
    const double visible = state.ns_per_px * plot_width;
    const float thumb_x0 =
        bar_min.x + static_cast<float>(std::max(0.0, state.view_start_ns) / total) * plot_width;
    const float thumb_x1 =
        std::min(bar_max.x, std::max(thumb_x0 + 12,
                                     thumb_x0 + static_cast<float>(visible / total) * plot_width));
    ImDrawList* window_draw = ImGui::GetWindowDrawList();
    window_draw->AddRectFilled(bar_min, bar_max, ImGui::GetColorU32(ImGuiCol_ScrollbarBg));
    window_draw->AddRectFilled(ImVec2(thumb_x0, bar_min.y + 2), ImVec2(thumb_x1, bar_max.y - 2),
                               ImGui::GetColorU32(ImGui::IsItemActive()
                                                      ? ImGuiCol_ScrollbarGrabActive
                                                      : ImGuiCol_ScrollbarGrab),
                               4);
    if (ImGui::IsItemActive() && io.MouseDelta.x != 0) {
        state.view_start_ns += static_cast<double>(io.MouseDelta.x) * total / plot_width;
        state.user_moved = true;
        clamp_view(state, plot_width);
    }
}

} // namespace forklore::gui
