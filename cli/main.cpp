// forklore: the command line over the engine.
//
//   forklore list [--json] [--all]
//   forklore show ID [--json]
//   forklore run ID [--variant V] [--set knob=value ...] [--repeat N] [--timeout S] [--max-output
//   BYTES] [--json] [--out FILE]
//                   [--event-capacity N] [--no-namespaces]
//   forklore matrix [--filter GLOB] [--repeat N] [--jobs N] [--junit FILE] [--jsonl FILE] [--json]
//                   [--all] [--deterministic] [--no-namespaces]
//   forklore exec [--timeout S] [--max-output BYTES] [--json] [--out FILE] [--no-stacks] -- PROGRAM
//   ARGS...
//
// Bad input (unknown id, bad knob value, bad option, an output file that cannot be written)
// prints one line on stderr and exits 2, before anything runs. `exec` exits with a code per
// verdict (exec_command.hpp). The codes: kExitCodesHelp below, and the README.
//
// Index of this file:
// [SECTION] exit codes and errors
// [SECTION] interruption
// [SECTION] parsing knobs and options
// [SECTION] the commands: list, show, run, exec, matrix
// [SECTION] the command line
#include "cli_output.hpp"
#include "exec_command.hpp"

#include "sim/probe/exec_program.hpp"

#include "sim/protocol/text.hpp"
#include "sim/record/record.hpp"
#include "sim/record/user_file.hpp"
#include "sim/run/matrix.hpp"
#include "sim/run/output_capture.hpp"
#include "sim/run/runner.hpp"
#include "sim/run/stats.hpp"
#include "sim/scenario/scenario.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace {

using namespace forklore;
using nlohmann::json;

// [SECTION] exit codes and errors ------------------------------------------------------------

constexpr int kExitError = 1; // matrix: a mismatch; any command: an output file not written
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130; // as a shell reports a program ended by SIGINT

constexpr const char* kExitCodesHelp =
    "Exit codes:\n"
    "  0    success (a run that deadlocks as it should is a success: the verdict is the output)\n"
    "  1    matrix: some variant did not end as expected; any command: the output file could not\n"
    "       be written after the run (disk full, ...), or an internal error\n"
    "  2    usage error: unknown scenario or variant, bad knob or knob value, bad option or\n"
    "       option value, an output file (--out, --junit) that must not or cannot be written;\n"
    "       nothing was run\n"
    "  10-15, 126, 127  exec only: the verdict of the program it ran (forklore exec --help)\n"
    "  130  interrupted (Ctrl-C or SIGTERM): the run in progress was stopped and its sandbox "
    "killed\n"
    "Errors are one line on stderr, starting with 'forklore: '.";

// A usage error: one line on stderr, exit code 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// [SECTION] interruption ---------------------------------------------------------------------

// Ctrl-C or SIGTERM: the run in progress is stopped, its sandbox killed and reaped, its working
// directory removed, and nothing else starts. (The sandbox has its own process group, so the
// terminal's SIGINT reaches only us; we clean up after it.)
std::atomic<bool> g_interrupted{false};
struct Interrupted {};

extern "C" void on_interrupt(int) {
    g_interrupted.store(true);
}

void install_interrupt_handlers() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

void stop_if_interrupted() {
    if (g_interrupted.load())
        throw Interrupted{};
}

// [SECTION] parsing knobs and options --------------------------------------------------------

const Scenario& find_scenario(const std::string& id) {
    const Scenario* scenario = ScenarioRegistry::instance().find(id);
    if (!scenario)
        throw UsageError(
            fmt::format("unknown scenario '{}' (see 'forklore list')", printable(id, 100)));
    return *scenario;
}

KnobValues parse_settings(const std::vector<std::string>& settings) {
    try {
        return parse_knob_settings(settings);
    } catch (const std::invalid_argument& error) {
        throw UsageError(error.what());
    }
}

// An output file named on the command line, refused before anything runs: a run can take
// seconds and its record would be lost, and what is at the path must not be replaced by it.
void check_output_file(const std::string& path) {
    if (path.empty())
        return;
    if (auto problem = output_file_problem(path))
        throw UsageError(*problem);
}

