// What the timeline's tests look for in a model built from a real record, and the Timeline panel
// drawn headless for a few frames.
#pragma once

#include "gui/panels/timeline_panel.hpp"
#include "sim/timeline/timeline_model.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace forklore::gui::test {

inline const TimelineGroup* find_group(const TimelineModel& model, const std::string& role,
                                       const std::string& start_method = "") {
    for (const auto& group : model.groups)
        if (group.name == role && (start_method.empty() || group.start_method == start_method))
            return &group;
    return nullptr;
}

inline std::optional<std::size_t> find_lane(const TimelineModel& model, const TimelineGroup& group,
                                            const std::string& name) {
    for (std::size_t l = group.first_lane; l < group.first_lane + group.lane_count; ++l)
        if (model.lanes[l].name == name)
            return l;
    return std::nullopt;
}

// Every bar of a lane: its waits and its hold bands.
inline std::vector<TimelineBar> bars_of(const TimelineLane& lane) {
    std::vector<TimelineBar> all;
    for (const auto* rows : {&lane.rows, &lane.hold_rows})
        for (const auto& row : *rows)
            all.insert(all.end(), row.bars.begin(), row.bars.end());
    return all;
}

inline const Event& begin_of(const RunRecord& record, const TimelineBar& bar) {
    REQUIRE(bar.begin_event < record.events.size());
    return record.events[bar.begin_event];
}

// The start arrow that made `child` (its parent's child_start); nullptr when there is none.
inline const TimelineArrow* start_arrow_to(const TimelineModel& model, const TimelineGroup& child) {
    for (const TimelineArrow& arrow : model.arrows)
        if (arrow.kind == ArrowKind::start && arrow.to_lane == child.first_lane)
            return &arrow;
    return nullptr;
}

// A file-read-under-lock variant's record and model, its child process (the group its start
// method made) and the start arrow to it.
struct StartedChild {
    std::shared_ptr<const RunRecord> record;
    TimelineModel model;
    const TimelineGroup* child = nullptr;
    const TimelineArrow* start = nullptr;

    StartedChild(const std::string& variant, const std::string& start_method)
        : record(recorded("file-read-under-lock", variant)), model(build_timeline_model(*record)) {
        child = find_group(model, "read", start_method);
        REQUIRE(child);
        start = start_arrow_to(model, *child);
        REQUIRE(start);
    }
    StartedChild(const StartedChild&) = delete;
    StartedChild& operator=(const StartedChild&) = delete;
};

// The panel drawn for a few frames (the first lays out, the next ones draw over a known layout).
inline void draw_frames(HeadlessImGui& imgui, TimelinePanelState& state, const RecordView& view,
                        Selection& selection, int frames = 3, ImVec2 mouse = ImVec2(-1, -1)) {
    for (int i = 0; i < frames; ++i)
        imgui.frame([&] { draw_timeline_panel(state, view, selection); }, mouse);
}

// The reader's hold of file_lock in the fork record, and the parent's child_start.
struct ReaderAtFork {
    const TimelineGroup* parent = nullptr;
    const TimelineGroup* child = nullptr;
    std::size_t reader = 0;
    const TimelineBar* hold = nullptr; // the first segment of the hold band
    std::int64_t hold_end_ns = 0;      // its last segment's end
    std::int64_t fork_ns = 0;
};

inline ReaderAtFork reader_at_fork(const TimelineModel& model, const RunRecord& record) {
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

} // namespace forklore::gui::test
