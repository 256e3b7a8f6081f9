// Builds the per-process part of a run record from the trace and what the samples saw.
#pragma once

#include "sim/record/record.hpp"

#include <optional>
#include <unordered_map>

namespace forklore {

// What the samples saw of every process over a run. The runner feeds it every sample (the
// record keeps only samples where something changed, a few hundred at most), so it knows when
// each process appeared, its parent, each program it ran, when it exited and its threads, even
// for programs that record no events (forklore exec). Times are CLOCK_MONOTONIC, as samples'.
// Not thread-safe; plain data otherwise.
class ProcessHistory {
  public:
    // A program a process was seen running: the first is the one it started with (its parent's,
    // after a fork), each next one came from an exec.
    struct Program {
        std::int64_t seen_ns = 0; // the first sample that showed it
        std::int64_t last_seen_ns = 0;
        std::string exe;     // /proc/PID/exe
        std::string command; // its command line, cut
    };
    struct Process {
        pid_t pid = 0;           // host pid
        pid_t ns_pid = 0;        // pid inside the sandbox
        pid_t parent_pid = 0;    // host pid of the parent when first seen
        pid_t parent_ns_pid = 0; // the same inside the sandbox; 0 when it was not in the sandbox
        bool infrastructure = false;
        std::string comm; // as last seen
        std::int64_t first_seen_ns = 0, last_seen_ns = 0;
        std::int64_t zombie_ns = 0;       // first sample that showed it exited, not yet reaped
        std::optional<int> zombie_status; // its raw wait status, from that sample
        std::int64_t gone_ns = 0;         // first sample it was missing from: reaped
        std::vector<Program> programs;
        // The first program seen was not its parent's: it exec'd before any sample saw it.
        bool execed_before_seen = false;
        std::vector<std::pair<pid_t, std::string>> threads; // ns tid, name as last seen

        bool ended() const { return zombie_ns != 0 || gone_ns != 0; }
    };

    // Feed every sample, in order.
    void observe(const Snapshot& snapshot);
    // Every process ever seen, in order of first appearance.
    const std::vector<Process>& processes() const { return processes_; }

  private:
    struct Identity {
        std::size_t index = 0;
        std::uint64_t start_time = 0; // a reused pid is a new process
        std::uint64_t image = 0;      // the program it runs, to see an exec
    };
    std::vector<Process> processes_;
    std::unordered_map<pid_t, Identity> live_; // host pid -> its entry, while it exists
};

// How the sandbox host itself ended, as only the runner knows it.
struct SandboxEnd {
    pid_t host_pid = 0;
    int host_status = 0;           // raw wait status of the host
    bool killed_by_runner = false; // the runner ended the sandbox (a verdict of its own)
};

// One ProcessRecord per sandbox process (the host, its reaper, scenario processes, the
// forkserver, programs seen only in /proc), ordered by pid. The trace decides where it speaks
// (roles, start methods, exit statuses); the samples fill in the rest: processes no probe
// announced, their parents, the programs they exec'd, and exits nobody recorded.
// `start_time_ns` is the run's start.
std::vector<ProcessRecord> build_process_records(const std::vector<Event>& events,
                                                 const ProcessHistory& history,
                                                 std::int64_t start_time_ns, const SandboxEnd& end);

// How `process` was made, as far as the record can honestly say: the start method the trace
// recorded ("fork", "spawn" ...); else, for a process the samples saw, "exec PROGRAM" when it
// already ran another program than its parent's when first seen (fork and exec, or
// posix_spawn: a sample cannot tell them apart), or "fork" when it ran its parent's program (a
// copy of the parent); "" when nothing says (no parent, or never sampled).
std::string how_started(const ProcessRecord& process);

// The same from the samples a record kept (tests, and records read back).
std::vector<ProcessRecord> build_process_records(const std::vector<Event>& events,
                                                 const std::vector<Snapshot>& snapshots,
                                                 std::int64_t start_time_ns, const SandboxEnd& end);

} // namespace forklore
