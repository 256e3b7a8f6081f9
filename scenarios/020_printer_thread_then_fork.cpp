// 020 printer-thread-then-fork — a thread that keeps printing while the main thread forks.
//
// What it shows: most programs print through something with a lock in it. A logging library
// takes its own mutex around formatting and writing a line; glibc's stdio takes the FILE's lock.
// A printer thread is inside one of these when the main thread forks, and the child prints.
// Through the user-level logger the child finds the logger's mutex held by a thread that does
// not exist in it: it hangs. Through plain fprintf(stderr) it does not, because glibc resets
// its own stdio locks in the child of fork (it cannot do that for the locks of your libraries).
//
// What to look for: in `logger_fork_forced` the child's main thread waits for lock `logger`
// owned by the parent's `printer`. In `stdio_fork_forced` the printer holds stderr's FILE lock
// (flockfile) at the instant of fork, and the child's fprintf still goes through.
// `logger_fork_natural` forks with no forced interleaving: whether it hangs depends on where
// the printer happens to be, so it is measured as a hang rate over many runs. The printer works
// 15 us between lines: with probes that cost no system call, a printer that only printed was
// inside the logger at 98 of 100 forks; with the work, 93 and 105 of 200 runs hung (2 cores,
// glibc 2.36, --repeat 200 twice); again on 2026-12-06, idle, 120 and 98 of 200. Its
// explored counterpart (`forklore explore printer-thread-then-fork --variant
// logger_fork_natural`, which sets lines=2: 47 schedules, bound 1, 2026-12-06) is a fact, not a
// rate: of the 7 places the fork can fall among the printer's steps (before it starts, after
// its start, after each lock and unlock of its 2 lines, at its last barrier), the child hangs at
// exactly the 2 after a lock, and completes at the 5 others.
//
// Variants: logger_fork_forced (hangs), stdio_fork_forced, logger_spawn_forced,
// logger_forkserver_forced, logger_fork_natural (racy).
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <sys/wait.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <string>

