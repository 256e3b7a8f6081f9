// Fault tests: what happens when things go wrong around a run rather than inside it.
//
// - The runner dies: `forklore matrix` is killed with SIGKILL in the middle of a run. No process
//   of its sandbox may survive (the host dies through PR_SET_PDEATHSIG, and with it the PID
//   namespace whose pid 1 is the reaper), the lines it wrote to --jsonl must be whole, one per
//   variant it finished, and the next matrix must run as if nothing happened. Without
//   namespaces the same is checked, and what survives is said.
// - The event ring fills up: the events that did not fit are counted and said in plain words, and
//   the verdict still holds (see also the engine test of the same).
//
// Like the CLI tests, these start `forklore` with posix_spawn (the test process has threads),
// and the test process is a child subreaper: what a killed runner leaves is re-parented to it,
// where it can be found, killed and reaped.
//
// Index of this file:
// [SECTION] Helpers: starting forklore, reading its lines, the self-tests
// [SECTION] Helpers: finding a sandbox, and what survives it
// [SECTION] Helpers: a matrix killed mid-run, and what must hold after
// [SECTION] The runner killed with SIGKILL, with and without namespaces
// [SECTION] A --jsonl that cannot be written; Ctrl-C mid-matrix
// [SECTION] A full event ring
#include "tests/cli/cli_run.hpp"
#include "tests/support/process_table.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

// [SECTION] Helpers: starting forklore, reading its lines, the self-tests -------------------------

