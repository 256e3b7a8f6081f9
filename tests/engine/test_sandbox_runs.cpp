// Whole runs through the real sandbox: every verdict kind is reachable, hangs are proven rather
// than timed out, and no process of a sandbox survives its run, whatever the verdict.
#include <catch2/catch.hpp>

#include "sim/record/record.hpp"
#include "sim/run/matrix.hpp"
#include "sim/run/runner.hpp"
#include "sim/scenario/scenario.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace forklore;

// Any process of the machine may exit while it is read: its stat file then fails with ESRCH,
// which a std::ifstream reports by throwing from its buffer. Plain read(2) just returns -1.
pid_t parent_of(pid_t pid) {
    std::string path = "/proc/" + std::to_string(pid) + "/stat";
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buffer[1024];
    ssize_t length = read(fd, buffer, sizeof buffer - 1);
    close(fd);
    if (length <= 0)
        return 0;
    std::string text(buffer, static_cast<std::size_t>(length));
    auto close = text.rfind(')');
    if (close == std::string::npos)
        return 0;
    char state = 0;
    int ppid = 0;
    std::sscanf(text.c_str() + close + 1, " %c %d", &state, &ppid);
    return ppid;
}

// Every live process below this test process (it has no children of its own between runs).
std::vector<pid_t> my_descendants() {
    std::vector<pid_t> found;
    DIR* proc = opendir("/proc");
    while (dirent* entry = readdir(proc)) {
        pid_t pid = std::atoi(entry->d_name);
        if (pid <= 0)
            continue;
        for (pid_t up = parent_of(pid), hops = 0; up > 1 && hops < 64; up = parent_of(up), ++hops)
            if (up == getpid()) {
                found.push_back(pid);
                break;
            }
    }
    closedir(proc);
    return found;
}

RunRecord run_variant_once(const std::string& id, const std::string& variant,
                           bool namespaces = true) {
    const Scenario* scenario = ScenarioRegistry::instance().find(id);
    REQUIRE(scenario != nullptr);
    RunRequest request = make_request(*scenario, variant);
    request.namespaces = namespaces;
    return run_scenario(request);
}

} // namespace

TEST_CASE("every verdict kind is reached and no sandbox process survives the run",
          "[engine][leak]") {
    struct Case {
        const char* scenario;
        const char* variant;
        VerdictKind verdict;
    };
    const Case cases[] = {
        {"file-read-under-lock", "spawn", VerdictKind::completed},
        {"file-read-under-lock", "fork", VerdictKind::deadlocked},
        {"lock-cycle", "opposite_order", VerdictKind::deadlocked},
        {"selftest-pipe-wait", "default", VerdictKind::deadlocked},
        {"selftest-exit-code", "default", VerdictKind::failed},
        {"selftest-child-aborts", "default", VerdictKind::crashed},
        {"selftest-spin", "default", VerdictKind::timed_out},
        {"selftest-process-limit", "default", VerdictKind::limit},
        {"selftest-output-limit", "default", VerdictKind::limit},
        {"selftest-orphan", "default", VerdictKind::completed},
    };
    // Without namespaces (a container that forbids them) the sandbox's processes are reparented
    // to the runner when the host dies: the runner must reap them too, even those it never saw.
    for (bool namespaces : {true, false})
        for (const auto& c : cases) {
            DYNAMIC_SECTION(c.scenario << ":" << c.variant
                                       << (namespaces ? "" : " without namespaces")) {
                RunRecord record = run_variant_once(c.scenario, c.variant, namespaces);
                INFO(record.verdict.explanation);
                CHECK(record.verdict.kind == c.verdict);
                CHECK(my_descendants().empty());
            }
        }
}

