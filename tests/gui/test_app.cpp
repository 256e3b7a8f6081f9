// The application over real runs: the whole window drawn headless with and without a record,
// Run from the controls, the chosen configuration, the browser's search, and Open/Save of run
// records. The background sessions themselves are test_run_sessions.cpp.
#include "gui/app.hpp"
#include "gui/panels/browser_panel.hpp"
#include "gui/panels/controls_panel.hpp"
#include "gui/record_file.hpp"
#include "gui/run_config.hpp"
#include "gui/run_session.hpp"
#include "tests/gui/app_harness.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

using namespace forklore;
using namespace forklore::gui;
using namespace forklore::gui::test;

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
    for (const auto* which :
         {test::kCompleted, test::kOrphanedLock, test::kCycle, test::kCrashed, test::kManyEvents}) {
        auto record = recorded(which[0], which[1]);
        show_record(app, view_of(record));
        INFO(which[0] << ":" << which[1]);
        // Every centre tab in turn (a tab's panel is drawn only while it is in front).
        for (CentreTab tab :
             {CentreTab::timeline, CentreTab::process_tree, CentreTab::locks, CentreTab::matrix}) {
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
                             key + "\":" + std::string(100'000, '[') + std::string(100'000, ']') +
                             "}");
        INFO(key);
        CHECK_FALSE(open_record(app, path));
        CHECK(app.file_error);
        CHECK(app.file_message.find(path + ": run record: ") == 0);
        CHECK(app.view.record == record);
    }
    HeadlessImGui imgui;
    CHECK(draw_frames(imgui, app) > 0);
}