namespace {

using forklore::cli_test::CliResult;
using forklore::cli_test::read_text;
using forklore::cli_test::run_cli;
using forklore::cli_test::TempDir;
using forklore::test_support::ProcessInfo;
using forklore::test_support::ProcessTable;
using nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kBinDir = FORKLORE_BIN_DIR;

void become_subreaper() {
    static const bool done = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
    REQUIRE(done);
}

void reap_adopted() {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

// Starts `forklore ARGS...` with stdin from /dev/null and stdout and stderr into `log`.
pid_t spawn_forklore(const std::vector<std::string>& args, const std::string& log) {
    std::vector<std::string> strings = {kBinDir + "/forklore"};
    strings.insert(strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : strings)
        argv.push_back(s.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
    return pid;
}

// The lines of a file, and whether it ends with a newline (an empty file does).
struct FileLines {
    std::vector<std::string> lines;
    bool ends_whole = true;
};

FileLines file_lines(const std::string& path) {
    FileLines result;
    std::string text = read_text(path);
    result.ends_whole = text.empty() || text.back() == '\n';
    for (std::size_t at = 0; at < text.size();) {
        std::size_t end = text.find('\n', at);
        if (end == std::string::npos)
            end = text.size();
        result.lines.push_back(text.substr(at, end - at));
        at = end + 1;
    }
    return result;
}

// "scenario:variant" of every variant `forklore matrix --self-tests --filter GLOB` runs, in its
// order (the registry's teaching order).
std::vector<std::string> selftest_variants() {
    CliResult list = run_cli({"list", "--json", "--self-tests"});
    REQUIRE(list.exit_code == 0);
    std::vector<std::string> names;
    for (const auto& scenario : json::parse(list.out)) {
        std::string id = scenario.at("id");
        if (id.rfind("selftest-", 0) != 0)
            continue;
        for (const auto& variant : scenario.at("variants"))
            names.push_back(id + ":" + variant.at("name").get<std::string>());
    }
    return names;
}

// [SECTION] Helpers: finding a sandbox, and what survives it --------------------------------------

// A sandbox as the test saw it just before the runner was killed.
struct Sandbox {
    std::string scenario; // what it runs
    ProcessInfo host;
    std::vector<ProcessInfo> members; // every live process of its process group
    std::string workdir;              // the host's --workdir
};

// Waits until `runner` runs one of `scenarios` in a sandbox of at least `members` live processes
// (the host, the reaper, the scenario's main process).
std::optional<Sandbox> wait_for_sandbox(pid_t runner, const std::vector<std::string>& scenarios,
                                        std::size_t members, std::chrono::seconds timeout) {
    const std::string runner_argument = "--runner-pid " + std::to_string(runner) + " ";
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < give_up) {
        ProcessTable table;
        for (const auto& [pid, process] : table.processes()) {
            if (process.ppid != runner || process.zombie() ||
                process.cmdline.find(runner_argument) == std::string::npos)
                continue;
            auto runs = [&](const std::string& id) {
                return process.cmdline.find("--scenario " + id + " ") != std::string::npos;
            };
            auto scenario = std::find_if(scenarios.begin(), scenarios.end(), runs);
            if (scenario == scenarios.end())
                continue;
            Sandbox sandbox;
            sandbox.scenario = *scenario;
            sandbox.host = process;
            for (const auto& [other_pid, other] : table.processes())
                if (other.pgid == process.pgid && !other.zombie())
                    sandbox.members.push_back(other);
            auto at = process.cmdline.find("--workdir ");
            if (at != std::string::npos) {
                at += std::strlen("--workdir ");
                sandbox.workdir = process.cmdline.substr(at, process.cmdline.find(' ', at) - at);
            }
            if (sandbox.members.size() >= members)
                return sandbox;
        }
        std::this_thread::sleep_for(10ms);
    }
    return std::nullopt;
}

// What is still alive of a killed runner: any process seen in its sandbox or below it before the
// kill (the same pid and start time, not a zombie), any live member of the sandbox's process
// group, any process naming the runner as its --runner-pid, and any forklore-host below this test.
std::vector<ProcessInfo> survivors(const std::vector<ProcessInfo>& watched, pid_t group,
                                   pid_t runner) {
    reap_adopted();
    ProcessTable table;
    const std::string runner_argument = "--runner-pid " + std::to_string(runner) + " ";
    std::vector<ProcessInfo> alive;
    std::set<pid_t> named;
    auto add = [&](const ProcessInfo& process) {
        if (named.insert(process.pid).second)
            alive.push_back(process);
    };
    for (const auto& before : watched)
        if (const ProcessInfo* now = table.find(before.pid))
            if (now->start_time == before.start_time && !now->zombie())
                add(*now);
    for (const auto& [pid, process] : table.processes()) {
        if (process.zombie())
            continue;
        if (process.pgid == group || process.cmdline.find(runner_argument) != std::string::npos ||
            (process.exe == kBinDir + "/forklore-host" && table.descends_from(pid, getpid())))
            add(process);
    }
    return alive;
}

// Survivors after the kernel has had its moment to deliver the death signals (up to 5 s).
std::vector<ProcessInfo> survivors_after_kill(const std::vector<ProcessInfo>& watched, pid_t group,
                                              pid_t runner) {
    std::vector<ProcessInfo> alive;
    const auto give_up = std::chrono::steady_clock::now() + 5s;
    do {
        alive = survivors(watched, group, runner);
        if (alive.empty())
            break;
        std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < give_up);
    return alive;
}

std::string describe(const std::vector<ProcessInfo>& processes) {
    std::string text;
    for (const auto& process : processes)
        text += "\n  " + process.describe();
    return text.empty() ? " none" : text;
}

// Kills what a test found alive (processes of the killed runner's sandbox only) and reaps it.
void kill_and_reap(const std::vector<ProcessInfo>& processes) {
    for (const auto& process : processes)
        kill(process.pid, SIGKILL);
    for (int i = 0; i < 100 && !processes.empty(); ++i) {
        reap_adopted();
        bool any = false;
        for (const auto& process : processes) {
            auto now = forklore::test_support::read_process(process.pid);
            any = any || (now && now->start_time == process.start_time && !now->zombie());
        }
        if (!any)
            break;
        std::this_thread::sleep_for(20ms);
    }
}

// [SECTION] Helpers: a matrix killed mid-run, and what must hold after ----------------------------

// What a matrix killed with SIGKILL in the middle of a run left.
struct KilledMatrix {
    std::vector<std::string> variants;    // what the matrix was to run, in order
    std::size_t finished_before_kill = 0; // variants before the one it was running
    Sandbox sandbox;                      // the sandbox of the run in progress
    std::vector<ProcessInfo> survivors;
    FileLines lines; // its --jsonl file
};

// Runs every self-test variant one at a time with --jsonl, and kills the runner with SIGKILL
// while one that lasts (a spin or a sleep loop until a 1 s deadline, a spin until a CPU-time
// limit of 1 s) runs in its sandbox. Every variant before it has finished by then, and none
// after it has started.
KilledMatrix kill_matrix_mid_run(const TempDir& dir, const std::vector<std::string>& extra_args) {
    become_subreaper();
    KilledMatrix killed;
    killed.variants = selftest_variants();
    const std::vector<std::string> lasting = {"selftest-spin", "selftest-sleep-loop",
                                              "selftest-cpu-limit"};

    const std::string jsonl = (dir.path / "matrix.jsonl").string();
    const std::string log = (dir.path / "matrix.log").string();
    std::vector<std::string> args = {"matrix", "--self-tests", "--filter", "selftest-*", "--jobs",
                                     "1",      "--jsonl",      jsonl};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    const pid_t runner = spawn_forklore(args, log);
    std::optional<Sandbox> sandbox = wait_for_sandbox(runner, lasting, 3, 60s);
    // Everything below the runner, seen from outside just before the kill.
    std::vector<ProcessInfo> watched;
    {
        ProcessTable table;
        for (const auto& [pid, process] : table.processes())
            if (table.descends_from(pid, runner))
                watched.push_back(process);
    }
    kill(runner, SIGKILL);
    int status = 0;
    while (waitpid(runner, &status, 0) < 0 && errno == EINTR) {
    }
    INFO("forklore matrix printed:\n" << read_text(log));
    REQUIRE(sandbox.has_value());
    CHECK(WIFSIGNALED(status));
    killed.sandbox = *sandbox;
    auto caught =
        std::find(killed.variants.begin(), killed.variants.end(), sandbox->scenario + ":default");
    REQUIRE(caught != killed.variants.end());
    killed.finished_before_kill = static_cast<std::size_t>(caught - killed.variants.begin());
    REQUIRE(killed.finished_before_kill > 0);
    watched.insert(watched.end(), sandbox->members.begin(), sandbox->members.end());
    killed.survivors = survivors_after_kill(watched, sandbox->host.pgid, runner);
    killed.lines = file_lines(jsonl);
    return killed;
}

// Each line whole, parsed, numbered 1, 2, 3... in the order the variants finished, and one per
// variant that finished before the kill.
void check_lines_intact(const KilledMatrix& killed) {
    std::string all;
    for (const auto& line : killed.lines.lines)
        all += line + "\n";
    INFO("lines of --jsonl:\n" << all);
    CHECK(killed.lines.ends_whole);
    REQUIRE(killed.lines.lines.size() == killed.finished_before_kill);
    for (std::size_t i = 0; i < killed.lines.lines.size(); ++i) {
        INFO("line " << i + 1 << ": " << killed.lines.lines[i]);
        json line;
        REQUIRE_NOTHROW(line = json::parse(killed.lines.lines[i]));
        CHECK(line.at("done") == i + 1);
        CHECK(line.at("total") == killed.variants.size());
        CHECK(line.at("scenario").get<std::string>() + ":" +
                  line.at("variant").get<std::string>() ==
              killed.variants[i]);
        CHECK(line.at("runs") == 1);
        CHECK(line.at("passed") == true);
    }
}

// The working directory of the run that was killed: the killed runner could not remove it, and
// the next runner's first run does (its name carries the dead runner's pid). Removed here if
// not, so that the suite's leftover check does not report it twice.
void check_workdir_swept(const Sandbox& sandbox) {
    if (sandbox.workdir.empty())
        return;
    CHECK_FALSE(fs::exists(sandbox.workdir));
    std::error_code ignored;
    fs::remove_all(sandbox.workdir, ignored);
}

// The next matrix, after the kill, runs as usual and writes every line.
void check_next_matrix_unaffected(const TempDir& dir, const std::vector<std::string>& extra_args) {
    const std::string jsonl = (dir.path / "next.jsonl").string();
    std::vector<std::string> args = {"matrix", "--filter", "file-read-under-lock:*", "--jsonl",
                                     jsonl};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    CliResult next = run_cli(args);
    CHECK(next.exit_code == 0);
    CHECK(next.out.find("6 of 6 variants as expected") != std::string::npos);
    FileLines lines = file_lines(jsonl);
    CHECK(lines.ends_whole);
    CHECK(lines.lines.size() == 6);
    for (const auto& text : lines.lines)
        CHECK(json::parse(text).at("passed") == true);
}

} // namespace

// [SECTION] The runner killed with SIGKILL, with and without namespaces ---------------------------

TEST_CASE("a matrix killed with SIGKILL mid-run leaves no sandbox process and keeps its lines",
          "[faults][kill]") {
    TempDir dir;
    KilledMatrix killed = kill_matrix_mid_run(dir, {});
    INFO("sandbox before the kill:" << describe(killed.sandbox.members));
    // With a PID namespace the reaper is its pid 1: the host's death (PR_SET_PDEATHSIG) takes the
    // reaper with it, and the kernel kills every other process of the namespace.
    INFO("still alive after the kill:" << describe(killed.survivors));
    CHECK(killed.survivors.empty());
    kill_and_reap(killed.survivors);
    check_lines_intact(killed);
    check_next_matrix_unaffected(dir, {});
    check_workdir_swept(killed.sandbox);
}

TEST_CASE("without namespaces a killed matrix's host and reaper die, and its lines are intact",
          "[faults][kill]") {
    TempDir dir;
    KilledMatrix killed = kill_matrix_mid_run(dir, {"--no-namespaces"});
    INFO("sandbox before the kill:" << describe(killed.sandbox.members));
    INFO("still alive after the kill:" << describe(killed.survivors));
    // The host dies with the runner (PR_SET_PDEATHSIG), the reaper with the host (the same).
    const pid_t host = killed.sandbox.host.pid;
    std::set<pid_t> reapers;
    for (const auto& member : killed.sandbox.members)
        if (member.ppid == host)
            reapers.insert(member.pid);
    CHECK(reapers.size() == 1);
    std::vector<ProcessInfo> scenario_processes;
    for (const auto& survivor : killed.survivors) {
        INFO("survivor: " << survivor.describe());
        CHECK(survivor.pid != host);
        CHECK(reapers.count(survivor.pid) == 0);
        scenario_processes.push_back(survivor);
    }
    // Without a PID namespace the scenario's own processes have no death signal of their own:
    // the reaper, dying with the host, kills every member of the run's cgroup (cgroup.kill, or
    // each pid in cgroup.procs), so none outlives the runner.
    CHECK(scenario_processes.empty());
    kill_and_reap(killed.survivors);
    check_lines_intact(killed);
    check_next_matrix_unaffected(dir, {"--no-namespaces"});
    check_workdir_swept(killed.sandbox);
}

// [SECTION] A --jsonl that cannot be written; Ctrl-C mid-matrix -----------------------------------

TEST_CASE("matrix --jsonl that cannot be written fails with one line before any run",
          "[faults][jsonl]") {
    TempDir dir;
    const fs::path missing = dir.path / "no-such-directory" / "matrix.jsonl";
    CliResult result =
        run_cli({"matrix", "--filter", "file-read-under-lock:fork", "--jsonl", missing.string()});
    CHECK(result.exit_code == 2); // a usage error, found before anything runs, as --out's
    CHECK(result.out.empty());    // no run, no table
    CHECK(result.err.rfind("forklore: cannot write " + missing.string(), 0) == 0);
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);

