// 270 python-import-at-fork — Python: a thread is importing a module when the main thread
// starts a process, and the child imports the same module.
//
// What it shows: the import system's locks at fork, in CPython 3.11. The program
// (scenarios/python/import_at_fork.py) has a "warm-up" thread that imports plugin_registry, a
// module whose top-level code is slow (here it waits, with threading.Event, until the child
// has been started: forced, deterministic). An import takes two kinds of lock:
// - the global import lock (C, Python/import.c), held only for a moment around the table of
//   module locks. CPython takes it before fork (PyOS_BeforeFork) and re-initialises it in the
//   child (PyOS_AfterFork_Child calls _PyImport_ReInitLock), so it is never orphaned; a thread
//   that holds it makes os.fork() wait.
// - the module's own lock, importlib._bootstrap._ModuleLock: an owner thread ident, a count
//   and two _thread locks, plain Python data held by the importing thread for as long as the
//   module's top-level code runs. Nothing resets it at fork. A forked child finds the
//   half-initialised module in sys.modules (__spec__._initializing is True), so its
//   `import plugin_registry` waits for the owner to finish, on the lock's `wakeup` lock: the
//   owner stayed in the parent, and the wait never ends.
// Importing another module in the same child works (its module lock is new); spawn and
// forkserver children import plugin_registry afresh. The fix in your own code: finish imports
// before starting processes (import at module level, join the warm-up thread), or use spawn or
// forkserver. CPython 3.12 rewrote _ModuleLock's bookkeeping (an RLock and lists instead of
// counters); its source still resets nothing at fork (read, not measured here).
//
// Measured outside forklore (Debian 12, Python 3.11.2 /usr/bin/python3, PYTHONUNBUFFERED=0, 2
// cores under a load of 5 to 12, each run under `timeout 4`): fork + same module hung 20 of
// 20; fork + another module (decimal) 0 of 20; spawn and forkserver, either module, 0 of 10;
// with PYTHONUNBUFFERED=1, fork + same module hung 5 of 5 (no stream's lock is involved).
// In a hung child, faulthandler (PYTHONFAULTHANDLER=1, SIGABRT) shows the wait at
// <frozen importlib._bootstrap> line 120 in acquire (`self.wakeup.acquire()`), under
// _ModuleLockManager.__enter__ and _find_and_load; gdb shows the native side: sem_wait under
// PyThread_acquire_lock_timed, the child's only thread. The global lock: a thread holding
// _imp.acquire_lock() for 0.5 s made os.fork() return after 0.508 to 0.522 s (3 runs), and
// in the child _imp.lock_held() was False and `import decimal` worked.
// In forklore (`matrix --repeat 20`, load 3 to 5): fork deadlocked (no_waker) 20 of 20, verdict
// in 0.26 s; fork_other_module, spawn and forkserver completed 20 of 20 (0.3, 0.6, 0.7 s).
//
// What to look for: "worker: import plugin_registry" and nothing more from the worker. The
// child's only thread waits on a futex with no owner (a _thread.lock is a semaphore
// underneath: no_waker, the engine cannot name an owner because none is recorded); the
// parent's main thread waits in wait4 for that child, and the warm-up thread has finished.
//
// Variants: fork (hangs), fork_other_module, spawn, forkserver.
#include "scenarios/support/python_program.hpp"

namespace {

using namespace forklore;

int run(ScenarioContext& context) {
    return python::run_script("import_at_fork.py",
                              {context.knob("start_method"), context.knob("child_imports")},
                              context.flag("unbuffered"));
}

Scenario describe() {
    Scenario s;
    s.id = "python-import-at-fork";
    s.group = "python multiprocessing";
    s.title = "Python: a module is being imported by another thread at fork";
    s.lesson =
        "A Python program (scenarios/python/import_at_fork.py) has a warm-up thread that "
        "imports a slow module, plugin_registry, while the main thread starts a "
        "multiprocessing.Process that imports the same module. In CPython 3.11 the global "
        "import lock is safe at fork (CPython takes it before fork and re-initialises it in the "
        "child), but each module also has its own lock (importlib._bootstrap._ModuleLock), "
        "held by the importing thread while the module's top-level code runs, and nothing "
        "resets it at fork. The forked child finds the module half imported and waits for the "
        "thread that was importing it, which stayed in the parent: for ever. Another module "
        "imports fine in the same child; spawn and forkserver import the module afresh. "
        "Finish imports before starting processes. PYTHONUNBUFFERED is pinned to 0.";
    s.knobs = {
        python::start_method_knob("fork", "How multiprocessing starts the child process."),
        Knob::choice("child_imports", "same", {"same", "other"},
                     "same: the child imports plugin_registry, the module being imported at "
                     "fork; other: it imports decimal, which nobody was importing."),
        python::unbuffered_knob("off"),
    };
    const auto completes = python::expect(Expectation::completes());
    s.variants = {
        {"fork",
         "fork while another thread imports plugin_registry: the child's import waits for ever",
         {{"start_method", "fork"}},
         python::expect(Expectation::deadlocks(DeadlockReason::no_waker))},
        {"fork_other_module",
         "the same fork, the child imports another module: the global import lock is fine",
         {{"start_method", "fork"}, {"child_imports", "other"}},
         completes},
        {"spawn",
         "spawn: a fresh interpreter imports plugin_registry itself",
         {{"start_method", "spawn"}},
         completes},
        {"forkserver",
         "forkserver: forked from a server that was importing nothing",
         {{"start_method", "forkserver"}},
         completes},
    };
    s.body = run;
    s.sources = {python::script_path("import_at_fork.py")}; // the program the body runs
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
