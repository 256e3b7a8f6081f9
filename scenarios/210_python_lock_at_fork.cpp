// 210 python-lock-at-fork — Python: a threading.Lock held by another thread at fork, taken by
// the child.
//
// What it shows: the Python version of scenario 010, deterministic. The program
// (scenarios/python/lock_at_fork.py) has a module-level `cache_lock`. A holder thread enters
// `with cache_lock` and signals it with a threading.Event; only then does the main thread start
// a multiprocessing.Process whose target takes the same lock. With fork, the child's copy of
// the lock is locked and its holder stayed in the parent: acquire() waits for ever. A
// threading.Lock is a semaphore underneath, so no owner is recorded anywhere and forklore says
// "owner unknown" rather than guess. With spawn and forkserver the child imports the module
// afresh and gets a new, free lock. The fix for your own code under fork is Python's
// pthread_atfork: os.register_at_fork(after_in_child=...) re-creates the lock in the child,
// as CPython's logging module does for its handlers (scenario 220).
//
// Measured outside forklore (Python 3.11.2, PYTHONUNBUFFERED=0, 10 runs each under
// `timeout 5`): fork hung 10 of 10; spawn, forkserver and fork with the re-init hook completed
// 10 of 10. PYTHONUNBUFFERED plays no part here (the holder never prints); it is pinned to 0.
//
// What to look for: "main: starting the worker while the holder thread holds cache_lock", then
// "worker: taking cache_lock" and nothing more; the child's only thread waits on a futex with
// no owner (PyThread_acquire_lock in its native stack), the parent's main thread in wait4.
//
// Variants: fork (hangs), spawn, forkserver, fork_reinit.
#include "scenarios/support/python_program.hpp"

namespace {

using namespace forklore;

int run(ScenarioContext& context) {
    std::vector<std::string> args = {context.knob("start_method")};
    if (context.flag("reinit_at_fork"))
        args.emplace_back("reinit");
    return python::run_script("lock_at_fork.py", args, false);
}

Scenario describe() {
    Scenario s;
    s.id = "python-lock-at-fork";
    s.group = "python multiprocessing";
    s.title = "Python: a threading.Lock held by another thread at fork, taken by the child";
    s.lesson =
        "A Python program (scenarios/python/lock_at_fork.py) has a module-level threading.Lock. "
        "A holder thread is inside `with cache_lock` (forced with threading.Event) when the main "
        "thread starts a multiprocessing.Process that takes the same lock. With fork the child "
        "gets a copy of the locked lock without the thread that would release it, and waits for "
        "ever; a threading.Lock is a semaphore underneath, so its owner is unknown. spawn and "
        "forkserver start a fresh interpreter that creates a new, free lock. In your own code, "
        "os.register_at_fork(after_in_child=...) can re-create the lock in a forked child, "
        "which is what CPython's logging module does. PYTHONUNBUFFERED is pinned to 0.";
    s.knobs = {
        python::start_method_knob("fork", "How multiprocessing starts the child process."),
        Knob::flag(
            "reinit_at_fork", false,
            "Register os.register_at_fork(after_in_child=...) that gives the child a new lock."),
    };
    s.variants = {
        {"fork",
         "fork while the holder thread is inside the lock: the child waits for ever",
         {{"start_method", "fork"}},
         python::expect(Expectation::deadlocks(DeadlockReason::no_waker))},
        {"spawn",
         "spawn: the child imports the module and makes a new lock",
         {{"start_method", "spawn"}},
         python::expect(Expectation::completes())},
        {"forkserver",
         "forkserver: forked from a server that never had a holder thread",
         {{"start_method", "forkserver"}},
         python::expect(Expectation::completes())},
        {"fork_reinit",
         "fork with an os.register_at_fork hook that re-creates the lock",
         {{"start_method", "fork"}, {"reinit_at_fork", "on"}},
         python::expect(Expectation::completes())},
    };
    s.body = run;
    s.sources = {python::script_path("lock_at_fork.py")}; // the program the body runs
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
