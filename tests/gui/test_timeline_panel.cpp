// The Timeline panel drawn headless over real run records: every record drawn, zoomed and
// refitted; a wait hovered and clicked; the mouse wheel's zoom; and at the default zoom, the
// reader's hold band and the child's orphaned copy wide enough to read.
#include "gui/panels/timeline_panel.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"
#include "tests/gui/timeline_checks.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

using namespace forklore;
using namespace forklore::gui;
using namespace forklore::gui::test;

TEST_CASE("timeline panel: drawn headless over every recorded run", "[gui][timeline]") {
    HeadlessImGui imgui;
    Selection selection;
    {
        TimelinePanelState state;
        const int empty = imgui.frame([&] { draw_timeline_panel(state, RecordView{}, selection); });
        CHECK(empty > 0);
        // A run that never started (a setup error) has no events and no processes.
        auto nothing = std::make_shared<const RunRecord>();
        CHECK(imgui.frame([&] {
            draw_timeline_panel(state, RecordView{nothing, 1, false}, selection);
        }) > 0);
        CHECK(state.model.lanes.empty());
    }
    for (const auto* which : {&test::kCompleted, &test::kOrphanedLock, &test::kCycle,
                              &test::kCrashed, &test::kManyEvents}) {
        INFO((*which)[0] << ":" << (*which)[1]);
        auto record = recorded(*which);
        TimelinePanelState state;
        RecordView view{record, 1, false};
        const int base = imgui.frame([] {});
        draw_frames(imgui, state, view, selection);
        const int drawn = imgui.frame([&] { draw_timeline_panel(state, view, selection); });
        CHECK(drawn > base);
        CHECK(state.built_from.built());
        CHECK(state.model.lanes.size() == state.lane_top.size());

        // Zoomed in on the middle, with the last event selected; then live, which refits.
        selection.select_event(*record, record->events.size() - 1);
        state.ns_per_px /= 50;
        state.view_start_ns = static_cast<double>(state.model.end_ns) / 2;
        state.user_moved = true;
        CHECK(imgui.frame([&] { draw_timeline_panel(state, view, selection); }) > base);
        RecordView live{record, 2, true};
        state.user_moved = false;
        CHECK(imgui.frame([&] { draw_timeline_panel(state, live, selection); }) > base);
        // Refitted to the program's part of the run: its first process to its last event.
        CHECK(state.view_start_ns <= static_cast<double>(state.model.story_start_ns));
        CHECK(state.view_start_ns + state.ns_per_px * (state.plot_max.x - state.plot_min.x) >=
              static_cast<double>(state.model.story_end_ns));
        selection.clear();
    }
}

namespace {

// The panel over the fork record (the first lesson's orphaned lock), drawn for a few frames: what
// a test then hovers, clicks and zooms.
struct PanelOverForkRecord {
    HeadlessImGui imgui;
    TimelinePanelState state;
    Selection selection;
    const RecordView view{recorded(test::kOrphanedLock), 1, false};
    PanelOverForkRecord() { draw_frames(imgui, state, view, selection); }
};

} // namespace

TEST_CASE_METHOD(
    PanelOverForkRecord,
    "timeline panel: hovering the child's red bar shows it, clicking selects its event",
    "[gui][timeline]") {
    const TimelineGroup* child = find_group(state.model, "read", "fork");
    REQUIRE(child);
    const auto& bars = state.model.lanes[child->first_lane].rows.at(0).bars;
    REQUIRE_FALSE(bars.empty());
    const TimelineBar& red = bars.back();
    REQUIRE(red.kind == BarKind::waiting);
    // Hover the visible part of the bar (a wait that never ended runs on past the view's right
    // edge) at the time farthest from every marker of the lane: a marker within a pixel wins the
    // hover, and on a fast machine the child's other events sit within a pixel of the wait.
    const auto& markers = state.model.lanes[child->first_lane].markers;
    const double visible_end =
        state.view_start_ns + (state.plot_max.x - state.plot_min.x - 1) * state.ns_per_px;
    std::int64_t best_t = red.start_ns;
    double best_distance = -1;
    for (int step = 1; step < 64; ++step) {
        const double t =
            red.start_ns + (std::min<double>(red.end_ns, visible_end) - red.start_ns) * step / 64;
        double distance = 1e300;
        for (const TimelineMarker& marker : markers)
            distance = std::min(distance, std::abs(static_cast<double>(marker.t_ns) - t));
        if (distance > best_distance) {
            best_distance = distance;
            best_t = static_cast<std::int64_t>(t);
        }
    }
    REQUIRE(best_distance > 3 * state.ns_per_px);
    auto at = timeline_screen_position(state, child->first_lane, {LaneRowKind::wait, 0}, best_t);
    REQUIRE(at);

    draw_frames(imgui, state, view, selection, 2, *at);
    REQUIRE(state.hovered_event);
    CHECK(*state.hovered_event == red.begin_event);
    CHECK_FALSE(selection.event);

    ImGui::GetIO().MouseDown[0] = true;
    imgui.frame([&] { draw_timeline_panel(state, view, selection); }, *at);
    ImGui::GetIO().MouseDown[0] = false;
    imgui.frame([&] { draw_timeline_panel(state, view, selection); }, *at);
    REQUIRE(selection.event);
    CHECK(*selection.event == red.begin_event);
    CHECK(selection.pid == child->pid);
    CHECK(selection.tid == state.model.lanes[child->first_lane].tid);
    CHECK(view.record->events[*selection.event].kind == EventKind::lock_wait);
}