    // Nor over a FIFO, which would block the matrix, or a device.
    const fs::path fifo = dir.path / "fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    result = run_cli({"matrix", "--filter", "file-read-under-lock:fork", "--jsonl", fifo.string()});
    CHECK(result.exit_code == 2);
    CHECK(result.out.empty());
    CHECK_THAT(result.err, Catch::Matchers::Contains("FIFO"));
    CHECK(fs::is_fifo(fifo));
}

TEST_CASE("Ctrl-C during a matrix keeps the lines of the variants that finished, and only those",
          "[faults][interrupt]") {
    // 100 runs a variant, one variant at a time, interrupted once two variants have their lines:
    // the interrupt lands in the middle of the third, on a slow machine or a fast one (a fixed
    // 2 s once let a fast machine finish all six first). A variant cut short would have fewer
    // runs (and a run "stopped by the user"): it must not be written as if it had finished.
    TempDir dir;
    const std::string jsonl = (dir.path / "interrupted.jsonl").string();
    CliResult result = run_cli({"matrix", "--filter", "file-read-under-lock:*", "--repeat", "100",
                                "--jobs", "1", "--jsonl", jsonl},
                               100, {}, -1, [&] { return file_lines(jsonl).lines.size() >= 2; });
    CHECK(result.exit_code == 130);
    FileLines lines = file_lines(jsonl);
    CHECK(lines.ends_whole);
    CHECK(lines.lines.size() >= 2);
    CHECK(lines.lines.size() < 6);
    for (std::size_t i = 0; i < lines.lines.size(); ++i) {
        INFO("line " << i + 1 << ": " << lines.lines[i]);
        json line = json::parse(lines.lines[i]);
        CHECK(line.at("done") == i + 1);
        CHECK(line.at("runs") == 100);
        CHECK(line.at("passed") == true);
    }
}

