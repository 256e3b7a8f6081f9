// 170 global-interpreter-lock — why threads do not speed up Python code, and processes do.
//
// What it shows: an analogue of CPython's global interpreter lock (the GIL), in C++: no Python
// runs here. One process-wide mutex, `gil`, must be held by any thread that "runs bytecode". The
// same fixed amount of CPU work (count the primes below kLimit by trial division, cut into kChunks
// chunks of about a millisecond each) is done by `workers` workers in three ways:
// - threads_holding_lock: pure Python code. Each thread holds the gil while it computes a chunk
//   and releases it between chunks, as the interpreter releases it at its switch interval. Only
//   one thread ever computes at a time: no speed-up, however many cores there are.
// - threads_releasing_lock: the heavy part is a C extension that releases the gil while it
//   computes (as NumPy does); the gil is held only to pick a chunk and add up its result. The
//   threads compute in parallel: a real speed-up, up to the number of cores.
// - processes: each worker is a process with its own interpreter and so its own gil, and holds
//   it all the time it computes, like pure Python code. Nothing is shared, nothing waits: a real
//   speed-up, for the price of starting processes.
// Every run first times the work on one thread alone (the baseline), then the chosen way, and
// checks the count against a sieve of Eratosthenes (a different method). The verdict comes from
// that check only: the speed-up is measured, never judged, because the machine may be busy.
//
// What to look for: on the timeline, with threads_holding_lock the gil is always held by one
// thread while the others wait for it; with threads_releasing_lock it is held only for moments.
// The measurements: baseline_ms, wall_ms and speedup (baseline / wall); cpu_ms (the workers'
// CPU time) and parallelism (cpu_ms / wall_ms: about 1 when only one computes at a time, about
// the number of cores when they all do, and steadier than the speed-up on a busy machine);
// gil_wait_ms (time the threads spent waiting for the gil, summed).
//
// Variants: one_worker, threads_holding_lock, threads_releasing_lock, processes_fork,
// processes_spawn.
//
// Index of this file:
// [SECTION] The work, its check, and the gil with its switch interval
// [SECTION] The workers: threads sharing one gil, processes with their own
// [SECTION] The scenario's main: the baseline, then the chosen way
// [SECTION] The lesson, its knobs and its variants
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <sys/wait.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

// [SECTION] The work, its check, and the gil with its switch interval -----------------------------

