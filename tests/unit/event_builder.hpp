// One event as a probe records it, for the tests that build a trace by hand (the verdict's,
// the completion story's).
#pragma once

#include "sim/protocol/events.hpp"

#include <sys/types.h>

#include <cstdint>
#include <cstdio>

namespace forklore::test {

// A committed event, the `seq`th of its trace, recorded at `time_ns` by thread `tid` (named
// `thread`) of process `pid`, about `object`, with the kind's arguments and name.
inline Event recorded_event(std::uint64_t seq, std::int64_t time_ns, EventKind kind, pid_t pid,
                            pid_t tid, const char* thread, std::uint64_t object, std::int64_t arg0,
                            std::int64_t arg1, const char* name) {
    Event event{};
    event.committed = 1;
    event.kind = kind;
    event.seq = seq;
    event.time_ns = time_ns;
    event.pid = pid;
    event.tid = tid;
    event.object = object;
    event.arg0 = arg0;
    event.arg1 = arg1;
    std::snprintf(event.thread, sizeof event.thread, "%s", thread);
    std::snprintf(event.name, sizeof event.name, "%s", name);
    return event;
}

} // namespace forklore::test
