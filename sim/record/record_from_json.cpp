// Converting a parsed JSON value into a RunRecord, field by field. See record_from_json.hpp.
//
// Index of this file:
// [SECTION] The verdict and what it expected
// [SECTION] Events and snapshots
// [SECTION] Processes and stacks
// [SECTION] The whole record
#include "sim/record/record_from_json.hpp"

#include "sim/protocol/channel.hpp"

#include <charconv>
#include <cstring>
#include <utility>

namespace forklore::record_reading {

//-----------------------------------------------------------------------------
// [SECTION] The verdict and what it expected
//-----------------------------------------------------------------------------

namespace {

Expectation expectation_from_json(const json& j) {
    require_object(j);
    Expectation e;
    e.verdict = named<VerdictKind>(kVerdictNames, j, "verdict", "verdict");
    const json* reason = member(j, "reason");
    if (reason && !reason->is_null())
        e.reason = named<DeadlockReason>(kDeadlockReasonNames, j, "reason", "deadlock reason");
    e.signal = whole(j, "signal", 0);
    e.racy = flag(j, "racy", false);
    e.runs = whole(j, "runs", 1);
    e.min_hang_rate = number(j, "min_hang_rate", 0.0);
    e.max_hang_rate = number(j, "max_hang_rate", 1.0);
    e.slow_because = text(j, "slow_because");
    return e;
}

WaitEdge edge_from_json(const json& j) {
    require_object(j);
    WaitEdge edge;
    // A kind this build does not know stays `unknown`: newer builds may add kinds.
    const std::string kind = text(j, "kind");
    for (auto k : {WaitEdge::Kind::lock, WaitEdge::Kind::file_lock, WaitEdge::Kind::child,
                   WaitEdge::Kind::pipe, WaitEdge::Kind::unknown, WaitEdge::Kind::signal})
        if (to_string(k) == kind)
            edge.kind = k;
    edge.waiter_pid = whole(j, "waiter_pid", 0);
    edge.waiter_tid = whole(j, "waiter_tid", 0);
    edge.waiter_thread = text(j, "waiter_thread");
    edge.address = whole(j, "address", std::uint64_t{0});
    edge.lock_name = text(j, "lock_name");
    edge.object_kind = text(j, "object_kind");
    edge.owner_pid = whole(j, "owner_pid", 0);
    edge.owner_tid = whole(j, "owner_tid", 0);
    edge.owner_thread = text(j, "owner_thread");
    edge.orphaned = flag(j, "orphaned", false);
    edge.owner_exists = flag(j, "owner_exists", false);
    edge.description = text(j, "description");
    edge.futex_address = whole(j, "futex_address", std::uint64_t{0});
    edge.waiter_fd = whole(j, "waiter_fd", -1);
    edge.holding_fds = list_of(j, "holding_fds", [](const json& holder) {
        require_object(holder);
        return WaitEdge::HoldingFd{whole(holder, "pid", 0), whole(holder, "fd", -1)};
    });
    return edge;
}

ThreadState thread_state_from_json(const json& j) {
    require_object(j);
    return {whole(j, "pid", 0), whole(j, "tid", 0), text(j, "name"), text(j, "wait")};
}

void read_verdict(const json& j, Verdict& v) {
    v.kind = named<VerdictKind>(kVerdictNames, j, "verdict", "verdict");
    const json* reason = member(j, "reason");
    if (reason && !reason->is_null())
        v.reason = named<DeadlockReason>(kDeadlockReasonNames, j, "reason", "deadlock reason");
    v.explanation = text(j, "explanation");
    v.signal = whole(j, "signal", 0);
    v.limit = text(j, "limit");
    v.exit_code = whole(j, "exit_code", 0);
    v.culprit_pid = whole(j, "culprit_pid", 0);
    v.wait_for = list_of(j, "wait_for", edge_from_json);
    v.stuck = list_of(j, "stuck", thread_state_from_json);
    v.live = list_of(j, "live", thread_state_from_json);
    v.warnings = list_of(j, "warnings", [](const json& warning) {
        require_object(warning);
        return VerdictWarning{text(warning, "kind"), text(warning, "text"),
                              whole(warning, "pid", pid_t{0})};
    });
}

} // namespace

//-----------------------------------------------------------------------------
// [SECTION] Events and snapshots
//-----------------------------------------------------------------------------

namespace {

// Copies `text` into an event's fixed array, cut so that it fits and never in the middle of a
// UTF-8 character (half a character could not be written as JSON again). Stops at a NUL, as
// every reader of the array does.
template <std::size_t N> void copy_text(char (&field)[N], const std::string& text) {
    std::size_t length = std::min(std::strlen(text.c_str()), N - 1);
    if (length < text.size() && length == N - 1)
        while (length > 0 && (static_cast<unsigned char>(text[length]) & 0xc0) == 0x80)
            --length;
    std::memcpy(field, text.data(), length);
    std::memset(field + length, 0, N - length);
}

// The longest source path a record may name (the channel keeps 119 characters).
constexpr std::size_t kMaxSourcePath = 1024;

// An event's location: "file" (a path relative to the source tree) and "line", both or neither
// (records of event schema 2 have none). The path goes into `files` under the id it hashes to,
// as the probes computed it.
void read_location(const json& j, Event& e, SourceFiles& files) {
    const std::string path = text(j, "file");
    if (path.empty())
        return;
    if (path.size() > kMaxSourcePath || path.find('\0') != std::string::npos)
        fail("file", fmt::format("must be a path of at most {} characters (got \"{}\")",
                                 kMaxSourcePath, printable(path, 60)));
    e.file = source_file_id(path);
    e.line = whole(j, "line", std::uint32_t{0});
    files.try_emplace(e.file, path);
}

} // namespace

Event event_from_json(const json& j, SourceFiles& files) {
    require_object(j);
    Event e{};
    e.committed = 1;
    e.kind = named<EventKind>(kEventKindNames, j, "kind", "event kind");
    e.seq = whole(j, "seq", std::uint64_t{0});
    e.time_ns = time_ns(j, "t_ns");
    e.pid = whole(j, "pid", 0);
    e.tid = whole(j, "tid", 0);
    e.object = whole(j, "object", std::uint64_t{0});
    e.arg0 = whole(j, "arg0", std::int64_t{0});
    e.arg1 = whole(j, "arg1", std::int64_t{0});
    copy_text(e.thread, text(j, "thread"));
    copy_text(e.name, text(j, "name"));
    copy_text(e.text, text(j, "text"));
    read_location(j, e, files);
    return e;
}

namespace {

char state_from(const json& j, const char* key) {
    const std::string state = text(j, key, "?");
    if (state.size() != 1)
        fail(key, fmt::format("must be one character (got \"{}\")", printable(state, 20)));
    return state.front();
}

ThreadSnapshot thread_snapshot_from_json(const json& j) {
    require_object(j);
    ThreadSnapshot t;
    t.tid = whole(j, "tid", 0);
    t.ns_tid = whole(j, "ns_tid", 0);
    t.name = text(j, "name");
    t.state = state_from(j, "state");
    t.wchan = text(j, "wchan");
    t.syscall = whole(j, "syscall", -1L);
    t.cpu_ticks = whole(j, "cpu_ticks", std::uint64_t{0});
    t.wait = named<WaitKind>(kWaitKindNames, j, "wait", "wait", WaitKind::running);
    t.untimed = flag(j, "untimed", false);
    t.futex_address = whole(j, "futex_address", std::uint64_t{0});
    if (member(j, "owner_ns_tid"))
        t.owner_ns_tid = whole(j, "owner_ns_tid", pid_t{0});
    t.owner_tid = whole(j, "owner_tid", 0);
    t.fd = whole(j, "fd", -1);
    t.fd_target = text(j, "fd_target");
    t.fd_peer_target = text(j, "fd_peer_target");
    t.waited_pid = whole(j, "waited_pid", 0);
    return t;
}

ProcessSnapshot process_snapshot_from_json(const json& j) {
    require_object(j);
    ProcessSnapshot p;
    p.pid = whole(j, "pid", 0);
    p.ns_pid = whole(j, "ns_pid", 0);
    p.ppid = whole(j, "ppid", 0);
    p.comm = text(j, "comm");
    p.state = state_from(j, "state");
    p.infrastructure = flag(j, "infrastructure", false);
    p.exe = text(j, "exe");
    p.threads = list_of(j, "threads", thread_snapshot_from_json);
    return p;
}

FileLockEntry file_lock_from_json(const json& j) {
    require_object(j);
    FileLockEntry l;
    l.id = whole(j, "id", 0);
    l.type = text(j, "type");
    l.write = flag(j, "write", false);
    l.waiting = flag(j, "waiting", false);
    l.pid = whole(j, "pid", 0);
    l.inode = whole(j, "inode", std::uint64_t{0});
    l.device = text(j, "device");
    l.fd = whole(j, "fd", -1);
    return l;
}

} // namespace

Snapshot snapshot_from_json(const json& j) {
    require_object(j);
    Snapshot s;
    s.time_ns = time_ns(j, "t_ns");
    s.detailed = flag(j, "detailed", false);
    s.processes = list_of(j, "processes", process_snapshot_from_json);
    s.file_locks = list_of(j, "file_locks", file_lock_from_json);
    return s;
}

//-----------------------------------------------------------------------------
// [SECTION] Processes and stacks
//-----------------------------------------------------------------------------

namespace {

ProcessRecord process_from_json(const json& j) {
    require_object(j);
    ProcessRecord p;
    p.ns_pid = whole(j, "pid", 0);
    p.pid = whole(j, "host_pid", 0);
    p.parent_ns_pid = whole(j, "parent_pid", 0);
    p.name = text(j, "role");
    p.role = role_from_name(p.name);
    if (!text(j, "start_method").empty())
        p.start_method = named<StartMethod>(kStartMethodNames, j, "start_method", "start method");
    p.start_ns = time_ns(j, "start_ns");
    p.end_ns = time_ns(j, "end_ns");
    p.killed_by_runner = flag(j, "killed_by_runner", false);
    p.exit_description = text(j, "exit");
    p.output = text(j, "output");
    if (member(j, "wait_status"))
        p.wait_status = WaitStatus::from_raw(whole(j, "wait_status", 0));
    const auto named_thread = [](const json& t) {
        require_object(t);
        return std::pair<pid_t, std::string>(whole(t, "tid", 0), text(t, "name"));
    };
    p.threads = list_of(j, "threads", named_thread);
    p.python_threads = list_of(j, "python_threads", named_thread);
    p.program = text(j, "program");
    p.command = text(j, "command");
    p.execs = list_of(j, "execs", [](const json& e) {
        require_object(e);
        return ExecRecord{time_ns(e, "t_ns"), text(e, "program"), text(e, "command")};
    });
    return p;
}

// "0x7f3a..." as forklore writes a pc (the "0x" may be left out); nothing else.
std::uint64_t hex_from(const json& j, const char* key) {
    const std::string digits = text(j, key, "0");
    std::string_view rest = digits;
    if (rest.size() > 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X'))
        rest.remove_prefix(2);
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), value, 16);
    if (rest.empty() || error != std::errc{} || end != rest.data() + rest.size())
        fail(key, fmt::format("must be a hexadecimal address (got \"{}\")", printable(digits, 40)));
    return value;
}

ThreadStack stack_from_json(const json& j) {
    require_object(j);
    ThreadStack s;
    s.ns_pid = whole(j, "pid", 0);
    s.ns_tid = whole(j, "tid", 0);
    s.pid = whole(j, "host_pid", 0);
    s.tid = whole(j, "host_tid", 0);
    s.thread_name = text(j, "thread");
    s.error = text(j, "error");
    s.frames = list_of(j, "frames", [](const json& f) {
        require_object(f);
        StackFrame frame;
        frame.pc = hex_from(f, "pc");
        frame.function = text(f, "function");
        frame.module = text(f, "module");
        frame.offset = whole(f, "offset", std::uint64_t{0});
        return frame;
    });
    if (const json* python = member(j, "python")) {
        require_object(*python);
        PythonStack p;
        p.name = text(*python, "name");
        p.ident = hex_from(*python, "ident");
        p.frames = list_of(*python, "frames", [](const json& f) {
            require_object(f);
            return PythonFrame{text(f, "file"), text(f, "function"), whole(f, "line", 0)};
        });
        p.without_thread = flag(*python, "without_thread", false);
        p.waits_on = text(*python, "waits_on");
        p.lock_holder = text(*python, "lock_holder");
        p.lock_holder_here = flag(*python, "lock_holder_here", false);
        s.python = std::move(p);
    }
    s.python_error = text(j, "python_error");
    return s;
}

LeftRunning left_running_from_json(const json& j) {
    require_object(j);
    return {whole(j, "pid", 0), text(j, "command"), list_of(j, "threads", thread_state_from_json)};
}

} // namespace

