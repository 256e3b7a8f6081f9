// Reading run records: from a file a user names, from text, or from a parsed JSON value.
//
// A record comes from outside (a classmate's file, a download, a fuzzer), so nothing in it is
// trusted. Every field is read by its type, with its range: a wrong one is an error naming where
// it is ("snapshots[3].processes[1].threads[0].state"), never a crash, a silent wrap of a number
// or undefined behaviour. The parse is bounded (RecordLimits): nesting depth, so that nothing
// downstream can recurse off the stack; and the counts of events, objects and values, so that
// memory stays bounded whatever the file holds. The two big arrays, events and snapshots, are
// converted element by element while the parser reads them and their JSON is dropped at once:
// a record never exists twice in memory.
#include "sim/record/record.hpp"

#include "sim/protocol/channel.hpp"
#include "sim/protocol/text.hpp"
#include "sim/record/user_file.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

namespace forklore {

using nlohmann::json;

namespace {

// A field that cannot be read: where it is in the record (built up as the error travels out
// through the arrays and objects holding it) and what is wrong with it.
struct FieldError {
    std::string path;    // "snapshots[3].processes[1].threads[0].state"
    std::string problem; // "must be one character (got \"\")"
};

[[noreturn]] void fail(std::string path, std::string problem) {
    throw FieldError{std::move(path), std::move(problem)};
}

// `outer` + `inner`: "events[3]" + "kind" -> "events[3].kind"; "threads" + "[0]" -> "threads[0]".
std::string join_path(std::string_view outer, const std::string& inner) {
    if (inner.empty())
        return std::string(outer);
    if (inner.front() == '[')
        return std::string(outer) + inner;
    return std::string(outer) + "." + inner;
}

// A bad value as the message shows it: short, on one line; a list or an object by its kind
// (dumping it could be long).
std::string shown(const json& value) {
    if (value.is_array())
        return "a list";
    if (value.is_object())
        return "an object";
    return printable(value.dump(-1, ' ', false, json::error_handler_t::replace), 60);
}

const json* member(const json& object, const char* key) {
    const auto found = object.find(key);
    return found == object.end() ? nullptr : &*found;
}

void require_object(const json& value) {
    if (!value.is_object())
        fail("", fmt::format("must be an object (got {})", shown(value)));
}

// A whole number of type T; `fallback` when the field is missing. A fraction, a string, or a
// number T cannot hold is an error (nlohmann's get<int>() would cut or wrap it silently).
template <typename T> T whole(const json& object, const char* key, T fallback) {
    const json* value = member(object, key);
    if (!value)
        return fallback;
    if (value->is_number_unsigned()) {
        const auto number = value->get<std::uint64_t>();
        if (std::in_range<T>(number))
            return static_cast<T>(number);
    } else if (value->is_number_integer()) {
        const auto number = value->get<std::int64_t>();
        if (std::in_range<T>(number))
            return static_cast<T>(number);
    }
    fail(key,
         fmt::format("must be a whole number from {} to {} (got {})", std::numeric_limits<T>::min(),
                     std::numeric_limits<T>::max(), shown(*value)));
}

// A finite number (JSON has no infinity, but 1e999 parses as one, and is written back as null).
double number(const json& object, const char* key, double fallback) {
    const json* value = member(object, key);
    if (!value)
        return fallback;
    if (value->is_number()) {
        const double result = value->get<double>();
        if (std::isfinite(result))
            return result;
    }
    fail(key, fmt::format("must be a finite number (got {})", shown(*value)));
}

bool flag(const json& object, const char* key, bool fallback) {
    const json* value = member(object, key);
    if (!value)
        return fallback;
    if (!value->is_boolean())
        fail(key, fmt::format("must be true or false (got {})", shown(*value)));
    return value->get<bool>();
}

std::string text(const json& object, const char* key, std::string fallback = {}) {
    const json* value = member(object, key);
    if (!value)
        return fallback;
    if (!value->is_string())
        fail(key, fmt::format("must be a string (got {})", shown(*value)));
    return value->get_ref<const std::string&>();
}

// The value of a name from `names` (an enum's name table).
template <typename Enum, std::size_t N>
Enum named(const std::array<std::string_view, N>& names, const json& object, const char* key,
           const char* what, std::optional<Enum> fallback = std::nullopt) {
    const json* value = member(object, key);
    if (!value) {
        if (fallback)
            return *fallback;
        fail(key, fmt::format("is missing (the {})", what));
    }
    if (!value->is_string())
        fail(key, fmt::format("must be a string (got {})", shown(*value)));
    const auto& name = value->get_ref<const std::string&>();
    for (std::size_t i = 0; i < N; ++i)
        if (names[i] == name)
            return static_cast<Enum>(i);
    fail(key, fmt::format("unknown {} '{}'", what, printable(name, 60)));
}

// A list field, or nullptr when missing.
const json* list(const json& object, const char* key) {
    const json* value = member(object, key);
    if (value && !value->is_array())
        fail(key, fmt::format("must be a list (got {})", shown(*value)));
    return value;
}

// Converts each element of the list field `key` with `convert`, naming the element in errors.
template <typename Convert>
auto list_of(const json& object, const char* key, Convert convert)
    -> std::vector<decltype(convert(object))> {
    std::vector<decltype(convert(object))> result;
    const json* values = list(object, key);
    if (!values)
        return result;
    result.reserve(values->size());
    for (const auto& value : *values) {
        try {
            result.push_back(convert(value));
        } catch (FieldError& error) {
            error.path = join_path(fmt::format("{}[{}]", key, result.size()), error.path);
            throw;
        }
    }
    return result;
}

// An object field, or nullptr when missing.
const json* object_member(const json& object, const char* key) {
    const json* value = member(object, key);
    if (value && !value->is_object())
        fail(key, fmt::format("must be an object (got {})", shown(*value)));
    return value;
}

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

// Times. A record's times are nanoseconds relative to the run's start, and the GUI subtracts
// and adds them freely: within +-2^53 ns (104 days, far longer than any run) no sum or difference
// of a few of them can overflow, and each is exact as a double. The start itself is
// CLOCK_MONOTONIC, never negative, and below 2^62 (146 years of uptime), so start + t fits too.
constexpr std::int64_t kMaxTimeNs = std::int64_t{1} << 53;
constexpr std::int64_t kMaxStartNs = std::int64_t{1} << 62;

std::int64_t time_ns(const json& object, const char* key) {
    const auto t = whole(object, key, std::int64_t{0});
    if (t < -kMaxTimeNs || t > kMaxTimeNs)
        fail(key, fmt::format("must be within {} ns (104 days) of the run's start (got {})",
                              kMaxTimeNs, t));
    return t;
}

// A duration in `unit`s of a nanosecond (1e6 for milliseconds), within the same bound.
double duration(const json& object, const char* key, double unit) {
    const double value = number(object, key, 0.0);
    if (std::fabs(value) > static_cast<double>(kMaxTimeNs) / unit)
        fail(key, fmt::format("must be within 104 days (got {})", value));
    return value;
}

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

// An event with its time relative to the run's start (start_time_ns may come later in the file).
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

// A snapshot with its time relative to the run's start, as an event.
Snapshot snapshot_from_json(const json& j) {
    require_object(j);
    Snapshot s;
    s.time_ns = time_ns(j, "t_ns");
    s.detailed = flag(j, "detailed", false);
    s.processes = list_of(j, "processes", process_snapshot_from_json);
    s.file_locks = list_of(j, "file_locks", file_lock_from_json);
    return s;
}

ProcessRecord process_from_json(const json& j) {
    require_object(j);
    ProcessRecord p;
    p.ns_pid = whole(j, "pid", 0);
    p.pid = whole(j, "host_pid", 0);
    p.parent_ns_pid = whole(j, "parent_pid", 0);
    p.role = text(j, "role");
    p.start_method = text(j, "start_method");
    p.start_ns = time_ns(j, "start_ns");
    p.end_ns = time_ns(j, "end_ns");
    p.killed_by_runner = flag(j, "killed_by_runner", false);
    p.exit_description = text(j, "exit");
    p.output = text(j, "output");
    if (member(j, "wait_status"))
        p.wait_status = whole(j, "wait_status", 0);
    p.threads = list_of(j, "threads", [](const json& t) {
        require_object(t);
        return std::pair<pid_t, std::string>(whole(t, "tid", 0), text(t, "name"));
    });
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
    return s;
}

LeftRunning left_running_from_json(const json& j) {
    require_object(j);
    return {whole(j, "pid", 0), text(j, "command"), list_of(j, "threads", thread_state_from_json)};
}

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

// The events and snapshots the streaming parse converted (times relative to the start), or
// nothing: then they are read from the JSON value.
struct Streamed {
    bool events_seen = false, snapshots_seen = false;
    std::vector<Event> events;
    SourceFiles source_files; // the files the events name
    std::vector<Snapshot> snapshots;
    std::optional<std::string> stdout_text, stderr_text;
};

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
    if (expected && !expected->is_null()) {
        try {
            r.expected = expectation_from_json(*expected);
        } catch (FieldError& error) {
            error.path = join_path("expected", error.path);
            throw;
        }
    }
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
    // Records from before head-and-tail capture have none of these: 0.
    r.stdout_bytes = whole(j, "stdout_bytes", std::uint64_t{0});
    r.stderr_bytes = whole(j, "stderr_bytes", std::uint64_t{0});
    r.stdout_dropped = whole(j, "stdout_dropped", std::uint64_t{0});
    r.stderr_dropped = whole(j, "stderr_dropped", std::uint64_t{0});
    if (const json* timings = object_member(j, "timings")) {
        try {
            r.timings.setup_ms = duration(*timings, "setup_ms", 1e6);
            r.timings.verdict_ms = duration(*timings, "verdict_ms", 1e6);
            r.timings.total_ms = duration(*timings, "total_ms", 1e6);
            r.timings.quiet_window_ms = duration(*timings, "quiet_window_ms", 1e6);
            r.timings.samples = whole(*timings, "samples", 0);
            r.timings.sample_mean_us = duration(*timings, "sample_mean_us", 1e3);
        } catch (FieldError& error) {
            error.path = join_path("timings", error.path);
            throw;
        }
    }
    r.sandbox = text(j, "sandbox");
    if (const json* limits = object_member(j, "limits")) {
        try {
            r.limits.cpu_seconds = whole(*limits, "cpu_seconds", r.limits.cpu_seconds);
            r.limits.address_space = whole(*limits, "address_space", r.limits.address_space);
            // Records from before per-run cgroups have neither: 0, no limit said.
            r.limits.max_tasks = whole(*limits, "max_tasks", 0);
            r.limits.max_memory = whole(*limits, "max_memory", std::uint64_t{0});
            r.limits.max_file_size = whole(*limits, "max_file_size", r.limits.max_file_size);
            // Older records' max_output was both what was kept and a limit: it reads as the limit.
            r.limits.max_output = whole(*limits, "max_output", r.limits.max_output);
            r.limits.output_keep = whole(*limits, "output_keep", r.limits.output_keep);
        } catch (FieldError& error) {
            error.path = join_path("limits", error.path);
            throw;
        }
    }
    r.enforcement = list_of(j, "enforcement", [](const json& e) {
        require_object(e);
        return LimitEnforcement{text(e, "limit"), text(e, "value"), text(e, "mechanism"),
                                flag(e, "by_kernel", false)};
    });
    r.cgroups = text(j, "cgroups");
    if (const json* counters = object_member(j, "cgroup_counters")) {
        try {
            r.cgroup_counters.tasks_refused = whole(*counters, "tasks_refused", std::uint64_t{0});
            r.cgroup_counters.tasks = whole(*counters, "tasks", std::uint64_t{0});
            r.peak_tasks = whole(*counters, "peak_tasks", std::uint64_t{0});
            r.cgroup_counters.oom_kills = whole(*counters, "oom_kills", std::uint64_t{0});
            r.cgroup_counters.memory_peak = whole(*counters, "memory_peak", std::uint64_t{0});
            r.cgroup_counters.cpu_ns = whole(*counters, "cpu_ns", std::uint64_t{0});
        } catch (FieldError& error) {
            error.path = join_path("cgroup_counters", error.path);
            throw;
        }
    }
    r.host = text(j, "host");
    return r;
}

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

// nlohmann's messages start with "[json.exception.parse_error.101] ": not for people.
std::string without_exception_id(const char* what) {
    std::string_view message = what;
    if (message.rfind("[json.exception.", 0) == 0) {
        const auto close = message.find("] ");
        if (close != std::string_view::npos)
            message.remove_prefix(close + 2);
    }
    return printable(message, 300);
}

// The parse: a SAX handler that builds the record's JSON value as nlohmann's own DOM parser
// would (a key given twice keeps its last value), with these differences:
// - it bounds the nesting and the counts of RecordLimits as the values arrive;
// - each element of the top-level "events" and "snapshots" arrays is converted as soon as it is
//   complete and its JSON dropped, and the top-level "stdout" and "stderr" strings are moved
//   into place: the biggest parts of a record never exist twice;
// - it is linear: nlohmann's callback parser scans the whole enclosing array after every object
//   (to find one it discarded), which made 500,000 small objects take a minute.
// Depth below is the number of arrays and objects open: the record's own object is at depth 1,
// an element of its "events" array at depth 3.
class RecordSax {
  public:
    explicit RecordSax(const RecordLimits& limits) : limits_(limits) {}

