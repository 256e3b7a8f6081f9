// 085 thread-pool-after-fork — the thread-pool hang (libgomp's, for one): a pool with no threads.
//
// Measured outside forklore (Debian 12, 2026-12-04): a C program with an OpenMP parallel loop in
// the parent, then a fork whose child runs one too. Built with gcc 12.2 (libgomp 12.2.0), the
// child hangs inside libgomp, `timeout 5` 5 times in 5; with OMP_NUM_THREADS=1 it completes.
// Built with clang 14 (LLVM libomp 14.0.6), it completes 5 times in 5.
//
// What it shows: a library runs its work on a global thread pool (a task queue under a mutex,
// a condition variable, N worker threads) that it starts at first use. The parent uses the
// pool, so its N workers exist and sleep, waiting for work; then it starts a child that uses
// the pool too. With `fork` the child copies the pool's bookkeeping ("N workers started") but
// none of the workers. It queues its tasks, signals, and waits for them to finish: the pool
// never starts new workers, since it believes it has them, the tasks never run, and the child
// waits for ever on `all_done`.
// There is no orphaned lock here: the forced interleaving makes sure that at fork every worker
// is asleep inside pthread_cond_wait, which releases pool_mutex, so the child finds pool_mutex
// free and takes it at once (as the timeline shows). What is missing is not a lock's owner but
// the threads that would do the work and signal the end.
//
// What to look for: the child's main thread takes and releases pool_mutex several times, then
// waits on `all_done`; the parent's workers `pool-1` ... `pool-N` wait on `work_available` in
// the parent. With `atfork_reset` a pthread_atfork child handler gives the child a new, empty
// pool (no workers, new mutex and condition variables): the child's first task starts N
// workers of its own. With `parent_used_pool` off nothing was started before fork, so the
// child starts the pool itself. fork_exec, spawn and forkserver children are fresh programs.
//
// Variants: fork (hangs), fork_pool_unused, fork_atfork, fork_exec, spawn, forkserver,
// fork_one_worker (hangs), fork_atfork_eight_workers (complete).
#include "sim/probe/probe.hpp"
#include "sim/probe/probe_locks.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace {

using namespace forklore;

void note(const std::string& text, CallSite site = {}) {
    probe::note(text.c_str(), site);
}

// --- The "library": a lazily started global thread pool -------------------------------------

struct Pool {
    probe::Mutex mutex{"pool_mutex"};
    probe::CondVar work_available{"work_available"}; // idle workers sleep here
    probe::CondVar all_done{"all_done"};             // callers of wait_all sleep here
    probe::CondVar worker_idle{"worker_idle"};       // only for the forced interleaving
    std::deque<std::function<void()>> tasks;
    int unfinished = 0;      // queued or running tasks
    int idle = 0;            // workers asleep in work_available that nobody has signalled yet
    int workers_started = 0; // the bookkeeping fork copies: "the pool has its threads"
    std::vector<probe::Thread> workers;
};

// Static storage: a forked child finds the pool exactly as it was at fork.
Pool* g_pool = nullptr;
int g_pool_size = 4;

void worker_loop(Pool* pool) {
    pool->mutex.lock();
    for (;;) {
        while (pool->tasks.empty()) {
            ++pool->idle;
            pool->worker_idle.signal();
            pool->work_available.wait(pool->mutex); // SYNC: asleep; releases pool_mutex
        }
        std::function<void()> task = std::move(pool->tasks.front());
        pool->tasks.pop_front();
        pool->mutex.unlock();
        task(); // the real work, outside the lock
        pool->mutex.lock();
        if (--pool->unfinished == 0)
            pool->all_done.broadcast(); // SYNC: wakes wait_all
    }
}

Pool& pool() {
    if (!g_pool)
        g_pool = new Pool;
    return *g_pool;
}

void submit(std::function<void()> task) {
    Pool& p = pool();
    probe::LockGuard guard(p.mutex);
    if (p.workers_started == 0) {
        // First use: start the workers. A forked child of a parent that used the pool never
        // gets here: its copied workers_started says N.
        note("pool: first use, starting " + std::to_string(g_pool_size) + " workers");
        for (int i = 0; i < g_pool_size; ++i)
            p.workers.emplace_back("pool-" + std::to_string(i + 1), [&p] { worker_loop(&p); });
        p.workers_started = g_pool_size;
    }
    p.tasks.push_back(std::move(task));
    ++p.unfinished;
    if (p.idle > 0) {
        --p.idle;                  // this sleeper is now signalled: it no longer counts as idle
        p.work_available.signal(); // SYNC: wakes one worker, if any exists in this process
    }
}

void wait_all() {
    Pool& p = pool();
    probe::LockGuard guard(p.mutex);
    while (p.unfinished > 0)
        p.all_done.wait(p.mutex); // SYNC: only a worker can end this wait
}

// The forced interleaving, not part of a real pool: returns once every worker is asleep in
// work_available with nobody signalled, so no worker holds or is about to take pool_mutex.
void wait_until_every_worker_sleeps() {
    Pool& p = pool();
    probe::LockGuard guard(p.mutex);
    while (p.idle < p.workers_started)
        p.worker_idle.wait(p.mutex);
}

// The fix: a pthread_atfork child handler. The child gets a new, empty pool: no workers, so
// the next submit starts its own, and a new mutex and condition variables, in case a worker
// held the mutex at fork. The old pool is leaked on purpose: its thread handles name threads
// of the parent, and destroying its condition variable would wait for ever for the parent's
// workers, still counted as waiters inside it. (OpenBLAS's own handler is a prepare handler
// that shuts its pool down before fork; the child then starts workers lazily, as here.)
void pool_atfork_child() {
    if (!g_pool || g_pool->workers_started == 0)
        return;
    g_pool = new Pool;
}

