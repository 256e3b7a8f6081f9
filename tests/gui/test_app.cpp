// The application over real runs: the whole window drawn headless with and without a record, the
// background run session (a deadlock, a completion, Repeat N, Stop), the matrix session, the
// chosen configuration, and Open/Save of run records.
#include "gui/app.hpp"
#include "gui/matrix_session.hpp"
#include "gui/panels/browser_panel.hpp"
#include "gui/panels/controls_panel.hpp"
#include "gui/panels/matrix_panel.hpp"
#include "gui/record_file.hpp"
#include "gui/run_history.hpp"
#include "gui/run_config.hpp"
#include "gui/run_session.hpp"
#include "sim/run/matrix.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <thread>

using namespace forklore;
using namespace forklore::gui;
using forklore::gui::test::HeadlessImGui;
using forklore::gui::test::recorded;

namespace {

// A private directory for files the tests write, removed at the end.
struct TemporaryDirectory {
    std::filesystem::path path;
    TemporaryDirectory() {
        std::string pattern = (std::filesystem::temp_directory_path() / "forklore-gui-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TemporaryDirectory() { std::filesystem::remove_all(path); }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
}

int draw_frames(HeadlessImGui& imgui, App& app, int frames = 3) {
    int vertices = 0;
    for (int i = 0; i < frames; ++i) vertices = imgui.frame([&] { draw_app(app); });
    return vertices;
}

// Waits for the session's runs to end. Bounded only so a broken session fails instead of hanging
// the suite; the runner's own deadlines end every run long before.
void wait_until_idle(const RunSession& session) {
    for (int i = 0; i < 6000 && session.running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE_FALSE(session.running());
}

RecordView view_of(std::shared_ptr<const RunRecord> record) {
    return RecordView{std::move(record), next_record_generation(), false};
}

} // namespace

TEST_CASE("app: the whole window is drawn with no record", "[gui][app]") {
    HeadlessImGui imgui;
    App app;
    REQUIRE_FALSE(app.config.scenario.empty()); // the corpus's first scenario is chosen
    CHECK(draw_frames(imgui, app) > 0);
    CHECK_FALSE(app.view);
}

TEST_CASE("app: the whole window is drawn over each recorded run", "[gui][app]") {
    HeadlessImGui imgui;
    App app;
    for (const auto* which : {test::kCompleted, test::kOrphanedLock, test::kCycle, test::kCrashed,
                              test::kManyEvents}) {
        auto record = recorded(which[0], which[1]);
        show_record(app, view_of(record));
        INFO(which[0] << ":" << which[1]);
        // Every centre tab in turn (a tab's panel is drawn only while it is in front).
        for (CentreTab tab : {CentreTab::timeline, CentreTab::process_tree, CentreTab::locks,
                              CentreTab::matrix}) {
            app.show_tab = tab;
            CHECK(draw_frames(imgui, app) > 0);
        }
        // The record's scenario and variant are chosen, so its lesson and knobs are beside it.
        CHECK(app.config.scenario == which[0]);
        CHECK(app.config.variant == which[1]);
        CHECK(app.view.record == record);
    }
}

TEST_CASE("app: the whole window is drawn over records at the extremes of every field",
          "[gui][app][file]") {
    // The fuzzer's seeds (tests/fuzz/corpus/record/extreme-*): real records with every whole
    // number at the lowest or highest its field takes (pids INT_MIN, addresses 2^64-1, times
    // +-2^53 ns, the start at 2^62). They are read, and every panel draws them.
    HeadlessImGui imgui;
    const std::string corpus = std::string(FORKLORE_SOURCE_DIR) + "/tests/fuzz/corpus/record/";
    for (const char* name : {"extreme-fork-low.json", "extreme-fork-high.json",
                             "extreme-exec-low.json", "extreme-exec-high.json"}) {
        INFO(name);
        App app;
        REQUIRE(open_record(app, corpus + name));
        for (CentreTab tab : {CentreTab::timeline, CentreTab::process_tree, CentreTab::locks}) {
            app.show_tab = tab;
            CHECK(draw_frames(imgui, app) > 0);
        }
    }
}

TEST_CASE("run session: fork deadlocks on the orphaned lock, live while it runs", "[gui][app][run]") {
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
    const int counted = std::accumulate(progress.outcome_counts.begin(), progress.outcome_counts.end(), 0,
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

TEST_CASE("run session: an unknown scenario, variant or knob value does not start", "[gui][app][run]") {
    RunSession session;
    CHECK(session.start("no-such-scenario", "") != "");
    CHECK(session.start("file-read-under-lock", "no-such-variant").find("no variant") != std::string::npos);
    CHECK(session.start("file-read-under-lock", "", {{"start_method", "teleport"}}) != "");
    CHECK_FALSE(session.running());
    CHECK_FALSE(session.progress().error.empty());
}

TEST_CASE("app: Run from the controls runs the chosen variant and shows it", "[gui][app][run]") {
    HeadlessImGui imgui;
    App app;
    REQUIRE(select_scenario(app, "file-read-under-lock"));
    REQUIRE(select_variant(app, "fork"));
    REQUIRE(start_run(app) == "");
    // The UI keeps drawing while the run goes on in the background.
    for (int i = 0; i < 6000 && app.session.running(); ++i) {
        draw_frames(imgui, app, 1);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    wait_until_idle(app.session);
    draw_frames(imgui, app, 2);
    REQUIRE(app.view);
    CHECK_FALSE(app.view.live);
    CHECK(app.view.record->variant == "fork");
    CHECK(outcome_label(app.view.record->verdict) == "deadlocked(orphaned_lock)");
}

TEST_CASE("run config: variant presets and custom knobs", "[gui][app]") {
    const Scenario* scenario = ScenarioRegistry::instance().find("file-read-under-lock");
    REQUIRE(scenario);
    RunConfig config = RunConfig::for_scenario(*scenario);
    CHECK(config.variant == "fork");
    CHECK(config.knobs.at("start_method") == "fork");
    CHECK(config.matching_variant(*scenario) == "fork");
    CHECK(config.overrides(*scenario).empty());

    config.knobs["start_method"] = "spawn"; // the spawn preset's knobs exactly
    CHECK(config.matching_variant(*scenario) == "spawn");

    config.knobs["atfork"] = "on"; // no preset has spawn with atfork handlers
    CHECK(config.matching_variant(*scenario) == "");
    CHECK(config.overrides(*scenario) == KnobValues{{"start_method", "spawn"}, {"atfork", "on"}});

    config.choose_variant(*scenario, "fork_atfork");
    CHECK(config.knobs.at("atfork") == "on");
    CHECK(config.knobs.at("start_method") == "fork");
    CHECK(config.matching_variant(*scenario) == "fork_atfork");
}

TEST_CASE("app: custom knobs run with no variant and no expectation", "[gui][app][run]") {
    App app;
    REQUIRE(select_scenario(app, "file-read-under-lock"));
    app.config.knobs["start_method"] = "spawn";
    app.config.knobs["atfork"] = "on";
    REQUIRE(start_run(app) == "");
    app.session.wait();
    const RecordView view = app.session.view();
    REQUIRE(view);
    CHECK(view.record->variant.empty());
    CHECK(view.record->knobs.at("atfork") == "on");
    CHECK_FALSE(view.record->expected);
    CHECK(view.record->verdict.kind == VerdictKind::completed);
}

TEST_CASE("app: the max output control makes output a limit, and refuses what is not a size",
          "[gui][app][run]") {
    HeadlessImGui imgui;
    App app;
    // 3 MiB of output: completed with no limit (head and tail kept), limit past 64 KiB.
    REQUIRE(select_scenario(app, "selftest-output-backpressure"));
    app.config.max_output = "abc";
    CHECK(draw_frames(imgui, app) > 0); // drawn with its complaint beside it
    CHECK(start_run(app).find("max output") != std::string::npos);
    CHECK_FALSE(app.session.running());

    app.config.max_output = "";
    REQUIRE(start_run(app) == "");
    app.session.wait();
    REQUIRE(app.session.view());
    CHECK(app.session.view().record->verdict.kind == VerdictKind::completed);
    CHECK(app.session.view().record->stdout_dropped > 0);

    app.config.max_output = "64K";
    REQUIRE(start_run(app) == "");
    app.session.wait();
    REQUIRE(app.session.view());
    CHECK(app.session.view().record->verdict.kind == VerdictKind::limit);
    CHECK(app.session.view().record->limits.max_output == 64u << 10);

    // The record with dropped output is drawn; the limit stays when another scenario is chosen.
    show_record(app, app.session.view());
    CHECK(draw_frames(imgui, app) > 0);
    REQUIRE(select_scenario(app, "file-read-under-lock"));
    CHECK(app.config.max_output == "64K");
}

TEST_CASE("browser: the search matches id, title and lesson", "[gui][app]") {
    const Scenario* scenario = ScenarioRegistry::instance().find("file-read-under-lock");
    REQUIRE(scenario);
    CHECK(scenario_matches(*scenario, ""));
    CHECK(scenario_matches(*scenario, "READ-UNDER"));
    CHECK(scenario_matches(*scenario, "pthread_atfork")); // in the lesson only
    CHECK_FALSE(scenario_matches(*scenario, "no such words anywhere"));
}

TEST_CASE("app: a malformed file is refused and the record on screen stays", "[gui][app][file]") {
    TemporaryDirectory directory;
    App app;
    auto record = recorded(test::kOrphanedLock);
    show_record(app, view_of(record));
    const std::uint64_t generation = app.view.generation;

    const std::string broken = directory.file("broken.json");
    write_text(broken, "{\"version\": 1, \"events\": [");
    CHECK_FALSE(open_record(app, broken));
    CHECK(app.file_error);
    CHECK(app.file_message.find("broken.json") != std::string::npos);
    CHECK(app.file_message.find('\n') == std::string::npos);
    CHECK(app.view.record == record);
    CHECK(app.view.generation == generation);

    const std::string not_a_record = directory.file("list.json");
    write_text(not_a_record, "[1, 2, 3]");
    CHECK_FALSE(open_record(app, not_a_record));
    CHECK(app.file_message.find("not a run record") != std::string::npos);
    CHECK(app.view.record == record);

    CHECK_FALSE(open_record(app, directory.file("missing.json")));
    CHECK(app.view.record == record);

    HeadlessImGui imgui;
    CHECK(draw_frames(imgui, app) > 0); // and the error line is drawn
}

TEST_CASE("app: Save then Open gives back the same run", "[gui][app][file]") {
    TemporaryDirectory directory;
    App app;
    CHECK_FALSE(save_record(app, directory.file("nothing.json"))); // no record yet
    auto record = recorded(test::kOrphanedLock);
    show_record(app, view_of(record));
    const std::string path = directory.file("run.json");
    REQUIRE(save_record(app, path));
    // Written whole under its name: no temporary file is left beside it.
    CHECK(std::distance(std::filesystem::directory_iterator(directory.path),
                        std::filesystem::directory_iterator{}) == 1);

    App other;
    REQUIRE(open_record(other, path));
    REQUIRE(other.view);
    CHECK(other.view.record != record);
    CHECK(other.view.record->events.size() == record->events.size());
    CHECK(outcome_label(other.view.record->verdict) == outcome_label(record->verdict));
    CHECK(other.view.record->verdict.explanation == record->verdict.explanation);
    CHECK(other.view.generation != app.view.generation);
    CHECK(other.config.scenario == "file-read-under-lock");

    CHECK_FALSE(save_record(app, directory.file("no/such/dir/run.json")));
    CHECK(app.file_error);
}

TEST_CASE("app: Save refuses a FIFO, a device and a symbolic link, and leaves them as they were",
          "[gui][app][file]") {
    TemporaryDirectory directory;
    App app;
    show_record(app, view_of(recorded(test::kOrphanedLock)));
    auto refused = [&](const std::string& path, const std::string& words) {
        INFO(path);
        CHECK_FALSE(save_record(app, path));
        CHECK(app.file_error);
        CHECK(app.file_message.find(words) != std::string::npos);
        CHECK(app.file_message.find('\n') == std::string::npos);
    };
    const std::string fifo = directory.file("fifo.json");
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    refused(fifo, "cannot write " + fifo + ": it is a FIFO (named pipe)");
    CHECK(std::filesystem::is_fifo(std::filesystem::symlink_status(fifo)));
    refused("/dev/null", "cannot write /dev/null: it is a character device");
    const std::string target = directory.file("target.json");
    write_text(target, "precious\n");
    const std::string link = directory.file("link.json");
    std::filesystem::create_symlink(target, link);
    refused(link, "it is a symbolic link");
    CHECK(std::filesystem::is_symlink(std::filesystem::symlink_status(link)));
    std::ifstream in(target);
    std::string kept;
    std::getline(in, kept);
    CHECK(kept == "precious");
    // Nothing else was made beside them.
    CHECK(std::distance(std::filesystem::directory_iterator(directory.path),
                        std::filesystem::directory_iterator{}) == 3);
}

TEST_CASE("app: Open refuses a record nested 100,000 deep, and the record on screen stays",
          "[gui][app][file]") {
    TemporaryDirectory directory;
    App app;
    auto record = recorded(test::kOrphanedLock);
    show_record(app, view_of(record));
    for (const std::string key : {"events", "snapshots", "processes", "stacks", "wait_for"}) {
        const std::string path = directory.file(key + ".json");
        write_text(path, "{\"format\":\"forklore-run\",\"version\":1,\"verdict\":\"completed\",\"" +
                             key + "\":" + std::string(100'000, '[') +
                             std::string(100'000, ']') + "}");
        INFO(key);
        CHECK_FALSE(open_record(app, path));
        CHECK(app.file_error);
        CHECK(app.file_message.find(path + ": run record: ") == 0);
        CHECK(app.view.record == record);
    }
    HeadlessImGui imgui;
    CHECK(draw_frames(imgui, app) > 0);
}

TEST_CASE("matrix session: cells arrive with their records, and the panel draws them",
          "[gui][app][matrix]") {
    MatrixPanelState state;
    MatrixOptions options;
    options.filter = "file-read-under-lock:fork*"; // fork, fork_exec, forkserver, fork_no_reader, fork_atfork
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
            if (state.open_request) opened = state.open_request;
        }
    }
    REQUIRE(opened);
    CHECK_FALSE(opened->live);
    bool from_a_cell = false;
    for (const auto& entry : state.session.entries())
        if (opened->record == entry.record && opened->generation == entry.generation) from_a_cell = true;
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

// --- Repeat browsing: every run kept, stepped through, filtered (issue 11) --------------------

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

TEST_CASE("run history: previous and next step through the runs the filter shows", "[gui][app][history]") {
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
    for (auto n = history.step(0, +1, RunFilter::hung); n; n = history.step(*n, +1, RunFilter::hung))
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
          "last example nor the newest", "[gui][app][history]") {
    auto hung = recorded(test::kOrphanedLock);
    auto completed = recorded(test::kCompleted);
    const std::size_t one = std::max(approximate_record_bytes(*hung), approximate_record_bytes(*completed));
    REQUIRE(approximate_record_bytes(*hung) > hung->events.size() * sizeof(Event));
    // Room for about three records.
    RunHistory history(one * 3);
    for (int i = 0; i < 10; ++i) history.add(i == 0 ? completed : hung, next_record_generation());
    CHECK(history.entries().size() == 10); // every run's outcome stays
    CHECK(history.kept_bytes() <= history.budget_bytes());
    CHECK(history.dropped_count() >= 6);
    CHECK(history.find(1)->kept());  // the only completed run: its outcome's last example
    CHECK(history.find(10)->kept()); // the newest
    CHECK_FALSE(history.find(2)->kept()); // the oldest hung ones went first
    // Stepping skips the dropped records.
    CHECK(history.step(1, +1, RunFilter::all) == history.step(1, +1, RunFilter::hung));
    for (auto n = history.step(0, +1, RunFilter::all); n; n = history.step(*n, +1, RunFilter::all))
        CHECK(history.find(*n)->kept());
}
