// Measures the cost of the sandbox: sandboxed runs per second of a trivial scenario against a
// bare posix_spawn + waitpid of the same host program, and the time to a verdict of the fork
// (hangs) and spawn (completes) variants of file-read-under-lock. Prints one line per figure.
//
//   build/bin/forklore_bench_runs [runs]
#include "sim/host.hpp"
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
#include <string>
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

// Wall time of `forklore run ID --variant V` (the command line beside this program), output to
// /dev/null: what a user waits for.
double cli_run_ms(const std::string& id, const std::string& variant) {
    std::string self = forklore::own_executable_path();
    std::string cli = self.substr(0, self.rfind('/')) + "/forklore";
    std::string variant_copy = variant, id_copy = id;
    char run[] = "run", flag[] = "--variant";
    char* argv[] = {cli.data(), run, id_copy.data(), flag, variant_copy.data(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    double start = now_s();
    pid_t pid = 0;
    if (posix_spawn(&pid, cli.c_str(), &actions, nullptr, argv, environ) != 0) std::exit(1);
    int status = 0;
    waitpid(pid, &status, 0);
    posix_spawn_file_actions_destroy(&actions);
    return (now_s() - start) * 1000;
}

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

    // The hang is proven, with stacks, about as fast as the completing run ends: the goal is a
    // wall-time ratio within 1.5x, in process and through the command line.
    const int verdict_runs = std::max(5, runs / 10);
    double wall_median[2] = {0, 0}, cli_median[2] = {0, 0};
    const char* variants[2] = {"fork", "spawn"};
    for (int v = 0; v < 2; ++v) {
        RunRequest r = make_request(*reader, variants[v]);
        std::vector<double> verdict_ms, wall_ms, cli_ms;
        for (int i = 0; i < verdict_runs; ++i) {
            double t = now_s();
            RunRecord record = run_scenario(r);
            wall_ms.push_back((now_s() - t) * 1000);
            verdict_ms.push_back(record.timings.verdict_ms);
            cli_ms.push_back(cli_run_ms(reader->id, variants[v]));
        }
        wall_median[v] = median(wall_ms);
        cli_median[v] = median(cli_ms);
        fmt::print("file-read-under-lock:{:<6} median verdict {:.1f} ms, median wall {:.1f} ms, "
                   "forklore run {:.1f} ms ({} runs)\n",
                   variants[v], median(verdict_ms), wall_median[v], cli_median[v], verdict_runs);
    }
    fmt::print("hang/complete wall-time ratio (fork/spawn): {:.2f}x in process, {:.2f}x for "
               "'forklore run' (goal: within 1.5x)\n",
               wall_median[0] / wall_median[1], cli_median[0] / cli_median[1]);
    return 0;
}
