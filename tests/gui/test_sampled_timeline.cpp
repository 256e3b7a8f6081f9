// Uninstrumented runs drawn from the kernel's samples: a real Python program run through the exec
// scenario, as `forklore exec -- env PYTHONUNBUFFERED=0 /usr/bin/python3 SCRIPT` runs it
// (tests/programs/python_lock_at_fork.py: a first worker that exits with code 3, then a
// threading.Lock held by another thread at fork, and a second worker that waits for it for
// ever), and the python-lock-at-fork:fork scenario, whose process execs the interpreter. The
// timeline shows red waits and on what, lane names that tell the threads apart, fork arrows,
// ended processes ended; the process tree says how each child was made; the Locks tab names
// the Python lock from the stacks.
//
// Index of this file:
// [SECTION] Helpers: the main process, the stuck worker, a sampled bar
// [SECTION] Checks both records share: the stuck lane, names, arrows, ends, the tree
// [SECTION] A Python program run by exec: the models, then the panel
// [SECTION] python-lock-at-fork:fork: the interpreter after its exec
// [SECTION] A trace alone, and a live record with no process list yet
#include "gui/models/lock_table_model.hpp"
#include "gui/models/process_tree_model.hpp"
#include "gui/panels/timeline_panel.hpp"
#include "sim/timeline/timeline_model.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <string>

using namespace forklore;
using namespace forklore::gui;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using forklore::gui::test::python_exec_recorded;
using forklore::gui::test::recorded;

// [SECTION] Helpers: the main process, the stuck worker, a sampled bar ----------------------------

