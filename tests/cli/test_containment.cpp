// Containment: what a misbehaving program does to the machine through `forklore exec`.
//
// Each program of tests/programs (fork_bomb, thread_bomb, memory_bomb, cpu_spin, ignores_sigterm,
// stops_itself, daemonizes, reaches_network, writes_outside; `yes` for a flood of output) was
// measured outside forklore first (each file's header). Here each one runs through
// `forklore exec --json`, and the test checks the verdict, the kernel's counters that prove it,
// and that nothing is left: every run is started by cgroup_cap, which puts forklore in a pids and
// memory cgroup of its own (so a failure of forklore's containment cannot harm the machine) and
// afterwards counts, kills and reports whatever is still in it (exit 99). Where no such cap can
// be made (not root, no cgroup v1) the whole program exits 77, which CTest reports as skipped:
// no bomb runs uncapped.
//
// No test asserts a time (the latency of the verdicts is measured in bench/); the deadlines
// given are bounds, so that nothing can hang.
#define CATCH_CONFIG_RUNNER
//
// Index of this file:
// [SECTION] Helpers: the programs, the cgroup cap, the checks
// [SECTION] Limits: fork, thread and memory bombs, a CPU spin, a flood of output
// [SECTION] Escapes: daemons, ignored and stopping signals, the network, files outside
#include "cli_run.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

// [SECTION] Helpers: the programs, the cgroup cap, the checks -------------------------------------

namespace {

using forklore::cli_test::CliResult;
using forklore::cli_test::run_cli;
using forklore::cli_test::TempDir;
using nlohmann::json;

const std::string kBin = FORKLORE_BIN_DIR;
// Exit codes of `forklore exec` (README); cgroup_cap's own.
constexpr int kCompleted = 0, kDeadlocked = 12, kTimedOut = 13, kLimit = 14;
constexpr int kCapUnavailable = 77, kCapFoundLeftovers = 99;

// The outer cap: 1000 tasks (the sandbox's own limit is 256), 2 GiB of memory.
std::vector<std::string> capped() {
    return {kBin + "/cgroup_cap", "1000", std::to_string(2ULL << 30), "--"};
}

struct Contained {
    CliResult result;
    json record;
};

Contained exec_contained(const std::vector<std::string>& options,
                         const std::vector<std::string>& program) {
    std::vector<std::string> args = {"exec", "--json"};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back("--");
    args.insert(args.end(), program.begin(), program.end());
    Contained run;
    run.result = run_cli(args, 100, capped());
    INFO("stdout:\n" << run.result.out.substr(0, 3000) << "\nstderr:\n" << run.result.err);
    CHECK(run.result.exit_code != kCapFoundLeftovers);
    REQUIRE_NOTHROW(run.record = json::parse(run.result.out));
    return run;
}

std::string explanation(const json& record) {
    return record.value("explanation", "");
}

// After a bomb, the next run must be unaffected: a trivial program completes.
void next_run_is_unaffected() {
    Contained next = exec_contained({"--timeout", "30"}, {"/bin/true"});
    INFO(explanation(next.record));
    CHECK(next.result.exit_code == kCompleted);
    CHECK(next.record.value("verdict", "") == "completed");
}

// Starts /bin/true again and again while a bomb runs: the machine must still be able to fork.
class ForkProbe {
  public:
    ForkProbe() : thread_([this] { loop(); }) {}
    ~ForkProbe() { stop(); }
    void stop() {
        running_ = false;
        if (thread_.joinable())
            thread_.join();
    }
    int successes() const { return successes_; }
    int failures() const { return failures_; }

