// 120 pool-worker-exception — a task throws a C++ exception inside a pool worker.
//
// What it shows: the pool of scenario 100 (scenarios/support/process_pool.hpp) runs starmap of
// count_primes(low, high) over 9 ranges on 3 workers; task 3's range is reversed, and
// count_primes throws std::invalid_argument. An exception cannot cross a process boundary by
// itself: what the parent learns depends on what the worker does with it.
// - naive: nothing in the worker catches it. It reaches a noexcept frame (as it would reach
//   the top of a std::thread), std::terminate runs, and the worker dies by SIGABRT after
//   printing "terminate called after throwing ...". Its stderr is the only place the message
//   exists. The naive pool does not watch its workers, so it waits for ever for task 3's
//   result: an exception became a crash, and the crash became a hang.
// - swallowing: the worker catches everything and sends 0, as if the task had succeeded. The
//   pool returns normally; only the parent's own check (the same computation in-process raises)
//   notices that the answer is made up. It exits with code 1.
// - watching: the worker dies by SIGABRT as in naive, but the pool watches its workers: it
//   reports "worker 0 (pid P) was killed by SIGABRT while running task 3" and exits 1. No hang,
//   but the exception's type and message stay on the dead worker's stderr. The verdict is
//   `crashed`: nobody sent that SIGABRT on purpose.
// - propagating: the worker catches the exception and sends its type and message back. The
//   parent's pool keeps every other result, checks them, and re-raises the exception as the
//   same type: "task 3 raised std::invalid_argument: ...". Uncaught, as in Python, the program
//   exits with code 1. Python's Pool keeps the other results only per task: measured with
//   Debian's Python 3.11.2 (2026-12-04), Pool(3).map over 8 tasks whose task 3 raises
//   ValueError raises it and returns no result at all; apply_async keeps the 7 others (each
//   get() raises or returns on its own); imap yields tasks 0 to 2, then raises.
// - first_result: two workers race and the parent keeps the first outcome to arrive (waiting
//   for the first completed future). Worker 0 counts the primes below 2,000, worker 1 those
//   below 1,000,000 and then raises std::out_of_range (more primes than it was told). Measured
//   outside forklore (the same loop, g++ -O2, 2026-12-06): 0.028 ms against 119 ms. Unstepped,
//   worker 0 always answers first: 100 of 100 runs completed, with worker 1's note "raised
//   std::out_of_range: sending it to the parent" after the parent's "first outcome: task 0".
//   The error is sent and never read. Stepped (the challenges lose-the-exception and
//   catch-the-exception), whichever worker sends first decides: completed or failed.
//
// What to look for: "worker 0: started task 3", then either the worker's SIGABRT (naive), a
// note "swallowed, sending 0" (swallowing), or "sending it to the parent" and, in the main
// process, "pool: task 3 raised std::invalid_argument" (propagating). The other 8 results are
// identical in every variant that returns.
//
// Variants: naive_fork, naive_spawn, swallowing_fork, watching_fork, propagating_fork,
// propagating_spawn, propagating_forkserver, first_result_fork.
#include "scenarios/support/process_pool.hpp"
#include "sim/scenario/scenario.hpp"

#include <csignal>
#include <string>
#include <typeinfo>
#include <vector>

