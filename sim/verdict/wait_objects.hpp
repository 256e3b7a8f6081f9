// Internal to the verdict engine: what a thread blocked on a futex with no owner waits for (a
// semaphore, a condition variable, a barrier, a join), from the trace or its native stack.
#pragma once

#include "sim/observe/stacks.hpp"
#include "sim/protocol/events.hpp"
#include "sim/verdict/verdict.hpp"

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace forklore {

// What a blocked thread's native stack says it waits in, for a program that records nothing: the
// C library function (the object kind follows from it) and the first caller outside the C
// library, which often names the real object (PyThread_acquire_lock_timed: a Python lock).
struct StackWait {
    std::string object_kind; // "semaphore", "mutex", "condition variable", ...; "" when unknown
    std::string function;    // the C library function it waits in ("sem_wait")
    std::string caller;      // the first named caller outside the C library
    // One of glibc's own locks, when the C library frames between the wait and `caller` say which
    // ("the time-zone lock tzset_lock"), and the glibc function that took it ("__tz_convert").
    std::string glibc_lock;
    std::string glibc_locker;
    // No known blocking function: the library of the innermost frame ("libgomp.so.1.0.0"), when
    // it is not the C library, and its first named caller, so a sentence can say whose code waits.
    std::string waiting_module;
    const PythonStack* python = nullptr; // what the interpreter says, for a CPython thread
};
StackWait wait_from_stack(const ThreadStack* stack);

// Where a live thread is now: the namespace pid of its process, 0 when it exists nowhere.
using LiveProcessOf = std::function<pid_t(pid_t ns_tid)>;
// Fills edge.object_kind and edge.description for a thread blocked on a futex with no readable
// owner, from the wait the trace says it is in (`pending`, may be null): a semaphore, a condition
// variable (a wait, or a destroy waiting for its waiters), a barrier, a join, or an unnamed futex.
// With no event, what the stack shows (`from_stack`) names the kind of object, honestly without
// an owner.
void describe_unowned_wait(WaitEdge& edge, const Event* pending, const std::vector<Event>& events,
                           const LiveProcessOf& live_process_of, const StackWait& from_stack = {});

} // namespace forklore
