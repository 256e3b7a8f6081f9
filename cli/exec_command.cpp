// `forklore exec -- PROGRAM ARGS...` (exec_command.hpp).
//
// Index of this file:
// [SECTION] exit codes
// [SECTION] can the program run
// [SECTION] the run as text
// [SECTION] the command
#include "exec_command.hpp"

#include "cli_output.hpp"
#include "command.hpp"
#include "sandbox_options.hpp"

#include "sim/export/record_text.hpp"
#include "sim/probe/exec_program.hpp"

#include "sim/protocol/text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

namespace forklore::cli {

// [SECTION] exit codes ---------------------------------------------------------------------

int exec_exit_code(VerdictKind kind) {
    switch (kind) {
    case VerdictKind::completed:
        return 0;
    case VerdictKind::failed:
        return 10;
    case VerdictKind::crashed:
        return 11;
    case VerdictKind::deadlocked:
        return 12;
    case VerdictKind::timed_out:
        return 13;
    case VerdictKind::limit:
        return 14;
    case VerdictKind::setup_error:
        return 15;
    case VerdictKind::stopped:
        return 130; // only Ctrl-C stops a run of the command line
    }
    return 1;
}

std::string exec_exit_codes_help() {
    std::string text = "Exit status:\n";
    for (std::size_t i = 0; i < kVerdictNames.size(); ++i) {
        auto kind = static_cast<VerdictKind>(i);
        if (!has_outcome(kind))
            continue; // Ctrl-C: "interrupted" below
        text += fmt::format("  {:<4}{}\n", exec_exit_code(kind), to_string(kind));
    }
    text += "  2   usage error (no program, bad option)\n"
            "  126 the program is not executable\n"
            "  127 the program was not found\n"
            "  130 interrupted (Ctrl-C)\n";
    return text;
}

namespace {

// [SECTION] can the program run ------------------------------------------------------------

// 0 when `path` names something exec can run: a file we may execute that starts as a program
// (ELF) or a script ("#!") does; otherwise the errno exec would fail with. exec_program does not
// hand other files to a shell, so an executable text file or binary garbage would only fail in
// the sandbox (ENOEXEC): say so before one is started. A file we may run but not read is left
// to exec.
int executable_problem(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0)
        return errno;
    if (S_ISDIR(st.st_mode))
        return EISDIR;
    if (access(path.c_str(), X_OK) != 0)
        return errno;
    if (!S_ISREG(st.st_mode))
        return EACCES; // a device or a FIFO: exec refuses it too
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return 0;
    char start[4] = {};
    const ssize_t got = read(fd, start, sizeof start);
    close(fd);
    const bool elf = got == 4 && std::memcmp(start,
                                             "\x7f"
                                             "ELF",
                                             4) == 0;
    const bool script = got >= 2 && start[0] == '#' && start[1] == '!';
    return elf || script ? 0 : ENOEXEC;
}

} // namespace

std::optional<ProgramProblem> check_program(const std::string& program) {
    if (program.empty())
        return ProgramProblem{"no program given", 2};
    if (program.find('/') != std::string::npos) {
        int error = executable_problem(program);
        if (error == 0)
            return std::nullopt;
        return ProgramProblem{
            fmt::format("cannot run '{}': {}", printable(program, 200), std::strerror(error)),
            error == ENOENT || error == ENOTDIR ? 127 : 126};
    }
    // The same search exec_program makes (it runs with this process's environment).
    const char* path_variable = std::getenv("PATH");
    std::string path =
        path_variable && *path_variable ? path_variable : "/usr/local/bin:/usr/bin:/bin";
    bool denied = false;
    for (std::size_t begin = 0; begin <= path.size();) {
        std::size_t end = path.find(':', begin);
        if (end == std::string::npos)
            end = path.size();
        std::string directory = path.substr(begin, end - begin);
        int error = executable_problem((directory.empty() ? "." : directory) + "/" + program);
        if (error == 0)
            return std::nullopt;
        denied = denied || error == EACCES;
        begin = end + 1;
    }
    if (denied)
        return ProgramProblem{fmt::format("cannot run '{}': permission denied", program), 126};
    return ProgramProblem{fmt::format("cannot run '{}': not found in PATH", program), 127};
}

// [SECTION] the run as text ----------------------------------------------------------------

std::string describe_exec(const RunRecord& record, const std::vector<std::string>& command) {
    std::string out =
        fmt::format("command: {}\n", one_line(fmt::format("{}", fmt::join(command, " ")), 200));
    out += describe_run(record);
    std::string tree = process_tree_text(record);
    if (!tree.empty())
        out += "  processes (pids in the sandbox, times from the start):\n" + tree;
    if (!record.stdout_text.empty())
        out += "  stdout:\n" + output_tail(record.stdout_text, 10, "    ");
    if (!record.stderr_text.empty())
        out += "  stderr:\n" + output_tail(record.stderr_text, 10, "    ");
    return out;
}

// [SECTION] the command ----------------------------------------------------------------------

namespace {

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
    if (auto problem = check_program(options.command.front()))
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
    request.cancel = &interrupted();

    RunRecord record = run_scenario(request);
    stop_if_interrupted();
    emit_record(record, options.out, options.json_output,
                [&](const RunRecord& done) { return describe_exec(done, options.command); });
    return exec_exit_code(record.verdict.kind);
}

} // namespace

Command add_exec_command(CLI::App& app, const std::vector<std::string>& program) {
    auto exec = std::make_shared<ExecOptions>();
    auto* command = app.add_subcommand(
        "exec", "run any program in the sandbox, uninstrumented, and prove how it ends");
    command->add_option("--timeout", exec->timeout, "deadline in seconds (default 60)")
        ->check(seconds_between(0.01, 86400));
    add_output_and_sandbox_options(command, exec->max_output, exec->json_output, exec->out,
                                   exec->no_stacks, exec->sandbox);
    command->footer(
        "Runs PROGRAM ARGS... (searched in PATH, in the current directory) in the sandbox with no "
        "instrumentation, watches its processes and threads from /proc, and proves a deadlock as "
        "soon as it forms. Put '--' before the program.\n\n" +
        exec_exit_codes_help());
    // The program is split off before CLI11 parses (split_exec_command_line): read it when run.
    return {command, [exec, &program] {
                exec->command = program;
                try {
                    return command_exec(*exec);
                } catch (const ProgramError& error) {
                    print_error(error.what());
                    return error.exit_code;
                }
            }};
}

// The program starts after '--', or at the first word that is not one of exec's options.
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

} // namespace forklore::cli
