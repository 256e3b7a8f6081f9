// Probes for the other lock kinds a forked child can inherit in the wrong state: std::mutex, the
// reader-writer lock, the semaphore, the spin lock and the condition variable.
//
// Each does the real pthread/semaphore call and records lock events with its LockKind, so the
// verdict can say what the kernel cannot: which kind of object a futex word belongs to. The
// kinds differ in what they remember about their holder, and so in what an explanation can
// honestly say: a mutex names its owner, a rwlock names its writer only, a semaphore and a spin
// lock name nobody.
#pragma once

#include "sim/probe/probe.hpp"

#include <pthread.h>
#include <semaphore.h>

#include <mutex>

namespace forklore::probe {

// std::mutex, as C++ code uses it (a pthread mutex underneath: its owner is in the lock word).
class StdMutex {
  public:
    explicit StdMutex(const char* name) noexcept;
    void lock(CallSite site = {});
    void unlock(CallSite site = {}) noexcept;
    std::mutex& native() noexcept { return mutex_; }

  private:
    std::uint64_t address() noexcept;
    std::mutex mutex_;
    char name_[32];
};

// A pthread reader-writer lock: many readers or one writer. glibc records the writer's tid.
class RwLock {
  public:
    explicit RwLock(const char* name) noexcept;
    RwLock(const RwLock&) = delete;
    RwLock& operator=(const RwLock&) = delete;
    ~RwLock();
    void lock_write(CallSite site = {}) noexcept;
    void unlock_write(CallSite site = {}) noexcept;
    void lock_read(CallSite site = {}) noexcept;
    void unlock_read(CallSite site = {}) noexcept;

  private:
    pthread_rwlock_t lock_;
    char name_[32];
};

// A POSIX semaphore (sem_t) used as a lock: a count, with no idea who decremented it.
class Semaphore {
  public:
    Semaphore(const char* name, unsigned initial) noexcept;
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;
    ~Semaphore();
    void wait(CallSite site = {}) noexcept; // "lock": takes one unit, blocks at zero
    void post(CallSite site = {}) noexcept; // "unlock": gives one back

  private:
    sem_t semaphore_;
    char name_[32];
};

// A pthread spin lock: a waiter never sleeps, it burns its CPU until the word is free.
class SpinLock {
  public:
    explicit SpinLock(const char* name) noexcept;
    SpinLock(const SpinLock&) = delete;
    SpinLock& operator=(const SpinLock&) = delete;
    ~SpinLock();
    void lock(CallSite site = {}) noexcept;
    void unlock(CallSite site = {}) noexcept;

  private:
    pthread_spinlock_t lock_;
    char name_[32];
};

// A pthread condition variable. glibc counts its waiters inside it, so a forked child inherits
// the count of waiters that do not exist in it: destroying the copy waits for them for ever.
class CondVar {
  public:
    explicit CondVar(const char* name) noexcept;
    CondVar(const CondVar&) = delete;
    CondVar& operator=(const CondVar&) = delete;
    ~CondVar(); // destroys it, if destroy() was not called: this can block (see above)

    // Waits until signalled; `mutex` must be held, and is released while waiting.
    void wait(Mutex& mutex, CallSite site = {}) noexcept;
    void signal(CallSite site = {}) noexcept;
    void broadcast(CallSite site = {}) noexcept;
    // pthread_cond_destroy: returns once every waiter it knows of has woken and left.
    void destroy(CallSite site = {}) noexcept;

  private:
    pthread_cond_t cond_;
    bool destroyed_ = false;
    char name_[32];
};

} // namespace forklore::probe