TEST_CASE("a deadlock is proven from kernel state, long before the deadline", "[engine]") {
    RunRecord record = run_variant_once("file-read-under-lock", "fork");
    REQUIRE(record.verdict.kind == VerdictKind::deadlocked);
    CHECK(record.verdict.reason == DeadlockReason::orphaned_lock);
    // Proof, not a timeout: the verdict came with a quiet window, far inside the deadline.
    CHECK(record.timings.quiet_window_ms > 0);
    CHECK(record.timings.verdict_ms < record.timings.quiet_window_ms + 5000);
    // The explanation names the lock, the waiting child thread and the parent's reader.
    CHECK_THAT(record.verdict.explanation, Catch::Contains("file_lock"));
    CHECK_THAT(record.verdict.explanation, Catch::Contains("'main'"));
    CHECK_THAT(record.verdict.explanation, Catch::Contains("'reader'"));
    CHECK_THAT(record.verdict.explanation, Catch::Contains("fork"));
    // The stacks show the child blocked inside the mutex wait.
    pid_t child = record.verdict.culprit_pid;
    bool child_in_lock_wait = false;
    for (const auto& stack : record.stacks)
        if (stack.ns_pid == child)
            for (const auto& frame : stack.frames)
                if (frame.function.find("lll_lock_wait") != std::string::npos ||
                    frame.function.find("pthread_mutex_lock") != std::string::npos)
                    child_in_lock_wait = true;
    CHECK(child_in_lock_wait);
    // The trace shows the fork, and the record knows every process and how it was made.
    const ProcessRecord* waiter = record.find_process(child);
    REQUIRE(waiter != nullptr);
    CHECK(waiter->start_method == StartMethod::fork);
    CHECK(waiter->killed_by_runner);
}

TEST_CASE("a sleep loop is never called deadlocked", "[engine]") {
    RunRecord record = run_variant_once("selftest-sleep-loop", "default");
    CHECK(record.verdict.kind == VerdictKind::timed_out);
    CHECK(my_descendants().empty());
}

TEST_CASE("the CPU-time limit ends a spin as a limit verdict", "[engine][leak]") {
    RunRecord record = run_variant_once("selftest-cpu-limit", "default");
    CHECK(record.verdict.kind == VerdictKind::limit);
    CHECK(my_descendants().empty());
}

TEST_CASE("a sandbox that cannot start is a setup error with a clear message", "[engine]") {
    const Scenario* scenario = ScenarioRegistry::instance().find("file-read-under-lock");
    REQUIRE(scenario != nullptr);
    SECTION("missing host program") {
        RunRequest request = make_request(*scenario, "spawn");
        request.host_path = "/nonexistent/forklore-host";
        RunRecord record = run_scenario(request);
        CHECK(record.verdict.kind == VerdictKind::setup_error);
        CHECK_THAT(record.verdict.explanation, Catch::Contains("/nonexistent/forklore-host"));
    }
    SECTION("a scenario the host does not know") {
        Scenario unknown;
        unknown.id = "not-a-registered-scenario";
        RunRequest request;
        request.scenario = &unknown;
        RunRecord record = run_scenario(request);
        CHECK(record.verdict.kind == VerdictKind::setup_error);
        CHECK_THAT(record.verdict.explanation, Catch::Contains("not-a-registered-scenario"));
    }
    CHECK(my_descendants().empty());
}

TEST_CASE("without namespaces the verdicts are the same and nothing survives", "[engine][leak]") {
    // The fallback of a kernel that allows no namespace: the reaper is a child subreaper, ids are
    // the host's, and whatever outlives its parent comes back to the runner to be killed.
    struct Case {
        const char* scenario;
        const char* variant;
        VerdictKind verdict;
        std::optional<DeadlockReason> reason;
    };
    const Case cases[] = {
        {"file-read-under-lock", "fork", VerdictKind::deadlocked, DeadlockReason::orphaned_lock},
        {"file-read-under-lock", "forkserver", VerdictKind::completed, std::nullopt},
        {"lock-cycle", "opposite_order", VerdictKind::deadlocked, DeadlockReason::cycle},
        {"selftest-orphan", "default", VerdictKind::completed, std::nullopt},
        {"selftest-child-aborts", "default", VerdictKind::crashed, std::nullopt},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.scenario << ":" << c.variant) {
            const Scenario* scenario = ScenarioRegistry::instance().find(c.scenario);
            REQUIRE(scenario != nullptr);
            RunRequest request = make_request(*scenario, c.variant);
            request.namespaces = false;
            RunRecord record = run_scenario(request);
            INFO(record.verdict.explanation);
            CHECK(record.sandbox.rfind("no namespaces", 0) == 0);
            CHECK(record.verdict.kind == c.verdict);
            CHECK(record.verdict.reason == c.reason);
            CHECK(my_descendants().empty());
        }
    }
}

