// The verdict tells the whole story (issue 11): a run the user stopped counts nowhere and is shown
// neutrally; a completed run says why it did not hang, and a hazard that did not bite is a
// warning in the Verdict panel and a mark on its Matrix cell. The panels' text is read back from
// ImGui's log of what they drew.
#include "gui/matrix_session.hpp"
#include "gui/models/lock_table_model.hpp"
#include "gui/models/wait_graph_model.hpp"
#include "gui/panels/controls_panel.hpp"
#include "gui/panels/matrix_panel.hpp"
#include "gui/panels/verdict_panel.hpp"
#include "gui/run_config.hpp"
#include "gui/run_session.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <imgui_internal.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

using namespace forklore;
using namespace forklore::gui;
using Catch::Matchers::Contains;
using forklore::gui::test::drawn_text;
using forklore::gui::test::HeadlessImGui;
using forklore::gui::test::recorded;

TEST_CASE("verdict story: Stop during a Repeat is neither a hang nor a mismatch",
          "[gui][verdict][run]") {
    RunSession session;
    // A sleep loop is never proven hung: each run would last until its deadline (a minute).
    RunOptions options;
    options.timeout_seconds = 60;
    REQUIRE(session.start("selftest-sleep-loop", "default", {}, 10, options) == "");
    for (int i = 0; i < 1000 && !session.view(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(session.view().live);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    session.stop();
    session.wait();

    const RunProgress progress = session.progress();
    CHECK(progress.stopped);
    CHECK(progress.completed == 0);
    CHECK(progress.hangs == 0);
    CHECK(progress.as_expected == 0);
    CHECK(progress.outcome_counts.empty());
    CHECK(progress.stopped_after_ms >= 300);
    const std::string status = describe_progress(progress);
    CHECK_THAT(status, Contains("0 of 10 runs done") &&
                           Contains("then stopped by the user after") && !Contains("hang rate"));

    const RecordView view = session.view();
    REQUIRE(view);
    CHECK_FALSE(view.live);
    CHECK(view.record->verdict.kind == VerdictKind::stopped);
    CHECK_THAT(view.record->verdict.explanation,
               Contains("Stopped by the user after") && Contains("counts in no hang rate"));

    HeadlessImGui gui(1280, 2000);
    Selection selection;
    VerdictPanelState verdict;
    const std::string shown =
        drawn_text(gui, [&] { draw_verdict_panel(verdict, view, selection); });
    CHECK_THAT(shown, Contains("stopped") && Contains("Stopped by the user after") &&
                          Contains("not checked: the run was stopped before a verdict") &&
                          !Contains("MISMATCH"));

    // The controls beside it: the record's outcome is "stopped", compared with nothing.
    const Scenario* scenario = ScenarioRegistry::instance().find("selftest-sleep-loop");
    REQUIRE(scenario);
    RunConfig config = RunConfig::for_scenario(*scenario);
    ControlsPanelState controls;
    const std::string controls_text =
        drawn_text(gui, [&] { draw_controls_panel(controls, config, progress, view); });
    CHECK_THAT(controls_text, Contains("stopped by the user after") &&
                                  Contains("no outcome: not compared with the expectation") &&
                                  !Contains("NOT as expected") && !Contains("hang rate"));
}

TEST_CASE("verdict story: a completed run says why, and its hazard is a warning",
          "[gui][verdict]") {
    HeadlessImGui gui(1280, 3000);
    Selection selection;

    SECTION("spawn: the child had no copy of the lock 'reader' held") {
        auto record = recorded(test::kCompleted);
        REQUIRE(record->verdict.kind == VerdictKind::completed);
        VerdictPanelState verdict;
        RecordView view{record, 1, false};
        const std::string shown =
            drawn_text(gui, [&] { draw_verdict_panel(verdict, view, selection); });
        CHECK_THAT(shown, Contains("Why it did not hang") &&
                              Contains("started from a fresh program (spawn)") &&
                              Contains("no copy of 'file_lock', held by thread 'reader'") &&
                              !Contains("Warnings"));
    }

    SECTION("flock_inherited: the worker's unlock released the parent's flock") {
        auto record = recorded("file-locks-across-fork", "flock_inherited");
        REQUIRE(record->verdict.kind == VerdictKind::completed);
        REQUIRE(record->verdict.warnings.size() == 1);
        CHECK(record->verdict.warnings[0].kind == "shared_file_lock");
        VerdictPanelState verdict;
        RecordView view{record, 2, false};
        const std::string shown =
            drawn_text(gui, [&] { draw_verdict_panel(verdict, view, selection); });
        CHECK_THAT(shown, Contains("Why it did not hang") &&
                              Contains("Warnings (1): hazards that did not bite this time") &&
                              Contains("shared_file_lock: ") &&
                              Contains("which released the lock of process 2"));
    }
}

TEST_CASE("verdict story: a matrix cell whose run showed a hazard carries a mark",
          "[gui][matrix]") {
    MatrixPanelState state;
    MatrixOptions options;
    options.filter = "file-locks-across-fork:flock_inherited";
    options.jobs = 1;
    REQUIRE(state.session.start(options) == "");
    state.session.wait();
    const auto entries = state.session.entries();
    REQUIRE(entries.size() == 1);
    const MatrixEntry& entry = entries.front();
    REQUIRE(entry.done);
    CHECK(entry.cell.passed); // it completed, as expected: the mark is not a failure
    CHECK(entry.cell.warning_counts.count("shared_file_lock") == 1);
    CHECK(cell_warning_mark(entry) == "  !");

    HeadlessImGui gui(1600, 900);
    RecordView none;
    Selection selection;
    std::string shown;
    for (int frame = 0; frame < 3; ++frame) // the first frames lay the grid out
        shown = drawn_text(gui, [&] { draw_matrix_panel(state, none, selection); });
    CHECK_THAT(shown, Contains("flock_inherited  ok  !") && Contains("a warning"));
}

TEST_CASE("verdict story: one address for the reader's barrier in the graph and the Locks tab",
          "[gui][verdict][locks]") {
    // The reader reaches barrier 'finished' just after the fork; the child's orphaned lock can be
    // proven before it gets there (once in a loaded CI run), and then the barrier is in no wait.
    auto record = test::recorded_where(test::kOrphanedLock, [](const RunRecord& r) {
        const WaitGraphModel g = build_wait_graph(r);
        return std::any_of(g.nodes.begin(), g.nodes.end(), [](const WaitGraphNode& n) {
            return n.kind == WaitGraphNode::Kind::lock && n.label == "barrier 'finished'";
        });
    });
    REQUIRE(record->verdict.kind == VerdictKind::deadlocked);
    std::uint64_t barrier = 0;
    for (const auto& e : record->events)
        if (e.kind == EventKind::barrier_wait && std::string(e.name) == "finished")
            barrier = e.object;
    REQUIRE(barrier != 0);
    WaitGraphModel graph = build_wait_graph(*record);
    auto node = std::find_if(graph.nodes.begin(), graph.nodes.end(), [](const WaitGraphNode& n) {
        return n.kind == WaitGraphNode::Kind::lock && n.label == "barrier 'finished'";
    });
    REQUIRE(node != graph.nodes.end());
    CHECK(node->address == barrier);
    CHECK_THAT(node->detail, Contains(fmt::format("{:#x}", barrier)));
    CHECK_THAT(node->tooltip, Contains("futex word"));
    LockTableModel locks = build_lock_table(*record);
    std::vector<const LockRow*> rows = locks.named("finished");
    REQUIRE_FALSE(rows.empty());
    for (const LockRow* row : rows)
        CHECK(row->address == barrier);
}

TEST_CASE("verdict story: flock_reopened names the fds that hold and the fd that waits",
          "[gui][verdict][locks]") {
    auto record = recorded("file-locks-across-fork", "flock_reopened");
    REQUIRE(record->verdict.kind == VerdictKind::deadlocked);
    LockTableModel locks = build_lock_table(*record);
    REQUIRE(locks.file_locks.size() == 1);
    const FileLockRow& row = locks.file_locks.front();
    INFO(row.state_text);
    REQUIRE(row.holders.size() == 2);
    for (const auto& holder : row.holders)
        CHECK(holder.fd >= 0);
    REQUIRE(row.waiters.size() == 1);
    CHECK(row.waiters[0].pid == 3);
    CHECK(row.waiters[0].fd >= 0);
    CHECK(row.waiters[0].fd != row.holders[0].fd);
    CHECK_THAT(row.state_text,
               Contains(fmt::format("Process 3 holds it through fd {} and waits for it through "
                                    "fd {}",
                                    row.holders[1].fd, row.waiters[0].fd)) &&
                   Contains("a flock belongs to the open file description"));

    WaitGraphModel graph = build_wait_graph(*record);
    auto node = std::find_if(graph.nodes.begin(), graph.nodes.end(), [](const WaitGraphNode& n) {
        return n.kind == WaitGraphNode::Kind::file_lock;
    });
    REQUIRE(node != graph.nodes.end());
    CHECK_THAT(node->detail, Contains("held by fd"));
    CHECK_THAT(node->tooltip, Contains("process 3 waits for it through fd"));
}
