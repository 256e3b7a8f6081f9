// Measures the cost of the sandbox, each figure a ratio of two things measured side by side in
// this one process, the median of several repetitions:
//   throughput  sandboxed runs per second of selftest-trivial against bare posix_spawn + waitpid
//               of the same host program, with and without namespaces and per-run cgroups;
//   hang proof  the wall time of file-read-under-lock's fork variant (proven deadlocked) against
//               its spawn variant (completes), and against `timeout 10` running the same host
//               program, which is what a harness without forklore needs to notice the hang;
//   observer    the runner's CPU time per sampled thread per second, over a program of N
//               sleeping threads (`forklore exec` of python3);
//   corpus      the wall time of the default matrix (the deterministic variants not marked
//               slow), two at a time, as `forklore matrix` runs it on two cores.
//
//   build/bin/forklore_bench_runs [--runs N] [--tsv] [--only SECTION]...
// SECTION: throughput, hang, observer, corpus. --tsv prints one row per figure for
// bench/bench_table.py (figure, value, detail, goal, met); without it, sentences.
//
// Index of this file:
// [SECTION] Helpers: clocks, the median, a figure's output, spawning
// [SECTION] throughput: sandboxed runs against bare posix_spawn
// [SECTION] hang: a proven hang against a completed run and 'timeout 10'
// [SECTION] observer: the runner's CPU per sampled thread
// [SECTION] corpus: the default matrix
// [SECTION] main: the options, and the sections asked for
#include "sim/probe/exec_program.hpp"
#include "sim/probe/probe.hpp"
#include "sim/run/matrix.hpp"
#include "sim/run/runner.hpp"
#include "sim/sandbox/host.hpp"
#include "sim/scenario/scenario.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

// [SECTION] Helpers: clocks, the median, a figure's output, spawning ------------------------------

namespace {

using namespace forklore;

double now_s() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double cpu_s() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values.empty() ? 0 : values[values.size() / 2];
}

// One figure: printed as a sentence, or as a row for the table.
struct Output {
    bool tsv = false;
    void row(const std::string& figure, const std::string& value, const std::string& detail,
             const std::string& goal, const std::string& met) const {
        if (tsv)
            fmt::print("{}\t{}\t{}\t{}\t{}\n", figure, value, detail, goal, met);
        else
            fmt::print("{}: {} ({}){}\n", figure, value, detail,
                       goal.empty() ? "" : fmt::format(", goal {}: {}", goal, met));
        std::fflush(stdout);
    }
};

std::string yes_no(bool met) {
    return met ? "yes" : "no";
}

// Spawns argv (stdout and stderr to /dev/null) and returns its pid.
pid_t spawn_quietly(std::vector<std::string> argv) {
    std::vector<char*> pointers;
    for (auto& arg : argv)
        pointers.push_back(arg.data());
    pointers.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, pointers[0], &actions, nullptr, pointers.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        fmt::print(stderr, "bench_runs: cannot start {}: {}\n", argv[0], std::strerror(rc));
        std::exit(1);
    }
    return pid;
}

