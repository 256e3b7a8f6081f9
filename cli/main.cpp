// forklore: the command line over the engine.
//
//   forklore list [--json] [--markdown] [--self-tests]
//   forklore show ID [--json]
//   forklore run ID [--variant V] [--set knob=value ...] [--repeat N] [--timeout S] [--max-output
//   BYTES] [--json] [--out FILE]
//                   [--event-capacity N] [--no-namespaces]
//   forklore matrix [--filter GLOB] [--repeat N] [--jobs N] [--junit FILE] [--jsonl FILE] [--json]
//                   [--all | --deterministic] [--self-tests] [--list] [--no-namespaces]
//   forklore exec [--timeout S] [--max-output BYTES] [--json] [--out FILE] [--no-stacks] -- PROGRAM
//   ARGS...
//   forklore lesson list | show ID [--answers] | check [ID] [--static]   [--dir DIR]
//   forklore quiz [--seed N] [--count K] [--topic GROUP] [--handout] [--key] [--json] [--forget]
//   forklore export RECORD.json --format svg|chrome|markdown [--out FILE]
//
// Each command is in its own file (corpus_commands.cpp, exec_command.cpp, export_command.cpp ...)
// and joins here through its add_..._command (command.hpp). Bad input (unknown id, bad knob
// value, bad option, an output file that cannot be written, a record that cannot be read) prints
// one line on stderr and exits 2, before anything runs. `exec` exits with a code per verdict
// (exec_command.hpp). The codes: kExitCodesHelp below, and the README.
#include "command.hpp"
#include "exec_command.hpp"

#include "sim/protocol/text.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <vector>

namespace {

using namespace forklore;
using namespace forklore::cli;

constexpr const char* kExitCodesHelp =
    "Exit codes:\n"
    "  0    success (a run that deadlocks as it should is a success: the verdict is the output)\n"
    "  1    matrix: some variant did not end as expected; any command: the output file could not\n"
    "       be written after the run (disk full, ...), or an internal error\n"
    "  2    usage error: unknown scenario or variant, bad knob or knob value, bad option or\n"
    "       option value, an output file (--out, --junit) that must not or cannot be written;\n"
    "       nothing was run; export: a record file that cannot be read\n"
    "  10-15, 126, 127  exec only: the verdict of the program it ran (forklore exec --help)\n"
    "  130  interrupted (Ctrl-C or SIGTERM): the run in progress was stopped and its sandbox "
    "killed\n"
    "Errors are one line on stderr, starting with 'forklore: '.";

std::string command_names(const std::vector<Command>& commands) {
    std::string names;
    for (const auto& command : commands)
        names += (names.empty() ? "" : ", ") + command.subcommand->get_name();
    return names;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "forklore: run real fork/thread/lock scenarios in a sandbox and prove how they end"};
    app.require_subcommand(1);
    app.footer(kExitCodesHelp);

    std::vector<std::string> program; // exec's PROGRAM ARGS...
    // One command a line, so that adding one is a one-line change.
    // clang-format off
    const std::vector<Command> commands = {
        add_list_command(app),
        add_show_command(app),
        add_run_command(app),
        add_matrix_command(app),
        add_explore_command(app),
        add_exec_command(app, program),
        add_lesson_command(app),
        add_quiz_command(app),
        add_export_command(app),
    };
    // clang-format on

    // CLI11 would only say "A subcommand is required" of a misspelt one.
    const std::string_view first = argc >= 2 ? argv[1] : "";
    if (argc >= 2 && (first.empty() || first.front() != '-') &&
        std::none_of(commands.begin(), commands.end(),
                     [&](const Command& c) { return c.subcommand->get_name() == first; })) {
        print_error(fmt::format("unknown command '{}' (commands: {}; see 'forklore --help')",
                                printable(first, 100), command_names(commands)));
        return kExitUsage;
    }
    try {
        app.parse(split_exec_command_line(argc, argv, program), argv);
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
        for (const auto& command : commands)
            if (*command.subcommand)
                return command.run();
    } catch (const Interrupted&) {
        fmt::print(stderr, "\nforklore: interrupted\n");
        return kExitInterrupted;
    } catch (const UsageError& error) {
        print_error(error.what());
        return kExitUsage;
    } catch (const std::exception& error) {
        print_error(error.what());
        return kExitError;
    }
    return kExitUsage;
}
