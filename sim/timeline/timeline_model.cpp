// The timeline's model (timeline_model.hpp): the builder as its list of passes, each in a file
// of its own (timeline_passes.hpp lists them), and what the panel asks of a built model.
//
// Index of this file:
// [SECTION] Names of the model's kinds
// [SECTION] TimelineRow and the model's lookups
// [SECTION] Words several passes use
// [SECTION] The builder: the list of passes
// [SECTION] Hit test: what lies under a point of a lane
#include "sim/timeline/timeline_model.hpp"
#include "sim/timeline/timeline_passes.hpp"

#include "sim/verdict/verdict.hpp"

#include <fmt/format.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>

namespace forklore {

// [SECTION] Names of the model's kinds --------------------------------------------------------

std::string_view to_string(BarKind kind) {
    switch (kind) {
    case BarKind::running:
        return "running";
    case BarKind::sleeping:
        return "sleeping";
    case BarKind::held:
        return "held";
    case BarKind::held_with_waiters:
        return "held with waiters";
    case BarKind::waiting:
        return "waiting";
    }
    return "?";
}

std::string_view to_string(BarSubject kind) {
    switch (kind) {
    case BarSubject::lock:
        return "lock";
    case BarSubject::file_lock:
        return "file lock";
    case BarSubject::condition:
        return "condition variable";
    case BarSubject::join:
        return "join";
    case BarSubject::child:
        return "child process";
    case BarSubject::barrier:
        return "barrier";
    case BarSubject::sampled:
        return "sampled state";
    }
    return "?";
}

std::string_view to_string(MarkerKind kind) {
    switch (kind) {
    case MarkerKind::process_start:
        return "process start";
    case MarkerKind::thread_start:
        return "thread start";
    case MarkerKind::thread_exit:
        return "thread exit";
    case MarkerKind::child_start:
        return "child start";
    case MarkerKind::exec:
        return "exec";
    case MarkerKind::exit:
        return "process exit";
    case MarkerKind::signal:
        return "signal";
    case MarkerKind::output:
        return "output";
    case MarkerKind::note:
        return "note";
    case MarkerKind::measurement:
        return "measurement";
    case MarkerKind::cond_signal:
        return "condition signal";
    case MarkerKind::other:
        return "event";
    }
    return "?";
}

std::string_view to_string(LaneVerdict verdict) {
    switch (verdict) {
    case LaneVerdict::none:
        return "";
    case LaneVerdict::stuck:
        return "STUCK";
    case LaneVerdict::live:
        return "live";
    }
    return "";
}

// [SECTION] TimelineRow and the model's lookups -----------------------------------------------

std::size_t TimelineRow::first_ending_at_or_after(std::int64_t t_ns) const {
    auto it =
        std::lower_bound(bars.begin(), bars.end(), t_ns,
                         [](const TimelineBar& bar, std::int64_t t) { return bar.end_ns < t; });
    return static_cast<std::size_t>(it - bars.begin());
}

std::size_t TimelineRow::first_starting_at_or_after(std::int64_t t_ns, std::size_t from) const {
    // Exponential search: the answer lies in [from + step / 2, from + step] for the first step
    // whose bar starts at or after t; then a binary search there.
    std::size_t low = std::min(from, bars.size()), step = 1;
    while (low + step < bars.size() && bars[low + step].start_ns < t_ns) {
        low += step;
        step *= 2;
    }
    const std::size_t high = std::min(bars.size(), low + step + 1);
    auto it =
        std::lower_bound(bars.begin() + static_cast<std::ptrdiff_t>(low),
                         bars.begin() + static_cast<std::ptrdiff_t>(high), t_ns,
                         [](const TimelineBar& bar, std::int64_t t) { return bar.start_ns < t; });
    return static_cast<std::size_t>(it - bars.begin());
}

BarKind TimelineRow::dominant_kind(std::size_t first, std::size_t last) const {
    BarKind best = bars[first].kind;
    std::int64_t best_time = 0;
    for (std::size_t k = 0; k < time_before.size(); ++k) {
        const std::int64_t time = time_before[k][last] - time_before[k][first];
        if (time > 0 && time >= best_time) {
            best = static_cast<BarKind>(k);
            best_time = time;
        }
    }
    return best;
}

void TimelineRow::sum_times() {
    for (auto& sums : time_before)
        sums.assign(bars.size() + 1, 0);
    for (std::size_t i = 0; i < bars.size(); ++i)
        for (std::size_t k = 0; k < time_before.size(); ++k)
            time_before[k][i + 1] = time_before[k][i] + (static_cast<std::size_t>(bars[i].kind) == k
                                                             ? bars[i].end_ns - bars[i].start_ns
                                                             : 0);
}

std::optional<std::size_t> TimelineModel::lane_index(pid_t pid, pid_t tid) const {
    for (std::size_t i = 0; i < lanes.size(); ++i)
        if (lanes[i].pid == pid && lanes[i].tid == tid)
            return i;
    return std::nullopt;
}

std::optional<std::size_t> TimelineModel::group_index(pid_t pid) const {
    for (std::size_t i = 0; i < groups.size(); ++i)
        if (groups[i].pid == pid)
            return i;
    return std::nullopt;
}

// [SECTION] Words several passes use ----------------------------------------------------------

std::string ms(std::int64_t ns) {
    return fmt::format("{:.3f} ms", static_cast<double>(ns) / 1e6);
}

std::string exit_label(WaitStatus status) {
    if (status.exited())
        return fmt::format("exit {}", status.exit_code());
    if (status.killed())
        return signal_name(status.fatal_signal());
    return "ended";
}

std::optional<StartMethod> recorded_start_method(const Event& child_start) {
    const std::int64_t code = child_start.arg0;
    if (code >= 0 && code < static_cast<std::int64_t>(kStartMethodNames.size()))
        return static_cast<StartMethod>(code);
    return std::nullopt;
}

std::string start_method_name(const Event& child_start) {
    const auto method = recorded_start_method(child_start);
    return method ? std::string(to_string(*method)) : "started";
}

// [SECTION] The builder: the list of passes -----------------------------------------------------

namespace {

// The end of the run: the last thing anyone saw (an event, a sample, a process end, the verdict).
std::int64_t run_end_ns(const RunRecord& record) {
    std::int64_t end = 0;
    for (const auto& e : record.events)
        end = std::max(end, e.time_ns - record.start_time_ns);
    if (!record.snapshots.empty())
        end = std::max(end, record.snapshots.back().time_ns - record.start_time_ns);
    for (const auto& p : record.processes)
        end = std::max(end, p.end_ns);
    end = std::max(end, static_cast<std::int64_t>(record.timings.verdict_ms * 1e6));
    return end;
}

} // namespace

TimelineModel build_timeline_model(const RunRecord& record) {
    TimelineModel model;
    model.end_ns = run_end_ns(record);
    const LaneIndex index = add_groups_and_lanes(model, record);
    std::vector<LaneWork> work = read_trace(model, record, index);
    end_what_never_ended(model, work);
    const WaitedSpans waited = waited_spans(work);
    stack_rows(model, work, waited);
    // Threads the trace does not cover, from the samples; before the verdicts, whose hatch
    // starts at a stuck thread's last open wait.
    add_sampled_activity(model, record);
    add_fork_copies(model, record);
    frame_story(model, record);
    mark_lane_verdicts(model, record);
    return model;
}

// [SECTION] Hit test: what lies under a point of a lane ---------------------------------------

std::optional<TimelineHit> hit_test(const TimelineModel& model, std::int64_t t_ns,
                                    std::size_t lane_index, std::int64_t tolerance_ns,
                                    std::optional<LaneRow> row) {
    if (lane_index >= model.lanes.size())
        return std::nullopt;
    const TimelineLane& lane = model.lanes[lane_index];
    if (tolerance_ns > 0 && !lane.markers.empty()) {
        auto it = std::lower_bound(
            lane.markers.begin(), lane.markers.end(), t_ns,
            [](const TimelineMarker& marker, std::int64_t t) { return marker.t_ns < t; });
        const TimelineMarker* best = nullptr;
        auto consider = [&](const TimelineMarker& marker) {
            const std::int64_t distance = std::llabs(marker.t_ns - t_ns);
            if (distance <= tolerance_ns && (!best || distance < std::llabs(best->t_ns - t_ns)))
                best = &marker;
        };
        if (it != lane.markers.end())
            consider(*it);
        if (it != lane.markers.begin())
            consider(*(it - 1));
        if (best)
            return TimelineHit{best->event, nullptr, best};
    }
    auto bar_in = [&](const TimelineRow& r) -> const TimelineBar* {
        const std::size_t i = r.first_ending_at_or_after(t_ns - tolerance_ns);
        if (i < r.bars.size() && r.bars[i].start_ns <= t_ns + tolerance_ns)
            return &r.bars[i];
        return nullptr;
    };
    auto in_row = [&](LaneRow where) -> std::optional<TimelineHit> {
        switch (where.kind) {
        case LaneRowKind::copy:
            if (where.index < lane.copies.size()) {
                const CopyBand& copy = lane.copies[where.index];
                if (copy.start_ns <= t_ns + tolerance_ns && t_ns - tolerance_ns <= copy.end_ns)
                    return TimelineHit{copy.fork_event, nullptr, nullptr, &copy};
            }
            return std::nullopt;
        case LaneRowKind::hold:
        case LaneRowKind::wait: {
            const auto& rows = where.kind == LaneRowKind::hold ? lane.hold_rows : lane.rows;
            if (where.index < rows.size())
                if (const TimelineBar* bar = bar_in(rows[where.index]))
                    return TimelineHit{bar->begin_event, bar, nullptr, nullptr};
            return std::nullopt;
        }
        }
        return std::nullopt;
    };
    if (row)
        return in_row(*row);
    for (std::size_t r = lane.rows.size(); r-- > 0;)
        if (auto hit = in_row({LaneRowKind::wait, r}))
            return hit;
    for (std::size_t r = lane.hold_rows.size(); r-- > 0;)
        if (auto hit = in_row({LaneRowKind::hold, r}))
            return hit;
    for (std::size_t r = lane.copies.size(); r-- > 0;)
        if (auto hit = in_row({LaneRowKind::copy, r}))
            return hit;
    return std::nullopt;
}

} // namespace forklore
