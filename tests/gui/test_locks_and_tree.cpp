// The Locks tab and the Process tree tab over real run records: what their models hold (the
// orphaned copy of file_lock, the two locks of a cycle, file locks from /proc/locks, how each
// child was made and how it ended), and the panels drawn headless, clicked.
//
// Index of this file:
// [SECTION] Helpers: records and the rows in them
// [SECTION] The Locks tab's model
// [SECTION] The Process tree's model
// [SECTION] The panels drawn headless and clicked
#include "gui/models/lock_table_model.hpp"
#include "gui/models/process_tree_model.hpp"
#include "gui/panels/locks_panel.hpp"
#include "gui/panels/process_tree_panel.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <functional>
#include <tuple>

using namespace forklore;
using namespace forklore::gui;
using namespace forklore::gui::test;
using Catch::Matchers::Contains;

// [SECTION] Helpers: records and the rows in them -------------------------------------------------

namespace {

RecordView view_of(std::shared_ptr<const RunRecord> record, std::uint64_t generation = 1) {
    RecordView view;
    view.record = std::move(record);
    view.generation = generation;
    return view;
}

// The process the scenario's main process started to run child function `role`.
const ProcessRecord* child_named(const RunRecord& record, const std::string& role) {
    for (const auto& process : record.processes)
        if (process.name == role && process.parent_ns_pid != 0)
            return &process;
    return nullptr;
}

const LockRow* row_in(const LockTableModel& model, const std::string& name, pid_t process) {
    for (const LockRow* row : model.named(name))
        if (row->process == process)
            return row;
    return nullptr;
}

pid_t tid_named(const ProcessRecord& process, const std::string& name) {
    for (const auto& [tid, thread] : process.threads)
        if (thread == name)
            return tid;
    return 0;
}

// A left click at `at`: hover, press, release, one frame each (ImGui reports the click on the
// release, over the item the press started on).
void click(HeadlessImGui& ui, const std::function<void()>& draw, ImVec2 at) {
    ImGuiIO& io = ImGui::GetIO();
    io.MouseDown[0] = false;
    ui.frame(draw, at);
    io.MouseDown[0] = true;
    ui.frame(draw, at);
    io.MouseDown[0] = false;
    ui.frame(draw, at);
}

ImVec2 centre(ImVec2 min, ImVec2 max) {
    return {(min.x + max.x) / 2, (min.y + max.y) / 2};
}

} // namespace

// [SECTION] The Locks tab's model -----------------------------------------------------------------

TEST_CASE("locks: the child's copy of file_lock is held by the parent's reader, and orphaned",
          "[gui][locks]") {
    auto record = recorded(kOrphanedLock);
    REQUIRE(record->verdict.kind == VerdictKind::deadlocked);
    const ProcessRecord* child = child_named(*record, "read");
    REQUIRE(child != nullptr);
    REQUIRE(child->start_method == StartMethod::fork);
    const pid_t parent = child->parent_ns_pid;
    const ProcessRecord* parent_record = record->find_process(parent);
    REQUIRE(parent_record != nullptr);
    const pid_t reader = tid_named(*parent_record, "reader");
    REQUIRE(reader != 0);

    LockTableModel model = build_lock_table(*record);
    const LockRow* copy = row_in(model, "file_lock", child->ns_pid);
    REQUIRE(copy != nullptr);
    CHECK(copy->kind == SyncKind::mutex);
    CHECK(copy->copied_from == parent);
    CHECK(copy->orphaned);
    CHECK(copy->state == LockState::orphaned);
    REQUIRE(copy->owner() != nullptr);
    CHECK(copy->owner()->thread.name == "reader");
    CHECK(copy->owner()->thread.tid == reader);
    CHECK(copy->owner()->thread.pid == parent); // the owner lives in the parent only
    CHECK(copy->owner()->exists);
    CHECK(copy->owner()->inherited);
    CHECK(copy->owner_from_kernel); // the verdict read the owner from the child's lock word
    REQUIRE(copy->waiters.size() == 1);
    CHECK(copy->waiters[0].thread.name == "main");
    CHECK(copy->waiters[0].thread.pid == child->ns_pid);
    CHECK(copy->waiters[0].seen_by_kernel);
    CHECK(copy->waiters[0].since_ns > 0);
    CHECK_THAT(copy->owner_text,
               Contains("'reader'") && Contains(fmt::format("@ process {}", parent)));
    CHECK_THAT(copy->state_text, Contains(fmt::format("exists only in process {}", parent)));
    CHECK_THAT(
        copy->state_text,
        Contains(fmt::format("thread 'main' of process {} waits on its copy", child->ns_pid)));
    CHECK_THAT(copy->verdict_text, Contains("file_lock"));

    // The parent's own lock is a different object: the reader released it; it is free there.
    const LockRow* original = row_in(model, "file_lock", parent);
    REQUIRE(original != nullptr);
    CHECK(original->address == copy->address); // same address, two processes
    CHECK(original->copied_from == 0);
    CHECK_FALSE(original->orphaned);
    CHECK(original->state == LockState::free);
    CHECK(original->history.acquisitions == 1);
    CHECK(original->history.releases == 1);
    REQUIRE(original->history.last_taker);
    CHECK(original->history.last_taker->name == "reader");

    CHECK(model.orphaned_count() == 1);
    // The ownerless wait of the parent's reader is there, and says it has no owner.
    const LockRow* finished = row_in(model, "finished", parent);
    REQUIRE(finished != nullptr);
    CHECK(finished->kind == SyncKind::barrier);
    CHECK(finished->state == LockState::waited);
    CHECK_FALSE(finished->orphaned);
    CHECK_THAT(finished->owner_text, Contains("no owner"));
    REQUIRE(finished->waiters.size() == 1);
    CHECK(finished->waiters[0].thread.tid == reader);
    // The worst first: the orphaned copy heads the table.
    CHECK(model.locks.front().orphaned);
}

