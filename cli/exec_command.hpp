// `forklore exec -- PROGRAM ARGS...`: any program in the sandbox, with no instrumentation, judged
// from /proc like a scenario. What the command needs beyond the runner: where the program is,
// the exit codes a shell script or a CI step reads, and the text it prints.
#pragma once

#include "sim/protocol/verdict_kind.hpp"
#include "sim/record/record.hpp"

#include <optional>
#include <string>
#include <vector>

namespace forklore::cli {

// Exit codes of `forklore exec`, one per verdict, clear of the CLI's own (2 = usage error,
// 1 = internal error, 130 = interrupted) and of the shell's (126, 127).
int exec_exit_code(VerdictKind kind);
// The table of exit codes, for --help and the README.
std::string exec_exit_codes_help();

// Why `program` cannot be run as exec_program would run it from this directory and this PATH,
// with the exit code to report (127 not found, 126 not executable), or nullopt when it can.
struct ProgramProblem {
    std::string message; // one line: "cannot run 'x': not found in PATH"
    int exit_code = 127;
};
std::optional<ProgramProblem> check_program(const std::string& program);

// The run as text: the verdict and its explanation, the process tree (forks, execs and exits
// with their times), the stacks, and the end of the program's output.
std::string describe_exec(const RunRecord& record, const std::vector<std::string>& command);

// `forklore exec [OPTIONS] [--] PROGRAM ARGS...`: everything from the program on belongs to the
// program (its options are not ours), so it is split off into `program` before CLI11 parses the
// rest. Returns how many of argv CLI11 should see.
int split_exec_command_line(int argc, char** argv, std::vector<std::string>& program);

} // namespace forklore::cli
