// 110 pool-worker-killed — a worker of a process pool is killed in the middle of a task.
//
// What it shows: the pool of scenario 100 (scenarios/support/process_pool.hpp) runs map over 9
// tasks on 3 workers. Task 5 is the huge one (count the primes below two billion), and while worker
// 2 runs it, it is killed with SIGKILL, as the kernel's OOM killer or an operator would do. The
// scenario forces the timing: it kills the worker only once that worker has announced "started
// task 5", and task 5 is far too long to finish first. What happens next depends on the pool:
// - naive: it only reads the shared result socket, which has no end-of-file (the other workers
//   could still send on it). It waits for task 5's result for ever, and the surviving workers,
//   their own tasks done, wait for a next task that never comes. Python's multiprocessing.Pool
//   waits for ever too, but not the same way: it replaces the dead worker, and its workers go on
//   serving, while the dead worker's task is simply lost (Debian's Python 3.11.2, measured
//   2026-12-04: a Pool(3) whose worker SIGKILLs itself in task 5 of map_async(range(10)) has one
//   new worker after 1.5 s and the result is not ready; get(timeout=3) times out, with fork and
//   with spawn). concurrent.futures' ProcessPoolExecutor raises BrokenProcessPool instead.
// - robust: it also polls each worker's own connection. Worker 2's connection reads
//   end-of-file the instant the kernel closes the dead worker's fds; the pool reaps it (waitpid,
//   or the forkserver's report), says "worker 2 (pid P) was killed by SIGKILL while running
//   task 5", stops the other workers and raises BrokenPool. Like Python's uncaught
//   BrokenProcessPool, the program then exits with code 1: the run is `failed`, not `crashed`,
//   because the SIGKILL was sent on purpose (Child::kill records it).
//
// What to look for: "worker 2: started task 5", then "main: killing worker 2". naive: the
// deadlock proof, the main process waiting in recvfrom on the result socket and workers 0 and 1
// in read on their task connections; worker 2 is a zombie (or, with forkserver, already reaped
// by the server). robust: "pool: worker 2 (pid P) was killed by SIGKILL while running task 5",
// then workers 0 and 1 exit 0 and the main process exits 1.
//
// Variants: naive_fork, robust_fork, naive_spawn, robust_spawn, naive_forkserver,
// robust_forkserver, robust_fork_exec.
#include "scenarios/support/process_pool.hpp"
#include "sim/scenario/scenario.hpp"

#include <csignal>
#include <string>
#include <vector>

namespace {

using namespace forklore;

constexpr int kWorkers = 3;
constexpr int kVictimTask = 5;           // dealt round-robin: task 5 goes to worker 2
constexpr long kHugeInput = 2000000000L; // minutes of work: still running when the kill lands

int run(ScenarioContext& context) {
    pool::PoolOptions options;
    options.workers = kWorkers;
    options.method = context.method("start_method");
    options.watch_workers = context.knob("pool") == "robust";

    std::vector<long> inputs;
    for (long task = 0; task < 9; ++task)
        inputs.push_back(task == kVictimTask ? kHugeInput : (task + 1) * 5000);

    pool::ProcessPool workers(options);
    workers.on_task_started = [](pool::ProcessPool& pool, int worker, int task) {
        if (task != kVictimTask)
            return;
        // SYNC: worker 2 has said it started task 5: the kill lands inside that task.
        pool::note("main: worker " + std::to_string(worker) + " is running task " +
                   std::to_string(task) + ": killing it with SIGKILL");
        pool.process(worker).kill(SIGKILL);
    };
    std::vector<pool::TaskOutcome> outcomes;
    try {
        outcomes = workers.map("count_primes_below", inputs); // naive: never returns
    } catch (const pool::BrokenPool& broken) {
        std::string line = std::string("error: BrokenPool: ") + broken.what();
        probe::print(stderr, line.c_str());
        return 1; // uncaught BrokenProcessPool in Python: the program exits non-zero
    }
    // Not reached with the kill above; checked all the same, never assumed.
    for (std::size_t task = 0; task < inputs.size(); ++task)
        if (outcomes[task].value() != pool::compute("count_primes_below", {inputs[task]}))
            return 1;
    probe::print(stdout, "every task finished and matched the in-process computation");
    return 0;
}

Scenario describe() {
    Scenario s;
    s.id = "pool-worker-killed";
    s.group = "process pools";
    s.title = "A pool worker is killed while it runs a task";
    s.lesson =
        "While worker 2 of a process pool runs task 5, it is killed with SIGKILL, as the OOM "
        "killer would do. A naive pool only waits on its shared result channel: a dead worker "
        "sends nothing, and the channel never reports end-of-file because the other workers could "
        "still write to it. The pool waits for ever for the lost result while the surviving "
        "workers wait for tasks: everything is blocked. Python's multiprocessing.Pool also waits "
        "for ever for the lost result, although it replaces the dead worker and its other workers "
        "stay alive (Python 3.11). A robust pool also watches each worker (the end-of-file on that "
        "worker's own connection, waitpid or a pidfd), reports which worker died, by which signal "
        "and in which task, stops the others and raises an error, as concurrent.futures does with "
        "BrokenProcessPool; uncaught, it makes the program exit non-zero.";
    s.knobs = {
        start_method_knob("start_method", StartMethod::fork, "How the worker processes are made."),
        Knob::choice(
            "pool", "naive", {"naive", "robust"},
            "naive: waits only on the shared result socket; robust: also watches every worker."),
    };
    const auto hangs = Expectation::deadlocks(DeadlockReason::blocked_on_process);
    const auto broken = Expectation::ends_as(VerdictKind::failed);
    s.variants = {
        {"naive_fork",
         "forked workers, naive pool: waits for ever for task 5's result",
         {{"pool", "naive"}},
         hangs},
        {"robust_fork",
         "forked workers, robust pool: reports the death, exits 1",
         {{"pool", "robust"}},
         broken},
        {"naive_spawn",
         "spawned workers: the start method does not save a naive pool",
         {{"pool", "naive"}, {"start_method", "spawn"}},
         hangs},
        {"robust_spawn",
         "spawned workers, robust pool: reports the death, exits 1",
         {{"pool", "robust"}, {"start_method", "spawn"}},
         broken},
        {"naive_forkserver",
         "forkserver workers, naive pool: hangs too",
         {{"pool", "naive"}, {"start_method", "forkserver"}},
         hangs},
        {"robust_forkserver",
         "forkserver workers: the server reaps, the pool asks it how",
         {{"pool", "robust"}, {"start_method", "forkserver"}},
         broken},
        {"robust_fork_exec",
         "fork+exec workers, robust pool: reports the death, exits 1",
         {{"pool", "robust"}, {"start_method", "fork_exec"}},
         broken},
    };
    s.body = run;
    s.children = {{pool::kWorkerFunction, pool::worker_main}};
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
