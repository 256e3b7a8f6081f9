// 016 condition-variable-at-fork — a thread waits on a condition variable while the main thread
// forks.
//
// What it shows: a waiting thread does not hold the mutex (pthread_cond_wait released it), so
// the child can take that mutex and even broadcast: nothing hangs. But glibc's condition variable
// counts its waiters inside itself, and fork copies that count without the waiters. Destroying
// the child's copy (pthread_cond_destroy, or the destructor of a global condition variable that
// exit() runs) waits for those waiters to wake and leave, for ever. Neither has a lock owner to
// name: the verdict says "no waker" and names the waiter that stayed behind.
// A child that waits on the condition for something only the parent's thread would do waits for
// ever too, but that is not fork's doing: a condition variable (not process-shared) is private to
// each process, so a child made by any start method waits alike (wait_fork and wait_spawn both
// deadlock; measured with every start method).
//
// What to look for: in `destroy_fork` and `exit_fork` the child's main thread is inside
// pthread_cond_destroy; the explanation names the parent's `sleeper` still counted in the copy.
// `take_mutex_fork` completes. Re-initialising the condition variable in the child (an atfork
// child handler) repairs the destroy, as do spawn and forkserver.
//
// Variants: destroy_fork, exit_fork, wait_fork, wait_spawn, take_mutex_fork,
// destroy_fork_reinit, destroy_spawn, destroy_forkserver.
#include "sim/probe/probe.hpp"
#include "sim/probe/probe_locks.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <sys/wait.h>

#include <cstdlib>
#include <new>
#include <string>

