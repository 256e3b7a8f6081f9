// The sandbox's own processes, the host (which lives outside the sandbox's PID namespace, so its
// pid is the machine's) and the reaper (pid 1 inside it), are not the scenario's code: the
// Timeline and the Process tree leave them out unless the user asks for them. This is where a
// group or a process is recognised as infrastructure, and where the timeline's model is cut
// down to the scenario's processes.
#pragma once

#include "sim/timeline/timeline_model.hpp"

#include <string_view>

namespace forklore {

// The model without the infrastructure's groups, their lanes and every arrow to or from them
// (the sandbox starting the scenario's first process, the reaper collecting its exit: the exit
// marker stays on the process's own lane). Depths are counted again without the hidden
// ancestors, so the scenario's first process is a root. Lane and group indices are renumbered;
// the run's end and the counts of holds and waits are the whole run's.
TimelineModel without_infrastructure(const TimelineModel& model);

// How many groups of the model are infrastructure (what the "show" toggle would add back).
std::size_t infrastructure_groups(const TimelineModel& model);

} // namespace forklore