namespace {

using namespace forklore;

// The application's logging library: one mutex around each line.
probe::Logger g_logger{"logger"};

bool use_logger(const std::string& output) {
    return output == "logger";
}

void print_line(bool logger, const char* text, CallSite site = {}) {
    if (logger)
        g_logger.write(text, site); // SYNC: takes the logger's mutex
    else
        probe::print(stderr, text, site); // SYNC: takes stderr's FILE lock inside glibc
}

// --- The child process: prints a few lines -------------------------------------------------

int child_prints(const ChildArgs& args) {
    const bool logger = use_logger(args.at("output"));
    for (int i = 0; i < 3; ++i) {
        std::string line = "child line " + std::to_string(i);
        print_line(logger, line.c_str());
    }
    return 0;
}

std::int64_t now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// The work a busy program does between two lines (here: spinning on the clock, no system call).
// Without it the printer would be inside the logger nearly all the time and natural timing
// would hang nearly always; with about as much work as a line costs to write, the fork lands
// inside the logger in some runs and outside it in others.
void work_for_us(std::int64_t microseconds) {
    timespec start{}, now{};
    clock_gettime(CLOCK_MONOTONIC, &start);
    do
        clock_gettime(CLOCK_MONOTONIC, &now);
    while ((now.tv_sec - start.tv_sec) * 1'000'000 + (now.tv_nsec - start.tv_nsec) / 1000 <
           microseconds);
}

// --- The main process -----------------------------------------------------------------------

constexpr std::int64_t kWorkBetweenLinesUs = 15;

int run(ScenarioContext& context) {
    const StartMethod method = context.method("start_method");
    const std::string output = context.knob("output");
    const bool logger = use_logger(output);
    const bool forced = context.knob("timing") == "forced";
    const long print_ms = context.integer("print_ms");
    const long lines = context.integer("lines"); // 0: print for print_ms

    probe::Barrier lock_held{"lock_held", 2};
    probe::Barrier child_started{"child_started", 2};
    probe::Barrier finished{"finished", 2};
    probe::Thread printer("printer", [&] {
        if (forced) {
            // Forced: hold the lock of the output path exactly while the main thread forks.
            if (logger)
                g_logger.mutex().lock(); // SYNC: inside the logger, mid-line
            else
                flockfile(stderr); // SYNC: inside glibc's stderr lock
            lock_held.arrive_and_wait();
            child_started.arrive_and_wait();
            if (logger)
                g_logger.mutex().unlock();
            else
                funlockfile(stderr);
        }
        // Then (or from the start, with natural timing) print for a while, as a busy program does;
        // or a counted number of lines, so that a stepped run takes the same steps whatever the
        // time it spends waiting for its turns (forklore explore).
        const std::int64_t until = now_ms() + print_ms;
        for (long i = 0; lines > 0 ? i < lines : now_ms() < until; ++i) {
            std::string line = "printer line " + std::to_string(i);
            print_line(logger, line.c_str());
            work_for_us(kWorkBetweenLinesUs);
        }
        finished.arrive_and_wait(); // stay alive until the end: an orphaned lock's owner is visible
    });
    if (forced) {
        lock_held.arrive_and_wait(); // SYNC: from here the printer holds the output lock
    } else if (lines == 0) {
        timespec pause{0, 2'000'000}; // let the printer get going; no control over where it is
        nanosleep(&pause, nullptr);
    } // counted lines: the fork's moment is the schedule's, and a sleep would only blur it
    probe::Child child = probe::start_child(method, "print", {{"output", output}});
    if (forced)
        child_started.arrive_and_wait();
    const WaitStatus status = child.wait(); // SYNC: waits for ever if the child is stuck
    finished.arrive_and_wait();
    printer.join();
    return status.exited_ok() ? 0 : 1;
}

Scenario describe() {
    Scenario s;
    s.id = "printer-thread-then-fork";
    s.group = "fork and locks";
    s.title = "A thread keeps printing while the main thread forks";
    s.lesson =
        "A printer thread writes lines to stderr in a loop while the main thread forks a child "
        "that prints too. Through a user-level logger (a mutex around each line) the child can "
        "inherit the logger's mutex locked by the printer, which does not exist in the child: it "
        "hangs on its first line. Through plain fprintf(stderr) it completes even when the "
        "printer holds the FILE lock at fork, because glibc resets its own stdio locks in the "
        "child. spawn and forkserver start children that never saw the printer. Without a forced "
        "interleaving the hang depends on timing: a rate, not a certainty.";
    s.knobs = {
        start_method_knob("start_method", StartMethod::fork, "How the child process is made."),
        Knob::choice(
            "output", "logger", {"logger", "stdio"},
            "logger: the application's mutex-guarded logger; stdio: plain fprintf(stderr)."),
        Knob::choice(
            "timing", "forced", {"forced", "natural"},
            "forced: fork exactly while the printer holds the lock; natural: fork whenever."),
        Knob::integer("print_ms", 20, 1, 2000, "How long the printer keeps printing (ms)."),
        Knob::integer("lines", 0, 0, 100000,
                      "0: the printer prints for print_ms; N: exactly N lines, then stops (a "
                      "loop counted in lines, which forklore explore can step)."),
    };
    s.variants = {
        {"logger_fork_forced",
         "fork while the printer is inside the logger: the child's logger is orphaned",
         {{"output", "logger"}, {"timing", "forced"}, {"start_method", "fork"}},
         Expectation::deadlocks(DeadlockReason::orphaned_lock)},
        {"stdio_fork_forced",
         "fork while the printer holds stderr's FILE lock: glibc resets it in the child",
         {{"output", "stdio"}, {"timing", "forced"}, {"start_method", "fork"}},
         Expectation::completes()},
        {"logger_spawn_forced",
         "spawn while the printer is inside the logger: the child is a fresh program",
         {{"output", "logger"}, {"timing", "forced"}, {"start_method", "spawn"}},
         Expectation::completes()},
        {"logger_forkserver_forced",
         "forkserver while the printer is inside the logger",
         {{"output", "logger"}, {"timing", "forced"}, {"start_method", "forkserver"}},
         Expectation::completes()},
        {"logger_fork_natural",
         "fork at a natural moment: sometimes inside the logger, sometimes not",
         {{"output", "logger"}, {"timing", "natural"}, {"start_method", "fork"}},
         Expectation::hang_rate(40, 0.10, 0.975)
             .explored_as({{{"lines", "2"}},
                           1,
                           7,
                           2,
                           DeadlockReason::orphaned_lock,
                           "where the printer has locked the logger and not yet unlocked "
                           "it"})},
    };
    s.body = run;
    s.children = {{"print", child_prints}};
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
