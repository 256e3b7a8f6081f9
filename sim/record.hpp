// The run record: everything one run produced, self-contained and serialisable to versioned
// JSON (the CLI's --json/--out, the GUI's open/save, the corpus tests).
#pragma once

#include "sim/cgroup.hpp"
#include "sim/events.hpp"
#include "sim/sandbox.hpp"
#include "sim/scenario.hpp"
#include "sim/snapshot.hpp"
#include "sim/stacks.hpp"
#include "sim/verdict.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace forklore {

// Bump when a field changes meaning or disappears; adding fields keeps the version.
inline constexpr int kRunRecordVersion = 1;

// An exec a process made: from the trace (a probe announced it) or the samples (/proc showed a
// new program).
struct ExecRecord {
    std::int64_t t_ns = 0;   // relative to the run's start
    std::string program;     // the executable (/proc/PID/exe), or the name exec was given
    std::string command;     // its command line, cut; "" when no sample saw it
};

struct ProcessRecord {
    pid_t pid = 0;        // host pid (0 when only the trace knows the process)
    pid_t ns_pid = 0;     // pid inside the sandbox: the one the trace and explanations use
    pid_t parent_ns_pid = 0;
    std::string role;     // "main", a child function's name, "forkserver", "reaper", "host"
    std::string start_method; // how its parent made it ("" for the sandbox's own)
    std::int64_t start_ns = 0, end_ns = 0; // relative to the run's start; end 0 when alive
    std::optional<int> wait_status;        // raw wait status when it was reaped
    bool killed_by_runner = false;         // still alive when the runner ended the sandbox
    std::string exit_description;          // "exited with code 0", "killed by SIGSEGV"
    std::string output;                    // what it wrote through the probes (output events)
    std::vector<std::pair<pid_t, std::string>> threads; // ns tid, name
    std::string program;   // the executable it ran last, as /proc showed it ("" when unseen)
    std::string command;   // its command line then, cut
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
    double setup_ms = 0;       // runner start to the sandbox's first event
    double verdict_ms = 0;     // runner start to the verdict
    double total_ms = 0;       // runner start to everything reaped
    double quiet_window_ms = 0; // deadlocks: how long the proof window lasted
    int samples = 0;           // /proc samples taken
    double sample_mean_us = 0; // mean cost of one sample
};

struct RunRecord {
    int version = kRunRecordVersion;
    std::uint32_t event_schema = kEventSchemaVersion;
    std::string scenario;
    std::string variant; // empty when run with knobs only
    KnobValues knobs;
    std::optional<Expectation> expected;
    Verdict verdict;
    std::vector<Event> events; // times as recorded (CLOCK_MONOTONIC); see start_time_ns
    std::int64_t start_time_ns = 0; // CLOCK_MONOTONIC at the runner's start
    std::uint64_t dropped_events = 0;
    std::uint64_t torn_events = 0;
    std::vector<Snapshot> snapshots; // samples where something changed, and the last one
    std::vector<ProcessRecord> processes;
    std::vector<ThreadStack> stacks; // deadlocks: the stuck threads and the owners they wait for
    std::vector<LeftRunning> left_running; // alive when the first process ended
    // What the runner kept of each stream: everything, or head + a marker line + tail
    // (sim/output_capture.hpp). *_bytes were written in all, *_dropped of them are not in the text.
    std::string stdout_text, stderr_text;
    std::uint64_t stdout_bytes = 0, stderr_bytes = 0;
    std::uint64_t stdout_dropped = 0, stderr_dropped = 0;
    bool output_truncated = false; // something was dropped (older records: the limit was reached)
    RunTimings timings;
    std::string sandbox;  // what the host isolated: namespaces, filesystem, capabilities, cgroups
    SandboxLimits limits;
    std::vector<LimitEnforcement> enforcement; // how each limit was enforced, and by whom
    std::string cgroups;            // the run's cgroups ("cgroup v1 pids memory ...", "none")
    CgroupCounters cgroup_counters; // the kernel's counters at the end of the run
    std::uint64_t peak_tasks = 0;   // most tasks the cgroup held in any sample
    std::string host;     // kernel and C library, for the record

    const ProcessRecord* find_process(pid_t ns_pid) const;
};

// One line for each limit the kernel did not enforce in this run ("tasks: NOT enforced by the
// kernel (...)"), for the CLI and the GUI to say plainly; empty when cgroups enforced them all.
std::vector<std::string> limits_not_enforced_by_kernel(const RunRecord& record);

// A figure the run measured (a measurement event), for lessons and plots.
struct Measurement {
    pid_t pid = 0, tid = 0;  // namespace ids, as in the trace
    std::string thread;
    std::string name;        // "copy_ms"
    double value = 0;
    std::string unit;        // "ms"
    std::int64_t t_ns = 0;   // relative to the run's start
};
// Every measurement of the run, in recording order.
std::vector<Measurement> measurements_of(const RunRecord& record);

// Versioned JSON. from_json throws std::runtime_error with a one-line message on a malformed
// record or one of a newer version.
nlohmann::json to_json(const RunRecord& record);
RunRecord run_record_from_json(const nlohmann::json& json);

nlohmann::json event_to_json(const Event& event, std::int64_t start_time_ns);
nlohmann::json verdict_to_json(const Verdict& verdict);
nlohmann::json expectation_to_json(const Expectation& expectation);
// A scenario's description: id, title, lesson, knobs, variants with expected outcomes.
nlohmann::json scenario_to_json(const Scenario& scenario);

} // namespace forklore
