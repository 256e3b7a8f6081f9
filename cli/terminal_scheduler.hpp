// `forklore run ID --step`: the person at the terminal is the scheduler. Each time the sandbox
// has settled, the threads waiting at a scheduling point are listed with what each is about to
// do and where; the person types which one takes the next step.
#pragma once

#include "sim/run/scheduler.hpp"

#include <cstdio>

namespace forklore::cli {

// Reads choices from `in` and writes the prompts to `out`: a number lets that thread take one
// step, 'f' (or the end of the input) lets the rest of the run go on unscheduled.
Scheduler terminal_scheduler(std::FILE* in, std::FILE* out);

} // namespace forklore::cli
