// The Timeline tab (timeline_panel.hpp), drawn in named steps: help, toolbar, legend, the lanes,
// the arrows, the hover, the axis and the scrollbar. The model and the view it keeps are
// timeline_view's; the shapes themselves are timeline_drawing's.
//
// Index of this file:
// [SECTION] Where the mouse is
// [SECTION] The panel's steps: help, toolbar, legend
// [SECTION] The panel's steps: the lanes, the arrows, the hover, the scrollbar
// [SECTION] The panel
#include "gui/panels/timeline_panel.hpp"

#include "gui/panels/timeline_drawing.hpp"
#include "gui/panels/timeline_view.hpp"
#include "gui/widgets.hpp"

#include <fmt/format.h>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>

namespace forklore::gui {

using namespace timeline_drawing;
using namespace timeline_view;

namespace {

// [SECTION] Where the mouse is ------------------------------------------------------------------

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

// [SECTION] The panel's steps: help, toolbar, legend --------------------------------------------

void show_help() {
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
        "the process history.\n\nMouse wheel: zoom around the mouse (shift+wheel scrolls the "
        "lanes). Drag: "
        "pan. Hover: details. Click a bar or a triangle to select its event in every panel; click "
        "a thread's name to select the thread. 'Fit' shows the program's part of the run, from its "
        "first process to its last event (and follows a live run); 'Whole run' adds the sandbox's "
        "setup before it and the time the verdict took after it.");
}

// Zoom buttons act around the plot's middle, on last frame's width.
void draw_toolbar(TimelinePanelState& state, const RecordView& view) {
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
                                               static_cast<double>(state.model.end_ns), view.live)
                            .c_str());
    if (state.infrastructure_groups > 0) {
        ImGui::SameLine(0, ImGui::GetFontSize() * 1.5f);
        ImGui::Checkbox("sandbox host and reaper", &state.show_infrastructure);
        help_marker("The sandbox's own processes: the host, which sets the sandbox up and lives "
                    "outside it (its pid is the machine's, while every other pid is the "
                    "sandbox's own), and the reaper, pid 1 inside the sandbox, which collects "
                    "orphaned processes. They are not the scenario's code: hidden unless ticked.");
    }
}

// The legend takes up to four lines: where they would push lanes out of sight (a short panel, as
// at 1024x700), it shrinks to one word whose tooltip holds it whole.
void draw_legend_or_its_word(const TimelinePanelState& state) {
    const float legend_lines_height = ImGui::GetTextLineHeightWithSpacing() * 4;
    const float room_for_lanes = ImGui::GetContentRegionAvail().y - ImGui::GetTextLineHeight() * 2 -
                                 kScrollbarHeight - legend_lines_height;
    if (state.content_height > 0 && room_for_lanes < state.content_height) {
        ImGui::SameLine(0, ImGui::GetFontSize());
        ImGui::TextDisabled("Legend (hover)");
        if (ImGui::IsItemHovered()) {
            ImGui::BeginTooltip();
            ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
            draw_legend(state.model);
            ImGui::PopTextWrapPos();
            ImGui::EndTooltip();
        }
    } else {
        draw_legend(state.model);
    }
}

// [SECTION] The panel's steps: the lanes, the arrows, the hover, the scrollbar ----------------

// Where this frame's plot is on screen, and what the mouse does over it.
struct Canvas {
    ImDrawList* draw = nullptr;
    ImVec2 origin;             // the top left of the lanes' content (the first group's header)
    ImVec2 clip_min, clip_max; // the lanes' visible area
    ImVec2 plot_min, plot_max; // the plot: the visible area right of the names
    float plot_width = 0;
    bool hovered = false, clicked = false;
};

