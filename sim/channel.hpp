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
    // Slots kept, beyond the capacity, for the events kept_in_reserve.
    static constexpr std::size_t kReserve = 256;

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

    // process_exit and signal_sent: the events that may use the reserve.
    static bool kept_in_reserve(EventKind kind) noexcept;

    // Async-signal-safe. Fills seq, committed; the caller fills the rest. False when dropped.
    bool record(const Event& event) noexcept;

    // Number of slots claimed so far (committed or not), capped at capacity; plus, once the
    // ordinary slots are all taken, those claimed in the reserve.
    std::uint64_t claimed() const noexcept;
    std::uint64_t dropped() const noexcept;

    // Copies committed events with seq >= cursor, in order, and advances cursor. When `final`
    // is false it stops at the first slot still being written (its writer may still finish);
    // when true (the writers are dead) it skips such torn slots and counts them in `torn`.
    std::size_t read(std::uint64_t& cursor, std::vector<Event>& out, bool final = false,
                     std::uint64_t* torn = nullptr) const;

  private:
    // Takes ownership of a checked mapping and of its fd.
    static Channel adopt(ChannelHeader* header, std::size_t mapping_size, int fd);

    ChannelHeader* header_ = nullptr;
    Event* slots_ = nullptr;
    std::size_t mapping_size_ = 0;
    int fd_ = -1;
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