//-----------------------------------------------------------------------------
// [SECTION] The whole record
//-----------------------------------------------------------------------------

namespace {

KnobValues knobs_from_json(const json& j) {
    KnobValues knobs;
    const json* object = object_member(j, "knobs");
    if (!object)
        return knobs;
    for (const auto& [name, value] : object->items()) {
        if (!value.is_string())
            fail(fmt::format("knobs.{}", printable(name, 40)),
                 fmt::format("must be a string (got {})", shown(value)));
        knobs[name] = value.get<std::string>();
    }
    return knobs;
}

RunRecord record_from(const json& j, Streamed* streamed) {
    if (!j.is_object() || !j.contains("format") || j.at("format") != "forklore-run")
        throw RecordError("not a run record (no \"format\": \"forklore-run\")");
    RunRecord r;
    const json* version = member(j, "version");
    if (!version || !version->is_number_integer())
        throw RecordError("run record: no version (a whole number) in it");
    r.version = whole(j, "version", 0);
    if (r.version < 1 || r.version > kRunRecordVersion)
        throw RecordError(fmt::format("run record version {} is not supported (this build reads "
                                      "up to {})",
                                      r.version, kRunRecordVersion));
    r.event_schema = whole(j, "event_schema", kEventSchemaVersion);
    r.scenario = text(j, "scenario");
    r.variant = text(j, "variant");
    r.knobs = knobs_from_json(j);
    const json* expected = member(j, "expected");
    if (expected && !expected->is_null())
        r.expected = inside("expected", [&] { return expectation_from_json(*expected); });
    read_verdict(j, r.verdict); // verdict, reason, explanation at the top level
    r.start_time_ns = whole(j, "start_time_ns", std::int64_t{0});
    if (r.start_time_ns < 0 || r.start_time_ns > kMaxStartNs)
        fail("start_time_ns", fmt::format("must be a whole number from 0 to {} (got {})",
                                          kMaxStartNs, r.start_time_ns));
    r.dropped_events = whole(j, "dropped_events", std::uint64_t{0});
    r.torn_events = whole(j, "torn_events", std::uint64_t{0});
    if (member(j, "event_count"))
        r.declared_events = whole(j, "event_count", std::uint64_t{0});
    if (streamed && streamed->events_seen) {
        r.events = std::move(streamed->events);
        r.source_files = std::move(streamed->source_files);
    } else {
        r.events = list_of(j, "events", [&r](const json& event) {
            return event_from_json(event, r.source_files);
        });
    }
    if (streamed && streamed->snapshots_seen)
        r.snapshots = std::move(streamed->snapshots);
    else
        r.snapshots = list_of(j, "snapshots", snapshot_from_json);
    // Times were read relative to the start, which may come later in the file.
    for (auto& event : r.events)
        event.time_ns += r.start_time_ns;
    for (auto& snapshot : r.snapshots)
        snapshot.time_ns += r.start_time_ns;
    r.processes = list_of(j, "processes", process_from_json);
    r.stacks = list_of(j, "stacks", stack_from_json);
    if (streamed && streamed->stdout_text)
        r.stdout_text = std::move(*streamed->stdout_text);
    else
        r.stdout_text = text(j, "stdout");
    if (streamed && streamed->stderr_text)
        r.stderr_text = std::move(*streamed->stderr_text);
    else
        r.stderr_text = text(j, "stderr");
    r.output_truncated = flag(j, "output_truncated", false);
    r.left_running = list_of(j, "left_running", left_running_from_json);
    if (const json* schedule = object_member(j, "schedule")) {
        try {
            r.schedule = schedule_from_json(*schedule);
        } catch (const RecordError& error) {
            throw RecordError(std::string("run record: ") + error.what());
        }
    }
    // Records from before head-and-tail capture have none of these: 0.
    r.stdout_bytes = whole(j, "stdout_bytes", std::uint64_t{0});
    r.stderr_bytes = whole(j, "stderr_bytes", std::uint64_t{0});
    r.stdout_dropped = whole(j, "stdout_dropped", std::uint64_t{0});
    r.stderr_dropped = whole(j, "stderr_dropped", std::uint64_t{0});
    if (const json* timings = object_member(j, "timings")) {
        inside("timings", [&] {
            r.timings.setup_ms = duration(*timings, "setup_ms", 1e6);
            r.timings.verdict_ms = duration(*timings, "verdict_ms", 1e6);
            r.timings.total_ms = duration(*timings, "total_ms", 1e6);
            r.timings.quiet_window_ms = duration(*timings, "quiet_window_ms", 1e6);
            r.timings.samples = whole(*timings, "samples", 0);
            r.timings.sample_mean_us = duration(*timings, "sample_mean_us", 1e3);
        });
    }
    r.sandbox = text(j, "sandbox");
    if (const json* limits = object_member(j, "limits")) {
        inside("limits", [&] {
            r.limits.cpu_seconds = whole(*limits, "cpu_seconds", r.limits.cpu_seconds);
            r.limits.address_space = whole(*limits, "address_space", r.limits.address_space);
            // Records from before per-run cgroups have neither: 0, no limit said.
            r.limits.max_tasks = whole(*limits, "max_tasks", 0);
            r.limits.max_memory = whole(*limits, "max_memory", std::uint64_t{0});
            r.limits.max_file_size = whole(*limits, "max_file_size", r.limits.max_file_size);
            // Older records' max_output was both what was kept and a limit: it reads as the limit.
            r.limits.max_output = whole(*limits, "max_output", r.limits.max_output);
            r.limits.output_keep = whole(*limits, "output_keep", r.limits.output_keep);
        });
    }
    r.enforcement = list_of(j, "enforcement", [](const json& e) {
        require_object(e);
        return LimitEnforcement{text(e, "limit"), text(e, "value"), text(e, "mechanism"),
                                flag(e, "by_kernel", false)};
    });
    r.cgroups = text(j, "cgroups");
    if (const json* counters = object_member(j, "cgroup_counters")) {
        inside("cgroup_counters", [&] {
            r.cgroup_counters.tasks_refused = whole(*counters, "tasks_refused", std::uint64_t{0});
            r.cgroup_counters.tasks = whole(*counters, "tasks", std::uint64_t{0});
            r.peak_tasks = whole(*counters, "peak_tasks", std::uint64_t{0});
            r.cgroup_counters.oom_kills = whole(*counters, "oom_kills", std::uint64_t{0});
            r.cgroup_counters.memory_peak = whole(*counters, "memory_peak", std::uint64_t{0});
            r.cgroup_counters.cpu_ns = whole(*counters, "cpu_ns", std::uint64_t{0});
        });
    }
    r.host = text(j, "host");
    return r;
}

} // namespace

RunRecord record_or_error(const json& j, Streamed* streamed) {
    try {
        return record_from(j, streamed);
    } catch (const FieldError& error) {
        throw RecordError(fmt::format("run record: {}: {}", error.path, error.problem));
    } catch (const json::exception& error) {
        // Not expected (every field is checked first); kept so that none can escape as a crash.
        throw RecordError(fmt::format("malformed run record: {}", printable(error.what())));
    }
}

} // namespace forklore::record_reading

namespace forklore {

RunRecord run_record_from_json(const nlohmann::json& j) {
    return record_reading::record_or_error(j, nullptr);
}

} // namespace forklore
