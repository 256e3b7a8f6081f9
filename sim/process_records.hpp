// Builds the per-process part of a run record from the trace and the snapshots.
#pragma once

#include "sim/record.hpp"

namespace forklore {

// How the sandbox host itself ended, as only the runner knows it.
struct SandboxEnd {
    pid_t host_pid = 0;
    int host_status = 0;          // raw wait status of the host
    bool killed_by_runner = false; // the runner ended the sandbox (a verdict of its own)
};

// One ProcessRecord per sandbox process (the host, its reaper, scenario processes, the
// forkserver, exec'd programs seen only in /proc), ordered by pid. `start_time_ns` is the run's
// start.
std::vector<ProcessRecord> build_process_records(const std::vector<Event>& events,
                                                 const std::vector<Snapshot>& snapshots,
                                                 std::int64_t start_time_ns, const SandboxEnd& end);

} // namespace forklore
