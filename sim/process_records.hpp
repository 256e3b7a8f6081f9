// Builds the per-process part of a run record from the trace and the snapshots.
#pragma once

#include "sim/record.hpp"

namespace forklore {

// One ProcessRecord per sandbox process (scenario processes, the forkserver, exec'd programs
// seen only in /proc), ordered by namespace pid. `start_time_ns` is the run's start.
std::vector<ProcessRecord> build_process_records(const std::vector<Event>& events,
                                                 const std::vector<Snapshot>& snapshots,
                                                 std::int64_t start_time_ns);

} // namespace forklore
