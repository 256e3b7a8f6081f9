// The timeline: its model over real run records (what is drawn where, which event each bar comes
// from), and the panel drawn headless, hovered and clicked.
#include "gui/models/timeline_model.hpp"
#include "gui/panels/timeline_panel.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <set>
#include <string>

using namespace forklore;
using namespace forklore::gui;
using forklore::gui::test::HeadlessImGui;
using forklore::gui::test::recorded;

namespace {

const TimelineGroup* find_group(const TimelineModel& model, const std::string& role,
                                const std::string& start_method = "") {
    for (const auto& group : model.groups)
        if (group.role == role && (start_method.empty() || group.start_method == start_method))
            return &group;
    return nullptr;
}

std::optional<std::size_t> find_lane(const TimelineModel& model, const TimelineGroup& group,
                                     const std::string& name) {
    for (std::size_t l = group.first_lane; l < group.first_lane + group.lane_count; ++l)
        if (model.lanes[l].name == name)
            return l;
    return std::nullopt;
}

// Every bar of a lane: its waits and its hold bands.
std::vector<TimelineBar> bars_of(const TimelineLane& lane) {
    std::vector<TimelineBar> all;
    for (const auto* rows : {&lane.rows, &lane.hold_rows})
        for (const auto& row : *rows)
            all.insert(all.end(), row.bars.begin(), row.bars.end());
    return all;
}

const Event& begin_of(const RunRecord& record, const TimelineBar& bar) {
    REQUIRE(bar.begin_event < record.events.size());
    return record.events[bar.begin_event];
}

// The panel drawn for a few frames (the first lays out, the next ones draw over a known layout).
void draw_frames(HeadlessImGui& imgui, TimelinePanelState& state, const RecordView& view,
                 Selection& selection, int frames = 3, ImVec2 mouse = ImVec2(-1, -1)) {
    for (int i = 0; i < frames; ++i)
        imgui.frame([&] { draw_timeline_panel(state, view, selection); }, mouse);
}

} // namespace

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
    auto fork_arrow = std::find_if(model.arrows.begin(), model.arrows.end(), [&](const auto& a) {
        return a.kind == ArrowKind::start && a.to_lane == child->first_lane;
    });
    REQUIRE(fork_arrow != model.arrows.end());
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
    auto record = recorded("file-read-under-lock", "fork_exec");
    const TimelineModel model = build_timeline_model(*record);
    const TimelineGroup* child = find_group(model, "read", "fork_exec");
    REQUIRE(child);
    auto start = std::find_if(model.arrows.begin(), model.arrows.end(), [&](const auto& a) {
        return a.kind == ArrowKind::start && a.to_lane == child->first_lane;
    });
    REQUIRE(start != model.arrows.end());
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

TEST_CASE("timeline panel: drawn headless over every recorded run", "[gui][timeline]") {
    HeadlessImGui imgui;
    Selection selection;
    {
        TimelinePanelState state;
        const int empty = imgui.frame([&] { draw_timeline_panel(state, RecordView{}, selection); });
        CHECK(empty > 0);
        // A run that never started (a setup error) has no events and no processes.
        auto nothing = std::make_shared<const RunRecord>();
        CHECK(imgui.frame([&] {
            draw_timeline_panel(state, RecordView{nothing, 1, false}, selection);
        }) > 0);
        CHECK(state.model.lanes.empty());
    }
    for (const auto* which : {&test::kCompleted, &test::kOrphanedLock, &test::kCycle,
                              &test::kCrashed, &test::kManyEvents}) {
        INFO((*which)[0] << ":" << (*which)[1]);
        auto record = recorded(*which);
        TimelinePanelState state;
        RecordView view{record, 1, false};
        const int base = imgui.frame([] {});
        draw_frames(imgui, state, view, selection);
        const int drawn = imgui.frame([&] { draw_timeline_panel(state, view, selection); });
        CHECK(drawn > base);
        CHECK(state.built_from.built());
        CHECK(state.model.lanes.size() == state.lane_top.size());

        // Zoomed in on the middle, with the last event selected; then live, which refits.
        selection.select_event(*record, record->events.size() - 1);
        state.ns_per_px /= 50;
        state.view_start_ns = static_cast<double>(state.model.end_ns) / 2;
        state.user_moved = true;
        CHECK(imgui.frame([&] { draw_timeline_panel(state, view, selection); }) > base);
        RecordView live{record, 2, true};
        state.user_moved = false;
        CHECK(imgui.frame([&] { draw_timeline_panel(state, live, selection); }) > base);
        // Refitted to the program's part of the run: its first process to its last event.
        CHECK(state.view_start_ns <= static_cast<double>(state.model.story_start_ns));
        CHECK(state.view_start_ns + state.ns_per_px * (state.plot_max.x - state.plot_min.x) >=
              static_cast<double>(state.model.story_end_ns));
        selection.clear();
    }
}