int wait_for(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

// [SECTION] throughput: sandboxed runs against bare posix_spawn -----------------------------------

// posix_spawn of the host printing its help, and waitpid: the floor of any run.
double bare_spawns_per_second(int runs) {
    std::string host = default_host_path();
    double start = now_s();
    for (int i = 0; i < runs; ++i)
        wait_for(spawn_quietly({host, "--help"}));
    return runs / (now_s() - start);
}

double sandboxed_runs_per_second(const RunRequest& request, int runs) {
    double start = now_s();
    for (int i = 0; i < runs; ++i) {
        RunRecord record = run_scenario(request);
        if (record.verdict.kind != VerdictKind::completed) {
            fmt::print(stderr, "bench_runs: selftest-trivial ended {}: {}\n",
                       to_string(record.verdict.kind), record.verdict.explanation);
            std::exit(1);
        }
    }
    return runs / (now_s() - start);
}

void throughput(const Output& out, int runs) {
    const Scenario* trivial = ScenarioRegistry::instance().find("selftest-trivial");
    if (!trivial)
        std::exit(1);
    struct Config {
        const char* name;
        bool namespaces, cgroups;
    } configs[] = {{"namespaces, cgroups", true, true},
                   {"namespaces, no cgroups", true, false},
                   {"no namespaces, cgroups", false, true},
                   {"no namespaces, no cgroups", false, false}};
    const int repetitions = 5;
    const int per_batch = std::max(10, runs / repetitions);
    std::vector<double> bare;
    std::vector<std::vector<double>> sandboxed(std::size(configs)), ratios(std::size(configs));
    // Interleaved: bare, then each configuration, repetition after repetition, so that a load
    // that comes and goes touches them all alike.
    for (int r = 0; r < repetitions; ++r) {
        double floor = bare_spawns_per_second(per_batch);
        bare.push_back(floor);
        for (std::size_t c = 0; c < std::size(configs); ++c) {
            RunRequest request = make_request(*trivial, "default");
            request.namespaces = configs[c].namespaces;
            request.cgroups = configs[c].cgroups;
            double rate = sandboxed_runs_per_second(request, per_batch);
            sandboxed[c].push_back(rate);
            ratios[c].push_back(rate / floor);
        }
    }
    for (std::size_t c = 0; c < std::size(configs); ++c) {
        double ratio = median(ratios[c]);
        out.row(
            fmt::format("throughput: sandboxed runs/s of selftest-trivial, {}", configs[c].name),
            fmt::format("{:.2f}x", ratio),
            fmt::format("{:.0f}/s ({:.1f} ms a run) against {:.0f} bare posix_spawn+waitpid/s; "
                        "median of {} x {}",
                        median(sandboxed[c]), 1000 / median(sandboxed[c]), median(bare),
                        repetitions, per_batch),
            ">= 0.5x", yes_no(ratio >= 0.5));
    }
}

// [SECTION] hang: a proven hang against a completed run and 'timeout 10' --------------------------

// Wall time of `forklore run ID --variant V` (the command line beside this program).
double cli_run_s(const std::string& id, const std::string& variant) {
    std::string self = own_executable_path();
    std::string cli = self.substr(0, self.rfind('/')) + "/forklore";
    double start = now_s();
    wait_for(spawn_quietly({cli, "run", id, "--variant", variant}));
    return now_s() - start;
}

// `timeout 10 forklore-host run ...` of the same scenario and knobs, with an event channel and
// a working directory but nobody watching: the hang is noticed when the deadline kills it.
// `count` of them at once (they only wait), each one's wall time.
std::vector<double> timeout_harness_s(const RunRequest& request, int count) {
    Channel channel = Channel::create(4096);
    std::vector<pid_t> pids;
    std::vector<std::string> workdirs;
    std::vector<double> starts, walls(static_cast<std::size_t>(count), 0);
    int fd = dup(channel.fd()); // without close-on-exec: the host attaches to it by number
    for (int i = 0; i < count; ++i) {
        std::string workdir = (std::filesystem::temp_directory_path() /
                               fmt::format("forklore-bench-timeout-{}-{}", getpid(), i))
                                  .string();
        std::filesystem::create_directories(workdir);
        workdirs.push_back(workdir);
        std::vector<std::string> argv = {"timeout",           "10",
                                         default_host_path(), "run",
                                         "--scenario",        request.scenario->id,
                                         "--channel-fd",      std::to_string(fd),
                                         "--workdir",         workdir};
        for (const auto& [knob, value] : request.knobs) {
            argv.push_back("--knob");
            argv.push_back(knob + "=" + value);
        }
        starts.push_back(now_s());
        pids.push_back(spawn_quietly(argv));
    }
    for (std::size_t i = 0; i < pids.size(); ++i) {
        wait_for(pids[i]);
        walls[i] = now_s() - starts[i];
    }
    close(fd);
    for (const auto& dir : workdirs)
        std::filesystem::remove_all(dir);
    return walls;
}

void hang_proof(const Output& out, int runs) {
    const Scenario* reader = ScenarioRegistry::instance().find("file-read-under-lock");
    if (!reader)
        std::exit(1);
    const int repetitions = std::max(9, runs / 20);
    const char* variants[2] = {"fork", "spawn"};
    std::vector<double> wall[2], verdict[2], cli[2];
    for (int i = 0; i < repetitions; ++i)
        for (int v = 0; v < 2; ++v) {
            RunRequest request = make_request(*reader, variants[v]);
            double start = now_s();
            RunRecord record = run_scenario(request);
            wall[v].push_back(now_s() - start);
            verdict[v].push_back(record.timings.verdict_ms);
            cli[v].push_back(cli_run_s(reader->id, variants[v]));
        }
    double ratio = median(wall[0]) / median(wall[1]);
    double cli_ratio = median(cli[0]) / median(cli[1]);
    out.row("hang proof: file-read-under-lock fork (hangs) against spawn (completes), wall time",
            fmt::format("{:.2f}x", ratio),
            fmt::format("{:.1f} ms (verdict at {:.1f} ms) against {:.1f} ms in process; "
                        "'forklore run' {:.1f} ms against {:.1f} ms ({:.2f}x); median of {}",
                        median(wall[0]) * 1000, median(verdict[0]), median(wall[1]) * 1000,
                        median(cli[0]) * 1000, median(cli[1]) * 1000, cli_ratio, repetitions),
            "<= 1.5x", yes_no(ratio <= 1.5 && cli_ratio <= 1.5));
    std::vector<double> harness = timeout_harness_s(make_request(*reader, "fork"), 3);
    double against_timeout = median(cli[0]) / median(harness);
    out.row("hang proof: 'forklore run' of the fork variant against 'timeout 10' of the same "
            "program",
            fmt::format("{:.4f}x", against_timeout),
            fmt::format("{:.1f} ms against {:.2f} s ({} at once)", median(cli[0]) * 1000,
                        median(harness), harness.size()),
            "", "");
}

// [SECTION] observer: the runner's CPU per sampled thread -----------------------------------------

// The runner's CPU time (this process) over the run of a python3 program whose `threads`
// threads sleep for `seconds`, sampled every 2 ms: seconds of CPU per second per thread.
struct ObserverCost {
    double cpu_per_thread_second = 0;
    double cpu_s = 0, wall_s = 0;
    int samples = 0;
};

ObserverCost observe_sleepers(int threads, double seconds) {
    const Scenario* exec = ScenarioRegistry::instance().find("exec");
    if (!exec)
        std::exit(1);
    std::string code =
        fmt::format("import threading, time\n"
                    "ts = [threading.Thread(target=time.sleep, args=({},)) for _ in range({})]\n"
                    "[t.start() for t in ts]\n[t.join() for t in ts]\n",
                    seconds, threads);
    RunRequest request;
    request.scenario = exec;
    request.knobs = {{"argv", probe::encode_argv({"python3", "-c", code})},
                     {"cwd", std::filesystem::current_path().string()}};
    request.limits = exec->limits;
    request.timeout_seconds = seconds + 30;
    double cpu = cpu_s(), start = now_s();
    RunRecord record = run_scenario(request);
    ObserverCost cost;
    cost.wall_s = now_s() - start;
    cost.cpu_s = cpu_s() - cpu;
    cost.samples = record.timings.samples;
    if (record.verdict.kind != VerdictKind::completed) {
        fmt::print(stderr, "bench_runs: the sleeping program ended {}: {}\n",
                   to_string(record.verdict.kind), record.verdict.explanation);
        std::exit(1);
    }
    cost.cpu_per_thread_second = cost.cpu_s / cost.wall_s / (threads + 1); // + python's main
    return cost;
}

void observer(const Output& out) {
    for (int threads : {1, 64}) {
        std::vector<double> per_thread, cpu, wall;
        int samples = 0;
        for (int r = 0; r < 3; ++r) {
            ObserverCost cost = observe_sleepers(threads, 2.0);
            per_thread.push_back(cost.cpu_per_thread_second);
            cpu.push_back(cost.cpu_s);
            wall.push_back(cost.wall_s);
            samples = cost.samples;
        }
        out.row(fmt::format("observer: runner CPU per sampled thread, {} threads", threads + 1),
                fmt::format("{:.2f}%", median(per_thread) * 100),
                fmt::format("{:.3f} s CPU over {:.2f} s, {} samples; median of 3", median(cpu),
                            median(wall), samples),
                "", "");
    }
}

// [SECTION] corpus: the default matrix ------------------------------------------------------------

void corpus(const Output& out) {
    const MatrixOptions options; // the default set: deterministic, not slow, no self-test
    const auto deterministic = select_variants(options);
    const SkippedVariants skipped = skipped_variants(options);
    const int jobs = 2;
    std::atomic<std::size_t> next{0};
    std::atomic<int> mismatches{0};
    std::vector<std::string> failed;
    std::mutex failed_mutex;
    double start = now_s();
    std::vector<std::thread> workers;
    for (int j = 0; j < jobs; ++j)
        workers.emplace_back([&] {
            for (std::size_t i = next++; i < deterministic.size(); i = next++) {
                auto [scenario, variant] = deterministic[i];
                MatrixCell cell = run_variant(*scenario, *variant, 1);
                if (!cell.passed) {
                    mismatches++;
                    std::lock_guard<std::mutex> lock(failed_mutex);
                    failed.push_back(scenario->id + ":" + variant->name);
                }
            }
        });
    for (auto& worker : workers)
        worker.join();
    double wall = now_s() - start;
    std::string detail =
        fmt::format("{} deterministic variants ({} slow and {} racy skipped), {} at a time, {} not "
                    "as expected",
                    deterministic.size(), skipped.slow, skipped.racy, jobs, mismatches.load());
    for (const auto& name : failed)
        detail += " " + name;
    out.row("corpus: the default matrix, wall time", fmt::format("{:.1f} s", wall), detail,
            "<= 30 s", yes_no(wall <= 30 && mismatches == 0));
}

} // namespace

// [SECTION] main: the options, and the sections asked for -----------------------------------------

int main(int argc, char** argv) {
    Output out;
    int runs = 200;
    std::set<std::string> only;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--tsv")
            out.tsv = true;
        else if (arg == "--runs" && i + 1 < argc)
            runs = std::max(10, std::atoi(argv[++i]));
        else if (arg == "--only" && i + 1 < argc)
            only.insert(argv[++i]);
        else if (!arg.empty() && arg[0] != '-')
            runs = std::max(10, std::atoi(arg.c_str())); // the old single argument
        else {
            fmt::print(stderr, "usage: forklore_bench_runs [--runs N] [--tsv] [--only "
                               "throughput|hang|observer|corpus]...\n");
            return 2;
        }
    }
    auto wanted = [&](const char* section) { return only.empty() || only.count(section) > 0; };
    if (wanted("throughput"))
        throughput(out, runs);
    if (wanted("hang"))
        hang_proof(out, runs);
    if (wanted("observer"))
        observer(out);
    if (wanted("corpus"))
        corpus(out);
    return 0;
}