// Option values CLI11 would take too readily: its Range lets "nan" through (every comparison
// with NaN is false) and reads "0x10" as 16. A number of seconds is a finite decimal.
CLI::Validator seconds_between(double low, double high) {
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            double value = 0;
            auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value,
                                                std::chars_format::fixed);
            if (error != std::errc{} || end != text.data() + text.size() || !std::isfinite(value) ||
                value < low || value > high)
                return fmt::format("takes a number of seconds from {} to {} (got '{}')", low, high,
                                   printable(text, 40));
            return {};
        },
        fmt::format("SECONDS in [{} - {}]", low, high));
}

// A file name given as '' (an unset shell variable) is an error, not "no file".
const CLI::Validator kFileName(
    [](std::string& text) -> std::string { return text.empty() ? "needs a file name" : ""; },
    "FILE");

CLI::Validator whole_number_between(long low, long high) {
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            long value = 0;
            auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (error != std::errc{} || end != text.data() + text.size() || value < low ||
                value > high)
                return fmt::format("takes a whole number from {} to {} (got '{}')", low, high,
                                   printable(text, 40));
            return {};
        },
        fmt::format("N in [{} - {}]", low, high));
}

constexpr const char* kMaxOutputHelp =
    "stop the run as 'limit' once stdout + stderr exceed BYTES (K, M, G suffixes; 0 or not given: "
    "no limit, and the first and last 512 KiB of each stream are kept)";

// --max-output BYTES ("4096", "512K", "1M", "2G"; 0 = none). nullopt when not given: the
// scenario's own limit stays (none, except in the engine's self-test of the limit).
std::optional<std::uint64_t> parse_max_output(const std::string& text) {
    if (text.empty())
        return std::nullopt;
    std::optional<std::uint64_t> bytes = parse_byte_size(text);
    if (!bytes)
        throw UsageError(fmt::format(
            "--max-output takes a number of bytes, optionally with K, M or G (got '{}')", text));
    return bytes;
}

// The sandbox's kernel-enforced limits and its containment, for run and exec.
struct SandboxOptions {
    int max_tasks = -1;     // -1: the scenario's own
    std::string max_memory; // as given; empty: the scenario's own
    bool no_namespaces = false;
    bool no_cgroups = false;
};

void add_sandbox_options(CLI::App* command, SandboxOptions& options) {
    command
        ->add_option("--max-tasks", options.max_tasks,
                     "processes and threads of the whole sandbox, enforced by the kernel "
                     "(pids.max of its cgroup); 0 = none (default 256)")
        ->check(whole_number_between(0, 1 << 22));
    command->add_option("--max-memory", options.max_memory,
                        "memory of the whole sandbox, enforced by the kernel (its cgroup's "
                        "limit; K, M, G suffixes); 0 = none (default 6G)");
    command->add_flag("--no-namespaces", options.no_namespaces,
                      "run without namespaces (as on a kernel that has none)");
    command->add_flag("--no-cgroups", options.no_cgroups,
                      "run without cgroups: limits are then sampled, not enforced by the kernel");
}

// What `run` and `exec` share after their own options: output cap, record, stacks, sandbox.
void add_output_and_sandbox_options(CLI::App* command, std::string& max_output, bool& json_output,
                                    std::string& out, bool& no_stacks, SandboxOptions& sandbox) {
    command->add_option("--max-output", max_output, kMaxOutputHelp);
    command->add_flag("--json", json_output, "print the run record as JSON");
    command->add_option("--out", out, "also write the run record (JSON) to FILE")->check(kFileName);
    command->add_flag("--no-stacks", no_stacks, "do not capture stacks of blocked threads");
    add_sandbox_options(command, sandbox);
}

void apply_sandbox_options(const SandboxOptions& options, RunRequest& request) {
    if (options.max_tasks >= 0)
        request.limits.max_tasks = options.max_tasks;
    if (!options.max_memory.empty()) {
        std::optional<std::uint64_t> bytes = parse_byte_size(options.max_memory);
        if (!bytes)
            throw UsageError(fmt::format(
                "--max-memory takes a number of bytes, optionally with K, M or G (got '{}')",
                options.max_memory));
        request.limits.max_memory = *bytes;
    }
    request.namespaces = !options.no_namespaces;
    request.cgroups = !options.no_cgroups;
}

