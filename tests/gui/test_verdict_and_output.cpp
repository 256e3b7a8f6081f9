// The Verdict and Output panels over real run records: the wait-for graph model names the
// orphaned lock and the cycle, the event log filter keeps what it should, and both panels draw
// headless and answer clicks.
//
// Index of this file:
// [SECTION] Helpers: records and nodes
// [SECTION] The wait-for graph model
// [SECTION] The verdict headline
// [SECTION] The event log model
// [SECTION] The panels drawn headless and clicked
#include "gui/models/event_log_model.hpp"
#include "gui/models/wait_graph_model.hpp"
#include "gui/panels/output_panel.hpp"
#include "gui/panels/verdict_panel.hpp"
#include "gui/widgets.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>

using namespace forklore;
using namespace forklore::gui;
using forklore::gui::test::HeadlessImGui;
using forklore::gui::test::recorded;

// [SECTION] Helpers: records and nodes ------------------------------------------------------------

namespace {

bool starts_with(const std::string& text, const std::string& prefix) {
    return text.rfind(prefix, 0) == 0;
}

bool contains_ignoring_case(std::string_view field, const std::string& lowered) {
    std::string text(field);
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text.find(lowered) != std::string::npos;
}

// True when some vertex drawn in the last frame has exactly this colour.
bool drew_colour(ImU32 colour) {
    const ImDrawData* data = ImGui::GetDrawData();
    for (int list = 0; list < data->CmdListsCount; ++list)
        for (const ImDrawVert& vertex : data->CmdLists[list]->VtxBuffer)
            if (vertex.col == colour)
                return true;
    return false;
}

// Clicks (press in one frame, release in the next) at x along y from `from` towards `to` until
// `done` says the click did something; returns the y that worked, or -1.
template <typename Draw, typename Done>
float click_sweep(HeadlessImGui& gui, const Draw& draw, float x, float from, float to, float step,
                  const Done& done) {
    ImGuiIO& io = ImGui::GetIO();
    for (float y = from; step > 0 ? y < to : y > to; y += step) {
        io.MouseDown[0] = true;
        gui.frame(draw, ImVec2(x, y));
        io.MouseDown[0] = false;
        gui.frame(draw, ImVec2(x, y));
        if (done())
            return y;
    }
    return -1;
}

} // namespace

// [SECTION] The wait-for graph model --------------------------------------------------------------

TEST_CASE("the orphaned lock's graph: the child's main thread waits for a lock held by 'reader' "
          "in the parent",
          "[gui][verdict]") {
    auto record = recorded(test::kOrphanedLock);
    REQUIRE(record->verdict.reason == DeadlockReason::orphaned_lock);
    const WaitGraphModel graph = build_wait_graph(*record);
    REQUIRE_FALSE(graph.empty());

    auto held = std::find_if(graph.edges.begin(), graph.edges.end(), [](const WaitGraphEdge& e) {
        return e.relation == WaitGraphEdge::Relation::held_by && e.orphaned;
    });
    REQUIRE(held != graph.edges.end());
    const WaitGraphNode& lock = graph.nodes[held->from];
    const WaitGraphNode& owner = graph.nodes[held->to];
    CHECK(lock.kind == WaitGraphNode::Kind::lock);
    CHECK(lock.label == "mutex 'file_lock'");
    CHECK(lock.address != 0);
    CHECK(owner.kind == WaitGraphNode::Kind::thread);
    CHECK(starts_with(owner.label, "reader (tid "));

    auto waits = graph.edges_to(held->from);
    REQUIRE(waits.size() == 1);
    const WaitGraphEdge& wait = graph.edges[waits.front()];
    CHECK(wait.relation == WaitGraphEdge::Relation::waits_for);
    CHECK(wait.orphaned);
    const WaitGraphNode& waiter = graph.nodes[wait.from];
    CHECK(waiter.kind == WaitGraphNode::Kind::thread);
    CHECK(waiter.label == fmt::format("main (tid {}) @ process {}", waiter.tid, waiter.pid));
    CHECK(waiter.blocked);
    CHECK(waiter.culprit);
    CHECK(lock.pid == waiter.pid); // the child's copy of the lock
    CHECK(lock.detail == fmt::format("{:#x} in process {}", lock.address, waiter.pid));

    // The owner lives in the parent, which made the waiter's process with fork().
    const ProcessRecord* child = record->find_process(waiter.pid);
    REQUIRE(child != nullptr);
    CHECK(child->start_method == StartMethod::fork);
    CHECK(owner.pid == child->parent_ns_pid);
    CHECK(owner.pid != waiter.pid);
    CHECK(owner.label == fmt::format("reader (tid {}) @ process {}", owner.tid, owner.pid));

    // The parent's main thread waits for the child process, which runs the blocked thread.
    auto parent_main =
        std::find_if(graph.nodes.begin(), graph.nodes.end(), [&](const WaitGraphNode& n) {
            return n.kind == WaitGraphNode::Kind::thread && n.pid == owner.pid &&
                   starts_with(n.label, "main");
        });
    REQUIRE(parent_main != graph.nodes.end());
    CHECK(parent_main->blocked);

    CHECK_FALSE(graph.has_cycle);
    // Read from top to bottom: the waiter, then the lock, then its owner.
    CHECK(waiter.layer < lock.layer);
    CHECK(lock.layer < owner.layer);
}

