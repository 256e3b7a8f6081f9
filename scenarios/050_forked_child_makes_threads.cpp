// 050 forked-child-makes-threads — the myth "a forked child of a threaded program cannot use
// threads or fork".
//
// What it shows: the parent runs a worker thread. The main thread forks a child while the
// worker holds no lock (a barrier makes that certain). The child starts its own threads, which
// take the same library lock, do their share of the work and are joined; then the child starts
// a grandchild (fork, fork_exec or spawn) and waits for it. Everything completes: a forked child
// is a normal process with one thread. What it cannot count on is the state of the locks it
// copied. POSIX only promises async-signal-safe calls in such a child; glibc makes threads,
// malloc and fork work there in practice. The danger is locks, not threads.
//
// What to look for: the child's threads `child-1` ... `child-N` appear on the timeline and take
// `work_lock` one after another; the grandchild is a process of its own. In
// `worker_holds_lock` the parent's worker is inside `work_lock` at the instant of fork: the
// child's first thread waits for the copy of that lock, whose owner (`worker`) stayed in the
// parent. The threads were never the problem: the lock is.
//
// Variants: threads_only, fork_grandchild, fork_exec_grandchild, spawn_grandchild,
// sixteen_threads (all complete), worker_holds_lock (hangs: orphaned lock).
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <sys/wait.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace {

using namespace forklore;

// The "library": a shared result guarded by one lock. Static storage: a forked child finds it
// at the same address, in whatever state it had at fork.
probe::Mutex g_work_lock{"work_lock"};
std::uint64_t g_total = 0;

// One share of the work: sum the numbers of [from, to) and add the sum to the total.
void add_range(std::uint64_t from, std::uint64_t to) {
    std::uint64_t sum = 0;
    for (std::uint64_t i = from; i < to; ++i)
        sum += i;
    probe::LockGuard guard(g_work_lock); // SYNC: the library's lock
    g_total += sum;
}

bool exited_zero(WaitStatus status) {
    return status.exited_ok();
}

// --- The grandchild: started by the child, by whichever method the knob names -------------

int grandchild(const ChildArgs&) {
    // A fresh program (fork_exec, spawn) or a copy of the single-threaded child (fork): it
    // makes one thread of its own too, to show that works at every generation.
    probe::Thread helper("grandchild-1", [] { add_range(0, 1000); });
    helper.join();
    probe::print(stdout, "grandchild: made a thread and joined it");
    return 0;
}

// --- The child: makes threads, joins them, then starts a grandchild -----------------------

int child_makes_threads(const ChildArgs& args) {
    const int threads = std::stoi(args.at("threads"));
    const std::string grandchild_method = args.at("grandchild");
    const std::uint64_t share = 100'000;
    g_total = 0; // the parent's total was copied too; start this process's own count

    probe::note("child: starting its own threads");
    std::vector<probe::Thread> workers;
    for (int t = 0; t < threads; ++t) {
        auto from = static_cast<std::uint64_t>(t) * share;
        workers.emplace_back("child-" + std::to_string(t + 1),
                             [from, share] { add_range(from, from + share); });
    }
    for (auto& worker : workers)
        worker.join(); // SYNC: waits for every thread's share

    const std::uint64_t n = static_cast<std::uint64_t>(threads) * share;
    const bool right = g_total == n * (n - 1) / 2;
    std::string line = "child: " + std::to_string(threads) + " threads summed " +
                       std::to_string(g_total) + (right ? " (right)" : " (WRONG)");
    probe::print(stdout, line.c_str());
    if (!right)
        return 1;

    if (grandchild_method == "none")
        return 0;
    probe::note("child: starting a grandchild");
    probe::Child next =
        probe::start_child(*start_method_from_string(grandchild_method), "grandchild");
    return exited_zero(next.wait()) ? 0 : 1; // SYNC: waits for the grandchild
}

// --- The parent ------------------------------------------------------------------------------

int run(ScenarioContext& context) {
    const bool holds = context.flag("worker_holds_lock");
    ChildArgs args{{"threads", context.knob("child_threads")},
                   {"grandchild", context.knob("grandchild_method")}};

    probe::Barrier at_fork{"at_fork", 2};
    probe::Barrier child_started{"child_started", 2};
    probe::Barrier finished{"finished", 2};
    probe::Thread worker("worker", [&] {
        add_range(0, 1000); // real work under the lock, finished before the fork...
        if (holds)
            g_work_lock.lock();          // SYNC: ...unless the worker is still inside it
        at_fork.arrive_and_wait();       // SYNC: the main thread forks after this
        child_started.arrive_and_wait(); // SYNC: keeps its state until the child exists
        if (holds)
            g_work_lock.unlock();
        finished.arrive_and_wait(); // stay alive: an orphaned lock's owner stays visible
    });
    at_fork.arrive_and_wait(); // SYNC: the worker is running and holds work_lock only if asked
    probe::note(holds ? "main: forking while the worker holds work_lock"
                      : "main: forking while the worker runs, holding no lock");
    probe::Child child = probe::start_child(StartMethod::fork, "make_threads", args);
    child_started.arrive_and_wait();
    const WaitStatus status = child.wait(); // SYNC: waits for ever if the child is stuck
    finished.arrive_and_wait();
    worker.join();
    return exited_zero(status) ? 0 : 1;
}

Scenario describe() {
    Scenario s;
    s.id = "forked-child-makes-threads";
    s.group = "myths checked";
    s.title = "A forked child of a threaded program makes threads and forks again";
    s.lesson =
        "Myth: the child of fork() in a threaded program cannot use threads or fork. Here the "
        "parent has a running worker thread when it forks; the child starts up to sixteen "
        "threads of its own, which share the work under the library's lock and are joined, then "
        "starts a grandchild (fork, fork_exec or spawn) that makes a thread too. It all "
        "completes: after fork the child is an ordinary process with one thread, and it may "
        "create more. (POSIX promises only async-signal-safe calls in such a child; glibc makes "
        "threads, malloc and fork work there.) What the child cannot trust is the state of the "
        "locks it copied: if the worker is inside the lock at the instant of fork, the child's "
        "first thread waits for ever for an owner that stayed in the parent.";
    s.knobs = {
        Knob::integer("child_threads", 4, 1, 16, "How many threads the forked child starts."),
        Knob::choice("grandchild_method", "fork", {"none", "fork", "fork_exec", "spawn"},
                     "How the child starts its grandchild (none: it starts none)."),
        Knob::flag("worker_holds_lock", false,
                   "The parent's worker is inside work_lock at the instant of fork."),
    };
    s.variants = {
        {"threads_only",
         "the child makes 4 threads that share the work and joins them",
         {{"grandchild_method", "none"}},
         Expectation::completes()},
        {"fork_grandchild",
         "the child makes 4 threads, joins them, then forks a grandchild",
         {{"grandchild_method", "fork"}},
         Expectation::completes()},
        {"fork_exec_grandchild",
         "the child makes 4 threads, joins them, then fork+execs a grandchild",
         {{"grandchild_method", "fork_exec"}},
         Expectation::completes()},
        {"spawn_grandchild",
         "the child makes 4 threads, joins them, then posix_spawns a grandchild",
         {{"grandchild_method", "spawn"}},
         Expectation::completes()},
        {"sixteen_threads",
         "the child makes 16 threads, then forks a grandchild",
         {{"child_threads", "16"}, {"grandchild_method", "fork"}},
         Expectation::completes()},
        {"worker_holds_lock",
         "the worker is inside work_lock at fork: the child's threads wait for ever",
         {{"worker_holds_lock", "on"}},
         Expectation::deadlocks(DeadlockReason::orphaned_lock)},
    };
    s.body = run;
    s.children = {{"make_threads", child_makes_threads}, {"grandchild", grandchild}};
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