namespace {

bool have_python() {
    return access(test::kPython, X_OK) == 0 && access("/usr/bin/env", X_OK) == 0;
}

// The scenario's (or exec's) first process: the one the sandbox's reaper started.
const ProcessRecord& main_process(const RunRecord& record) {
    for (const auto& process : record.processes)
        if (process.role == ProcessRole::main)
            return process;
    FAIL("no main process");
    return record.processes.front();
}

// The stuck thread that is not the main process's: the forked worker's.
const ThreadState& stuck_worker(const RunRecord& record) {
    const pid_t main_pid = main_process(record).ns_pid;
    for (const auto& thread : record.verdict.stuck)
        if (thread.pid != main_pid)
            return thread;
    FAIL("no stuck thread outside the main process");
    return record.verdict.stuck.front();
}

// The last bar of a row drawn from the samples, of this kind.
const TimelineBar* last_sampled(const TimelineRow& row, BarKind kind) {
    for (auto it = row.bars.rbegin(); it != row.bars.rend(); ++it)
        if (it->from_samples() && it->kind == kind)
            return &*it;
    return nullptr;
}

// [SECTION] Checks both records share: the stuck lane, names, arrows, ends, the tree --------------

// Checks shared by both records: the stuck worker's final wait is a red bar from the samples,
// hatched, open to the end, and its hover text says on what it waits.
void check_stuck_worker_lane(const TimelineModel& model, const RunRecord& record) {
    const ThreadState& stuck = stuck_worker(record);
    auto index = model.lane_index(stuck.pid, stuck.tid);
    REQUIRE(index);
    const TimelineLane& lane = model.lanes[*index];
    CHECK(lane.from_samples);
    CHECK(lane.verdict == LaneVerdict::stuck);
    REQUIRE(lane.stuck_from_ns);
    REQUIRE(lane.stuck_row < lane.rows.size());
    const TimelineBar* red = last_sampled(lane.rows[lane.stuck_row], BarKind::waiting);
    REQUIRE(red);
    CHECK(red->open());
    CHECK(red->start_ns == *lane.stuck_from_ns);
    CHECK(red->end_ns == lane.end_ns);
    CHECK(red->what == BarSubject::sampled);
    REQUIRE(red->sampled < model.sampled_spans.size());
    const SampledSpan& span = model.sampled_spans[red->sampled];
    CHECK(span.wait == WaitKind::futex);
    CHECK(span.untimed);
    CHECK_FALSE(span.next_sample_ns);
    CHECK(span.samples >= 1);
    const std::string tip = describe_bar(model, record, *red);
    INFO(tip);
    CHECK_THAT(tip, StartsWith("waiting: futex 0x"));
    CHECK_THAT(tip, Contains(fmt::format("tid {}) of process {}", stuck.tid, stuck.pid)));
    CHECK_THAT(tip, Contains("seen blocked"));
    CHECK_THAT(tip, Contains("still so in the last sample"));
    // The verdict's words for the wait: the script's global lock, named from the interpreter.
    CHECK_THAT(tip, Contains("the threading.Lock cache_lock (a global of module __main__)"));
    CHECK_THAT(tip, Contains("PyThread_acquire_lock"));
    CHECK_THAT(describe_lane(lane), Contains("STUCK"));
}

// Lanes of one program's process are not all called by the comm every thread shares.
// `threads`: how many of its threads the samples must have seen (a thread that lives between two
// samples is never seen: the scenario's holder thread lives a few ms).
// The threading name the record's stacks give a thread of a Python program, "" when none does.
std::string python_thread_name(const RunRecord& record, pid_t pid, pid_t tid) {
    for (const ThreadStack& stack : record.stacks)
        if (stack.ns_pid == pid && stack.ns_tid == tid && stack.python)
            return stack.python->name;
    if (const ProcessRecord* process = record.find_process(pid))
        for (const auto& [named_tid, name] : process->python_threads)
            if (named_tid == tid)
                return name;
    return "";
}

void check_lane_names(const TimelineModel& model, const RunRecord& record, pid_t pid,
                      std::size_t threads) {
    auto group = model.group_index(pid);
    REQUIRE(group);
    const TimelineGroup& g = model.groups[*group];
    std::set<std::string> names;
    for (std::size_t l = g.first_lane; l < g.first_lane + g.lane_count; ++l) {
        const TimelineLane& lane = model.lanes[l];
        INFO("lane tid " << lane.tid << " '" << lane.name << "' comm '" << lane.comm << "'");
        CHECK(lane.from_samples);
        CHECK(lane.comm == "python3"); // the kernel's name for every thread of the program
        const std::string python_name = python_thread_name(record, pid, lane.tid);
        if (lane.tid == pid)
            CHECK(lane.name == "main");
        else if (!python_name.empty()) // the interpreter named it; the kernel did not
            CHECK(lane.name == python_name);
        else
            CHECK(lane.name == fmt::format("thread {}", lane.tid));
        CHECK_THAT(describe_lane(lane), Contains("the kernel calls it 'python3'"));
        names.insert(lane.name);
    }
    CHECK(g.lane_count >= threads);
    CHECK(names.size() == g.lane_count);
}

// An arrow of `kind` into (start) or out of (exit) the group's first lane.
const TimelineArrow* arrow_of(const TimelineModel& model, ArrowKind kind, pid_t pid) {
    auto group = model.group_index(pid);
    if (!group)
        return nullptr;
    const std::size_t lane = model.groups[*group].first_lane;
    for (const auto& arrow : model.arrows)
        if (arrow.kind == kind &&
            (kind == ArrowKind::exit ? arrow.from_lane : arrow.to_lane) == lane)
            return &arrow;
    return nullptr;
}

// A fork arrow from the parent's lane into the child's, at the child's first appearance.
void check_fork_arrow(const TimelineModel& model, pid_t parent, pid_t child) {
    const TimelineArrow* fork = arrow_of(model, ArrowKind::start, child);
    REQUIRE(fork);
    CHECK(fork->label == "fork");
    CHECK(model.lanes[fork->from_lane].pid == parent);
    const TimelineGroup& group = model.groups[*model.group_index(child)];
    CHECK(fork->to_ns == group.start_ns);
    CHECK(group.start_method == "fork");
    CHECK(group.parent_pid == parent);
}

// Every process the record says ended is drawn ended (a group with its end, an exit marker whose
// hover text says how), and the process tree shows it ended, never running.
void check_ended_processes(const TimelineModel& model, const ProcessTreeModel& tree,
                           const RunRecord& record) {
    for (const ProcessRecord& process : record.processes) {
        if (process.end_ns <= 0 || process.killed_by_runner || is_sandbox_process(process.role))
            continue;
        INFO("process " << process.ns_pid << ": " << process.exit_description);
        auto group = model.group_index(process.ns_pid);
        REQUIRE(group);
        const TimelineGroup& g = model.groups[*group];
        CHECK(g.ended);
        CHECK(g.end_ns == process.end_ns);
        const auto& markers = model.lanes[g.first_lane].markers;
        auto exit = std::find_if(markers.begin(), markers.end(), [](const TimelineMarker& m) {
            return m.kind == MarkerKind::exit;
        });
        REQUIRE(exit != markers.end());
        CHECK(exit->t_ns == process.end_ns);
        CHECK_THAT(describe_marker(model, record, *exit), Contains(process.exit_description));
        const ProcessNode* node = tree.find(process.ns_pid);
        REQUIRE(node);
        CHECK(node->state == ProcessState::exited);
        CHECK(node->state_label != "running");
    }
}

// No edge of the scenario's processes says "unknown".
void check_tree_edges(const ProcessTreeModel& tree) {
    for (const ProcessNode& node : tree.nodes) {
        INFO("process " << node.pid << " edge '" << node.edge_label << "'");
        CHECK(node.edge_label != "unknown");
        if (node.parent != 0 && !node.infrastructure)
            CHECK_FALSE(node.edge_label.empty());
    }
}

} // namespace

