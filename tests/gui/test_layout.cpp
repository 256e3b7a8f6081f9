// The layout and the GUI's smaller defects (issue 11): the whole window drawn headless at the
// sizes a classroom uses, each region inside the window and the first lesson's run readable in
// it; the proportions restored after a small window; the sandbox's host and reaper hidden until
// asked for; bad and incomplete files; a run of another scenario never left on screen; where a
// record came from; the zoom.
//
// Index of this file:
// [SECTION] Regions and what they hold
// [SECTION] The window at a classroom's sizes, and zoomed
// [SECTION] What the Timeline shows: the sandbox's processes, the range
// [SECTION] Files, and where a record came from
// [SECTION] The Matrix, Help and the wait-for graph
#include "gui/app.hpp"
#include "gui/record_completeness.hpp"
#include "gui/record_file.hpp"
#include "gui/ui_scale.hpp"
#include "sim/timeline/infrastructure.hpp"
#include "tests/gui/app_harness.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace forklore;
using namespace forklore::gui;
using namespace forklore::gui::test;

// [SECTION] Regions and what they hold ------------------------------------------------------------

namespace {

void resize(float width, float height) {
    ImGui::GetIO().DisplaySize = ImVec2(width, height);
}

// The frames these tests draw before they look at the layout.
constexpr int kSettle = 4;

std::vector<std::pair<const char*, Region>> regions_of(const App& app) {
    const LayoutRegions& r = app.regions;
    return {{"browser", r.browser}, {"controls", r.controls}, {"centre", r.centre},
            {"verdict", r.verdict}, {"output", r.output},     {"source", r.source}};
}

bool overlap(const Region& a, const Region& b) {
    const float eps = 0.5f;
    return a.x + a.width > b.x + eps && b.x + b.width > a.x + eps && a.y + a.height > b.y + eps &&
           b.y + b.height > a.y + eps;
}

// Every region has room, lies inside the window, and overlaps no other.
void check_regions_fit(const App& app, float width, float height) {
    const auto regions = regions_of(app);
    for (const auto& [name, region] : regions) {
        INFO(name << " at " << region.x << "," << region.y << " size " << region.width << "x"
                  << region.height << " in " << width << "x" << height);
        CHECK(region.width >= 40);
        CHECK(region.height >= 40);
        CHECK(region.x >= 0);
        CHECK(region.y >= 0);
        CHECK(region.x + region.width <= width + 0.5f);
        CHECK(region.y + region.height <= height + 0.5f);
    }
    for (std::size_t i = 0; i < regions.size(); ++i)
        for (std::size_t j = i + 1; j < regions.size(); ++j) {
            INFO(regions[i].first << " and " << regions[j].first);
            CHECK_FALSE(overlap(regions[i].second, regions[j].second));
        }
}

bool same_region(const Region& a, const Region& b) {
    return std::abs(a.x - b.x) < 1 && std::abs(a.y - b.y) < 1 && std::abs(a.width - b.width) < 1 &&
           std::abs(a.height - b.height) < 1;
}

bool inside(ImVec2 min, ImVec2 max, const Region& region) {
    return min.x >= region.x - 0.5f && min.y >= region.y - 0.5f &&
           max.x <= region.x + region.width + 0.5f && max.y <= region.y + region.height + 0.5f;
}

} // namespace

// [SECTION] The window at a classroom's sizes, and zoomed -----------------------------------------

TEST_CASE("layout: the first lesson's run is readable from 1024x700 to 1920x1080",
          "[gui][layout]") {
    auto record = recorded(test::kOrphanedLock);
    for (const ImVec2 size : {ImVec2(1024, 700), ImVec2(1280, 800), ImVec2(1920, 1080)}) {
        INFO("window " << size.x << "x" << size.y);
        HeadlessImGui imgui(size.x, size.y);
        App app;
        show_record(app, view_of(record));
        app.show_tab = CentreTab::timeline;
        draw_frames(imgui, app, kSettle);
        check_regions_fit(app, size.x, size.y);

        // The wait-for graph, its orphaned edge and its legend: inside the verdict region, with
        // no sideways scrolling.
        REQUIRE(app.verdict.graph_drawn);
        CHECK_FALSE(app.verdict.graph_scrolls);
        CHECK(inside(app.verdict.graph_min, app.verdict.graph_max, app.regions.verdict));

        // Every lane of the timeline (the scenario's processes: the host and the reaper are
        // hidden) inside the visible plot.
        const TimelinePanelState& timeline = app.timeline;
        REQUIRE_FALSE(timeline.model.lanes.empty());
        CHECK(timeline.content_top + timeline.content_height <= timeline.plot_max.y + 0.5f);
        CHECK(timeline.plot_max.y <= app.regions.centre.y + app.regions.centre.height);

        // The output shows several rows of the log; the source has a region of its own.
        CHECK(app.regions.output.height >= ImGui::GetTextLineHeightWithSpacing() * 7);
        CHECK(app.regions.source.width >= ImGui::GetFontSize() * 20);
    }
}