TEST_CASE_METHOD(
    PanelOverForkRecord,
    "timeline panel: the mouse wheel zooms around the mouse, Fit shows the whole run again",
    "[gui][timeline]") {
    const double fitted = state.ns_per_px;
    const ImVec2 mouse((state.plot_min.x + state.plot_max.x) / 2, state.content_top + 40);
    draw_frames(imgui, state, view, selection, 1, mouse); // hover first: the window learns it
    ImGui::GetIO().MouseWheel = 2;
    imgui.frame([&] { draw_timeline_panel(state, view, selection); }, mouse);
    CHECK(state.user_moved);
    CHECK(state.ns_per_px < fitted);
    // The zoomed view stays put over later frames (a live run would not refit it).
    const double zoomed = state.ns_per_px;
    draw_frames(imgui, state, RecordView{view.record, 2, true}, selection, 2, mouse);
    CHECK(state.ns_per_px == Approx(zoomed));

    state.user_moved = false; // what the Fit button does
    draw_frames(imgui, state, view, selection, 1);
    CHECK(state.ns_per_px == Approx(fitted));
}

TEST_CASE("timeline panel: at the default zoom the reader's band is wide and named, the child's "
          "orphaned copy is drawn",
          "[gui][timeline][bands]") {
    // The Timeline tab's share of a 1280x800 window, as the app lays it out.
    HeadlessImGui imgui(640, 500);
    TimelinePanelState state;
    Selection selection;
    // The default view frames the program from its start: a loaded machine that stretches the
    // setup before the fork (writing the data file, starting the reader) narrows the band (16 px
    // once in CI, against 40 or more here). Up to 5 runs for one with the usual setup.
    std::shared_ptr<const RunRecord> record;
    std::vector<DrawnBand>::const_iterator band;
    ReaderAtFork at;
    for (int attempt = 0; attempt < 5; ++attempt) {
        record = attempt == 0 ? recorded(test::kOrphanedLock) : fresh_record(test::kOrphanedLock);
        state = TimelinePanelState{};
        draw_frames(imgui, state, RecordView{record, 1, false}, selection);
        at = reader_at_fork(state.model, *record);
        band = std::find_if(state.drawn_bands.begin(), state.drawn_bands.end(), [&](const auto& b) {
            return b.lane == at.reader && b.row.kind == LaneRowKind::hold &&
                   b.event == at.hold->begin_event;
        });
        REQUIRE(band != state.drawn_bands.end());
        if (band->x1 - band->x0 >= 20)
            break;
    }
    RecordView view{record, 1, false};
    INFO("band from " << band->x0 << " to " << band->x1 << " px, plot from " << state.plot_min.x
                      << " to " << state.plot_max.x);
    CHECK(band->x1 - band->x0 >= 20); // was 1 px: the whole run's setup was in the view
    CHECK(band->named);
    // Where the band was drawn is where its times are.
    auto start = timeline_screen_position(state, at.reader, band->row, at.hold->start_ns);
    REQUIRE(start);
    CHECK(start->x == Approx(band->x0).margin(1));

    auto copy =
        std::find_if(state.drawn_bands.begin(), state.drawn_bands.end(), [&](const auto& b) {
            return b.lane == at.child->first_lane && b.row.kind == LaneRowKind::copy;
        });
    REQUIRE(copy != state.drawn_bands.end());
    CHECK(copy->x1 - copy->x0 >= 20);
    CHECK(copy->named);

    // Hovering the copy explains it; clicking selects the fork. The mouse goes to the point of
    // the band farthest from the lane's markers: a marker within a pixel of the mouse is what
    // the mouse is over, and where the child's own events fall depends on the run's timing.
    const std::size_t lane = at.child->first_lane;
    auto middle = timeline_screen_position(state, lane, copy->row,
                                           state.model.lanes[lane].copies.front().start_ns + 1000);
    REQUIRE(middle);
    std::vector<float> marker_xs;
    for (const TimelineMarker& marker : state.model.lanes[lane].markers)
        if (auto at_marker = timeline_screen_position(state, lane, copy->row, marker.t_ns))
            marker_xs.push_back(at_marker->x);
    float mouse_x = (copy->x0 + copy->x1) / 2, clearance = -1;
    for (float x = copy->x0 + 2; x <= copy->x1 - 2; x += 0.5f) {
        float nearest = 1e9f;
        for (float marker_x : marker_xs)
            nearest = std::min(nearest, std::abs(marker_x - x));
        if (nearest > clearance) {
            clearance = nearest;
            mouse_x = x;
        }
    }
    INFO("mouse at " << mouse_x << " px, " << clearance << " px from the nearest marker");
    REQUIRE(clearance > 2);
    const ImVec2 mouse(mouse_x, middle->y);
    draw_frames(imgui, state, view, selection, 2, mouse);
    REQUIRE(state.hovered_event);
    CHECK(record->events[*state.hovered_event].kind == EventKind::child_start);
}