// The lanes' canvas inside the scrolling child: the names' column, the plot, the view fitted to
// its width until the user moves it.
Canvas begin_canvas(TimelinePanelState& state) {
    Canvas canvas;
    canvas.origin = ImGui::GetCursorScreenPos();
    // The names' column grows with the font (zoom), within a third of a narrow panel.
    const float label_width = std::min(kLabelWidth * ImGui::GetFontSize() / 13.0f,
                                       ImGui::GetContentRegionAvail().x * 0.35f);
    canvas.plot_width = std::max(50.0f, ImGui::GetContentRegionAvail().x - label_width);
    if (!state.user_moved || state.ns_per_px <= 0)
        fit(state, canvas.plot_width);
    clamp_view(state, canvas.plot_width);

    ImGui::InvisibleButton("##timeline_canvas", ImVec2(label_width + canvas.plot_width,
                                                       std::max(1.0f, state.content_height)));
    canvas.hovered = ImGui::IsItemHovered();
    canvas.clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
    canvas.draw = ImGui::GetWindowDrawList();
    canvas.clip_min = canvas.draw->GetClipRectMin();
    canvas.clip_max = canvas.draw->GetClipRectMax();
    canvas.plot_min = ImVec2(canvas.origin.x + label_width, canvas.clip_min.y);
    canvas.plot_max = ImVec2(canvas.origin.x + label_width + canvas.plot_width, canvas.clip_max.y);
    state.plot_min = canvas.plot_min;
    state.plot_max = canvas.plot_max;
    state.content_top = canvas.origin.y;
    return canvas;
}

// Zoom and pan before drawing, so what is drawn is what the mouse points at (the canvas is the
// last item: a drag is on it).
void zoom_and_pan(TimelinePanelState& state, const Canvas& canvas) {
    const ImGuiIO& io = ImGui::GetIO();
    if (canvas.hovered && io.MouseWheel != 0) {
        if (io.KeyShift || io.MousePos.x < canvas.plot_min.x) {
            ImGui::SetScrollY(ImGui::GetScrollY() - io.MouseWheel * ImGui::GetTextLineHeight() * 3);
        } else {
            zoom_at(state, canvas.plot_width, io.MousePos.x - canvas.plot_min.x,
                    std::pow(kZoomStep, -static_cast<double>(io.MouseWheel)));
        }
    }
    if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left)) {
        state.view_start_ns -= static_cast<double>(io.MouseDelta.x) * state.ns_per_px;
        state.user_moved = true;
        clamp_view(state, canvas.plot_width);
        ImGui::SetScrollY(ImGui::GetScrollY() - io.MouseDelta.y);
    }
}

// A process's header: its name in the label column, its lifetime as a band in the plot.
void draw_group_header(const Canvas& canvas, const Mapping& map, const TimelineGroup& group,
                       float header_y) {
    canvas.draw->AddRectFilled(ImVec2(canvas.origin.x, header_y),
                               ImVec2(canvas.plot_max.x, header_y + header_height() - 2),
                               kHeaderShade);
    canvas.draw->PushClipRect(ImVec2(canvas.origin.x, canvas.clip_min.y),
                              ImVec2(canvas.plot_min.x - 4, canvas.clip_max.y), true);
    canvas.draw->AddText(
        ImVec2(canvas.origin.x + 4 + 10.0f * static_cast<float>(group.depth), header_y + 3),
        kLabelColour, group_label(group).c_str());
    canvas.draw->PopClipRect();
    canvas.draw->PushClipRect(canvas.plot_min, canvas.plot_max, true);
    const float band_y = header_y + header_height() / 2;
    canvas.draw->AddRectFilled(
        ImVec2(
            clamp_x(map.x(static_cast<double>(group.start_ns)), canvas.plot_min, canvas.plot_max),
            band_y - 2),
        ImVec2(clamp_x(map.x(static_cast<double>(group.end_ns)), canvas.plot_min, canvas.plot_max),
               band_y + 2),
        with_alpha(palette::process_edge, 110));
    canvas.draw->PopClipRect();
}