TEST_CASE("layout: a small window keeps every region, and a large one gets the layout back",
          "[gui][layout]") {
    auto record = recorded(test::kOrphanedLock);
    HeadlessImGui imgui(1280, 800);
    App app;
    show_record(app, view_of(record));
    draw_frames(imgui, app, kSettle);
    const LayoutRegions before = app.regions;
    const Layout proportions = app.layout;
    check_regions_fit(app, 1280, 800);

    resize(800, 500);
    draw_frames(imgui, app, kSettle);
    // Everything is still inside the window, and the timeline still shows the scenario's lanes
    // (not only the sandbox's).
    for (const auto& [name, region] : regions_of(app)) {
        INFO(name);
        CHECK(region.x + region.width <= 800.5f);
        CHECK(region.y + region.height <= 500.5f);
        CHECK(region.width > 0);
        CHECK(region.height > 0);
    }
    for (const auto& group : app.timeline.model.groups)
        CHECK_FALSE(is_sandbox_process(group.role));

    resize(1280, 800);
    draw_frames(imgui, app, kSettle);
    CHECK(app.layout.left == proportions.left);
    CHECK(app.layout.right == proportions.right);
    CHECK(app.layout.bottom == proportions.bottom);
    CHECK(app.layout.source == proportions.source);
    for (std::size_t i = 0; i < regions_of(app).size(); ++i) {
        INFO(regions_of(app)[i].first);
        CHECK(same_region(regions_of(app)[i].second,
                          std::vector<Region>{before.browser, before.controls, before.centre,
                                              before.verdict, before.output, before.source}[i]));
    }
}

TEST_CASE("layout: zoom makes text and regions larger, and they still fit", "[gui][layout]") {
    auto record = recorded(test::kOrphanedLock);
    HeadlessImGui imgui(1920, 1080);
    App app;
    show_record(app, view_of(record));
    apply_ui_scale(1.5f);
    draw_frames(imgui, app, kSettle);
    CHECK(ImGui::GetFontSize() == Approx(std::round(13 * 1.5f)));
    check_regions_fit(app, 1920, 1080);
    REQUIRE(app.verdict.graph_drawn);
    CHECK(inside(app.verdict.graph_min, app.verdict.graph_max, app.regions.verdict));
    apply_ui_scale(1.0f);
    // The tab in front stands out from the others: bright blue against a dim grey (ImGui's own
    // dark style differs by a few shades).
    const ImVec4 front = ImGui::GetStyle().Colors[ImGuiCol_TabActive];
    const ImVec4 behind = ImGui::GetStyle().Colors[ImGuiCol_Tab];
    const float difference =
        std::abs(front.x - behind.x) + std::abs(front.y - behind.y) + std::abs(front.z - behind.z);
    CHECK(difference > 0.6f);
    CHECK(clamp_zoom(10.0f) == kMaxZoom);
    CHECK(clamp_zoom(0.1f) == kMinZoom);
    CHECK(clamp_zoom(NAN) == 1.0f);
}

// [SECTION] What the Timeline shows: the sandbox's processes, the range ---------------------------

TEST_CASE("layout: the sandbox's host and reaper are hidden until the toggle shows them",
          "[gui][layout][infrastructure]") {
    auto record = recorded(test::kOrphanedLock);
    HeadlessImGui imgui(1280, 800);
    App app;
    show_record(app, view_of(record));
    app.show_tab = CentreTab::timeline;
    draw_frames(imgui, app, kSettle);
    REQUIRE(app.timeline.infrastructure_groups > 0); // the record has them
    for (const auto& group : app.timeline.model.groups)
        CHECK_FALSE(is_sandbox_process(group.role));
    // The scenario's first process is a root once the sandbox above it is hidden.
    REQUIRE_FALSE(app.timeline.model.groups.empty());
    CHECK(app.timeline.model.groups.front().depth == 0);
    // Every arrow joins lanes that are shown.
    for (const auto& arrow : app.timeline.model.arrows) {
        CHECK(arrow.from_lane < app.timeline.model.lanes.size());
        CHECK(arrow.to_lane < app.timeline.model.lanes.size());
    }

    app.show_tab = CentreTab::process_tree;
    draw_frames(imgui, app, kSettle);
    for (const auto& node : app.process_tree.model.nodes)
        CHECK_FALSE(node.infrastructure);

    // Ticked in the process tree: both panels show them, and the host says its pid is the
    // machine's.
    app.process_tree.show_infrastructure = true;
    draw_frames(imgui, app, kSettle);
    CHECK(app.show_infrastructure);
    bool host_shown = false;
    for (const auto& node : app.process_tree.model.nodes)
        if (node.role == ProcessRole::host) {
            host_shown = true;
            CHECK(node.title().find("machine pid") != std::string::npos);
        }
    CHECK(host_shown);
    app.show_tab = CentreTab::timeline;
    draw_frames(imgui, app, kSettle);
    std::size_t shown = 0;
    for (const auto& group : app.timeline.model.groups)
        shown += is_sandbox_process(group.role);
    CHECK(shown == app.timeline.infrastructure_groups);
}

