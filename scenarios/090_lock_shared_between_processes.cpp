// 090 lock-shared-between-processes — a process dies holding a mutex in shared memory; and what
// a robust mutex can and cannot repair.
//
// What it shows: processes that share memory (a mapped file, shm_open, an anonymous shared
// mapping) can share a pthread mutex too, and a worker can be killed while holding it. With a
// normal mutex the lock word keeps naming the dead worker and the next process that locks it
// waits for ever. A robust mutex is the repair: when its owner dies the kernel marks it (it walks
// the dead thread's robust list), and the next locker gets EOWNERDEAD instead of a hang, makes
// the data consistent and goes on. Robustness is about an owner that *dies*. A robust mutex held
// by another thread at fork is still orphaned in the child: that owner never existed there, so
// it never dies there, and nothing marks the lock.
//
// What to look for: in `killed_normal` the parent waits for `shared_lock` whose owner, the
// killed worker, no longer exists. In `killed_robust` the parent's lock returns EOWNERDEAD (see
// the note on the timeline) and the run completes. In `robust_at_fork` the child waits on a
// robust mutex owned by the parent's `holder`.
//
// Variants: killed_normal, killed_robust, killed_normal_spawn, killed_robust_spawn,
// robust_at_fork, robust_at_fork_spawn.
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

namespace {

using namespace forklore;

const char* const kSharedFile = "shared_lock.mem";

// What the processes share: a mutex, a flag the holder sets once it holds it, and the data the
// mutex protects (a counter every process increments under the lock).
struct SharedRegion {
    pthread_mutex_t mutex;
    std::atomic<int> held;
    long counter;
};

// Events for the raw mutex, as probe::Mutex records them (the mutex must live in the region).
void record_lock(EventKind kind, pthread_mutex_t* mutex, CallSite site = {}) {
    probe::record(kind, reinterpret_cast<std::uint64_t>(mutex),
                  static_cast<std::int64_t>(LockKind::mutex), 0, "shared_lock", nullptr, site);
}

// Locks, recording the wait; repairs a robust mutex whose owner died. False on failure.
bool lock_shared(pthread_mutex_t* mutex, long* counter) {
    record_lock(EventKind::lock_wait, mutex);
    int rc = pthread_mutex_lock(mutex); // SYNC: hangs when the owner is gone and not robust
    if (rc == EOWNERDEAD) {
        probe::note("EOWNERDEAD: the owner died holding the lock; repairing the data");
        *counter = 0; // what a real program would check or rebuild
        rc = pthread_mutex_consistent(mutex);
    }
    if (rc != 0)
        return false;
    record_lock(EventKind::lock_acquired, mutex);
    return true;
}

void unlock_shared(pthread_mutex_t* mutex) {
    record_lock(EventKind::lock_released, mutex);
    pthread_mutex_unlock(mutex);
}

void init_mutex(pthread_mutex_t* mutex, bool robust, bool process_shared) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    if (robust)
        pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (process_shared)
        pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(mutex, &attr);
    pthread_mutexattr_destroy(&attr);
}

// Maps the shared file (every start method reaches it by its path in the working directory).
SharedRegion* map_region(bool create) {
    int fd = open(kSharedFile, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_TRUNC : 0), 0600);
    if (fd < 0)
        return nullptr;
    if (create && ftruncate(fd, sizeof(SharedRegion)) != 0) {
        close(fd);
        return nullptr;
    }
    void* memory = mmap(nullptr, sizeof(SharedRegion), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return memory == MAP_FAILED ? nullptr : static_cast<SharedRegion*>(memory);
}

// --- Mode 1: a worker process holds the shared lock and is killed ---------------------------

int worker_holds_until_killed(const ChildArgs&) {
    SharedRegion* region = map_region(false);
    if (!region || !lock_shared(&region->mutex, &region->counter))
        return 1;
    ++region->counter;
    region->held.store(1);
    probe::note("worker: holding shared_lock, working until killed");
    for (;;)
        pause(); // SYNC: killed here, the lock still held
}

