// libFuzzer target: a run record from bytes nobody checked, read as `forklore-gui --open` reads
// one, then shown as the GUI's panels first compute it.
//
// For every input:
// - parse_run_record returns a record or throws RecordError with one line; nothing else
//   escapes, and nothing crashes, leaks or invokes undefined behaviour (ASan, UBSan);
// - a record it returns is written (to_json_text) and read back to the same text;
// - the models of the GUI's panels build over it (timeline, locks, process tree, wait-for graph,
//   event log; the timeline without the sandbox's host and reaper) with the tooltip texts of
//   what they hold.
// A failed property calls abort(): libFuzzer saves the input as a crash.
#include "gui/models/event_log_model.hpp"
#include "gui/models/lock_table_model.hpp"
#include "gui/models/process_tree_model.hpp"
#include "gui/models/wait_graph_model.hpp"
#include "sim/record/record.hpp"
#include "sim/timeline/infrastructure.hpp"
#include "sim/timeline/timeline_model.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace forklore;

[[noreturn]] void broken(const char* property, std::string_view detail) {
    std::fprintf(stderr, "fuzz_record: %s: %.*s\n", property, static_cast<int>(detail.size()),
                 detail.data());
    std::abort();
}

// What the panels compute when the record is opened, and what hovering shows.
void show(const RunRecord& record) {
    const TimelineModel timeline = build_timeline_model(record);
    for (std::size_t i = 0; i < timeline.lanes.size(); ++i) {
        const TimelineLane& lane = timeline.lanes[i];
        (void)describe_lane(lane);
        for (const auto& row : lane.rows)
            for (const auto& bar : row.bars)
                (void)describe_bar(timeline, record, bar);
        (void)hit_test(timeline, lane.start_ns, i, 1000);
        (void)hit_test(timeline, lane.end_ns, i);
    }
    // The default view hides the sandbox's host and reaper: lanes and arrows renumbered.
    const TimelineModel shown = without_infrastructure(timeline);
    for (const auto& arrow : shown.arrows)
        if (arrow.from_lane >= shown.lanes.size() || arrow.to_lane >= shown.lanes.size())
            broken("an arrow of the filtered timeline names a lane it does not have", "");
    for (std::size_t i = 0; i < record.events.size() && i < 64; ++i)
        (void)describe_event(record, i);
    (void)gui::build_lock_table(record);
    (void)gui::build_process_tree(record);
    (void)gui::build_wait_graph(record);
    gui::EventLogModel log;
    gui::EventFilter filter;
    log.update(record, 1, filter);
    filter.text = "lock";
    log.update(record, 1, filter);
    for (std::size_t row : log.rows()) {
        const Event& event = record.events[row];
        (void)gui::event_time_ms(record, event);
        (void)gui::event_object_text(event);
        (void)gui::event_args_text(event);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    RunRecord record;
    try {
        record = parse_run_record(text);
    } catch (const RecordError& error) {
        const std::string_view message = error.what();
        if (message.empty() || message.find('\n') != std::string_view::npos)
            broken("an error that is not one line", message);
        return 0;
    }
    const std::string written = to_json_text(to_json(record));
    try {
        const RunRecord again = parse_run_record(written);
        if (to_json_text(to_json(again)) != written)
            broken("not the same once read back", written);
    } catch (const RecordError& error) {
        broken("what was written cannot be read back", error.what());
    }
    show(record);
    return 0;
}