// A finished run: its record to --out when asked, then on stdout as JSON or in `words`.
void emit_record(const RunRecord& record, const std::string& out, bool json_output,
                 const std::function<std::string(const RunRecord&)>& words) {
    const std::string text = to_json_text(to_json(record));
    if (!out.empty())
        write_output_file(out, text);
    fmt::print("{}", json_output ? text : words(record));
}

// [SECTION] the commands: list, show, run, exec, matrix --------------------------------------

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
        fmt::print("{}", cli::scenario_table_markdown(shown));
    } else {
        fmt::print("{}", cli::scenario_table_text(shown));
    }
    return 0;
}

int command_show(const std::string& id, bool json_output) {
    const Scenario& scenario = find_scenario(id);
    if (json_output)
        fmt::print("{}", to_json_text(scenario_to_json(scenario)));
    else
        fmt::print("{}", cli::describe_scenario(scenario));
    return 0;
}

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
};

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
    request.cancel = &g_interrupted;

    if (options.repeat <= 1) {
        RunRecord record = run_scenario(request);
        stop_if_interrupted();
        emit_record(record, options.out, options.json_output, cli::describe_run);
        return 0;
    }
    cli::RepeatSummary summary;
    for (int i = 0; i < options.repeat; ++i) {
        RunRecord record = run_scenario(request);
        stop_if_interrupted();
        summary.add(record);
        if (cli::interactive())
            fmt::print(stderr, "\r{} of {} runs", i + 1, options.repeat);
    }
    if (cli::interactive())
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

struct ExecOptions {
    std::vector<std::string> command; // the program and its arguments
    double timeout = 60;
    std::string max_output; // as given; empty when not
    bool json_output = false;
    std::string out;
    bool no_stacks = false;
    SandboxOptions sandbox;
};

// The program cannot be run: one line, and the shell's code for it (127 not found, 126 not
// executable), before any sandbox exists.
struct ProgramError : std::runtime_error {
    ProgramError(const std::string& message, int code)
        : std::runtime_error(message), exit_code(code) {}
    int exit_code;
};

int command_exec(const ExecOptions& options) {
    if (options.command.empty())
        throw UsageError("exec needs a program to run: forklore exec -- PROGRAM ARGS...");
    const std::optional<std::uint64_t> max_output = parse_max_output(options.max_output);
    if (auto problem = cli::check_program(options.command.front()))
        throw ProgramError(problem->message, problem->exit_code);
    check_output_file(options.out);
    const Scenario& scenario = find_scenario("exec");
    RunRequest request;
    request.scenario = &scenario;
    // The command line and the directory to run it in: relative paths keep their meaning.
    const std::string cwd = std::filesystem::current_path().string();
    request.knobs = {{"argv", probe::encode_argv(options.command)}, {"cwd", cwd}};
    // The sandbox's /tmp is its own: what the command needs of the caller's stays visible.
    request.visible_paths = probe::paths_to_keep_visible(cwd, options.command);
    request.timeout_seconds = options.timeout;
    request.limits = scenario.limits;
    if (max_output)
        request.limits.max_output = *max_output;
    apply_sandbox_options(options.sandbox, request);
    // RLIMIT_CPU is per process: a program computing until the deadline is timed out, not
    // stopped by a limit it could never have known about.
    request.limits.cpu_seconds =
        std::max(request.limits.cpu_seconds, static_cast<int>(std::ceil(options.timeout)) + 5);
    request.capture_stacks = !options.no_stacks;
    request.cancel = &g_interrupted;

    RunRecord record = run_scenario(request);
    stop_if_interrupted();
    emit_record(record, options.out, options.json_output,
                [&](const RunRecord& done) { return cli::describe_exec(done, options.command); });
    return cli::exec_exit_code(record.verdict.kind);
}

struct MatrixCommandOptions {
    MatrixOptions matrix;
    std::string junit;
    std::string jsonl; // one line per finished variant, written as it finishes
    bool json_output = false;
    bool no_namespaces = false;
    bool no_cgroups = false;
};