TEST_CASE("the graph and the event log name _Fork() as the call that copied the lock",
          "[gui][verdict]") {
    // loader-locks-at-fork:dlopen_underscore_fork: the child of _Fork() waits for the loader's
    // dl_load_lock, held by the parent's 'loader' thread (fork() would have reset it).
    auto record = recorded("loader-locks-at-fork", "dlopen_underscore_fork");
    INFO(record->verdict.explanation);
    REQUIRE(record->verdict.reason == DeadlockReason::orphaned_lock);
    const WaitGraphModel graph = build_wait_graph(*record);
    auto held = std::find_if(graph.edges.begin(), graph.edges.end(), [](const WaitGraphEdge& e) {
        return e.relation == WaitGraphEdge::Relation::held_by && e.orphaned;
    });
    REQUIRE(held != graph.edges.end());
    const WaitGraphNode& owner = graph.nodes[held->to];
    INFO(owner.tooltip);
    CHECK(owner.tooltip.find("_Fork() copied the lock but not this thread") != std::string::npos);
    CHECK(owner.tooltip.find("fork() copied") == std::string::npos);

    auto made = std::find_if(record->events.begin(), record->events.end(),
                             [](const Event& e) { return e.kind == EventKind::child_start; });
    REQUIRE(made != record->events.end());
    CHECK(event_args_text(*made) == "fork, by _Fork()");
}

TEST_CASE("the cycle's graph has two threads and two locks on a cycle", "[gui][verdict]") {
    auto record = recorded(test::kCycle);
    REQUIRE(record->verdict.reason == DeadlockReason::cycle);
    const WaitGraphModel graph = build_wait_graph(*record);
    CHECK(graph.has_cycle);

    std::vector<std::string> threads, locks;
    for (const auto& node : graph.nodes) {
        if (!node.in_cycle)
            continue;
        CHECK(node.culprit);
        if (node.kind == WaitGraphNode::Kind::thread)
            threads.push_back(node.label);
        if (node.kind == WaitGraphNode::Kind::lock)
            locks.push_back(node.label);
    }
    std::sort(locks.begin(), locks.end());
    CHECK(threads.size() == 2);
    CHECK(locks == std::vector<std::string>{"mutex 'left'", "mutex 'right'"});

    auto cycle_edges = std::count_if(graph.edges.begin(), graph.edges.end(),
                                     [](const WaitGraphEdge& e) { return e.in_cycle; });
    CHECK(cycle_edges == 4);
    auto back_edges = std::count_if(graph.edges.begin(), graph.edges.end(),
                                    [](const WaitGraphEdge& e) { return e.back; });
    CHECK(back_edges == 1); // the one arrow drawn back up, closing the cycle

    // main joins thread 'a': a wait outside the cycle, drawn as a thread to thread arrow.
    auto joins = std::find_if(graph.edges.begin(), graph.edges.end(), [](const WaitGraphEdge& e) {
        return e.relation == WaitGraphEdge::Relation::joins;
    });
    REQUIRE(joins != graph.edges.end());
    CHECK(starts_with(graph.nodes[joins->from].label, "main (tid "));
    CHECK(starts_with(graph.nodes[joins->to].label, "a (tid "));
    CHECK_FALSE(graph.nodes[joins->from].in_cycle);
}