// [SECTION] A Python program run by exec: the models, then the panel ------------------------------

TEST_CASE("samples: a Python program run by exec that hangs at fork shows waits, names, forks",
          "[gui][timeline][samples][python]") {
    if (!have_python()) {
        WARN("no /usr/bin/python3: not checked here");
        return;
    }
    auto record = python_exec_recorded("python_lock_at_fork.py");
    INFO(record->verdict.explanation);
    REQUIRE(record->verdict.kind == VerdictKind::deadlocked);
    REQUIRE(record->events.size() < 10); // the sandbox's own events only: Python records nothing
    const ProcessRecord& main = main_process(*record);
    const ThreadState& stuck = stuck_worker(*record);
    // The first worker: forked by main, exited with code 3 while main slept (a zombie, whose
    // status the samples read).
    const ProcessRecord* first = nullptr;
    for (const auto& process : record->processes)
        if (process.parent_ns_pid == main.ns_pid && process.ns_pid != stuck.pid)
            first = &process;
    REQUIRE(first);
    REQUIRE(first->wait_status.known());
    CHECK(first->wait_status.exited());
    CHECK(first->wait_status.exit_code() == 3);

    const TimelineModel model = build_timeline_model(*record);
    check_stuck_worker_lane(model, *record);
    check_lane_names(model, *record, main.ns_pid, 2); // main and the holder thread (it lives 0.3 s)
    check_fork_arrow(model, main.ns_pid, first->ns_pid);
    check_fork_arrow(model, main.ns_pid, stuck.pid);

    // The main thread waits for the stuck worker: red, "waitpid for process N", to the end.
    auto main_lane = model.lane_index(main.ns_pid, main.ns_pid);
    REQUIRE(main_lane);
    const TimelineBar* waitpid = last_sampled(model.lanes[*main_lane].rows.at(0), BarKind::waiting);
    REQUIRE(waitpid);
    CHECK(waitpid->open());
    CHECK_THAT(describe_bar(model, *record, *waitpid),
               StartsWith(fmt::format("waiting: waitpid for process {}", stuck.pid)));
    // It also ran and slept (time.sleep(0.5) while the first worker was a zombie): the samples
    // saw both, each a bar that ended at the next sample that showed something else. Other
    // sleeping bars may come first (a sample that caught the interpreter starting up in a system
    // call the sampler does not classify, drawn as sleeping "other"): look for the nap itself.
    const auto& main_bars = model.lanes[*main_lane].rows.at(0).bars;
    const auto sleeping = std::find_if(main_bars.begin(), main_bars.end(), [&](const auto& bar) {
        return bar.from_samples() && bar.kind == BarKind::sleeping &&
               model.sampled_spans[bar.sampled].wait == WaitKind::sleep;
    });
    REQUIRE(sleeping != main_bars.end());
    const SampledSpan& nap = model.sampled_spans[sleeping->sampled];
    REQUIRE(nap.next_sample_ns);
    CHECK(sleeping->end_ns == *nap.next_sample_ns);
    CHECK(std::any_of(main_bars.begin(), main_bars.end(), [](const auto& bar) {
        return bar.from_samples() && bar.kind == BarKind::running;
    }));
    // The holder thread lives from the first sample that showed it to the first that did not:
    // it waited 0.2 s on an Event inside the lock (a futex wait that ended), then left.
    const TimelineGroup& main_group = model.groups[*model.group_index(main.ns_pid)];
    for (std::size_t l = main_group.first_lane + 1;
         l < main_group.first_lane + main_group.lane_count; ++l) {
        const TimelineLane& holder = model.lanes[l];
        const auto& bars = holder.rows.at(0).bars;
        INFO("thread " << holder.tid);
        CHECK(holder.start_ns > main_group.start_ns);
        CHECK(holder.end_ns < main_group.end_ns);
        CHECK(std::any_of(bars.begin(), bars.end(), [&](const auto& bar) {
            return bar.from_samples() && bar.kind == BarKind::waiting && !bar.open() &&
                   model.sampled_spans[bar.sampled].wait == WaitKind::futex;
        }));
    }
    // Bars of one row never overlap, and the per-pixel sums cover the new kinds.
    for (const TimelineLane& lane : model.lanes)
        for (const TimelineRow& row : lane.rows) {
            for (std::size_t i = 1; i < row.bars.size(); ++i)
                CHECK(row.bars[i - 1].end_ns <= row.bars[i].start_ns);
            for (const auto& sums : row.time_before)
                CHECK(sums.size() == row.bars.size() + 1);
        }

    // The first worker ended: drawn ended, its exit arrow to main says "exit 3".
    const ProcessTreeModel tree = build_process_tree(*record);
    check_ended_processes(model, tree, *record);
    const TimelineArrow* exit = arrow_of(model, ArrowKind::exit, first->ns_pid);
    REQUIRE(exit);
    CHECK(exit->label == "exit 3");
    CHECK(model.lanes[exit->to_lane].pid == main.ns_pid);
    CHECK(tree.find(first->ns_pid)->state_label == "exited, code 3");

    // The tree: both workers made by fork, as the history shows (each ran main's program).
    check_tree_edges(tree);
    CHECK(tree.find(first->ns_pid)->edge_label == "fork");
    CHECK(tree.find(stuck.pid)->edge_label == "fork");

    // Locks: the futex the worker waits on, named by its native stack.
    const LockTableModel locks = build_lock_table(*record);
    const auto row = std::find_if(locks.locks.begin(), locks.locks.end(), [&](const LockRow& r) {
        return r.process == stuck.pid && !r.waiters.empty();
    });
    REQUIRE(row != locks.locks.end());
    INFO(row->label());
    CHECK_THAT(row->waited_in, Contains("PyThread_acquire_lock"));
    CHECK_THAT(row->label(), Contains("PyThread_acquire_lock"));
    CHECK(row->kind == SyncKind::semaphore);
}