    json root;
    Streamed streamed;

    bool null() { return scalar(nullptr); }
    bool boolean(bool value) { return scalar(value); }
    bool number_integer(json::number_integer_t value) { return scalar(value); }
    bool number_unsigned(json::number_unsigned_t value) { return scalar(value); }
    bool number_float(json::number_float_t value, const std::string&) { return scalar(value); }
    bool binary(json::binary_t&) { return scalar(nullptr); } // JSON text has none

    bool string(std::string& value) {
        // The run's output, up to megabytes: moved, not copied (a placeholder stays in the tree).
        if (stack_.size() == 1 && (key_ == "stdout" || key_ == "stderr") && !in_element()) {
            count_value(false);
            (key_ == "stdout" ? streamed.stdout_text : streamed.stderr_text) = std::move(value);
            return true;
        }
        return scalar(std::move(value));
    }

    bool start_object(std::size_t) { return open(json::object(), true); }
    bool start_array(std::size_t) {
        const bool top_array = stack_.size() == 1;
        open(json::array(), false);
        if (top_array)
            start_streaming();
        return true;
    }

    bool key(std::string& name) {
        count_value(false);
        if (stack_.size() == 1) {
            key_ = name;
            // A key given again replaces what it held, as in a JSON object, even by a value
            // of another type (then the tree holds it, and reading it says what is wrong).
            if (key_ == "stdout")
                streamed.stdout_text.reset();
            if (key_ == "stderr")
                streamed.stderr_text.reset();
            if (key_ == "events") {
                streamed.events_seen = false;
                streamed.events.clear();
            }
            if (key_ == "snapshots") {
                streamed.snapshots_seen = false;
                streamed.snapshots.clear();
            }
        }
        member_ = &(*stack_.back())[name];
        *member_ = nullptr;
        return true;
    }