TEST_CASE("the wait-for graph's layout is deterministic and its boxes do not overlap",
          "[gui][verdict]") {
    for (const auto* which :
         {test::kCompleted, test::kOrphanedLock, test::kCycle, test::kCrashed, test::kManyEvents}) {
        auto record = recorded(which[0], which[1]);
        const WaitGraphModel graph = build_wait_graph(*record);
        const WaitGraphModel again = build_wait_graph(*record);
        INFO(record->scenario << ":" << record->variant);
        CHECK(graph.empty() == record->verdict.wait_for.empty());
        REQUIRE(graph.nodes.size() == again.nodes.size());
        for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
            const auto& node = graph.nodes[i];
            CHECK(node.x == again.nodes[i].x);
            CHECK(node.y == again.nodes[i].y);
            CHECK(node.x - kGraphNodeWidth / 2 >= 0);
            CHECK(node.x + kGraphNodeWidth / 2 <= graph.width);
            CHECK(node.y - kGraphNodeHeight / 2 >= 0);
            CHECK(node.y + kGraphNodeHeight / 2 <= graph.height);
            for (std::size_t j = i + 1; j < graph.nodes.size(); ++j) {
                const auto& other = graph.nodes[j];
                bool apart = std::abs(node.x - other.x) >= kGraphNodeWidth ||
                             std::abs(node.y - other.y) >= kGraphNodeHeight;
                CHECK(apart);
            }
        }
    }
}

// [SECTION] The verdict headline ------------------------------------------------------------------

TEST_CASE("verdict headline and expected versus actual", "[gui][verdict]") {
    auto orphaned = recorded(test::kOrphanedLock);
    CHECK(verdict_headline(orphaned->verdict) == "deadlocked / orphaned_lock");
    CHECK(verdict_headline(recorded(test::kCrashed)->verdict) == "crashed / SIGABRT");
    CHECK(verdict_headline(recorded(test::kCompleted)->verdict) == "completed");

    ExpectationLine line = expectation_line(*orphaned);
    CHECK(line.text == "expected deadlocked(orphaned_lock) - as expected");
    CHECK_FALSE(line.mismatch);

    RunRecord wrong = *orphaned;
    wrong.expected = Expectation::completes();
    line = expectation_line(wrong);
    CHECK(line.text == "expected completed - MISMATCH");
    CHECK(line.mismatch);

    wrong.expected.reset();
    CHECK(expectation_line(wrong).text.empty());
}

// [SECTION] The event log model -------------------------------------------------------------------

TEST_CASE("the event log filter keeps only what is asked for", "[gui][output]") {
    auto record = recorded(test::kManyEvents);
    const auto& events = record->events;
    REQUIRE(events.size() > 50000);
    EventLogModel log;

    SECTION("a kind's name as text") {
        EventFilter filter;
        filter.text = "lock_acquired";
        CHECK(log.update(*record, 1, filter));
        auto expected = std::count_if(events.begin(), events.end(), [](const Event& e) {
            return e.kind == EventKind::lock_acquired;
        });
        REQUIRE(expected > 0);
        CHECK(log.rows().size() == static_cast<std::size_t>(expected));
        CHECK(std::all_of(log.rows().begin(), log.rows().end(), [&](std::size_t i) {
            return events[i].kind == EventKind::lock_acquired;
        }));
        CHECK(log.total() == events.size());
        CHECK(log.kind_counts()[static_cast<std::size_t>(EventKind::lock_acquired)] ==
              static_cast<std::size_t>(expected));
        // Nothing changed: no work.
        CHECK_FALSE(log.update(*record, 1, filter));
        // A new generation of the record: the rows are recomputed.
        CHECK(log.update(*record, 2, filter));
    }
    SECTION("text in a thread's or an object's name, ignoring case") {
        EventFilter filter;
        filter.text = "WORKER2";
        log.update(*record, 1, filter);
        auto expected = std::count_if(events.begin(), events.end(), [](const Event& e) {
            return contains_ignoring_case(field_text(e.thread), "worker2") ||
                   contains_ignoring_case(field_text(e.name), "worker2");
        });
        REQUIRE(expected > 0);
        CHECK(log.rows().size() == static_cast<std::size_t>(expected));
        CHECK(log.rows().size() < events.size());

        filter.text = "second"; // a lock's name
        log.update(*record, 1, filter);
        CHECK_FALSE(log.rows().empty());
        CHECK(std::all_of(log.rows().begin(), log.rows().end(),
                          [&](std::size_t i) { return std::string(events[i].name) == "second"; }));
    }
    SECTION("a set of kinds and a process") {
        EventFilter filter;
        filter.show_only(EventKind::thread_start);
        log.update(*record, 1, filter);
        CHECK(log.rows().size() == 4);
        filter.kinds[static_cast<std::size_t>(EventKind::thread_exit)] = true;
        log.update(*record, 1, filter);
        CHECK(log.rows().size() == 8);

        const pid_t main_pid = events[log.rows().front()].pid;
        EventFilter by_process;
        by_process.pid = main_pid;
        log.update(*record, 1, by_process);
        CHECK_FALSE(log.rows().empty());
        CHECK(std::all_of(log.rows().begin(), log.rows().end(),
                          [&](std::size_t i) { return events[i].pid == main_pid; }));
        CHECK(std::find(log.processes().begin(), log.processes().end(), main_pid) !=
              log.processes().end());
    }
    SECTION("row_of finds the row of a shown event only") {
        EventFilter filter;
        filter.show_only(EventKind::lock_released);
        log.update(*record, 1, filter);
        REQUIRE(log.rows().size() > 100);
        CHECK(log.row_of(log.rows()[100]) == std::optional<std::size_t>(100));
        auto hidden = std::find_if(events.begin(), events.end(), [](const Event& e) {
            return e.kind != EventKind::lock_released;
        });
        CHECK_FALSE(log.row_of(static_cast<std::size_t>(hidden - events.begin())));
    }
}