namespace {

using namespace forklore;

constexpr int kWorkers = 3;
constexpr std::size_t kFaultyTask = 3; // dealt round-robin: task 3 goes to worker 0

void complain(const std::string& line, CallSite site = {}) {
    probe::print(stderr, line.c_str(), site);
}

// first_result: two tasks race, and the parent takes whichever outcome arrives first, as code
// that waits for the first completed future, or breaks out of imap_unordered, does. Task 0
// counts the primes below 2,000 (well under a millisecond); task 1 counts those below
// kLateFailureBelow, then finds more than it was told to expect and raises std::out_of_range.
// The parent returns task 0's answer and shuts the pool down: the exception is raised in
// worker 1 (its note says so) and sent, but nobody reads it.
constexpr long kLateFailureBelow = 1'000'000;

int run_first_result(pool::PoolOptions options) {
    options.workers = 2;
    options.watch_workers = false;
    options.on_exception = pool::OnException::propagate;
    pool::ProcessPool workers(options);
    int task = -1;
    const pool::TaskOutcome first = workers.first_completed(
        {{"count_primes_below", {2000}}, {"count_primes_at_most", {kLateFailureBelow, 1000}}},
        task);
    workers.shutdown(); // SYNC: "stop" to both; the other one finishes its task first, unread
    try {
        const long value = first.value();
        probe::print(stdout, ("first answer: task " + std::to_string(task) + ": " +
                              std::to_string(value) + " primes")
                                 .c_str());
        return 0;
    } catch (const std::exception& error) {
        complain("task " + std::to_string(task) + " raised " + pool::type_name(typeid(error)) +
                 ": " + error.what());
        return 1; // uncaught in Python: the program exits non-zero
    }
}

int run(ScenarioContext& context) {
    const std::string kind = context.knob("pool");
    pool::PoolOptions options;
    options.workers = kWorkers;
    options.method = context.method("start_method");
    if (kind == "first_result")
        return run_first_result(options);
    // The naive and swallowing pools trust their workers; the others watch each one.
    options.watch_workers = kind == "watching" || kind == "propagating";
    options.on_exception = kind == "swallowing"    ? pool::OnException::swallow
                           : kind == "propagating" ? pool::OnException::propagate
                                                   : pool::OnException::terminate;

    std::vector<std::vector<long>> ranges;
    for (long k = 0; k < 9; ++k)
        ranges.push_back(k == static_cast<long>(kFaultyTask)
                             ? std::vector<long>{k * 5000 + 5000, k * 5000} // reversed: throws
                             : std::vector<long>{k * 5000, (k + 1) * 5000});

    pool::ProcessPool workers(options);
    std::vector<pool::TaskOutcome> outcomes;
    try {
        outcomes = workers.starmap("count_primes", ranges); // naive: never returns
    } catch (const pool::BrokenPool& broken) {
        complain(std::string("error: BrokenPool: ") + broken.what());
        return 1;
    }
    workers.shutdown(); // SYNC: "stop" to every worker, then wait for each to exit

    // Every task the pool says succeeded must agree with the same computation done here.
    int disagreements = 0;
    for (std::size_t task = 0; task < ranges.size(); ++task) {
        if (outcomes[task].failed())
            continue;
        std::string got = std::to_string(outcomes[task].result);
        try {
            long expected = pool::compute("count_primes", ranges[task]);
            if (outcomes[task].result == expected)
                continue;
            complain("task " + std::to_string(task) + ": the pool says " + got +
                     ", in-process gives " + std::to_string(expected));
        } catch (const std::exception& error) {
            complain("task " + std::to_string(task) + ": the pool says " + got +
                     ", but in-process it raises " + pool::type_name(typeid(error)) + ": " +
                     error.what() + ". The worker swallowed the exception.");
        }
        ++disagreements;
    }
    if (disagreements > 0)
        return 1;
    pool::note("main: every result that came back matches the in-process computation");

    // Now use the results: the worker's exception is raised again here, as its own type.
    long total = 0;
    for (std::size_t task = 0; task < outcomes.size(); ++task) {
        try {
            total += outcomes[task].value();
        } catch (const std::exception& error) {
            complain("task " + std::to_string(task) + " raised " + pool::type_name(typeid(error)) +
                     ": " + error.what());
            complain("(the other " + std::to_string(outcomes.size() - 1) +
                     " results arrived intact and match the in-process computation)");
            return 1; // uncaught in Python: the program exits non-zero
        }
    }
    probe::print(stdout, ("primes counted: " + std::to_string(total)).c_str());
    return 0;
}

Scenario describe() {
    Scenario s;
    s.id = "pool-worker-exception";
    s.group = "process pools";
    s.title = "A task throws an exception inside a pool worker";
    s.lesson =
        "Task 3 throws std::invalid_argument inside a pool worker. An exception cannot cross a "
        "process boundary on its own. If nothing in the worker catches it, std::terminate kills "
        "the worker with SIGABRT, the message survives only on the worker's stderr, and a pool "
        "that does not watch its workers waits for ever for the lost result (one that does reports "
        "the death by SIGABRT, but not the exception). If the worker swallows it and sends a "
        "default value, the pool returns a made-up answer that only a check can catch. A pool that "
        "propagates errors sends the exception's type and message back, keeps every other result, "
        "and raises the exception again in the parent: uncaught, the program exits non-zero and "
        "says which task failed and why. Python's Pool raises it again too, but Pool.map then "
        "returns no result at all; only apply_async (one result per task) keeps the others (Python "
        "3.11). A pool that keeps only the first outcome to arrive (first_result) loses a slower "
        "task's exception although the worker sent it: nobody reads it.";
    s.knobs = {
        start_method_knob("start_method", StartMethod::fork, "How the worker processes are made."),
        Knob::choice(
            "pool", "naive", {"naive", "swallowing", "watching", "propagating", "first_result"},
            "naive: the exception kills the worker, nobody watches; swallowing: the worker sends 0 "
            "instead; watching: the exception kills the worker, the pool notices the death; "
            "propagating: the worker sends the exception back and the parent raises it again; "
            "first_result: two tasks race and the parent takes the first outcome (a slow task's "
            "late exception goes unread)."),
    };
    const auto hangs = Expectation::deadlocks(DeadlockReason::blocked_on_process);
    const auto fails = Expectation::ends_as(VerdictKind::failed);
    s.variants = {
        {"naive_fork",
         "uncaught: the worker dies by SIGABRT, the naive pool waits for ever",
         {{"pool", "naive"}},
         hangs},
        {"naive_spawn",
         "uncaught, spawned workers: the same crash, the same hang",
         {{"pool", "naive"}, {"start_method", "spawn"}},
         hangs},
        {"swallowing_fork",
         "the worker sends 0 instead: only the parent's check notices",
         {{"pool", "swallowing"}},
         fails},
        {"watching_fork",
         "the worker dies by SIGABRT; the pool reports the death, not the error",
         {{"pool", "watching"}},
         Expectation::ends_as(VerdictKind::crashed, SIGABRT)},
        {"propagating_fork",
         "the worker sends the exception back; the parent raises it again",
         {{"pool", "propagating"}},
         fails},
        {"propagating_spawn",
         "the same with spawned workers: the type travels as a name",
         {{"pool", "propagating"}, {"start_method", "spawn"}},
         fails},
        {"propagating_forkserver",
         "the same with forkserver workers",
         {{"pool", "propagating"}, {"start_method", "forkserver"}},
         fails},
        {"first_result_fork",
         "the first outcome wins: the slow task's exception is raised, sent, and never read",
         {{"pool", "first_result"}},
         Expectation::completes()},
    };
    s.body = run;
    s.children = {{pool::kWorkerFunction, pool::worker_main}};
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
