// Engine self-tests (900...) — hidden scenarios that make the sandbox end in every verdict kind.
//
// They are not lessons: they prove the engine's own claims (every verdict is reachable and
// judged from what the kernel shows; no process outlives a run of any kind), so they live with
// the tests; scenarios/CMakeLists.txt links them into the programs, whose registry is the only
// way a run reaches a scenario. They live together in one file because each is a few lines;
// `forklore list --self-tests` shows them, `forklore matrix --self-tests` runs them.
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <semaphore.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace forklore;

void sleep_ms(long ms) {
    timespec pause{ms / 1000, (ms % 1000) * 1'000'000};
    nanosleep(&pause, nullptr);
}

Scenario selftest(const std::string& id, int number, const std::string& title, ScenarioBody body,
                  Expectation expected) {
    Scenario s;
    s.id = id;
    s.number = number;
    s.group = "engine self-tests";
    s.title = title;
    s.lesson = "An engine self-test: " + title + ".";
    s.hidden = true;
    s.body = body;
    s.variants = {{"default", title, {}, expected}};
    return s;
}

// completed: nothing at all; the cost of a sandboxed run itself (bench/).
int do_nothing(ScenarioContext&) {
    return 0;
}

// failed: the main process exits 3.
int exit_three(ScenarioContext&) {
    return 3;
}

// crashed: a forked child aborts (an assertion failure, say), and its parent reports it.
int child_aborts(const ChildArgs&) {
    std::abort();
}
int run_child_that_aborts(ScenarioContext&) {
    probe::Child child = probe::start_child(StartMethod::fork, "abort");
    child.wait();
    return 0;
}

// completed: a child killed on purpose (the kill is recorded, so its death is expected).
int child_sleeps(const ChildArgs&) {
    for (;;)
        sleep_ms(1000);
}
int run_kill_child(ScenarioContext&) {
    probe::Child child = probe::start_child(StartMethod::fork, "sleep");
    child.kill(SIGKILL);
    const WaitStatus status = child.wait();
    return status.fatal_signal() == SIGKILL ? 0 : 1;
}

// timed_out: a spin never blocks, so no deadlock can be proven.
int spin(ScenarioContext&) {
    volatile unsigned long counter = 0;
    for (;;)
        counter = counter + 1;
}

// timed_out, never deadlocked: a sleep loop is timed waits only.
int sleep_loop(ScenarioContext&) {
    for (;;)
        sleep_ms(5);
}

// limit: more processes than the sandbox allows (its cgroup's pids.max refuses the 16th task).
int child_waits(const ChildArgs&) {
    sleep_ms(3000);
    return 0;
}
int fork_many(ScenarioContext&) {
    std::vector<probe::Child> children;
    for (int i = 0; i < 40; ++i)
        children.push_back(probe::start_child(StartMethod::fork, "wait"));
    for (auto& child : children)
        child.wait();
    return 0;
}

// limit: output past the limit this self-test sets (by default output is never a limit: the
// runner keeps its head and tail and counts the rest).
int flood_output(ScenarioContext&) {
    std::string block(64 * 1024, 'x');
    for (int i = 0; i < 1024; ++i)
        if (write(STDOUT_FILENO, block.data(), block.size()) < 0)
            return 1;
    return 0;
}

// completed: a writer that keeps the capture pipe full is slowed by the runner, not hung.
int write_a_lot(ScenarioContext&) {
    std::string block(64 * 1024, 'y');
    for (int i = 0; i < 48; ++i) // 3 MiB: more than is kept, many times the pipe's size
        if (write(STDOUT_FILENO, block.data(), block.size()) < 0)
            return 1;
    return 0;
}

// completed: the main process leaves a child behind; the reaper collects it.
int child_lingers(const ChildArgs&) {
    sleep_ms(50);
    return 0;
}
int leave_child_behind(ScenarioContext&) {
    probe::Child child = probe::start_child(StartMethod::fork, "linger");
    return 0; // no wait: the child outlives the main process
}

// deadlocked (no waker): the main process reads a pipe whose only writer is a child stuck on a
// raw, unrecorded semaphore nobody will post: the chain ends at a futex with no owner.
sem_t g_never_posted;
int child_waits_on_semaphore(const ChildArgs&) {
    sem_wait(&g_never_posted); // SYNC: nothing posts it
    return 0;
}
int read_pipe_from_stuck_child(ScenarioContext&) {
    sem_init(&g_never_posted, 0, 0);
    int ends[2];
    if (pipe(ends) != 0)
        return 2;
    probe::Child child = probe::start_child(StartMethod::fork, "semaphore");
    close(ends[1]); // only the child holds the write end now
    char byte;
    if (read(ends[0], &byte, 1) < 0)
        return 1; // SYNC: waits for the stuck child
    child.wait();
    return 0;
}