TEST_CASE("timeline panel: hovering the child's red bar shows it, clicking selects its event",
          "[gui][timeline]") {
    auto record = recorded(test::kOrphanedLock);
    HeadlessImGui imgui;
    TimelinePanelState state;
    Selection selection;
    RecordView view{record, 1, false};
    draw_frames(imgui, state, view, selection);

    const TimelineGroup* child = find_group(state.model, "read", "fork");
    REQUIRE(child);
    const auto& bars = state.model.lanes[child->first_lane].rows.at(0).bars;
    REQUIRE_FALSE(bars.empty());
    const TimelineBar& red = bars.back();
    REQUIRE(red.kind == BarKind::waiting);
    auto at = timeline_screen_position(
        state, child->first_lane, {LaneRowKind::wait, 0},
        // The view frames the program's events: a wait that never
        // ended runs on past its right edge.
        std::min((red.start_ns + red.end_ns) / 2, state.model.story_end_ns));
    REQUIRE(at);

    draw_frames(imgui, state, view, selection, 2, *at);
    REQUIRE(state.hovered_event);
    CHECK(*state.hovered_event == red.begin_event);
    CHECK_FALSE(selection.event);

    ImGui::GetIO().MouseDown[0] = true;
    imgui.frame([&] { draw_timeline_panel(state, view, selection); }, *at);
    ImGui::GetIO().MouseDown[0] = false;
    imgui.frame([&] { draw_timeline_panel(state, view, selection); }, *at);
    REQUIRE(selection.event);
    CHECK(*selection.event == red.begin_event);
    CHECK(selection.pid == child->pid);
    CHECK(selection.tid == state.model.lanes[child->first_lane].tid);
    CHECK(record->events[*selection.event].kind == EventKind::lock_wait);
}

TEST_CASE("timeline panel: the mouse wheel zooms around the mouse, Fit shows the whole run again",
          "[gui][timeline]") {
    auto record = recorded(test::kOrphanedLock);
    HeadlessImGui imgui;
    TimelinePanelState state;
    Selection selection;
    RecordView view{record, 1, false};
    draw_frames(imgui, state, view, selection);
    const double fitted = state.ns_per_px;
    const ImVec2 mouse((state.plot_min.x + state.plot_max.x) / 2, state.content_top + 40);
    draw_frames(imgui, state, view, selection, 1, mouse); // hover first: the window learns it
    ImGui::GetIO().MouseWheel = 2;
    imgui.frame([&] { draw_timeline_panel(state, view, selection); }, mouse);
    CHECK(state.user_moved);
    CHECK(state.ns_per_px < fitted);
    // The zoomed view stays put over later frames (a live run would not refit it).
    const double zoomed = state.ns_per_px;
    draw_frames(imgui, state, RecordView{record, 2, true}, selection, 2, mouse);
    CHECK(state.ns_per_px == Approx(zoomed));

    state.user_moved = false; // what the Fit button does
    draw_frames(imgui, state, view, selection, 1);
    CHECK(state.ns_per_px == Approx(fitted));
}