TEST_CASE("locks: a lock cycle is two locks each held and waited, none orphaned", "[gui][locks]") {
    auto record = recorded(kCycle);
    REQUIRE(record->verdict.kind == VerdictKind::deadlocked);
    LockTableModel model = build_lock_table(*record);
    CHECK(model.orphaned_count() == 0);
    auto left = model.named("left");
    auto right = model.named("right");
    REQUIRE(left.size() == 1);
    REQUIRE(right.size() == 1);
    for (auto [lock, owner, waiter] :
         {std::tuple{left[0], "a", "b"}, std::tuple{right[0], "b", "a"}}) {
        INFO("lock " << lock->name);
        CHECK(lock->state == LockState::held_with_waiters);
        CHECK_FALSE(lock->orphaned);
        REQUIRE(lock->owner() != nullptr);
        CHECK(lock->owner()->thread.name == owner);
        CHECK(lock->owner()->thread.pid == lock->process);
        CHECK(lock->owner()->exists);
        REQUIRE(lock->waiters.size() == 1);
        CHECK(lock->waiters[0].thread.name == waiter);
        CHECK(lock->waiters[0].thread.pid == lock->process);
        CHECK_THAT(lock->state_text, Contains(fmt::format("thread '{}'", waiter)));
    }
    CHECK(left[0]->address != right[0]->address);
}

TEST_CASE("locks: completed and busy runs end with every lock free, history from the trace",
          "[gui][locks]") {
    for (auto which : {kCompleted, kManyEvents}) {
        auto record = recorded(which[0], which[1]);
        INFO(which[0]);
        REQUIRE(record->verdict.kind == VerdictKind::completed);
        LockTableModel model = build_lock_table(*record);
        REQUIRE_FALSE(model.locks.empty());
        int acquired = 0;
        for (const auto& event : record->events)
            if (event.kind == EventKind::lock_acquired)
                ++acquired;
        int counted = 0;
        for (const auto& row : model.locks) {
            CHECK(row.state == LockState::free);
            CHECK(row.holders.empty());
            // A barrier's "acquisitions" are its passes, not lock events.
            if (row.kind != SyncKind::barrier)
                counted += row.history.acquisitions;
        }
        CHECK(counted == acquired);
        CHECK(model.orphaned_count() == 0);
    }
    // spawn: the child is a fresh program; its lock is its own, never a copy.
    LockTableModel spawned = build_lock_table(*recorded(kCompleted));
    for (const auto& row : spawned.locks)
        CHECK(row.copied_from == 0);
}

