// The command line, tested from outside: each test runs the real `forklore` program from
// build/bin as a subprocess and checks its exit code, stdout and stderr.
//
// The tool lives by its own lesson, and so do its tests: the CLI is started with posix_spawn,
// never with fork. The test process is a child subreaper, so anything the CLI leaves behind is
// re-parented to it and can be found: after every run no forklore-host may be left.
#include "cli_run.hpp"

#include <catch2/catch.hpp>

#include <cctype>

#include <nlohmann/json.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using forklore::cli_test::CliResult;
using forklore::cli_test::read_text;
using forklore::cli_test::run_cli;
using forklore::cli_test::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

const std::string kScenario = "file-read-under-lock";

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::string collapse_spaces(const std::string& text) {
    return std::regex_replace(text, std::regex("\\s+"), " ");
}

// The scenario as `forklore list --json` describes it.
json scenario_from_list() {
    CliResult list = run_cli({"list", "--json"});
    REQUIRE(list.exit_code == 0);
    json all = json::parse(list.out);
    for (const auto& s : all)
        if (s.value("id", "") == kScenario) return s;
    FAIL(kScenario << " is not in 'forklore list --json'");
    return {};
}

// A usage error: exit code 2, exactly one line on stderr starting "forklore: ", nothing on stdout.
void require_usage_error(const CliResult& result) {
    INFO("stdout: " << result.out << "\nstderr: " << result.err);
    CHECK(result.exit_code == 2);
    CHECK(result.out.empty());
    auto lines = lines_of(result.err);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].rfind("forklore: ", 0) == 0);
    CHECK(lines[0].size() > std::string("forklore: ").size());
    CHECK(result.err.back() == '\n');
}

} // namespace

TEST_CASE("list prints the corpus and names file-read-under-lock", "[cli][list]") {
    CliResult result = run_cli({"list"});
    CHECK(result.exit_code == 0);
    CHECK(result.out.find(kScenario) != std::string::npos);
    CHECK(result.err.empty());
}

TEST_CASE("list --json is JSON with knobs and variants", "[cli][list]") {
    CliResult result = run_cli({"list", "--json"});
    REQUIRE(result.exit_code == 0);
    json all;
    REQUIRE_NOTHROW(all = json::parse(result.out));
    REQUIRE(all.is_array());
    REQUIRE_FALSE(all.empty());
    bool found = false;
    for (const auto& s : all) {
        REQUIRE(s.contains("id"));
        REQUIRE(s.contains("knobs"));
        REQUIRE(s.contains("variants"));
        if (s["id"] != kScenario) continue;
        found = true;
        REQUIRE(s["knobs"].is_array());
        REQUIRE(s["variants"].is_array());
        std::set<std::string> knobs, variants;
        for (const auto& k : s["knobs"]) knobs.insert(k.at("name").get<std::string>());
        for (const auto& v : s["variants"]) {
            variants.insert(v.at("name").get<std::string>());
            CHECK(v.contains("expected"));
        }
        CHECK(knobs.count("start_method") == 1);
        for (const char* name : {"fork", "fork_exec", "spawn", "forkserver"})
            CHECK(variants.count(name) == 1);
    }
    CHECK(found);
}

TEST_CASE("show prints the lesson and every variant with its expected outcome", "[cli][show]") {
    json scenario = scenario_from_list();
    CliResult result = run_cli({"show", kScenario});
    REQUIRE(result.exit_code == 0);
    // The lesson is word-wrapped: compare with runs of white space collapsed.
    CHECK(collapse_spaces(result.out).find(collapse_spaces(scenario.at("lesson").get<std::string>())) !=
          std::string::npos);
    auto lines = lines_of(result.out);
    for (const auto& variant : scenario.at("variants")) {
        std::string name = variant.at("name");
        std::string expected = "expected " + variant.at("expected").at("describe").get<std::string>();
        bool shown = false;
        for (const auto& line : lines)
            if (line.find(" " + name + " ") != std::string::npos && line.find(expected) != std::string::npos)
                shown = true;
        INFO("variant " << name << ", " << expected);
        CHECK(shown);
    }
    CHECK(result.out.find("expected deadlocked(orphaned_lock)") != std::string::npos);
}