// One thread's lane: its name and badge, its lifetime, its copies, hold bands and waits, its
// stuck wait, its markers.
void draw_lane(TimelinePanelState& state, const Canvas& canvas, const Mapping& map, std::size_t l,
               const TimelineGroup& group, const RunRecord& record, const Selection& selection) {
    const float visible_top = canvas.clip_min.y - canvas.origin.y;
    const float visible_bottom = canvas.clip_max.y - canvas.origin.y;
    const TimelineLane& lane = state.model.lanes[l];
    const float lane_y = canvas.origin.y + state.lane_top[l];
    const float height = lane_height(lane);
    if (state.lane_top[l] + height < visible_top || state.lane_top[l] > visible_bottom)
        return;
    const bool selected_thread =
        selection.pid == lane.pid && selection.tid == lane.tid && selection.tid != 0;
    canvas.draw->AddRectFilled(ImVec2(canvas.origin.x, lane_y),
                               ImVec2(canvas.plot_max.x, lane_y + height - 1),
                               selected_thread ? with_alpha(palette::selected, 45) : kLaneShade);
    canvas.draw->PushClipRect(ImVec2(canvas.origin.x, canvas.clip_min.y),
                              ImVec2(canvas.plot_min.x - 4, canvas.clip_max.y), true);
    const std::string name = fmt::format("tid {} {}", lane.tid, lane.name);
    canvas.draw->AddText(
        ImVec2(canvas.origin.x + 14 + 10.0f * static_cast<float>(group.depth), lane_y + 2),
        selected_thread ? palette::selected : kDimLabelColour, name.c_str());
    draw_lane_badge(canvas.draw, lane, canvas.plot_min.x - 6, lane_y);
    canvas.draw->PopClipRect();

    canvas.draw->PushClipRect(canvas.plot_min, canvas.plot_max, true);
    // The thread's lifetime, under its waits.
    const float life_y = lane_y + row_offset(lane, {LaneRowKind::wait, 0}) + kRowHeight / 2;
    canvas.draw->AddLine(
        ImVec2(clamp_x(map.x(static_cast<double>(lane.start_ns)), canvas.plot_min, canvas.plot_max),
               life_y),
        ImVec2(clamp_x(map.x(static_cast<double>(lane.end_ns)), canvas.plot_min, canvas.plot_max),
               life_y),
        palette::running, 2);
    for (std::size_t r = 0; r < lane.copies.size(); ++r)
        draw_copy_band(canvas.draw, lane.copies[r], map,
                       lane_y + row_offset(lane, {LaneRowKind::copy, r}), canvas.plot_min,
                       canvas.plot_max, selection, state.drawn_bands, l, r);
    for (std::size_t r = 0; r < lane.hold_rows.size(); ++r)
        draw_hold_row(canvas.draw, lane.hold_rows[r], map,
                      lane_y + row_offset(lane, {LaneRowKind::hold, r}), lane_y + height - kLanePad,
                      canvas.plot_min, canvas.plot_max, selection, record, state.drawn_bands, l, r);
    for (std::size_t r = 0; r < lane.rows.size(); ++r)
        draw_row(canvas.draw, lane.rows[r], map, lane_y + row_offset(lane, {LaneRowKind::wait, r}),
                 canvas.plot_min, canvas.plot_max, selection, &record);
    draw_stuck_wait(canvas.draw, lane, map, lane_y, canvas.plot_min, canvas.plot_max);
    draw_markers(canvas.draw, lane, map, lane_y, canvas.plot_min, canvas.plot_max, selection,
                 record);
    canvas.draw->PopClipRect();
}

// Only the groups and lanes inside the visible vertical range are drawn.
void draw_groups_and_lanes(TimelinePanelState& state, const Canvas& canvas, const Mapping& map,
                           const RunRecord& record, const Selection& selection) {
    const TimelineModel& model = state.model;
    const float visible_top = canvas.clip_min.y - canvas.origin.y,
                visible_bottom = canvas.clip_max.y - canvas.origin.y;
    for (std::size_t g = 0; g < model.groups.size(); ++g) {
        const TimelineGroup& group = model.groups[g];
        const float top = state.group_top[g];
        const float bottom =
            g + 1 < model.groups.size() ? state.group_top[g + 1] : state.content_height;
        if (bottom < visible_top || top > visible_bottom)
            continue;
        draw_group_header(canvas, map, group, canvas.origin.y + top);
        for (std::size_t l = group.first_lane; l < group.first_lane + group.lane_count; ++l)
            draw_lane(state, canvas, map, l, group, record, selection);
    }
}