namespace {

using namespace forklore;

// A library's work queue: a mutex, a condition, and what the condition is about. Static, so a
// forked child has copies of all three at the same addresses.
probe::Mutex g_queue_mutex{"queue_mutex"};
probe::CondVar* g_work_ready = nullptr; // constructed in place in the storage below
alignas(probe::CondVar) unsigned char g_work_ready_storage[sizeof(probe::CondVar)];
int g_state = 0; // 0 starting, 1 the sleeper is waiting, 2 work arrived (guarded by the mutex)

void make_condition() {
    g_work_ready = new (g_work_ready_storage) probe::CondVar("work_ready");
}

// The fix a library applies: the child re-initialises its condition variable over the copy,
// forgetting waiters that are not in this process.
void reinit_condition_in_child() {
    make_condition();
}

// --- The child --------------------------------------------------------------------------------

int child_uses_condition(const ChildArgs& args) {
    const std::string& what = args.at("what");
    if (!g_work_ready)
        make_condition(); // a fresh program (spawn, fork_exec) builds its own
    if (what == "take_mutex") {
        g_queue_mutex.lock(); // free: the sleeper released it inside pthread_cond_wait
        g_state = 2;
        g_work_ready->broadcast(); // wakes nobody here, and harms nobody
        g_queue_mutex.unlock();
        probe::note("child: took the mutex and broadcast");
        return 0;
    }
    if (what == "wait") {
        g_queue_mutex.lock();
        while (g_state != 2)
            g_work_ready->wait(g_queue_mutex); // SYNC: only the parent sets it
        g_queue_mutex.unlock();
        return 0;
    }
    if (what == "exit") {
        // A global condition variable is destroyed by exit(), as a global std::condition_variable
        // is. The child returns through exit() rather than the usual _exit().
        probe::note("child: exit() runs the condition variable's destructor");
        std::atexit([] { g_work_ready->~CondVar(); });
        std::exit(0); // SYNC: hangs in the destructor if the copy counts absent waiters
    }
    probe::note("child: destroying the condition variable");
    g_work_ready->destroy(); // SYNC: waits until every waiter it counts has left
    probe::note("child: destroyed");
    return 0;
}

// --- The main process -------------------------------------------------------------------------

int run(ScenarioContext& context) {
    const StartMethod method = context.method("start_method");
    make_condition();
    if (context.flag("reinit_in_child"))
        pthread_atfork(nullptr, nullptr, reinit_condition_in_child);

    probe::Thread sleeper("sleeper", [] {
        g_queue_mutex.lock();
        g_state = 1;
        while (g_state != 2)
            g_work_ready->wait(g_queue_mutex); // SYNC: sleeps until work arrives
        g_queue_mutex.unlock();
    });
    // Once the main thread gets the mutex with g_state == 1, the sleeper is inside
    // pthread_cond_wait: it released the mutex only after counting itself as a waiter.
    for (bool waiting = false; !waiting;) {
        g_queue_mutex.lock();
        waiting = g_state == 1;
        g_queue_mutex.unlock();
        if (!waiting)
            sched_yield();
    }
    probe::note("main: the sleeper waits on work_ready; starting the child");
    probe::Child child = probe::start_child(method, "use", {{"what", context.knob("child_does")}});
    const WaitStatus status = child.wait(); // SYNC: waits for ever if the child is stuck

    g_queue_mutex.lock();
    g_state = 2;
    g_work_ready->broadcast();
    g_queue_mutex.unlock();
    sleeper.join();
    return status.exited_ok() ? 0 : 1;
}

Scenario describe() {
    Scenario s;
    s.id = "condition-variable-at-fork";
    s.group = "fork and locks";
    s.title = "A thread sleeps on a condition variable while the main thread forks";
    s.lesson =
        "A thread waiting on a condition variable has released its mutex, so a forked child can "
        "take that mutex and broadcast without harm. But glibc's condition variable counts its "
        "waiters inside itself, and fork copies the count without the waiters: destroying the "
        "child's copy waits for them for ever, and so does exit() when it runs the destructor of a "
        "global condition variable. Neither wait has an owner to name; the verdict says who is "
        "missing. A child that waits for a signal only the parent's thread would send also waits "
        "for ever, but with every start method, spawn included: a condition variable belongs to "
        "one process, so that is not a fork hazard. Re-initialising the condition variable in the "
        "child (an atfork child handler) forgets the absent waiters.";
    s.knobs = {
        start_method_knob("start_method", StartMethod::fork, "How the child process is made."),
        Knob::choice("child_does", "destroy", {"destroy", "exit", "wait", "take_mutex"},
                     "What the child does with the condition variable."),
        Knob::flag("reinit_in_child", false,
                   "An atfork child handler re-initialises the condition variable."),
    };
    const auto no_waker = Expectation::deadlocks(DeadlockReason::no_waker);
    s.variants = {
        {"destroy_fork",
         "the child destroys its copy, which counts the parent's sleeper",
         {{"child_does", "destroy"}},
         no_waker},
        {"exit_fork",
         "exit() runs the global condition variable's destructor",
         {{"child_does", "exit"}},
         no_waker},
        {"wait_fork",
         "the child waits for a signal only the parent's thread would send",
         {{"child_does", "wait"}},
         no_waker},
        {"wait_spawn",
         "the same wait in a spawned child: not fork's doing, a condition variable is per process",
         {{"child_does", "wait"}, {"start_method", "spawn"}},
         no_waker},
        {"take_mutex_fork",
         "the mutex is free while the sleeper waits: the child takes it",
         {{"child_does", "take_mutex"}},
         Expectation::completes()},
        {"destroy_fork_reinit",
         "the child re-initialises the condition variable first",
         {{"child_does", "destroy"}, {"reinit_in_child", "on"}},
         Expectation::completes()},
        {"destroy_spawn",
         "a fresh program has a fresh condition variable",
         {{"start_method", "spawn"}},
         Expectation::completes()},
        {"destroy_forkserver",
         "forked from a server that never had a sleeper",
         {{"start_method", "forkserver"}},
         Expectation::completes()},
    };
    s.body = run;
    s.children = {{"use", child_uses_condition}};
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
