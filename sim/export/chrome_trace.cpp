// A run record in the Chrome trace event format (chrome_trace.hpp).
//
// Index of this file:
// [SECTION] Slices that must nest
// [SECTION] Metadata, spans, flows and instants
// [SECTION] The trace
#include "sim/export/chrome_trace.hpp"

#include "sim/export/export.hpp"
#include "sim/export/thread_spans.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <tuple>

namespace forklore {

namespace {

using nlohmann::json;

// The format's times are microseconds; the record's nanoseconds keep their precision as decimals.
double microseconds(std::int64_t ns) {
    return static_cast<double>(ns) / 1000.0;
}

// How long the slice a flow binds to lasts when nothing around it is shorter.
constexpr std::int64_t kFlowAnchorNs = 1000;

// [SECTION] Slices that must nest ------------------------------------------------------------

// A complete slice of one thread, before its nesting is checked.
struct Slice {
    std::int64_t start_ns = 0, end_ns = 0;
    json event; // name, cat, args; ph, ts, dur, pid and tid are added when it is written
    // A flow's anchor: it may end earlier to fit inside the slice around it, and `flow` (the
    // "s" or "f" event) is written right after it, at the same time.
    bool anchor = false;
    json flow;
};

// Writes one thread's slices: X slices where they nest, async b/e pairs of the process where one
// would cross the end of the slice around it.
class ThreadWriter {
  public:
    ThreadWriter(json& events, std::uint64_t& next_async_id, pid_t pid, pid_t tid)
        : events_(events), next_async_id_(next_async_id), pid_(pid), tid_(tid) {}

    void write(std::vector<Slice> slices) {
        // Parents first: earlier start, then longer; an anchor goes inside whatever starts with it.
        std::stable_sort(slices.begin(), slices.end(), [](const Slice& a, const Slice& b) {
            return std::tuple(a.start_ns, a.anchor, -a.end_ns) <
                   std::tuple(b.start_ns, b.anchor, -b.end_ns);
        });
        std::vector<std::int64_t> open_ends; // the ends of the slices around the next one
        for (Slice& slice : slices) {
            while (!open_ends.empty() && open_ends.back() <= slice.start_ns)
                open_ends.pop_back();
            if (!open_ends.empty() && slice.end_ns > open_ends.back()) {
                if (!slice.anchor) {
                    write_async(slice);
                    continue;
                }
                slice.end_ns = open_ends.back(); // later than its start: that one was popped
            }
            open_ends.push_back(slice.end_ns);
            write_complete(slice);
        }
    }

  private:
    void write_complete(Slice& slice) {
        json event = std::move(slice.event);
        event["ph"] = "X";
        event["ts"] = microseconds(slice.start_ns);
        event["dur"] = microseconds(slice.end_ns - slice.start_ns);
        event["pid"] = pid_;
        event["tid"] = tid_;
        events_.push_back(std::move(event));
        if (!slice.flow.is_null()) {
            slice.flow["ts"] = microseconds(slice.start_ns);
            slice.flow["pid"] = pid_;
            slice.flow["tid"] = tid_;
            events_.push_back(std::move(slice.flow));
        }
    }

    void write_async(Slice& slice) {
        const std::uint64_t id = next_async_id_++;
        json begin = slice.event;
        begin["ph"] = "b";
        begin["id"] = id;
        begin["ts"] = microseconds(slice.start_ns);
        begin["pid"] = pid_;
        begin["tid"] = tid_;
        json end{{"ph", "e"},  {"name", slice.event["name"]},      {"cat", slice.event["cat"]},
                 {"id", id},   {"ts", microseconds(slice.end_ns)}, {"pid", pid_},
                 {"tid", tid_}};
        events_.push_back(std::move(begin));
        events_.push_back(std::move(end));
    }

