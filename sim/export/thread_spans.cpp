// What the exports say of each thread (thread_spans.hpp).
#include "sim/export/thread_spans.hpp"

#include "sim/timeline/infrastructure.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

namespace forklore {

TimelineModel export_timeline(const RunRecord& record) {
    return without_infrastructure(build_timeline_model(record));
}

std::string process_label(const TimelineGroup& group) {
    const std::string_view role = to_string(group.role);
    if (group.name.empty() || group.name == role)
        return fmt::format("process {} ({})", group.pid, role);
    return fmt::format("process {} ({} '{}')", group.pid, role, group.name);
}

std::string lane_thread_label(const TimelineLane& lane) {
    if (lane.name.empty())
        return fmt::format("thread (tid {})", lane.tid);
    return fmt::format("thread {} (tid {})", lane.name, lane.tid);
}

std::string lane_label(const TimelineModel& model, const TimelineLane& lane) {
    const std::string thread = lane_thread_label(lane);
    if (lane.group >= model.groups.size())
        return thread;
    return process_label(model.groups[lane.group]) + " \u00b7 " + thread;
}

std::string source_location(const RunRecord& record, std::size_t event) {
    if (event >= record.events.size())
        return "";
    const Event& e = record.events[event];
    const std::string* file = record.source_file(e);
    if (!file)
        return "";
    return e.line > 0 ? fmt::format("{}:{}", *file, e.line) : *file;
}

std::string bar_object(const TimelineModel& model, const RunRecord& record,
                       const TimelineBar& bar) {
    if (bar.from_samples())
        return bar.sampled < model.sampled_spans.size() ? model.sampled_spans[bar.sampled].what
                                                        : std::string();
    if (bar.begin_event >= record.events.size())
        return "?";
    const Event& e = record.events[bar.begin_event];
    if (const std::string_view name = field_text(e.name); !name.empty())
        return std::string(name);
    switch (bar.what) {
    case BarSubject::file_lock:
        return fmt::format("inode {}", e.arg1);
    case BarSubject::join:
        return fmt::format("tid {}", e.object);
    case BarSubject::child:
        return fmt::format("process {}", e.object);
    default:
        return fmt::format("{:#x}", e.object);
    }
}

namespace {

std::string wait_name(BarSubject what, const std::string& object) {
    switch (what) {
    case BarSubject::lock:
    case BarSubject::file_lock:
        return "waits for " + object;
    case BarSubject::condition:
        return "waits on condition " + object;
    case BarSubject::join:
        return "joins thread " + object;
    case BarSubject::child:
        return "waits for child " + object;
    case BarSubject::barrier:
        return "waits at barrier " + object;
    case BarSubject::sampled:
        break;
    }
    return "blocked in " + object;
}

std::string sampled_name(BarKind kind, const std::string& object) {
    switch (kind) {
    case BarKind::running:
        return "running";
    case BarKind::sleeping:
        return "sleeps in " + object;
    default:
        return "blocked in " + object;
    }
}

} // namespace

std::string bar_name(const TimelineModel& model, const RunRecord& record, const TimelineBar& bar) {
    const std::string object = bar_object(model, record, bar);
    if (bar.from_samples())
        return sampled_name(bar.kind, object);
    if (bar.kind == BarKind::held || bar.kind == BarKind::held_with_waiters)
        return "holds " + object;
    return wait_name(bar.what, object);
}

namespace {

// Spans [first, end) in time order.
void sort_by_start(std::vector<ThreadSpan>& spans, std::size_t first) {
    std::stable_sort(
        spans.begin() + static_cast<std::ptrdiff_t>(first), spans.end(),
        [](const ThreadSpan& a, const ThreadSpan& b) { return a.start_ns < b.start_ns; });
}

// One bar of the timeline model as a span of `kind`: holds and waits are read the same way.
ThreadSpan span_of_bar(const TimelineModel& model, const RunRecord& record, const TimelineBar& bar,
                       SpanKind kind) {
    ThreadSpan span;
    span.kind = kind;
    span.what = bar.what;
    span.bar = bar.kind;
    span.start_ns = bar.start_ns;
    span.end_ns = bar.end_ns;
    span.open = bar.open();
    span.object = bar_object(model, record, bar);
    span.name = bar_name(model, record, bar);
    span.detail = describe_bar(model, record, bar);
    span.begin_event = bar.begin_event;
    span.end_event = bar.end_event;
    return span;
}

} // namespace

std::vector<ThreadSpan> thread_spans(const TimelineModel& model, const RunRecord& record,
                                     const TimelineLane& lane) {
    std::vector<ThreadSpan> spans;
    // Holds: the model cut a hold into green and yellow segments (its waiters came and went);
    // every segment keeps the hold's acquisition, which makes them one span again.
    std::unordered_map<std::size_t, std::size_t> hold_of_event;
    for (const TimelineRow& row : lane.hold_rows)
        for (const TimelineBar& bar : row.bars) {
            auto [known, added] = hold_of_event.emplace(bar.begin_event, spans.size());
            if (added || bar.begin_event == kNoTimelineEvent) {
                known->second = spans.size();
                spans.push_back(span_of_bar(model, record, bar, SpanKind::hold));
            }
            ThreadSpan& span = spans[known->second];
            span.start_ns = std::min(span.start_ns, bar.start_ns);
            if (bar.end_ns >= span.end_ns) {
                span.end_ns = bar.end_ns;
                span.open = bar.open();
                span.end_event = bar.end_event;
            }
            span.had_waiters = span.had_waiters || bar.kind == BarKind::held_with_waiters;
        }
    sort_by_start(spans, 0);

    const std::size_t first_copy = spans.size();
    for (const CopyBand& band : lane.copies) {
        ThreadSpan span;
        span.kind = SpanKind::copy;
        span.start_ns = band.start_ns;
        span.end_ns = band.end_ns;
        span.open = band.end_event == kNoTimelineEvent;
        span.orphaned = band.lock.orphaned;
        span.object =
            band.lock.name.empty() ? fmt::format("{:#x}", band.lock.address) : band.lock.name;
        span.name = "holds copy of " + span.object;
        span.detail = describe_copy(model, record, band);
        span.begin_event = band.fork_event;
        span.end_event = band.end_event;
        spans.push_back(std::move(span));
    }
    sort_by_start(spans, first_copy);

    const std::size_t first_wait = spans.size();
    for (const TimelineRow& row : lane.rows)
        for (const TimelineBar& bar : row.bars) {
            spans.push_back(span_of_bar(model, record, bar,
                                        bar.from_samples() ? SpanKind::sampled : SpanKind::wait));
        }
    sort_by_start(spans, first_wait);
    return spans;
}

} // namespace forklore
