// The stuck set in the GUI, over a real partial deadlock (tests/programs/partial_deadlock.c run
// through the exec scenario): the forked child's thread is stuck, and so is the parent's 'waiter'
// (a blocking waitpid for that child), while the parent's 'chatter' prints and its main thread
// polls. The timeline marks lanes stuck or live, the wait-for graph
// shows the live threads greyed beside the stuck set, the parent is "partly stuck", and the
// verdict panel lists both and selects a thread on a click.
#include "gui/models/process_tree_model.hpp"
#include "gui/models/wait_graph_model.hpp"
#include "gui/panels/timeline_panel.hpp"
#include "gui/panels/verdict_panel.hpp"
#include "sim/timeline/timeline_model.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using namespace forklore;
using namespace forklore::gui;
using Catch::Matchers::Contains;
using forklore::gui::test::exec_recorded;
using forklore::gui::test::HeadlessImGui;
using forklore::gui::test::kPartialDeadlock;
using forklore::gui::test::recorded;

namespace {

std::shared_ptr<const RunRecord> partial_record() {
    auto record = exec_recorded(kPartialDeadlock);
    INFO(record->verdict.explanation);
    REQUIRE(record->verdict.kind == VerdictKind::deadlocked);
    REQUIRE(record->verdict.stuck.size() == 2);
    return record;
}

const ThreadState* live_named(const RunRecord& record, const std::string& name) {
    for (const auto& thread : record.verdict.live)
        if (thread.name == name)
            return &thread;
    return nullptr;
}

// The child's stuck thread (the one that is not the parent's 'waiter').
const ThreadState& stuck_child(const RunRecord& record) {
    for (const auto& thread : record.verdict.stuck)
        if (thread.name != "waiter")
            return thread;
    FAIL("no stuck thread but 'waiter'");
    return record.verdict.stuck.front();
}

} // namespace

TEST_CASE("timeline: the partial deadlock's child lane is stuck, chatter's lane live",
          "[gui][timeline][stuck]") {
    auto record = partial_record();
    const ThreadState& stuck = stuck_child(*record);
    const ThreadState* chatter = live_named(*record, "chatter");
    for (const auto& thread : record->verdict.live)
        UNSCOPED_INFO("live: " << thread.name << " " << thread.pid << "/" << thread.tid << " "
                               << thread.wait);
    INFO(record->verdict.explanation);
    REQUIRE(chatter != nullptr);
    CHECK(chatter->pid != stuck.pid); // the child is stuck, the parent chatters

    TimelineModel model = build_timeline_model(*record);
    auto child_lane = model.lane_index(stuck.pid, stuck.tid);
    auto chatter_lane = model.lane_index(chatter->pid, chatter->tid);
    REQUIRE(child_lane);
    REQUIRE(chatter_lane);
    const TimelineLane& child = model.lanes[*child_lane];
    CHECK(child.verdict == LaneVerdict::stuck);
    CHECK(child.doing == stuck.wait);
    // No trace (nobody instrumented it): the samples tell since when it has been blocked.
    REQUIRE(child.stuck_from_ns);
    CHECK(*child.stuck_from_ns <= child.end_ns);
    CHECK(model.lanes[*chatter_lane].verdict == LaneVerdict::live);
    for (const auto& lane : model.lanes)
        if (lane.verdict != LaneVerdict::stuck)
            CHECK_FALSE(lane.stuck_from_ns);

    const std::string tip = describe_lane(child);
    CHECK_THAT(tip, Contains("STUCK"));
    CHECK_THAT(tip, Contains(stuck.wait));
    CHECK_THAT(tip, Contains("can never run again"));
    CHECK_THAT(describe_lane(model.lanes[*chatter_lane]), Contains("live"));
    CHECK(to_string(LaneVerdict::stuck) == "STUCK");
}

TEST_CASE("timeline: in the fork record the stuck threads' lanes are stuck, an open wait hatched",
          "[gui][timeline][stuck]") {
    auto record = recorded(test::kOrphanedLock);
    REQUIRE_FALSE(record->verdict.stuck.empty());
    TimelineModel model = build_timeline_model(*record);
    for (const ThreadState& thread : record->verdict.stuck) {
        auto lane = model.lane_index(thread.pid, thread.tid);
        REQUIRE(lane);
        CHECK(model.lanes[*lane].verdict == LaneVerdict::stuck);
    }
    // The child's main thread: its final wait is the open red bar of the trace.
    bool hatched_bar = false;
    for (const TimelineLane& lane : model.lanes) {
        if (lane.verdict != LaneVerdict::stuck || !lane.stuck_from_ns)
            continue;
        REQUIRE(lane.stuck_row < lane.rows.size());
        for (const TimelineBar& bar : lane.rows[lane.stuck_row].bars)
            hatched_bar = hatched_bar || (bar.kind == BarKind::waiting && bar.open() &&
                                          bar.start_ns == *lane.stuck_from_ns);
    }
    CHECK(hatched_bar);
}

