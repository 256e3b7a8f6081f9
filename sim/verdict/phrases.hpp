// Internal to the verdict engine: the phrases every verdict sentence is built from. Ids are the
// namespace ids the trace records.
#pragma once

#include "sim/protocol/events.hpp"
#include "sim/verdict/verdict.hpp"

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace forklore {

// "process 3 (child 'read_file')", "process 2 ('main')", or "process 2" when the trace
// never named it.
std::string process_label(const std::vector<Event>& events, pid_t pid);
// "thread 'main' (tid 3)"; "thread (tid 3)" when unnamed.
std::string thread_phrase(std::string_view name, pid_t tid);
// "thread 'main' (tid 3) of process 3"
std::string waiter_phrase(const WaitEdge& edge);
// "lock 'file_lock'", or "the lock at 0x55d0c0a0" when unnamed ("the mutex at ..." when only its
// kind is known).
std::string lock_label(const WaitEdge& edge);
// "3", "3 and 4", "3, 4 and 5"
std::string pid_list(const std::vector<pid_t>& pids);
// The text with its first letter in capitals: a phrase that starts a sentence.
std::string capitalized(std::string text);
// "3.1 ms": `time_ns` after the run's start (RunRecord::start_time_ns), the one origin of every
// time a student sees: the event log, the timeline, the JSON and the verdict's sentences.
std::string time_in_run(std::int64_t run_start_ns, std::int64_t time_ns);

} // namespace forklore
