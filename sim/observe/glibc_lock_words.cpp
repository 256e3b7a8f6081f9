// Reading glibc's lock words from another process. See glibc_lock_words.hpp.
#include "sim/observe/glibc_lock_words.hpp"

#include <sys/uio.h>

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace forklore::lock_words {

bool read_memory(pid_t pid, std::uint64_t address, void* out, std::size_t size) {
    iovec local{out, size};
    iovec remote{reinterpret_cast<void*>(address), size};
    return ::process_vm_readv(pid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(size);
}

namespace {
// The kernel's pid_max (/proc/sys/kernel/pid_max), read once; its ceiling on 64-bit kernels
// (PID_MAX_LIMIT, 4194304) when it cannot be read.
pid_t highest_tid() {
    static const pid_t highest = [] {
        long value = 0;
        if (FILE* file = std::fopen("/proc/sys/kernel/pid_max", "r")) {
            if (std::fscanf(file, "%ld", &value) != 1)
                value = 0;
            std::fclose(file);
        }
        return static_cast<pid_t>(value > 0 ? value : 4194304);
    }();
    return highest;
}
} // namespace

std::optional<pid_t> read_mutex_owner(pid_t pid, std::uint64_t address) {
    // glibc x86_64 pthread_mutex_t begins {int __lock; unsigned __count; int __owner;
    // unsigned __nusers; int __kind; ...}: the futex word a waiter sleeps on is __lock (offset 0)
    // and __owner (offset 8) is the tid of the holder as seen in the holder's PID namespace.
    struct MutexHead {
        int lock;
        unsigned count;
        int owner;
        unsigned nusers;
        int kind;
    } head{};
    static_assert(offsetof(MutexHead, owner) == 8 && offsetof(MutexHead, kind) == 16);
    if (!read_memory(pid, address, &head, sizeof head))
        return std::nullopt;
    // Many futex words are not mutexes (pthread_join waits on the thread's tid word, condition
    // variables and semaphores have counters): reading "owner" there gives garbage. Accept the
    // word only when it looks like a locked glibc mutex: a known kind (type bits, robust 16,
    // PI 32, protect 64, pshared 128, elision 256/512), a plausible owner and user count, and a
    // lock word of 1 or 2 (normal mutexes) or the owner's tid (robust and PI mutexes).
    // glibc's own stdio locks (_IO_lock_t: {int lock; int cnt; void *owner}) look alike: their
    // owner is a thread pointer, whose low half lands on __owner and high half (0x7f..) on
    // __nusers. A tid is at most the kernel's pid_max; a pointer's low half rarely is.
    constexpr int kKnownKindBits = 0x3 | 0x10 | 0x20 | 0x40 | 0x80 | 0x100 | 0x200;
    if (head.owner <= 0 || head.owner > highest_tid() || (head.kind & ~kKnownKindBits) != 0)
        return std::nullopt;
    if (head.nusers == 0 || head.nusers > (1u << 20))
        return std::nullopt;
    const bool robust_or_pi = (head.kind & (0x10 | 0x20)) != 0;
    const int lock_owner_bits = head.lock & 0x3fffffff; // FUTEX_TID_MASK
    if (robust_or_pi ? lock_owner_bits != head.owner : (head.lock != 1 && head.lock != 2))
        return std::nullopt;
    return head.owner;
}

std::optional<pid_t> read_rwlock_writer(pid_t pid, std::uint64_t futex_address) {
    // glibc x86_64 pthread_rwlock_t (__pthread_rwlock_arch_t), 56 bytes.
    struct RwlockWords {
        unsigned readers; // state bits and reader count
        unsigned writers;
        unsigned wrphase_futex; // readers wait here
        unsigned writers_futex; // writers wait here
        unsigned pad3, pad4;
        int cur_writer; // the writer's tid while write-locked
        int shared;
        signed char elision;
        unsigned char pad1[7];
        unsigned long pad2;
        unsigned flags;
    };
    static_assert(offsetof(RwlockWords, cur_writer) == 24 && offsetof(RwlockWords, flags) == 48);
    constexpr unsigned kWriteLocked = 2; // PTHREAD_RWLOCK_WRLOCKED
    for (std::uint64_t offset :
         {offsetof(RwlockWords, writers_futex), offsetof(RwlockWords, wrphase_futex)}) {
        if (futex_address < offset)
            continue;
        RwlockWords words{};
        if (!read_memory(pid, futex_address - offset, &words, sizeof words))
            continue;
        // Accept only what an initialised, write-locked glibc rwlock looks like: the padding
        // glibc zeroes is zero, flags and shared are small, and a writer is named.
        bool padding_clear = words.pad3 == 0 && words.pad4 == 0 && words.pad2 == 0 &&
                             std::all_of(std::begin(words.pad1), std::end(words.pad1),
                                         [](unsigned char byte) { return byte == 0; });
        bool plausible = padding_clear && words.flags <= 2 &&
                         (words.shared == 0 || words.shared == 1) &&
                         (words.readers & kWriteLocked) != 0 && words.cur_writer > 0;
        if (plausible)
            return words.cur_writer;
    }
    return std::nullopt;
}

} // namespace forklore::lock_words