TEST_CASE("run --variant fork proves the orphaned lock", "[cli][run]") {
    CliResult result = run_cli({"run", kScenario, "--variant", "fork"});
    REQUIRE(result.exit_code == 0);
    CHECK(result.out.find("deadlocked") != std::string::npos);
    CHECK(result.out.find("orphaned_lock") != std::string::npos);
    // The explanation, before the stacks, names the lock, the waiter and the owner.
    std::string explanation = result.out.substr(0, result.out.find("stacks of the stuck threads"));
    CHECK(explanation.find("file_lock") != std::string::npos);
    CHECK(explanation.find("main") != std::string::npos);
    CHECK(explanation.find("reader") != std::string::npos);
}

TEST_CASE("run --variant fork --json is one record with a stack stuck in the lock", "[cli][run][json]") {
    CliResult result = run_cli({"run", kScenario, "--variant", "fork", "--json"});
    REQUIRE(result.exit_code == 0);
    json record;
    REQUIRE_NOTHROW(record = json::parse(result.out)); // one value: trailing text would throw
    REQUIRE(record.is_object());
    for (const char* key : {"scenario", "variant", "verdict", "reason", "explanation", "processes",
                            "events", "stacks"}) {
        INFO("key " << key);
        CHECK(record.contains(key));
    }
    CHECK(record["scenario"] == kScenario);
    CHECK(record["variant"] == "fork");
    CHECK(record["verdict"] == "deadlocked");
    CHECK(record["reason"] == "orphaned_lock");
    std::string explanation = record["explanation"];
    CHECK(explanation.find("file_lock") != std::string::npos);
    CHECK(explanation.find("reader") != std::string::npos);
    CHECK_FALSE(record["events"].empty());

    // The child processes: those whose parent is the scenario's main process.
    std::set<long> main_pids, child_pids;
    for (const auto& p : record["processes"])
        if (p.value("role", "") == "main") main_pids.insert(p.at("pid").get<long>());
    REQUIRE_FALSE(main_pids.empty());
    for (const auto& p : record["processes"])
        if (main_pids.count(p.value("parent_pid", 0L))) child_pids.insert(p.at("pid").get<long>());
    REQUIRE_FALSE(child_pids.empty());

    bool child_waits_in_lock = false;
    for (const auto& stack : record["stacks"]) {
        if (!child_pids.count(stack.value("pid", 0L))) continue;
        for (const auto& frame : stack.value("frames", json::array()))
            if (frame.value("function", "").find("lock") != std::string::npos) child_waits_in_lock = true;
    }
    INFO("stacks: " << record["stacks"].dump(1));
    CHECK(child_waits_in_lock);
}

TEST_CASE("run --variant spawn --json completes", "[cli][run][json]") {
    CliResult result = run_cli({"run", kScenario, "--variant", "spawn", "--json"});
    REQUIRE(result.exit_code == 0);
    json record = json::parse(result.out);
    CHECK(record["verdict"] == "completed");
    CHECK(record["reason"].is_null());
}

TEST_CASE("run of a completed variant says why, and prints a hazard that did not bite",
          "[cli][run][json]") {
    CliResult text = run_cli({"run", "file-locks-across-fork", "--variant", "flock_inherited"});
    REQUIRE(text.exit_code == 0);
    using Catch::Matchers::Contains;
    // The text is wrapped at 100 columns: look for phrases that fit on one line.
    CHECK_THAT(text.out, Contains("Why it did not hang: Process") &&
                             Contains("warning (shared_file_lock): Process 3 (child 'append')"));
    CliResult result =
        run_cli({"run", "file-locks-across-fork", "--variant", "flock_inherited", "--json"});
    REQUIRE(result.exit_code == 0);
    json record = json::parse(result.out);
    CHECK(record["verdict"] == "completed");
    REQUIRE(record["warnings"].size() == 1);
    CHECK(record["warnings"][0]["kind"] == "shared_file_lock");
    CHECK(record["warnings"][0]["pid"] == 2);
}