// Arrows between groups, over the lanes, and the selected event's time. There are as many arrows
// as processes, so all are considered; the ones outside the visible time range are skipped.
void draw_arrows(const TimelinePanelState& state, const Canvas& canvas, const Mapping& map,
                 const RunRecord& record, const Selection& selection) {
    const TimelineModel& model = state.model;
    std::optional<double> selected_time;
    if (selection.event && *selection.event < record.events.size())
        selected_time =
            static_cast<double>(record.events[*selection.event].time_ns - record.start_time_ns);
    canvas.draw->PushClipRect(canvas.plot_min, canvas.plot_max, true);
    auto lane_middle = [&](std::size_t lane) {
        return canvas.origin.y + state.lane_top[lane] +
               row_offset(model.lanes[lane], {LaneRowKind::wait, 0}) + kRowHeight / 2;
    };
    for (const TimelineArrow& arrow : model.arrows) {
        const float x_from = map.x(static_cast<double>(arrow.from_ns));
        const float x_to = map.x(static_cast<double>(arrow.to_ns));
        if (std::max(x_from, x_to) < canvas.plot_min.x ||
            std::min(x_from, x_to) > canvas.plot_max.x)
            continue;
        ImVec2 from(x_from, lane_middle(arrow.from_lane)), to(x_to, lane_middle(arrow.to_lane));
        ImU32 colour = palette::process_edge;
        if (arrow.kind == ArrowKind::exec) {
            // Same process: drawn along its header row.
            const float y = canvas.origin.y + state.group_top[model.lanes[arrow.to_lane].group] +
                            header_height() / 2;
            from.y = to.y = y;
        } else if (arrow.kind == ArrowKind::exit) {
            colour = IM_COL32(170, 170, 180, 200);
            if (arrow.event < record.events.size() &&
                WaitStatus::from_raw(static_cast<int>(record.events[arrow.event].arg0)).killed())
                colour = kExitBySignal;
        }
        if (selection.is_event(arrow.event))
            colour = palette::selected;
        // Normal exits are many and say little: only an abnormal one is labelled (the exit
        // marker's tooltip has every status).
        const bool quiet = arrow.kind == ArrowKind::exit && arrow.label == "exit 0";
        const ImVec2 clamped_to(clamp_x(to.x, canvas.plot_min, canvas.plot_max), to.y);
        if (arrow.kind == ArrowKind::start) {
            // A start is labelled on the child's header row, beside the arrow's head, so that the
            // label covers none of the lanes the arrow crosses (the holder's band is there): the
            // start method, then the locks it carried across.
            draw_arrow(canvas.draw,
                       ImVec2(clamp_x(from.x, canvas.plot_min, canvas.plot_max), from.y),
                       clamped_to, colour, {});
            const std::size_t child_group = model.lanes[arrow.to_lane].group;
            draw_arrow_label(
                canvas.draw,
                ImVec2(clamped_to.x + 6, canvas.origin.y + state.group_top[child_group]), colour,
                arrow.label, copies_label(arrow), canvas.plot_max.x);
        } else {
            draw_arrow(canvas.draw,
                       ImVec2(clamp_x(from.x, canvas.plot_min, canvas.plot_max), from.y),
                       clamped_to, colour, quiet ? std::string() : arrow.label);
        }
    }
    if (selected_time) {
        const float x = map.x(*selected_time);
        canvas.draw->AddLine(ImVec2(x, canvas.plot_min.y), ImVec2(x, canvas.plot_max.y),
                             with_alpha(palette::selected, 140));
    }
    canvas.draw->PopClipRect();
}

