// The event channel: a fixed-size array of Event slots in shared memory (memfd + MAP_SHARED).
//
// The runner creates it; the sandbox host attaches to it from an inherited fd; forked children
// inherit the mapping; exec'd and spawned children attach again from the fd number.
// Recording is lock-free, allocation-free and async-signal-safe: a slot is claimed with one
// atomic fetch_add, filled, then published by a release store of its commit flag. When every
// slot is taken, record() counts the event as dropped and returns: it never blocks, never wraps
// over unread slots and never crashes the program it observes.
//
// Time: where the CPU has an invariant time-stamp counter (x86-64), the probes stamp events with
// it (one instruction, against a vDSO call), and the reader converts the ticks to
// CLOCK_MONOTONIC nanoseconds. It interpolates between calibration pairs (TSC, CLOCK_MONOTONIC)
// taken when the channel was created and whenever it reads newer events, so every event is
// converted once, by one monotonic function, and lands on the observer's timeline.
// FORKLORE_CLOCK=monotonic in the creator's environment turns this off.
#pragma once

#include "sim/events.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace forklore {

struct ChannelHeader; // lives at the start of the shared mapping

class Channel {
  public:
    static constexpr std::size_t kDefaultCapacity = 1 << 17;

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
    std::size_t capacity() const;

    // Async-signal-safe. Fills seq, committed; the caller fills the rest (time_ns in
    // CLOCK_MONOTONIC nanoseconds). False when dropped.
    bool record(const Event& event) noexcept;

    // The probes' fast path, async-signal-safe: stamps the time by the channel's clock, claims a
    // slot and writes the event in place (no copy through the stack; strings up to their NUL,
    // truncated to their field). False when dropped.
    bool record_now(EventKind kind, std::int32_t pid, std::int32_t tid, std::uint64_t object,
                    std::int64_t arg0, std::int64_t arg1, const char* thread, const char* name,
                    const char* text) noexcept;

    // What record_now stamps events with (chosen by the creator, kept in the header).
    EventClock clock() const noexcept { return clock_; }

    // Writes (without changing anything) to the next `pages` pages of slots from the next free
    // one, so that this process takes its page faults now rather than inside the events it is
    // about to record. A first write to a page of a mapping costs a page fault: a microsecond on
    // bare metal, ten or more in a VM with shadow page tables, where it outweighs the event.
    void prefault(std::size_t pages) noexcept;

    // Number of slots claimed so far (committed or not), capped at capacity.
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
    // Unmaps and closes what this object owns.
    void release() noexcept;
    // Takes ownership of a checked mapping and of its fd.
    static Channel adopt(ChannelHeader* header, std::size_t mapping_size, int fd);
    // Converts the TSC stamps of out[first..] to nanoseconds (adds a calibration pair first).
    void convert_times(std::vector<Event>& out, std::size_t first) const;

    ChannelHeader* header_ = nullptr;
    Event* slots_ = nullptr;
    std::size_t mapping_size_ = 0;
    int fd_ = -1;
    // Copies of the header's fields: the shared header is writable by the observed program, so
    // neither the recorder nor the reader trusts it after the checks of attach().
    std::uint64_t capacity_ = 0;
    EventClock clock_ = EventClock::monotonic_ns;
    mutable std::vector<ClockPair> calibration_; // the reader's, in order of ticks
};

// Copies a C string into a fixed array, truncating and always NUL-terminating.
// Async-signal-safe (no library calls).
template <std::size_t N> void copy_name(char (&dest)[N], const char* src) noexcept {
    std::size_t i = 0;
    if (src)
        for (; i + 1 < N && src[i]; ++i) dest[i] = src[i];
    for (; i < N; ++i) dest[i] = '\0';
}

} // namespace forklore
