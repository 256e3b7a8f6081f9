// 012 lock-kinds-at-fork — every kind of lock, held by another thread at fork, then taken by
// the child.
//
// What it shows: it is not only pthread mutexes. A thread holds a lock of one kind while the
// main thread forks, and the child then takes the same lock. The child's copy is held, and the
// thread that would give it back is not in the child. Every kind hangs. They differ in what
// can be proven about the holder:
//   - a pthread mutex, a std::mutex (a pthread mutex inside) and a recursive mutex keep their
//     owner's tid in the lock word. The verdict names the owner, which exists only in the parent:
//     an orphaned lock;
//   - an rwlock held for writing keeps its writer's tid (__cur_writer): orphaned lock too.
//     Held for reading, its readers are only counted, so nobody can be named; and a read-held
//     copy blocks only a writer: a child that reads gets it at once (rwlock_read_child_reads);
//   - a semaphore is only a count: the kernel shows a futex wait with no owner. The verdict says
//     so ("no waker") and quotes the trace about who took it last;
//   - a spin lock's waiter never sleeps. It spins on the CPU, so the kernel never shows it
//     blocked and no deadlock can be proven: the run ends at its deadline (timed out), with the
//     trace naming the lock it spins on.
// A recursive mutex held by the forking thread itself hangs too: in the child the same code
// runs on a thread with a new tid, and the lock word still names the parent's thread.
//
// What to look for: the waiting child thread, the kind of lock in the Locks view, and whether
// an owner can be named. With spawn or forkserver every kind completes. atfork handlers that take
// the lock before fork and unlock it on both sides repair a plain mutex, a std::mutex, a
// semaphore, a spin lock and a read-held rwlock, but not all kinds (glibc 2.36, measured here and
// in tests/programs/atfork_unlock_in_child.c outside forklore):
//   - a recursive mutex: the prepare handler makes the forking thread its owner; in the child
//     the only thread has another tid, so pthread_mutex_unlock returns EPERM and the lock stays
//     held (recursive_atfork);
//   - an rwlock held for writing: the child's thread is not __cur_writer, so
//     pthread_rwlock_unlock takes the reader path, returns 0, and the write lock stays held
//     (rwlock_write_atfork).
// Re-initialising the lock in the child's handler (pthread_mutex_init, a fresh rwlock) repairs
// both: measured outside forklore, 5 runs in 5 each. The handlers assume another thread holds
// the lock: when the forking thread itself holds it (holder=forker), the prepare handler takes it
// a second time. Measured with --set atfork=on --set holder=forker: a mutex or std::mutex
// deadlocks the parent before fork (a cycle of one thread), a semaphore blocks the parent with
// nobody to post it (no waker), a spin lock spins (timed out); a recursive mutex counts up and a
// write-held rwlock refuses (EDEADLK), so fork goes on and the child is left waiting (orphaned
// lock); a read-held rwlock is read twice, unlocked once on each side, and the child's writer
// waits for the reader count that is left (no waker).
//
// Variants: mutex_fork, std_mutex_fork, recursive_fork, recursive_held_by_forker,
// rwlock_write_fork, rwlock_read_fork, rwlock_read_child_reads, semaphore_fork, spin_fork (timed
// out), mutex_spawn, rwlock_forkserver, semaphore_atfork, spin_atfork, recursive_atfork,
// rwlock_write_atfork.
#include "sim/probe/probe.hpp"
#include "sim/probe/probe_locks.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <sys/wait.h>

#include <atomic>
#include <map>
#include <string>

