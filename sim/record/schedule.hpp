// The schedule of a stepped run: the sequence of thread choices the scheduler made, in order.
//
// A stepped run (RunRequest::scheduler) writes it into its record; `forklore run ID --schedule
// FILE` replays it in a fresh sandbox. Each step names the thread that was let go by its
// namespace ids (in a PID namespace the same choices give the same ids, since every process and
// thread is made by a step) and says what it was about to do (operation, object, source line),
// so a replay that finds the same thread about to do something else knows it has diverged, and
// a reader of the file sees the story without a run.
#pragma once

#include "sim/protocol/events.hpp"

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace forklore {

struct ScheduleStep {
    pid_t pid = 0, tid = 0;           // namespace ids of the thread that was let go
    std::string thread;               // its name
    EventKind kind = EventKind::note; // what it was about to do
    std::string object;               // on what, by name ("file_lock"), or the note's text
    std::string file;                 // the source file of the call ("" unknown)
    std::uint32_t line = 0;
};

struct Schedule {
    std::vector<ScheduleStep> steps;
    // After the last step the run was let go unscheduled (the scheduler chose to stop stepping,
    // or a replay ran out of steps): what followed was the machine's timing, not a choice.
    bool ran_free = false;
    // A replay that could not follow its schedule: at which step, and why. Empty when followed.
    std::string diverged;
    // Threads (by name) the runner stopped waiting for while they ran between two scheduling
    // points (a loop or a call with no probe in it, such as a glibc function): where they were
    // in that stretch when another thread stepped was the machine's timing, not a choice.
    std::vector<std::string> unsettled;
};

// What a thread about to record `kind` is about to do, in a word or two: "lock", "start child".
std::string_view step_verb(EventKind kind);
// "lock file_lock", "note main: starting the worker": the verb and the object.
std::string describe_operation(const ScheduleStep& step);
// "010_file_read_under_lock.cpp:116" (the file's name without its directory), or "" unknown.
std::string step_location(const ScheduleStep& step);
// "reader (pid 2, tid 3): lock file_lock (010_file_read_under_lock.cpp:116)".
std::string describe_step(const ScheduleStep& step);

nlohmann::json schedule_to_json(const Schedule& schedule);
// Throws RecordError (one line: "schedule: steps[3].kind: unknown event kind 'x'").
Schedule schedule_from_json(const nlohmann::json& json);

// A schedule from a file: a schedule as schedule_to_json writes it, or a run record that holds
// one (its "schedule" member). Throws RecordError or UserFileError, one line naming the file.
Schedule load_schedule_file(const std::string& path);

} // namespace forklore