    bool end_object() {
        const bool element = in_element() && stack_.size() == 3;
        stack_.pop_back();
        if (element) {
            convert(stack_.back()->back());
            stack_.back()->get_ref<json::array_t&>().pop_back(); // converted: drop its JSON
        }
        return true;
    }

    bool end_array() {
        stack_.pop_back();
        if (stack_.size() == 1)
            streaming_ = Array::none;
        return true;
    }

    bool parse_error(std::size_t, const std::string&, const json::exception& error) {
        throw RecordError("not JSON: " + without_exception_id(error.what()));
    }

  private:
    enum class Array { none, events, snapshots };

    bool in_element() const { return streaming_ != Array::none && stack_.size() >= 2; }

    // Puts a value where the parse is: the root, the next element of an array, or the member
    // whose key came last. Returns where it went.
    json* place(json&& value) {
        if (stack_.empty()) {
            root = std::move(value);
            return &root;
        }
        json& container = *stack_.back();
        if (container.is_array()) {
            container.push_back(std::move(value));
            return &container.back();
        }
        *member_ = std::move(value);
        return member_;
    }

    bool scalar(json&& value) {
        if (in_element() && stack_.size() == 2)
            start_element(false);
        count_value(false);
        place(std::move(value));
        return true;
    }

    bool open(json&& container, bool is_object) {
        if (stack_.size() >= static_cast<std::size_t>(limits_.max_depth))
            throw RecordError(fmt::format("run record: arrays and objects nested more than {} "
                                          "deep (a record uses 7)",
                                          limits_.max_depth));
        if (in_element() && stack_.size() == 2)
            start_element(is_object);
        count_value(is_object);
        stack_.push_back(place(std::move(container)));
        return true;
    }

