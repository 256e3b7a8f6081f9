// Measures the cost of the sandbox: sandboxed runs per second of a trivial scenario against a
// bare posix_spawn + waitpid of the same host program, and the time to a verdict of the fork
// (hangs) and spawn (completes) variants of file-read-under-lock. Prints one line per figure.
//
//   build/bin/forklore_bench_runs [runs]
#include "sim/runner.hpp"
#include "sim/scenario.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

extern char** environ;

namespace {

double now_s() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values.empty() ? 0 : values[values.size() / 2];
}

// posix_spawn of the host printing its help to /dev/null, and waitpid: the floor of any run.
double bare_spawns_per_second(int runs) {
    std::string host = forklore::default_host_path();
    char* argv[] = {host.data(), const_cast<char*>("--help"), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    double start = now_s();
    for (int i = 0; i < runs; ++i) {
        pid_t pid;
        if (posix_spawn(&pid, host.c_str(), &actions, nullptr, argv, environ) != 0) std::exit(1);
        waitpid(pid, nullptr, 0);
    }
    posix_spawn_file_actions_destroy(&actions);
    return runs / (now_s() - start);
}

} // namespace

int main(int argc, char** argv) {
    using namespace forklore;
    const int runs = argc > 1 ? std::atoi(argv[1]) : 200;
    const Scenario* trivial = ScenarioRegistry::instance().find("selftest-trivial");
    const Scenario* reader = ScenarioRegistry::instance().find("file-read-under-lock");
    if (!trivial || !reader) return 1;

    double bare = bare_spawns_per_second(runs);
    RunRequest request = make_request(*trivial, "default");
    double start = now_s();
    for (int i = 0; i < runs; ++i)
        if (run_scenario(request).verdict.kind != VerdictKind::completed) return 1;
    double sandboxed = runs / (now_s() - start);
    fmt::print("bare posix_spawn+waitpid of forklore-host: {:.0f} per second\n", bare);
    fmt::print("sandboxed runs of selftest-trivial:        {:.0f} per second ({:.1f} ms each)\n",
               sandboxed, 1000 / sandboxed);

    const int verdict_runs = std::max(5, runs / 10);
    for (const char* variant : {"fork", "spawn"}) {
        RunRequest r = make_request(*reader, variant);
        std::vector<double> verdict_ms, wall_ms;
        for (int i = 0; i < verdict_runs; ++i) {
            double t = now_s();
            RunRecord record = run_scenario(r);
            wall_ms.push_back((now_s() - t) * 1000);
            verdict_ms.push_back(record.timings.verdict_ms);
        }
        fmt::print("file-read-under-lock:{:<6} median verdict {:.1f} ms, median wall {:.1f} ms "
                   "({} runs)\n", variant, median(verdict_ms), median(wall_ms), verdict_runs);
    }
    return 0;
}
