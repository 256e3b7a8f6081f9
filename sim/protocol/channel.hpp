// The event channel: a fixed-size array of Event slots in shared memory (memfd + MAP_SHARED).
//
// The runner creates it; the sandbox host attaches to it from an inherited fd; forked children
// inherit the mapping; exec'd and spawned children attach again from the fd number.
// Recording is lock-free, allocation-free and async-signal-safe: a slot is claimed with one
// atomic fetch_add, filled, then published by a release store of its commit flag. When every
// slot is taken, record() counts the event as dropped and returns: it never blocks, never wraps
// over unread slots and never crashes the program it observes.
//
// A full channel must not change the verdict: behind the `capacity` ordinary slots lies a
// reserve of kReserve slots that only the events the verdict is judged from may take (each
// process's exit status, and the signals sent on purpose: kept_in_reserve). The verdict of a
// hang is proven from /proc, never from events, so it holds as well; what a full channel loses
// is the trace of what happened after it filled.
//
// Time: where the CPU has an invariant time-stamp counter (x86-64), the probes stamp events with
// it (one instruction, against a vDSO call), and the reader converts the ticks to
// CLOCK_MONOTONIC nanoseconds. It interpolates between calibration pairs (TSC, CLOCK_MONOTONIC)
// taken when the channel was created and whenever it reads newer events, so every event is
// converted once, by one monotonic function, and lands on the observer's timeline.
// FORKLORE_CLOCK=monotonic in the creator's environment turns this off.
//
// Source files: an event names the file it was recorded from by a 32-bit id (events.hpp,
// source_file_id); the channel keeps a small table from id to path beside the slots, written
// once per file by the first probe that records from it (note_source_file), so a record names
// every file its events came from whatever program recorded them.
#pragma once

#include "sim/protocol/events.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace forklore {

struct ChannelHeader;   // lives at the start of the shared mapping
struct SourceFileEntry; // the source file table, after the header

class Channel {
  public:
    // 262,144 slots (50 MiB of memfd): only the pages written take memory.
    static constexpr std::size_t kDefaultCapacity = 1 << 18;
    // Slots kept, beyond the capacity, for the events kept_in_reserve.
    static constexpr std::size_t kReserve = 256;
    // Distinct source files the table keeps (a scenario uses one to three), and the longest path.
    static constexpr std::size_t kSourceFiles = 128;
    static constexpr std::size_t kSourcePathSize = 120;

    Channel() = default;
    Channel(Channel&&) noexcept;
    Channel& operator=(Channel&&) noexcept;
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;
    ~Channel();

    // Creates a new memfd-backed channel (the fd is close-on-exec; dup2 it into a child).
    // Throws std::system_error on failure.
    static Channel create(std::size_t capacity = kDefaultCapacity);
    // Maps an existing channel from an inherited fd. Throws std::runtime_error when the fd does
    // not hold a channel of this schema version.
    static Channel attach(int fd);

    bool valid() const { return header_ != nullptr; }
    int fd() const { return fd_; }
    std::size_t capacity() const; // ordinary slots, without the reserve

    // process_exit and signal_sent: the events that may use the reserve. Who exited and how
    // (the reaper's record of every process), and which deaths by a signal were meant: without
    // them a run whose channel filled up would be judged on its first process's status alone
    // (a child that crashed after the channel filled would go unseen).
    static constexpr bool kept_in_reserve(EventKind kind) noexcept {
        return kind == EventKind::process_exit || kind == EventKind::signal_sent;
    }

    // Async-signal-safe. Fills seq, committed; the caller fills the rest (time_ns in
    // CLOCK_MONOTONIC nanoseconds). False when dropped.
    bool record(const Event& event) noexcept;

