// The application's background sessions over real runs: a run (a deadlock, a completion,
// Repeat N, Stop), the matrix and its panel, and the history that keeps every run of a Repeat
// to step through (issue 11).
//
// Index of this file:
// [SECTION] A run
// [SECTION] The matrix
// [SECTION] Repeat browsing: every run kept, stepped through, filtered (issue 11)
#include "gui/app.hpp"
#include "gui/matrix_session.hpp"
#include "gui/panels/browser_panel.hpp"
#include "gui/panels/matrix_panel.hpp"
#include "gui/run_history.hpp"
#include "gui/run_session.hpp"
#include "sim/run/matrix.hpp"
#include "tests/gui/app_harness.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <numeric>
#include <set>
#include <thread>

using namespace forklore;
using namespace forklore::gui;
using namespace forklore::gui::test;

// [SECTION] A run ---------------------------------------------------------------------------------

TEST_CASE("run session: fork deadlocks on the orphaned lock, live while it runs",
          "[gui][app][run]") {
    RunSession session;
    REQUIRE(session.start("file-read-under-lock", "fork") == "");
    session.wait();
    const RecordView view = session.view();
    REQUIRE(view);
    CHECK_FALSE(view.live);
    CHECK(view.record->verdict.kind == VerdictKind::deadlocked);
    CHECK(view.record->verdict.reason == DeadlockReason::orphaned_lock);
    const RunProgress progress = session.progress();
    CHECK_FALSE(progress.running);
    CHECK(progress.completed == 1);
    CHECK(progress.last_outcome == "deadlocked(orphaned_lock)");
    CHECK(progress.as_expected == 1);
    REQUIRE(progress.expected);
    CHECK(progress.expected->describe() == "deadlocked(orphaned_lock)");
    // A hang is proven over several quiet samples, each of which shows the partial record.
    CHECK(progress.live_updates > 0);
}

TEST_CASE("run session: spawn completes", "[gui][app][run]") {
    RunSession session;
    REQUIRE(session.start("file-read-under-lock", "spawn") == "");
    session.wait();
    REQUIRE(session.view());
    CHECK(session.view().record->verdict.kind == VerdictKind::completed);
    CHECK(session.progress().outcome_counts == std::map<std::string, int>{{"completed", 1}});
}

TEST_CASE("run session: Repeat 3 counts three runs and their hang rate", "[gui][app][run]") {
    RunSession session;
    REQUIRE(session.start("file-read-under-lock", "fork", {}, 3) == "");
    session.wait();
    const RunProgress progress = session.progress();
    CHECK(progress.repeat == 3);
    CHECK(progress.completed == 3);
    const int counted =
        std::accumulate(progress.outcome_counts.begin(), progress.outcome_counts.end(), 0,
                        [](int sum, const auto& entry) { return sum + entry.second; });
    CHECK(counted == 3);
    CHECK(progress.hangs == 3);
    CHECK(progress.hang_rate() == 1.0);
    const Interval expected = wilson_interval(3, 3);
    CHECK(progress.hang_rate_interval.low == Approx(expected.low));
    CHECK(progress.hang_rate_interval.high == Approx(expected.high));
    CHECK(describe_progress(progress).find("hang rate 100% (3 of 3)") != std::string::npos);
}

