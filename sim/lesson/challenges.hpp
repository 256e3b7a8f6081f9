// Challenges: you are the scheduler of a real run, with a goal the verdict checks.
//
// In the spirit of The Deadlock Empire's levels, but on real threads, real locks and a real
// fork(): each challenge is a scenario with knobs that leave the order free (timing=natural), a
// goal ("make the child hang"), a hint, and what the victory teaches. The goal is judged on the
// run's record alone: the verdict the engine proved, and the schedule the player chose (where the
// fork fell among the reader's steps, who waited for whose lock), never on what the scenario says
// should happen.
#pragma once

#include "sim/record/record.hpp"
#include "sim/scenario/scenario.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace forklore {

struct Challenge {
    std::string id;       // "orphan-the-lock"
    std::string title;    // "Make the child hang"
    std::string scenario; // the scenario to step
    KnobValues knobs;     // timing=natural and the rest
    std::string goal;     // what to achieve, in a sentence
    std::string hint;
    std::string lesson; // what the victory teaches
    // Whether a finished run's record achieves the goal, and if not, why not (one sentence).
    std::function<std::string(const RunRecord&)> missed;
};

// Every challenge, in the order they are meant to be played.
const std::vector<Challenge>& challenges();
const Challenge* find_challenge(const std::string& id);
// Its index in challenges() (what the Scheduler tab selects by); nullopt for an unknown id.
std::optional<int> challenge_index(const std::string& id);
// "orphan-the-lock, the-safe-moment, ...": every id, for a message about an unknown one.
std::string challenge_ids();

// "" when `record` (a finished stepped run of the challenge's scenario) achieves the goal;
// otherwise why not.
std::string challenge_missed(const Challenge& challenge, const RunRecord& record);

} // namespace forklore
