// The verdicts' pass of the timeline's model: which lanes a deadlock verdict names stuck or live,
// and where a stuck thread's final wait, drawn hatched, begins.
#include "sim/timeline/timeline_passes.hpp"

#include <algorithm>

namespace forklore {

namespace {

// Since when the samples show a thread blocked with no timeout, without a break up to the last
// sample; unset when the last sample shows it otherwise (or never saw it).
std::optional<std::int64_t> untimed_since_ns(const RunRecord& record, pid_t pid, pid_t tid) {
    std::optional<std::int64_t> since;
    for (const Snapshot& snapshot : record.snapshots) {
        for (const auto& process : snapshot.processes) {
            if (process.ns_pid != pid)
                continue;
            for (const auto& thread : process.threads) {
                if (thread.ns_tid != tid)
                    continue;
                if (!thread.untimed)
                    since.reset();
                else if (!since)
                    since = snapshot.time_ns - record.start_time_ns;
            }
        }
    }
    return since;
}

// The latest wait that never ended, on any row; else what the samples show.
void find_final_wait(TimelineLane& lane, const RunRecord& record) {
    for (std::size_t r = 0; r < lane.rows.size(); ++r)
        for (const TimelineBar& bar : lane.rows[r].bars)
            if (bar.kind == BarKind::waiting && bar.open() &&
                (!lane.stuck_from_ns || bar.start_ns > *lane.stuck_from_ns)) {
                lane.stuck_from_ns = bar.start_ns;
                lane.stuck_row = r;
            }
    if (!lane.stuck_from_ns) {
        lane.stuck_from_ns = untimed_since_ns(record, lane.pid, lane.tid);
        lane.stuck_row = 0;
    }
    if (lane.stuck_from_ns)
        lane.stuck_from_ns = std::min(*lane.stuck_from_ns, lane.end_ns);
}

} // namespace

void mark_lane_verdicts(TimelineModel& model, const RunRecord& record) {
    auto apply = [&](const std::vector<ThreadState>& threads, LaneVerdict verdict) {
        for (const ThreadState& thread : threads) {
            auto index = model.lane_index(thread.pid, thread.tid);
            if (!index)
                continue;
            TimelineLane& lane = model.lanes[*index];
            lane.verdict = verdict;
            lane.doing = thread.wait;
        }
    };
    apply(record.verdict.live, LaneVerdict::live);
    apply(record.verdict.stuck, LaneVerdict::stuck); // a thread in both lists is stuck
    for (TimelineLane& lane : model.lanes)
        if (lane.verdict == LaneVerdict::stuck)
            find_final_wait(lane, record);
}

} // namespace forklore