TEST_CASE("run --repeat prints the counts and the Wilson interval", "[cli][run][repeat]") {
    CliResult result = run_cli({"run", kScenario, "--variant", "spawn", "--repeat", "3"});
    REQUIRE(result.exit_code == 0);
    CHECK(result.out.find("3 runs") != std::string::npos);
    CHECK(std::regex_search(result.out, std::regex("completed\\s+3\\b")));
    CHECK(result.out.find("Wilson") != std::string::npos);
}

TEST_CASE("run --out writes a record that parses", "[cli][run][out]") {
    TempDir dir;
    fs::path out = dir.path / "record.json";
    CliResult result = run_cli({"run", kScenario, "--variant", "spawn", "--out", out.string()});
    REQUIRE(result.exit_code == 0);
    CHECK(result.out.find("completed") != std::string::npos); // the description still goes to stdout
    REQUIRE(fs::exists(out));
    json record;
    REQUIRE_NOTHROW(record = json::parse(read_text(out.string())));
    CHECK(record["scenario"] == kScenario);
    CHECK(record["variant"] == "spawn");
    CHECK(record["verdict"] == "completed");
    // Written through a temporary file beside it, renamed: nothing else is left.
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator{}) == 1);
}

TEST_CASE("matrix --junit writes one testcase per variant", "[cli][matrix]") {
    json scenario = scenario_from_list();
    const std::size_t variants = scenario.at("variants").size();
    CHECK(variants == 6);
    TempDir dir;
    fs::path junit = dir.path / "matrix.xml";
    CliResult result =
        run_cli({"matrix", "--filter", kScenario + ":*", "--junit", junit.string()});
    CHECK(result.exit_code == 0);
    std::string xml = read_text(junit.string());
    std::size_t testcases = 0;
    for (std::size_t at = xml.find("<testcase "); at != std::string::npos;
         at = xml.find("<testcase ", at + 1))
        ++testcases;
    CHECK(testcases == variants);
    CHECK(xml.find("<testsuite ") != std::string::npos);
    CHECK(xml.find("failures=\"0\"") != std::string::npos);
    CHECK(xml.find("</testsuite>") != std::string::npos);
}

TEST_CASE("usage errors exit 2 with one line on stderr", "[cli][errors]") {
    SECTION("unknown scenario") { require_usage_error(run_cli({"run", "no-such-scenario"})); }
    SECTION("unknown scenario in show") { require_usage_error(run_cli({"show", "no-such-scenario"})); }
    SECTION("unknown variant") {
        require_usage_error(run_cli({"run", kScenario, "--variant", "no_such_variant"}));
    }
    SECTION("bad knob value") {
        require_usage_error(run_cli({"run", kScenario, "--set", "start_method=bogus"}));
    }
    SECTION("unknown knob") { require_usage_error(run_cli({"run", kScenario, "--set", "nosuchknob=1"})); }
    SECTION("--set without =") { require_usage_error(run_cli({"run", kScenario, "--set", "start_method"})); }
    SECTION("unknown option") { require_usage_error(run_cli({"run", kScenario, "--bogus"})); }
    SECTION("run without an id") { require_usage_error(run_cli({"run"})); }
    SECTION("no command") { require_usage_error(run_cli({})); }
    SECTION("unknown command") { require_usage_error(run_cli({"frobnicate"})); }
    SECTION("--repeat out of range") { require_usage_error(run_cli({"run", kScenario, "--repeat", "0"})); }
    SECTION("--max-output that is not a size") {
        require_usage_error(run_cli({"run", kScenario, "--max-output", "abc"}));
    }
    SECTION("matrix filter that matches nothing") {
        require_usage_error(run_cli({"matrix", "--filter", "no-such-scenario:*"}));
    }
}

TEST_CASE("run --out into a missing directory fails with one line", "[cli][out][errors]") {
    TempDir dir;
    fs::path out = dir.path / "no-such-directory" / "record.json";
    CliResult result = run_cli({"run", kScenario, "--variant", "spawn", "--out", out.string()});
    CHECK(result.exit_code != 0);
    auto lines = lines_of(result.err);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].rfind("forklore: ", 0) == 0);
    CHECK_FALSE(fs::exists(out));
}

