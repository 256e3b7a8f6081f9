// The command line, tested from outside: each test runs the real `forklore` program from
// build/bin as a subprocess and checks its exit code, stdout and stderr.
//
// The tool lives by its own lesson, and so do its tests: the CLI is started with posix_spawn,
// never with fork. The test process is a child subreaper, so anything the CLI leaves behind is
// re-parented to it and can be found: after every run no forklore-host may be left.
//
// Index of this file:
// [SECTION] Helpers: the scenario under test, as list describes it
// [SECTION] list and show
// [SECTION] run: text, JSON, --repeat and --out
// [SECTION] matrix --junit
// [SECTION] Errors: usage, and --out into a missing directory
// [SECTION] Privileges, Ctrl-C, and the README's corpus table
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

// [SECTION] Helpers: the scenario under test, as list describes it --------------------------------

namespace {

using forklore::cli_test::CliResult;
using forklore::cli_test::lines_of;
using forklore::cli_test::read_text;
using forklore::cli_test::require_usage_error;
using forklore::cli_test::run_cli;
using forklore::cli_test::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

const std::string kScenario = "file-read-under-lock";

std::string collapse_spaces(const std::string& text) {
    return std::regex_replace(text, std::regex("\\s+"), " ");
}

// The scenario as `forklore list --json` describes it.
json scenario_from_list() {
    CliResult list = run_cli({"list", "--json"});
    REQUIRE(list.exit_code == 0);
    json all = json::parse(list.out);
    for (const auto& s : all)
        if (s.value("id", "") == kScenario)
            return s;
    FAIL(kScenario << " is not in 'forklore list --json'");
    return {};
}

} // namespace

// [SECTION] list and show -------------------------------------------------------------------------

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
        if (s["id"] != kScenario)
            continue;
        found = true;
        REQUIRE(s["knobs"].is_array());
        REQUIRE(s["variants"].is_array());
        std::set<std::string> knobs, variants;
        for (const auto& k : s["knobs"])
            knobs.insert(k.at("name").get<std::string>());
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
    CHECK(collapse_spaces(result.out)
              .find(collapse_spaces(scenario.at("lesson").get<std::string>())) !=
          std::string::npos);
    auto lines = lines_of(result.out);
    for (const auto& variant : scenario.at("variants")) {
        std::string name = variant.at("name");
        std::string expected =
            "expected " + variant.at("expected").at("describe").get<std::string>();
        bool shown = false;
        for (const auto& line : lines)
            if (line.find(" " + name + " ") != std::string::npos &&
                line.find(expected) != std::string::npos)
                shown = true;
        INFO("variant " << name << ", " << expected);
        CHECK(shown);
    }
    CHECK(result.out.find("expected deadlocked(orphaned_lock)") != std::string::npos);
}

// [SECTION] run: text, JSON, --repeat and --out ---------------------------------------------------

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

TEST_CASE("run --variant fork --json is one record with a stack stuck in the lock",
          "[cli][run][json]") {
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
        if (p.value("role", "") == "main")
            main_pids.insert(p.at("pid").get<long>());
    REQUIRE_FALSE(main_pids.empty());
    for (const auto& p : record["processes"])
        if (main_pids.count(p.value("parent_pid", 0L)))
            child_pids.insert(p.at("pid").get<long>());
    REQUIRE_FALSE(child_pids.empty());

    bool child_waits_in_lock = false;
    for (const auto& stack : record["stacks"]) {
        if (!child_pids.count(stack.value("pid", 0L)))
            continue;
        for (const auto& frame : stack.value("frames", json::array()))
            if (frame.value("function", "").find("lock") != std::string::npos)
                child_waits_in_lock = true;
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
    CHECK(result.out.find("completed") !=
          std::string::npos); // the description still goes to stdout
    REQUIRE(fs::exists(out));
    json record;
    REQUIRE_NOTHROW(record = json::parse(read_text(out.string())));
    CHECK(record["scenario"] == kScenario);
    CHECK(record["variant"] == "spawn");
    CHECK(record["verdict"] == "completed");
    // Written through a temporary file beside it, renamed: nothing else is left.
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator{}) == 1);
}

// [SECTION] matrix --junit ------------------------------------------------------------------------

TEST_CASE("matrix --junit writes one testcase per variant", "[cli][matrix]") {
    json scenario = scenario_from_list();
    const std::size_t variants = scenario.at("variants").size();
    CHECK(variants == 6);
    TempDir dir;
    fs::path junit = dir.path / "matrix.xml";
    CliResult result = run_cli({"matrix", "--filter", kScenario + ":*", "--junit", junit.string()});
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

// [SECTION] Errors: usage, and --out into a missing directory -------------------------------------

TEST_CASE("usage errors exit 2 with one line on stderr", "[cli][errors]") {
    SECTION("unknown scenario") {
        require_usage_error(run_cli({"run", "no-such-scenario"}));
    }
    SECTION("unknown scenario in show") {
        require_usage_error(run_cli({"show", "no-such-scenario"}));
    }
    SECTION("unknown variant") {
        require_usage_error(run_cli({"run", kScenario, "--variant", "no_such_variant"}));
    }
    SECTION("bad knob value") {
        require_usage_error(run_cli({"run", kScenario, "--set", "start_method=bogus"}));
    }
    SECTION("unknown knob") {
        require_usage_error(run_cli({"run", kScenario, "--set", "nosuchknob=1"}));
    }
    SECTION("--set without =") {
        require_usage_error(run_cli({"run", kScenario, "--set", "start_method"}));
    }
    SECTION("unknown option") {
        require_usage_error(run_cli({"run", kScenario, "--bogus"}));
    }
    SECTION("run without an id") {
        require_usage_error(run_cli({"run"}));
    }
    SECTION("no command") {
        require_usage_error(run_cli({}));
    }
    SECTION("unknown command") {
        require_usage_error(run_cli({"frobnicate"}));
    }
    SECTION("--repeat out of range") {
        require_usage_error(run_cli({"run", kScenario, "--repeat", "0"}));
    }
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

// [SECTION] Privileges, Ctrl-C, and the README's corpus table -------------------------------------

TEST_CASE("an unprivileged user gets the same verdict through a user namespace",
          "[cli][run][sandbox]") {
    // As root, drop to nobody: the host then enters a user namespace first to be allowed the
    // others, or falls back to none; either way the verdict must not change.
    if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0) {
        WARN("needs root and setpriv to drop privileges: not checked here");
        return;
    }
    CliResult result =
        run_cli({"run", kScenario, "--variant", "fork", "--json"}, 100,
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
        if (row != std::string::npos)
            text.erase(row, text.find('\n', row) - row);
        return text;
    };
    generated = without_malloc_fork(generated);
    printed = without_malloc_fork(printed);
#endif
    INFO("scenarios/README.md is stale: run 'make scenarios-readme'");
    CHECK(generated == printed);
}