TEST_CASE("event cells say what an event is about", "[gui][output]") {
    auto record = recorded(test::kOrphanedLock);
    bool saw_fork = false, saw_lock = false;
    for (const auto& event : record->events) {
        if (event.kind == EventKind::child_start) {
            CHECK(event_args_text(event) == "fork");
            CHECK(starts_with(event_object_text(event), fmt::format("child {}", event.object)));
            saw_fork = true;
        }
        if (event.kind == EventKind::lock_acquired && std::string(event.name) == "file_lock") {
            CHECK(event_args_text(event) == "mutex");
            CHECK(event_object_text(event) == fmt::format("file_lock @{:#x}", event.object));
            saw_lock = true;
        }
        CHECK(event_time_ms(*record, event) >= 0);
    }
    CHECK(saw_fork);
    CHECK(saw_lock);
}

// [SECTION] The panels drawn headless and clicked -------------------------------------------------

TEST_CASE("the verdict and output panels draw every record headless", "[gui][verdict][output]") {
    HeadlessImGui gui(1280, 900);
    const int empty = gui.frame([] {});
    std::uint64_t generation = 1;
    for (const auto* which :
         {test::kCompleted, test::kOrphanedLock, test::kCycle, test::kCrashed, test::kManyEvents}) {
        auto record = recorded(which[0], which[1]);
        INFO(record->scenario << ":" << record->variant);
        RecordView view{record, generation++, false};
        Selection selection;
        VerdictPanelState verdict;
        OutputPanelState output;
        for (int frame = 0; frame < 3; ++frame) {
            CHECK(gui.frame([&] { draw_verdict_panel(verdict, view, selection); }) > empty);
            // The orphaned edge is the one thing drawn in the 'waiting' red.
            CHECK(drew_colour(palette::waiting) ==
                  (record->verdict.reason == DeadlockReason::orphaned_lock));
            CHECK(gui.frame([&] { draw_output_panel(output, view, selection); }) > empty);
        }
        CHECK(verdict.built_from.matches(view));
        CHECK(output.log.total() == record->events.size());
    }

    SECTION("no run yet, and a run still in progress") {
        RecordView none;
        Selection selection;
        VerdictPanelState verdict;
        OutputPanelState output;
        CHECK(gui.frame([&] { draw_verdict_panel(verdict, none, selection); }) > empty);
        CHECK(gui.frame([&] { draw_output_panel(output, none, selection); }) > empty);
        RecordView live{recorded(test::kManyEvents), 99, true};
        CHECK(gui.frame([&] { draw_verdict_panel(verdict, live, selection); }) > empty);
        CHECK(gui.frame([&] { draw_output_panel(output, live, selection); }) > empty);
    }
}