int command_matrix(MatrixCommandOptions options) {
    if (options.matrix.repeat < 1)
        throw UsageError("--repeat takes a number of at least 1");
    if (select_variants(options.matrix).empty())
        throw UsageError(fmt::format("no variant matches the filter '{}'",
                                     printable(options.matrix.filter, 100)));
    check_output_file(options.junit);
    check_output_file(options.jsonl);
    options.matrix.namespaces = !options.no_namespaces;
    options.matrix.cgroups = !options.no_cgroups;
    // Opened (and truncated) before the first run: a matrix that cannot keep its results does
    // not start.
    std::optional<cli::JsonLinesFile> lines;
    if (!options.jsonl.empty())
        lines.emplace(options.jsonl);
    std::size_t lines_written = 0;
    const bool progress = cli::interactive() && !options.json_output;
    options.matrix.on_cell = [&](const MatrixCell& cell, std::size_t done, std::size_t total) {
        if (progress)
            fmt::print(stderr, "\r\033[K[{}/{}] {}:{} {}", done, total, cell.scenario, cell.variant,
                       cell.passed ? "ok" : "MISMATCH");
        // A variant cut short by Ctrl-C is not a result: only finished variants are kept.
        if (lines && cell.complete) {
            json line = cli::matrix_cell_json(cell);
            line["done"] = ++lines_written;
            line["total"] = total;
            lines->append(line);
        }
    };
    options.matrix.cancel = &g_interrupted;
    auto cells = run_matrix(options.matrix);
    stop_if_interrupted();
    if (progress)
        fmt::print(stderr, "\r\033[K");
    if (!options.junit.empty())
        write_output_file(options.junit, cli::matrix_junit(cells));
    if (options.json_output)
        fmt::print("{}", to_json_text(cli::matrix_json(cells)));
    else
        fmt::print("{}", cli::matrix_table(cells));
    if (lines && !lines->error().empty())
        throw std::runtime_error(lines->error());
    for (const auto& cell : cells)
        if (!cell.passed)
            return kExitError;
    return 0;
}

// [SECTION] the command line -----------------------------------------------------------------

// Every error is one line, whatever the user typed into it (a scenario id with a newline).
void print_error(std::string_view message) {
    fmt::print(stderr, "forklore: {}\n", printable(message, 1000));
}

