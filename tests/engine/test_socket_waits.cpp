// A thread blocked reading a unix socket, in a real sandbox: the explanation names the process
// that holds the socket's OTHER end (from sock_diag), not the reader's own copy of its own end.
#include <catch2/catch.hpp>

#include "sim/record/record.hpp"
#include "sim/run/runner.hpp"
#include "sim/scenario/scenario.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <string>

namespace {

using namespace forklore;

RunRecord run_default_knobs(const std::string& id, bool namespaces) {
    const Scenario* scenario = ScenarioRegistry::instance().find(id);
    REQUIRE(scenario != nullptr);
    RunRequest request = make_request(*scenario, ""); // the knobs' defaults, as `forklore run`
    request.namespaces = namespaces;
    return run_scenario(request);
}

pid_t main_process(const RunRecord& record) {
    for (const auto& process : record.processes)
        if (process.role == ProcessRole::main)
            return process.ns_pid;
    return 0;
}

// Entering another network namespace takes CAP_SYS_ADMIN in our own user namespace: without it
// the other end of a sandbox's socket cannot be asked for, and the explanation falls back.
bool can_enter_network_namespaces() {
    int ours = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (ours < 0)
        return false;
    bool allowed = ::setns(ours, CLONE_NEWNET) == 0; // re-entering our own: a pure permission test
    ::close(ours);
    return allowed;
}

// pool-worker-killed, naive pool: worker 2 is killed, the main process waits for its result for
// ever, and worker 0 reads its task connection, whose other end the main process holds.
void check_worker_waits_for_main(bool namespaces) {
    RunRecord record = run_default_knobs("pool-worker-killed", namespaces);
    INFO(record.verdict.explanation);
    REQUIRE(record.verdict.kind == VerdictKind::deadlocked);
    pid_t main_pid = main_process(record);
    REQUIRE(main_pid != 0);
    const std::string pattern =
        R"(.*Thread 'worker0' \(tid \d+\) of process \d+ reads from socket:\[\d+\] \(fd )"
        R"(\d+\), whose other end socket:\[\d+\] is held open by process )" +
        std::to_string(main_pid) + R"(\b.*)";
    CHECK_THAT(record.verdict.explanation, Catch::Matches(pattern));
    CHECK_THAT(record.verdict.explanation,
               !Catch::Contains("only open write end is in its own process"));
}

} // namespace

TEST_CASE("a pool worker reading its task socket waits for the main process, which holds the "
          "other end",
          "[engine][socket]") {
    SECTION("without namespaces: the sandbox shares our network namespace") {
        check_worker_waits_for_main(false);
    }
    SECTION("in the sandbox's own network namespace") {
        if (can_enter_network_namespaces())
            check_worker_waits_for_main(true);
        else
            WARN("no CAP_SYS_ADMIN: a sandbox's socket peers cannot be read here");
    }
}