    // A top-level array starts: the events or the snapshots are streamed.
    void start_streaming() {
        if (key_ == "events") {
            streaming_ = Array::events;
            streamed.events_seen = true;
        } else if (key_ == "snapshots") {
            streaming_ = Array::snapshots;
            streamed.snapshots_seen = true;
        }
    }

    void start_element(bool is_object) {
        if (!is_object)
            throw RecordError(fmt::format("run record: {}: must be an object", element_name()));
        if (streaming_ == Array::events && streamed.events.size() >= limits_.max_events)
            throw RecordError(fmt::format("run record: more than {} events (the most a record "
                                          "may hold)",
                                          limits_.max_events));
        element_values_ = 0;
    }

    void count_value(bool is_object) {
        if (streaming_ == Array::events && stack_.size() >= 2) {
            // Inside the events array: the array itself counted as a value of the record.
            if (stack_.size() == 2 || ++element_values_ <= limits_.max_event_values) {
                if (stack_.size() == 2)
                    element_values_ = 1;
                return;
            }
            throw RecordError(fmt::format("run record: {} holds more than {} values (the most "
                                          "an event may)",
                                          element_name(), limits_.max_event_values));
        }
        if (++values_ > limits_.max_values)
            throw RecordError(fmt::format("run record: more than {} JSON values besides the "
                                          "events (the most a record may hold)",
                                          limits_.max_values));
        if (is_object && ++objects_ > limits_.max_objects)
            throw RecordError(fmt::format("run record: more than {} JSON objects besides the "
                                          "events (the most a record may hold)",
                                          limits_.max_objects));
    }

