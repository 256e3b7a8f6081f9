// The run record: everything one run produced, self-contained and serialisable to versioned
// JSON (the CLI's --json/--out, the GUI's open/save, the corpus tests).
#pragma once

#include "sim/observe/snapshot.hpp"
#include "sim/observe/stacks.hpp"
#include "sim/protocol/events.hpp"
#include "sim/protocol/process_role.hpp"
#include "sim/protocol/start_method.hpp"
#include "sim/protocol/wait_status.hpp"
#include "sim/record/schedule.hpp"
#include "sim/sandbox/cgroup.hpp"
#include "sim/sandbox/containment.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/verdict/verdict.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace forklore {

// Bump when a field changes meaning or disappears; adding fields keeps the version.
inline constexpr int kRunRecordVersion = 1;

// An exec a process made: from the trace (a probe announced it) or the samples (/proc showed a
// new program).
struct ExecRecord {
    std::int64_t t_ns = 0; // relative to the run's start
    std::string program;   // the executable (/proc/PID/exe), or the name exec was given
    std::string command;   // its command line, cut; "" when no sample saw it
};

struct ProcessRecord {
    pid_t pid = 0;    // host pid (0 when only the trace knows the process)
    pid_t ns_pid = 0; // pid inside the sandbox: the one the trace and explanations use
    pid_t parent_ns_pid = 0;
    ProcessRole role = ProcessRole::child;
    std::string name; // "main", a child function's name, "forkserver", "reaper", "host"; the
                      // program's name for a process the trace does not name
    std::optional<StartMethod> start_method; // how its parent made it (none for the sandbox's own)
    std::int64_t start_ns = 0, end_ns = 0;   // relative to the run's start; end 0 when alive
    WaitStatus wait_status;                  // unknown until it was reaped
    bool killed_by_runner = false;           // still alive when the runner ended the sandbox
    std::string exit_description;            // "exited with code 0", "killed by SIGSEGV"
    std::string output;                      // what it wrote through the probes (output events)
    std::vector<std::pair<pid_t, std::string>> threads; // ns tid, name
    // ns tid -> threading name ("printer"), read from a CPython interpreter when a hang was
    // proven: the kernel calls every thread of such a process "python3".
    std::vector<std::pair<pid_t, std::string>> python_threads;
    std::string program; // the executable it ran last, as /proc showed it ("" when unseen)
    std::string command; // its command line then, cut
    std::vector<ExecRecord> execs; // every exec seen, in order
};

// A process still running when the scenario's first process ended: named, then killed with the
// sandbox (a daemon, a worker nobody waited for). Namespace ids.
struct LeftRunning {
    pid_t pid = 0;
    std::string command;              // its command line, or its name
    std::vector<ThreadState> threads; // what each thread was doing then
};

struct RunTimings {
    double setup_ms = 0;        // runner start to the sandbox's first event
    double verdict_ms = 0;      // runner start to the verdict
    double total_ms = 0;        // runner start to everything reaped
    double quiet_window_ms = 0; // deadlocks: how long the proof window lasted
    int samples = 0;            // /proc samples taken
    double sample_mean_us = 0;  // mean cost of one sample
};

// The source files a record's events name, by the id they carry (Event::file): paths relative
// to the source tree.
using SourceFiles = std::map<std::uint32_t, std::string>;

struct RunRecord {
    int version = kRunRecordVersion;
    std::uint32_t event_schema = kEventSchemaVersion;
    std::string scenario;
    std::string variant; // empty when run with knobs only
    KnobValues knobs;
    std::optional<Expectation> expected;
    Verdict verdict;
    std::vector<Event> events;      // times as recorded (CLOCK_MONOTONIC); see start_time_ns
    SourceFiles source_files;       // where the events were recorded (the channel's table); in the
                                    // JSON each event says "file" and "line" instead
    std::int64_t start_time_ns = 0; // CLOCK_MONOTONIC at the runner's start
    std::uint64_t dropped_events = 0;
    std::uint64_t torn_events = 0;
    // The number of events the record was written with ("event_count"), as read from a file;
    // unset for a record made in this process or read from a file that does not say. A file
    // whose events were cut short holds fewer than it says.
    std::optional<std::uint64_t> declared_events;
    std::vector<Snapshot> snapshots; // samples where something changed, and the last one
    std::vector<ProcessRecord> processes;
    std::vector<ThreadStack> stacks; // deadlocks: the stuck threads and the owners they wait for
    std::vector<LeftRunning> left_running; // alive when the first process ended
    // What the runner kept of each stream: everything, or head + a marker line + tail
    // (sim/run/output_capture.hpp). *_bytes were written in all, *_dropped of them are not in the
    // text.
    std::string stdout_text, stderr_text;
    std::uint64_t stdout_bytes = 0, stderr_bytes = 0;
    std::uint64_t stdout_dropped = 0, stderr_dropped = 0;
    bool output_truncated = false; // something was dropped (older records: the limit was reached)
    RunTimings timings;
    std::string sandbox; // what the host isolated: namespaces, filesystem, capabilities, cgroups
    SandboxLimits limits;
    std::vector<LimitEnforcement> enforcement; // how each limit was enforced, and by whom
    std::string cgroups;            // the run's cgroups ("cgroup v1 pids memory ...", "none")
    CgroupCounters cgroup_counters; // the kernel's counters at the end of the run
    std::uint64_t peak_tasks = 0;   // most tasks the cgroup held in any sample
    std::string host;               // kernel and C library, for the record
    // A stepped run: the threads the scheduler let go, in order (replayable). Unset otherwise.
    std::optional<Schedule> schedule;