TEST_CASE("layout: the timeline's range never claims more than the run", "[gui][layout]") {
    // Fit leaves a margin after the last event: the header says "whole run", not a range past it.
    CHECK(describe_visible_range(0, 48.201e6, 47.256e6, false) == "whole run, 47.256 ms");
    CHECK(describe_visible_range(1e6, 2.5e6, 47.256e6, false) == "1.000 .. 2.500 ms of 47.256 ms");
    CHECK(describe_visible_range(40e6, 60e6, 47.256e6, true) ==
          "40.000 .. 47.256 ms of 47.256 ms (live)");
    CHECK(describe_visible_range(-5e6, 10e6, 47.256e6, false) == "0.000 .. 10.000 ms of 47.256 ms");
}

// [SECTION] Files, and where a record came from ---------------------------------------------------

TEST_CASE("layout: bad files say what they are, in a message that wraps", "[gui][layout][file]") {
    TemporaryDirectory directory;
    HeadlessImGui imgui(1024, 700);
    App app;
    REQUIRE(select_scenario(app, "file-read-under-lock"));
    draw_frames(imgui, app, 2);
    const float top_with_no_message = app.regions.browser.y;

    CHECK_FALSE(open_record(app, directory.path.string()));
    CHECK(app.file_error);
    CHECK(app.file_message.find("directory") != std::string::npos);
    CHECK(app.file_message.find("not JSON") == std::string::npos);

    // A message longer than the window wraps onto more lines: the panels below move down and
    // still fit.
    const std::string long_name = directory.file(std::string(300, 'x') + ".json");
    CHECK_FALSE(open_record(app, long_name));
    draw_frames(imgui, app, 2);
    CHECK(app.regions.browser.y > top_with_no_message + ImGui::GetTextLineHeight() * 2);
    check_regions_fit(app, 1024, 700);
}

TEST_CASE("layout: a record cut short opens with a warning and no wait-for graph",
          "[gui][layout][file]") {
    TemporaryDirectory directory;
    auto record = recorded(test::kCycle);
    REQUIRE(record->verdict.reason == DeadlockReason::cycle);
    REQUIRE(record->events.size() > 3);
    // Saved whole, then cut to its first three events as an interrupted copy would leave it.
    nlohmann::json json = to_json(*record);
    REQUIRE(json.at("event_count") == record->events.size());
    json["events"].erase(json["events"].begin() + 3, json["events"].end());
    const std::string path = directory.file("cut.json");
    std::ofstream(path) << json.dump();

    HeadlessImGui imgui(1280, 800);
    App app;
    REQUIRE(open_record(app, path));
    CHECK(app.file_warning);
    CHECK(app.file_message.find(fmt::format("holds 3 of the {} events", record->events.size())) !=
          std::string::npos);
    CHECK(describe_incomplete_record(*app.view.record) != "");
    draw_frames(imgui, app, kSettle);
    CHECK_FALSE(app.verdict.graph_drawn); // no cycle drawn over a trace that lacks it

    // The whole record: no warning, and the graph is drawn.
    const std::string whole = directory.file("whole.json");
    App other;
    std::ofstream(whole) << to_json(*record).dump();
    REQUIRE(open_record(other, whole));
    CHECK_FALSE(other.file_warning);
    draw_frames(imgui, other, kSettle);
    CHECK(other.verdict.graph_drawn);
}

TEST_CASE("layout: choosing another scenario takes the old run off the screen", "[gui][layout]") {
    HeadlessImGui imgui(1280, 800);
    App app;
    show_record(app, view_of(recorded(test::kOrphanedLock)));
    draw_frames(imgui, app, 2);
    REQUIRE(app.view);
    REQUIRE(select_scenario(app, "lock-cycle"));
    CHECK_FALSE(app.view);
    draw_frames(imgui, app, 2); // every panel draws with nothing on screen
    // Choosing the scenario already on screen keeps its run.
    show_record(app, view_of(recorded(test::kCycle)));
    REQUIRE(select_scenario(app, "lock-cycle"));
    CHECK(app.view);
}

