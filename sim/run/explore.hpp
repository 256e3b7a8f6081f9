// Exploring the schedules of a stepped run: `forklore explore ID`.
//
// The explorer runs the scenario again and again in fresh sandboxes, each time under another
// schedule, and says what every schedule led to. It enumerates schedules by re-execution, as
// stateless model checkers do: a run follows a prefix of choices, then a default policy (the
// thread that just ran goes on while it can; otherwise the first waiting thread); every later
// step where another thread was waiting too is a branch, explored by a later run with that prefix.
// Like CHESS, it bounds the preemptions: switching away from a thread that could have gone on
// counts as one, switching from a thread that blocked, exited or stopped at nothing does not. So
// every placement of a fork among the other threads' steps is reached with a bound of 1 or 2.
// Schedules that only reorder independent operations are pruned with sleep sets (the classic
// companion of DPOR; not DPOR's persistent sets, so fewer are pruned than it would).
#pragma once

#include "sim/record/schedule.hpp"
#include "sim/run/runner.hpp"

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace forklore {

struct ExploreOptions {
    int preemption_bound = 2;         // < 0: none
    std::size_t max_schedules = 2000; // the exploration stops there (ExploreResult::complete)
    // Sleep sets: a run does not take, at a step, a thread whose step there another run took
    // already, unless something dependent happened since (as DPOR's sleep sets do). Only
    // without a preemption bound, where they are sound.
    bool prune_independent = true;
    const std::atomic<bool>* cancel = nullptr;
    // After each schedule run: how many so far, and how many are known to be waiting.
    std::function<void(std::size_t done, std::size_t pending)> on_schedule;
};

// What one outcome ("deadlocked(orphaned_lock)", "completed") came from.
struct ExploredOutcome {
    std::size_t schedules = 0;
    Schedule shortest;   // a shortest schedule that led to it (replayable)
    std::string verdict; // the explanation of that run
};

// Where a fork fell: how many steps each other thread of the forking process had taken then.
struct ForkPlacement {
    std::string description; // "main started child 'read' when reader (tid 3) had taken 2 steps..."
    std::vector<std::size_t> steps_before;       // of each other thread, in their order
    std::map<std::string, std::size_t> outcomes; // outcome label -> schedules
};

struct ExploreResult {
    std::size_t schedules = 0; // runs made
    std::size_t diverged = 0;  // runs whose prefix could not be followed (timing in the program)
    std::size_t pruned = 0;    // runs that met only sleeping threads: another run covers them
    bool complete = false;     // every schedule within the bound was run
    int preemption_bound = 0;
    std::map<std::string, ExploredOutcome> outcomes; // by outcome label
    std::vector<ForkPlacement> fork_placements;      // by the other threads' steps before it
    // Threads that ran between two scheduling points until the runner stopped waiting, in some
    // run (Schedule::unsettled): their outcomes depend on timing the schedule does not fix.
    std::set<std::string> unsettled;
};

// Explores `base` (a request for the scenario and knobs; its scheduler is replaced).
ExploreResult explore_schedules(const RunRequest& base, const ExploreOptions& options);

// Every outcome, each with its count and shortest schedule; the fork placements.
std::string describe_exploration(const ExploreResult& result);
nlohmann::json exploration_to_json(const ExploreResult& result);

// "" when `result` (a complete exploration of the fact's settings and bound) proves `fact`:
// every schedule followed its prefix, each placement's schedules all hung with the fact's reason
// or all completed, and the placements and the hanging ones are as many as it says. Otherwise
// what differs, in one line.
std::string explored_mismatch(const ExploreResult& result, const ExploredFact& fact);

} // namespace forklore