// Hover and click: a bar, band, copy or marker under the mouse; a lane's name; a process header.
void hover_and_click(TimelinePanelState& state, const Canvas& canvas, const Mapping& map,
                     const RunRecord& record, Selection& selection) {
    if (!canvas.hovered)
        return;
    const TimelineModel& model = state.model;
    const ImVec2 mouse = ImGui::GetIO().MousePos;
    const RowAt at = row_at(state, mouse.y - canvas.origin.y);
    if (mouse.x >= canvas.plot_min.x && at.lane) {
        const double t = map.t(mouse.x);
        const bool in_marker_band = !at.row.has_value();
        const double tolerance_px = in_marker_band ? kMarkerHalfWidth + 1 : 1;
        auto hit =
            hit_test(model, static_cast<std::int64_t>(std::llround(t)), *at.lane,
                     static_cast<std::int64_t>(std::ceil(tolerance_px * map.ns_per_px)), at.row);
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
            if (canvas.clicked && hit->event == kNoTimelineEvent) // drawn from the samples
                selection.select_thread(model.lanes[*at.lane].pid, model.lanes[*at.lane].tid);
            else if (canvas.clicked)
                selection.select_event(record, hit->event);
        }
    } else if (mouse.x < canvas.plot_min.x && at.lane) {
        const TimelineLane& lane = model.lanes[*at.lane];
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 36);
        ImGui::TextUnformatted(describe_lane(lane).c_str());
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
        if (canvas.clicked)
            selection.select_thread(lane.pid, lane.tid);
    } else if (at.group) {
        const TimelineGroup& group = model.groups[*at.group];
        ImGui::SetTooltip("%s", group_tooltip(group, model).c_str());
        if (canvas.clicked)
            selection.select_thread(group.pid, group.pid);
    }
}

// A horizontal scrollbar under the plot: the thumb is the visible part of the run.
void draw_scrollbar(TimelinePanelState& state, float plot_x, float plot_width) {
    const ImGuiIO& io = ImGui::GetIO();
    ImGui::SetCursorScreenPos(ImVec2(plot_x, ImGui::GetCursorScreenPos().y));
    ImGui::InvisibleButton("##timeline_hscroll", ImVec2(plot_width, kScrollbarHeight));
    const ImVec2 bar_min = ImGui::GetItemRectMin(), bar_max = ImGui::GetItemRectMax();
    const double total = std::max({1.0, static_cast<double>(state.model.end_ns),
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

// [SECTION] The panel ---------------------------------------------------------------------------

void draw_timeline_panel(TimelinePanelState& state, const RecordView& view, Selection& selection) {
    show_help();
    state.hovered_event.reset();
    state.drawn_bands.clear();
    if (!view) {
        ImGui::TextDisabled("No run yet.");
        return;
    }
    const RunRecord& record = *view.get();
    rebuild_if_needed(state, view);
    draw_toolbar(state, view);
    draw_legend_or_its_word(state);

    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float axis_height = ImGui::GetTextLineHeight() + 8;
    const ImVec2 axis_pos = ImGui::GetCursorScreenPos();
    ImGui::Dummy(ImVec2(std::max(1.0f, avail.x), axis_height));
    const float lanes_height = std::max(40.0f, avail.y - axis_height - kScrollbarHeight -
                                                   ImGui::GetStyle().ItemSpacing.y * 2);
    ImGui::BeginChild("##timeline_lanes", ImVec2(std::max(1.0f, avail.x), lanes_height), false,
                      ImGuiWindowFlags_NoScrollWithMouse |
                          ImGuiWindowFlags_AlwaysVerticalScrollbar);
    const Canvas canvas = begin_canvas(state);
    zoom_and_pan(state, canvas);
    const Mapping map{state.view_start_ns, state.ns_per_px, canvas.plot_min.x};
    draw_grid(canvas.draw, map, canvas.plot_min, canvas.plot_max);
    draw_groups_and_lanes(state, canvas, map, record, selection);
    draw_arrows(state, canvas, map, record, selection);
    hover_and_click(state, canvas, map, record, selection);
    ImGui::EndChild();

    // The time axis above the lanes, aligned with the plot.
    draw_axis(ImGui::GetWindowDrawList(), map, ImVec2(canvas.plot_min.x, axis_pos.y),
              ImVec2(canvas.plot_max.x, axis_pos.y + axis_height));
    draw_scrollbar(state, canvas.plot_min.x, canvas.plot_width);
}

} // namespace forklore::gui
