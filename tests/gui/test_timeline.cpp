// The timeline's model over real run records: the processes, their threads and the arrows
// between them, what is drawn where and which event each bar comes from, and a record of 100,000
// events. The hold bands and the fork's copies are test_timeline_bands.cpp; the panel drawn,
// hovered and clicked is test_timeline_panel.cpp.
#include "sim/timeline/timeline_model.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"
#include "tests/gui/timeline_checks.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <set>
#include <string>

using namespace forklore;
using namespace forklore::gui;
using namespace forklore::gui::test;

TEST_CASE("timeline: the forked child's main thread ends waiting for the lock the reader held",
          "[gui][timeline]") {
    auto record = recorded(test::kOrphanedLock);
    const TimelineModel model = build_timeline_model(*record);

    const TimelineGroup* parent = find_group(model, "main");
    const TimelineGroup* child = find_group(model, "read", "fork");
    REQUIRE(parent);
    REQUIRE(child);
    CHECK(child->parent_pid == parent->pid);
    CHECK_FALSE(child->ended); // hung: it lived until the runner ended the sandbox

    // The child's first lane is its main thread; its last bar is a red wait on file_lock that
    // was never satisfied and runs to the end of the run.
    const TimelineLane& child_main = model.lanes[child->first_lane];
    CHECK(child_main.tid == child->pid);
    auto child_bars = bars_of(child_main);
    REQUIRE_FALSE(child_bars.empty());
    const TimelineBar last = *std::max_element(
        child_bars.begin(), child_bars.end(),
        [](const TimelineBar& a, const TimelineBar& b) { return a.end_ns < b.end_ns; });
    CHECK(last.kind == BarKind::waiting);
    CHECK(last.what == BarSubject::lock);
    CHECK(last.open());
    CHECK(last.end_ns == model.end_ns);
    const Event& wait = begin_of(*record, last);
    CHECK(wait.kind == EventKind::lock_wait);
    CHECK(std::string(wait.name) == "file_lock");
    CHECK(wait.pid == child->pid);

    // The parent's reader held that lock (same address: the child's copy of it): green, or
    // yellow while the child waited.
    auto reader = find_lane(model, *parent, "reader");
    REQUIRE(reader);
    bool held = false;
    for (const auto& bar : bars_of(model.lanes[*reader])) {
        if (bar.kind == BarKind::waiting)
            continue;
        const Event& acquired = begin_of(*record, bar);
        CHECK(acquired.kind == EventKind::lock_acquired);
        if (std::string(acquired.name) == "file_lock" && acquired.object == wait.object) {
            held = true;
            CHECK(bar.start_ns <= last.start_ns); // held before the child was even started
        }
    }
    CHECK(held);

    // A fork arrow from the parent's group to the child's.
    const TimelineArrow* fork_arrow = start_arrow_to(model, *child);
    REQUIRE(fork_arrow);
    CHECK(fork_arrow->label == "fork");
    CHECK(model.lanes[fork_arrow->from_lane].pid == parent->pid);
    CHECK(record->events[fork_arrow->event].kind == EventKind::child_start);

    // A point in the middle of the red bar is that wait.
    const std::int64_t middle = (last.start_ns + last.end_ns) / 2;
    auto hit = hit_test(model, middle, child->first_lane);
    REQUIRE(hit);
    CHECK(hit->event == last.begin_event);
    CHECK(hit->bar);
    const std::string tooltip = describe_bar(model, *record, *hit->bar);
    CHECK(tooltip.find("never acquired, still waiting when the run ended") != std::string::npos);
    CHECK(tooltip.find("orphaned lock") != std::string::npos); // the verdict's words for it
}

TEST_CASE("timeline: a lock cycle shows two threads waiting for ever, each on the other's lock",
          "[gui][timeline]") {
    auto record = recorded(test::kCycle);
    const TimelineModel model = build_timeline_model(*record);

    struct OpenWait {
        std::size_t lane;
        std::uint64_t lock;
    };
    std::vector<OpenWait> waits;
    for (std::size_t l = 0; l < model.lanes.size(); ++l)
        for (const auto& bar : bars_of(model.lanes[l]))
            if (bar.kind == BarKind::waiting && bar.what == BarSubject::lock && bar.open())
                waits.push_back({l, begin_of(*record, bar).object});
    REQUIRE(waits.size() == 2);
    CHECK(waits[0].lane != waits[1].lane);
    CHECK(waits[0].lock != waits[1].lock);
    // Each waits for a lock the other thread holds until the end.
    for (std::size_t i = 0; i < 2; ++i) {
        const TimelineLane& other = model.lanes[waits[1 - i].lane];
        bool holds = false;
        for (const auto& bar : bars_of(other))
            if (bar.kind != BarKind::waiting && bar.open() && bar.end_ns == other.end_ns &&
                begin_of(*record, bar).object == waits[i].lock) {
                holds = true;
                // Somebody waits for it: the end of the hold is yellow.
                CHECK(bar.kind == BarKind::held_with_waiters);
            }
        CHECK(holds);
    }
}