    const ProcessRecord* find_process(pid_t ns_pid) const;
    // The path of the file `event` was recorded from, or null when it has none (an event the
    // engine recorded on its own, a record of event schema 2 or older).
    const std::string* source_file(const Event& event) const;
};

// One line for each limit the kernel did not enforce in this run ("tasks: NOT enforced by the
// kernel (...)"), for the CLI and the GUI to say plainly; empty when cgroups enforced them all.
std::vector<std::string> limits_not_enforced_by_kernel(const RunRecord& record);

// A figure the run measured (a measurement event), for lessons and plots.
struct Measurement {
    pid_t pid = 0, tid = 0; // namespace ids, as in the trace
    std::string thread;
    std::string name; // "copy_ms"
    double value = 0;
    std::string unit;      // "ms"
    std::int64_t t_ns = 0; // relative to the run's start
};
// Every measurement of the run, in recording order.
std::vector<Measurement> measurements_of(const RunRecord& record);

// What the trace is missing, in plain words, or "" when it is whole: "1234 events were dropped:
// the event ring was full. ..." (dropped_events), and the events a dying writer left half
// written (torn_events). The CLI, the JSON (`events_lost`) and the GUI all say this sentence.
std::string describe_lost_events(const RunRecord& record);

// Versioned JSON.
nlohmann::json to_json(const RunRecord& record);
// A JSON value as forklore writes it to a file or stdout: indented by 2, with a final newline.
// Text that is not UTF-8 (a thread name the kernel cut in the middle of a character) is written
// as U+FFFD instead of failing the whole write.
std::string to_json_text(const nlohmann::json& value);

// A run record that cannot be read; what() is one line.
struct RecordError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What a run record read from a file or text may hold. A run of this build stays far inside
// every bound (its event channel holds 262,144 events and a reserve of 256, its runner keeps about
// 400 snapshots of at most 64 processes); they exist so that a broken or hostile file is refused in
// about the time it takes to read it, with bounded memory, instead of exhausting the memory or the
// stack. README, "Run records", lists them with what they cost.
struct RecordLimits {
    std::uint64_t max_bytes = 128ULL << 20; // the file (or text); a run's is a few MiB
    int max_depth = 32;                // arrays and objects inside each other (a record uses 7)
    std::size_t max_events = 524'288;  // twice what one run's event channel holds
    std::size_t max_event_values = 64; // JSON values in one event, keys included (it has ~15)
    // Outside the events (snapshots, processes, stacks, the verdict, ...; a run's record has a
    // few thousand values there, 400 snapshots of 64 threads would have about a million):
    std::size_t max_objects = 262'144;  // JSON objects (a snapshot, a process, a thread ...)
    std::size_t max_values = 2'097'152; // JSON values of any kind, keys included
};

// Reads a run record from JSON text, within `limits`. The events and snapshots are converted
// one at a time as the parser reaches them, never held as a JSON tree; stdout and stderr are
// moved into place. Throws RecordError: "not
// JSON: ...", "not a run record ...", "run record: events[3].kind: unknown event kind 'x'", or a
// bound that was passed.
RunRecord parse_run_record(std::string_view text, const RecordLimits& limits = {});
// The same from a file: a regular file of at most limits.max_bytes (read_regular_file), its
// errors prefixed with the path. Throws RecordError or UserFileError, one line naming the file.
RunRecord load_run_record_file(const std::string& path, const RecordLimits& limits = {});
// From a JSON value already parsed (tests, tools): the same checks of every field, without the
// bounds of the parse. Throws RecordError.
RunRecord run_record_from_json(const nlohmann::json& json);

// With `files` (the record's), an event that has a location says "file" and "line".
nlohmann::json event_to_json(const Event& event, std::int64_t start_time_ns,
                             const SourceFiles* files = nullptr);
nlohmann::json verdict_to_json(const Verdict& verdict);
nlohmann::json expectation_to_json(const Expectation& expectation);
// A scenario's description: id, title, lesson, knobs, variants with expected outcomes.
nlohmann::json scenario_to_json(const Scenario& scenario);

} // namespace forklore
