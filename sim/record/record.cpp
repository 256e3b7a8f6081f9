// Writing run records as JSON. Reading them back, with every field checked and the bounds of
// RecordLimits, is record_reader.cpp (the parse) and record_from_json.cpp (the fields).
//
// Index of this file:
// [SECTION] Looking things up in a record
// [SECTION] The parts of a record as JSON
// [SECTION] What a record implies: lost events, measurements, limits
// [SECTION] Events and the verdict as JSON
// [SECTION] The whole record as JSON
#include "sim/record/record.hpp"

#include "sim/protocol/channel.hpp"

#include <fmt/format.h>

namespace forklore {

using nlohmann::json;

//-----------------------------------------------------------------------------
// [SECTION] Looking things up in a record
//-----------------------------------------------------------------------------

const ProcessRecord* RunRecord::find_process(pid_t ns_pid) const {
    for (const auto& process : processes)
        if (process.ns_pid == ns_pid)
            return &process;
    return nullptr;
}

const std::string* RunRecord::source_file(const Event& event) const {
    if (event.file == 0)
        return nullptr;
    auto found = source_files.find(event.file);
    return found == source_files.end() ? nullptr : &found->second;
}

//-----------------------------------------------------------------------------
// [SECTION] The parts of a record as JSON
//-----------------------------------------------------------------------------

json expectation_to_json(const Expectation& e) {
    json j{{"verdict", to_string(e.verdict)}, {"racy", e.racy}, {"describe", e.describe()}};
    if (e.reason)
        j["reason"] = to_string(*e.reason);
    if (e.signal)
        j["signal"] = e.signal;
    if (e.racy) {
        j["runs"] = e.runs;
        j["min_hang_rate"] = e.min_hang_rate;
        j["max_hang_rate"] = e.max_hang_rate;
    }
    j["slow"] = e.is_slow();
    if (e.is_slow())
        j["slow_because"] = e.slow_because;
    return j;
}

namespace {

json edge_to_json(const WaitEdge& edge) {
    json j{{"kind", to_string(edge.kind)},    {"waiter_pid", edge.waiter_pid},
           {"waiter_tid", edge.waiter_tid},   {"waiter_thread", edge.waiter_thread},
           {"address", edge.address},         {"lock_name", edge.lock_name},
           {"object_kind", edge.object_kind}, {"owner_pid", edge.owner_pid},
           {"owner_tid", edge.owner_tid},     {"owner_thread", edge.owner_thread},
           {"orphaned", edge.orphaned},       {"owner_exists", edge.owner_exists},
           {"description", edge.description}};
    if (edge.futex_address)
        j["futex_address"] = edge.futex_address;
    if (edge.waiter_fd >= 0)
        j["waiter_fd"] = edge.waiter_fd;
    if (!edge.holding_fds.empty()) {
        json holders = json::array();
        for (const auto& holder : edge.holding_fds)
            holders.push_back({{"pid", holder.pid}, {"fd", holder.fd}});
        j["holding_fds"] = holders;
    }
    return j;
}

json thread_states_to_json(const std::vector<ThreadState>& threads) {
    json list = json::array();
    for (const auto& t : threads)
        list.push_back(json{{"pid", t.pid}, {"tid", t.tid}, {"name", t.name}, {"wait", t.wait}});
    return list;
}

json thread_snapshot_to_json(const ThreadSnapshot& t) {
    json j{{"tid", t.tid},
           {"ns_tid", t.ns_tid},
           {"name", t.name},
           {"state", std::string(1, t.state)},
           {"wchan", t.wchan},
           {"syscall", t.syscall},
           {"cpu_ticks", t.cpu_ticks},
           {"wait", to_string(t.wait)},
           {"untimed", t.untimed}};
    if (t.futex_address)
        j["futex_address"] = t.futex_address;
    if (t.owner_ns_tid)
        j["owner_ns_tid"] = *t.owner_ns_tid;
    if (t.owner_tid)
        j["owner_tid"] = t.owner_tid;
    if (t.fd >= 0) {
        j["fd"] = t.fd;
        j["fd_target"] = t.fd_target;
        if (!t.fd_peer_target.empty())
            j["fd_peer_target"] = t.fd_peer_target;
    }
    if (t.wait == WaitKind::child)
        j["waited_pid"] = t.waited_pid;
    return j;
}

json snapshot_to_json(const Snapshot& s, std::int64_t start_time_ns) {
    json processes = json::array();
    for (const auto& p : s.processes) {
        json threads = json::array();
        for (const auto& t : p.threads)
            threads.push_back(thread_snapshot_to_json(t));
        processes.push_back({{"pid", p.pid},
                             {"ns_pid", p.ns_pid},
                             {"ppid", p.ppid},
                             {"comm", p.comm},
                             {"state", std::string(1, p.state)},
                             {"infrastructure", p.infrastructure},
                             {"threads", threads}});
        if (!p.exe.empty())
            processes.back()["exe"] = p.exe;
    }
    json locks = json::array();
    for (const auto& l : s.file_locks)
        locks.push_back({{"id", l.id},
                         {"type", l.type},
                         {"write", l.write},
                         {"waiting", l.waiting},
                         {"pid", l.pid},
                         {"inode", l.inode},
                         {"device", l.device}});
    for (std::size_t i = 0; i < s.file_locks.size(); ++i)
        if (s.file_locks[i].fd >= 0)
            locks[i]["fd"] = s.file_locks[i].fd;
    return json{{"t_ns", s.time_ns - start_time_ns},
                {"detailed", s.detailed},
                {"processes", processes},
                {"file_locks", locks}};
}

json process_to_json(const ProcessRecord& p) {
    json threads = json::array();
    for (const auto& [tid, name] : p.threads)
        threads.push_back({{"tid", tid}, {"name", name}});
    json j{{"pid", p.ns_pid},
           {"host_pid", p.pid},
           {"parent_pid", p.parent_ns_pid},
           {"role", p.name}, // the name; its role follows from it (role_from_name)
           {"start_method", p.start_method ? to_string(*p.start_method) : ""},
           {"start_ns", p.start_ns},
           {"end_ns", p.end_ns},
           {"killed_by_runner", p.killed_by_runner},
           {"exit", p.exit_description},
           {"output", p.output},
           {"threads", threads}};
    if (p.wait_status.known())
        j["wait_status"] = p.wait_status.raw();
    if (!p.python_threads.empty()) {
        json named = json::array();
        for (const auto& [tid, name] : p.python_threads)
            named.push_back({{"tid", tid}, {"name", name}});
        j["python_threads"] = std::move(named);
    }
    if (!p.program.empty())
        j["program"] = p.program;
    if (!p.command.empty())
        j["command"] = p.command;
    if (!p.execs.empty()) {
        json execs = json::array();
        for (const auto& e : p.execs)
            execs.push_back({{"t_ns", e.t_ns}, {"program", e.program}, {"command", e.command}});
        j["execs"] = std::move(execs);
    }
    return j;
}

json stack_to_json(const ThreadStack& s) {
    json frames = json::array();
    for (const auto& f : s.frames)
        frames.push_back({{"pc", fmt::format("{:#x}", f.pc)},
                          {"function", f.function},
                          {"module", f.module},
                          {"offset", f.offset}});
    json j{{"pid", s.ns_pid},   {"tid", s.ns_tid},         {"host_pid", s.pid},
           {"host_tid", s.tid}, {"thread", s.thread_name}, {"frames", frames}};
    if (!s.error.empty())
        j["error"] = s.error;
    if (s.python) {
        const PythonStack& p = *s.python;
        json python_frames = json::array();
        for (const auto& f : p.frames)
            python_frames.push_back({{"file", f.file}, {"line", f.line}, {"function", f.function}});
        json python{
            {"name", p.name}, {"ident", fmt::format("{:#x}", p.ident)}, {"frames", python_frames}};
        if (p.without_thread)
            python["without_thread"] = true;
        if (!p.waits_on.empty())
            python["waits_on"] = p.waits_on;
        if (!p.lock_holder.empty()) {
            python["lock_holder"] = p.lock_holder;
            python["lock_holder_here"] = p.lock_holder_here;
        }
        j["python"] = std::move(python);
    }
    if (!s.python_error.empty())
        j["python_error"] = s.python_error;
    return j;
}

} // namespace

json scenario_to_json(const Scenario& s) {
    json knobs = json::array();
    for (const auto& k : s.knobs) {
        static const char* const kTypes[] = {"choice", "flag", "integer"};
        json knob{{"name", k.name},
                  {"type", kTypes[static_cast<int>(k.type)]},
                  {"default", k.default_value},
                  {"help", k.help}};
        if (k.type == KnobType::choice)
            knob["choices"] = k.choices;
        if (k.type == KnobType::integer) {
            knob["min"] = k.min;
            knob["max"] = k.max;
        }
        knobs.push_back(std::move(knob));
    }
    json variants = json::array();
    for (const auto& v : s.variants)
        variants.push_back({{"name", v.name},
                            {"summary", v.summary},
                            {"knobs", v.knobs},
                            {"expected", expectation_to_json(v.expected)}});
    return json{{"id", s.id},
                {"number", s.number},
                {"group", s.group},
                {"title", s.title},
                {"lesson", s.lesson},
                {"hidden", s.hidden},
                {"knobs", knobs},
                {"variants", variants},
                {"children", [&] {
                     json names = json::array();
                     for (const auto& [name, function] : s.children)
                         names.push_back(name);
                     return names;
                 }()}};
}

//-----------------------------------------------------------------------------
// [SECTION] What a record implies: lost events, measurements, limits
//-----------------------------------------------------------------------------

std::string describe_lost_events(const RunRecord& record) {
    std::string text;
    if (record.dropped_events > 0)
        text = fmt::format(
            "{} {} dropped: the event ring was full. The trace ({} events kept) lacks what "
            "happened after it filled; the verdict does not depend on it: a hang is proven from "
            "/proc, and every exit status is kept in a reserve of the ring.",
            record.dropped_events, record.dropped_events == 1 ? "event was" : "events were",
            record.events.size());
    if (record.torn_events > 0)
        text += fmt::format("{}{} {} torn: a process died while writing {}, and {} skipped.",
                            text.empty() ? "" : " ", record.torn_events,
                            record.torn_events == 1 ? "event was" : "events were",
                            record.torn_events == 1 ? "it" : "them",
                            record.torn_events == 1 ? "it was" : "they were");
    return text;
}

std::vector<Measurement> measurements_of(const RunRecord& record) {
    std::vector<Measurement> result;
    for (const auto& e : record.events) {
        if (e.kind != EventKind::measurement)
            continue;
        result.push_back({e.pid, e.tid, std::string(field_text(e.thread)),
                          std::string(field_text(e.name)), measurement_value(e),
                          std::string(field_text(e.text)), e.time_ns - record.start_time_ns});
    }
    return result;
}

std::vector<std::string> limits_not_enforced_by_kernel(const RunRecord& record) {
    std::vector<std::string> lines;
    for (const auto& e : record.enforcement)
        if ((e.limit == "tasks" || e.limit == "memory") && !e.by_kernel)
            lines.push_back(fmt::format("{}: {}", e.limit, e.mechanism));
    return lines;
}

//-----------------------------------------------------------------------------
// [SECTION] Events and the verdict as JSON
//-----------------------------------------------------------------------------

json event_to_json(const Event& e, std::int64_t start_time_ns, const SourceFiles* files) {
    json j{{"seq", e.seq},
           {"t_ns", e.time_ns - start_time_ns},
           {"kind", to_string(e.kind)},
           {"pid", e.pid},
           {"tid", e.tid},
           {"thread", field_text(e.thread)}};
    if (e.object)
        j["object"] = e.object;
    if (e.kind == EventKind::measurement)
        j["value"] = measurement_value(e); // arg0 keeps its bits
    if (e.arg0)
        j["arg0"] = e.arg0;
    if (e.arg1)
        j["arg1"] = e.arg1;
    if (e.name[0])
        j["name"] = field_text(e.name);
    if (e.text[0])
        j["text"] = field_text(e.text);
    if (files && e.file != 0)
        if (auto path = files->find(e.file); path != files->end()) {
            j["file"] = path->second;
            j["line"] = e.line;
        }
    return j;
}

json verdict_to_json(const Verdict& v) {
    json edges = json::array();
    for (const auto& edge : v.wait_for)
        edges.push_back(edge_to_json(edge));
    json j{{"verdict", to_string(v.kind)},
           {"reason", v.reason ? json(to_string(*v.reason)) : json(nullptr)},
           {"explanation", v.explanation},
           {"wait_for", edges},
           {"stuck", thread_states_to_json(v.stuck)},
           {"live", thread_states_to_json(v.live)}};
    if (v.signal)
        j["signal"] = v.signal;
    if (!v.limit.empty())
        j["limit"] = v.limit;
    if (v.exit_code)
        j["exit_code"] = v.exit_code;
    if (v.culprit_pid)
        j["culprit_pid"] = v.culprit_pid;
    json warnings = json::array();
    for (const auto& warning : v.warnings)
        warnings.push_back({{"kind", warning.kind}, {"text", warning.text}, {"pid", warning.pid}});
    j["warnings"] = warnings;
    return j;
}

//-----------------------------------------------------------------------------
// [SECTION] The whole record as JSON
//-----------------------------------------------------------------------------

std::string to_json_text(const json& value) {
    return value.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

json to_json(const RunRecord& r) {
    json j = verdict_to_json(r.verdict); // verdict, reason, explanation at the top level
    j["format"] = "forklore-run";
    j["version"] = r.version;
    j["event_schema"] = r.event_schema;
    j["scenario"] = r.scenario;
    j["variant"] = r.variant;
    j["knobs"] = r.knobs;
    j["expected"] = r.expected ? expectation_to_json(*r.expected) : json(nullptr);
    j["start_time_ns"] = r.start_time_ns;
    j["dropped_events"] = r.dropped_events;
    j["torn_events"] = r.torn_events;
    // Derived, for a reader of the JSON: what those counts mean for the trace and the verdict.
    if (std::string lost = describe_lost_events(r); !lost.empty())
        j["events_lost"] = lost;
    json events = json::array();
    for (const auto& e : r.events)
        events.push_back(event_to_json(e, r.start_time_ns, &r.source_files));
    // Said before the events, so that a reader of a file cut short knows what it lacks.
    j["event_count"] = r.events.size();
    j["events"] = std::move(events);
    json measurements = json::array(); // derived from the events: read back from them
    for (const auto& m : measurements_of(r))
        measurements.push_back({{"pid", m.pid},
                                {"tid", m.tid},
                                {"thread", m.thread},
                                {"name", m.name},
                                {"value", m.value},
                                {"unit", m.unit},
                                {"t_ns", m.t_ns}});
    j["measurements"] = std::move(measurements);
    json snapshots = json::array();
    for (const auto& s : r.snapshots)
        snapshots.push_back(snapshot_to_json(s, r.start_time_ns));
    j["snapshots"] = std::move(snapshots);
    json processes = json::array();
    for (const auto& p : r.processes)
        processes.push_back(process_to_json(p));
    j["processes"] = std::move(processes);
    json stacks = json::array();
    for (const auto& s : r.stacks)
        stacks.push_back(stack_to_json(s));
    j["stacks"] = std::move(stacks);
    j["stdout"] = r.stdout_text;
    j["stderr"] = r.stderr_text;
    j["output_truncated"] = r.output_truncated;
    json left = json::array();
    for (const auto& process : r.left_running)
        left.push_back(json{{"pid", process.pid},
                            {"command", process.command},
                            {"threads", thread_states_to_json(process.threads)}});
    j["left_running"] = left;
    if (r.schedule)
        j["schedule"] = schedule_to_json(*r.schedule);
    j["stdout_bytes"] = r.stdout_bytes;
    j["stderr_bytes"] = r.stderr_bytes;
    j["stdout_dropped"] = r.stdout_dropped;
    j["stderr_dropped"] = r.stderr_dropped;
    j["timings"] = {
        {"setup_ms", r.timings.setup_ms}, {"verdict_ms", r.timings.verdict_ms},
        {"total_ms", r.timings.total_ms}, {"quiet_window_ms", r.timings.quiet_window_ms},
        {"samples", r.timings.samples},   {"sample_mean_us", r.timings.sample_mean_us}};
    j["sandbox"] = r.sandbox;
    j["limits"] = {
        {"cpu_seconds", r.limits.cpu_seconds},     {"address_space", r.limits.address_space},
        {"max_tasks", r.limits.max_tasks},         {"max_memory", r.limits.max_memory},
        {"max_file_size", r.limits.max_file_size}, {"max_output", r.limits.max_output},
        {"output_keep", r.limits.output_keep}};
    json enforcement = json::array();
    for (const auto& e : r.enforcement)
        enforcement.push_back({{"limit", e.limit},
                               {"value", e.value},
                               {"mechanism", e.mechanism},
                               {"by_kernel", e.by_kernel}});
    j["enforcement"] = std::move(enforcement);
    j["cgroups"] = r.cgroups;
    j["cgroup_counters"] = {{"tasks_refused", r.cgroup_counters.tasks_refused},
                            {"tasks", r.cgroup_counters.tasks},
                            {"peak_tasks", r.peak_tasks},
                            {"oom_kills", r.cgroup_counters.oom_kills},
                            {"memory_peak", r.cgroup_counters.memory_peak},
                            {"cpu_ns", r.cgroup_counters.cpu_ns}};
    j["host"] = r.host;
    return j;
}

} // namespace forklore
