// The commands over the corpus: list, show, run, matrix.
//
// Index of this file:
// [SECTION] list and show
// [SECTION] run
// [SECTION] matrix
#include "cli_output.hpp"
#include "command.hpp"
#include "sandbox_options.hpp"
#include "terminal_scheduler.hpp"

#include "sim/protocol/text.hpp"
#include "sim/record/schedule.hpp"
#include "sim/record/user_file.hpp"
#include "sim/run/matrix.hpp"
#include "sim/run/runner.hpp"
#include "sim/run/stats.hpp"

#include <fmt/format.h>

#include <memory>
#include <optional>

namespace forklore::cli {

namespace {

using nlohmann::json;

// [SECTION] list and show --------------------------------------------------------------------

struct ListOptions {
    bool json_output = false;
    bool all = false;
    bool markdown = false;
};

int command_list(const ListOptions& options) {
    std::vector<const Scenario*> shown;
    for (const auto& s : ScenarioRegistry::instance().all())
        if (!s.hidden || options.all)
            shown.push_back(&s);
    if (options.json_output) {
        json list = json::array();
        for (const auto* s : shown)
            list.push_back(scenario_to_json(*s));
        fmt::print("{}", to_json_text(list));
    } else if (options.markdown) {
        fmt::print("{}", scenario_table_markdown(shown));
    } else {
        fmt::print("{}", scenario_table_text(shown));
    }
    return 0;
}

int command_show(const std::string& id, bool json_output) {
    const Scenario& scenario = find_scenario(id);
    if (json_output)
        fmt::print("{}", to_json_text(scenario_to_json(scenario)));
    else
        fmt::print("{}", describe_scenario(scenario));
    return 0;
}

} // namespace

Command add_list_command(CLI::App& app) {
    auto options = std::make_shared<ListOptions>();
    auto* command = app.add_subcommand("list", "the scenarios with their knobs and variants");
    command->add_flag("--json", options->json_output, "print JSON");
    command->add_flag("--markdown", options->markdown, "print a Markdown table");
    command->add_flag("--self-tests,--all", options->all,
                      "include the engine's self-test scenarios");
    return {command, [options] { return command_list(*options); }};
}

Command add_show_command(CLI::App& app) {
    auto id = std::make_shared<std::string>();
    auto json_output = std::make_shared<bool>(false);
    auto* command = app.add_subcommand("show", "a scenario's lesson, knobs and variants");
    command->add_option("id", *id, "scenario id")->required();
    command->add_flag("--json", *json_output, "print JSON");
    return {command, [id, json_output] { return command_show(*id, *json_output); }};
}

namespace {

// [SECTION] run ------------------------------------------------------------------------------

struct RunOptions {
    std::string id;
    std::string variant;
    std::vector<std::string> settings;
    int repeat = 1;
    double timeout = 0;
    std::string max_output; // as given; empty when not
    bool json_output = false;
    std::string out;
    bool no_stacks = false;
    SandboxOptions sandbox;
    std::size_t event_capacity = Channel::kDefaultCapacity;
    std::string schedule; // a file: replay its schedule
    bool step = false;    // the terminal chooses each step
};

// A stepped run waits for the person at the terminal: the scenario's deadline (a few seconds)
// would end it while they think. Their own --timeout still counts.
constexpr double kSteppingTimeoutSeconds = 3600;

int command_run(const RunOptions& options) {
    const Scenario& scenario = find_scenario(options.id);
    RunRequest request;
    try {
        request = make_request(scenario, options.variant, parse_settings(options.settings));
    } catch (const std::invalid_argument& error) {
        throw UsageError(error.what());
    }
    if (auto max_output = parse_max_output(options.max_output))
        request.limits.max_output = *max_output;
    apply_sandbox_options(options.sandbox, request);
    check_output_file(options.out);
    if (options.timeout > 0)
        request.timeout_seconds = options.timeout;
    request.capture_stacks = !options.no_stacks;
    request.channel_capacity = options.event_capacity;
    request.cancel = &interrupted();
    if (options.step && options.repeat > 1)
        throw UsageError("--step chooses every step by hand: it runs once (no --repeat)");
    if (options.step && !options.schedule.empty())
        throw UsageError("--step and --schedule both choose the steps: give one of them");
    if (!options.schedule.empty())
        request.scheduler = replay_schedule(load_schedule_file(options.schedule));
    if (options.step) {
        request.scheduler = terminal_scheduler(stdin, stderr);
        if (options.timeout <= 0)
            request.timeout_seconds = kSteppingTimeoutSeconds;
    }

    if (options.repeat <= 1) {
        RunRecord record = run_scenario(request);
        stop_if_interrupted();
        emit_record(record, options.out, options.json_output, describe_run);
        return 0;
    }
    RepeatSummary summary;
    for (int i = 0; i < options.repeat; ++i) {
        RunRecord record = run_scenario(request);
        stop_if_interrupted();
        summary.add(record);
        if (interactive())
            fmt::print(stderr, "\r{} of {} runs", i + 1, options.repeat);
    }
    if (interactive())
        fmt::print(stderr, "\r\033[K");
    const std::string text = to_json_text(summary.to_json());
    if (!options.out.empty())
        write_output_file(options.out, text);
    if (options.json_output)
        fmt::print("{}", text);
    else
        fmt::print("{}", summary.describe());
    return 0;
}

} // namespace

Command add_run_command(CLI::App& app) {
    auto run = std::make_shared<RunOptions>();
    auto* command =
        app.add_subcommand("run", "run a scenario in the sandbox and print its verdict");
    command->add_option("id", run->id, "scenario id")->required();
    command->add_option("--variant", run->variant, "a named variant (see 'forklore show ID')");
    command->add_option("--set", run->settings, "set a knob: knob=value (repeatable)");
    command->add_option("--repeat", run->repeat, "run N times and report the hang rate")
        ->check(whole_number_between(1, 100000));
    command->add_option("--timeout", run->timeout, "deadline in seconds")
        ->check(seconds_between(0.01, 3600));
    command->add_flag("--step", run->step,
                      "be the scheduler: at each scheduling point choose which waiting thread "
                      "takes the next step (the record keeps the schedule)");
    command->add_option("--schedule", run->schedule,
                        "replay the schedule of a stepped run (its record, or a schedule file)");
    add_output_and_sandbox_options(command, run->max_output, run->json_output, run->out,
                                   run->no_stacks, run->sandbox);
    command
        ->add_option("--event-capacity", run->event_capacity,
                     "events the event ring holds (default and most: 262144); more are counted as "
                     "dropped, and the verdict, proven from /proc, still holds")
        ->check(whole_number_between(1, static_cast<long>(Channel::kDefaultCapacity)));
    return {command, [run] { return command_run(*run); }};
}

namespace {

// [SECTION] matrix ---------------------------------------------------------------------------

struct MatrixCommandOptions {
    MatrixOptions matrix;
    bool all = false;           // racy and slow variants too
    bool deterministic = false; // every deterministic variant, slow ones too, no racy one
    bool filtered = false;      // --filter was given: it names the variants to run
    bool list_only = false;     // print what would run, run nothing
    std::string junit;
    std::string jsonl; // one line per finished variant, written as it finishes
    bool json_output = false;
    bool no_namespaces = false;
    bool no_cgroups = false;
};

// One line after the table: the variants the default set left out, and how to run them.
std::string skipped_note(const SkippedVariants& skipped) {
    std::vector<std::string> parts;
    if (skipped.racy)
        parts.push_back(fmt::format("{} racy", skipped.racy));
    if (skipped.slow)
        parts.push_back(fmt::format("{} slow", skipped.slow));
    return fmt::format("{} variant{} skipped: --all runs them\n", fmt::join(parts, " and "),
                       skipped.total() == 1 ? "" : "s");
}

// The tiers: without a filter, the default set (deterministic, not slow); --deterministic adds
// the slow ones; --all adds racy and slow ones. A filter names the variants the user wants, so
// it runs every one it matches unless --deterministic leaves the racy ones out.
void choose_tiers(MatrixCommandOptions& options) {
    const bool everything = options.all || (options.filtered && !options.deterministic);
    options.matrix.include_racy = everything;
    options.matrix.include_slow = everything || options.deterministic;
}

int command_matrix(MatrixCommandOptions options) {
    if (options.matrix.repeat < 1)
        throw UsageError("--repeat takes a number of at least 1");
    choose_tiers(options);
    if (select_variants(options.matrix).empty()) {
        MatrixOptions with_self_tests = options.matrix;
        with_self_tests.include_hidden = true;
        const SkippedVariants skipped = skipped_variants(options.matrix);
        std::string hint;
        if (skipped.total())
            hint = fmt::format(" to run ({} skipped: --all runs them)", skipped.total());
        else if (!options.matrix.include_hidden && !select_variants(with_self_tests).empty())
            hint = " (it matches self-tests: --self-tests runs them)";
        throw UsageError(fmt::format("no variant matches the filter '{}'{}",
                                     printable(options.matrix.filter, 100), hint));
    }
    if (options.list_only) {
        for (const auto& [scenario, variant] : select_variants(options.matrix))
            fmt::print("{}:{}{}\n", scenario->id, variant->name, variant_tier_mark(*variant));
        if (const SkippedVariants skipped = skipped_variants(options.matrix); skipped.total())
            fmt::print("{}", skipped_note(skipped));
        return 0;
    }
    check_output_file(options.junit);
    check_output_file(options.jsonl);
    options.matrix.namespaces = !options.no_namespaces;
    options.matrix.cgroups = !options.no_cgroups;
    // Opened (and truncated) before the first run: a matrix that cannot keep its results does
    // not start.
    std::optional<JsonLinesFile> lines;
    if (!options.jsonl.empty())
        lines.emplace(options.jsonl);
    std::size_t lines_written = 0;
    const bool progress = interactive() && !options.json_output;
    options.matrix.on_cell = [&](const MatrixCell& cell, std::size_t done, std::size_t total) {
        if (progress)
            fmt::print(stderr, "\r\033[K[{}/{}] {}:{} {}", done, total, cell.scenario, cell.variant,
                       cell.passed ? "ok" : "MISMATCH");
        // A variant cut short by Ctrl-C is not a result: only finished variants are kept.
        if (lines && cell.complete) {
            json line = matrix_cell_json(cell);
            line["done"] = ++lines_written;
            line["total"] = total;
            lines->append(line);
        }
    };
    options.matrix.cancel = &interrupted();
    auto cells = run_matrix(options.matrix);
    stop_if_interrupted();
    if (progress)
        fmt::print(stderr, "\r\033[K");
    if (!options.junit.empty())
        write_output_file(options.junit, matrix_junit(cells));
    if (options.json_output)
        fmt::print("{}", to_json_text(matrix_json(cells)));
    else
        fmt::print("{}", matrix_table(cells));
    if (const SkippedVariants skipped = skipped_variants(options.matrix); skipped.total())
        fmt::print(options.json_output ? stderr : stdout, "{}", skipped_note(skipped));
    if (lines && !lines->error().empty())
        throw std::runtime_error(lines->error());
    for (const auto& cell : cells)
        if (!cell.passed)
            return kExitError;
    return 0;
}

} // namespace

Command add_matrix_command(CLI::App& app) {
    auto matrix = std::make_shared<MatrixCommandOptions>();
    auto* command =
        app.add_subcommand("matrix", "run every variant and compare with its expected outcome");
    command->footer(
        "By default the matrix runs the deterministic variants that are not marked slow (the "
        "quick check) and says how many racy and slow ones it skipped. --all runs every variant; "
        "--deterministic every deterministic one, slow ones too. A --filter names the variants "
        "to run: it runs every variant it matches, racy and slow ones too (with --deterministic, "
        "not the racy ones). The engine's self-test scenarios run only with --self-tests.");
    command
        ->add_option("--filter", matrix->matrix.filter,
                     "glob on scenario:variant; runs every variant it matches, racy and slow "
                     "ones too")
        ->each([matrix](const std::string&) { matrix->filtered = true; });
    command->add_option("--repeat", matrix->matrix.repeat, "runs of each deterministic variant")
        ->check(whole_number_between(1, 10000));
    command->add_option("--jobs", matrix->matrix.jobs, "runs in parallel (default: cores)")
        ->check(whole_number_between(1, 256));
    command->add_option("--junit", matrix->junit, "write a JUnit XML report to FILE")
        ->check(kFileName);
    command
        ->add_option("--jsonl", matrix->jsonl,
                     "write one JSON line to FILE as each variant finishes (a stopped "
                     "or killed matrix keeps every finished variant)")
        ->check(kFileName);
    auto* all = command->add_flag("--all", matrix->all,
                                  "run every variant: racy ones (which run many times for a "
                                  "hang rate) and slow ones too");
    command
        ->add_flag("--deterministic", matrix->deterministic,
                   "run every deterministic variant, slow ones too (skip the racy ones, "
                   "which expect a hang rate)")
        ->excludes(all);
    command->add_flag("--no-namespaces", matrix->no_namespaces,
                      "run every sandbox without namespaces, as on a kernel that has none");
    command->add_flag("--no-cgroups", matrix->no_cgroups,
                      "run every sandbox without cgroups: limits are then sampled, not "
                      "enforced by the kernel");
    command->add_flag("--json", matrix->json_output, "print JSON");
    command->add_flag("--self-tests", matrix->matrix.include_hidden,
                      "include the engine's self-test scenarios");
    command->add_flag("--list", matrix->list_only,
                      "print the variants it would run (and what it skips), run nothing");
    return {command, [matrix] { return command_matrix(*matrix); }};
}

} // namespace forklore::cli
