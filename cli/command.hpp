// What every forklore command shares: how it joins the command line, its errors and exit codes,
// Ctrl-C, and the option checks several commands use. Each command lives in its own file and
// offers one `add_..._command(app)` that declares its options and returns how to run it;
// main.cpp only lists them.
#pragma once

#include "sim/record/record.hpp"
#include "sim/scenario/scenario.hpp"

#include <CLI/CLI.hpp>

#include <atomic>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace forklore::cli {

constexpr int kExitError = 1; // matrix: a mismatch; any command: an output file not written
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130; // as a shell reports a program ended by SIGINT

// A command of the command line: the subcommand CLI11 parsed into, and what to do when it was
// the one given (returns the exit code).
struct Command {
    CLI::App* subcommand = nullptr;
    std::function<int()> run;
};

// A usage error: one line on stderr, exit code 2, before anything runs.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Ctrl-C or SIGTERM: the run in progress is stopped, its sandbox killed and reaped, its working
// directory removed, and nothing else starts. The runner polls this flag (RunRequest::cancel).
std::atomic<bool>& interrupted();
struct Interrupted {};
void install_interrupt_handlers();
void stop_if_interrupted(); // throws Interrupted

// The scenario with this id, or a UsageError naming it.
const Scenario& find_scenario(const std::string& id);
// --set knob=value ... as knob values; a UsageError for a malformed one.
KnobValues parse_settings(const std::vector<std::string>& settings);
// An output file named on the command line, refused before anything runs (UsageError).
void check_output_file(const std::string& path);

// Option checks CLI11 would do too readily (it lets "nan" and "0x10" through).
CLI::Validator seconds_between(double low, double high);
CLI::Validator whole_number_between(long low, long high);
extern const CLI::Validator kFileName; // '' (an unset shell variable) is an error

// A finished run: its record to `out` when named, then on stdout as JSON or in `words`.
void emit_record(const RunRecord& record, const std::string& out, bool json_output,
                 const std::function<std::string(const RunRecord&)>& words);

// One line on stderr, "forklore: " first, whatever the user typed into it.
void print_error(std::string_view message);

// The commands, one file each (main.cpp lists them in this order).
Command add_list_command(CLI::App& app);   // corpus_commands.cpp
Command add_show_command(CLI::App& app);   // corpus_commands.cpp
Command add_run_command(CLI::App& app);    // corpus_commands.cpp
Command add_matrix_command(CLI::App& app); // corpus_commands.cpp
Command add_lesson_command(CLI::App& app); // lesson_command.cpp
Command add_quiz_command(CLI::App& app);   // quiz_command.cpp
// exec_command.cpp; `program` is filled by split_exec_command_line before the command runs.
Command add_exec_command(CLI::App& app, const std::vector<std::string>& program);
Command add_export_command(CLI::App& app);  // export_command.cpp
Command add_explore_command(CLI::App& app); // explore_command.cpp

} // namespace forklore::cli
