// A lock's life in one look (issue 11, defect 6), in the timeline's model: a hold is one band
// apart from the waits under it, and fork carries the locks held at that instant into the child,
// on the start arrow and as copies on the child's first lane.
#include "sim/timeline/timeline_model.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"
#include "tests/gui/timeline_checks.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <string>

using namespace forklore;
using namespace forklore::gui;
using namespace forklore::gui::test;

namespace {

// The fork record (the first lesson's orphaned lock), its model, and the reader's hold in it.
struct OrphanedLockModel {
    std::shared_ptr<const RunRecord> record = recorded(kOrphanedLock);
    TimelineModel model = build_timeline_model(*record);
    ReaderAtFork at = reader_at_fork(model, *record);
};

} // namespace

TEST_CASE("timeline: the reader's hold of file_lock is one band across the fork and its barrier "
          "waits, apart from them",
          "[gui][timeline][bands]") {
    const OrphanedLockModel orphaned;
    const auto& [record, model, at] = orphaned;
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
    const OrphanedLockModel orphaned;
    const auto& [record, model, at] = orphaned;

    const TimelineArrow* arrow = start_arrow_to(model, *at.child);
    REQUIRE(arrow);
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
    const StartedChild atfork("fork_atfork", "fork");
    const auto& [record, model, child, arrow] = atfork;
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