    void convert(const json& element) {
        try {
            if (streaming_ == Array::events)
                streamed.events.push_back(event_from_json(element, streamed.source_files));
            else
                streamed.snapshots.push_back(snapshot_from_json(element));
        } catch (const FieldError& error) {
            throw RecordError(fmt::format("run record: {}: {}",
                                          join_path(element_name(), error.path), error.problem));
        }
    }

    std::string element_name() const {
        return streaming_ == Array::events
                   ? fmt::format("events[{}]", streamed.events.size())
                   : fmt::format("snapshots[{}]", streamed.snapshots.size());
    }

    const RecordLimits& limits_;
    std::vector<json*> stack_; // the open arrays and objects, outermost first
    json* member_ = nullptr;   // where the value of the last key goes
    Array streaming_ = Array::none;
    std::string key_; // the last key of the record's own object
    std::size_t element_values_ = 0, values_ = 0, objects_ = 0;
};

} // namespace

RunRecord parse_run_record(std::string_view text, const RecordLimits& limits) {
    if (text.size() > limits.max_bytes)
        throw RecordError(fmt::format("run record: larger than {} bytes (the most a record may be)",
                                      limits.max_bytes));
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
        throw RecordError("not JSON: empty");
    RecordSax reader(limits);
    try {
        json::sax_parse(text.begin(), text.end(), &reader);
    } catch (const json::exception& error) {
        throw RecordError("not JSON: " + without_exception_id(error.what()));
    }
    return record_or_error(reader.root, &reader.streamed);
}

RunRecord load_run_record_file(const std::string& path, const RecordLimits& limits) {
    const std::string content = read_regular_file(path, limits.max_bytes, "a run record");
    if (content.empty())
        throw RecordError(fmt::format("{} is empty: not a run record", printable(path)));
    try {
        return parse_run_record(content, limits);
    } catch (const RecordError& error) {
        throw RecordError(fmt::format("{}: {}", printable(path), error.what()));
    }
}

RunRecord run_record_from_json(const json& j) {
    return record_or_error(j, nullptr);
}

} // namespace forklore
