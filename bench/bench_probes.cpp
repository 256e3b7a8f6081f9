// Measures what the probes cost: an instrumented lock+unlock (probe::Mutex, recording
// lock_acquired and lock_released, and lock_wait before blocking, into an event channel) against
// a raw pthread mutex, measured side by side in the same process, uncontended (one thread) and
// contended (two threads on one mutex). Each figure is the median of several repetitions, each in
// a fresh channel. Uncontended loops are timed by the thread's CPU clock (a machine shared with
// compilers preempts a loop, and wall time would count that); contended ones by the wall clock,
// since a contended lock's cost is mostly waiting.
//
//   build/bin/forklore_bench_probes [iterations] [--tsv]
//
// Two kinds of ring: "mapped" (this process has already written every page of the channel, as
// a long-running scenario has) and "cold" (fresh pages: the first write to each costs a page
// fault, which on a VM with shadow page tables outweighs everything else). --tsv prints the
// figures as rows for bench/bench_table.py.
#include "sim/probe/probe.hpp"
#include "sim/protocol/channel.hpp"

#include <fmt/format.h>

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

double now_ns(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values.empty() ? 0 : values[values.size() / 2];
}

enum class Ring { mapped, cold };

// Writes every page of a fresh channel from this process, as a long-running scenario would have.
void map_every_page(forklore::Channel& channel) {
    channel.prefault(channel.capacity());
}

// Nanoseconds per lock+unlock of one thread of `threads`, all hammering the same lock, started
// together. `instrumented` picks probe::Mutex (in a fresh channel) or the raw pthread mutex.
double lock_unlock_ns(int threads, int iterations, bool instrumented, Ring ring) {
    using namespace forklore;
    Channel channel;
    if (instrumented) {
        channel = Channel::create(static_cast<std::size_t>(threads) * iterations * 3 + 64);
        if (ring == Ring::mapped)
            map_every_page(channel);
        probe::install_channel(&channel);
    }
    probe::Mutex probed("bench_lock");
    pthread_mutex_t raw = PTHREAD_MUTEX_INITIALIZER;
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    auto body = [&] {
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) {
        }
        if (instrumented) {
            for (int i = 0; i < iterations; ++i) {
                probed.lock();
                probed.unlock();
            }
        } else {
            for (int i = 0; i < iterations; ++i) {
                pthread_mutex_lock(&raw);
                pthread_mutex_unlock(&raw);
            }
        }
    };
    std::vector<std::thread> others;
    for (int t = 1; t < threads; ++t)
        others.emplace_back(body);
    while (ready.load() < threads - 1)
        std::this_thread::yield();
    // A thread's first event asks the kernel for its ids once: keep that out of the loop, as
    // it is out of every loop but the first of a thread's life.
    if (instrumented)
        probe::note("warm-up");
    const clockid_t clock = threads == 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
    double start = now_ns(clock);
    go.store(true, std::memory_order_release);
    body();
    for (auto& thread : others)
        thread.join();
    double elapsed = now_ns(clock) - start;
    probe::install_channel(nullptr);
    if (instrumented && channel.dropped() != 0) {
        fmt::print(stderr, "bench_probes: {} events dropped\n", channel.dropped());
        std::exit(1);
    }
    return elapsed / iterations; // per lock+unlock of one thread (all run at once)
}

struct Figure {
    double raw_ns, probed_ns;
};

// Raw and instrumented measured alternately, `repetitions` times each: the medians.
Figure measure(int threads, int iterations, Ring ring, int repetitions) {
    std::vector<double> raw, probed;
    for (int r = 0; r < repetitions; ++r) {
        raw.push_back(lock_unlock_ns(threads, iterations, false, ring));
        probed.push_back(lock_unlock_ns(threads, iterations, true, ring));
    }
    return {median(raw), median(probed)};
}

} // namespace

int main(int argc, char** argv) {
    int iterations = 100000;
    bool tsv = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--tsv") == 0)
            tsv = true;
        else
            iterations = std::max(1000, std::atoi(argv[i]));
    }
    const int repetitions = 7;
    struct Case {
        const char* name;
        int threads;
        Ring ring;
    } cases[] = {
        {"uncontended, ring pages mapped", 1, Ring::mapped},
        {"contended (2 threads), ring pages mapped", 2, Ring::mapped},
        {"uncontended, cold ring (page faults)", 1, Ring::cold},
        {"contended (2 threads), cold ring (page faults)", 2, Ring::cold},
    };
    for (const Case& c : cases) {
        Figure f = measure(c.threads, iterations, c.ring, repetitions);
        double ratio = f.probed_ns / f.raw_ns;
        if (tsv)
            fmt::print(
                "probes: lock+unlock, {}\t{:.1f}x\t{:.1f} ns against {:.1f} ns raw\t<= 10x\t{}\n",
                c.name, ratio, f.probed_ns, f.raw_ns, ratio <= 10 ? "yes" : "no");
        else
            fmt::print("lock+unlock, {:<48} probe::Mutex {:8.1f} ns, pthread_mutex {:6.1f} ns: "
                       "{:6.1f}x (median of {})\n",
                       c.name, f.probed_ns, f.raw_ns, ratio, repetitions);
    }
    return 0;
}
