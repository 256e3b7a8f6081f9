// 070 malloc-at-fork — glibc's malloc survives fork; a home-made allocator does not.
//
// What it shows: a churner thread allocates and frees in a tight loop (malloc/free and
// new/delete of varied sizes) while the main thread forks, and the child then allocates a lot,
// frees blocks the churner allocated, and exits. malloc has locks (one per arena), and fork is
// often called while the churner is inside one. It completes anyway, every time: glibc's fork
// first takes all its malloc locks (waiting for the churner to leave), forks, and re-initialises
// them in the child (its own atfork handlers, built in). It does the same for stdio. It cannot do
// it for your locks: the same churner over a toy pool allocator guarded by a probe::Mutex, forced
// to be inside the pool at the instant of fork, leaves the child's first pool allocation waiting
// for ever, unless the pool registers pthread_atfork handlers that do what glibc does for malloc.
//
// What to look for: `malloc_fork` is natural timing on purpose. Run it many times
// (`--repeat 40`): it never hangs. In `pool_fork` the child's main thread waits on
// `pool_lock`, owned by the parent's `churner`.
//
// Under AddressSanitizer (FORKLORE_SANITIZER=address) malloc is ASan's allocator, not glibc's,
// and GCC 12's libasan does not reset its allocator lock in the child: there `malloc_fork`
// really hangs now and then (5 of 40 runs on the machine it was written on). The repair is
// glibc's, not a law of nature.
//
// Variants: malloc_fork, malloc_spawn, pool_fork (hangs), pool_fork_atfork, pool_spawn.
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <sys/wait.h>
#include <time.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace {

using namespace forklore;

// --- A toy pool allocator: fixed 256-byte blocks on a free list, under one lock -------------

constexpr std::size_t kBlock = 256, kBlocks = 4096;
alignas(16) unsigned char g_pool[kBlock * kBlocks];
void* g_free_list = nullptr;
std::size_t g_pool_used = 0; // blocks handed out from the never-used tail
probe::Mutex g_pool_lock{"pool_lock"};

void* pool_alloc() {
    probe::LockGuard guard(g_pool_lock); // SYNC: the pool's lock
    if (void* block = g_free_list) {
        g_free_list = *static_cast<void**>(block);
        return block;
    }
    return g_pool_used < kBlocks ? g_pool + kBlock * g_pool_used++ : nullptr;
}

void pool_free(void* block) {
    probe::LockGuard guard(g_pool_lock); // SYNC: the pool's lock
    *static_cast<void**>(block) = g_free_list;
    g_free_list = block;
}

// --- The churner's live blocks: the child frees the ones it inherits -------------------------
// Atomic slots, so at the instant of fork each one holds either nothing or a live block.
std::array<std::atomic<void*>, 64> g_live{};

void* allocate(bool pool, std::size_t size) {
    return pool ? pool_alloc() : std::malloc(size);
}
void release(bool pool, void* block) {
    if (!block)
        return;
    if (pool)
        pool_free(block);
    else
        std::free(block);
}

// One step of a busy program: replace a live block, and make some short-lived C++ objects.
void churn_step(bool pool, unsigned i) {
    std::size_t size = 16u << (i % 15); // 16 B .. 256 KiB: tcache, bins, and mmap'd chunks
    release(pool, g_live[i % g_live.size()].exchange(nullptr));
    g_live[i % g_live.size()].store(allocate(pool, size));
    if (!pool) {
        auto text = std::make_unique<std::string>(size % 1000 + 1, 'x'); // operator new / delete
        std::vector<int> numbers(size / 16, 1);
    }
}

// --- The child: frees what it inherited, then allocates a lot --------------------------------

int child_allocates(const ChildArgs& args) {
    const bool pool = args.at("allocator") == "pool";
    probe::note("child: freeing the churner's blocks and allocating");
    for (auto& slot : g_live)
        release(pool, slot.exchange(nullptr)); // SYNC: the churner's arena/pool
    // Fewer from the pool: each pool call records its lock events, and the trace has a limit.
    const unsigned count = pool ? 1000 : 20000;
    std::vector<void*> blocks;
    for (unsigned i = 0; i < count; ++i) {
        blocks.push_back(allocate(pool, 16u << (i % 15))); // SYNC: malloc's locks, or pool_lock
        if (blocks.size() == 500) {
            for (void* block : blocks)
                release(pool, block);
            blocks.clear();
        }
    }
    for (void* block : blocks)
        release(pool, block);
    const std::string done = "child: " + std::to_string(count) + " allocations done";
    probe::print(stdout, done.c_str());
    return 0;
}

// --- The pool's atfork handlers: what glibc does for malloc ---------------------------------
probe::Barrier* g_release_churner = nullptr;
std::atomic<bool> g_churner_released{false};
void release_churner_once() {
    if (g_release_churner && !g_churner_released.exchange(true))
        g_release_churner->arrive_and_wait();
}
void atfork_prepare() {
    release_churner_once();
    g_pool_lock.lock(); // SYNC: waits for the churner to leave the pool
}
void atfork_parent() {
    g_pool_lock.unlock();
}
void atfork_child() {
    g_pool_lock.unlock();
}

// --- The parent ------------------------------------------------------------------------------