TEST_CASE("samples: the timeline panel draws a Python run and selects a sampled bar's thread",
          "[gui][timeline][samples][python]") {
    if (!have_python()) {
        WARN("no /usr/bin/python3: not checked here");
        return;
    }
    auto record = python_exec_recorded("python_lock_at_fork.py");
    REQUIRE(record->verdict.kind == VerdictKind::deadlocked);
    test::HeadlessImGui imgui;
    TimelinePanelState state;
    Selection selection;
    RecordView view{record, 1, false};
    for (int i = 0; i < 3; ++i)
        imgui.frame([&] { draw_timeline_panel(state, view, selection); });
    const ThreadState& stuck = stuck_worker(*record);
    auto lane = state.model.lane_index(stuck.pid, stuck.tid);
    REQUIRE(lane);
    const TimelineLane& worker = state.model.lanes[*lane];
    REQUIRE(worker.stuck_from_ns);
    auto at = timeline_screen_position(state, *lane, LaneRow{LaneRowKind::wait, worker.stuck_row},
                                       (*worker.stuck_from_ns + worker.end_ns) / 2);
    REQUIRE(at);
    imgui.frame([&] { draw_timeline_panel(state, view, selection); }, *at);
    ImGui::GetIO().MouseDown[0] = true;
    imgui.frame([&] { draw_timeline_panel(state, view, selection); }, *at);
    ImGui::GetIO().MouseDown[0] = false;
    imgui.frame([&] { draw_timeline_panel(state, view, selection); }, *at);
    // No event stands behind a sampled bar: the click selects its thread.
    CHECK_FALSE(selection.event);
    CHECK(selection.pid == stuck.pid);
    CHECK(selection.tid == stuck.tid);
}

// [SECTION] python-lock-at-fork:fork: the interpreter after its exec ------------------------------