    // The probes' fast path, async-signal-safe and free of system calls: stamps the time by
    // the channel's clock, claims a slot and writes the event in place. `thread` is a NUL-padded
    // array (copy_name makes one), copied as one block; `name` and `text` are C strings, copied
    // up to their NUL and cut to their field. False when dropped. Inline: it is the whole cost
    // of an event, a few nanoseconds.
    bool record_now(EventKind kind, std::int32_t pid, std::int32_t tid, std::uint64_t object,
                    std::int64_t arg0, std::int64_t arg1, const char (&thread)[16],
                    const char* name, const char* text, std::uint32_t file = 0,
                    std::uint32_t line = 0) noexcept {
        Event* slot = claim(kind, pid, tid, object, arg0, arg1, thread, file, line);
        if (!slot)
            return false;
        copy_into_zeroed(slot->name, name);
        copy_into_zeroed(slot->text, text);
        __atomic_store_n(&slot->committed, 1u, __ATOMIC_RELEASE);
        return true;
    }
    // The same with a name that is a NUL-padded array too (a lock probe's), and no text.
    bool record_now(EventKind kind, std::int32_t pid, std::int32_t tid, std::uint64_t object,
                    std::int64_t arg0, std::int64_t arg1, const char (&thread)[16],
                    const char (&padded_name)[32], std::uint32_t file = 0,
                    std::uint32_t line = 0) noexcept {
        Event* slot = claim(kind, pid, tid, object, arg0, arg1, thread, file, line);
        if (!slot)
            return false;
        __builtin_memcpy(slot->name, padded_name, sizeof slot->name);
        __atomic_store_n(&slot->committed, 1u, __ATOMIC_RELEASE);
        return true;
    }

    // What record_now stamps events with (chosen by the creator, kept in the header).
    EventClock clock() const noexcept { return clock_; }

    // Makes sure the table holds `path` under `id` (source_file_id(path)). Async-signal-safe,
    // lock-free and free of system calls: the first caller for an id claims an entry and writes
    // the path (cut to kSourcePathSize - 1), later ones find it. False when the table is full.
    bool note_source_file(std::uint32_t id, const char* path) noexcept;
    // The table as it is now: id and path of every entry written completely.
    std::vector<std::pair<std::uint32_t, std::string>> source_files() const;
    // Tells this Channel object from every other one of this process (a cache of what was noted
    // in which channel must not carry over to a new channel mapped at the same address).
    std::uint64_t serial() const noexcept { return serial_; }

    // Writes (without changing anything) to the next `pages` pages of slots from the next free
    // one, so that this process takes their page faults now rather than inside the events it is
    // about to record. A first write to a page of a mapping costs a page fault: about a
    // microsecond on bare metal, ten or more in a VM with shadow page tables, where it outweighs
    // the event. Only for this process: fork does not copy the page table of a shared mapping,
    // so a child faults again (which is why the host does not do this for the scenario).
    void prefault(std::size_t pages) noexcept;

    // Number of slots claimed so far (committed or not), capped at capacity; plus, once the
    // ordinary slots are all taken, those claimed in the reserve.
    std::uint64_t claimed() const noexcept;
    std::uint64_t dropped() const noexcept;

    // Copies committed events with seq >= cursor, in order, and advances cursor. When `final`
    // is false it stops at the first slot still being written (its writer may still finish);
    // when true (the writers are dead) it skips such torn slots and counts them in `torn`.
    // The copies' times are CLOCK_MONOTONIC nanoseconds. One reader at a time per Channel
    // object (it keeps the clock's calibration).
    std::size_t read(std::uint64_t& cursor, std::vector<Event>& out, bool final = false,
                     std::uint64_t* torn = nullptr) const;

    // One calibration point of the time-stamp counter against CLOCK_MONOTONIC.
    struct ClockPair {
        std::int64_t ticks = 0;
        std::int64_t ns = 0;
    };

