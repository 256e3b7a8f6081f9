// The timeline's second source: the kernel's samples, for the threads and processes the trace
// does not cover (a program nobody instrumented, run by `forklore exec`, or a scenario's process
// after it exec'd a Python interpreter). Used by build_timeline_model (timeline_model.cpp) once
// the trace's bars are built; no ImGui.
#pragma once

#include "gui/models/timeline_model.hpp"

#include <cstdint>
#include <string>

namespace forklore::gui {

// Adds what the samples and the process history show where the trace is silent: for each such
// thread, bars of what consecutive samples showed it doing (waiting, and on what; running;
// sleeping), a lane name that tells threads apart; for each such process, the arrow from the
// parent that made it, markers for its execs, and its exit with the status the samples saw.
// A process is covered by the trace from its first event, up to an exec that no process_start
// followed (a program that records nothing replaced the instrumented one). The sandbox's own
// processes (host, reaper) get nothing.
void add_sampled_activity(TimelineModel& model, const RunRecord& record);

// The tooltip of a bar drawn from the samples: the state and what the thread waits on, the
// thread, the samples that showed it and since when, and the verdict's words for a final wait.
std::string describe_sampled_bar(const TimelineModel& model, const RunRecord& record,
                                 const TimelineBar& bar);

// Shared by the trace's pass and the samples' pass.
std::string ms(std::int64_t ns);    // "12.345 ms"
std::string exit_label(int status); // "exit 0", "SIGKILL"

} // namespace forklore::gui