// Real work for a task: sum the numbers of [from, to) and add the sum to a shared total.
struct Totals {
    probe::Mutex mutex{"sum_lock"};
    std::uint64_t total = 0;
};

bool sum_with_pool(int tasks, const char* who) {
    Totals totals;
    const std::uint64_t share = 50'000;
    for (int t = 0; t < tasks; ++t) {
        auto from = static_cast<std::uint64_t>(t) * share;
        submit([&totals, from, share] {
            std::uint64_t sum = 0;
            for (std::uint64_t i = from; i < from + share; ++i)
                sum += i;
            probe::LockGuard guard(totals.mutex);
            totals.total += sum;
        });
    }
    wait_all(); // SYNC: hangs for ever when the pool has no threads in this process
    const std::uint64_t n = static_cast<std::uint64_t>(tasks) * share;
    const bool right = totals.total == n * (n - 1) / 2;
    std::string line = std::string(who) + ": " + std::to_string(tasks) + " tasks summed " +
                       std::to_string(totals.total) + (right ? " (right)" : " (WRONG)");
    probe::print(stdout, line.c_str());
    return right;
}

// --- The child process ------------------------------------------------------------------------

int child_uses_pool(const ChildArgs& args) {
    g_pool_size = std::stoi(args.at("workers"));
    const int workers_here = g_pool ? g_pool->workers_started : 0;
    note("child: the pool says it has " + std::to_string(workers_here) + " workers");
    return sum_with_pool(2 * g_pool_size, "child") ? 0 : 1;
}

// --- The main process -------------------------------------------------------------------------

int run(ScenarioContext& context) {
    g_pool_size = static_cast<int>(context.integer("workers"));
    if (context.flag("atfork_reset"))
        pthread_atfork(nullptr, nullptr, pool_atfork_child);
    if (context.flag("parent_used_pool")) {
        if (!sum_with_pool(2 * g_pool_size, "parent"))
            return 1;
        wait_until_every_worker_sleeps(); // SYNC: at fork pool_mutex is free, workers asleep
        note("main: every pool worker is asleep waiting for work; starting the child");
    }
    probe::Child child = probe::start_child(context.method("start_method"), "use_pool",
                                            {{"workers", context.knob("workers")}});
    const WaitStatus status = child.wait(); // SYNC: waits for ever if the child is stuck
    // The parent's workers are never stopped: the process ends with _exit, as a program that
    // keeps a pool for its whole life does.
    return status.exited_ok() ? 0 : 1;
}

Scenario describe() {
    Scenario s;
    s.id = "thread-pool-after-fork";
    s.group = "threads after fork";
    s.title = "A thread pool forked after first use has no threads in the child";
    s.lesson =
        "A library runs its work on a global thread pool: a task queue under a mutex, a condition "
        "variable, N worker threads started at first use. GCC's OpenMP runtime (libgomp) behaves "
        "this way: a parallel loop in the parent, then one in a forked child, hangs the child (gcc "
        "12.2, 5 runs in 5; OMP_NUM_THREADS=1 avoids it), while LLVM's libomp 14 repairs its pool "
        "in the child and completes. The parent uses the pool, then forks a child that uses it "
        "too. The child copies the pool's bookkeeping, 'N workers started', but not one worker, so "
        "the pool never starts new ones: the child's tasks are queued, never run, and it waits for "
        "ever for them to finish. No lock is orphaned: the workers were asleep in "
        "pthread_cond_wait, which releases the mutex, so the child takes the pool's mutex freely. "
        "What is missing is the threads. A pthread_atfork child handler that gives the child an "
        "empty pool (no workers, new mutex and condition variables) lets it start its own; a pool "
        "never used before fork, or a fresh program, starts its own too.";
    s.knobs = {
        start_method_knob("start_method", StartMethod::fork, "How the child process is made."),
        Knob::flag(
            "parent_used_pool", true,
            "The parent runs tasks on the pool before it starts the child, so its workers exist."),
        Knob::flag("atfork_reset", false,
                   "A pthread_atfork child handler gives the child an empty pool with no workers."),
        Knob::integer("workers", 4, 1, 8, "How many worker threads the pool starts."),
    };
    s.variants = {
        {"fork",
         "fork after the pool was used: the child's tasks wait for workers it lacks",
         {{"start_method", "fork"}},
         Expectation::deadlocks(DeadlockReason::no_waker)},
        {"fork_pool_unused",
         "fork before the pool's first use: the child starts its own workers",
         {{"start_method", "fork"}, {"parent_used_pool", "off"}},
         Expectation::completes()},
        {"fork_atfork",
         "fork with an atfork child handler that empties the pool",
         {{"start_method", "fork"}, {"atfork_reset", "on"}},
         Expectation::completes()},
        {"fork_exec",
         "fork then exec: the new program starts its own pool",
         {{"start_method", "fork_exec"}},
         Expectation::completes()},
        {"spawn",
         "posix_spawn: the new program starts its own pool",
         {{"start_method", "spawn"}},
         Expectation::completes()},
        {"forkserver",
         "forkserver: the server was forked before the pool existed",
         {{"start_method", "forkserver"}},
         Expectation::completes()},
        {"fork_one_worker",
         "fork after use of a pool of one worker: the same hang",
         {{"start_method", "fork"}, {"workers", "1"}},
         Expectation::deadlocks(DeadlockReason::no_waker)},
        {"fork_atfork_eight_workers",
         "fork with the atfork fix and eight workers",
         {{"start_method", "fork"}, {"atfork_reset", "on"}, {"workers", "8"}},
         Expectation::completes()},
    };
    s.body = run;
    s.children = {{"use_pool", child_uses_pool}};
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