TEST_CASE("locks: file locks from /proc/locks name the holding and the waiting process",
          "[gui][locks]") {
    // fcntl locks belong to the process: the forked worker waits for its parent's lock.
    auto record = recorded("file-locks-across-fork", "fcntl_inherited");
    REQUIRE(record->verdict.kind == VerdictKind::deadlocked);
    LockTableModel model = build_lock_table(*record);
    REQUIRE(model.file_locks.size() == 1);
    const FileLockRow& lock = model.file_locks.front();
    CHECK(lock.name == "log_lock");
    CHECK(lock.kind == "fcntl");
    CHECK(lock.state == LockState::held_with_waiters);
    const ProcessRecord* worker = nullptr;
    for (const auto& process : record->processes)
        if (process.start_method == StartMethod::fork)
            worker = &process;
    REQUIRE(worker != nullptr);
    REQUIRE(lock.holders.size() == 1);
    CHECK(lock.holders[0].pid == worker->parent_ns_pid);
    CHECK(lock.holders[0].type == "POSIX");
    CHECK(lock.holders[0].write);
    REQUIRE(lock.waiters.size() == 1);
    CHECK(lock.waiters[0].pid == worker->ns_pid);
    REQUIRE(lock.trace_waiters.size() == 1);
    CHECK(lock.trace_waiters[0].thread.pid == worker->ns_pid);
    CHECK_THAT(lock.verdict_text, Contains("log_lock"));
    CHECK(model.file_locks_seen_ns > 0);
}

// [SECTION] The Process tree's model --------------------------------------------------------------

TEST_CASE("process tree: the orphaned record's child was made by fork, stuck, the culprit",
          "[gui][process_tree]") {
    auto record = recorded(kOrphanedLock);
    ProcessTreeModel tree = build_process_tree(*record);
    const ProcessRecord* child_record = child_named(*record, "read");
    REQUIRE(child_record != nullptr);
    const ProcessNode* child = tree.find(child_record->ns_pid);
    const ProcessNode* parent = tree.find(child_record->parent_ns_pid);
    REQUIRE(child != nullptr);
    REQUIRE(parent != nullptr);
    CHECK(child->edge_label == "fork");
    CHECK(child->state == ProcessState::stuck);
    CHECK(child->blocked);
    CHECK(child->culprit);
    CHECK(record->verdict.culprit_pid == child->pid);
    // Its main thread waits for the child when it had reached waitpid at the proof: the orphaned
    // lock is proven by two samples of the child alone, sometimes before the parent got there.
    bool parent_stuck = std::any_of(record->verdict.stuck.begin(), record->verdict.stuck.end(),
                                    [&](const ThreadState& t) { return t.pid == parent->pid; });
    CHECK(parent->blocked == parent_stuck);
    CHECK_FALSE(parent->culprit);
    REQUIRE(child->parent_index);
    CHECK(&tree.nodes[*child->parent_index] == parent);
    CHECK(child->depth == parent->depth + 1);
    REQUIRE_FALSE(child->threads.empty());
    CHECK_THAT(child->threads[0].wait, Contains("file_lock"));
    CHECK_FALSE(child->verdict_lines.empty());
    // The parent holds (through its reader) what the child waits for.
    bool waited_for = false;
    for (const auto& line : parent->verdict_lines)
        waited_for = waited_for || line.find("file_lock") != std::string::npos;
    CHECK(waited_for);
    // The sandbox's own processes are roots and "sandbox" edges, not start methods.
    const ProcessNode* reaper = tree.find(1);
    REQUIRE(reaper != nullptr);
    CHECK(reaper->infrastructure);
    CHECK(parent->edge_label == "sandbox");
    CHECK(tree.nodes.front().role == ProcessRole::host);
    CHECK(tree.nodes.front().depth == 0);
    CHECK(tree.levels == child->depth + 1);
    CHECK(child->state_label == "stuck");
}