    json& events_;
    std::uint64_t& next_async_id_;
    pid_t pid_, tid_;
};

// [SECTION] Metadata, spans, flows and instants --------------------------------------------------

json metadata(std::string_view name, pid_t pid, pid_t tid, json args) {
    return json{{"ph", "M"},  {"name", name}, {"pid", pid},
                {"tid", tid}, {"ts", 0},      {"args", std::move(args)}};
}

void add_metadata(json& events, const TimelineModel& model) {
    for (std::size_t g = 0; g < model.groups.size(); ++g) {
        const TimelineGroup& group = model.groups[g];
        // tid: the process's first thread, which exists (a viewer makes a thread of any tid).
        events.push_back(
            metadata("process_name", group.pid, group.pid, {{"name", process_label(group)}}));
        events.push_back(metadata("process_sort_index", group.pid, group.pid, {{"sort_index", g}}));
        std::string labels = group.start_method.empty()
                                 ? std::string()
                                 : fmt::format("{} of {}", group.start_method, group.parent_pid);
        if (!group.exit_description.empty())
            labels += (labels.empty() ? "" : ", ") + group.exit_description;
        if (!labels.empty())
            events.push_back(
                metadata("process_labels", group.pid, group.pid, {{"labels", labels}}));
    }
    for (std::size_t l = 0; l < model.lanes.size(); ++l) {
        const TimelineLane& lane = model.lanes[l];
        std::string name = lane.name.empty() ? fmt::format("thread {}", lane.tid) : lane.name;
        if (lane.verdict == LaneVerdict::stuck)
            name += " [STUCK]";
        events.push_back(metadata("thread_name", lane.pid, lane.tid, {{"name", name}}));
        events.push_back(metadata("thread_sort_index", lane.pid, lane.tid, {{"sort_index", l}}));
    }
}

std::string_view category(const ThreadSpan& span) {
    switch (span.kind) {
    case SpanKind::hold:
    case SpanKind::copy:
        return "lock";
    case SpanKind::wait:
        return span.what == BarSubject::lock || span.what == BarSubject::file_lock ? "lock"
                                                                                   : "wait";
    case SpanKind::sampled:
        return "sampled";
    }
    return "wait";
}

Slice span_slice(const RunRecord& record, const ThreadSpan& span) {
    json args{{"object", span.object}, {"detail", span.detail}};
    if (const std::string where = source_location(record, span.begin_event); !where.empty())
        args[span.kind == SpanKind::copy ? "forked_at" : "source"] = where;
    if (const std::string where = source_location(record, span.end_event); !where.empty())
        args["ended_at"] = where;
    if (span.open)
        args["never_ended"] = true;
    if (span.kind == SpanKind::hold)
        args["had_waiters"] = span.had_waiters;
    if (span.kind == SpanKind::copy)
        args["orphaned"] = span.orphaned;
    Slice slice;
    slice.start_ns = span.start_ns;
    slice.end_ns = std::max(span.start_ns, span.end_ns);
    slice.event = json{{"name", span.name}, {"cat", category(span)}, {"args", std::move(args)}};
    return slice;
}

// The slices of every flow: a fork, spawn or exec is an arrow of the model, from the thread
// that made it to the first thread of what it made.
void add_flows(std::vector<std::vector<Slice>>& lane_slices, const TimelineModel& model,
               const RunRecord& record) {
    std::uint64_t id = 0;
    for (const TimelineArrow& arrow : model.arrows) {
        if (arrow.kind == ArrowKind::exit || arrow.from_lane >= model.lanes.size() ||
            arrow.to_lane >= model.lanes.size())
            continue;
        ++id;
        const TimelineLane& from = model.lanes[arrow.from_lane];
        const TimelineLane& to = model.lanes[arrow.to_lane];
        const bool start = arrow.kind == ArrowKind::start;
        const std::string flow_name = start ? arrow.label : "exec";
        json args{{"child_pid", to.pid}};
        if (const std::string where = source_location(record, arrow.event); !where.empty())
            args["source"] = where;
        if (!arrow.copies.empty())
            args["copies"] = copies_label(arrow);
        Slice out;
        out.anchor = true;
        out.start_ns = arrow.from_ns;
        out.end_ns = arrow.from_ns + kFlowAnchorNs;
        out.event = json{
            {"name", start ? fmt::format("{} (process {})", arrow.label, to.pid) : arrow.label},
            {"cat", "process"},
            {"args", args}};
        out.flow = json{{"ph", "s"}, {"name", flow_name}, {"cat", "process"}, {"id", id}};
        lane_slices[arrow.from_lane].push_back(std::move(out));

        Slice in;
        in.anchor = true;
        in.start_ns = arrow.to_ns;
        in.end_ns = arrow.to_ns + kFlowAnchorNs;
        in.event = json{
            {"name", start ? fmt::format("started by {} (from process {})", arrow.label, from.pid)
                           : "program replaced by exec"},
            {"cat", "process"},
            {"args", std::move(args)}};
        in.flow =
            json{{"ph", "f"}, {"bp", "e"}, {"name", flow_name}, {"cat", "process"}, {"id", id}};
        lane_slices[arrow.to_lane].push_back(std::move(in));
    }
}

json instant(std::string name, std::string_view cat, std::string_view scope, std::int64_t t_ns,
             pid_t pid, pid_t tid, json args) {
    return json{{"ph", "i"},  {"name", std::move(name)},  {"cat", cat},
                {"s", scope}, {"ts", microseconds(t_ns)}, {"pid", pid},
                {"tid", tid}, {"args", std::move(args)}};
}

void add_instants(json& events, const TimelineModel& model, const RunRecord& record) {
    const Verdict& verdict = record.verdict;
    const auto verdict_ns =
        std::max<std::int64_t>(0, static_cast<std::int64_t>(record.timings.verdict_ms * 1e6));
    for (const TimelineLane& lane : model.lanes) {
        for (const TimelineMarker& marker : lane.markers)
            if (marker.kind == MarkerKind::note && marker.event < record.events.size())
                events.push_back(
                    instant("note: " + std::string(field_text(record.events[marker.event].text)),
                            "note", "t", marker.t_ns, lane.pid, lane.tid,
                            {{"source", source_location(record, marker.event)}}));
        if (lane.verdict != LaneVerdict::stuck)
            continue;
        json waits = json::array();
        for (const WaitEdge& edge : verdict.wait_for)
            if (edge.waiter_pid == lane.pid && edge.waiter_tid == lane.tid)
                waits.push_back(edge.description);
        events.push_back(instant("stuck: can never run again", "verdict", "t",
                                 lane.stuck_from_ns.value_or(verdict_ns), lane.pid, lane.tid,
                                 {{"doing", lane.doing}, {"wait_for", std::move(waits)}}));
    }
    for (const TimelineGroup& group : model.groups)
        if (!group.exit_description.empty() && group.lane_count > 0)
            events.push_back(instant("exit: " + group.exit_description, "process", "t",
                                     group.end_ns, group.pid, model.lanes[group.first_lane].tid,
                                     json::object()));

    json args{{"explanation", verdict.explanation}};
    if (record.expected)
        args["expected"] = record.expected->describe();
    json wait_for = json::array(), stuck = json::array(), warnings = json::array();
    for (const WaitEdge& edge : verdict.wait_for)
        wait_for.push_back(edge.description);
    for (const ThreadState& thread : verdict.stuck)
        stuck.push_back(fmt::format("process {} thread '{}' (tid {}): {}", thread.pid, thread.name,
                                    thread.tid, thread.wait));
    for (const VerdictWarning& warning : verdict.warnings)
        warnings.push_back(fmt::format("{}: {}", warning.kind, warning.text));
    if (!wait_for.empty())
        args["wait_for"] = std::move(wait_for);
    if (!stuck.empty())
        args["stuck"] = std::move(stuck);
    if (!warnings.empty())
        args["warnings"] = std::move(warnings);
    // A global instant still names a process: the first one (a record with none has its verdict
    // in otherData only).
    if (!model.groups.empty() && model.groups.front().lane_count > 0)
        events.push_back(instant("verdict: " + verdict_label(verdict), "verdict", "g", verdict_ns,
                                 model.groups.front().pid,
                                 model.lanes[model.groups.front().first_lane].tid,
                                 std::move(args)));
}

} // namespace

// [SECTION] The trace ----------------------------------------------------------------------------

json chrome_trace(const RunRecord& record) {
    const TimelineModel model = export_timeline(record);
    json events = json::array();
    add_metadata(events, model);

    std::vector<std::vector<Slice>> lane_slices(model.lanes.size());
    for (std::size_t l = 0; l < model.lanes.size(); ++l)
        for (const ThreadSpan& span : thread_spans(model, record, model.lanes[l]))
            lane_slices[l].push_back(span_slice(record, span));
    add_flows(lane_slices, model, record);
    std::uint64_t next_async_id = 1;
    for (std::size_t l = 0; l < model.lanes.size(); ++l)
        ThreadWriter(events, next_async_id, model.lanes[l].pid, model.lanes[l].tid)
            .write(std::move(lane_slices[l]));
    add_instants(events, model, record);

    json other{{"scenario", record.scenario},
               {"variant", record.variant},
               {"verdict", verdict_label(record.verdict)},
               {"explanation", record.verdict.explanation},
               {"record_version", record.version},
               {"event_schema", record.event_schema},
               {"host", record.host},
               {"exported_by", "forklore export"}};
    return json{{"traceEvents", std::move(events)},
                {"displayTimeUnit", "ms"},
                {"otherData", std::move(other)}};
}

std::string chrome_trace_text(const RunRecord& record) {
    return to_json_text(chrome_trace(record));
}

} // namespace forklore
