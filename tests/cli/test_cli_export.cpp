// `forklore export`, tested from outside: a real run saved with `forklore run --out`, then
// exported in each format, to stdout and to a file; python3 (a dependency) parses the SVG as XML
// and the trace as JSON, as a viewer would. Bad input (a missing file, a file that is not JSON or
// not a run record, an unknown or missing format, an --out nobody can write) is one line on
// stderr and exit code 2.
#include "cli_run.hpp"
#include "tests/unit/export_checks.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

using forklore::cli_test::CliResult;
using forklore::cli_test::read_text;
using forklore::cli_test::require_one_line;
using forklore::cli_test::run_cli;
using forklore::cli_test::TempDir;
using nlohmann::json;

constexpr const char* kPython = "/usr/bin/python3";

// Runs python3 -c `code` `file` (with posix_spawn: the test process has threads) and returns its
// exit status: 0 when the check in `code` passed. Its output goes to /dev/null.
int python_check(const std::string& code, const std::string& file) {
    std::vector<std::string> arguments = {kPython, "-c", code, file};
    std::vector<char*> argv;
    for (auto& argument : arguments)
        argv.push_back(argument.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, kPython, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(spawned == 0);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The orphaned-lock run, saved once for every test of this file.
const std::string& saved_run(const TempDir& directory) {
    static std::string path;
    if (path.empty() || !std::filesystem::exists(path)) {
        path = (directory.path / "fork.json").string();
        const CliResult run =
            run_cli({"run", "file-read-under-lock", "--variant", "fork", "--out", path});
        REQUIRE(run.exit_code == 0);
    }
    return path;
}

} // namespace

TEST_CASE("export writes a saved run as an SVG, a Chrome trace and a Markdown report",
          "[cli][export]") {
    TempDir directory;
    const std::string record = saved_run(directory);

    // To a file, and the same bytes to stdout.
    const std::string svg_path = (directory.path / "fork.svg").string();
    CliResult svg = run_cli({"export", record, "--format", "svg", "--out", svg_path});
    REQUIRE(svg.exit_code == 0);
    CHECK(svg.out.empty());
    CHECK(svg.err.empty());
    const std::string svg_text = read_text(svg_path);
    CHECK(run_cli({"export", record, "--format", "svg"}).out == svg_text);
    CHECK(forklore::test::xml_problem(svg_text) == "");
    CHECK(svg_text.find("deadlocked (orphaned lock)") != std::string::npos);
    CHECK(forklore::test::occurrences(svg_text, "<g class=\"lane\"") >= 3);

    const std::string trace_path = (directory.path / "fork.trace.json").string();
    REQUIRE(run_cli({"export", record, "--format", "chrome", "--out", trace_path}).exit_code == 0);
    const json trace = json::parse(read_text(trace_path));
    const auto flows = forklore::test::check_chrome_trace(trace);
    bool fork_flow = false;
    for (const auto& [id, ends] : flows)
        fork_flow = fork_flow || ends.first != ends.second;
    CHECK(fork_flow);

    CliResult markdown = run_cli({"export", record, "--format", "markdown"});
    REQUIRE(markdown.exit_code == 0);
    CHECK(markdown.out.find("**Verdict: deadlocked (orphaned lock)**") != std::string::npos);
    CHECK(markdown.out.find("file_lock") != std::string::npos);
    CHECK(markdown.out.find("reader") != std::string::npos);
    CHECK(markdown.out.find("## Processes") != std::string::npos);

    if (access(kPython, X_OK) != 0) {
        WARN("no /usr/bin/python3: the SVG and the trace are not parsed by Python here");
        return;
    }
    CHECK(python_check("import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])",
                       svg_path) == 0);
    CHECK(python_check("import sys, json; t = json.load(open(sys.argv[1])); "
                       "sys.exit(0 if t['traceEvents'] and t['displayTimeUnit'] == 'ms' else 1)",
                       trace_path) == 0);
}

TEST_CASE("export refuses bad input with one line and exit code 2", "[cli][export][errors]") {
    TempDir directory;
    const std::string missing = (directory.path / "missing.json").string();
    require_one_line(run_cli({"export", missing, "--format", "svg"}), 2, "missing.json");

    const std::string not_json = (directory.path / "notes.json").string();
    std::ofstream(not_json) << "this is not JSON\n";
    require_one_line(run_cli({"export", not_json, "--format", "svg"}), 2, "not JSON");

    const std::string not_record = (directory.path / "list.json").string();
    std::ofstream(not_record) << "[1, 2, 3]\n";
    require_one_line(run_cli({"export", not_record, "--format", "chrome"}), 2, "run record");

    const std::string record = saved_run(directory);
    require_one_line(run_cli({"export", record, "--format", "png"}), 2, "png");
    require_one_line(run_cli({"export", record}), 2, "--format");
    require_one_line(run_cli({"export", "--format", "svg"}), 2, "record");
    const std::string nowhere = (directory.path / "no" / "such" / "dir.svg").string();
    require_one_line(run_cli({"export", record, "--format", "svg", "--out", nowhere}), 2,
                     "dir.svg");
    CHECK_FALSE(std::filesystem::exists(nowhere));
    // A directory is not a record.
    require_one_line(run_cli({"export", directory.path.string(), "--format", "markdown"}), 2,
                     "directory");
}