TEST_CASE("a full event ring: events are dropped and counted, and every verdict holds",
          "[engine][ring]") {
    // The ring never blocks the program it observes: past its capacity, events are counted and
    // dropped. A hang is still proven from /proc (the orphaned lock's owner comes from the lock
    // word, not from events), and exit statuses and intended kills have a reserve of their own,
    // so a crash, a kill on purpose, and the end of the first process are still seen.
    const std::pair<const char*, const char*> cases[] = {
        {"file-read-under-lock", "fork"},     {"file-read-under-lock", "spawn"},
        {"lock-cycle", "opposite_order"},     {"selftest-pipe-wait", "default"},
        {"selftest-child-aborts", "default"}, {"selftest-kill-child", "default"},
        {"selftest-orphan", "default"},       {"selftest-many-events", "default"},
    };
    for (std::size_t capacity : {std::size_t{1}, std::size_t{2}})
        for (const auto& [id, variant] : cases) {
            DYNAMIC_SECTION(id << ":" << variant << " with a ring of " << capacity) {
                const Scenario* scenario = ScenarioRegistry::instance().find(id);
                REQUIRE(scenario != nullptr);
                RunRequest request = make_request(*scenario, variant);
                request.channel_capacity = capacity;
                request.capture_stacks = false;
                RunRecord record = run_scenario(request);
                INFO(record.verdict.explanation);
                REQUIRE(request.expected.has_value());
                CHECK(matches(*request.expected, record.verdict));
                if (record.verdict.kind == VerdictKind::deadlocked)
                    CHECK(record.timings.quiet_window_ms > 0); // proven, not timed out
                CHECK(record.dropped_events > 0);
                CHECK_THAT(describe_lost_events(record),
                           Catch::Contains("dropped: the event ring was full"));
                CHECK(my_descendants().empty());
            }
        }
}

TEST_CASE("a run record survives a JSON round trip", "[engine][record]") {
    RunRecord record = run_variant_once("lock-cycle", "opposite_order");
    RunRecord back = run_record_from_json(nlohmann::json::parse(to_json(record).dump()));
    CHECK(back.verdict.kind == record.verdict.kind);
    CHECK(back.verdict.reason == record.verdict.reason);
    CHECK(back.verdict.explanation == record.verdict.explanation);
    CHECK(back.events.size() == record.events.size());
    CHECK(back.processes.size() == record.processes.size());
    CHECK(back.stacks.size() == record.stacks.size());
}

TEST_CASE("the sandbox enters its namespaces where the kernel allows", "[engine]") {
    RunRecord record = run_variant_once("file-read-under-lock", "spawn");
    INFO("sandbox: " << record.sandbox);
    CHECK_FALSE(record.sandbox.empty());
    if (geteuid() == 0)
        CHECK_THAT(record.sandbox, Catch::Contains("pid"));
    // Inside a PID namespace the scenario's main process is pid 2 (the reaper is pid 1).
    if (record.sandbox.find("pid") != std::string::npos) {
        const ProcessRecord* main_process = record.find_process(2);
        REQUIRE(main_process != nullptr);
        CHECK(main_process->role == ProcessRole::main);
        CHECK(main_process->name == "main");
    }
}

TEST_CASE("the run record knows every process, how it was made and how it ended",
          "[engine][record]") {
    RunRecord record = run_variant_once("file-read-under-lock", "forkserver");
    REQUIRE(record.verdict.kind == VerdictKind::completed);
    // Nothing but the scenario writes to the sandbox's stderr (no runtime noise, no warnings).
    CHECK(record.stderr_text.empty());
    std::map<std::string, const ProcessRecord*> by_role;
    for (const auto& process : record.processes)
        by_role[process.name] = &process;
    for (const char* role : {"host", "reaper", "main", "forkserver", "read"}) {
        INFO("role " << role);
        REQUIRE(by_role.count(role) == 1);
        CHECK_FALSE(by_role[role]->killed_by_runner);
        CHECK(by_role[role]->exit_description == "exited with code 0");
    }
    // The worker was forked by the server, which was forked by main before any thread existed.
    CHECK(by_role["read"]->start_method == StartMethod::forkserver);
    CHECK(by_role["read"]->parent_ns_pid == by_role["forkserver"]->ns_pid);
    CHECK(by_role["forkserver"]->parent_ns_pid == by_role["main"]->ns_pid);
    CHECK(by_role["read"]->output.find("worker read 65536 bytes") != std::string::npos);
}

TEST_CASE("every lesson is numbered by its file name, in teaching order", "[engine]") {
    const auto& all = ScenarioRegistry::instance().all();
    int lessons = 0;
    for (const Scenario& scenario : all) {
        if (scenario.hidden)
            continue;
        ++lessons;
        REQUIRE_FALSE(scenario.sources.empty());
        CHECK(scenario.number > 0);
        CHECK(scenario.number == number_from_file_name(scenario.sources.front()));
    }
    CHECK(lessons >= 27);
    for (std::size_t i = 1; i < all.size(); ++i)
        CHECK(all[i - 1].number <= all[i].number);
}