TEST_CASE("samples: python-lock-at-fork:fork draws the interpreter after its exec",
          "[gui][timeline][samples][python]") {
    auto record = recorded("python-lock-at-fork", "fork");
    INFO(record->verdict.explanation);
    REQUIRE(record->verdict.kind == VerdictKind::deadlocked);
    const ProcessRecord& main = main_process(*record);
    const ThreadState& stuck = stuck_worker(*record);
    // The scenario's host code runs first (instrumented), then execs the interpreter.
    const auto exec =
        std::find_if(record->events.begin(), record->events.end(), [&](const Event& e) {
            return e.kind == EventKind::exec && e.pid == main.ns_pid;
        });
    REQUIRE(exec != record->events.end());
    const std::int64_t exec_ns = exec->time_ns - record->start_time_ns;

    const TimelineModel model = build_timeline_model(*record);
    check_stuck_worker_lane(model, *record);
    check_lane_names(model, *record, main.ns_pid, 1);
    check_fork_arrow(model, main.ns_pid, stuck.pid);
    // The samples speak only after the exec: the instrumented part is the trace's.
    for (const SampledSpan& span : model.sampled_spans)
        if (span.pid == main.ns_pid)
            CHECK(span.first_seen_ns >= exec_ns);

    const ProcessTreeModel tree = build_process_tree(*record);
    check_ended_processes(model, tree, *record);
    check_tree_edges(tree);
    CHECK(tree.find(stuck.pid)->edge_label == "fork");

    const LockTableModel locks = build_lock_table(*record);
    const auto row = std::find_if(locks.locks.begin(), locks.locks.end(), [&](const LockRow& r) {
        return r.process == stuck.pid && !r.waiters.empty();
    });
    REQUIRE(row != locks.locks.end());
    CHECK_THAT(row->label(), Contains("PyThread_acquire_lock"));
}

TEST_CASE("samples: the live threads of a hung Python program keep their threading names",
          "[gui][timeline][samples][python]") {
    if (!have_python()) {
        WARN("no /usr/bin/python3: not checked here");
        return;
    }
    // tests/programs/python_registry_rlock.py: the parent's 'keeper' holds an RLock for 30 s and
    // its 'ticker' prints every 50 ms while the forked child waits for the RLock. Only the child
    // is stuck, and an RLock's waiter names no owner thread to unwind: neither of the parent's
    // threads has a stack in the record, and both are still named, as the interpreter names them.
    auto record = python_exec_recorded("python_registry_rlock.py");
    INFO(record->verdict.explanation);
    REQUIRE(record->verdict.kind == VerdictKind::deadlocked);
    const ProcessRecord& main = main_process(*record);
    std::set<std::string> named;
    for (const auto& [tid, name] : main.python_threads)
        named.insert(name);
    CHECK(named.count("keeper") == 1);
    CHECK(named.count("ticker") == 1);

    const TimelineModel model = build_timeline_model(*record);
    check_lane_names(model, *record, main.ns_pid, 3);
    const TimelineGroup& group = model.groups[*model.group_index(main.ns_pid)];
    std::set<std::string> lanes;
    for (std::size_t l = group.first_lane; l < group.first_lane + group.lane_count; ++l)
        lanes.insert(model.lanes[l].name);
    CHECK(lanes.count("keeper") == 1);
    CHECK(lanes.count("ticker") == 1);

    // A saved record keeps them.
    const RunRecord reread = run_record_from_json(to_json(*record));
    const ProcessRecord* again = reread.find_process(main.ns_pid);
    REQUIRE(again);
    CHECK(again->python_threads == main.python_threads);
}

// [SECTION] A trace alone, and a live record with no process list yet -----------------------------

TEST_CASE("samples: an instrumented scenario is drawn from its trace alone",
          "[gui][timeline][samples]") {
    auto record = recorded(test::kOrphanedLock);
    const TimelineModel model = build_timeline_model(*record);
    CHECK(model.sampled_spans.empty());
    CHECK(model.sampled_notes.empty());
    for (const TimelineLane& lane : model.lanes)
        CHECK_FALSE(lane.from_samples);
}

TEST_CASE("samples: a live record, before its process list exists, already draws the program",
          "[gui][timeline][samples][python]") {
    if (!have_python()) {
        WARN("no /usr/bin/python3: not checked here");
        return;
    }
    // What the GUI shows while the run goes on: the runner builds the process list at the end.
    RunRecord live = *python_exec_recorded("python_lock_at_fork.py");
    const pid_t main_pid = main_process(live).ns_pid;
    live.processes.clear();
    const TimelineModel model = build_timeline_model(live);
    auto lane = model.lane_index(main_pid, main_pid); // known from its process_start event
    REQUIRE(lane);
    const TimelineLane& main = model.lanes[*lane];
    CHECK(main.from_samples);
    CHECK(main.name == "main"); // its comm, python3, is the program's name: the samples say so
    const auto& bars = main.rows.at(0).bars;
    CHECK(std::any_of(bars.begin(), bars.end(), [](const TimelineBar& bar) {
        return bar.from_samples() && bar.kind == BarKind::waiting;
    }));
}
