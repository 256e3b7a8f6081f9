// Reading glibc's lock words from another process (process_vm_readv): who owns a
// pthread_mutex_t, who write-locks a pthread_rwlock_t. The layouts are glibc's on x86_64; a word
// that does not look like such a lock gives nothing, never a wrong owner.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace forklore::lock_words {

// Reads `size` bytes at `address` of another process (process_vm_readv). False when it fails.
// The lock readers below use it, and so does waits::read_watched_fds for a poll's fd list.
bool read_memory(pid_t pid, std::uint64_t address, void* out, std::size_t size);

// For a glibc pthread_mutex_t at `address` in `pid`: its __owner field (the owner's tid in that
// process's PID namespace), or nullopt when it cannot be read or the field is 0.
std::optional<pid_t> read_mutex_owner(pid_t pid, std::uint64_t address);

// For a thread waiting on the futex word `address` inside a glibc pthread_rwlock_t held for
// writing (writers sleep on __writers_futex, readers on __wrphase_futex): the writer's tid
// (__cur_writer), or nullopt when the memory around the word is not such an rwlock.
std::optional<pid_t> read_rwlock_writer(pid_t pid, std::uint64_t futex_address);

} // namespace forklore::lock_words
