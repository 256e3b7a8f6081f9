// Passes four and five of the timeline's model: which stretches of a hold had waiters (yellow),
// and the rows a lane's bars are stacked in.
#include "sim/timeline/timeline_passes.hpp"

#include <algorithm>
#include <functional>
#include <queue>

namespace forklore {

namespace {

// Rows: overlapping bars of one thread (a wait while holding, nested holds) are stacked; each bar
// takes the lowest free row. Bars sorted by start, longer first, so an outer hold stays above the
// holds nested in it.
std::vector<std::size_t> assign_rows(std::vector<LogicalBar>& bars, std::size_t& row_count) {
    std::sort(bars.begin(), bars.end(), [](const LogicalBar& a, const LogicalBar& b) {
        if (a.bar.start_ns != b.bar.start_ns)
            return a.bar.start_ns < b.bar.start_ns;
        return a.bar.end_ns > b.bar.end_ns;
    });
    using Busy = std::pair<std::int64_t, std::size_t>; // end, row
    std::priority_queue<Busy, std::vector<Busy>, std::greater<>> busy;
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> free_rows;
    std::vector<std::size_t> rows(bars.size());
    row_count = 0;
    for (std::size_t i = 0; i < bars.size(); ++i) {
        while (!busy.empty() && busy.top().first <= bars[i].bar.start_ns) {
            free_rows.push(busy.top().second);
            busy.pop();
        }
        std::size_t row;
        if (!free_rows.empty()) {
            row = free_rows.top();
            free_rows.pop();
        } else {
            row = row_count++;
        }
        rows[i] = row;
        busy.emplace(bars[i].bar.end_ns, row);
    }
    return rows;
}

// Cuts a hold into green and yellow segments: yellow where `waiting` (the union of the waits on
// its lock by other threads) overlaps it.
void split_hold(const TimelineBar& hold, const Spans* waiting, std::vector<TimelineBar>& out) {
    if (!waiting || hold.end_ns <= hold.start_ns) {
        out.push_back(hold);
        return;
    }
    auto it = std::lower_bound(waiting->begin(), waiting->end(), hold.start_ns,
                               [](const auto& span, std::int64_t t) { return span.second <= t; });
    std::int64_t cursor = hold.start_ns;
    auto piece = [&](std::int64_t from, std::int64_t to, BarKind kind) {
        if (to <= from)
            return;
        TimelineBar segment = hold;
        segment.start_ns = from;
        segment.end_ns = to;
        segment.kind = kind;
        out.push_back(segment);
    };
    for (; it != waiting->end() && it->first < hold.end_ns; ++it) {
        const std::int64_t from = std::max(cursor, it->first);
        const std::int64_t to = std::min(hold.end_ns, it->second);
        piece(cursor, from, BarKind::held);
        piece(from, to, BarKind::held_with_waiters);
        cursor = std::max(cursor, to);
    }
    piece(cursor, hold.end_ns, BarKind::held);
}

// Bars of a row never overlap; sorted by start, their ends increase too.
void sort_rows(std::vector<TimelineRow>& rows) {
    for (auto& row : rows) {
        std::stable_sort(
            row.bars.begin(), row.bars.end(),
            [](const TimelineBar& a, const TimelineBar& b) { return a.start_ns < b.start_ns; });
        row.sum_times();
    }
}

} // namespace

WaitedSpans waited_spans(const std::vector<LaneWork>& work) {
    WaitedSpans waited;
    for (const auto& lane : work)
        for (const auto& bar : lane.bars)
            if (bar.bar.kind == BarKind::waiting && bar.counts_as_waiter)
                waited[bar.lock].emplace_back(bar.bar.start_ns, bar.bar.end_ns);
    for (auto& [lock, spans] : waited) {
        std::sort(spans.begin(), spans.end());
        Spans merged;
        for (const auto& span : spans) {
            if (!merged.empty() && span.first <= merged.back().second)
                merged.back().second = std::max(merged.back().second, span.second);
            else
                merged.push_back(span);
        }
        spans = std::move(merged);
    }
    return waited;
}

void stack_rows(TimelineModel& model, std::vector<LaneWork>& work, const WaitedSpans& waited) {
    for (std::size_t lane = 0; lane < work.size(); ++lane) {
        std::vector<LogicalBar> waits, holds;
        for (auto& bar : work[lane].bars)
            (bar.bar.kind == BarKind::waiting ? waits : holds).push_back(std::move(bar));
        std::size_t row_count = 0;
        const std::vector<std::size_t> wait_rows = assign_rows(waits, row_count);
        auto& out = model.lanes[lane].rows;
        out.assign(std::max<std::size_t>(row_count, 1), TimelineRow{});
        for (std::size_t i = 0; i < waits.size(); ++i) {
            ++model.waits;
            out[wait_rows[i]].bars.push_back(waits[i].bar);
        }
        const std::vector<std::size_t> hold_rows = assign_rows(holds, row_count);
        auto& bands = model.lanes[lane].hold_rows;
        bands.assign(row_count, TimelineRow{});
        for (std::size_t i = 0; i < holds.size(); ++i) {
            auto found = waited.find(holds[i].lock);
            split_hold(holds[i].bar, found == waited.end() ? nullptr : &found->second,
                       bands[hold_rows[i]].bars);
        }
        sort_rows(out);
        sort_rows(bands);
        std::stable_sort(
            model.lanes[lane].markers.begin(), model.lanes[lane].markers.end(),
            [](const TimelineMarker& a, const TimelineMarker& b) { return a.t_ns < b.t_ns; });
    }
}

} // namespace forklore
