// Why a run that ended on its own did not hang, told as carefully as a hang: for every child
// process, how it was made and what that meant for the locks held at that moment (a fresh program
// has no copy of them; a fork server is a copy of a clean process; a fork copies them in the
// state they had, or pthread_atfork-style handlers freed them in both processes); and the
// hazards that were there but did not bite, as warnings. Everything comes from the trace (and
// the kernel's /proc/locks where a sample read it), never from what the scenario expects.
#pragma once

#include "sim/observe/snapshot.hpp"
#include "sim/protocol/events.hpp"
#include "sim/verdict/verdict.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace forklore {

struct CompletionStory {
    // One sentence (or two) per child process, in the order the children were made.
    std::vector<std::string> children;
    std::vector<VerdictWarning> warnings;
};

// Reads the trace of a run that ended on its own. Times in the sentences count from
// `run_start_ns` (RunRecord::start_time_ns). `snapshots` may be empty.
CompletionStory explain_completion(const std::vector<Event>& events,
                                   const std::vector<Snapshot>& snapshots,
                                   std::int64_t run_start_ns);

// Adds the story to a verdict judged from the exits: for a completed run, " Why it did not hang:
// ..." after its explanation; for any verdict, the warnings.
void add_completion_story(Verdict& verdict, const std::vector<Event>& events,
                          const std::vector<Snapshot>& snapshots, std::int64_t run_start_ns);

} // namespace forklore
