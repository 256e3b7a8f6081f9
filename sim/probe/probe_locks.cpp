#include "sim/probe/probe_locks.hpp"

#include "sim/probe/step_point.hpp"

#include <cerrno>

namespace forklore::probe {
namespace {

std::uint64_t address_of(const volatile void* object) {
    return reinterpret_cast<std::uint64_t>(object);
}

constexpr std::int64_t kind_code(LockKind kind) {
    return static_cast<std::int64_t>(kind);
}

// The three events of every lock probe, for one kind: wait (before blocking), acquired, released.
// Every probe first tries to take its lock without blocking: a wait is recorded only when the
// thread is about to block (or spin), so an uncontended lock costs two events, not three.
using Name = const char (&)[sizeof(Event::name)]; // a probe's NUL-padded name

void wait_event(const volatile void* object, LockKind kind, Name name, CallSite site) noexcept {
    record_named(EventKind::lock_wait, address_of(object), kind_code(kind), 0, name, site);
}
void acquired_event(const volatile void* object, LockKind kind, Name name, CallSite site) noexcept {
    record_named(EventKind::lock_acquired, address_of(object), kind_code(kind), 0, name, site);
}
void released_event(const volatile void* object, LockKind kind, Name name, CallSite site) noexcept {
    record_named(EventKind::lock_released, address_of(object), kind_code(kind), 0, name, site);
}

} // namespace

// --- StdMutex --------------------------------------------------------------------------------

StdMutex::StdMutex(const char* name) noexcept {
    copy_name(name_, name);
}

// The pthread mutex inside the std::mutex: the futex word a waiter sleeps on.
std::uint64_t StdMutex::address() noexcept {
    return address_of(mutex_.native_handle());
}

void StdMutex::lock(CallSite site) {
    step_point(EventKind::lock_wait, address(), name_, site);
    if (!mutex_.try_lock()) {
        record_named(EventKind::lock_wait, address(), kind_code(LockKind::mutex), 0, name_, site);
        mutex_.lock();
    }
    record_named(EventKind::lock_acquired, address(), kind_code(LockKind::mutex), 0, name_, site);
}

void StdMutex::unlock(CallSite site) noexcept {
    step_point(EventKind::lock_released, address(), name_, site);
    record_named(EventKind::lock_released, address(), kind_code(LockKind::mutex), 0, name_, site);
    mutex_.unlock();
}

// --- RwLock ----------------------------------------------------------------------------------

RwLock::RwLock(const char* name) noexcept {
    pthread_rwlock_init(&lock_, nullptr);
    copy_name(name_, name);
}
RwLock::~RwLock() {
    pthread_rwlock_destroy(&lock_);
}

void RwLock::lock_write(CallSite site) noexcept {
    step_point(EventKind::lock_wait, address_of(&lock_), name_, site);
    if (pthread_rwlock_trywrlock(&lock_) == 0) {
        acquired_event(&lock_, LockKind::rwlock_write, name_, site);
        return;
    }
    wait_event(&lock_, LockKind::rwlock_write, name_, site);
    pthread_rwlock_wrlock(&lock_);
    acquired_event(&lock_, LockKind::rwlock_write, name_, site);
}
void RwLock::unlock_write(CallSite site) noexcept {
    step_point(EventKind::lock_released, address_of(&lock_), name_, site);
    released_event(&lock_, LockKind::rwlock_write, name_, site);
    pthread_rwlock_unlock(&lock_);
}
void RwLock::lock_read(CallSite site) noexcept {
    step_point(EventKind::lock_wait, address_of(&lock_), name_, site);
    if (pthread_rwlock_tryrdlock(&lock_) == 0) {
        acquired_event(&lock_, LockKind::rwlock_read, name_, site);
        return;
    }
    wait_event(&lock_, LockKind::rwlock_read, name_, site);
    pthread_rwlock_rdlock(&lock_);
    acquired_event(&lock_, LockKind::rwlock_read, name_, site);
}
void RwLock::unlock_read(CallSite site) noexcept {
    step_point(EventKind::lock_released, address_of(&lock_), name_, site);
    released_event(&lock_, LockKind::rwlock_read, name_, site);
    pthread_rwlock_unlock(&lock_);
}

// --- Semaphore -------------------------------------------------------------------------------

Semaphore::Semaphore(const char* name, unsigned initial) noexcept {
    sem_init(&semaphore_, 0, initial);
    copy_name(name_, name);
}
Semaphore::~Semaphore() {
    sem_destroy(&semaphore_);
}

void Semaphore::wait(CallSite site) noexcept {
    step_point(EventKind::lock_wait, address_of(&semaphore_), name_, site);
    if (sem_trywait(&semaphore_) == 0) {
        acquired_event(&semaphore_, LockKind::semaphore, name_, site);
        return;
    }
    wait_event(&semaphore_, LockKind::semaphore, name_, site);
    while (sem_wait(&semaphore_) != 0 && errno == EINTR) {
    }
    acquired_event(&semaphore_, LockKind::semaphore, name_, site);
}
void Semaphore::post(CallSite site) noexcept {
    step_point(EventKind::lock_released, address_of(&semaphore_), name_, site);
    released_event(&semaphore_, LockKind::semaphore, name_, site);
    sem_post(&semaphore_);
}

// --- SpinLock --------------------------------------------------------------------------------

SpinLock::SpinLock(const char* name) noexcept {
    pthread_spin_init(&lock_, PTHREAD_PROCESS_PRIVATE);
    copy_name(name_, name);
}
SpinLock::~SpinLock() {
    pthread_spin_destroy(&lock_);
}

void SpinLock::lock(CallSite site) noexcept {
    step_point(EventKind::lock_wait, address_of(&lock_), name_, site);
    if (pthread_spin_trylock(&lock_) == 0) {
        acquired_event(&lock_, LockKind::spin, name_, site);
        return;
    }
    wait_event(&lock_, LockKind::spin, name_, site);
    pthread_spin_lock(&lock_);
    acquired_event(&lock_, LockKind::spin, name_, site);
}
void SpinLock::unlock(CallSite site) noexcept {
    step_point(EventKind::lock_released, address_of(&lock_), name_, site);
    released_event(&lock_, LockKind::spin, name_, site);
    pthread_spin_unlock(&lock_);
}

// --- CondVar ---------------------------------------------------------------------------------

CondVar::CondVar(const char* name) noexcept {
    pthread_cond_init(&cond_, nullptr);
    copy_name(name_, name);
}

CondVar::~CondVar() {
    if (!destroyed_)
        destroy(CallSite::unknown()); // the end of a scope has no line
}

void CondVar::wait(Mutex& mutex, CallSite site) noexcept {
    step_point(EventKind::cond_wait, address_of(&cond_), name_, site);
    auto mutex_address = static_cast<std::int64_t>(address_of(mutex.native()));
    auto kind = static_cast<std::int64_t>(CondWaitKind::wait);
    // pthread_cond_wait releases the mutex and takes it back: the events say so, so that the
    // timeline does not show the mutex held while its holder sleeps.
    record(EventKind::lock_released, address_of(mutex.native()), kind_code(LockKind::mutex), 0,
           mutex.name(), nullptr, site);
    record_named(EventKind::cond_wait, address_of(&cond_), kind, mutex_address, name_, site);
    pthread_cond_wait(&cond_, mutex.native());
    record_named(EventKind::cond_woken, address_of(&cond_), kind, mutex_address, name_, site);
    record(EventKind::lock_acquired, address_of(mutex.native()), kind_code(LockKind::mutex), 0,
           mutex.name(), nullptr, site);
}

void CondVar::signal(CallSite site) noexcept {
    step_point(EventKind::cond_signal, address_of(&cond_), name_, site);
    record_named(EventKind::cond_signal, address_of(&cond_), 0, 0, name_, site);
    pthread_cond_signal(&cond_);
}
void CondVar::broadcast(CallSite site) noexcept {
    step_point(EventKind::cond_signal, address_of(&cond_), name_, site);
    record_named(EventKind::cond_signal, address_of(&cond_), 1, 0, name_, site);
    pthread_cond_broadcast(&cond_);
}

void CondVar::destroy(CallSite site) noexcept {
    destroyed_ = true;
    step_point(EventKind::cond_wait, address_of(&cond_), name_, site);
    auto kind = static_cast<std::int64_t>(CondWaitKind::destroy);
    record_named(EventKind::cond_wait, address_of(&cond_), kind, 0, name_, site);
    pthread_cond_destroy(&cond_);
    record_named(EventKind::cond_woken, address_of(&cond_), kind, 0, name_, site);
}

} // namespace forklore::probe