  private:
    void loop() {
        while (running_) {
            pid_t pid = 0;
            char program[] = "/bin/true";
            char* argv[] = {program, nullptr};
            if (posix_spawn(&pid, program, nullptr, nullptr, argv, environ) == 0) {
                int status = 0;
                waitpid(pid, &status, 0);
                (WIFEXITED(status) && WEXITSTATUS(status) == 0 ? successes_ : failures_)++;
            } else {
                ++failures_;
            }
            usleep(10'000);
        }
    }
    std::atomic<bool> running_{true};
    std::atomic<int> successes_{0}, failures_{0};
    std::thread thread_;
};

const char* kNamespaceModes[] = {"with namespaces", "--no-namespaces"};

std::vector<std::string> mode_options(const std::string& mode, std::vector<std::string> more) {
    if (mode == "--no-namespaces")
        more.push_back(mode);
    return more;
}

} // namespace

// [SECTION] Limits: fork, thread and memory bombs, a CPU spin, a flood of output ------------------

TEST_CASE("a fork bomb ends as limit from the kernel's counters while the machine forks on",
          "[containment]") {
    for (const std::string mode : kNamespaceModes) {
        DYNAMIC_SECTION(mode) {
            ForkProbe probe;
            Contained run =
                exec_contained(mode_options(mode, {"--timeout", "30"}), {kBin + "/fork_bomb"});
            probe.stop();
            const json& record = run.record;
            INFO(explanation(record));
            CHECK(run.result.exit_code == kLimit);
            CHECK(record.value("verdict", "") == "limit");
            CHECK(record.value("limit", "") == "tasks");
            CHECK(explanation(record).find("pids.events") != std::string::npos);
            CHECK(record["cgroup_counters"].value("tasks_refused", 0) > 0);
            CHECK(record["cgroup_counters"].value("peak_tasks", 0) <= 256); // never past pids.max
            // The evidence is the kernel's: the record says pids.max enforced the limit.
            bool by_kernel = false;
            for (const auto& e : record["enforcement"])
                if (e.value("limit", "") == "tasks")
                    by_kernel = e.value("by_kernel", false);
            CHECK(by_kernel);
            WARN("fork bomb (" << mode << "): verdict at "
                               << record["timings"].value("verdict_ms", 0.0) << " ms; the machine "
                               << "forked " << probe.successes() << " times meanwhile");
            CHECK(probe.failures() == 0);
            CHECK(probe.successes() > 0);
            next_run_is_unaffected();
        }
    }
}

TEST_CASE("a thread bomb ends as limit (tasks)", "[containment]") {
    for (const std::string mode : kNamespaceModes) {
        DYNAMIC_SECTION(mode) {
            Contained run =
                exec_contained(mode_options(mode, {"--timeout", "30"}), {kBin + "/thread_bomb"});
            INFO(explanation(run.record));
            CHECK(run.result.exit_code == kLimit);
            CHECK(run.record.value("limit", "") == "tasks");
            CHECK(run.record["cgroup_counters"].value("tasks_refused", 0) > 0);
            next_run_is_unaffected();
        }
    }
}

TEST_CASE("a memory bomb ends as limit (memory), not as a crash", "[containment]") {
    for (const std::string mode : kNamespaceModes) {
        DYNAMIC_SECTION(mode) {
            Contained run =
                exec_contained(mode_options(mode, {"--timeout", "30", "--max-memory", "256M"}),
                               {kBin + "/memory_bomb"});
            const json& record = run.record;
            INFO(explanation(record));
            CHECK(run.result.exit_code == kLimit);
            CHECK(record.value("verdict", "") == "limit");
            CHECK(record.value("limit", "") == "memory");
            CHECK(record["cgroup_counters"].value("oom_kills", 0) > 0);
            CHECK(explanation(record).find("OOM killer") != std::string::npos);
            CHECK(explanation(record).find("memory_bomb") != std::string::npos);
            // The cgroup bounds the memory, so no per-process address-space limit stands in the
            // way (under one, malloc failed at 4 GiB and the bomb spun until the deadline).
            CHECK(record["limits"].value("address_space", 1) == 0);
            for (const auto& e : record["enforcement"])
                CHECK(e.value("mechanism", "") != "RLIMIT_AS");
            next_run_is_unaffected();
        }
    }
}

TEST_CASE("a CPU spin is timed out, its threads named as running", "[containment]") {
    Contained run = exec_contained({"--timeout", "2"}, {kBin + "/cpu_spin"});
    INFO(explanation(run.record));
    CHECK(run.result.exit_code == kTimedOut);
    CHECK(run.record.value("verdict", "") == "timed_out");
    CHECK(explanation(run.record).find("'spinner'") != std::string::npos);
    CHECK(explanation(run.record).find("running") != std::string::npos);
}

TEST_CASE("a flood of output ends at the output limit", "[containment]") {
    Contained run = exec_contained({"--timeout", "30", "--max-output", "4M"}, {"/usr/bin/yes"});
    INFO(explanation(run.record));
    CHECK(run.result.exit_code == kLimit);
    CHECK(run.record.value("limit", "") == "output");
    CHECK(run.record.value("stdout_bytes", 0ULL) > (4ULL << 20));
}

// [SECTION] Escapes: daemons, ignored and stopping signals, the network, files outside ------------

TEST_CASE("a daemon that escapes with setsid and a double fork is named and killed",
          "[containment]") {
    for (const std::string mode : kNamespaceModes) {
        DYNAMIC_SECTION(mode) {
            Contained run =
                exec_contained(mode_options(mode, {"--timeout", "30"}), {kBin + "/daemonizes"});
            INFO(explanation(run.record));
            CHECK(run.result.exit_code == kCompleted);
            CHECK(run.record.value("verdict", "") == "completed");
            REQUIRE(run.record["left_running"].is_array());
            CHECK(run.record["left_running"].size() == 1);
            // cgroup_cap found nothing left (else it exits 99, checked in exec_contained).
        }
    }
}

TEST_CASE("a program that ignores SIGTERM is killed at the deadline", "[containment]") {
    Contained run = exec_contained({"--timeout", "1"}, {kBin + "/ignores_sigterm"});
    INFO(explanation(run.record));
    CHECK(run.result.exit_code == kTimedOut);
    CHECK(run.record.value("verdict", "") == "timed_out");
}

TEST_CASE("a program that stops itself with SIGSTOP is proven stuck", "[containment]") {
    Contained run = exec_contained({"--timeout", "30"}, {kBin + "/stops_itself"});
    INFO(explanation(run.record));
    CHECK(run.result.exit_code == kDeadlocked);
    CHECK(run.record.value("reason", "") == "no_waker");
    CHECK(explanation(run.record).find("SIGCONT") != std::string::npos);
}

TEST_CASE("a program cannot reach the network", "[containment]") {
    Contained run = exec_contained({"--timeout", "30"}, {kBin + "/reaches_network"});
    INFO(explanation(run.record));
    CHECK(run.result.exit_code == kCompleted); // the program exits 3 when something got out
    std::string out = run.record.value("stdout", "");
    CHECK(out.find("reached") == std::string::npos);
    CHECK(out.find("tcp 1.1.1.1:53: Network is unreachable") != std::string::npos);
    CHECK(out.find("tcp 127.0.0.1:22: Network is unreachable") != std::string::npos);
}

TEST_CASE("a program cannot write outside its private /tmp and /dev/shm, nor undo that",
          "[containment]") {
    // A file of the caller's under /tmp, named on the command line: visible, read-only.
    TempDir caller;
    const std::string existing = caller.path.string() + "/input";
    {
        std::FILE* f = std::fopen(existing.c_str(), "w");
        REQUIRE(f);
        std::fputs("mine\n", f);
        std::fclose(f);
    }
    const std::string tag = std::to_string(getpid());
    const std::vector<std::string> outside = {"/etc/forklore-escape-" + tag,
                                              "/var/tmp/forklore-escape-" + tag,
                                              "./forklore-escape-" + tag, // the caller's directory
                                              existing};
    const std::vector<std::string> private_paths = {"/tmp/forklore-escape-" + tag,
                                                    "/dev/shm/forklore-escape-" + tag};
    std::vector<std::string> program = {kBin + "/writes_outside"};
    program.insert(program.end(), outside.begin(), outside.end());
    program.insert(program.end(), private_paths.begin(), private_paths.end());
    Contained run = exec_contained({"--timeout", "30"}, program);
    const std::string out = run.record.value("stdout", "");
    INFO(explanation(run.record) << "\nstdout:\n" << out);
    CHECK(run.result.exit_code == kCompleted);
    for (const auto& path : outside) {
        CHECK(out.find(path + ": Read-only file system") != std::string::npos);
        if (path != existing)
            CHECK(access(path.c_str(), F_OK) != 0);
    }
    CHECK(forklore::cli_test::read_text(existing) == "mine\n");
    for (const auto& path : private_paths) {
        CHECK(out.find(path + ": written") != std::string::npos);
        CHECK(access(path.c_str(), F_OK) != 0); // written in the sandbox's own, gone with it
    }
    CHECK(out.find("remount /: Operation not permitted") != std::string::npos);
    const std::string sandbox = run.record.value("sandbox", "");
    CHECK(sandbox.find("read-only root") != std::string::npos);
    CHECK(sandbox.find("private /tmp /dev/shm") != std::string::npos);
    CHECK(sandbox.find("no capabilities") != std::string::npos);
}

int main(int argc, char** argv) {
    // Listing the tests (CTest's discovery at build time) runs nothing: no cap needed.
    for (int i = 1; i < argc; ++i)
        if (std::string(argv[i]).rfind("--list", 0) == 0)
            return Catch::Session().run(argc, argv);
    // No bomb without a cap: when cgroup_cap cannot make one here, skip everything.
    std::string probe = kBin + "/cgroup_cap 10 100000000 -- /bin/true";
    int status = std::system(probe.c_str());
    if (!WIFEXITED(status) || WEXITSTATUS(status) == kCapUnavailable) {
        std::fprintf(stderr, "containment tests skipped: no cgroup cap can be made here (they "
                             "need root and cgroup v1 pids)\n");
        return kCapUnavailable;
    }
    return Catch::Session().run(argc, argv);
}
