// Reading glibc lock words of a live process (this one): the writer of a pthread_rwlock_t. The
// mutex owner is read from a child in test_procfs.cpp.
#include "sim/observe/glibc_lock_words.hpp"

#include <catch2/catch.hpp>

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <optional>

using namespace forklore;

TEST_CASE("procfs: the writer of a write-locked rwlock is read from around its futex words",
          "[procfs]") {
    pthread_rwlock_t lock;
    pthread_rwlock_init(&lock, nullptr);
    auto base = reinterpret_cast<std::uint64_t>(&lock);
    // Writers sleep on __writers_futex (offset 12), readers on __wrphase_futex (offset 8).
    CHECK(lock_words::read_rwlock_writer(::getpid(), base + 12) == std::nullopt); // not locked
    REQUIRE(pthread_rwlock_wrlock(&lock) == 0);
    auto self = static_cast<pid_t>(::syscall(SYS_gettid));
    CHECK(lock_words::read_rwlock_writer(::getpid(), base + 12) == self);
    CHECK(lock_words::read_rwlock_writer(::getpid(), base + 8) == self);
    pthread_rwlock_unlock(&lock);
    REQUIRE(pthread_rwlock_rdlock(&lock) == 0); // read-locked: no writer to name
    CHECK(lock_words::read_rwlock_writer(::getpid(), base + 12) == std::nullopt);
    pthread_rwlock_unlock(&lock);
    pthread_rwlock_destroy(&lock);

    pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER; // a locked mutex is not an rwlock
    pthread_mutex_lock(&mutex);
    CHECK(lock_words::read_rwlock_writer(::getpid(), reinterpret_cast<std::uint64_t>(&mutex)) ==
          std::nullopt);
    pthread_mutex_unlock(&mutex);
}

TEST_CASE("procfs: a stdio FILE lock held by a thread is not read as a mutex with an owner",
          "[procfs]") {
    // glibc's _IO_lock_t {int lock; int cnt; void *owner}, locked, owner a thread pointer (this
    // one was seen in a run: the child of _Fork waited on stderr's lock), then the next word.
    struct FileLockAndNext {
        int lock = 1;
        int count = 1;
        std::uint64_t owner = 0x00007f0c59bf3a00;
        int next = 0;
    } file_lock;
    CHECK(lock_words::read_mutex_owner(::getpid(), reinterpret_cast<std::uint64_t>(&file_lock)) ==
          std::nullopt);
}
