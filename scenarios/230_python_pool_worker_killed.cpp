// 230 python-pool-worker-killed — Python: a pool worker is killed by SIGKILL in the middle of a
// task.
//
// What it shows: the Python original of scenario 110. The program
// (scenarios/python/pool_worker_killed.py) maps square() over 9 tasks on 3 workers; the worker
// that takes task 5 kills itself with SIGKILL, as the kernel's OOM killer would.
// - multiprocessing.Pool: its worker-handler thread notices the death and starts a replacement,
//   but the task the dead worker had taken is simply gone, and nothing marks it failed.
//   Pool.map waits for it for ever. Every thread ends up in an untimed wait: the main thread
//   on the result's condition (a futex), the pool's three threads in poll, on the task queue
//   and in a read on the result pipe, the workers on the shared queue's semaphore and pipe.
// - concurrent.futures.ProcessPoolExecutor: its manager thread watches every worker's
//   sentinel; one dying breaks the whole executor, and every pending future fails with
//   BrokenProcessPool ("A process in the process pool was terminated abruptly while the future
//   was running or pending."). The program catches it, prints that line on stderr and exits
//   with code 1, as an uncaught BrokenProcessPool would (with a traceback): `failed`.
// The start method changes nothing here: the lost task is lost however the worker was made.
//
// Measured outside forklore (Python 3.11.2, PYTHONUNBUFFERED=0, 5 runs per cell under
// `timeout 5`): Pool hung 5 of 5 with fork, spawn and forkserver (/proc: every thread of every
// process in futex, poll or pipe read, none timed); ProcessPoolExecutor exited 1 with
// BrokenProcessPool 5 of 5 with each method.
//
// What to look for: "worker P: task 5: killed by SIGKILL". Pool: the deadlock proof and the
// wait-for graph of the main process, its pool threads and the idle workers. Executor: the
// BrokenProcessPool line on stderr and exit code 1.
//
// Variants: pool_fork, pool_spawn (hang), executor_fork, executor_spawn. (forkserver behaves
// the same, measured above; `--set start_method=forkserver` shows it.)
#include "scenarios/support/python_program.hpp"

namespace {

using namespace forklore;

int run(ScenarioContext& context) {
    return python::run_script("pool_worker_killed.py",
                              {context.knob("start_method"), context.knob("pool")}, false);
}

Scenario describe() {
    Scenario s;
    s.id = "python-pool-worker-killed";
    s.group = "python multiprocessing";
    s.title = "Python: a pool worker is killed by SIGKILL while it runs a task";
    s.lesson =
        "A Python program (scenarios/python/pool_worker_killed.py) maps a function over 9 "
        "tasks on 3 workers, and the worker running task 5 is killed by SIGKILL, as the OOM "
        "killer would do. multiprocessing.Pool replaces the dead worker but never learns that "
        "its task was lost: Pool.map waits for ever, and every thread of every process is "
        "blocked. concurrent.futures.ProcessPoolExecutor watches its workers, declares itself "
        "broken and fails every pending future with BrokenProcessPool; the program reports it "
        "and exits with code 1. PYTHONUNBUFFERED is pinned to 0.";
    s.knobs = {
        python::start_method_knob("fork", "How the pool starts its worker processes."),
        Knob::choice("pool", "pool", {"pool", "executor"},
                     "pool: multiprocessing.Pool.map; executor: "
                     "concurrent.futures.ProcessPoolExecutor.map."),
    };
    const auto hangs = python::expect(Expectation::deadlocks(DeadlockReason::no_waker));
    const auto broken = python::expect(Expectation::ends_as(VerdictKind::failed));
    s.variants = {
        {"pool_fork",
         "multiprocessing.Pool, forked workers: map waits for ever for task 5",
         {{"pool", "pool"}, {"start_method", "fork"}},
         hangs},
        {"pool_spawn",
         "spawned workers: the start method does not save the lost task",
         {{"pool", "pool"}, {"start_method", "spawn"}},
         hangs},
        {"executor_fork",
         "ProcessPoolExecutor: BrokenProcessPool, the program exits 1",
         {{"pool", "executor"}, {"start_method", "fork"}},
         broken},
        {"executor_spawn",
         "ProcessPoolExecutor with spawned workers: BrokenProcessPool",
         {{"pool", "executor"}, {"start_method", "spawn"}},
         broken},
    };
    s.body = run;
    s.sources = {python::script_path("pool_worker_killed.py")}; // the program the body runs
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
