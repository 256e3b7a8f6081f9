// `forklore explore ID [--variant V] [--set K=V] [--bound K] [--json]`: every schedule of a
// stepped run within a preemption bound, run for real, and what each led to (sim/run/explore.hpp).
#include "cli_output.hpp"
#include "command.hpp"
#include "sandbox_options.hpp"

#include "sim/protocol/text.hpp"
#include "sim/record/record.hpp"
#include "sim/record/user_file.hpp"
#include "sim/run/explore.hpp"
#include "sim/run/runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

namespace forklore::cli {

namespace {

struct ExploreCommandOptions {
    std::string id;
    std::string variant;
    std::vector<std::string> settings;
    int bound = 2;
    std::size_t max_schedules = 2000;
    bool json_output = false;
    std::string out;
    bool no_prune = false;
    bool unbounded = false;
};

// A scenario whose `timing` knob can be "natural": forced timing's barriers fix the order the
// exploration is there to vary (every schedule would end alike), so explore frees it unless the
// user set it.
bool frees_timing(const Scenario& scenario, const Variant* variant, KnobValues& settings) {
    // A Python program has no scheduling points: freeing its timing would only change what it
    // runs, with nothing to step (the exploration says so).
    if (settings.count("timing") || scenario.runs_python())
        return false;
    if (variant && variant->knobs.count("timing") && variant->knobs.at("timing") == "natural")
        return false; // natural already: nothing freed
    for (const auto& knob : scenario.knobs)
        if (knob.name == "timing" && knob.type == KnobType::choice &&
            std::find(knob.choices.begin(), knob.choices.end(), "natural") != knob.choices.end()) {
            settings["timing"] = "natural";
            return true;
        }
    return false;
}

// A racy variant's explored counterpart counts its loops in steps (ExploredFact::settings): its
// settings apply unless the user set those knobs.
std::string counterpart_settings(const Variant* variant, KnobValues& settings) {
    if (!variant || !variant->expected.explored)
        return {};
    std::vector<std::string> applied;
    for (const auto& [knob, value] : variant->expected.explored->settings)
        if (settings.emplace(knob, value).second)
            applied.push_back(knob + "=" + value);
    return fmt::format("{}", fmt::join(applied, " "));
}

int command_explore(const ExploreCommandOptions& options) {
    const Scenario& scenario = find_scenario(options.id);
    RunRequest request;
    KnobValues settings = parse_settings(options.settings);
    const Variant* variant = scenario.find_variant(options.variant); // null: none, or unknown
    const bool freed = frees_timing(scenario, variant, settings);
    const std::string counterpart = counterpart_settings(variant, settings);
    try {
        request = make_request(scenario, options.variant, settings);
    } catch (const std::invalid_argument& error) {
        throw UsageError(error.what());
    }
    check_output_file(options.out);
    request.cancel = &interrupted();
    ExploreOptions explore;
    explore.preemption_bound = options.unbounded ? -1 : options.bound;
    explore.max_schedules = options.max_schedules;
    explore.prune_independent = !options.no_prune;
    explore.cancel = &interrupted();
    if (interactive())
        explore.on_schedule = [](std::size_t done, std::size_t pending) {
            fmt::print(stderr, "\r\033[K{} schedules run, {} waiting", done, pending);
        };
    const ExploreResult result = explore_schedules(request, explore);
    stop_if_interrupted();
    if (interactive())
        fmt::print(stderr, "\r\033[K");
    nlohmann::json json = exploration_to_json(result);
    json["scenario"] = scenario.id;
    json["variant"] = options.variant;
    json["knobs"] = request.knobs;
    const std::string text = to_json_text(json);
    if (!options.out.empty())
        write_output_file(options.out, text);
    if (options.json_output)
        fmt::print("{}", text);
    else
        fmt::print("{}{}{}{}: {}", scenario.id,
                   options.variant.empty() ? "" : ":" + options.variant,
                   freed ? " with timing=natural (the barriers of forced timing would fix the "
                           "order to explore)"
                         : "",
                   counterpart.empty()
                       ? std::string()
                       : fmt::format(" with {} (the variant's explored counterpart: its loop "
                                     "counted in steps, not time)",
                                     counterpart),
                   describe_exploration(result));
    if (!options.json_output && variant && variant->expected.explored &&
        variant->expected.explored->bound == explore.preemption_bound) {
        const std::string differs = explored_mismatch(result, *variant->expected.explored);
        fmt::print("  the corpus states: {}: {}\n", variant->expected.explored->describe(),
                   differs.empty() ? "it holds" : "it does not hold here: " + differs);
    }
    return 0;
}

} // namespace

Command add_explore_command(CLI::App& app) {
    auto options = std::make_shared<ExploreCommandOptions>();
    auto* command = app.add_subcommand(
        "explore", "run every schedule of a stepped run (within a preemption bound) and report "
                   "which hang, why, and a shortest one of each");
    command->add_option("id", options->id, "scenario id")->required();
    command->add_option("--variant", options->variant, "a named variant (see 'forklore show ID')");
    command->add_option("--set", options->settings, "set a knob: knob=value (repeatable)");
    command
        ->add_option("--bound", options->bound,
                     "preemptions allowed in a schedule: switches away from a thread that could "
                     "have gone on (default 2)")
        ->check(whole_number_between(0, 8));
    command
        ->add_option("--max-schedules", options->max_schedules,
                     "stop after this many runs (default 2000)")
        ->check(whole_number_between(1, 1000000));
    auto* unbounded = command->add_flag(
        "--unbounded", options->unbounded,
        "no preemption bound: every schedule, those that only reorder independent "
        "steps of another cut short (sleep sets; sound only without a bound)");
    command
        ->add_flag("--no-prune", options->no_prune,
                   "with --unbounded: run the schedules that only reorder independent steps "
                   "too")
        ->needs(unbounded);
    command->add_flag("--json", options->json_output, "print the exploration as JSON");
    command->add_option("--out", options->out, "also write the exploration (JSON) to FILE")
        ->check(kFileName);
    return {command, [options] { return command_explore(*options); }};
}

} // namespace forklore::cli
