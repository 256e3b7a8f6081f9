#include "sim/record.hpp"

#include "sim/channel.hpp"

#include <fmt/format.h>

#include <cstring>

#include <stdexcept>

namespace forklore {

using nlohmann::json;

const ProcessRecord* RunRecord::find_process(pid_t ns_pid) const {
    for (const auto& process : processes)
        if (process.ns_pid == ns_pid) return &process;
    return nullptr;
}

namespace {

template <typename Enum, std::size_t N>
Enum enum_from(const std::array<std::string_view, N>& names, const std::string& text,
               const char* what) {
    for (std::size_t i = 0; i < N; ++i)
        if (names[i] == text) return static_cast<Enum>(i);
    throw std::runtime_error(fmt::format("run record: unknown {} '{}'", what, text));
}

} // namespace

json expectation_to_json(const Expectation& e) {
    json j{{"verdict", to_string(e.verdict)}, {"racy", e.racy}, {"describe", e.describe()}};
    if (e.reason) j["reason"] = to_string(*e.reason);
    if (e.signal) j["signal"] = e.signal;
    if (e.racy) {
        j["runs"] = e.runs;
        j["min_hang_rate"] = e.min_hang_rate;
        j["max_hang_rate"] = e.max_hang_rate;
    }
    return j;
}

namespace {

Expectation expectation_from_json(const json& j) {
    Expectation e;
    e.verdict = enum_from<VerdictKind>(kVerdictNames, j.at("verdict").get<std::string>(), "verdict");
    if (j.contains("reason"))
        e.reason = enum_from<DeadlockReason>(kDeadlockReasonNames,
                                             j.at("reason").get<std::string>(), "reason");
    e.signal = j.value("signal", 0);
    e.racy = j.value("racy", false);
    e.runs = j.value("runs", 1);
    e.min_hang_rate = j.value("min_hang_rate", 0.0);
    e.max_hang_rate = j.value("max_hang_rate", 1.0);
    return e;
}

json edge_to_json(const WaitEdge& edge) {
    return json{{"kind", to_string(edge.kind)},
                {"waiter_pid", edge.waiter_pid},
                {"waiter_tid", edge.waiter_tid},
                {"waiter_thread", edge.waiter_thread},
                {"address", edge.address},
                {"lock_name", edge.lock_name},
                {"object_kind", edge.object_kind},
                {"owner_pid", edge.owner_pid},
                {"owner_tid", edge.owner_tid},
                {"owner_thread", edge.owner_thread},
                {"orphaned", edge.orphaned},
                {"owner_exists", edge.owner_exists},
                {"description", edge.description}};
}

WaitEdge edge_from_json(const json& j) {
    WaitEdge edge;
    const std::string kind = j.at("kind").get<std::string>();
    for (auto k : {WaitEdge::Kind::lock, WaitEdge::Kind::file_lock, WaitEdge::Kind::child,
                   WaitEdge::Kind::pipe, WaitEdge::Kind::unknown, WaitEdge::Kind::signal})
        if (to_string(k) == kind) edge.kind = k;
    edge.waiter_pid = j.value("waiter_pid", 0);
    edge.waiter_tid = j.value("waiter_tid", 0);
    edge.waiter_thread = j.value("waiter_thread", "");
    edge.address = j.value("address", std::uint64_t{0});
    edge.lock_name = j.value("lock_name", "");
    edge.object_kind = j.value("object_kind", "");
    edge.owner_pid = j.value("owner_pid", 0);
    edge.owner_tid = j.value("owner_tid", 0);
    edge.owner_thread = j.value("owner_thread", "");
    edge.orphaned = j.value("orphaned", false);
    edge.owner_exists = j.value("owner_exists", false);
    edge.description = j.value("description", "");
    return edge;
}

json thread_states_to_json(const std::vector<ThreadState>& threads) {
    json list = json::array();
    for (const auto& t : threads)
        list.push_back(json{{"pid", t.pid}, {"tid", t.tid}, {"name", t.name}, {"wait", t.wait}});
    return list;
}

std::vector<ThreadState> thread_states_from_json(const json& list) {
    std::vector<ThreadState> threads;
    for (const auto& t : list)
        threads.push_back({t.value("pid", 0), t.value("tid", 0), t.value("name", ""),
                           t.value("wait", "")});
    return threads;
}

Verdict verdict_from_json(const json& j) {
    Verdict v;
    v.kind = enum_from<VerdictKind>(kVerdictNames, j.at("verdict").get<std::string>(), "verdict");
    if (j.contains("reason") && !j.at("reason").is_null())
        v.reason = enum_from<DeadlockReason>(kDeadlockReasonNames,
                                             j.at("reason").get<std::string>(), "reason");
    v.explanation = j.value("explanation", "");
    v.signal = j.value("signal", 0);
    v.limit = j.value("limit", "");
    v.exit_code = j.value("exit_code", 0);
    v.culprit_pid = j.value("culprit_pid", 0);
    for (const auto& edge : j.value("wait_for", json::array())) v.wait_for.push_back(edge_from_json(edge));
    v.stuck = thread_states_from_json(j.value("stuck", json::array()));
    v.live = thread_states_from_json(j.value("live", json::array()));
    return v;
}

Event event_from_json(const json& j, std::int64_t start_time_ns) {
    Event e{};
    e.committed = 1;
    e.kind = enum_from<EventKind>(kEventKindNames, j.at("kind").get<std::string>(), "event kind");
    e.seq = j.value("seq", std::uint64_t{0});
    e.time_ns = start_time_ns + j.value("t_ns", std::int64_t{0});
    e.pid = j.value("pid", 0);
    e.tid = j.value("tid", 0);
    e.object = j.value("object", std::uint64_t{0});
    e.arg0 = j.value("arg0", std::int64_t{0});
    e.arg1 = j.value("arg1", std::int64_t{0});
    copy_name(e.thread, j.value("thread", "").c_str());
    copy_name(e.name, j.value("name", "").c_str());
    copy_name(e.text, j.value("text", "").c_str());
    return e;
}

json thread_snapshot_to_json(const ThreadSnapshot& t) {
    json j{{"tid", t.tid},        {"ns_tid", t.ns_tid},   {"name", t.name},
           {"state", std::string(1, t.state)}, {"wchan", t.wchan}, {"syscall", t.syscall},
           {"cpu_ticks", t.cpu_ticks}, {"wait", to_string(t.wait)}, {"untimed", t.untimed}};
    if (t.futex_address) j["futex_address"] = t.futex_address;
    if (t.owner_ns_tid) j["owner_ns_tid"] = *t.owner_ns_tid;
    if (t.owner_tid) j["owner_tid"] = t.owner_tid;
    if (t.fd >= 0) {
        j["fd"] = t.fd;
        j["fd_target"] = t.fd_target;
        if (!t.fd_peer_target.empty()) j["fd_peer_target"] = t.fd_peer_target;
    }
    if (t.wait == WaitKind::child) j["waited_pid"] = t.waited_pid;
    return j;
}

char state_from(const std::string& text) {
    if (text.size() != 1) throw std::runtime_error(fmt::format("run record: bad state '{}'", text));
    return text.front();
}

ThreadSnapshot thread_snapshot_from_json(const json& j) {
    ThreadSnapshot t;
    t.tid = j.value("tid", 0);
    t.ns_tid = j.value("ns_tid", 0);
    t.name = j.value("name", "");
    t.state = state_from(j.value("state", std::string("?")));
    t.wchan = j.value("wchan", "");
    t.syscall = j.value("syscall", -1L);
    t.cpu_ticks = j.value("cpu_ticks", std::uint64_t{0});
    t.wait = enum_from<WaitKind>(kWaitKindNames, j.value("wait", std::string("running")), "wait");
    t.untimed = j.value("untimed", false);
    t.futex_address = j.value("futex_address", std::uint64_t{0});
    if (j.contains("owner_ns_tid")) t.owner_ns_tid = j.at("owner_ns_tid").get<pid_t>();
    t.owner_tid = j.value("owner_tid", 0);
    t.fd = j.value("fd", -1);
    t.fd_target = j.value("fd_target", "");
    t.fd_peer_target = j.value("fd_peer_target", "");
    t.waited_pid = j.value("waited_pid", 0);
    return t;
}

json snapshot_to_json(const Snapshot& s, std::int64_t start_time_ns) {
    json processes = json::array();
    for (const auto& p : s.processes) {
        json threads = json::array();
        for (const auto& t : p.threads) threads.push_back(thread_snapshot_to_json(t));
        processes.push_back({{"pid", p.pid},
                             {"ns_pid", p.ns_pid},
                             {"ppid", p.ppid},
                             {"comm", p.comm},
                             {"state", std::string(1, p.state)},
                             {"infrastructure", p.infrastructure},
                             {"threads", threads}});
        if (!p.exe.empty()) processes.back()["exe"] = p.exe;
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
    return json{{"t_ns", s.time_ns - start_time_ns},
                {"detailed", s.detailed},
                {"processes", processes},
                {"file_locks", locks}};
}

Snapshot snapshot_from_json(const json& j, std::int64_t start_time_ns) {
    Snapshot s;
    s.time_ns = start_time_ns + j.value("t_ns", std::int64_t{0});
    s.detailed = j.value("detailed", false);
    for (const auto& pj : j.value("processes", json::array())) {
        ProcessSnapshot p;
        p.pid = pj.value("pid", 0);
        p.ns_pid = pj.value("ns_pid", 0);
        p.ppid = pj.value("ppid", 0);
        p.comm = pj.value("comm", "");
        p.state = state_from(pj.value("state", std::string("?")));
        p.infrastructure = pj.value("infrastructure", false);
        p.exe = pj.value("exe", "");
        for (const auto& tj : pj.value("threads", json::array()))
            p.threads.push_back(thread_snapshot_from_json(tj));
        s.processes.push_back(std::move(p));
    }
    for (const auto& lj : j.value("file_locks", json::array())) {
        FileLockEntry l;
        l.id = lj.value("id", 0);
        l.type = lj.value("type", "");
        l.write = lj.value("write", false);
        l.waiting = lj.value("waiting", false);
        l.pid = lj.value("pid", 0);
        l.inode = lj.value("inode", std::uint64_t{0});
        l.device = lj.value("device", "");
        s.file_locks.push_back(l);
    }
    return s;
}

json process_to_json(const ProcessRecord& p) {
    json threads = json::array();
    for (const auto& [tid, name] : p.threads) threads.push_back({{"tid", tid}, {"name", name}});
    json j{{"pid", p.ns_pid},
           {"host_pid", p.pid},
           {"parent_pid", p.parent_ns_pid},
           {"role", p.role},
           {"start_method", p.start_method},
           {"start_ns", p.start_ns},
           {"end_ns", p.end_ns},
           {"killed_by_runner", p.killed_by_runner},
           {"exit", p.exit_description},
           {"output", p.output},
           {"threads", threads}};
    if (p.wait_status) j["wait_status"] = *p.wait_status;
    if (!p.program.empty()) j["program"] = p.program;
    if (!p.command.empty()) j["command"] = p.command;
    if (!p.execs.empty()) {
        json execs = json::array();
        for (const auto& e : p.execs)
            execs.push_back({{"t_ns", e.t_ns}, {"program", e.program}, {"command", e.command}});
        j["execs"] = std::move(execs);
    }
    return j;
}

ProcessRecord process_from_json(const json& j) {
    ProcessRecord p;
    p.ns_pid = j.value("pid", 0);
    p.pid = j.value("host_pid", 0);
    p.parent_ns_pid = j.value("parent_pid", 0);
    p.role = j.value("role", "");
    p.start_method = j.value("start_method", "");
    p.start_ns = j.value("start_ns", std::int64_t{0});
    p.end_ns = j.value("end_ns", std::int64_t{0});
    p.killed_by_runner = j.value("killed_by_runner", false);
    p.exit_description = j.value("exit", "");
    p.output = j.value("output", "");
    if (j.contains("wait_status")) p.wait_status = j.at("wait_status").get<int>();
    for (const auto& t : j.value("threads", json::array()))
        p.threads.emplace_back(t.value("tid", 0), t.value("name", ""));
    p.program = j.value("program", "");
    p.command = j.value("command", "");
    for (const auto& e : j.value("execs", json::array()))
        p.execs.push_back({e.value("t_ns", std::int64_t{0}), e.value("program", ""),
                           e.value("command", "")});
    return p;
}

json stack_to_json(const ThreadStack& s) {
    json frames = json::array();
    for (const auto& f : s.frames)
        frames.push_back({{"pc", fmt::format("{:#x}", f.pc)},
                          {"function", f.function},
                          {"module", f.module},
                          {"offset", f.offset}});
    json j{{"pid", s.ns_pid}, {"tid", s.ns_tid}, {"host_pid", s.pid}, {"host_tid", s.tid},
           {"thread", s.thread_name}, {"frames", frames}};
    if (!s.error.empty()) j["error"] = s.error;
    return j;
}

ThreadStack stack_from_json(const json& j) {
    ThreadStack s;
    s.ns_pid = j.value("pid", 0);
    s.ns_tid = j.value("tid", 0);
    s.pid = j.value("host_pid", 0);
    s.tid = j.value("host_tid", 0);
    s.thread_name = j.value("thread", "");
    s.error = j.value("error", "");
    for (const auto& f : j.value("frames", json::array())) {
        StackFrame frame;
        const std::string pc = f.value("pc", std::string("0"));
        try {
            frame.pc = std::stoull(pc, nullptr, 16);
        } catch (const std::logic_error&) { // invalid_argument, out_of_range
            throw std::runtime_error(fmt::format("run record: bad stack pc '{}'", pc));
        }
        frame.function = f.value("function", "");
        frame.module = f.value("module", "");
        frame.offset = f.value("offset", std::uint64_t{0});
        s.frames.push_back(frame);
    }
    return s;
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
        if (k.type == KnobType::choice) knob["choices"] = k.choices;
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
    return json{{"id", s.id},         {"number", s.number}, {"group", s.group},
                {"title", s.title},   {"lesson", s.lesson}, {"hidden", s.hidden},
                {"knobs", knobs},     {"variants", variants},
                {"children", [&] {
                     json names = json::array();
                     for (const auto& [name, function] : s.children) names.push_back(name);
                     return names;
                 }()}};
}

namespace {
// Event strings are fixed arrays; never read past one even if a writer forgot the NUL.
template <std::size_t N> std::string fixed_string(const char (&field)[N]) {
    return {field, strnlen(field, N)};
}
} // namespace

std::vector<Measurement> measurements_of(const RunRecord& record) {
    std::vector<Measurement> result;
    for (const auto& e : record.events) {
        if (e.kind != EventKind::measurement) continue;
        result.push_back({e.pid, e.tid, fixed_string(e.thread), fixed_string(e.name),
                          measurement_value(e), fixed_string(e.text),
                          e.time_ns - record.start_time_ns});
    }
    return result;
}

json event_to_json(const Event& e, std::int64_t start_time_ns) {
    json j{{"seq", e.seq},   {"t_ns", e.time_ns - start_time_ns},
           {"kind", to_string(e.kind)}, {"pid", e.pid}, {"tid", e.tid}, {"thread", e.thread}};
    if (e.object) j["object"] = e.object;
    if (e.kind == EventKind::measurement) j["value"] = measurement_value(e); // arg0 keeps its bits
    if (e.arg0) j["arg0"] = e.arg0;
    if (e.arg1) j["arg1"] = e.arg1;
    if (e.name[0]) j["name"] = e.name;
    if (e.text[0]) j["text"] = e.text;
    return j;
}

json verdict_to_json(const Verdict& v) {
    json edges = json::array();
    for (const auto& edge : v.wait_for) edges.push_back(edge_to_json(edge));
    json j{{"verdict", to_string(v.kind)},
           {"reason", v.reason ? json(to_string(*v.reason)) : json(nullptr)},
           {"explanation", v.explanation},
           {"wait_for", edges},
           {"stuck", thread_states_to_json(v.stuck)},
           {"live", thread_states_to_json(v.live)}};
    if (v.signal) j["signal"] = v.signal;
    if (!v.limit.empty()) j["limit"] = v.limit;
    if (v.exit_code) j["exit_code"] = v.exit_code;
    if (v.culprit_pid) j["culprit_pid"] = v.culprit_pid;
    return j;
}

std::vector<std::string> limits_not_enforced_by_kernel(const RunRecord& record) {
    std::vector<std::string> lines;
    for (const auto& e : record.enforcement)
        if ((e.limit == "tasks" || e.limit == "memory") && !e.by_kernel)
            lines.push_back(fmt::format("{}: {}", e.limit, e.mechanism));
    return lines;
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
    json events = json::array();
    for (const auto& e : r.events) events.push_back(event_to_json(e, r.start_time_ns));
    j["events"] = std::move(events);
    json measurements = json::array(); // derived from the events: read back from them
    for (const auto& m : measurements_of(r))
        measurements.push_back({{"pid", m.pid}, {"tid", m.tid}, {"thread", m.thread},
                                {"name", m.name}, {"value", m.value}, {"unit", m.unit},
                                {"t_ns", m.t_ns}});
    j["measurements"] = std::move(measurements);
    json snapshots = json::array();
    for (const auto& s : r.snapshots) snapshots.push_back(snapshot_to_json(s, r.start_time_ns));
    j["snapshots"] = std::move(snapshots);
    json processes = json::array();
    for (const auto& p : r.processes) processes.push_back(process_to_json(p));
    j["processes"] = std::move(processes);
    json stacks = json::array();
    for (const auto& s : r.stacks) stacks.push_back(stack_to_json(s));
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
    j["stdout_bytes"] = r.stdout_bytes;
    j["stderr_bytes"] = r.stderr_bytes;
    j["stdout_dropped"] = r.stdout_dropped;
    j["stderr_dropped"] = r.stderr_dropped;
    j["timings"] = {{"setup_ms", r.timings.setup_ms},
                    {"verdict_ms", r.timings.verdict_ms},
                    {"total_ms", r.timings.total_ms},
                    {"quiet_window_ms", r.timings.quiet_window_ms},
                    {"samples", r.timings.samples},
                    {"sample_mean_us", r.timings.sample_mean_us}};
    j["sandbox"] = r.sandbox;
    j["limits"] = {{"cpu_seconds", r.limits.cpu_seconds},
                   {"address_space", r.limits.address_space},
                   {"max_tasks", r.limits.max_tasks},
                   {"max_memory", r.limits.max_memory},
                   {"max_file_size", r.limits.max_file_size},
                   {"max_output", r.limits.max_output},
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

RunRecord run_record_from_json(const json& j) {
    // A format or version of the wrong type is a malformed record too: check them in the try.
    RunRecord r;
    try {
        if (!j.is_object() || j.value("format", "") != "forklore-run")
            throw std::runtime_error(
                "not a forklore run record (no \"format\": \"forklore-run\")");
        r.version = j.value("version", 0);
        if (r.version < 1 || r.version > kRunRecordVersion)
            throw std::runtime_error(fmt::format("run record version {} is not supported (this "
                                                 "build reads up to {})",
                                                 r.version, kRunRecordVersion));
        r.event_schema = j.value("event_schema", kEventSchemaVersion);
        r.scenario = j.value("scenario", "");
        r.variant = j.value("variant", "");
        r.knobs = j.value("knobs", KnobValues{});
        if (j.contains("expected") && !j.at("expected").is_null())
            r.expected = expectation_from_json(j.at("expected"));
        r.verdict = verdict_from_json(j);
        r.start_time_ns = j.value("start_time_ns", std::int64_t{0});
        r.dropped_events = j.value("dropped_events", std::uint64_t{0});
        r.torn_events = j.value("torn_events", std::uint64_t{0});
        for (const auto& e : j.value("events", json::array()))
            r.events.push_back(event_from_json(e, r.start_time_ns));
        for (const auto& s : j.value("snapshots", json::array()))
            r.snapshots.push_back(snapshot_from_json(s, r.start_time_ns));
        for (const auto& p : j.value("processes", json::array()))
            r.processes.push_back(process_from_json(p));
        for (const auto& s : j.value("stacks", json::array())) r.stacks.push_back(stack_from_json(s));
        r.stdout_text = j.value("stdout", "");
        r.stderr_text = j.value("stderr", "");
        r.output_truncated = j.value("output_truncated", false);
        for (const auto& process : j.value("left_running", json::array()))
            r.left_running.push_back({process.value("pid", 0), process.value("command", ""),
                                      thread_states_from_json(process.value("threads", json::array()))});
        // Records from before head-and-tail capture have none of these: 0.
        r.stdout_bytes = j.value("stdout_bytes", std::uint64_t{0});
        r.stderr_bytes = j.value("stderr_bytes", std::uint64_t{0});
        r.stdout_dropped = j.value("stdout_dropped", std::uint64_t{0});
        r.stderr_dropped = j.value("stderr_dropped", std::uint64_t{0});
        const json timings = j.value("timings", json::object());
        r.timings.setup_ms = timings.value("setup_ms", 0.0);
        r.timings.verdict_ms = timings.value("verdict_ms", 0.0);
        r.timings.total_ms = timings.value("total_ms", 0.0);
        r.timings.quiet_window_ms = timings.value("quiet_window_ms", 0.0);
        r.timings.samples = timings.value("samples", 0);
        r.timings.sample_mean_us = timings.value("sample_mean_us", 0.0);
        r.sandbox = j.value("sandbox", "");
        const json limits = j.value("limits", json::object());
        r.limits.cpu_seconds = limits.value("cpu_seconds", r.limits.cpu_seconds);
        r.limits.address_space = limits.value("address_space", r.limits.address_space);
        r.limits.max_file_size = limits.value("max_file_size", r.limits.max_file_size);
        r.limits.max_tasks = limits.value("max_tasks", 0);
        r.limits.max_memory = limits.value("max_memory", std::uint64_t{0});
        // Older records' max_output was both what was kept and a limit: it reads as the limit.
        r.limits.max_output = limits.value("max_output", r.limits.max_output);
        r.limits.output_keep = limits.value("output_keep", r.limits.output_keep);
        for (const auto& e : j.value("enforcement", json::array()))
            r.enforcement.push_back({e.value("limit", ""), e.value("value", ""),
                                     e.value("mechanism", ""), e.value("by_kernel", false)});
        r.cgroups = j.value("cgroups", "");
        const json counters = j.value("cgroup_counters", json::object());
        r.cgroup_counters.tasks_refused = counters.value("tasks_refused", std::uint64_t{0});
        r.cgroup_counters.tasks = counters.value("tasks", std::uint64_t{0});
        r.peak_tasks = counters.value("peak_tasks", std::uint64_t{0});
        r.cgroup_counters.oom_kills = counters.value("oom_kills", std::uint64_t{0});
        r.cgroup_counters.memory_peak = counters.value("memory_peak", std::uint64_t{0});
        r.cgroup_counters.cpu_ns = counters.value("cpu_ns", std::uint64_t{0});
        r.host = j.value("host", "");
    } catch (const json::exception& error) {
        throw std::runtime_error(std::string("malformed run record: ") + error.what());
    }
    return r;
}

} // namespace forklore