TEST_CASE("an unprivileged user gets the same verdict through a user namespace", "[cli][run][sandbox]") {
    // As root, drop to nobody: the host then enters a user namespace first to be allowed the
    // others, or falls back to none; either way the verdict must not change.
    if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0) {
        WARN("needs root and setpriv to drop privileges: not checked here");
        return;
    }
    CliResult result = run_cli({"run", kScenario, "--variant", "fork", "--json"}, 100,
                               {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
    REQUIRE(result.exit_code == 0);
    json record = json::parse(result.out);
    CHECK(record["verdict"] == "deadlocked");
    CHECK(record["reason"] == "orphaned_lock");
    INFO("sandbox: " << record["sandbox"]);
    CHECK(record["sandbox"].get<std::string>().size() > 0);
}

TEST_CASE("Ctrl-C stops a run, kills its sandbox and exits 130", "[cli][run][interrupt]") {
    // A spin that would run for a minute: the interrupt must end it, and leave nothing behind
    // (run_cli checks that no sandbox host survives). The interrupt comes 3 s in: under ASan
    // forklore took more than 500 ms to reach main, and a SIGINT before its handler is
    // installed ends it by the default action, before any run (and so without the message).
    CliResult result = run_cli({"run", "selftest-spin", "--timeout", "60"}, 100, {}, 3000);
    CHECK(result.exit_code == 130);
    CHECK(result.err.find("forklore: interrupted") != std::string::npos);
}

TEST_CASE("scenarios/README.md holds the corpus table as the registry prints it", "[cli][list]") {
    // The table is generated (make scenarios-readme); this fails when a scenario or variant
    // changed and the README was not regenerated.
    const std::string readme = read_text(std::string(FORKLORE_SOURCE_DIR) + "/scenarios/README.md");
    const std::string marker = "<!-- generated by make scenarios-readme";
    auto at = readme.find(marker);
    REQUIRE(at != std::string::npos);
    std::string generated = readme.substr(readme.find('\n', at) + 1);
    CliResult result = run_cli({"list", "--markdown"});
    REQUIRE(result.exit_code == 0);
    std::string printed = result.out;
#if defined(__SANITIZE_ADDRESS__)
    // ASan's allocator does not repair its lock in a forked child, so an ASan build expects a
    // hang rate for malloc_fork (scenarios/070); the README describes the normal build.
    auto without_malloc_fork = [](std::string text) {
        auto row = text.find("| `malloc_fork` |");
        if (row != std::string::npos) text.erase(row, text.find('\n', row) - row);
        return text;
    };
    generated = without_malloc_fork(generated);
    printed = without_malloc_fork(printed);
#endif
    INFO("scenarios/README.md is stale: run 'make scenarios-readme'");
    CHECK(generated == printed);
}

// ---------------------------------------------------------------------------------------------
// forklore exec: programs nobody instrumented (tests/programs), judged from /proc alone.
// ---------------------------------------------------------------------------------------------

namespace {

const std::string kBin = FORKLORE_BIN_DIR;

// Exit codes of `forklore exec` (forklore exec --help, README).
constexpr int kExecCompleted = 0, kExecFailed = 10, kExecDeadlocked = 12, kExecTimedOut = 13,
              kExecLimit = 14;

// The address the program printed ("mutex at 0x55d0c0a0 held by ..."), as the verdict must name it.
std::string printed_address(const std::string& out) {
    std::smatch match;
    if (!std::regex_search(out, match, std::regex("mutex at (0x[0-9a-f]+)"))) return {};
    return match[1];
}

} // namespace

TEST_CASE("exec of a program that sleeps and exits 0 is completed, exit 0", "[cli][exec]") {
    CliResult result = run_cli({"exec", "--", "sh", "-c", "sleep 0.3; exit 0"});
    CHECK(result.exit_code == kExecCompleted);
    CHECK(result.out.find("exec: completed") != std::string::npos);
    CHECK(result.out.find("deadlocked") == std::string::npos);
}

TEST_CASE("exec of a program that exits non-zero is failed, with its own exit code shown",
          "[cli][exec]") {
    // Without '--' the program starts at the first word that is not one of exec's options.
    CliResult result = run_cli({"exec", "sh", "-c", "echo to stderr >&2; exit 3"});
    CHECK(result.exit_code == kExecFailed);
    CHECK(result.out.find("exec: failed") != std::string::npos);
    CHECK(result.out.find("exited with code 3") != std::string::npos);
    CHECK(result.out.find("to stderr") != std::string::npos); // the program's output is shown
}

TEST_CASE("exec of a sleep loop times out and is never called deadlocked", "[cli][exec]") {
    SECTION("a shell loop") {
        CliResult result =
            run_cli({"exec", "--timeout", "1", "--", "sh", "-c", "while :; do sleep 0.01; done"});
        CHECK(result.exit_code == kExecTimedOut);
        CHECK(result.out.find("deadlocked") == std::string::npos);
    }
    SECTION("threads with timed waits, and short-lived children") {
        CliResult result = run_cli({"exec", "--timeout", "20", "--", kBin + "/completes_with_children"});
        CHECK(result.exit_code == kExecCompleted);
        CHECK(result.out.find("counter 40, child ok") != std::string::npos);
        // The tree shows the child, made by the program, and what it exec'd.
        CHECK(result.out.find("exec sh -c sleep 0.05") != std::string::npos);
        CHECK(result.out.find("made by 2") != std::string::npos);
    }
}

TEST_CASE("exec proves a pthread mutex orphaned by fork, naming address, waiter and owner",
          "[cli][exec]") {
    CliResult result = run_cli({"exec", "--", kBin + "/orphaned_mutex"});
    CHECK(result.exit_code == kExecDeadlocked);
    CHECK(result.out.find("deadlocked / orphaned_lock") != std::string::npos);
    const std::string address = printed_address(result.out);
    REQUIRE_FALSE(address.empty());
    std::string explanation = collapse_spaces(result.out.substr(0, result.out.find("stacks of the")));
    INFO(explanation);
    CHECK(explanation.find("mutex at " + address) != std::string::npos);
    CHECK(std::regex_search(explanation, std::regex("\\(tid \\d+\\) of process \\d+ \\(a child of process \\d+\\)")));
    CHECK(std::regex_search(explanation, std::regex("thread 'holder' \\(tid \\d+\\), which exists only in process \\d+, the parent")));
    // Its native stack shows where it waits.
    CHECK(result.out.find("__pthread_mutex_lock") != std::string::npos);
}

TEST_CASE("exec --json --out: a record with the process tree, the wait and the stacks",
          "[cli][exec][json]") {
    TempDir dir;
    fs::path out = dir.path / "record.json";
    CliResult result = run_cli({"exec", "--json", "--out", out.string(), "--", kBin + "/orphaned_mutex"});
    CHECK(result.exit_code == kExecDeadlocked);
    json record;
    REQUIRE_NOTHROW(record = json::parse(result.out));
    REQUIRE_NOTHROW(json::parse(read_text(out.string())));
    CHECK(record["scenario"] == "exec");
    CHECK(record["verdict"] == "deadlocked");
    CHECK(record["reason"] == "orphaned_lock");
    CHECK(record["events"].is_array()); // only the sandbox's own: the program records nothing

    // The tree: the program (which exec'd) and the child it forked.
    long program_pid = 0;
    for (const auto& p : record["processes"])
        for (const auto& exec : p.value("execs", json::array()))
            if (exec.value("program", "").find("orphaned_mutex") != std::string::npos)
                program_pid = p.at("pid").get<long>();
    REQUIRE(program_pid != 0);
    long child_pid = 0;
    for (const auto& p : record["processes"])
        if (p.value("parent_pid", 0L) == program_pid) child_pid = p.at("pid").get<long>();
    REQUIRE(child_pid != 0);

    // The wait: the child's thread waits for a mutex whose owner is 'holder' in the program.
    bool orphan_edge = false;
    for (const auto& edge : record["wait_for"])
        if (edge.value("orphaned", false)) {
            orphan_edge = true;
            CHECK(edge.value("waiter_pid", 0L) == child_pid);
            CHECK(edge.value("owner_pid", 0L) == program_pid);
            CHECK(edge.value("owner_thread", "") == "holder");
            CHECK(edge.value("address", std::uint64_t{0}) != 0u);
        }
    CHECK(orphan_edge);

    // Stacks of the blocked threads, the child's stuck in the mutex.
    bool child_in_lock = false;
    for (const auto& stack : record["stacks"])
        if (stack.value("pid", 0L) == child_pid)
            for (const auto& frame : stack.value("frames", json::array()))
                if (frame.value("function", "").find("mutex_lock") != std::string::npos)
                    child_in_lock = true;
    INFO(record["stacks"].dump(1));
    CHECK(child_in_lock);
}

TEST_CASE("exec proves a parent and child waiting on each other across a pipe", "[cli][exec]") {
    CliResult result = run_cli({"exec", "--", kBin + "/pipe_wait_deadlock"});
    CHECK(result.exit_code == kExecDeadlocked);
    CHECK(result.out.find("deadlocked / blocked_on_process") != std::string::npos);
    // The text output wraps its sentences: compare them with the line breaks taken out.
    std::string text;
    for (char c : result.out)
        if (!(std::isspace(static_cast<unsigned char>(c)) && !text.empty() && text.back() == ' '))
            text += std::isspace(static_cast<unsigned char>(c)) ? ' ' : c;
    CHECK(text.find("whose write end is held open by process") != std::string::npos);
}

TEST_CASE("exec proves a threading.Lock held at os.fork() hangs the child", "[cli][exec][python]") {
    if (access("/usr/bin/python3", X_OK) != 0) {
        WARN("no /usr/bin/python3: not checked here");
        return;
    }
    TempDir dir;
    fs::path script = dir.path / "lock_at_fork.py";
    std::ofstream(script) << "import os, threading\n"
                             "lock = threading.Lock()\n"
                             "held, never = threading.Event(), threading.Event()\n"
                             "def holder():\n"
                             "    with lock:\n"
                             "        held.set()\n"
                             "        never.wait()\n"
                             "threading.Thread(target=holder, daemon=True).start()\n"
                             "held.wait()\n"
                             "pid = os.fork()\n"
                             "if pid == 0:\n"
                             "    lock.acquire()\n"
                             "    os._exit(0)\n"
                             "os.waitpid(pid, 0)\n";
    CliResult result = run_cli({"exec", "--json", "--", "/usr/bin/python3", script.string()});
    CHECK(result.exit_code == kExecDeadlocked);
    json record = json::parse(result.out);
    CHECK(record["verdict"] == "deadlocked");
    std::string explanation = record["explanation"];
    INFO(explanation);
    // A Python lock records no owner: said honestly, from the native stack.
    CHECK(explanation.find("Python lock") != std::string::npos);
    CHECK(explanation.find("owner unknown") != std::string::npos);
    bool child_stack_in_lock = false;
    for (const auto& stack : record["stacks"])
        for (const auto& frame : stack.value("frames", json::array()))
            if (frame.value("function", "") == "PyThread_acquire_lock_timed") child_stack_in_lock = true;
    CHECK(child_stack_in_lock);
}

// 50 MB on stdout with no newline, then a line on stderr: far past what is kept, never a limit.
const std::vector<std::string> kFlood = {
    "sh", "-c", "head -c 50000000 /dev/zero | tr '\\0' x; echo done >&2"};

TEST_CASE("exec of a program that floods stdout completes, its head and tail kept",
          "[cli][exec][output]") {
    TempDir dir;
    fs::path out = dir.path / "record.json";
    std::vector<std::string> args = {"exec", "--out", out.string(), "--"};
    args.insert(args.end(), kFlood.begin(), kFlood.end());
    const auto started = std::chrono::steady_clock::now();
    CliResult result = run_cli(args);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    INFO("took " << took.count() << " ms\n" << result.out.substr(0, 3000) << result.err);
    CHECK(result.exit_code == kExecCompleted);
    CHECK(result.out.find("exec: completed") != std::string::npos);
    CHECK(result.out.find("stdout: 50,000,000 bytes written, ") != std::string::npos);
    CHECK(result.out.find(" dropped in the middle (head and tail kept)") != std::string::npos);
    CHECK(result.out.size() < 20000); // the report shows a cut of the long line, not all of it

    json record = json::parse(read_text(out.string()));
    CHECK(record["verdict"] == "completed");
    CHECK(record["output_truncated"] == true);
    CHECK(record["stdout_bytes"] == 50'000'000);
    // No newline and no UTF-8 to move a cut to: exactly the default 1 MiB is kept.
    CHECK(record["stdout_dropped"] == 50'000'000 - (1 << 20));
    CHECK(record["stderr_bytes"] == 5);
    CHECK(record["stderr_dropped"] == 0);
    CHECK(record["stderr"] == "done\n");
    const std::string text = record["stdout"];
    const std::string marker =
        "\n[... forklore dropped " + std::to_string(50'000'000 - (1 << 20)) + " bytes of stdout here ...]\n";
    REQUIRE(text.size() == (1u << 20) + marker.size());
    CHECK(text.substr(0, 512 << 10) == std::string(512 << 10, 'x'));
    CHECK(text.substr(512 << 10, marker.size()) == marker);
    CHECK(text.substr((512 << 10) + marker.size()) == std::string(512 << 10, 'x')); // the tail
}

TEST_CASE("exec --max-output makes output a limit again", "[cli][exec][output]") {
    SECTION("past the limit: limit, exit 14") {
        std::vector<std::string> args = {"exec", "--max-output", "1M", "--"};
        args.insert(args.end(), kFlood.begin(), kFlood.end());
        CliResult result = run_cli(args);
        INFO(result.out.substr(0, 3000) << result.err);
        CHECK(result.exit_code == kExecLimit);
        CHECK(result.out.find("exec: limit") != std::string::npos);
        CHECK(result.out.find("wrote more than 1048576 bytes of output") != std::string::npos);
    }
    SECTION("under the limit: completed") {
        CliResult result = run_cli({"exec", "--max-output", "1M", "--", "sh", "-c", "echo hi"});
        CHECK(result.exit_code == kExecCompleted);
    }
    SECTION("not a size: one line, exit 2") {
        require_usage_error(run_cli({"exec", "--max-output", "abc", "--", "true"}));
        require_usage_error(run_cli({"exec", "--max-output", "1.5M", "--", "true"}));
    }
}

TEST_CASE("exec with a bad program: one line, its own exit code, no sandbox", "[cli][exec][errors]") {
    SECTION("no program") { require_usage_error(run_cli({"exec"})); }
    SECTION("nothing after --") { require_usage_error(run_cli({"exec", "--json", "--"})); }
    SECTION("bad option") { require_usage_error(run_cli({"exec", "--bogus", "--", "true"})); }
    auto require_program_error = [](const CliResult& result, int code) {
        CHECK(result.exit_code == code);
        CHECK(result.out.empty());
        auto lines = lines_of(result.err);
        REQUIRE(lines.size() == 1);
        CHECK(lines[0].rfind("forklore: cannot run '", 0) == 0);
    };
    SECTION("not in PATH") { require_program_error(run_cli({"exec", "--", "no-such-program-xyz"}), 127); }
    SECTION("no such file") { require_program_error(run_cli({"exec", "--", "/no/such/program"}), 127); }
    SECTION("not executable") {
        TempDir dir;
        fs::path file = dir.path / "not-executable";
        std::ofstream(file) << "#!/bin/sh\n";
        require_program_error(run_cli({"exec", "--", file.string()}), 126);
    }
}

TEST_CASE("exec --help documents an exit code for every verdict", "[cli][exec]") {
    CliResult result = run_cli({"exec", "--help"});
    CHECK(result.exit_code == 0);
    for (const char* verdict : {"completed", "failed", "crashed", "deadlocked", "timed_out", "limit",
                                "setup_error"})
        CHECK(std::regex_search(result.out, std::regex(std::string("\\n  \\d+ +") + verdict + "\\n")));
}