// `forklore exec [OPTIONS] [--] PROGRAM ARGS...`: everything from the program on belongs to the
// program (its options are not ours), so it is split off before CLI11 parses the rest. The
// program starts after '--', or at the first word that is not one of exec's options. Returns
// how many of argv CLI11 should see.
int split_exec_command_line(int argc, char** argv, std::vector<std::string>& command) {
    if (argc < 2 || std::string_view(argv[1]) != "exec")
        return argc;
    for (int i = 2; i < argc; ++i) {
        std::string_view word = argv[i];
        bool takes_value = word == "--timeout" || word == "--out" || word == "--max-output" ||
                           word == "--max-tasks" || word == "--max-memory";
        if (word != "--" && !word.empty() && word.front() == '-') {
            if (takes_value)
                ++i;
            continue; // one of ours, or a bad option CLI11 reports
        }
        int first = word == "--" ? i + 1 : i;
        command.assign(argv + first, argv + argc);
        return i;
    }
    return argc;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "forklore: run real fork/thread/lock scenarios in a sandbox and prove how they end"};
    app.require_subcommand(1);
    app.footer(kExitCodesHelp);

    ListOptions list;
    auto* list_command = app.add_subcommand("list", "the scenarios with their knobs and variants");
    list_command->add_flag("--json", list.json_output, "print JSON");
    list_command->add_flag("--markdown", list.markdown, "print a Markdown table");
    list_command->add_flag("--all", list.all, "include the engine's self-test scenarios");

    std::string show_id;
    bool show_json = false;
    auto* show_command = app.add_subcommand("show", "a scenario's lesson, knobs and variants");
    show_command->add_option("id", show_id, "scenario id")->required();
    show_command->add_flag("--json", show_json, "print JSON");

    RunOptions run;
    auto* run_command =
        app.add_subcommand("run", "run a scenario in the sandbox and print its verdict");
    run_command->add_option("id", run.id, "scenario id")->required();
    run_command->add_option("--variant", run.variant, "a named variant (see 'forklore show ID')");
    run_command->add_option("--set", run.settings, "set a knob: knob=value (repeatable)");
    run_command->add_option("--repeat", run.repeat, "run N times and report the hang rate")
        ->check(whole_number_between(1, 100000));
    run_command->add_option("--timeout", run.timeout, "deadline in seconds")
        ->check(seconds_between(0.01, 3600));
    add_output_and_sandbox_options(run_command, run.max_output, run.json_output, run.out,
                                   run.no_stacks, run.sandbox);
    run_command
        ->add_option("--event-capacity", run.event_capacity,
                     "events the event ring holds (default and most: 262144); more are counted as "
                     "dropped, and the verdict, proven from /proc, still holds")
        ->check(whole_number_between(1, static_cast<long>(Channel::kDefaultCapacity)));

    MatrixCommandOptions matrix;
    auto* matrix_command =
        app.add_subcommand("matrix", "run every variant and compare with its expected outcome");
    matrix_command->add_option("--filter", matrix.matrix.filter, "glob on scenario:variant");
    matrix_command
        ->add_option("--repeat", matrix.matrix.repeat, "runs of each deterministic variant")
        ->check(whole_number_between(1, 10000));
    matrix_command->add_option("--jobs", matrix.matrix.jobs, "runs in parallel (default: cores)")
        ->check(whole_number_between(1, 256));
    matrix_command->add_option("--junit", matrix.junit, "write a JUnit XML report to FILE")
        ->check(kFileName);
    matrix_command
        ->add_option("--jsonl", matrix.jsonl,
                     "write one JSON line to FILE as each variant finishes (a stopped "
                     "or killed matrix keeps every finished variant)")
        ->check(kFileName);
    matrix_command->add_flag("--deterministic", matrix.matrix.deterministic_only,
                             "only the deterministic variants (skip the racy ones, which "
                             "expect a hang rate)");
    matrix_command->add_flag("--no-namespaces", matrix.no_namespaces,
                             "run every sandbox without namespaces, as on a kernel that has none");
    matrix_command->add_flag("--no-cgroups", matrix.no_cgroups,
                             "run every sandbox without cgroups: limits are then sampled, not "
                             "enforced by the kernel");
    matrix_command->add_flag("--json", matrix.json_output, "print JSON");
    matrix_command->add_flag("--all", matrix.matrix.include_hidden,
                             "include the engine's self-test scenarios");

    ExecOptions exec;
    auto* exec_command = app.add_subcommand(
        "exec", "run any program in the sandbox, uninstrumented, and prove how it ends");
    exec_command->add_option("--timeout", exec.timeout, "deadline in seconds (default 60)")
        ->check(seconds_between(0.01, 86400));
    add_output_and_sandbox_options(exec_command, exec.max_output, exec.json_output, exec.out,
                                   exec.no_stacks, exec.sandbox);
    exec_command->footer(
        "Runs PROGRAM ARGS... (searched in PATH, in the current directory) in the sandbox with no "
        "instrumentation, watches its processes and threads from /proc, and proves a deadlock as "
        "soon as it forms. Put '--' before the program.\n\n" +
        cli::exec_exit_codes_help());

    // CLI11 would only say "A subcommand is required" of a misspelt one.
    const std::string_view first = argc >= 2 ? argv[1] : "";
    if (argc >= 2 && (first.empty() || first.front() != '-') && first != "list" &&
        first != "show" && first != "run" && first != "matrix" && first != "exec") {
        print_error(fmt::format("unknown command '{}' (commands: list, show, run, matrix, exec; "
                                "see 'forklore --help')",
                                printable(first, 100)));
        return kExitUsage;
    }
    try {
        app.parse(split_exec_command_line(argc, argv, exec.command), argv);
    } catch (const CLI::CallForHelp& help) {
        return app.exit(help);
    } catch (const CLI::CallForAllHelp& help) {
        return app.exit(help);
    } catch (const CLI::ParseError& error) {
        print_error(error.what());
        return kExitUsage;
    }
    install_interrupt_handlers();
    try {
        if (*list_command)
            return command_list(list);
        if (*show_command)
            return command_show(show_id, show_json);
        if (*run_command)
            return command_run(run);
        if (*matrix_command)
            return command_matrix(matrix);
        if (*exec_command)
            return command_exec(exec);
    } catch (const Interrupted&) {
        fmt::print(stderr, "\nforklore: interrupted\n");
        return kExitInterrupted;
    } catch (const UsageError& error) {
        print_error(error.what());
        return kExitUsage;
    } catch (const ProgramError& error) {
        print_error(error.what());
        return error.exit_code;
    } catch (const std::exception& error) {
        print_error(error.what());
        return kExitError;
    }
    return kExitUsage;
}
