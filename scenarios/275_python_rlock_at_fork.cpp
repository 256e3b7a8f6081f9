// 275 python-rlock-at-fork — Python: a threading.RLock held at fork, taken by the child.
//
// What it shows: what a re-entrant lock's owner means after fork, in CPython 3.11. The
// program (scenarios/python/rlock_at_fork.py) guards a module-level registry with a
// threading.RLock, which in 3.11 is the C _thread.RLock: it records its owner as the holder's
// thread ident (pthread_self()), a count, and a plain lock underneath. Nothing resets a user's
// RLock at fork (threading re-creates only its own internal locks in the child).
// - held by another thread (a holder thread is inside `with registry_lock`, forced with
//   threading.Event): the child's thread is not the recorded owner, so acquire() waits on the
//   lock underneath, which nobody in the child will release: a hang.
// - held by the forking thread itself: the child's only thread is that thread's copy, and
//   pthread_self() keeps its value across fork, so the child IS the recorded owner: it takes
//   the lock again (count 2) and completes. A recursive pthread mutex records the kernel thread
//   id instead, which fork changes, so the same shape in C hangs (scenario 12,
//   recursive_held_by_forker): "re-entrant" does not mean the same thing in both.
// spawn and forkserver children import the module afresh and make a new RLock; an
// os.register_at_fork(after_in_child=...) hook that re-creates the lock repairs fork.
//
// Measured outside forklore (Debian 12, Python 3.11.2 /usr/bin/python3, PYTHONUNBUFFERED=0, 2
// cores under a load of 5 to 12, each run under `timeout 4`): held by another thread, fork
// hung 20 of 20; held by the forking thread, fork hung 0 of 20; fork with the re-init hook 0
// of 20; spawn 0 of 5 with either holder; forkserver 0 of 5 with the holder thread, and with
// the forking thread 1 of 5 reached the 4 s timeout: under that load a forkserver run takes 3.0
// to 3.7 s (8 more runs under `timeout 10` all completed). With PYTHONUNBUFFERED=1 the fork
// with a holder thread hung 5 of 5 too: no stream's lock is involved.
// The worker prints the RLock's repr and its own ident: with the forking thread as holder, the
// repr's owner= equals the child's threading.get_ident().
// In forklore (`matrix --repeat 20`, load 3 to 5): fork_thread_holds deadlocked (no_waker) 20
// of 20 (0.31 s); fork_forker_holds, spawn, forkserver and fork_reinit completed 20 of 20.
//
// What to look for: thread holder: "worker: thread ident N, taking <locked _thread.RLock
// object owner=M count=1 ...>" with M != N, then nothing; the child's only thread waits on a
// futex with no owner to name (the RLock's lock underneath is a semaphore: no_waker). forker:
// owner= equals the worker's ident, and "worker: registered".
//
// Variants: fork_thread_holds (hangs), fork_forker_holds, spawn, forkserver, fork_reinit.
#include "scenarios/support/python_program.hpp"

namespace {

using namespace forklore;

int run(ScenarioContext& context) {
    std::vector<std::string> args = {context.knob("start_method"), context.knob("holder")};
    if (context.flag("reinit_at_fork"))
        args.emplace_back("reinit");
    return python::run_script("rlock_at_fork.py", args, context.flag("unbuffered"));
}

Scenario describe() {
    Scenario s;
    s.id = "python-rlock-at-fork";
    s.group = "python multiprocessing";
    s.title = "Python: a threading.RLock held at fork, taken by the child";
    s.lesson =
        "A Python program (scenarios/python/rlock_at_fork.py) guards a registry with a "
        "threading.RLock and starts a multiprocessing.Process that takes it. In CPython 3.11 an "
        "RLock records its owner as the holder's thread ident (pthread_self()). Held by another "
        "thread at fork, the child's copy stays locked by a thread the child does not have: "
        "the child waits for ever. Held by the thread that forks, the child is that thread's "
        "copy with the same ident, so it is the owner and takes the lock again: it completes "
        "(a recursive pthread mutex in C records the kernel thread id, which fork changes, and "
        "hangs). spawn and forkserver make a new RLock; os.register_at_fork(after_in_child=...) "
        "can re-create it. PYTHONUNBUFFERED is pinned to 0.";
    s.knobs = {
        python::start_method_knob("fork", "How multiprocessing starts the child process."),
        Knob::choice("holder", "thread", {"thread", "forker"},
                     "thread: another thread holds the RLock at fork; forker: the thread that "
                     "starts the child holds it."),
        Knob::flag("reinit_at_fork", false,
                   "Register os.register_at_fork(after_in_child=...) that gives the child a new "
                   "RLock."),
        python::unbuffered_knob("off"),
    };
    const auto completes = python::expect(Expectation::completes());
    s.variants = {
        {"fork_thread_holds",
         "fork while another thread holds the RLock: the child waits for ever",
         {{"start_method", "fork"}, {"holder", "thread"}},
         python::expect(Expectation::deadlocks(DeadlockReason::no_waker))},
        {"fork_forker_holds",
         "fork while the forking thread holds it: the child is the owner, and re-enters",
         {{"start_method", "fork"}, {"holder", "forker"}},
         completes},
        {"spawn",
         "spawn: the child imports the module and makes a new RLock",
         {{"start_method", "spawn"}},
         completes},
        {"forkserver",
         "forkserver: forked from a server that never had a holder thread",
         {{"start_method", "forkserver"}},
         completes},
        {"fork_reinit",
         "fork with an os.register_at_fork hook that re-creates the RLock",
         {{"start_method", "fork"}, {"reinit_at_fork", "on"}},
         completes},
    };
    s.body = run;
    s.sources = {python::script_path("rlock_at_fork.py")}; // the program the body runs
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