TEST_CASE("a click on an event row selects it, and a selection made elsewhere scrolls to it",
          "[gui][output]") {
    HeadlessImGui gui(1280, 600);
    auto record = recorded(test::kManyEvents);
    RecordView view{record, 1, false};
    Selection selection;
    OutputPanelState output;
    output.filter.text = "lock_acquired";
    auto draw = [&] { draw_output_panel(output, view, selection); };
    gui.frame(draw);
    gui.frame(draw);

    // Down the middle of the panel, below the tabs and the filter line, until a row is hit.
    const float row_y =
        click_sweep(gui, draw, 700, 30, 600, 5, [&] { return selection.event.has_value(); });
    REQUIRE(row_y > 0);
    const std::size_t clicked = *selection.event;
    CHECK(record->events[clicked].kind == EventKind::lock_acquired);
    CHECK(selection.pid == record->events[clicked].pid);
    CHECK(selection.tid == record->events[clicked].tid);
    CHECK(selection.object == record->events[clicked].object);
    const auto clicked_row = output.log.row_of(clicked);
    REQUIRE(clicked_row);
    CHECK(*clicked_row < 40); // the log starts at its top

    // Another panel selects an event far down the log: the log scrolls there, so the same spot
    // on the screen now holds a row near it.
    const std::size_t far_row = output.log.rows().size() * 3 / 4;
    selection.select_event(*record, output.log.rows()[far_row]);
    gui.frame(draw);
    gui.frame(draw);
    ImGuiIO& io = ImGui::GetIO();
    io.MouseDown[0] = true;
    gui.frame(draw, ImVec2(700, row_y));
    io.MouseDown[0] = false;
    gui.frame(draw, ImVec2(700, row_y));
    REQUIRE(selection.event);
    const auto row_now = output.log.row_of(*selection.event);
    REQUIRE(row_now);
    CHECK(*row_now + 60 > far_row);
    CHECK(*row_now < far_row + 60);
}

TEST_CASE("a click on a stack header selects that thread", "[gui][verdict]") {
    HeadlessImGui gui(1280, 1600);
    auto record = recorded(test::kOrphanedLock);
    REQUIRE_FALSE(record->stacks.empty());
    RecordView view{record, 1, false};
    Selection selection;
    VerdictPanelState verdict;
    auto draw = [&] { draw_verdict_panel(verdict, view, selection); };
    gui.frame(draw);
    gui.frame(draw);
    // From the bottom up: the stacks are below the graph.
    const float y = click_sweep(gui, draw, 100, 1590, 0, -4, [&] { return selection.tid != 0; });
    REQUIRE(y > 0);
    auto stack =
        std::find_if(record->stacks.begin(), record->stacks.end(), [&](const ThreadStack& s) {
            return s.ns_pid == selection.pid && s.ns_tid == selection.tid;
        });
    CHECK(stack != record->stacks.end());
    CHECK_FALSE(selection.event);
}

TEST_CASE("a run whose event ring filled up says so under its verdict", "[gui][verdict]") {
    // A real run with a ring of 8 events: the orphaned lock is still proven (from /proc), and
    // the verdict panel says, in the warning colour, that events were dropped.
    const Scenario* scenario = ScenarioRegistry::instance().find(test::kOrphanedLock[0]);
    REQUIRE(scenario != nullptr);
    RunRequest request = make_request(*scenario, test::kOrphanedLock[1]);
    request.channel_capacity = 8;
    request.capture_stacks = false;
    auto record = std::make_shared<const RunRecord>(run_scenario(request));
    INFO(record->verdict.explanation);
    CHECK(verdict_headline(record->verdict) == "deadlocked / orphaned_lock");
    REQUIRE(record->dropped_events > 0);
    CHECK_THAT(describe_lost_events(*record),
               Catch::Matchers::Contains("events were dropped: the event ring was full"));

    HeadlessImGui gui(1280, 900);
    Selection selection;
    VerdictPanelState verdict;
    OutputPanelState output;
    RecordView view{record, 1, false};
    gui.frame([&] { draw_verdict_panel(verdict, view, selection); });
    CHECK(drew_colour(palette::warning));
    gui.frame([&] { draw_output_panel(output, view, selection); });

    // A whole trace draws no such warning.
    VerdictPanelState whole;
    RecordView complete{recorded(test::kOrphanedLock), 2, false};
    REQUIRE(complete.record->dropped_events == 0);
    gui.frame([&] { draw_verdict_panel(whole, complete, selection); });
    CHECK_FALSE(drew_colour(palette::warning));
}