int run(ScenarioContext& context) {
    const StartMethod method = context.method("start_method");
    const std::string allocator = context.knob("allocator");
    const bool pool = allocator == "pool";
    if (pool && context.flag("atfork"))
        pthread_atfork(atfork_prepare, atfork_parent, atfork_child);

    std::atomic<unsigned> steps{0};
    std::atomic<bool> stop{false};
    probe::Barrier in_pool{"in_pool", 2};
    probe::Barrier release_churner{"release_churner", 2};
    probe::Barrier finished{"finished", 2};
    g_release_churner = &release_churner;
    probe::Thread churner("churner", [&] {
        if (pool) {
            // Forced: the churner is inside the pool (mid-allocation) at the instant of fork.
            g_pool_lock.lock(); // SYNC: inside pool_alloc
            in_pool.arrive_and_wait();
            release_churner.arrive_and_wait(); // SYNC: keeps the lock until the child exists
            g_pool_lock.unlock();
        }
        // malloc: churn until the child is done. pool: churn a while, then park, so that a hung
        // child leaves every thread of the sandbox blocked (a spinning thread proves nothing).
        for (unsigned i = 0; !stop.load(std::memory_order_relaxed) && !(pool && i >= 200); ++i) {
            churn_step(pool, i);
            steps.store(i + 1, std::memory_order_relaxed);
        }
        if (pool)
            finished.arrive_and_wait(); // stay alive: an orphaned lock's owner stays visible
    });
    if (pool) {
        in_pool.arrive_and_wait(); // SYNC: from here the churner holds pool_lock
    } else {
        // Natural timing: let the churner get well into its loop; where it is at fork is luck.
        timespec pause{0, 200'000};
        while (steps.load(std::memory_order_relaxed) < 2000)
            nanosleep(&pause, nullptr);
    }
    probe::note(pool ? "main: starting the child while the churner is inside the pool"
                     : "main: starting the child while the churner is busy in malloc");
    probe::Child child = probe::start_child(method, "allocate", {{"allocator", allocator}});
    if (pool)
        release_churner_once();
    const WaitStatus status = child.wait(); // SYNC: waits for ever if the child is stuck
    stop = true;
    if (pool)
        finished.arrive_and_wait();
    churner.join();
    for (auto& slot : g_live)
        release(pool, slot.exchange(nullptr));
    return status.exited_ok() ? 0 : 1;
}

// glibc's allocator repairs its locks in the child: never a hang. ASan's allocator (GCC 12's
// libasan) does not, so a build with -fsanitize=address really hangs now and then: there the
// claim is a hang rate, honestly measured, not "completes".
Expectation malloc_fork_expectation() {
#if defined(__SANITIZE_ADDRESS__)
    return Expectation::hang_rate(40, 0.0, 0.6);
#else
    return Expectation::completes();
#endif
}

Scenario describe() {
    Scenario s;
    s.id = "malloc-at-fork";
    s.group = "what glibc repairs";
    s.title = "A thread allocates in a loop while the main thread forks";
    s.lesson =
        "malloc has locks, and a busy thread is often inside one. A churner thread allocates and "
        "frees memory of varied sizes in a loop while the main thread forks, and the child frees "
        "the churner's blocks and allocates twenty thousand more. It completes every time, "
        "whatever the timing: glibc's fork first takes all its malloc locks (waiting for the "
        "churner to leave them), forks, and re-initialises them in the child. It cannot do that "
        "for your own locks: the same "
        "churner over a home-made pool allocator, caught inside the pool at the instant of fork, "
        "leaves the child's first allocation waiting for ever, unless the pool registers "
        "pthread_atfork handlers that do for it what glibc does for malloc. A spawned child "
        "starts with a fresh pool.";
    s.knobs = {
        start_method_knob("start_method", StartMethod::fork, "How the child process is made."),
        Knob::choice(
            "allocator", "malloc", {"malloc", "pool"},
            "malloc: glibc's malloc and operator new, natural timing; pool: a toy pool allocator "
            "with one mutex, the churner forced to be inside it at fork."),
        Knob::flag("atfork", false,
                   "The pool registers pthread_atfork handlers that hold its lock across fork."),
    };
    s.variants = {
        {"malloc_fork",
         "fork while the churner is busy in malloc: glibc repairs its locks",
         {{"allocator", "malloc"}, {"start_method", "fork"}},
         malloc_fork_expectation()},
        {"malloc_spawn",
         "spawn while the churner is busy in malloc",
         {{"allocator", "malloc"}, {"start_method", "spawn"}},
         Expectation::completes()},
        {"pool_fork",
         "fork while the churner is inside the pool: the child's pool lock is orphaned",
         {{"allocator", "pool"}, {"start_method", "fork"}},
         Expectation::deadlocks(DeadlockReason::orphaned_lock)},
        {"pool_fork_atfork",
         "the pool holds its lock across fork with atfork handlers",
         {{"allocator", "pool"}, {"start_method", "fork"}, {"atfork", "on"}},
         Expectation::completes()},
        {"pool_spawn",
         "spawn while the churner is inside the pool: a fresh program, a fresh pool",
         {{"allocator", "pool"}, {"start_method", "spawn"}},
         Expectation::completes()},
    };
    s.body = run;
    s.children = {{"allocate", child_allocates}};
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