namespace {

using namespace forklore;

// --- The locks: static storage, so a forked child finds its copy at the same address ---------

probe::Mutex g_mutex{"pthread_mutex"};
probe::StdMutex g_std_mutex{"std_mutex"};
probe::Mutex g_recursive{"recursive_mutex", /*recursive=*/true};
probe::RwLock g_rwlock{"rwlock"};
probe::Semaphore g_semaphore{"semaphore", 1};
probe::SpinLock g_spin{"spin_lock"};

// How the holder takes and gives back each kind, and how the child takes it.
struct LockUse {
    void (*holder_take)();
    void (*holder_give)();
    void (*child_take)();
    void (*child_give)();
};

const std::map<std::string, LockUse>& lock_uses() {
    static const std::map<std::string, LockUse> uses = {
        {"mutex",
         {[] { g_mutex.lock(); }, [] { g_mutex.unlock(); }, [] { g_mutex.lock(); },
          [] { g_mutex.unlock(); }}},
        {"std_mutex",
         {[] { g_std_mutex.lock(); }, [] { g_std_mutex.unlock(); }, [] { g_std_mutex.lock(); },
          [] { g_std_mutex.unlock(); }}},
        {"recursive_mutex",
         {[] { g_recursive.lock(); }, [] { g_recursive.unlock(); }, [] { g_recursive.lock(); },
          [] { g_recursive.unlock(); }}},
        {"rwlock_write",
         {[] { g_rwlock.lock_write(); }, [] { g_rwlock.unlock_write(); },
          [] { g_rwlock.lock_write(); }, [] { g_rwlock.unlock_write(); }}},
        // Held for reading in the parent; the child wants to write.
        {"rwlock_read",
         {[] { g_rwlock.lock_read(); }, [] { g_rwlock.unlock_read(); },
          [] { g_rwlock.lock_write(); }, [] { g_rwlock.unlock_write(); }}},
        // Held for reading in the parent; the child reads too: readers share it.
        {"rwlock_read_shared",
         {[] { g_rwlock.lock_read(); }, [] { g_rwlock.unlock_read(); },
          [] { g_rwlock.lock_read(); }, [] { g_rwlock.unlock_read(); }}},
        {"semaphore",
         {[] { g_semaphore.wait(); }, [] { g_semaphore.post(); }, [] { g_semaphore.wait(); },
          [] { g_semaphore.post(); }}},
        {"spin",
         {[] { g_spin.lock(); }, [] { g_spin.unlock(); }, [] { g_spin.lock(); },
          [] { g_spin.unlock(); }}},
    };
    return uses;
}

const LockUse* g_use = nullptr; // the kind this run uses (set before any fork)

// --- The forced interleaving (as in 010): the holder keeps the lock until released -------------
probe::Barrier* g_release_holder = nullptr;
std::atomic<bool> g_holder_released{false};

void release_holder_once() {
    if (g_release_holder && !g_holder_released.exchange(true))
        g_release_holder->arrive_and_wait();
}

// pthread_atfork handlers: take the lock before fork (after letting the holder finish), give it
// back in both processes. This is what glibc does for malloc's own locks.
void atfork_prepare() {
    release_holder_once();
    g_use->holder_take(); // SYNC: waits until the holder has given it back
}
void atfork_parent() {
    g_use->holder_give();
}
void atfork_child() {
    g_use->holder_give();
}

// --- The child --------------------------------------------------------------------------------

int child_takes_lock(const ChildArgs& args) {
    const LockUse& use = lock_uses().at(args.at("lock"));
    probe::note("child: taking the lock");
    use.child_take(); // SYNC: hangs when the copy is held by a thread that is not here
    probe::note("child: got the lock");
    use.child_give();
    return 0;
}

// --- The main process -------------------------------------------------------------------------

int finish(probe::Child& child) {
    const WaitStatus status = child.wait(); // SYNC: waits for ever if the child is stuck
    return status.exited_ok() ? 0 : 1;
}

int run(ScenarioContext& context) {
    const std::string lock = context.knob("lock");
    const StartMethod method = context.method("start_method");
    g_use = &lock_uses().at(lock);
    if (context.flag("atfork"))
        pthread_atfork(atfork_prepare, atfork_parent, atfork_child);

    if (context.knob("holder") == "forker") {
        // The thread that forks holds the lock itself, and the child takes it again.
        g_use->holder_take();
        probe::note("main: forking while holding the lock myself");
        probe::Child child = probe::start_child(method, "take", {{"lock", lock}});
        g_use->holder_give();
        return finish(child);
    }

    probe::Barrier lock_held{"lock_held", 2};
    probe::Barrier release_holder{"release_holder", 2};
    probe::Barrier finished{"finished", 2};
    g_release_holder = &release_holder;
    probe::Thread holder("holder", [&] {
        g_use->holder_take(); // SYNC: the holder is inside the lock
        lock_held.arrive_and_wait();
        release_holder.arrive_and_wait(); // SYNC: keeps the lock until the child exists
        g_use->holder_give();
        finished.arrive_and_wait(); // stays alive, so the owner can be seen in the parent
    });
    lock_held.arrive_and_wait(); // SYNC: from here on the holder holds the lock
    probe::note("main: starting the child while another thread holds the lock");
    probe::Child child = probe::start_child(method, "take", {{"lock", lock}});
    release_holder_once();
    int result = finish(child);
    finished.arrive_and_wait();
    holder.join();
    return result;
}

Scenario describe() {
    Scenario s;
    s.id = "lock-kinds-at-fork";
    s.group = "fork and locks";
    s.title = "Each kind of lock, held by another thread at fork, taken by the child";
    s.lesson =
        "Every kind of lock is copied by fork in the state it had, and none is given back in the "
        "child by a thread that was not copied: the child hangs on a pthread mutex, a std::mutex, "
        "a recursive mutex, an rwlock, a semaphore and a spin lock alike. What can be proven "
        "differs. Mutexes and a write-locked rwlock name their owner, so the verdict can say the "
        "owner exists only in the parent (orphaned lock). A semaphore is only a count and a "
        "read-locked rwlock only counts its readers: nobody can be named, and the verdict says so. "
        "A read-held rwlock blocks only a writer: a child that reads gets it. A spin lock's waiter "
        "never sleeps, so nothing looks blocked: the run just burns CPU until its deadline. Even "
        "the forking thread's own recursive mutex hangs, because the child runs on a thread with a "
        "different id. atfork handlers that take the lock before fork and unlock it in both "
        "processes repair most kinds, but not a recursive mutex (the child's thread is not its "
        "owner: the unlock fails) nor a write-held rwlock (the unlock takes the reader path and "
        "leaves it locked); re-initialising the lock in the child repairs both (glibc 2.36).";
    s.knobs = {
        Knob::choice("lock", "mutex",
                     {"mutex", "std_mutex", "recursive_mutex", "rwlock_write", "rwlock_read",
                      "rwlock_read_shared", "semaphore", "spin"},
                     "The kind of lock the holder has at fork."),
        start_method_knob("start_method", StartMethod::fork, "How the child process is made."),
        Knob::choice("holder", "thread", {"thread", "forker"},
                     "Who holds the lock at fork: another thread, or the forking thread itself."),
        Knob::flag(
            "atfork", false,
            "pthread_atfork handlers take the lock before fork and give it back on both sides."),
    };
    const auto orphaned = Expectation::deadlocks(DeadlockReason::orphaned_lock);
    const auto no_waker = Expectation::deadlocks(DeadlockReason::no_waker);
    s.variants = {
        {"mutex_fork",
         "a pthread mutex held by another thread: orphaned in the child",
         {{"lock", "mutex"}},
         orphaned},
        {"std_mutex_fork",
         "a std::mutex: a pthread mutex inside, orphaned the same way",
         {{"lock", "std_mutex"}},
         orphaned},
        {"recursive_fork",
         "a recursive mutex held by another thread",
         {{"lock", "recursive_mutex"}},
         orphaned},
        {"recursive_held_by_forker",
         "a recursive mutex held by the forking thread itself: the child's thread has a new id",
         {{"lock", "recursive_mutex"}, {"holder", "forker"}},
         orphaned},
        {"rwlock_write_fork",
         "an rwlock held for writing: its writer is named, and orphaned",
         {{"lock", "rwlock_write"}},
         orphaned},
        {"rwlock_read_fork",
         "an rwlock held for reading, the child wants to write: readers have no names",
         {{"lock", "rwlock_read"}},
         no_waker},
        {"rwlock_read_child_reads",
         "an rwlock held for reading, the child reads too: readers share it, no hang",
         {{"lock", "rwlock_read_shared"}},
         Expectation::completes()},
        {"semaphore_fork",
         "a semaphore taken by another thread: a count with no owner",
         {{"lock", "semaphore"}},
         no_waker},
        {"spin_fork",
         "a spin lock: the child spins on the CPU until the deadline",
         {{"lock", "spin"}},
         Expectation::ends_as(VerdictKind::timed_out)
             .slow("spins until the 1.5 s deadline: a hang no wait proves")},
        {"mutex_spawn",
         "posix_spawn: a fresh program has a fresh, free mutex",
         {{"lock", "mutex"}, {"start_method", "spawn"}},
         Expectation::completes()},
        {"rwlock_forkserver",
         "forked from a server that has no holder thread",
         {{"lock", "rwlock_write"}, {"start_method", "forkserver"}},
         Expectation::completes()},
        {"semaphore_atfork",
         "atfork handlers repair the semaphore",
         {{"lock", "semaphore"}, {"atfork", "on"}},
         Expectation::completes()},
        {"spin_atfork",
         "atfork handlers repair the spin lock",
         {{"lock", "spin"}, {"atfork", "on"}},
         Expectation::completes()},
        {"recursive_atfork",
         "atfork handlers cannot repair a recursive mutex: the child's unlock is refused (EPERM)",
         {{"lock", "recursive_mutex"}, {"atfork", "on"}},
         orphaned},
        {"rwlock_write_atfork",
         "nor a write-held rwlock: the child's unlock takes the reader path, the lock stays held",
         {{"lock", "rwlock_write"}, {"atfork", "on"}},
         orphaned},
    };
    s.body = run;
    s.children = {{"take", child_takes_lock}};
    // Only the spinning child runs into the deadline; everything else ends in milliseconds.
    s.timeout_seconds = 1.5;
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