// --- A lock's life in one look: hold bands, the fork's copies (issue 11, defect 6) ------------

namespace {

// The reader's hold of file_lock in the fork record, and the parent's child_start.
struct ReaderAtFork {
    const TimelineGroup* parent = nullptr;
    const TimelineGroup* child = nullptr;
    std::size_t reader = 0;
    const TimelineBar* hold = nullptr; // the first segment of the hold band
    std::int64_t hold_end_ns = 0;      // its last segment's end
    std::int64_t fork_ns = 0;
};

ReaderAtFork reader_at_fork(const TimelineModel& model, const RunRecord& record) {
    ReaderAtFork found;
    found.parent = find_group(model, "main");
    found.child = find_group(model, "read", "fork");
    REQUIRE(found.parent);
    REQUIRE(found.child);
    auto reader = find_lane(model, *found.parent, "reader");
    REQUIRE(reader);
    found.reader = *reader;
    for (const auto& row : model.lanes[*reader].hold_rows)
        for (const auto& bar : row.bars)
            if (std::string(begin_of(record, bar).name) == "file_lock") {
                if (!found.hold)
                    found.hold = &bar;
                found.hold_end_ns = std::max(found.hold_end_ns, bar.end_ns);
            }
    REQUIRE(found.hold);
    auto start = std::find_if(record.events.begin(), record.events.end(), [&](const Event& e) {
        return e.kind == EventKind::child_start && static_cast<pid_t>(e.object) == found.child->pid;
    });
    REQUIRE(start != record.events.end());
    found.fork_ns = start->time_ns - record.start_time_ns;
    return found;
}

} // namespace

TEST_CASE("timeline: the reader's hold of file_lock is one band across the fork and its barrier "
          "waits, apart from them",
          "[gui][timeline][bands]") {
    auto record = recorded(test::kOrphanedLock);
    const TimelineModel model = build_timeline_model(*record);
    const ReaderAtFork at = reader_at_fork(model, *record);
    const TimelineLane& reader = model.lanes[at.reader];

    // The band is the hold: from the acquire to the release, and the fork falls inside it.
    CHECK(begin_of(*record, *at.hold).kind == EventKind::lock_acquired);
    REQUIRE(at.hold->end_event < record->events.size());
    CHECK(record->events[at.hold->end_event].kind == EventKind::lock_released);
    CHECK(at.hold->start_ns < at.fork_ns);
    CHECK(at.fork_ns < at.hold_end_ns);

    // What it waits on while holding it are red bars in the wait rows, never in the bands: a
    // barrier wait lies inside the hold.
    bool barrier_inside = false;
    for (const auto& row : reader.rows)
        for (const auto& bar : row.bars) {
            CHECK(bar.kind == BarKind::waiting);
            if (bar.what == BarSubject::barrier && bar.start_ns >= at.hold->start_ns &&
                bar.end_ns <= at.hold_end_ns)
                barrier_inside = true;
        }
    CHECK(barrier_inside);
    for (const auto& row : reader.hold_rows)
        for (const auto& bar : row.bars)
            CHECK(bar.kind != BarKind::waiting);
    // The barrier wait that never ends (after the release) is a wait, not the lock.
    auto hit = hit_test(model, (at.hold->start_ns + at.hold_end_ns) / 2, at.reader, 0,
                        LaneRow{LaneRowKind::hold, 0});
    REQUIRE(hit);
    REQUIRE(hit->bar);
    CHECK(describe_bar(model, *record, *hit->bar).find("holding lock 'file_lock'") !=
          std::string::npos);
}

