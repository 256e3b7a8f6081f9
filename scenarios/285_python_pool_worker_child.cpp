// 285 python-pool-worker-child — Python: a task in a pool worker starts a process of its own.
//
// What it shows: what a user sees when a Pool task starts a process. The program
// (scenarios/python/pool_worker_child.py) maps archive() over 2 tasks on 2 workers; each task
// starts a multiprocessing.Process (a "compressor") and joins it. multiprocessing.Pool makes
// its workers daemonic (pool.py sets w.daemon = True), and Process.start() asserts that a
// daemonic process has no children: the task raises "AssertionError: daemonic processes are
// not allowed to have children". No hang: the worker sends that exception back like any
// other, and Pool.map raises it in the parent, which ends the program with the worker's
// traceback (RemoteTraceback, through process.py's start()) and exit code 1: `failed`.
// concurrent.futures.ProcessPoolExecutor does not make its workers daemonic (3.11's
// concurrent/futures/process.py never sets daemon), so the same task's process runs and the
// program completes. Scenario 250 shows the rule on a plain daemonic Process. The check is an
// `assert` statement: under `python -O` it is not made.
//
// Measured outside forklore (Debian 12, Python 3.11.2 /usr/bin/python3, PYTHONUNBUFFERED=0, 2
// cores under a load of 5 to 12, each run under `timeout 10`): Pool exited 1 with the
// AssertionError 10 of 10 with fork, 10 of 10 with spawn, 5 of 5 with forkserver, never a
// hang; ProcessPoolExecutor exited 0 with both compressors' lines 10 of 10 with fork and with
// spawn, 5 of 5 with forkserver.
// In forklore (`matrix --repeat 20`, load 3 to 5): pool_fork and pool_spawn failed 20 of 20
// (0.9 and 1.3 s); executor_fork and executor_spawn completed 20 of 20 (1.2 and 2.0 s).
//
// What to look for: stderr ends with "AssertionError: daemonic processes are not allowed to
// have children" after the RemoteTraceback; executor: two "compressor P: compressing partN"
// lines and "main: the helpers exited with codes [0, 0]".
//
// Variants: pool_fork, pool_spawn (AssertionError, exit 1), executor_fork, executor_spawn.
#include "scenarios/support/python_program.hpp"

namespace {

using namespace forklore;

int run(ScenarioContext& context) {
    return python::run_script("pool_worker_child.py",
                              {context.knob("start_method"), context.knob("pool")},
                              context.flag("unbuffered"));
}

Scenario describe() {
    Scenario s;
    s.id = "python-pool-worker-child";
    s.group = "python multiprocessing";
    s.title = "Python: a task in a pool worker starts a process";
    s.lesson =
        "A Python program (scenarios/python/pool_worker_child.py) maps a task over a "
        "multiprocessing.Pool, and each task starts a multiprocessing.Process of its own. Pool "
        "workers are daemonic, and a daemonic process may not have children: Process.start() "
        "raises \"AssertionError: daemonic processes are not allowed to have children\" in the "
        "worker. Nothing hangs: the exception travels back like any task's error, and Pool.map "
        "raises it in the parent, which exits with code 1. ProcessPoolExecutor's workers are "
        "not daemonic (Python 3.11), so there the task's process runs and the program "
        "completes. PYTHONUNBUFFERED is pinned to 0.";
    s.knobs = {
        python::start_method_knob("fork",
                                  "How the pool starts its workers, and the task its process."),
        Knob::choice("pool", "pool", {"pool", "executor"},
                     "pool: multiprocessing.Pool.map; executor: "
                     "concurrent.futures.ProcessPoolExecutor.map."),
        python::unbuffered_knob("off"),
    };
    const auto refused = python::expect(Expectation::ends_as(VerdictKind::failed));
    const auto completes = python::expect(Expectation::completes());
    s.variants = {
        {"pool_fork",
         "Pool.map: the task's Process.start() raises AssertionError, map re-raises it: exit 1",
         {{"start_method", "fork"}},
         refused},
        {"pool_spawn",
         "spawned workers are daemonic too: the same AssertionError",
         {{"start_method", "spawn"}},
         refused},
        {"executor_fork",
         "ProcessPoolExecutor: its workers are not daemonic, the process runs",
         {{"start_method", "fork"}, {"pool", "executor"}},
         completes},
        {"executor_spawn",
         "ProcessPoolExecutor with spawn: the same",
         {{"start_method", "spawn"}, {"pool", "executor"}},
         completes},
    };
    s.body = run;
    s.sources = {python::script_path("pool_worker_child.py")}; // the program the body runs
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
