// 290 python-pool-start-methods — Python: Pool.map and Pool.starmap while a thread of the
// parent holds a lock the tasks take, with each start method.
//
// What it shows: the same program under fork, spawn and forkserver, side by side. The program
// (scenarios/python/pool_start_methods.py) keeps a module-level metrics table behind a
// threading.Lock; a reporter thread takes the lock to publish the counters, and every task
// takes it to add its own. The pool makes its workers when it is created, and the reporter is
// inside the lock at that moment (forced with threading.Event: deterministic).
// - fork: each worker is a copy of the parent with metrics_lock locked and no reporter; its
//   first task waits for ever, and map (or starmap) with it.
// - spawn: each worker is a fresh interpreter that imports the program as __mp_main__ and
//   makes a new, free lock.
// - forkserver: workers are forked from a server started, single-threaded, the first time a
//   forkserver pool is made; they too import the program afresh: a free lock.
// - default: multiprocessing.Pool() with no context, as most code is written. The default
//   start method (checked against the Python documentation, "Contexts and start methods", and
//   its changelog): fork on Linux and other POSIX systems up to Python 3.13; forkserver there
//   from 3.14; spawn on macOS since 3.8 (fork had become unsafe there); spawn on Windows, the
//   only method it has. So this program hangs by default on Linux with Python 3.11 (this
//   machine: get_start_method() answers fork) and completes on macOS and on Python 3.14.
//   Python 3.12 added a DeprecationWarning from os.fork() when the process has other threads
//   (hidden unless warnings are enabled, as test runners do).
// map and starmap behave alike: the difference is only how arguments are passed.
//
// Measured outside forklore (Debian 12, Python 3.11.2 /usr/bin/python3, PYTHONUNBUFFERED=0, 2
// cores under a load of 5 to 12, each run under `timeout 8`, Pool(2)): default (fork here)
// map hung 20 of 20, fork map 20 of 20, fork starmap 20 of 20; spawn map and starmap, and
// forkserver map and starmap, completed 10 of 10 each (3.2 to 3.7 s of wall time under that
// load, 0.6 s of CPU for a spawn run). An earlier series with Pool(3): default map hung 20 of
// 20.
// In forklore (`matrix --repeat 20`, load 3 to 5): map_default, map_fork and starmap_fork
// deadlocked (no_waker) 20 of 20 each (0.5 to 0.8 s); the four spawn and forkserver variants
// completed 20 of 20 each (0.5 to 0.7 s).
//
// What to look for: the first line names the default start method and the pool's. fork: no
// result line; each of the 2 workers waits on a futex with no owner (metrics_lock is a
// semaphore underneath: no_waker), the main thread waits for map's result. spawn,
// forkserver: "main: map returned [4, 5, 4, 5]" (starmap: the same counts with line numbers).
//
// Variants: map_default, map_fork, starmap_fork (hang), map_spawn, starmap_spawn,
// map_forkserver, starmap_forkserver.
#include "scenarios/support/python_program.hpp"

namespace {

using namespace forklore;

int run(ScenarioContext& context) {
    return python::run_script("pool_start_methods.py",
                              {context.knob("start_method"), context.knob("api")},
                              context.flag("unbuffered"));
}

Scenario describe() {
    Scenario s;
    s.id = "python-pool-start-methods";
    s.group = "python multiprocessing";
    s.title = "Python: Pool.map and starmap under fork, spawn and forkserver, a lock held";
    s.lesson =
        "A Python program (scenarios/python/pool_start_methods.py) runs Pool.map or "
        "Pool.starmap over tasks that take a module-level threading.Lock, while a reporter "
        "thread of the parent holds that lock as the pool makes its workers. With fork every "
        "worker inherits the lock locked, without the reporter, and map waits for ever. spawn "
        "and forkserver workers import the program afresh and make a free lock. The default "
        "start method, as the Python documentation gives it: fork on Linux up to Python 3.13, "
        "forkserver from 3.14; spawn on macOS since 3.8 and on Windows. So a plain "
        "multiprocessing.Pool() hangs here (Linux, Python 3.11) and completes on macOS or "
        "Python 3.14. PYTHONUNBUFFERED is pinned to 0.";
    s.knobs = {
        Knob::choice("start_method", "default", {"default", "fork", "spawn", "forkserver"},
                     "How the pool starts its workers; default: multiprocessing.Pool() with no "
                     "context, the platform's default."),
        Knob::choice("api", "map", {"map", "starmap"},
                     "map: Pool.map(count_words, lines); starmap: Pool.starmap over (line "
                     "number, line) pairs."),
        python::unbuffered_knob("off"),
    };
    const auto hangs = python::expect(Expectation::deadlocks(DeadlockReason::no_waker));
    const auto completes = python::expect(Expectation::completes());
    s.variants = {
        {"map_default",
         "multiprocessing.Pool(): fork on Linux up to 3.13, so every worker hangs",
         {{"start_method", "default"}, {"api", "map"}},
         hangs},
        {"map_fork",
         "fork: each worker inherits the locked lock, map waits for ever",
         {{"start_method", "fork"}, {"api", "map"}},
         hangs},
        {"starmap_fork",
         "starmap with fork: the same hang",
         {{"start_method", "fork"}, {"api", "starmap"}},
         hangs},
        {"map_spawn",
         "spawn: each worker makes a new, free lock",
         {{"start_method", "spawn"}, {"api", "map"}},
         completes},
        {"starmap_spawn",
         "starmap with spawn",
         {{"start_method", "spawn"}, {"api", "starmap"}},
         completes},
        {"map_forkserver",
         "forkserver: workers forked from a clean server",
         {{"start_method", "forkserver"}, {"api", "map"}},
         completes},
        {"starmap_forkserver",
         "starmap with forkserver",
         {{"start_method", "forkserver"}, {"api", "starmap"}},
         completes},
    };
    s.body = run;
    s.sources = {python::script_path("pool_start_methods.py")}; // the program the body runs
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
