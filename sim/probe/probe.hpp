// The probe API: what scenario code uses instead of raw pthreads, so that every real operation
// is recorded into the event channel around it.
//
// Each probe does the real thing (pthread_mutex_lock, flock, write ...) and records an event
// before and after. Recording never allocates, locks or blocks, so it is safe in a forked child
// of a multithreaded parent and in a signal handler: the instrument must never cause the hang
// it studies. Without an installed channel (outside a sandbox) the probes still work; they just
// record nothing.
//
// Every entry point a scenario calls ends with a defaulted CallSite (sim/protocol/call_site.hpp):
// the events it records carry the file and line of the call. Scenarios take a probe::Mutex through
// probe::LockGuard rather than std::lock_guard, whose lock() call would be inside the standard
// library's header.
#pragma once

#include "sim/protocol/call_site.hpp"
#include "sim/protocol/channel.hpp"
#include "sim/protocol/events.hpp"

#include <pthread.h>
#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace forklore::probe {

// The process-wide channel events go to (set once by the sandbox host, inherited by fork).
void install_channel(Channel* channel) noexcept;
Channel* installed_channel() noexcept;

// Records one event stamped with the time, pid, tid and thread name. Async-signal-safe, and free
// of system calls: the ids are cached per thread and re-read from the kernel once in each new
// process (fork, _Fork, clone without CLONE_VM: the cache is checked against a page the kernel
// wipes in the child) and in each new thread. A vfork child is right only through vfork_exec().
// `site` is the caller's line; the engine's own events pass CallSite::unknown().
void record(EventKind kind, std::uint64_t object = 0, std::int64_t arg0 = 0, std::int64_t arg1 = 0,
            const char* name = nullptr, const char* text = nullptr, CallSite site = {}) noexcept;
// record() for a probe's own name, an array NUL-padded by copy_name (every lock probe keeps its
// name so): copied as one block rather than byte by byte. No text.
void record_named(EventKind kind, std::uint64_t object, std::int64_t arg0, std::int64_t arg1,
                  const char (&name)[sizeof(Event::name)], CallSite site) noexcept;

// The calling thread's name: kept for events and given to the kernel (comm, 15 characters) so
// /proc and stacks show it too.
void set_thread_name(const char* name) noexcept;
const char* thread_name() noexcept;

// The calling thread's id (cached as record() caches it: no system call after the first).
pid_t current_tid() noexcept;

// vfork(), then execv(path, argv) in the child, which records `exec` (and a note if the exec
// fails, then exits 127) under its own pid and tid: a vfork child borrows its parent's memory,
// so the probes' cached ids would name the parent; this marks the thread so they do not.
// Returns the child's pid, or -1 with errno set. Async-signal-safe (argv is built beforehand).
pid_t vfork_exec(const char* path, char* const argv[], CallSite site = {}) noexcept;

// A named thread; records thread_start/thread_exit, and join_wait/join_done around a join so
// that a join that can never return (the thread is not in this process) is named as such.
// Joins on destruction if still joinable. thread_start and thread_exit carry the line that
// made the thread (its body is written there).
class Thread {
  public:
    Thread(const std::string& name, std::function<void()> body, CallSite site = {});
    Thread(Thread&&) noexcept;
    Thread& operator=(Thread&&) noexcept;
    ~Thread();
    void join(CallSite site = {});
    bool joinable() const { return thread_.joinable(); }
    // The thread's tid (the constructor returns once the thread has published it). A forked
    // child keeps its parent's value.
    pid_t tid() const noexcept;

  private:
    struct Identity; // name and tid, at a stable address the new thread writes its tid to
    std::unique_ptr<Identity> identity_;
    std::thread thread_;
};

// A named pthread mutex (the kind every C and C++ library uses underneath). BasicLockable, so
// std::lock_guard<probe::Mutex> works. Holds its name inline: no allocation, usable as a static.
class Mutex {
  public:
    explicit Mutex(const char* name, bool recursive = false) noexcept;
    Mutex(const Mutex&) = delete;
    Mutex& operator=(const Mutex&) = delete;
    ~Mutex();

    void lock(CallSite site = {}) noexcept;
    bool try_lock(CallSite site = {}) noexcept;
    void unlock(CallSite site = {}) noexcept;
    const char* name() const noexcept { return name_; }
    pthread_mutex_t* native() noexcept { return &mutex_; }

  private:
    std::int64_t kind() const noexcept; // LockKind, for the events
    pthread_mutex_t mutex_;
    bool recursive_;
    char name_[32];
};

// A named barrier between the threads of one process: forces an interleaving so a variant
// gives the same verdict every time.
class Barrier {
  public:
    Barrier(const char* name, unsigned parties) noexcept;
    Barrier(const Barrier&) = delete;
    Barrier& operator=(const Barrier&) = delete;
    ~Barrier();
    void arrive_and_wait(CallSite site = {}) noexcept;

  private:
    pthread_barrier_t barrier_;
    char name_[32];
};

// A named advisory lock on a whole file: flock (owned by the open file description, shared
// with children that inherit the fd), fcntl (owned by the process, never inherited) or OFD
// (fcntl F_OFD_SETLKW: owned by the open file description, like flock).
class FileLock {
  public:
    FileLock(const char* name, int fd, FileLockKind kind) noexcept;
    // Blocks until the lock is held. False (errno set) when the call failed.
    bool lock(bool exclusive = true, CallSite site = {}) noexcept;
    bool unlock(CallSite site = {}) noexcept;
    int fd() const noexcept { return fd_; }

  private:
    int fd_;
    FileLockKind kind_;
    std::uint64_t inode_; // of the file, read once: the events name the file by it
    char name_[32];
};

// A user-level logger like those of most libraries: a mutex around formatting and writing a
// line to stderr. This is the lock a forked child can find held by a thread that stayed behind.
class Logger {
  public:
    explicit Logger(const char* name) noexcept : mutex_(name) {}
    void write(const char* text, CallSite site = {}) noexcept;
    Mutex& mutex() noexcept { return mutex_; }

  private:
    Mutex mutex_;
};

// Plain stdio: fprintf to `stream` (glibc's own FILE lock, which glibc resets in a forked child)
// and an output event.
void print(FILE* stream, const char* text, CallSite site = {}) noexcept;

// A step a student should see on the timeline.
void note(const char* text, CallSite site = {}) noexcept;

// A figure the run measured ("copy_ms", 12.5, "ms"): kept in the run record for lessons and
// plots. Never decides a verdict.
void measure(const char* name, double value, const char* unit, CallSite site = {}) noexcept;

// std::lock_guard for the probes' locks (Mutex, StdMutex, SpinLock ...), recording the line
// where the guard is made: std::lock_guard would call lock() from inside the standard library,
// so its events would name a line of <mutex>. The release, at the end of the guard's scope, is
// recorded at the same line (the scope's end has no location of its own).
template <typename Lockable> class [[nodiscard]] LockGuard {
  public:
    explicit LockGuard(Lockable& lockable,
                       CallSite site = {}) noexcept(noexcept(lockable.lock(site)))
        : lockable_(lockable), site_(site) {
        lockable_.lock(site_);
    }
    ~LockGuard() { lockable_.unlock(site_); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

  private:
    Lockable& lockable_;
    CallSite site_;
};

} // namespace forklore::probe