TEST_CASE("timeline: fork carries the held file_lock across: the arrow lists it, the child has "
          "an orphaned copy",
          "[gui][timeline][bands]") {
    auto record = recorded(test::kOrphanedLock);
    const TimelineModel model = build_timeline_model(*record);
    const ReaderAtFork at = reader_at_fork(model, *record);

    auto arrow = std::find_if(model.arrows.begin(), model.arrows.end(), [&](const auto& a) {
        return a.kind == ArrowKind::start && a.to_lane == at.child->first_lane;
    });
    REQUIRE(arrow != model.arrows.end());
    CHECK(arrow->label == "fork");
    REQUIRE(arrow->copies.size() == 1);
    const CopiedLock& copied = arrow->copies.front();
    CHECK(copied.name == "file_lock");
    CHECK(copied.holder_name == "reader");
    CHECK(copied.holder_tid == model.lanes[at.reader].tid);
    CHECK(copied.orphaned); // the reader did not call fork: it is not in the child
    CHECK(copied.acquired_event == at.hold->begin_event);
    CHECK(copies_label(*arrow) == "copies file_lock (held by reader)");

    // The child's first lane carries the copy from its start to its end: nobody releases it.
    const TimelineLane& child = model.lanes[at.child->first_lane];
    REQUIRE(child.copies.size() == 1);
    const CopyBand& band = child.copies.front();
    CHECK(band.lock.orphaned);
    CHECK(band.lock.address == begin_of(*record, *at.hold).object);
    CHECK(band.start_ns == child.start_ns);
    CHECK(band.end_ns == child.end_ns);
    CHECK(band.end_event == kNoTimelineEvent);
    CHECK(band.fork_event == arrow->event);
    CHECK(copy_band_label(band) == "file_lock (copy; its holder 'reader' is not in this process)");
    // The child's wait for it starts after the copy did, under the copy.
    const TimelineBar& wait = child.rows.at(0).bars.back();
    CHECK(wait.kind == BarKind::waiting);
    CHECK(wait.start_ns >= band.start_ns);
    const std::string text = describe_copy(model, *record, band);
    CHECK(text.find("nobody here can unlock the copy") != std::string::npos);
    auto hit = hit_test(model, (band.start_ns + band.end_ns) / 2, at.child->first_lane, 0,
                        LaneRow{LaneRowKind::copy, 0});
    REQUIRE(hit);
    CHECK(hit->copy == &band);
    CHECK(hit->event == arrow->event);
}

TEST_CASE("timeline: spawn, fork_exec and the fork server copy no lock; fork_atfork's child "
          "holds its copy until its handler releases it",
          "[gui][timeline][bands]") {
    for (const char* variant : {"spawn", "fork_exec", "forkserver"}) {
        INFO(variant);
        auto record = recorded("file-read-under-lock", variant);
        const TimelineModel model = build_timeline_model(*record);
        std::size_t starts = 0;
        for (const auto& arrow : model.arrows)
            if (arrow.kind == ArrowKind::start) {
                ++starts;
                CHECK(arrow.copies.empty());
                CHECK(copies_label(arrow).empty());
            }
        CHECK(starts >= 1);
        for (const auto& lane : model.lanes)
            CHECK(lane.copies.empty());
    }

    // With atfork handlers the forking thread itself holds file_lock at the fork; the child's
    // main thread is its copy, holds the lock (not orphaned) and its handler releases it.
    auto record = recorded("file-read-under-lock", "fork_atfork");
    const TimelineModel model = build_timeline_model(*record);
    const TimelineGroup* child = find_group(model, "read", "fork");
    REQUIRE(child);
    auto arrow = std::find_if(model.arrows.begin(), model.arrows.end(), [&](const auto& a) {
        return a.kind == ArrowKind::start && a.to_lane == child->first_lane;
    });
    REQUIRE(arrow != model.arrows.end());
    REQUIRE(arrow->copies.size() == 1);
    CHECK(arrow->copies.front().name == "file_lock");
    CHECK(arrow->copies.front().holder_name == "main");
    CHECK_FALSE(arrow->copies.front().orphaned);
    const TimelineLane& lane = model.lanes[child->first_lane];
    REQUIRE(lane.copies.size() == 1);
    const CopyBand& band = lane.copies.front();
    REQUIRE(band.end_event < record->events.size());
    const Event& release = record->events[band.end_event];
    CHECK(release.kind == EventKind::lock_released);
    CHECK(release.pid == child->pid);
    CHECK(band.end_ns < child->end_ns);
    CHECK(copy_band_label(band) == "file_lock (copy; held by this thread, which called fork)");
}