// [SECTION] A full event ring ---------------------------------------------------------------------

TEST_CASE("a full event ring: dropped events are said plainly and the verdict holds",
          "[faults][ring]") {
    SECTION("text") {
        CliResult hang = run_cli({"run", "file-read-under-lock", "--variant", "fork",
                                  "--event-capacity", "8", "--no-stacks"});
        REQUIRE(hang.exit_code == 0);
        CHECK(hang.out.find("file-read-under-lock:fork: deadlocked / orphaned_lock") == 0);
        CHECK(hang.out.find("(as expected)") != std::string::npos);
        CHECK(hang.out.find("events were dropped: the event ring was full") != std::string::npos);

        CliResult whole =
            run_cli({"run", "file-read-under-lock", "--variant", "fork", "--no-stacks"});
        REQUIRE(whole.exit_code == 0);
        CHECK(whole.out.find("events were dropped") == std::string::npos);
    }
    SECTION("JSON") {
        CliResult done = run_cli({"run", "file-read-under-lock", "--variant", "spawn",
                                  "--event-capacity", "4", "--json"});
        REQUIRE(done.exit_code == 0);
        json record = json::parse(done.out);
        CHECK(record.at("verdict") == "completed");
        CHECK(record.at("dropped_events").get<int>() > 0);
        CHECK(record.at("events_lost")
                  .get<std::string>()
                  .find("events were dropped: the event ring was full") != std::string::npos);
    }
    SECTION("a crash after the ring filled is still a crash") {
        // The child's SIGABRT is reported by the reaper after the ring is full: its exit status
        // goes to the ring's reserve.
        CliResult crash = run_cli({"run", "selftest-child-aborts", "--variant", "default",
                                   "--event-capacity", "1", "--json"});
        REQUIRE(crash.exit_code == 0);
        json record = json::parse(crash.out);
        CHECK(record.at("verdict") == "crashed");
        CHECK(record.at("signal") == SIGABRT);
        CHECK(record.at("dropped_events").get<int>() > 0);
    }
    SECTION("repeat counts the runs that dropped events") {
        CliResult repeated = run_cli({"run", "file-read-under-lock", "--variant", "fork",
                                      "--event-capacity", "8", "--repeat", "2", "--no-stacks"});
        REQUIRE(repeated.exit_code == 0);
        CHECK(repeated.out.find("deadlocked(orphaned_lock)") != std::string::npos);
        CHECK(repeated.out.find("in 2 of 2 runs: the event ring was full") != std::string::npos);
    }
}
