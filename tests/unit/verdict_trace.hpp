// A builder of synthetic traces for the verdict engine's tests (test_verdict*.cpp): events in
// recording order, one call each, starting at kTraceStart; and raw wait statuses.
#pragma once

#include "sim/protocol/events.hpp"
#include "sim/protocol/start_method.hpp"
#include "tests/unit/event_builder.hpp"
#include "tests/unit/snapshot_builders.hpp"

#include <sys/types.h>

#include <cstdint>
#include <vector>

namespace forklore::test {

inline constexpr std::int64_t kTraceStart = 5'000 * kMs;

struct Trace {
    std::vector<Event> events;

    // An event at `at_ms_tenths` tenths of a millisecond after kTraceStart; by default one
    // nanosecond after the previous one.
    Trace& add(EventKind kind, pid_t pid, pid_t tid, const char* thread, std::uint64_t object = 0,
               std::int64_t arg0 = 0, std::int64_t arg1 = 0, const char* name = "",
               std::int64_t at_ms_tenths = -1) {
        std::int64_t time_ns = at_ms_tenths >= 0
                                   ? kTraceStart + at_ms_tenths * kMs / 10
                                   : kTraceStart + static_cast<std::int64_t>(events.size());
        events.push_back(recorded_event(events.size(), time_ns, kind, pid, tid, thread, object,
                                        arg0, arg1, name));
        return *this;
    }
    Trace& process_start(pid_t pid, const char* role) {
        return add(EventKind::process_start, pid, pid, "main", 0, 0, 0, role);
    }
    Trace& thread_start(pid_t pid, pid_t tid, const char* name) {
        return add(EventKind::thread_start, pid, tid, name, 0, pid, 0, name);
    }
    Trace& lock_acquired(pid_t pid, pid_t tid, const char* thread, std::uint64_t address,
                         const char* lock) {
        return add(EventKind::lock_acquired, pid, tid, thread, address, 0, 0, lock);
    }
    Trace& child_start(pid_t parent, pid_t child, StartMethod method, const char* function,
                       std::int64_t at_ms_tenths = -1) {
        return add(EventKind::child_start, parent, parent, "main",
                   static_cast<std::uint64_t>(child), static_cast<std::int64_t>(method), 0,
                   function, at_ms_tenths);
    }
    Trace& process_exit(pid_t reporter, pid_t pid, int status) {
        return add(EventKind::process_exit, reporter, reporter, "main",
                   static_cast<std::uint64_t>(pid), status);
    }
    Trace& signal_sent(pid_t sender, pid_t target, int signal) {
        return add(EventKind::signal_sent, sender, sender, "main",
                   static_cast<std::uint64_t>(target), signal);
    }
};

// Raw wait statuses, as a process_exit event or the host's wait records them.
inline int exited(int code) {
    return code << 8;
}
inline int killed_by(int signal) {
    return signal;
}

} // namespace forklore::test