namespace {

using namespace forklore;

constexpr std::uint32_t kLimit = 1000000; // ~0.2 s of trial division on one idle core
constexpr std::uint32_t kChunks = 256;    // ~1 ms each: few enough gil events for the trace

// The interpreter's lock. Static storage: each process has its own (a forked worker gets a copy,
// free, because no thread holds it when the workers are forked).
probe::Mutex g_gil{"gil"};

void note(const std::string& text, CallSite site = {}) {
    probe::note(text.c_str(), site);
}

double clock_ms(clockid_t clock) {
    timespec now{};
    clock_gettime(clock, &now);
    return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}
double now_ms() {
    return clock_ms(CLOCK_MONOTONIC);
}

// The CPU work of one chunk: primes in its range, by trial division.
long count_primes_in_chunk(std::uint32_t chunk) {
    const std::uint32_t low = chunk * (kLimit / kChunks);
    const std::uint32_t high = chunk + 1 == kChunks ? kLimit : low + kLimit / kChunks;
    long count = 0;
    for (std::uint32_t n = low < 2 ? 2 : low; n < high; ++n) {
        bool prime = true;
        for (std::uint32_t d = 2; d * d <= n && prime; ++d)
            prime = n % d != 0;
        count += prime;
    }
    return count;
}

// The check, by another method: a sieve of Eratosthenes.
long count_primes_by_sieve() {
    std::vector<bool> composite(kLimit, false);
    long count = 0;
    for (std::uint32_t n = 2; n < kLimit; ++n) {
        if (composite[n])
            continue;
        ++count;
        for (std::uint64_t m = std::uint64_t{n} * n; m < kLimit; m += n)
            composite[m] = true;
    }
    return count;
}

// How many threads wait for the gil, and how many times it changed hands: what the
// interpreter's forced switching needs (CPython's gil_drop_request and switch_number).
std::atomic<int> g_gil_waiters{0};
std::atomic<unsigned> g_gil_switches{0};

// Takes the gil, adding the time spent waiting for it to `waited_ms`.
void take_gil(double& waited_ms) {
    const double start = now_ms();
    g_gil_waiters.fetch_add(1);
    g_gil.lock(); // SYNC: waits while another thread runs bytecode
    g_gil_waiters.fetch_sub(1);
    g_gil_switches.fetch_add(1);
    g_gil_switches.notify_all();
    waited_ms += now_ms() - start;
}

// The switch interval: drop the gil, and if a thread is waiting for it, let that thread have it
// before asking again. Without this a plain mutex lets the releasing thread take it straight
// back, and the waiting threads starve (as they did in Python 2).
void drop_gil_for_switch() {
    if (g_gil_waiters.load() == 0) {
        g_gil.unlock();
        return;
    }
    const unsigned seen = g_gil_switches.load();
    g_gil.unlock();            // SYNC: hands the gil to a waiting thread ...
    g_gil_switches.wait(seen); // ... and sleeps (a futex) until that thread has taken it
}

// [SECTION] The workers: threads sharing one gil, processes with their own ------------------------

// --- One interpreter thread -------------------------------------------------------------------

// Python-level state shared by the threads: only touched while holding the gil.
struct SharedState {
    std::uint32_t next_chunk = 0;
    long primes = 0;
};

// Pure Python: the chunk is computed while holding the gil.
void run_holding_gil(SharedState& state, double& waited_ms) {
    for (;;) {
        take_gil(waited_ms);
        if (state.next_chunk == kChunks) {
            g_gil.unlock();
            return;
        }
        const std::uint32_t chunk = state.next_chunk++;
        state.primes += count_primes_in_chunk(chunk); // bytecode: holds the gil throughout
        drop_gil_for_switch(); // SYNC: the switch interval: another thread takes the gil now
    }
}

// A C extension: the gil is released around the computation, as NumPy does.
void run_releasing_gil(SharedState& state, double& waited_ms) {
    for (;;) {
        take_gil(waited_ms);
        if (state.next_chunk == kChunks) {
            g_gil.unlock();
            return;
        }
        const std::uint32_t chunk = state.next_chunk++;
        g_gil.unlock(); // SYNC: Py_BEGIN_ALLOW_THREADS: other threads run bytecode meanwhile
        const long primes = count_primes_in_chunk(chunk);
        take_gil(waited_ms); // Py_END_ALLOW_THREADS: back into the interpreter to store the result
        state.primes += primes;
        g_gil.unlock();
    }
}

// What the workers of one run used: time waiting for a gil, and CPU time.
struct Cost {
    double gil_wait_ms = 0;
    double cpu_ms = 0;
};

long run_threads(int workers, bool release_gil, Cost& cost) {
    SharedState state;
    std::vector<Cost> costs(static_cast<std::size_t>(workers));
    {
        std::vector<probe::Thread> threads;
        for (int w = 0; w < workers; ++w)
            threads.emplace_back("thread-" + std::to_string(w + 1), [&, w] {
                if (release_gil)
                    run_releasing_gil(state, costs[w].gil_wait_ms);
                else
                    run_holding_gil(state, costs[w].gil_wait_ms);
                costs[w].cpu_ms = clock_ms(CLOCK_THREAD_CPUTIME_ID);
            });
    } // joins every thread
    for (const Cost& each : costs) {
        cost.gil_wait_ms += each.gil_wait_ms;
        cost.cpu_ms += each.cpu_ms;
    }
    return state.primes;
}

// --- One interpreter process ------------------------------------------------------------------

// A worker process: its own interpreter and its own gil, held while it computes its chunks
// (every workers-th chunk, starting at its id). Its count and its CPU time go to a file the
// parent reads (a file works the same way for every start method).
int interpreter_process(const ChildArgs& args) {
    const int id = std::stoi(args.at("id"));
    const int workers = std::stoi(args.at("workers"));
    long primes = 0;
    double waited_ms = 0; // stays ~0: nobody else uses this process's gil
    for (std::uint32_t chunk = static_cast<std::uint32_t>(id); chunk < kChunks;
         chunk += static_cast<std::uint32_t>(workers)) {
        take_gil(waited_ms);
        primes += count_primes_in_chunk(chunk);
        g_gil.unlock();
    }
    FILE* out = std::fopen(("primes-" + std::to_string(id) + ".txt").c_str(), "w");
    if (!out)
        return 2;
    std::fprintf(out, "%ld %f\n", primes, clock_ms(CLOCK_PROCESS_CPUTIME_ID));
    return std::fclose(out) == 0 ? 0 : 2;
}

long run_processes(StartMethod method, int workers, Cost& cost) {
    std::vector<probe::Child> children;
    for (int w = 0; w < workers; ++w)
        children.push_back(
            probe::start_child(method, "interpreter",
                               {{"id", std::to_string(w)}, {"workers", std::to_string(workers)}}));
    long primes = 0;
    for (int w = 0; w < workers; ++w) {
        const WaitStatus status =
            children[static_cast<std::size_t>(w)].wait(); // SYNC: the worker ends
        FILE* in = std::fopen(("primes-" + std::to_string(w) + ".txt").c_str(), "r");
        long count = 0;
        double cpu_ms = 0;
        if (!status.exited_ok() || !in || std::fscanf(in, "%ld %lf", &count, &cpu_ms) != 2)
            return -1;
        std::fclose(in);
        primes += count;
        cost.cpu_ms += cpu_ms;
    }
    return primes;
}

// [SECTION] The scenario's main: the baseline, then the chosen way --------------------------------

// --- The main process -------------------------------------------------------------------------

int run(ScenarioContext& context) {
    const int workers = static_cast<int>(context.integer("workers"));
    const std::string mode = context.knob("mode");

    // The baseline: the whole work on one thread (which holds the gil, as Python code does).
    Cost baseline_cost;
    double start = now_ms();
    const long baseline_primes = run_threads(1, false, baseline_cost);
    const double baseline_ms = now_ms() - start;
    note("main: baseline done on one thread; now " + std::to_string(workers) + " worker(s), " +
         mode);

    Cost cost;
    start = now_ms();
    const long primes = mode == "processes"
                            ? run_processes(context.method("start_method"), workers, cost)
                            : run_threads(workers, mode == "threads_releasing_lock", cost);
    const double wall_ms = now_ms() - start;

    const long expected = count_primes_by_sieve();
    if (primes != expected || baseline_primes != expected) {
        note("main: counted " + std::to_string(primes) + " primes (baseline " +
             std::to_string(baseline_primes) + "), the sieve says " + std::to_string(expected));
        return 1;
    }
    note("main: " + std::to_string(primes) + " primes below " + std::to_string(kLimit) +
         ", as the sieve says");
    probe::measure("baseline_ms", baseline_ms, "ms");
    probe::measure("wall_ms", wall_ms, "ms");
    probe::measure("speedup", baseline_ms / wall_ms, "x");
    // CPU time per wall time: how many workers really computed at once (1 = one at a time).
    // Less sensitive to a busy machine than the speed-up, which compares two separate timings.
    probe::measure("cpu_ms", cost.cpu_ms, "ms");
    probe::measure("parallelism", cost.cpu_ms / wall_ms, "x");
    if (mode != "processes")
        probe::measure("gil_wait_ms", cost.gil_wait_ms, "ms");
    return 0;
}

// [SECTION] The lesson, its knobs and its variants ------------------------------------------------

Scenario describe() {
    Scenario s;
    s.id = "global-interpreter-lock";
    s.group = "threads or processes";
    s.title = "A global interpreter lock: threads that hold it, threads that release it, processes";
    s.lesson =
        "CPython runs bytecode only while holding one global lock, the GIL. This scenario runs no "
        "Python: a C++ mutex named gil plays that lock, held the way the interpreter holds it, and "
        "the same CPU work is split among workers three ways. Threads running pure Python hold the "
        "lock while they compute and take turns at it: only one computes at a time, so two threads "
        "take as long as one. Threads calling a C extension that releases the lock while it "
        "computes (as NumPy does) run in parallel and finish sooner. Processes each have their own "
        "interpreter and their own lock: they run in parallel too, at the cost of starting "
        "processes and sending results back. The verdict checks only the count: the speed-up and "
        "the parallelism are measured and shown, never asserted, since a busy machine changes "
        "them.";
    s.knobs = {
        Knob::integer("workers", 2, 1, 8, "How many threads or processes share the work."),
        Knob::choice(
            "mode", "threads_holding_lock",
            {"threads_holding_lock", "threads_releasing_lock", "processes"},
            "threads_holding_lock: compute while holding the gil; threads_releasing_lock: release "
            "it while computing; processes: one interpreter (and gil) per process."),
        start_method_knob("start_method", StartMethod::fork,
                          "How worker processes are made (mode processes only)."),
    };
    s.variants = {
        {"one_worker",
         "one thread: the baseline against itself (speed-up about 1)",
         {{"workers", "1"}},
         Expectation::completes()},
        {"threads_holding_lock",
         "2 threads computing while holding the gil: no speed-up",
         {},
         Expectation::completes()},
        {"threads_releasing_lock",
         "2 threads releasing the gil while computing: a speed-up",
         {{"mode", "threads_releasing_lock"}},
         Expectation::completes()},
        {"processes_fork",
         "2 forked processes, each with its own gil: a speed-up",
         {{"mode", "processes"}},
         Expectation::completes()},
        {"processes_spawn",
         "2 spawned processes, each with its own gil: a speed-up",
         {{"mode", "processes"}, {"start_method", "spawn"}},
         Expectation::completes()},
    };
    s.body = run;
    s.children = {{"interpreter", interpreter_process}};
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