TEST_CASE("layout: a record from the Matrix or a file is never 'Not run yet.'", "[gui][layout]") {
    HeadlessImGui imgui(1280, 800);
    App app;
    app.show_tab = CentreTab::timeline;
    app.matrix.open_request = view_of(recorded(test::kOrphanedLock));
    draw_frames(imgui, app, 2);
    CHECK(app.origin == ViewOrigin::matrix);
    CHECK(app.controls.view_origin.find("Matrix") != std::string::npos);
}

TEST_CASE("layout: an opened record of a variant is that variant, not custom knobs",
          "[gui][layout][file]") {
    TemporaryDirectory directory;
    for (const auto* which : {test::kOrphanedLock, test::kCrashed}) {
        INFO(which[0] << ":" << which[1]);
        const std::string path = directory.file("record.json");
        std::ofstream(path) << to_json(*recorded(which[0], which[1])).dump();
        App app;
        REQUIRE(open_record(app, path));
        const Scenario* scenario = app.config.find();
        REQUIRE(scenario);
        CHECK(app.config.matching_variant(*scenario) == which[1]);
    }
}

TEST_CASE("layout: an opened record of a variant run with knobs of its own names that variant",
          "[gui][layout][file]") {
    // `forklore run file-read-under-lock:fork --knob ...` records the variant it started from
    // with the knobs it ran with: they match no preset, and the record still names its variant.
    TemporaryDirectory directory;
    const Scenario* scenario = ScenarioRegistry::instance().find("file-read-under-lock");
    REQUIRE(scenario);
    const RunRecord record =
        run_scenario(make_request(*scenario, "fork", {{"atfork", "on"}, {"reader_thread", "off"}}));
    REQUIRE(record.variant == "fork");
    const std::string path = directory.file("own-knobs.json");
    std::ofstream(path) << to_json(record).dump();
    App app;
    REQUIRE(open_record(app, path));
    CHECK(app.config.matching_variant(*scenario).empty()); // its knobs are no preset's
    CHECK(recorded_variant(app.config, app.view) == "fork");
    HeadlessImGui imgui(1280, 800);
    draw_frames(imgui, app, 2);
    // Knobs changed by the user after opening it: custom again.
    app.config.knobs["atfork"] = "off";
    CHECK(recorded_variant(app.config, app.view).empty());
}

// [SECTION] The Matrix, Help and the wait-for graph -----------------------------------------------

TEST_CASE("layout: the Matrix shows every variant of a scenario without scrolling sideways",
          "[gui][layout][matrix]") {
    // lock-kinds-at-fork has a dozen variants: all of them on screen in the centre column of a
    // 1280x800 window, wrapped onto more lines, none past the panel's right edge.
    HeadlessImGui imgui(1280, 800);
    App app;
    MatrixOptions options;
    options.filter = "lock-kinds-at-fork:*";
    options.include_slow = true; // spin_fork too: every kind of lock
    options.jobs = 2;
    REQUIRE(app.matrix.session.start(options) == "");
    app.matrix.session.wait();
    const std::size_t variants = app.matrix.session.entries().size();
    REQUIRE(variants >= 10);
    app.show_tab = CentreTab::matrix;
    draw_frames(imgui, app, kSettle);
    CHECK(app.matrix.cells_drawn == variants);
    CHECK(app.matrix.cells_right <= app.matrix.area_right + 0.5f);
    CHECK(app.matrix.cells_right <= app.regions.centre.x + app.regions.centre.width);
}

TEST_CASE("layout: the Help window opens over the application", "[gui][layout]") {
    HeadlessImGui imgui(1024, 700);
    App app;
    int closed = 0, open = 0;
    for (int i = 0; i < 2; ++i)
        closed = imgui.frame([&] { draw_app(app); });
    app.show_help = true;
    for (int i = 0; i < 2; ++i)
        open = imgui.frame([&] { draw_app(app); });
    CHECK(open > closed); // its text is drawn
    CHECK(app.show_help);
}

TEST_CASE("layout: a partial deadlock's graph, with its live threads, fits a 1024x700 window",
          "[gui][layout]") {
    // Live threads are drawn beside the stuck set in rows of their own: a wider graph, which
    // must still fit the verdict column without scrolling sideways.
    auto record = test::exec_recorded(test::kPartialDeadlock);
    REQUIRE_FALSE(record->verdict.live.empty());
    HeadlessImGui imgui(1024, 700);
    App app;
    show_record(app, view_of(record));
    draw_frames(imgui, app, kSettle);
    check_regions_fit(app, 1024, 700);
    REQUIRE(app.verdict.graph_drawn);
    CHECK_FALSE(app.verdict.graph_scrolls);
    CHECK(inside(app.verdict.graph_min, app.verdict.graph_max, app.regions.verdict));
}