int kill_holder(StartMethod method, bool robust) {
    SharedRegion* region = map_region(true);
    if (!region)
        return 2;
    init_mutex(&region->mutex, robust, /*process_shared=*/true);
    probe::Child worker = probe::start_child(method, "hold");
    for (int i = 0; i < 20000 && !region->held.load(); ++i) { // up to 10 s
        timespec pause_for{0, 500'000};
        nanosleep(&pause_for, nullptr);
    }
    if (!region->held.load())
        return 3;
    probe::note("main: killing the worker while it holds shared_lock");
    worker.kill(SIGKILL);
    worker.wait();
    if (!lock_shared(&region->mutex, &region->counter))
        return 4; // SYNC: hangs if not robust
    ++region->counter;
    unlock_shared(&region->mutex);
    return 0;
}

// --- Mode 2: a robust mutex held by another thread at fork ------------------------------------

pthread_mutex_t g_private_mutex; // private memory: a forked child gets a copy
long g_private_counter = 0;

int child_takes_private(const ChildArgs&) {
    if (!lock_shared(&g_private_mutex, &g_private_counter))
        return 1; // SYNC: orphaned copy
    unlock_shared(&g_private_mutex);
    return 0;
}

int thread_holds_at_fork(StartMethod method, bool robust) {
    init_mutex(&g_private_mutex, robust, /*process_shared=*/false);
    probe::Barrier held{"lock_held", 2};
    probe::Barrier release{"release_holder", 2};
    probe::Barrier finished{"finished", 2};
    probe::Thread holder("holder", [&] {
        lock_shared(&g_private_mutex, &g_private_counter);
        held.arrive_and_wait();
        release.arrive_and_wait(); // SYNC: keeps the lock until the child exists
        unlock_shared(&g_private_mutex);
        finished.arrive_and_wait(); // stays alive, so the owner can be seen in the parent
    });
    held.arrive_and_wait(); // SYNC: the holder holds the robust mutex
    probe::note("main: starting the child while the holder holds the mutex");
    probe::Child child = probe::start_child(method, "take");
    release.arrive_and_wait();
    const WaitStatus status = child.wait(); // SYNC: waits for ever if the child is stuck
    finished.arrive_and_wait();
    holder.join();
    return status.exited_ok() ? 0 : 1;
}

int run(ScenarioContext& context) {
    const StartMethod method = context.method("start_method");
    if (context.knob("holder") == "killed_process")
        return kill_holder(method, context.flag("robust"));
    return thread_holds_at_fork(method, context.flag("robust"));
}

Scenario describe() {
    Scenario s;
    s.id = "lock-shared-between-processes";
    s.group = "fork and locks";
    s.title = "A process dies holding a mutex in shared memory; what a robust mutex repairs";
    s.lesson =
        "A mutex in shared memory can be held by a worker process that is then killed. A normal "
        "mutex keeps naming the dead owner, and the next locker waits for ever. A robust mutex is "
        "the repair for exactly this: when its owner dies the kernel marks it, and the next "
        "locker gets EOWNERDEAD, repairs the data and goes on. Robustness is about an owner that "
        "dies. A robust mutex held by another thread at fork is still orphaned in the child: its "
        "owner never existed there, so it never dies there.";
    s.knobs = {
        Knob::choice(
            "holder", "killed_process", {"killed_process", "thread_at_fork"},
            "Who holds the mutex: a worker process killed while holding it (the mutex in a shared "
            "file mapping), or another thread at fork (the mutex in private memory)."),
        Knob::flag("robust", false, "The mutex is robust (PTHREAD_MUTEX_ROBUST)."),
        start_method_knob("start_method", StartMethod::fork, "How the other process is made."),
    };
    const auto orphaned = Expectation::deadlocks(DeadlockReason::orphaned_lock);
    s.variants = {
        {"killed_normal",
         "a normal shared mutex whose holder was killed: it names a dead owner",
         {},
         orphaned},
        {"killed_robust",
         "a robust shared mutex: the next locker gets EOWNERDEAD and repairs",
         {{"robust", "on"}},
         Expectation::completes()},
        {"killed_normal_spawn",
         "the same with a spawned worker: start methods do not matter here",
         {{"start_method", "spawn"}},
         orphaned},
        {"killed_robust_spawn",
         "a robust mutex repairs it whatever made the worker",
         {{"robust", "on"}, {"start_method", "spawn"}},
         Expectation::completes()},
        {"robust_at_fork",
         "a robust mutex held by a thread at fork: still orphaned in the child",
         {{"holder", "thread_at_fork"}, {"robust", "on"}},
         orphaned},
        {"robust_at_fork_spawn",
         "a fresh program has a fresh, free mutex",
         {{"holder", "thread_at_fork"}, {"robust", "on"}, {"start_method", "spawn"}},
         Expectation::completes()},
    };
    s.body = run;
    s.children = {{"hold", worker_holds_until_killed}, {"take", child_takes_private}};
    return s;
}

// The private mutex exists before main in every process that runs this scenario, fresh programs
// included (the body re-initialises it with the knob's robustness).
const bool g_private_ready = [] {
    init_mutex(&g_private_mutex, /*robust=*/true, /*process_shared=*/false);
    return true;
}();

const ScenarioRegistrar registrar{describe()};

} // namespace
