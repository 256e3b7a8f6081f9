// `forklore exec`, tested from outside: programs nobody instrumented (tests/programs) judged from
// /proc alone, through the real `forklore` program run as a subprocess.
//
// The tool lives by its own lesson, and so do its tests: the CLI is started with posix_spawn,
// never with fork. The test process is a child subreaper, so anything the CLI leaves behind is
// re-parented to it and can be found: after every run no forklore-host may be left.
//
// Index of this file:
// [SECTION] Helpers: exit codes, the printed address
// [SECTION] Runs that complete, fail or time out
// [SECTION] Deadlocks proved: an orphaned mutex, a pipe, a Python lock
// [SECTION] Output: a flood kept head and tail, --max-output
// [SECTION] Errors and --help
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

// [SECTION] Helpers: exit codes, the printed address ----------------------------------------------

namespace {

using forklore::cli_test::CliResult;
using forklore::cli_test::lines_of;
using forklore::cli_test::read_text;
using forklore::cli_test::require_usage_error;
using forklore::cli_test::run_cli;
using forklore::cli_test::TempDir;
using nlohmann::json;
namespace fs = std::filesystem;

std::string collapse_spaces(const std::string& text) {
    return std::regex_replace(text, std::regex("\\s+"), " ");
}

const std::string kBin = FORKLORE_BIN_DIR;

// Exit codes of `forklore exec` (forklore exec --help, README).
constexpr int kExecCompleted = 0, kExecFailed = 10, kExecDeadlocked = 12, kExecTimedOut = 13,
              kExecLimit = 14;

// The address the program printed ("mutex at 0x55d0c0a0 held by ..."), as the verdict must name it.
std::string printed_address(const std::string& out) {
    std::smatch match;
    if (!std::regex_search(out, match, std::regex("mutex at (0x[0-9a-f]+)")))
        return {};
    return match[1];
}

} // namespace

// [SECTION] Runs that complete, fail or time out --------------------------------------------------

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
        CliResult result =
            run_cli({"exec", "--timeout", "20", "--", kBin + "/completes_with_children"});
        CHECK(result.exit_code == kExecCompleted);
        CHECK(result.out.find("counter 40, child ok") != std::string::npos);
        // The tree shows the child, made by the program, and what it exec'd.
        CHECK(result.out.find("exec sh -c sleep 0.05") != std::string::npos);
        CHECK(result.out.find("made by 2") != std::string::npos);
    }
}

// [SECTION] Deadlocks proved: an orphaned mutex, a pipe, a Python lock ----------------------------

TEST_CASE("exec proves a pthread mutex orphaned by fork, naming address, waiter and owner",
          "[cli][exec]") {
    CliResult result = run_cli({"exec", "--", kBin + "/orphaned_mutex"});
    CHECK(result.exit_code == kExecDeadlocked);
    CHECK(result.out.find("deadlocked / orphaned_lock") != std::string::npos);
    const std::string address = printed_address(result.out);
    REQUIRE_FALSE(address.empty());
    std::string explanation =
        collapse_spaces(result.out.substr(0, result.out.find("stacks of the")));
    INFO(explanation);
    CHECK(explanation.find("mutex at " + address) != std::string::npos);
    CHECK(std::regex_search(
        explanation, std::regex("\\(tid \\d+\\) of process \\d+ \\(a child of process \\d+\\)")));
    CHECK(std::regex_search(
        explanation,
        std::regex(
            "thread 'holder' \\(tid \\d+\\), which exists only in process \\d+, the parent")));
    // Its native stack shows where it waits.
    CHECK(result.out.find("__pthread_mutex_lock") != std::string::npos);
}

TEST_CASE("exec --json --out: a record with the process tree, the wait and the stacks",
          "[cli][exec][json]") {
    TempDir dir;
    fs::path out = dir.path / "record.json";
    CliResult result =
        run_cli({"exec", "--json", "--out", out.string(), "--", kBin + "/orphaned_mutex"});
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
        if (p.value("parent_pid", 0L) == program_pid)
            child_pid = p.at("pid").get<long>();
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
    // Named from the interpreter by the global that holds it; a threading.Lock records no
    // owner: said honestly.
    CHECK(explanation.find("the threading.Lock lock (a global of module __main__)") !=
          std::string::npos);
    CHECK(explanation.find("owner unknown") != std::string::npos);
    bool child_stack_in_lock = false;
    for (const auto& stack : record["stacks"])
        for (const auto& frame : stack.value("frames", json::array()))
            if (frame.value("function", "") == "PyThread_acquire_lock_timed")
                child_stack_in_lock = true;
    CHECK(child_stack_in_lock);
}

// [SECTION] Output: a flood kept head and tail, --max-output --------------------------------------

// 50 MB on stdout with no newline, then a line on stderr: far past what is kept, never a limit.
const std::vector<std::string> kFlood = {"sh", "-c",
                                         "head -c 50000000 /dev/zero | tr '\\0' x; echo done >&2"};

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
    const std::string marker = "\n[... forklore dropped " + std::to_string(50'000'000 - (1 << 20)) +
                               " bytes of stdout here ...]\n";
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

// [SECTION] Errors and --help ---------------------------------------------------------------------

TEST_CASE("exec with a bad program: one line, its own exit code, no sandbox",
          "[cli][exec][errors]") {
    SECTION("no program") {
        require_usage_error(run_cli({"exec"}));
    }
    SECTION("nothing after --") {
        require_usage_error(run_cli({"exec", "--json", "--"}));
    }
    SECTION("bad option") {
        require_usage_error(run_cli({"exec", "--bogus", "--", "true"}));
    }
    auto require_program_error = [](const CliResult& result, int code) {
        CHECK(result.exit_code == code);
        CHECK(result.out.empty());
        auto lines = lines_of(result.err);
        REQUIRE(lines.size() == 1);
        CHECK(lines[0].rfind("forklore: cannot run '", 0) == 0);
    };
    SECTION("not in PATH") {
        require_program_error(run_cli({"exec", "--", "no-such-program-xyz"}), 127);
    }
    SECTION("no such file") {
        require_program_error(run_cli({"exec", "--", "/no/such/program"}), 127);
    }
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
    for (const char* verdict :
         {"completed", "failed", "crashed", "deadlocked", "timed_out", "limit", "setup_error"})
        CHECK(std::regex_search(result.out,
                                std::regex(std::string("\\n  \\d+ +") + verdict + "\\n")));
}