TEST_CASE("process tree: spawn is an edge labelled spawn, a crash is a signal",
          "[gui][process_tree]") {
    auto completed = recorded(kCompleted);
    ProcessTreeModel tree = build_process_tree(*completed);
    const ProcessNode* spawned = nullptr;
    for (const auto& node : tree.nodes)
        if (node.edge_label == "spawn")
            spawned = &node;
    REQUIRE(spawned != nullptr);
    CHECK(spawned->state == ProcessState::exited);
    CHECK(spawned->exit_code == 0);
    CHECK_FALSE(spawned->blocked);
    CHECK_FALSE(spawned->culprit);

    auto crashed = recorded(kCrashed);
    ProcessTreeModel crash_tree = build_process_tree(*crashed);
    const ProcessNode* culprit = crash_tree.find(crashed->verdict.culprit_pid);
    REQUIRE(culprit != nullptr);
    CHECK(culprit->culprit);
    CHECK(culprit->state == ProcessState::killed_by_signal);
    CHECK(culprit->signal == SIGABRT);
    CHECK_THAT(culprit->state_text, Contains("SIGABRT"));
    CHECK(culprit->state_label == "killed by SIGABRT");
}

// [SECTION] The panels drawn headless and clicked -------------------------------------------------

TEST_CASE("locks and process tree panels draw headless over every record", "[gui][draw]") {
    HeadlessImGui ui;
    LocksPanelState locks;
    ProcessTreePanelState tree;
    Selection selection;
    RecordView nothing;
    int empty = ui.frame([&] {
        draw_locks_panel(locks, nothing, selection);
        draw_process_tree_panel(tree, nothing, selection);
    });
    std::uint64_t generation = 1;
    for (auto which : {kCompleted, kOrphanedLock, kCycle, kCrashed, kManyEvents}) {
        INFO(which[0] << ":" << which[1]);
        RecordView view = view_of(recorded(which[0], which[1]), generation++);
        int drawn_locks = 0, drawn_tree = 0;
        for (int frame = 0; frame < 3; ++frame) {
            drawn_locks = ui.frame([&] { draw_locks_panel(locks, view, selection); });
            drawn_tree = ui.frame([&] { draw_process_tree_panel(tree, view, selection); });
        }
        CHECK(drawn_locks > empty);
        CHECK(drawn_tree > empty);
        CHECK(locks.built_from.record() == view.get());
        CHECK(tree.drawn_nodes.size() == tree.model.nodes.size());
        if (!locks.model.locks.empty())
            CHECK_FALSE(locks.drawn_rows.empty());
    }
    // A live record: still running, no verdict yet.
    RecordView live = view_of(recorded(kOrphanedLock), generation++);
    live.live = true;
    CHECK(ui.frame([&] { draw_process_tree_panel(tree, live, selection); }) > empty);
    CHECK(tree.model.verdict_summary.find("no verdict") != std::string::npos);
}

TEST_CASE("a click on a lock row selects the lock, a click on a box selects the process",
          "[gui][draw]") {
    auto record = recorded(kOrphanedLock);
    const ProcessRecord* child = child_named(*record, "read");
    REQUIRE(child != nullptr);
    RecordView view = view_of(record);
    HeadlessImGui ui;
    Selection selection;

    LocksPanelState locks;
    auto draw_locks = [&] { draw_locks_panel(locks, view, selection); };
    ui.frame(draw_locks);
    const DrawnTableRow* target = nullptr;
    for (const auto& drawn : locks.drawn_rows) {
        const LockRow& row = locks.model.locks[drawn.row];
        if (!drawn.file_lock && row.name == "file_lock" && row.process == child->ns_pid)
            target = &drawn;
    }
    REQUIRE(target != nullptr);
    const LockRow& copy = locks.model.locks[target->row];
    click(ui, draw_locks, centre(target->min, target->max));
    CHECK(selection.object == copy.address);
    CHECK(selection.pid == child->parent_ns_pid); // the owner's process
    CHECK(selection.tid == copy.owner()->thread.tid);
    REQUIRE(selection.event);
    const Event& taken = record->events[*selection.event];
    CHECK(taken.kind == EventKind::lock_acquired);
    CHECK(taken.tid == copy.owner()->thread.tid);

    ProcessTreePanelState tree;
    auto draw_tree = [&] { draw_process_tree_panel(tree, view, selection); };
    ui.frame(draw_tree);
    const DrawnProcessNode* box = nullptr;
    for (const auto& drawn : tree.drawn_nodes)
        if (tree.model.nodes[drawn.node].pid == child->ns_pid)
            box = &drawn;
    REQUIRE(box != nullptr);
    click(ui, draw_tree, centre(box->min, box->max));
    CHECK(selection.pid == child->ns_pid);
    CHECK(selection.tid == 0);
    CHECK(selection.object == 0);
}