TEST_CASE("run session: Stop ends a run that would only end at its deadline", "[gui][app][run]") {
    RunSession session;
    // A sleep loop is never proven hung: only its deadline (a minute here) or Stop ends it.
    RunOptions options;
    options.timeout_seconds = 60;
    REQUIRE(session.start("selftest-sleep-loop", "", {}, 1, options) == "");
    for (int i = 0; i < 1000 && !session.view(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(session.view().live); // it is running, and shown live
    session.stop();
    session.wait();
    const RecordView view = session.view();
    REQUIRE(view);
    CHECK_FALSE(view.live);
    // Not a timeout, not a hang: a run with no outcome.
    CHECK(view.record->verdict.kind == VerdictKind::stopped);
    CHECK(view.record->verdict.explanation.find("Stopped by the user") != std::string::npos);
    CHECK(session.progress().stopped);
    CHECK(session.progress().hangs == 0);
    // Kept for browsing as stopped, not as a hang: the filter of hung runs leaves it out.
    const std::vector<RunEntry> runs = session.runs();
    REQUIRE(runs.size() == 1);
    CHECK(runs.front().stopped);
    CHECK_FALSE(runs.front().hung);
    CHECK(runs.front().outcome == "stopped");
    CHECK_FALSE(step_runs(runs, 0, +1, RunFilter::hung));
}

TEST_CASE("run session: an unknown scenario, variant or knob value does not start",
          "[gui][app][run]") {
    RunSession session;
    CHECK(session.start("no-such-scenario", "") != "");
    CHECK(session.start("file-read-under-lock", "no-such-variant").find("no variant") !=
          std::string::npos);
    CHECK(session.start("file-read-under-lock", "", {{"start_method", "teleport"}}) != "");
    CHECK_FALSE(session.running());
    CHECK_FALSE(session.progress().error.empty());
}

// [SECTION] The matrix ----------------------------------------------------------------------------

TEST_CASE("matrix session: cells arrive with their records, and the panel draws them",
          "[gui][app][matrix]") {
    MatrixPanelState state;
    MatrixOptions options;
    options.filter =
        "file-read-under-lock:fork*"; // fork, fork_exec, forkserver, fork_no_reader, fork_atfork
    options.jobs = 2;
    REQUIRE(state.session.start(options) == "");
    HeadlessImGui imgui;
    RecordView none;
    Selection selection;
    CHECK(imgui.frame([&] { draw_matrix_panel(state, none, selection); }) > 0); // while running
    state.session.wait();
    const MatrixProgress progress = state.session.progress();
    CHECK(progress.total == 5);
    CHECK(progress.done == 5);
    CHECK(progress.passed == 5);
    const auto entries = state.session.entries();
    REQUIRE(entries.size() == 5);
    for (const auto& entry : entries) {
        INFO(entry.scenario << ":" << entry.variant);
        CHECK(entry.done);
        REQUIRE(entry.record);
        CHECK(entry.cell.passed);
        CHECK(matches(entry.expected, entry.record->verdict));
    }
    CHECK(entries.front().variant == "fork");
    CHECK(describe_cell_actual(entries.front().cell) == "deadlocked(orphaned_lock)");
    for (int i = 0; i < 3; ++i)
        CHECK(imgui.frame([&] { draw_matrix_panel(state, none, selection); }) > 0);
    CHECK(state.rows.size() == 1);

    // A click on a finished cell asks the app to open its record. The grid is below the toolbar
    // (whose Run matrix button must not be hit): press and release the mouse over the grid's
    // area until a cell answers.
    std::optional<RecordView> opened;
    ImGuiIO& io = ImGui::GetIO();
    for (float y = 70; y < 200 && !opened; y += 6) {
        for (float x = 8; x < 1200 && !opened; x += 24) {
            io.MouseDown[0] = true;
            imgui.frame([&] { draw_matrix_panel(state, none, selection); }, ImVec2(x, y));
            io.MouseDown[0] = false;
            imgui.frame([&] { draw_matrix_panel(state, none, selection); }, ImVec2(x, y));
            if (state.open_request)
                opened = state.open_request;
        }
    }
    REQUIRE(opened);
    CHECK_FALSE(opened->live);
    bool from_a_cell = false;
    for (const auto& entry : state.session.entries())
        if (opened->record == entry.record && opened->generation == entry.generation)
            from_a_cell = true;
    CHECK(from_a_cell);
    CHECK(state.opened == opened->record->scenario + ":" + opened->record->variant);
    CHECK_FALSE(state.session.running()); // the click did not start the matrix again

    App app;
    show_record(app, *opened);
    CHECK(app.view.record == opened->record);
    CHECK(app.config.variant == opened->record->variant);

    // A filter that selects nothing is one line, and nothing runs.
    MatrixSession empty;
    MatrixOptions nothing;
    nothing.filter = "no-such-scenario*";
    CHECK(empty.start(nothing).find("no variant matches") != std::string::npos);
    CHECK_FALSE(empty.running());
}

TEST_CASE("matrix session: Stop ends the matrix early", "[gui][app][matrix]") {
    MatrixSession session;
    MatrixOptions options; // the whole corpus: far more than runs before Stop takes effect
    options.jobs = 1;
    REQUIRE(session.start(options) == "");
    session.stop();
    session.wait();
    const MatrixProgress progress = session.progress();
    CHECK(progress.stopped);
    CHECK(progress.done < progress.total);
}

// [SECTION] Repeat browsing: every run kept, stepped through, filtered (issue 11) -----------------

TEST_CASE("run session: Repeat 3 keeps three records, and the one on screen says which it is",
          "[gui][app][run][history]") {
    RunSession session;
    REQUIRE(session.start("file-read-under-lock", "fork", {}, 3) == "");
    session.wait();
    const std::vector<RunEntry> runs = session.runs();
    REQUIRE(runs.size() == 3);
    std::set<std::int64_t> starts;
    for (int n = 1; n <= 3; ++n) {
        const RunEntry& entry = runs[static_cast<std::size_t>(n - 1)];
        CHECK(entry.number == n);
        CHECK(entry.kept());
        CHECK(entry.hung);
        CHECK(entry.outcome == "deadlocked(orphaned_lock)");
        const RecordView view = session.run_view(n);
        REQUIRE(view);
        CHECK(view.run_number == n);
        CHECK(view.record == entry.record);
        starts.insert(view.record->start_time_ns);
    }
    CHECK(starts.size() == 3); // three different runs, not one record three times
    CHECK_FALSE(session.run_view(4));
    // The latest is on screen as run 3 of 3.
    CHECK(session.view().run_number == 3);
    CHECK(session.view().record == runs.back().record);
    CHECK(run_label(session.view(), 3, 3) == "run 3 of 3");

    // The app steps back to run 1 and keeps it while nothing else is asked; Latest returns.
    HeadlessImGui imgui;
    App app;
    REQUIRE(select_scenario(app, "file-read-under-lock"));
    REQUIRE(select_variant(app, "fork"));
    REQUIRE(start_run(app, 2) == "");
    wait_until_idle(app.session);
    draw_frames(imgui, app, 2);
    REQUIRE(app.view);
    CHECK(app.view.run_number == 2);
    REQUIRE(show_run(app, 1));
    draw_frames(imgui, app, 2);
    CHECK(app.view.run_number == 1);
    CHECK(app.pinned_run == std::optional<int>(1));
    CHECK(run_label(app.view, 2, 2) == "run 1 of 2");
    follow_latest_run(app);
    draw_frames(imgui, app, 1);
    CHECK(app.view.run_number == 2);
    CHECK_FALSE(app.pinned_run);
}

TEST_CASE("run history: previous and next step through the runs the filter shows",
          "[gui][app][history]") {
    auto hung = recorded(test::kOrphanedLock);
    auto completed = recorded(test::kCompleted);
    RunHistory history;
    // Runs 1..6: hung, completed, hung, completed, completed, hung.
    for (const auto& record : {hung, completed, hung, completed, completed, hung})
        history.add(record, next_record_generation());
    REQUIRE(history.entries().size() == 6);
    CHECK(history.dropped_count() == 0);

    CHECK(history.step(0, +1, RunFilter::all) == std::optional<int>(1));
    CHECK(history.step(3, +1, RunFilter::all) == std::optional<int>(4));
    CHECK(history.step(3, -1, RunFilter::all) == std::optional<int>(2));
    CHECK_FALSE(history.step(6, +1, RunFilter::all));
    CHECK_FALSE(history.step(1, -1, RunFilter::all));

    // Only the hung runs: 1, 3, 6.
    std::vector<int> shown;
    for (auto n = history.step(0, +1, RunFilter::hung); n;
         n = history.step(*n, +1, RunFilter::hung))
        shown.push_back(*n);
    CHECK(shown == std::vector<int>{1, 3, 6});
    for (int n : shown) {
        CHECK(history.find(n)->hung);
        CHECK(history.find(n)->record->verdict.kind == VerdictKind::deadlocked);
    }
    shown.clear();
    for (auto n = history.step(7, -1, RunFilter::completed); n;
         n = history.step(*n, -1, RunFilter::completed))
        shown.push_back(*n);
    CHECK(shown == std::vector<int>{5, 4, 2});
    CHECK(history.latest(RunFilter::hung) == std::optional<int>(6));
    CHECK(history.latest(RunFilter::completed) == std::optional<int>(5));

    // The browser draws headless over them, with run 3 on screen.
    HeadlessImGui imgui;
    RunBrowserState state;
    state.filter = RunFilter::hung;
    RecordView view{history.find(3)->record, history.find(3)->generation, false, 3};
    CHECK(imgui.frame([&] {
        draw_run_browser(state, history.entries(), 6, view, true, history.budget_bytes());
    }) > imgui.frame([] {}));
    CHECK(run_label(view, 6, 6) == "run 3 of 6");
}

TEST_CASE("run history: over its memory budget it drops the oldest records, never an outcome's "
          "last example nor the newest",
          "[gui][app][history]") {
    auto hung = recorded(test::kOrphanedLock);
    auto completed = recorded(test::kCompleted);
    const std::size_t one =
        std::max(approximate_record_bytes(*hung), approximate_record_bytes(*completed));
    REQUIRE(approximate_record_bytes(*hung) > hung->events.size() * sizeof(Event));
    // Room for about three records.
    RunHistory history(one * 3);
    for (int i = 0; i < 10; ++i)
        history.add(i == 0 ? completed : hung, next_record_generation());
    CHECK(history.entries().size() == 10); // every run's outcome stays
    CHECK(history.kept_bytes() <= history.budget_bytes());
    CHECK(history.dropped_count() >= 6);
    CHECK(history.find(1)->kept());       // the only completed run: its outcome's last example
    CHECK(history.find(10)->kept());      // the newest
    CHECK_FALSE(history.find(2)->kept()); // the oldest hung ones went first
    // Stepping skips the dropped records.
    CHECK(history.step(1, +1, RunFilter::all) == history.step(1, +1, RunFilter::hung));
    for (auto n = history.step(0, +1, RunFilter::all); n; n = history.step(*n, +1, RunFilter::all))
        CHECK(history.find(*n)->kept());
}