TEST_CASE("timeline: a recursive mutex the forking thread held is an orphaned copy too: the "
          "child's thread has a new id",
          "[gui][timeline][bands]") {
    auto record = recorded("lock-kinds-at-fork", "recursive_held_by_forker");
    const TimelineModel model = build_timeline_model(*record);
    const TimelineArrow* fork = nullptr;
    for (const auto& arrow : model.arrows)
        if (arrow.kind == ArrowKind::start && arrow.label == "fork")
            fork = &arrow;
    REQUIRE(fork);
    REQUIRE(fork->copies.size() == 1);
    const CopiedLock& lock = fork->copies.front();
    CHECK(lock.held_by_forker);
    CHECK(lock.orphaned);
    REQUIRE(lock.acquired_event < record->events.size());
    CHECK(static_cast<LockKind>(record->events[lock.acquired_event].arg0) ==
          LockKind::recursive_mutex);
    CHECK(lock.holder_tid == record->events[fork->event].tid);
    const TimelineLane& child = model.lanes[fork->to_lane];
    REQUIRE(child.copies.size() == 1);
    CHECK(copy_band_label(child.copies.front()).find("is not in this process") !=
          std::string::npos);
}

TEST_CASE("timeline panel: at the default zoom the reader's band is wide and named, the child's "
          "orphaned copy is drawn",
          "[gui][timeline][bands]") {
    auto record = recorded(test::kOrphanedLock);
    // The Timeline tab's share of a 1280x800 window, as the app lays it out.
    HeadlessImGui imgui(640, 500);
    TimelinePanelState state;
    Selection selection;
    RecordView view{record, 1, false};
    draw_frames(imgui, state, view, selection);
    const ReaderAtFork at = reader_at_fork(state.model, *record);

    auto band =
        std::find_if(state.drawn_bands.begin(), state.drawn_bands.end(), [&](const auto& b) {
            return b.lane == at.reader && b.row.kind == LaneRowKind::hold &&
                   b.event == at.hold->begin_event;
        });
    REQUIRE(band != state.drawn_bands.end());
    INFO("band from " << band->x0 << " to " << band->x1 << " px, plot from " << state.plot_min.x
                      << " to " << state.plot_max.x);
    CHECK(band->x1 - band->x0 >= 20); // was 1 px: the whole run's setup was in the view
    CHECK(band->named);
    // Where the band was drawn is where its times are.
    auto start = timeline_screen_position(state, at.reader, band->row, at.hold->start_ns);
    REQUIRE(start);
    CHECK(start->x == Approx(band->x0).margin(1));

    auto copy =
        std::find_if(state.drawn_bands.begin(), state.drawn_bands.end(), [&](const auto& b) {
            return b.lane == at.child->first_lane && b.row.kind == LaneRowKind::copy;
        });
    REQUIRE(copy != state.drawn_bands.end());
    CHECK(copy->x1 - copy->x0 >= 20);
    CHECK(copy->named);

    // Hovering the copy explains it; clicking selects the fork.
    auto middle = timeline_screen_position(
        state, at.child->first_lane, copy->row,
        state.model.lanes[at.child->first_lane].copies.front().start_ns + 1000);
    REQUIRE(middle);
    const ImVec2 mouse((copy->x0 + copy->x1) / 2, middle->y);
    draw_frames(imgui, state, view, selection, 2, mouse);
    REQUIRE(state.hovered_event);
    CHECK(record->events[*state.hovered_event].kind == EventKind::child_start);
}
