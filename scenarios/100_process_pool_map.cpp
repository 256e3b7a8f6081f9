// 100 process-pool-map — a process pool that works, made by each start method.
//
// What it shows: a real process pool (scenarios/support/process_pool.hpp): N worker processes,
// tasks sent to each worker over its own AF_UNIX connection, results sent back over one shared
// result socket. `map` runs a function with one argument per task (count the primes below n),
// `starmap` with several (count the primes in [low, high)). The parent computes every task
// again in-process and checks the pool's answers against its own. The workers reach the pool
// by socket paths in the current directory, never by inherited fds, so the same pool works
// whether its workers are forked copies, fresh programs (fork_exec, spawn) or children of a
// forkserver that was made before the pool's sockets existed.
//
// What to look for: on the timeline, "pool: sent task t to worker k" in the parent, then
// "worker k: started task t" in worker k's process; task t always goes to worker t % N. Each
// worker gets its next task only when its previous result is back. After the last result the
// pool sends "stop" and every worker exits 0. The spawn and fork_exec workers start later
// (each is a fresh program to load) than forked ones; compare `pool_start_ms`.
//
// Variants: map_fork, map_fork_exec, map_spawn, map_forkserver, starmap_spawn,
// starmap_forkserver, one_worker.
#include "scenarios/support/process_pool.hpp"
#include "sim/scenario/scenario.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace forklore;

double milliseconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
}

int run(ScenarioContext& context) {
    pool::PoolOptions options;
    options.workers = static_cast<int>(context.integer("workers"));
    options.method = context.method("start_method");
    const bool starmap = context.knob("call") == "starmap";

    // The work: count primes below 5000, 10000 ...; or in blocks of 20000 numbers.
    const std::string function = starmap ? "count_primes" : "count_primes_below";
    std::vector<std::vector<long>> tuples;
    for (long k = 0; k < 9; ++k)
        tuples.push_back(starmap ? std::vector<long>{k * 20000, (k + 1) * 20000}
                                 : std::vector<long>{(k + 1) * 5000});

    auto started = std::chrono::steady_clock::now();
    pool::ProcessPool workers(options);
    probe::measure("pool_start_ms", milliseconds_since(started), "ms");
    started = std::chrono::steady_clock::now();
    std::vector<pool::TaskOutcome> outcomes;
    if (starmap) {
        outcomes = workers.starmap(function, tuples);
    } else {
        std::vector<long> inputs;
        for (const auto& tuple : tuples)
            inputs.push_back(tuple[0]);
        outcomes = workers.map(function, inputs);
    }
    probe::measure("pool_map_ms", milliseconds_since(started), "ms");
    workers.shutdown(); // SYNC: "stop" to every worker, then wait for each to exit
    pool::note("pool: all workers stopped");

    // The check: the same computation in this process must give the same answers.
    int wrong = 0;
    long total = 0;
    for (std::size_t task = 0; task < tuples.size(); ++task) {
        long expected = pool::compute(function, tuples[task]);
        long got = outcomes[task].value();
        total += got;
        if (got != expected) {
            std::string line = "task " + std::to_string(task) + ": the pool says " +
                               std::to_string(got) + ", in-process gives " +
                               std::to_string(expected);
            probe::print(stderr, line.c_str());
            ++wrong;
        }
    }
    std::string summary = std::string(starmap ? "starmap" : "map") + "(" + function + ") over " +
                          std::to_string(tuples.size()) + " tasks on " +
                          std::to_string(options.workers) + " workers: " +
                          (wrong ? std::to_string(wrong) + " wrong results"
                                 : "all results match the in-process computation") +
                          " (sum " + std::to_string(total) + ")";
    probe::print(stdout, summary.c_str());
    return wrong == 0 ? 0 : 1;
}

Scenario describe() {
    Scenario s;
    s.id = "process-pool-map";
    s.group = "process pools";
    s.title = "A process pool runs map and starmap with each start method";
    s.lesson =
        "A process pool keeps N worker processes and hands them tasks: map calls a function "
        "with one argument per task, starmap with several. Here the tasks go to each worker over "
        "its own Unix socket connection and the results come back on one shared socket, and the "
        "parent checks every answer against the same computation done in-process. Because the "
        "workers find the pool by a socket path instead of an inherited file descriptor, the "
        "same pool works with forked workers, fresh programs (fork_exec, spawn) and forkserver "
        "children, which never inherited the pool's sockets. Only the cost of starting the "
        "workers differs.";
    s.knobs = {
        start_method_knob("start_method", StartMethod::fork, "How the worker processes are made."),
        Knob::integer("workers", 3, 1, 8, "Number of worker processes."),
        Knob::choice("call", "map", {"map", "starmap"},
                     "map: one argument per task; starmap: a tuple of arguments per task."),
    };
    s.variants = {
        {"map_fork", "3 forked workers run map", {}, Expectation::completes()},
        {"map_fork_exec",
         "3 workers made by fork then exec run map",
         {{"start_method", "fork_exec"}},
         Expectation::completes()},
        {"map_spawn",
         "3 workers made by posix_spawn run map",
         {{"start_method", "spawn"}},
         Expectation::completes()},
        {"map_forkserver",
         "3 forkserver workers run map: they find the pool by its socket path",
         {{"start_method", "forkserver"}},
         Expectation::completes()},
        {"starmap_spawn",
         "starmap: two arguments per task, spawned workers",
         {{"start_method", "spawn"}, {"call", "starmap"}},
         Expectation::completes()},
        {"starmap_forkserver",
         "starmap with forkserver workers",
         {{"start_method", "forkserver"}, {"call", "starmap"}},
         Expectation::completes()},
        {"one_worker",
         "a pool of one worker runs every task in turn",
         {{"workers", "1"}},
         Expectation::completes()},
    };
    s.body = run;
    s.children = {{pool::kWorkerFunction, pool::worker_main}};
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