TEST_CASE("timeline: a crashed child has an exit marker and an exit arrow to its reaper",
          "[gui][timeline]") {
    auto record = recorded(test::kCrashed);
    const TimelineModel model = build_timeline_model(*record);
    const TimelineGroup* child = find_group(model, "abort");
    REQUIRE(child);
    CHECK(child->ended);
    CHECK(child->exit_description.find("SIGABRT") != std::string::npos);

    const TimelineLane& lane = model.lanes[child->first_lane];
    auto exit = std::find_if(lane.markers.begin(), lane.markers.end(),
                             [](const auto& m) { return m.kind == MarkerKind::exit; });
    REQUIRE(exit != lane.markers.end());
    const Event& event = record->events[exit->event];
    CHECK(event.kind == EventKind::process_exit);
    CHECK(static_cast<pid_t>(event.object) == child->pid);
    CHECK(WIFSIGNALED(static_cast<int>(event.arg0)));
    CHECK(WTERMSIG(static_cast<int>(event.arg0)) == SIGABRT);
    CHECK(describe_event(*record, exit->event).find("killed by SIGABRT") != std::string::npos);

    auto arrow = std::find_if(model.arrows.begin(), model.arrows.end(), [&](const auto& a) {
        return a.kind == ArrowKind::exit && a.from_lane == child->first_lane;
    });
    REQUIRE(arrow != model.arrows.end());
    CHECK(arrow->label == "SIGABRT");
}

TEST_CASE("timeline: a completed spawn run has a spawn arrow and no wait left open",
          "[gui][timeline]") {
    auto record = recorded(test::kCompleted);
    const TimelineModel model = build_timeline_model(*record);
    const TimelineGroup* child = find_group(model, "read", "spawn");
    REQUIRE(child);
    CHECK(child->ended);
    CHECK(std::any_of(model.arrows.begin(), model.arrows.end(), [&](const auto& a) {
        return a.kind == ArrowKind::start && a.label == "spawn" && a.to_lane == child->first_lane;
    }));
    for (const auto& lane : model.lanes)
        for (const auto& bar : bars_of(lane))
            if (bar.kind == BarKind::waiting)
                CHECK_FALSE(bar.open());
    // The child waited for nothing it did not get: its lock hold is closed by a release.
    bool child_held = false;
    for (const auto& bar : bars_of(model.lanes[child->first_lane]))
        if (bar.kind != BarKind::waiting) {
            child_held = true;
            REQUIRE(bar.end_event < record->events.size());
            CHECK(record->events[bar.end_event].kind == EventKind::lock_released);
        }
    CHECK(child_held);
}

TEST_CASE("timeline: fork_exec draws the start, then an exec inside the child's group",
          "[gui][timeline]") {
    const StartedChild fork_exec("fork_exec", "fork_exec");
    const auto& [record, model, child, start] = fork_exec;
    CHECK(start->label == "fork_exec");
    auto exec = std::find_if(model.arrows.begin(), model.arrows.end(),
                             [](const auto& a) { return a.kind == ArrowKind::exec; });
    REQUIRE(exec != model.arrows.end());
    CHECK(model.lanes[exec->from_lane].pid == child->pid);
    CHECK(model.lanes[exec->to_lane].pid == child->pid);
    CHECK(record->events[exec->event].kind == EventKind::exec);
    CHECK(exec->label == "exec " + std::string(record->events[exec->event].name));
    CHECK(exec->from_ns <= exec->to_ns);
    CHECK(start->to_ns <= exec->from_ns); // the child began (and was drawn) before it exec'd
}

TEST_CASE("timeline: the 100k-event record keeps every lock hold, rows sorted for binary search",
          "[gui][timeline]") {
    auto record = recorded(test::kManyEvents);
    const auto acquired = static_cast<std::size_t>(
        std::count_if(record->events.begin(), record->events.end(),
                      [](const Event& e) { return e.kind == EventKind::lock_acquired; }));
    const auto lock_waits = static_cast<std::size_t>(
        std::count_if(record->events.begin(), record->events.end(),
                      [](const Event& e) { return e.kind == EventKind::lock_wait; }));
    REQUIRE(acquired > 10000);

    const TimelineModel model = build_timeline_model(*record);
    CHECK(model.lock_holds == acquired);
    std::set<std::size_t> hold_starts;
    std::size_t lock_wait_bars = 0;
    bool some_waiters = false;
    bool rows_sorted = true;
    for (const auto& lane : model.lanes)
        for (const auto& row : lane.rows)
            for (const auto& bar : row.bars)
                CHECK(bar.kind == BarKind::waiting); // holds are bands, apart from the waits
    for (const auto& lane : model.lanes)
        for (const auto* rows : {&lane.rows, &lane.hold_rows})
            for (const auto& row : *rows) {
                for (std::size_t i = 0; i < row.bars.size(); ++i) {
                    const TimelineBar& bar = row.bars[i];
                    // The invariant draw_row's binary searches rely on.
                    if (i > 0 && row.bars[i - 1].end_ns > bar.start_ns)
                        rows_sorted = false;
                    if (bar.kind == BarKind::waiting) {
                        if (bar.what == BarSubject::lock)
                            ++lock_wait_bars;
                    } else {
                        hold_starts.insert(bar.begin_event);
                        some_waiters = some_waiters || bar.kind == BarKind::held_with_waiters;
                    }
                }
                if (!row.bars.empty()) { // the colour of a block merged into one pixel
                    std::int64_t by_kind[kBarKinds] = {};
                    for (const auto& bar : row.bars)
                        by_kind[static_cast<int>(bar.kind)] += bar.end_ns - bar.start_ns;
                    // On a tie the more severe kind (the later one) wins, as dominant_kind says.
                    std::size_t most = 0;
                    for (std::size_t k = 1; k < kBarKinds; ++k)
                        if (by_kind[k] > 0 && by_kind[k] >= by_kind[most])
                            most = k;
                    CHECK(static_cast<std::size_t>(row.dominant_kind(0, row.bars.size())) == most);
                }
            }
    CHECK(rows_sorted);
    CHECK(hold_starts.size() == acquired);
    CHECK(lock_wait_bars == lock_waits);
    CHECK(some_waiters); // four threads contend: holders had waiters
}