// completed, with a big trace: four threads take two locks 12,500 times each (two events per
// lock, acquired and released, and a third, wait, when the lock was taken), so the record holds
// 100,000 to 150,000 events — what the GUI must stay responsive with, and what the channel must
// carry without dropping (it holds 262,144).
constexpr int kLockRounds = 12'500;
int contend_a_lot(ScenarioContext&) {
    probe::Mutex first("first"), second("second");
    std::vector<probe::Thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back("worker" + std::to_string(t), [&first, &second] {
            for (int round = 0; round < kLockRounds; ++round) {
                probe::Mutex& lock = round % 2 ? first : second;
                lock.lock();
                lock.unlock();
            }
        });
    for (auto& thread : threads)
        thread.join();
    return 0;
}

std::vector<Scenario> describe_all() {
    std::vector<Scenario> all;
    all.push_back(selftest("selftest-trivial", 899, "the main process returns at once", do_nothing,
                           Expectation::completes()));
    all.push_back(selftest("selftest-exit-code", 900, "the main process exits with code 3",
                           exit_three, Expectation::ends_as(VerdictKind::failed)));
    Scenario aborts =
        selftest("selftest-child-aborts", 901, "a forked child calls abort()",
                 run_child_that_aborts, Expectation::ends_as(VerdictKind::crashed, SIGABRT));
    aborts.children = {{"abort", child_aborts}};
    all.push_back(aborts);
    Scenario killed = selftest("selftest-kill-child", 902, "a child killed on purpose",
                               run_kill_child, Expectation::completes());
    killed.children = {{"sleep", child_sleeps}};
    all.push_back(killed);
    Scenario spins = selftest("selftest-spin", 903, "the main thread spins for ever", spin,
                              Expectation::ends_as(VerdictKind::timed_out));
    spins.timeout_seconds = 1.0;
    all.push_back(spins);
    Scenario sleeps = selftest("selftest-sleep-loop", 904, "the main thread sleeps in a loop",
                               sleep_loop, Expectation::ends_as(VerdictKind::timed_out));
    sleeps.timeout_seconds = 1.0;
    all.push_back(sleeps);
    Scenario many = selftest("selftest-process-limit", 905, "more processes than the limit",
                             fork_many, Expectation::ends_as(VerdictKind::limit));
    many.limits.max_tasks = 16;
    many.children = {{"wait", child_waits}};
    all.push_back(many);
    Scenario cpu = selftest("selftest-cpu-limit", 906, "a spin past the CPU-time limit", spin,
                            Expectation::ends_as(VerdictKind::limit, SIGXCPU));
    cpu.limits.cpu_seconds = 1;
    // The run ends at SIGXCPU, after 1 s of CPU time. The deadline is wall-clock time: on a busy
    // machine the spin gets a fraction of a core, and with 5 s it was timed out in 5 of 20 runs
    // (load average 7 to 13 on two cores). It is never reached where the CPU is to be had.
    cpu.timeout_seconds = 30.0;
    all.push_back(cpu);
    Scenario flood = selftest("selftest-output-limit", 907, "more output than the limit",
                              flood_output, Expectation::ends_as(VerdictKind::limit));
    flood.limits.max_output = 1 << 20; // 64 MiB written: the limit, not the kept size, ends it
    all.push_back(flood);
    all.push_back(selftest("selftest-output-backpressure", 910,
                           "output that fills the capture pipe again and again", write_a_lot,
                           Expectation::completes()));
    all.push_back(selftest("selftest-many-events", 911,
                           "about 100,000 lock events from four threads", contend_a_lot,
                           Expectation::completes()));
    Scenario lingers = selftest("selftest-orphan", 908, "the main process exits before its child",
                                leave_child_behind, Expectation::completes());
    lingers.children = {{"linger", child_lingers}};
    all.push_back(lingers);
    Scenario pipe_wait =
        selftest("selftest-pipe-wait", 909, "a pipe whose only writer is stuck on a semaphore",
                 read_pipe_from_stuck_child, Expectation::deadlocks(DeadlockReason::no_waker));
    pipe_wait.children = {{"semaphore", child_waits_on_semaphore}};
    all.push_back(pipe_wait);
    return all;
}

const bool registered = [] {
    for (auto& scenario : describe_all())
        ScenarioRegistry::instance().add(std::move(scenario));
    return true;
}();

} // namespace
