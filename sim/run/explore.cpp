// Exploring the schedules of a stepped run (explore.hpp).
//
// Each run records, at every step, which threads were waiting and which one was let go. The
// branches of a run are the steps after its prefix where another waiting thread could have gone
// instead; each branch within the preemption bound becomes the prefix of a later run. Threads are
// named by their namespace ids, which the same choices reproduce (every process and thread is
// made by a step); a prefix whose thread is not waiting when its turn comes is counted as
// diverged (something in the program depends on time, not on the schedule), not run further.
#include "sim/run/explore.hpp"

#include "sim/record/record.hpp"
#include "sim/run/matrix.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <utility>

namespace forklore {

namespace {

struct ThreadId {
    pid_t pid = 0, tid = 0;
    bool operator==(const ThreadId&) const = default;
};

ThreadId id_of(const StepView& view) {
    return {view.pid, view.tid};
}

// One step of a run as the explorer keeps it: who could go, who went.
struct TracedStep {
    std::vector<ThreadId> waiting;
    ThreadId chosen;
};

struct Trace {
    std::vector<TracedStep> steps;
    bool diverged = false;
    ReplayPatience patience;
};

bool contains(const std::vector<ThreadId>& ids, const ThreadId& id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// The scheduler of one run: the prefix, then the default policy; every choice traced.
Scheduler follow_then_continue(std::vector<ThreadId> prefix, std::shared_ptr<Trace> trace) {
    return [prefix = std::move(prefix), trace](const StepState& state) {
        const std::size_t step = state.steps_taken;
        TracedStep traced;
        for (std::size_t index : state.runnable)
            traced.waiting.push_back(id_of(state.slots[index]));
        auto slot_of = [&](const ThreadId& id) {
            for (std::size_t index : state.runnable)
                if (id_of(state.slots[index]) == id)
                    return state.slots[index].slot;
            return -1;
        };
        int slot = -1;
        if (step < prefix.size()) {
            slot = slot_of(prefix[step]);
            if (slot < 0 && !trace->patience.give_up(state))
                return StepChoice::later();
            if (slot < 0) {
                trace->diverged = true;
                return StepChoice::run_free("the explored prefix could not be followed");
            }
            traced.chosen = prefix[step];
        } else {
            // Non-preemptive: the thread that went last goes on while it can.
            if (!trace->steps.empty())
                slot = slot_of(trace->steps.back().chosen);
            if (slot < 0)
                slot = state.slots[state.runnable.front()].slot;
            for (std::size_t index : state.runnable)
                if (state.slots[index].slot == slot)
                    traced.chosen = id_of(state.slots[index]);
        }
        trace->steps.resize(step);
        trace->steps.push_back(std::move(traced));
        return StepChoice::grant(slot);
    };
}

// Preemptions of the choices steps[0..count) followed by `next` at step `count`.
int preemptions(const std::vector<TracedStep>& steps, std::size_t count, const ThreadId& next) {
    int total = 0;
    for (std::size_t j = 1; j <= count && j < steps.size(); ++j) {
        const ThreadId& chosen = j < count ? steps[j].chosen : next;
        const ThreadId& before = steps[j - 1].chosen;
        if (!(chosen == before) && contains(steps[j].waiting, before))
            ++total;
    }
    return total;
}

std::string ordinal_step(std::size_t n) {
    return n == 1 ? "1 step" : fmt::format("{} steps", n);
}

// Where the first fork of `schedule` fell among the other threads of the forking process.
std::optional<ForkPlacement> fork_placement(const Schedule& schedule) {
    for (std::size_t i = 0; i < schedule.steps.size(); ++i) {
        const ScheduleStep& fork = schedule.steps[i];
        if (fork.kind != EventKind::child_start)
            continue;
        // The other threads of its process, in the order they first stepped, with their steps
        // before the fork and the last of them.
        std::vector<std::pair<std::string, std::pair<std::size_t, std::string>>> others;
        auto find = [&](const std::string& name) {
            for (auto& other : others)
                if (other.first == name)
                    return &other.second;
            others.push_back({name, {0, {}}});
            return &others.back().second;
        };
        for (std::size_t j = 0; j < schedule.steps.size(); ++j) {
            const ScheduleStep& step = schedule.steps[j];
            if (step.pid != fork.pid || step.tid == fork.tid)
                continue;
            auto* other = find(fmt::format("{} (tid {})", step.thread, step.tid));
            if (j < i) {
                ++other->first;
                other->second = fmt::format("{}{}", step_verb(step.kind),
                                            step.object.empty() ? "" : " " + step.object);
            }
        }
        std::vector<std::string> parts;
        ForkPlacement placement;
        for (const auto& [name, done] : others)
            placement.steps_before.push_back(done.first);
        for (const auto& [name, done] : others)
            parts.push_back(done.first == 0 ? fmt::format("{} had taken no step", name)
                                            : fmt::format("{} had taken {}, the last: {}", name,
                                                          ordinal_step(done.first), done.second));
        placement.description =
            fmt::format("{} forked when {}", fork.thread,
                        parts.empty() ? std::string("no other thread had stepped")
                                      : fmt::format("{}", fmt::join(parts, "; ")));
        return placement;
    }
    return std::nullopt;
}

void sort_placements(ExploreResult& result) {
    std::sort(result.fork_placements.begin(), result.fork_placements.end(),
              [](const ForkPlacement& a, const ForkPlacement& b) {
                  return a.steps_before < b.steps_before;
              });
}

} // namespace

ExploreResult explore_schedules(const RunRequest& base, const ExploreOptions& options) {
    ExploreResult result;
    result.preemption_bound = options.preemption_bound;
    std::vector<std::vector<ThreadId>> pending = {{}}; // prefixes still to run (a stack: DFS)
    while (!pending.empty()) {
        if (result.schedules >= options.max_schedules ||
            (options.cancel && options.cancel->load())) {
            sort_placements(result);
            return result;
        }
        const std::vector<ThreadId> prefix = std::move(pending.back());
        pending.pop_back();
        auto trace = std::make_shared<Trace>();
        RunRequest request = base;
        request.scheduler = follow_then_continue(prefix, trace);
        const RunRecord record = run_scenario(request);
        ++result.schedules;
        if (trace->diverged) {
            ++result.diverged;
        } else {
            // Branches: at each step after the prefix, every other waiting thread.
            for (std::size_t step = trace->steps.size(); step-- > prefix.size();) {
                const TracedStep& traced = trace->steps[step];
                for (auto other = traced.waiting.rbegin(); other != traced.waiting.rend();
                     ++other) {
                    if (*other == traced.chosen ||
                        preemptions(trace->steps, step, *other) > options.preemption_bound)
                        continue;
                    std::vector<ThreadId> branch;
                    for (std::size_t j = 0; j < step; ++j)
                        branch.push_back(trace->steps[j].chosen);
                    branch.push_back(*other);
                    pending.push_back(std::move(branch));
                }
            }
            const std::string label = outcome_label(record.verdict);
            ExploredOutcome& outcome = result.outcomes[label];
            ++outcome.schedules;
            if (record.schedule && (outcome.schedules == 1 || record.schedule->steps.size() <
                                                                  outcome.shortest.steps.size())) {
                outcome.shortest = *record.schedule;
                outcome.verdict = record.verdict.explanation;
            }
            if (record.schedule)
                if (auto placement = fork_placement(*record.schedule)) {
                    auto found =
                        std::find_if(result.fork_placements.begin(), result.fork_placements.end(),
                                     [&](const ForkPlacement& p) {
                                         return p.description == placement->description;
                                     });
                    if (found == result.fork_placements.end()) {
                        result.fork_placements.push_back(std::move(*placement));
                        found = result.fork_placements.end() - 1;
                    }
                    ++found->outcomes[label];
                }
        }
        if (options.on_schedule)
            options.on_schedule(result.schedules, pending.size());
    }
    result.complete = true;
    sort_placements(result);
    return result;
}

std::string describe_exploration(const ExploreResult& result) {
    std::string out = fmt::format(
        "{} schedule{} run, preemption bound {}{}{}\n", result.schedules,
        result.schedules == 1 ? "" : "s", result.preemption_bound,
        result.complete ? " (every schedule within the bound)" : " (stopped before the end)",
        result.diverged ? fmt::format("; {} could not follow their prefix", result.diverged) : "");
    for (const auto& [label, outcome] : result.outcomes) {
        out += fmt::format("  {:<32} {} schedule{}\n", label, outcome.schedules,
                           outcome.schedules == 1 ? "" : "s");
        out += fmt::format("    a shortest one ({} steps):\n", outcome.shortest.steps.size());
        for (std::size_t i = 0; i < outcome.shortest.steps.size(); ++i)
            out +=
                fmt::format("      {:>3}. {}\n", i + 1, describe_step(outcome.shortest.steps[i]));
    }
    if (!result.fork_placements.empty()) {
        out += "  where the fork fell, and what followed:\n";
        for (const auto& placement : result.fork_placements) {
            std::vector<std::string> counts;
            for (const auto& [label, count] : placement.outcomes)
                counts.push_back(fmt::format("{} x{}", label, count));
            out += fmt::format("    {}: {}\n", placement.description, fmt::join(counts, ", "));
        }
    }
    return out;
}

nlohmann::json exploration_to_json(const ExploreResult& result) {
    nlohmann::json outcomes = nlohmann::json::object();
    for (const auto& [label, outcome] : result.outcomes)
        outcomes[label] = {{"schedules", outcome.schedules},
                           {"shortest", schedule_to_json(outcome.shortest)},
                           {"explanation", outcome.verdict}};
    nlohmann::json placements = nlohmann::json::array();
    for (const auto& placement : result.fork_placements)
        placements.push_back({{"description", placement.description},
                              {"steps_before", placement.steps_before},
                              {"outcomes", placement.outcomes}});
    return {{"schedules", result.schedules},   {"diverged", result.diverged},
            {"complete", result.complete},     {"preemption_bound", result.preemption_bound},
            {"outcomes", std::move(outcomes)}, {"fork_placements", std::move(placements)}};
}

} // namespace forklore
