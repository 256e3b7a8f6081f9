// What the channel's tests share: events made to order, whole reads, the well-formedness check
// every concurrent test ends with, and scoped installs of the probe channel and of a signal
// handler.
#pragma once

#include "sim/probe/probe.hpp"
#include "sim/protocol/channel.hpp"
#include "sim/protocol/events.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstring>
#include <vector>

namespace forklore::test {

inline Event make_event(EventKind kind, std::int32_t pid, std::int32_t tid, std::int64_t arg0,
                        const char* name = nullptr, const char* text = nullptr) {
    Event event{};
    event.kind = kind;
    event.time_ns = 1000 + arg0;
    event.pid = pid;
    event.tid = tid;
    event.object = 0xabc0 + static_cast<std::uint64_t>(arg0);
    event.arg0 = arg0;
    event.arg1 = -arg0;
    copy_name(event.thread, "worker");
    copy_name(event.name, name);
    copy_name(event.text, text);
    return event;
}

inline std::vector<Event> read_all(const Channel& channel, bool final = true,
                                   std::uint64_t* torn = nullptr) {
    std::uint64_t cursor = 0;
    std::vector<Event> events;
    channel.read(cursor, events, final, torn);
    return events;
}

inline bool nul_terminated(const char* data, std::size_t size) {
    return std::memchr(data, '\0', size) != nullptr;
}

// Every event must be committed, carry a growing slot index, and have terminated strings.
// Checked in a plain loop (one assertion at the end): traces here have up to 200k events.
inline void require_well_formed(const std::vector<Event>& events) {
    std::size_t bad = 0, first_bad = events.size();
    for (std::size_t i = 0; i < events.size(); ++i) {
        const Event& e = events[i];
        bool ok = e.committed == 1u && (i == 0 || e.seq > events[i - 1].seq) &&
                  nul_terminated(e.thread, sizeof e.thread) &&
                  nul_terminated(e.name, sizeof e.name) && nul_terminated(e.text, sizeof e.text);
        if (!ok && bad++ == 0)
            first_bad = i;
    }
    INFO("first malformed event at index " << first_bad);
    REQUIRE(bad == 0);
}

// Installs the probe channel for one test and always removes it again.
struct InstalledChannel {
    explicit InstalledChannel(Channel* channel) { probe::install_channel(channel); }
    ~InstalledChannel() { probe::install_channel(nullptr); }
    InstalledChannel(const InstalledChannel&) = delete;
    InstalledChannel& operator=(const InstalledChannel&) = delete;
};

// Installs a signal handler for one test and restores the previous one.
struct ScopedHandler {
    ScopedHandler(int signal, void (*handler)(int)) : signal_(signal) {
        struct sigaction action {};
        action.sa_handler = handler;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        REQUIRE(sigaction(signal, &action, &old_) == 0);
    }
    ~ScopedHandler() { sigaction(signal_, &old_, nullptr); }
    ScopedHandler(const ScopedHandler&) = delete;
    ScopedHandler& operator=(const ScopedHandler&) = delete;
    int signal_;
    struct sigaction old_ {};
};

} // namespace forklore::test
