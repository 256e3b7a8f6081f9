// What the runner's files share: one run's state (SandboxRun) and the clock they all read. Only
// sim/run includes this; the runner's interface is runner.hpp.
#pragma once

#include "sim/observe/stacks.hpp"
#include "sim/record/process_records.hpp"
#include "sim/run/output_capture.hpp"
#include "sim/run/runner.hpp"
#include "sim/run/stepping.hpp"
#include "sim/sandbox/cgroup.hpp"

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace forklore {

class Observer;

namespace runner {

// CLOCK_MONOTONIC in nanoseconds, the clock of events and snapshots.
std::int64_t now_ns();
double ms_between(std::int64_t from, std::int64_t to);

// Removes a directory and everything in it (a run's working directory), as far as it can.
void remove_tree(const std::string& path);

// How each limit of the run is enforced: by the kernel (cgroups, rlimits) or by the runner.
std::vector<LimitEnforcement> enforcement_of(const RunRequest& request, const SandboxLimits& limits,
                                             const RunCgroup& cgroup);

// One run of one scenario variant: the sandbox it starts, watches and ends, and the record it
// builds on the way. Used once: run() returns the record. Its parts live in runner.cpp (the
// sampling loop and the verdict), spawn_host.cpp (the start), run_limits.cpp (the limits the
// kernel or the runner enforces) and run_end.cpp (killing, reaping and the final record).
class SandboxRun {
  public:
    explicit SandboxRun(const RunRequest& request)
        : request_(request), stdout_(request.limits.output_keep),
          stderr_(request.limits.output_keep) {}

    RunRecord run();

  private:
    bool start(const std::string& host_path);
    void loop();
    Snapshot take_sample(Observer& observer, bool detailed);
    void decide_deadlock(const Snapshot& detailed);
    bool first_process_ended();
    void note_left_running(const Snapshot& snapshot);
    void stop_with(VerdictKind kind, std::string explanation);
    void capture_stacks_of(const Snapshot& snapshot, const std::vector<pid_t>& tids);
    void keep_python_thread_names(const ProcessSnapshot& process, ThreadNameList names);
    // Threading names read at the proof (capture_stacks_of): by host tid for the verdict's
    // sentences, by namespace ids for the record's process list, made when the run ends.
    struct NamedPythonThread {
        pid_t tid = 0, ns_pid = 0, ns_tid = 0;
        std::string name;
    };
    std::vector<NamedPythonThread> python_thread_names_;
    void kill_and_reap();
    void finish_record();
    // Keeps a sample when what the threads do changed (at most 400 of them).
    void keep_snapshot(const Snapshot& snapshot);
    // Keeps the sample the run ended on (a verdict, the deadline, the last one), unless it is
    // kept already: however alike the one before it looks, it is what the verdict saw.
    void keep_as_last(const Snapshot& snapshot);
    // Copies the channel's table of source files (the files events were recorded from).
    void read_source_files();
    bool kernel_limit_reached();
    // The output written so far passed limits.max_output: the verdict is `limit` ("output").
    bool output_limit_reached();
    void watch_limits();
    void stop_watching();

    const RunRequest& request_;
    RunRecord record_;
    Channel channel_;
    Stepper stepper_; // a stepped run's board and scheduler; inactive otherwise
    std::uint64_t cursor_ = 0;
    OutputPipe stdout_, stderr_;
    std::string workdir_;
    std::string stdout_target_, stderr_target_; // our capture pipes, as /proc names them
    pid_t host_pid_ = -1;
    int host_pidfd_ = -1;
    int host_status_ = 0;
    bool host_exited_ = false;
    bool decided_ = false;        // the runner ended the sandbox with a verdict of its own
    bool killed_sandbox_ = false; // the sandbox was still running when the runner ended it
    std::set<pid_t> seen_pids_;   // every host pid ever observed in the sandbox
    ProcessHistory history_;      // every sample's processes: the process tree of the records
    std::string last_signature_;
    Snapshot last_snapshot_;
    std::int64_t start_ns_ = 0;
    double sample_total_us_ = 0;
    std::size_t first_exit_scan_ = 0; // events already searched for the first process's exit
    RunCgroup cgroup_;
    CgroupCounters counters_;
    // The kernel's counters are watched by a thread of their own, every millisecond: a fork bomb
    // at its limit makes every /proc read of a sample slow (each refused fork holds its parent's
    // memory map), and the sandbox must be ended at once, not after the sample.
    std::thread limit_watcher_;
    std::atomic<bool> watching_{false};
    std::atomic<std::int64_t> limit_hit_ns_{0};
};

} // namespace runner
} // namespace forklore