  private:
    // Stamps the time, claims a slot and fills it but for name, text and the commit flag, which
    // the caller stores last (a release). Null when the channel is full (the drop is counted).
    Event* claim(EventKind kind, std::int32_t pid, std::int32_t tid, std::uint64_t object,
                 std::int64_t arg0, std::int64_t arg1, const char (&thread)[16], std::uint32_t file,
                 std::uint32_t line) noexcept {
        if (!next_)
            return nullptr;
        const std::int64_t time = clock_ == EventClock::tsc ? read_tsc() : monotonic_ns();
        std::uint64_t index = next_->fetch_add(1, std::memory_order_relaxed);
        if (index >= capacity_) {
            index = claim_in_reserve(kind);
            if (index == kNoSlot)
                return nullptr;
        }
        // The slot has never been written (the channel is a log, created zero-filled): strings
        // need no padding, and the commit flag is still 0 until the caller's release store.
        Event* slot = slots_ + index;
        slot->kind = kind;
        slot->clock = clock_;
        slot->seq = index;
        slot->time_ns = time;
        slot->pid = pid;
        slot->tid = tid;
        slot->object = object;
        slot->arg0 = arg0;
        slot->arg1 = arg1;
        slot->file = file;
        slot->line = line;
        __builtin_memcpy(slot->thread, thread, sizeof slot->thread);
        return slot;
    }
    static constexpr std::uint64_t kNoSlot = ~std::uint64_t{0};
    // The ordinary slots are all taken: the index of a reserve slot for an event kept_in_reserve,
    // or kNoSlot (the drop counted). The reserve comes after every ordinary slot and is used only
    // once they are all taken, so reading the slots in index order still reads the events in the
    // order they were claimed.
    std::uint64_t claim_in_reserve(EventKind kind) noexcept {
        if (kept_in_reserve(kind)) {
            std::uint64_t in_reserve = next_in_reserve_->fetch_add(1, std::memory_order_relaxed);
            if (in_reserve < kReserve)
                return capacity_ + in_reserve;
        }
        dropped_->fetch_add(1, std::memory_order_relaxed);
        return kNoSlot;
    }
    // Copies a C string into a field that is still all zeros: up to the NUL, cut so that the
    // last byte stays the terminator.
    template <std::size_t N>
    static void copy_into_zeroed(char (&dest)[N], const char* src) noexcept {
        if (!src)
            return;
        for (std::size_t i = 0; i + 1 < N && src[i]; ++i)
            dest[i] = src[i];
    }
    static std::int64_t read_tsc() noexcept {
#if defined(__x86_64__)
        return static_cast<std::int64_t>(__builtin_ia32_rdtsc());
#else
        return 0; // never chosen: the TSC clock exists on x86-64 only
#endif
    }
    static std::int64_t monotonic_ns() noexcept;

    // Unmaps and closes what this object owns.
    void release() noexcept;
    // Takes ownership of a checked mapping and of its fd.
    static Channel adopt(ChannelHeader* header, std::size_t mapping_size, int fd);
    // Converts the TSC stamps of out[first..] to nanoseconds (adds a calibration pair first).
    void convert_times(std::vector<Event>& out, std::size_t first) const;

    ChannelHeader* header_ = nullptr;
    SourceFileEntry* source_files_ = nullptr; // kSourceFiles entries, after the header
    Event* slots_ = nullptr;
    std::size_t mapping_size_ = 0;
    int fd_ = -1;
    // Copies of the header's fields: the shared header is writable by the observed program, so
    // neither the recorder nor the reader trusts it after the checks of attach().
    std::uint64_t capacity_ = 0;
    EventClock clock_ = EventClock::monotonic_ns;
    std::atomic<std::uint64_t>* next_ = nullptr;            // in the header: the next slot to claim
    std::atomic<std::uint64_t>* dropped_ = nullptr;         // in the header: events that found none
    std::atomic<std::uint64_t>* next_in_reserve_ = nullptr; // in the header; may run past kReserve
    mutable std::vector<ClockPair> calibration_;            // the reader's, in order of ticks
    std::uint64_t serial_ = 0;
};

// Copies a C string into a fixed array, truncating and always NUL-terminating.
// Async-signal-safe (no library calls).
template <std::size_t N> void copy_name(char (&dest)[N], const char* src) noexcept {
    std::size_t i = 0;
    if (src)
        for (; i + 1 < N && src[i]; ++i)
            dest[i] = src[i];
    for (; i < N; ++i)
        dest[i] = '\0';
}

} // namespace forklore