TEST_CASE("wait-for graph: the partial deadlock's live threads are greyed beside the stuck set",
          "[gui][verdict][stuck]") {
    auto record = partial_record();
    WaitGraphModel graph = build_wait_graph(*record);
    REQUIRE_FALSE(graph.empty());
    const ThreadState& stuck = stuck_child(*record);
    auto waiter = graph.find_thread(stuck.pid, stuck.tid);
    REQUIRE(waiter);
    CHECK(graph.nodes[*waiter].blocked);
    CHECK_FALSE(graph.nodes[*waiter].live);

    const ThreadState* chatter = live_named(*record, "chatter");
    REQUIRE(chatter != nullptr);
    auto chatter_node = graph.find_thread(chatter->pid, chatter->tid);
    REQUIRE(chatter_node);
    const WaitGraphNode& node = graph.nodes[*chatter_node];
    CHECK(node.live);
    CHECK_FALSE(node.blocked);
    CHECK_THAT(node.detail, Contains("live"));
    CHECK_THAT(node.tooltip, Contains("nothing it does wakes"));
    CHECK(graph.edges_from(*chatter_node).empty()); // not part of the wait-for graph
    CHECK(graph.edges_to(*chatter_node).empty());
    CHECK(graph.live_count >= 2); // chatter and the polling main thread at least
    // Below the graph, under the note, and no box overlaps another.
    CHECK(graph.live_top > 0);
    CHECK(node.y > graph.live_top);
    CHECK(node.y + kGraphNodeHeight / 2 <= graph.height);
    for (std::size_t a = 0; a < graph.nodes.size(); ++a)
        for (std::size_t b = a + 1; b < graph.nodes.size(); ++b) {
            const auto &p = graph.nodes[a], &q = graph.nodes[b];
            const bool apart =
                std::abs(p.x - q.x) >= kGraphNodeWidth || std::abs(p.y - q.y) >= kGraphNodeHeight;
            CHECK(apart);
        }
}

TEST_CASE("process tree: the parent of the partial deadlock is partly stuck, the child stuck",
          "[gui][process_tree][stuck]") {
    auto record = partial_record();
    const ThreadState& stuck = stuck_child(*record);
    const ThreadState* chatter = live_named(*record, "chatter");
    REQUIRE(chatter != nullptr);
    ProcessTreeModel tree = build_process_tree(*record);
    const ProcessNode* child = tree.find(stuck.pid);
    const ProcessNode* parent = tree.find(chatter->pid);
    REQUIRE(child != nullptr);
    REQUIRE(parent != nullptr);
    CHECK(child->state == ProcessState::stuck);
    CHECK(child->state_label == "stuck");
    CHECK(parent->state == ProcessState::partly_stuck);
    CHECK(parent->state_label == "partly stuck");
    CHECK(parent->live_threads >= 2);
    auto thread = std::find_if(parent->threads.begin(), parent->threads.end(),
                               [&](const ProcessThread& t) { return t.tid == chatter->tid; });
    REQUIRE(thread != parent->threads.end());
    CHECK(thread->live);
    CHECK(thread->wait == chatter->wait);
    auto waiter = std::find_if(parent->threads.begin(), parent->threads.end(),
                               [](const ProcessThread& t) { return t.name == "waiter"; });
    REQUIRE(waiter != parent->threads.end());
    CHECK(waiter->stuck);
    CHECK(parent->stuck_threads == 1);
}

TEST_CASE("verdict panel: the stuck and live lists draw, a click on the stuck line selects it",
          "[gui][verdict][stuck]") {
    auto record = partial_record();
    const ThreadState& stuck = stuck_child(*record);
    CHECK(thread_state_line(stuck) == "process " + std::to_string(stuck.pid) + " thread '" +
                                          stuck.name + "' (tid " + std::to_string(stuck.tid) +
                                          "): " + stuck.wait);
    HeadlessImGui gui(1280, 1600);
    RecordView view{record, 1, false};
    Selection selection;
    VerdictPanelState verdict;
    auto draw = [&] { draw_verdict_panel(verdict, view, selection); };
    CHECK(gui.frame(draw) > 0);
    gui.frame(draw);

    // From the top down: the lists are under the wait-for graph (drawn first, under the
    // headline) and its explanation.
    REQUIRE(verdict.graph_drawn);
    ImGuiIO& io = ImGui::GetIO();
    float found = -1;
    for (float y = verdict.graph_max.y + 1; y < 1600 && found < 0; y += 3) {
        io.MouseDown[0] = true;
        gui.frame(draw, ImVec2(300, y));
        io.MouseDown[0] = false;
        gui.frame(draw, ImVec2(300, y));
        if (selection.tid != 0)
            found = y;
    }
    REQUIRE(found > 0);
    // The first thing that selects a thread is the first stuck line, not a box of the graph.
    const ThreadState& first = record->verdict.stuck.front();
    CHECK(selection.pid == first.pid);
    CHECK(selection.tid == first.tid);
    CHECK_FALSE(selection.event);
    // Further down, past the other stuck line, the first live one.
    auto is_stuck = [&] {
        return std::any_of(record->verdict.stuck.begin(), record->verdict.stuck.end(),
                           [&](const ThreadState& t) { return t.tid == selection.tid; });
    };
    CHECK(stuck.tid != 0);
    selection.clear();
    for (float y = found + 3; y < found + 150 && (selection.tid == 0 || is_stuck()); y += 3) {
        io.MouseDown[0] = true;
        gui.frame(draw, ImVec2(300, y));
        io.MouseDown[0] = false;
        gui.frame(draw, ImVec2(300, y));
    }
    CHECK(selection.tid != 0);
    CHECK(std::any_of(
        record->verdict.live.begin(), record->verdict.live.end(),
        [&](const ThreadState& t) { return t.pid == selection.pid && t.tid == selection.tid; }));
}

TEST_CASE("timeline panel: draws the partial deadlock's badges and hatch headless",
          "[gui][timeline][stuck]") {
    auto record = partial_record();
    HeadlessImGui gui(1280, 800);
    RecordView view{record, 1, false};
    Selection selection;
    TimelinePanelState timeline;
    auto draw = [&] { draw_timeline_panel(timeline, view, selection); };
    CHECK(gui.frame(draw) > 0);
    CHECK(gui.frame(draw) > 0);
    // Hover every lane header: no assertion fires, and the tooltip path runs.
    for (float y = 60; y < 400; y += 7)
        gui.frame(draw, ImVec2(40, y));
}
