// What a thread blocked on a futex with no owner waits for. The kernel shows only a futex word;
// the trace says which object the word belongs to (a semaphore, a condition variable, a barrier,
// a thread being joined), and each kind allows a different honest sentence about who would have
// woken it. Nothing here guesses an owner: a semaphore has none, and the sentence says so.
//
// Index of this file:
// [SECTION] Pieces every sentence shares
// [SECTION] Semaphores
// [SECTION] Condition variables
// [SECTION] Joins
// [SECTION] What a native stack shows
// [SECTION] The description of an unowned wait
#include "sim/verdict/wait_objects.hpp"

#include "sim/verdict/explain.hpp"
#include "sim/verdict/known_locks.hpp"

#include "sim/protocol/start_method.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string_view>

namespace forklore {
namespace {

// ---------------------------------------------------------------------------------------------
// [SECTION] Pieces every sentence shares
// ---------------------------------------------------------------------------------------------

// "'slots' (0x5610...)" or "at 0x5610..."
std::string named_object(const Event& wait) {
    std::string_view name = field_text(wait.name);
    if (name.empty())
        return fmt::format("at {:#x}", wait.object);
    return fmt::format("'{}' ({:#x})", name, wait.object);
}

// ", which exists only in process 2", " of this process", ", which no longer exists"
std::string whereabouts(pid_t tid, pid_t waiter_pid, const LiveProcessOf& live_process_of) {
    pid_t home = live_process_of(tid);
    if (home == 0)
        return ", which no longer exists";
    if (home == waiter_pid)
        return fmt::format(" of process {}", home);
    return fmt::format(", which exists only in process {}", home);
}

// True when `event` happened in the memory process `pid` has: in it, or in the process it was
// forked from before the fork (and so on up).
bool in_history_of(const std::vector<Event>& events, const Event& event, pid_t pid) {
    for (int depth = 0; depth < 64; ++depth) {
        if (event.pid == pid)
            return true;
        const Event* made = child_start_of(events, pid);
        if (!made || !copies_memory(static_cast<StartMethod>(made->arg0)) ||
            event.time_ns > made->time_ns)
            return false;
        pid = made->pid;
    }
    return false;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Semaphores
// ---------------------------------------------------------------------------------------------

// The thread that took the semaphore last and has not posted it since, in the history of the
// waiter's own memory (a post in the parent after the fork does not reach the child's copy).
const Event* last_unreleased_take(const std::vector<Event>& events, std::uint64_t object,
                                  pid_t waiter_pid) {
    const Event* take = nullptr;
    for (const auto& event : events) {
        if (event.object != object || !in_history_of(events, event, waiter_pid))
            continue;
        if (event.kind == EventKind::lock_acquired)
            take = &event;
        if (event.kind == EventKind::lock_released)
            take = nullptr;
    }
    return take;
}

std::string semaphore_wait(const WaitEdge& edge, const Event& wait,
                           const std::vector<Event>& events, const LiveProcessOf& live_process_of) {
    std::string text = fmt::format(
        "{} waits on semaphore {}, which has no owner: a semaphore is only a count, at 0, and "
        "nothing records who should post it",
        waiter_phrase(edge), named_object(wait));
    if (const Event* take = last_unreleased_take(events, wait.object, edge.waiter_pid))
        text += fmt::format(
            "; the trace shows it was last taken by {}{}, with no post since in this copy",
            thread_phrase(field_text(take->thread), take->tid),
            whereabouts(take->tid, edge.waiter_pid, live_process_of));
    return text;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Condition variables
// ---------------------------------------------------------------------------------------------

// The threads still inside a wait on condition variable `object`, by the trace (any process).
std::vector<const Event*> condition_waiters(const std::vector<Event>& events, std::uint64_t object,
                                            pid_t except_tid) {
    std::vector<const Event*> latest_by_thread;
    std::set<pid_t> seen;
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
        const Event& event = *it;
        bool about_it = event.object == object &&
                        (event.kind == EventKind::cond_wait || event.kind == EventKind::cond_woken);
        if (!about_it || event.arg0 != static_cast<std::int64_t>(CondWaitKind::wait))
            continue;
        if (event.tid == except_tid || !seen.insert(event.tid).second)
            continue;
        if (event.kind == EventKind::cond_wait)
            latest_by_thread.push_back(&event);
    }
    return latest_by_thread;
}

// "thread 'writer' (tid 3), which exists only in process 2" for each waiter the waiter's copy of
// the condition variable still counts but that lives in another process (or nowhere).
std::vector<std::string> absent_waiters(const std::vector<Event>& events, std::uint64_t object,
                                        pid_t waiter_pid, pid_t waiter_tid,
                                        const LiveProcessOf& live_process_of) {
    std::vector<std::string> absent;
    for (const Event* waiter : condition_waiters(events, object, waiter_tid)) {
        if (!in_history_of(events, *waiter, waiter_pid))
            continue;
        if (live_process_of(waiter->tid) == waiter_pid)
            continue;
        absent.push_back(fmt::format("{}{}", thread_phrase(field_text(waiter->thread), waiter->tid),
                                     whereabouts(waiter->tid, waiter_pid, live_process_of)));
    }
    return absent;
}

std::string condition_wait(const WaitEdge& edge, const Event& wait,
                           const std::vector<Event>& events, const LiveProcessOf& live_process_of) {
    std::string text = fmt::format(
        "{} waits on condition variable {} to be signalled; a condition variable has no owner, "
        "and every thread that could signal it is blocked",
        waiter_phrase(edge), named_object(wait));
    // Who signalled it before, by the trace: the thread the waiter is likely counting on.
    auto signalled = std::find_if(events.rbegin(), events.rend(), [&](const Event& e) {
        return e.kind == EventKind::cond_signal && e.object == wait.object &&
               e.tid != edge.waiter_tid;
    });
    if (signalled != events.rend())
        text += fmt::format("; the trace shows it was last signalled by {}{}",
                            thread_phrase(field_text(signalled->thread), signalled->tid),
                            whereabouts(signalled->tid, edge.waiter_pid, live_process_of));
    std::vector<std::string> absent =
        absent_waiters(events, wait.object, edge.waiter_pid, edge.waiter_tid, live_process_of);
    if (!absent.empty())
        text += fmt::format("; its copy also counts {} as waiting (fork copied the count of "
                            "waiters, not the threads)",
                            fmt::join(absent, ", "));
    return text;
}

// A thread blocked on a word inside a condition variable without waiting on it: glibc's
// pthread_cond_signal and pthread_cond_broadcast wait there for the waiters of an older group to
// leave it, which waiters copied by fork never do.
std::optional<std::string> inside_condition(const WaitEdge& edge, const std::vector<Event>& events,
                                            const LiveProcessOf& live_process_of) {
    constexpr std::uint64_t kConditionSize = 48; // sizeof(pthread_cond_t)
    auto found = std::find_if(events.rbegin(), events.rend(), [&](const Event& e) {
        return e.kind == EventKind::cond_wait && edge.address >= e.object &&
               edge.address < e.object + kConditionSize;
    });
    if (found == events.rend())
        return std::nullopt;
    std::string text = fmt::format(
        "{} waits on a word {} bytes inside condition variable {}, not as one of its waiters: "
        "glibc makes pthread_cond_signal and pthread_cond_broadcast wait there until the "
        "waiters of an older group have left it",
        waiter_phrase(edge), edge.address - found->object, named_object(*found));
    std::vector<std::string> absent =
        absent_waiters(events, found->object, edge.waiter_pid, edge.waiter_tid, live_process_of);
    if (!absent.empty())
        text += fmt::format("; its copy still counts {}, which will never leave",
                            fmt::join(absent, ", "));
    return text;
}

std::string condition_destroy(const WaitEdge& edge, const Event& wait,
                              const std::vector<Event>& events,
                              const LiveProcessOf& live_process_of) {
    std::string text = fmt::format(
        "{} destroys condition variable {}, and pthread_cond_destroy waits until every thread "
        "that was waiting on it has woken and left",
        waiter_phrase(edge), named_object(wait));
    std::vector<std::string> ghosts;
    bool elsewhere = false;
    for (const Event* waiter : condition_waiters(events, wait.object, edge.waiter_tid)) {
        pid_t home = live_process_of(waiter->tid);
        elsewhere = elsewhere || home != edge.waiter_pid;
        ghosts.push_back(fmt::format("{}{}", thread_phrase(field_text(waiter->thread), waiter->tid),
                                     whereabouts(waiter->tid, edge.waiter_pid, live_process_of)));
    }
    if (ghosts.empty())
        return text;
    text += fmt::format("; the count inside it still includes {}", fmt::join(ghosts, ", "));
    if (elsewhere)
        text += ": fork() copied the count of waiters but not the waiters, so it never drops to 0";
    return text;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Joins
// ---------------------------------------------------------------------------------------------

std::string join_wait(const WaitEdge& edge, const Event& wait,
                      const LiveProcessOf& live_process_of) {
    auto target = static_cast<pid_t>(wait.object);
    std::string thread = thread_phrase(field_text(wait.name), target);
    if (target == 0)
        return fmt::format("{} joins {}, which never started in this process", waiter_phrase(edge),
                           thread);
    pid_t home = live_process_of(target);
    if (home != 0 && home != edge.waiter_pid)
        return fmt::format("{} joins {}, which exists only in process {}: fork() copied the "
                           "thread's handle but not the thread, so the join can never return",
                           waiter_phrase(edge), thread, home);
    return fmt::format("{} joins {}{}", waiter_phrase(edge), thread,
                       whereabouts(target, edge.waiter_pid, live_process_of));
}

// ---------------------------------------------------------------------------------------------
// [SECTION] What a native stack shows
// ---------------------------------------------------------------------------------------------

bool is_c_library(const std::string& module) {
    return module.starts_with("libc.so") || module.starts_with("libpthread.so") ||
           module.starts_with("ld-linux");
}

// The glibc functions a thread blocks in, innermost name first, and what each waits on.
struct BlockingFunction {
    std::string_view prefix;
    std::string_view object_kind;
    std::string_view shown; // the public name to show
};
constexpr BlockingFunction kBlockingFunctions[] = {
    {"__new_sem_wait", "semaphore", "sem_wait"},
    {"__sem_wait", "semaphore", "sem_wait"},
    {"sem_wait", "semaphore", "sem_wait"},
    {"sem_clockwait", "semaphore", "sem_clockwait"},
    {"sem_timedwait", "semaphore", "sem_timedwait"},
    {"__pthread_cond_wait", "condition variable", "pthread_cond_wait"},
    {"___pthread_cond_wait", "condition variable", "pthread_cond_wait"},
    {"__pthread_cond_clockwait", "condition variable", "pthread_cond_clockwait"},
    {"__pthread_mutex_lock", "mutex", "pthread_mutex_lock"},
    {"___pthread_mutex_lock", "mutex", "pthread_mutex_lock"},
    {"__pthread_mutex_cond_lock", "mutex", "pthread_mutex_lock"},
    {"__pthread_rwlock_rdlock", "rwlock_read", "pthread_rwlock_rdlock"},
    {"__pthread_rwlock_wrlock", "rwlock_write", "pthread_rwlock_wrlock"},
    {"pthread_barrier_wait", "barrier", "pthread_barrier_wait"},
    {"__pthread_clockjoin_ex", "thread", "pthread_join"},
    // glibc's own locks (stdio, malloc, time zone, environment, NSS...): a bare word, no owner.
    {"__lll_lock_wait_private", "glibc lock", "__lll_lock_wait_private"},
    {"__pthread_join", "thread", "pthread_join"},
};

// "a Python lock (...)" when the caller is CPython's lock primitive, which every
// threading.Lock, and the locks inside Condition, Event, Semaphore and Queue, are made of.
bool is_python_lock(const StackWait& wait) {
    return wait.caller.starts_with("PyThread_acquire_lock");
}

std::string base_name(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The innermost frame of the program itself: not frozen (importlib's "<frozen ...>") and not in
// the interpreter's standard library (/usr/lib/python3.11/...); null when every frame is either.
const PythonFrame* first_program_frame(const PythonStack& python) {
    for (const auto& frame : python.frames)
        if (!frame.file.starts_with("<") && frame.file.find("/lib/python3") == std::string::npos)
            return &frame;
    return nullptr;
}

// A Python lock named by the interpreter (python_frames.hpp): the Python line that waits, the
// object whose lock it is when it is a known one, and the thread that object says is inside.
// CPython up to 3.13.0 makes every lock a semaphore underneath (PyMutex after), which keeps no
// owner: the holder is known only where an object records it, as io's buffered streams, an RLock
// and importlib's module locks do.
std::string python_lock_wait(const WaitEdge& edge, const StackWait& wait) {
    const PythonStack& python = *wait.python;
    std::string line;
    if (!python.frames.empty()) {
        const PythonFrame& innermost = python.frames.front();
        line = fmt::format(" at {}:{} in {}()", base_name(innermost.file), innermost.line,
                           innermost.function);
        // Inside the standard library: the program's own line that led there matters more.
        if (const PythonFrame* own = first_program_frame(python); own && own != &innermost)
            line += fmt::format(", under {}:{} in {}()", base_name(own->file), own->line,
                                own->function);
    }
    std::string named =
        python.frames.empty() ? "" : python_lock_named_by_frame(python.frames.front());
    const std::string made_by = python_fork_origin(python);
    const std::string copy_of =
        made_by.empty() ? "" : fmt::format(". Process {} is {}", edge.waiter_pid, made_by);
    const std::string origin =
        made_by.empty() ? ""
                        : copy_of + ": fork copies every lock as it was at that instant but only "
                                    "the thread that calls it, so a lock another thread held "
                                    "then stays held in the copy";
    if (python.waits_on.empty() && !named.empty())
        return fmt::format("{} waits{} on {} at {:#x} ({}, a semaphore underneath in CPython up "
                           "to 3.13.0), owner unknown: such a lock records no owner, so nothing "
                           "says which thread should release it{}",
                           waiter_phrase(edge), line, named, edge.address, wait.caller, origin);
    if (python.waits_on.empty())
        return fmt::format(
            "{} waits{} on a Python lock at {:#x} ({}, a semaphore underneath in CPython up to "
            "3.13.0: a threading.Lock or RLock, or the lock inside a Condition, Event, Semaphore "
            "or Queue; the frame does not say which), owner unknown: such a lock records no "
            "owner, so nothing says which thread should release it{}",
            waiter_phrase(edge), line, edge.address, wait.caller, origin);
    std::string text = fmt::format("{} waits{} for {} at {:#x} ({})", waiter_phrase(edge), line,
                                   python.waits_on, edge.address, wait.caller);
    if (python.lock_holder.empty() && python.waits_on.starts_with("the threading.Lock "))
        return text +
               ", owner unknown: a threading.Lock records no owner, so nothing says which "
               "thread should release it" +
               origin;
    if (python.lock_holder.empty())
        return text + ", and that object names no thread inside it" + origin;
    if (python.lock_holder_here)
        return text +
               fmt::format(", which thread '{}' of the same process holds", python.lock_holder);
    return text + copy_of +
           fmt::format(". That lock records thread '{0}' as the one holding it, and process {1} "
                       "has no thread '{0}': fork copies only the thread that calls it, so this "
                       "process got the lock held by '{0}' but not '{0}' itself, and nothing in it "
                       "can ever release the lock",
                       python.lock_holder, edge.waiter_pid);
}

// One of glibc's internal locks (__libc_lock_lock, lll_lock): a lock word of 0, 1 or 2 with no
// owner field, unlike a pthread_mutex_t. The glibc function that took it names it.
std::string glibc_lock_wait(const WaitEdge& edge, const StackWait& wait) {
    std::string called_from =
        wait.caller.empty() ? "" : fmt::format(", called from {}", wait.caller);
    std::string taken_in = wait.glibc_locker.empty() ? "" : " in " + wait.glibc_locker;
    if (wait.glibc_lock.empty())
        return fmt::format("{} waits for one of glibc's internal locks at {:#x} ({}{}{}), owner "
                           "unknown: such a lock is a bare word that records no owner",
                           waiter_phrase(edge), edge.address, wait.function, taken_in, called_from);
    return fmt::format("{} waits for {} at {:#x}, one of glibc's internal locks ({} in {}{}), "
                       "owner unknown: such a lock is a bare word that records no owner, so "
                       "nothing says which thread took it",
                       waiter_phrase(edge), wait.glibc_lock, edge.address, wait.function,
                       wait.glibc_locker, called_from);
}

std::string unowned_from_stack(const WaitEdge& edge, const StackWait& wait) {
    if (is_python_lock(wait) && wait.python)
        return python_lock_wait(edge, wait);
    if (is_python_lock(wait))
        return fmt::format(
            "{} waits on a Python lock at {:#x} ({}, a semaphore underneath: a threading.Lock or "
            "RLock, or the lock inside a Condition, Event, Semaphore or Queue), owner unknown: "
            "such a lock records no owner, so nothing says which thread should release it",
            waiter_phrase(edge), edge.address, wait.caller);
    std::string where = wait.caller.empty()
                            ? fmt::format("in {}", wait.function)
                            : fmt::format("in {}, called from {}", wait.function, wait.caller);
    if (wait.object_kind == "glibc lock")
        return glibc_lock_wait(edge, wait);
    if (wait.object_kind == "semaphore")
        return fmt::format("{} waits on a semaphore at {:#x} ({}), owner unknown: a semaphore is "
                           "only a count, and nothing records who should post it",
                           waiter_phrase(edge), edge.address, where);
    if (wait.object_kind == "mutex")
        return fmt::format("{} waits for a mutex at {:#x} ({}), owner unknown: its lock word "
                           "names no owner that can be read",
                           waiter_phrase(edge), edge.address, where);
    if (wait.object_kind == "condition variable")
        return fmt::format("{} waits on a condition variable at {:#x} ({}), owner unknown: a "
                           "condition variable has no owner, and nothing records who should "
                           "signal it",
                           waiter_phrase(edge), edge.address, where);
    if (wait.object_kind == "barrier")
        return fmt::format("{} waits at a barrier at {:#x} ({}) for threads that never arrive; a "
                           "barrier has no owner",
                           waiter_phrase(edge), edge.address, where);
    if (wait.object_kind == "thread")
        return fmt::format("{} joins a thread ({}) that never exits", waiter_phrase(edge), where);
    // A rwlock: readers are counted, not named; a writer would have been read from the lock.
    return fmt::format("{} waits for a rwlock at {:#x} ({}), owner unknown: readers are counted, "
                       "not named",
                       waiter_phrase(edge), edge.address, where);
}

} // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] The description of an unowned wait
// ---------------------------------------------------------------------------------------------

StackWait wait_from_stack(const ThreadStack* stack) {
    StackWait wait;
    if (!stack)
        return wait;
    if (stack->python && !stack->python->without_thread)
        wait.python = &*stack->python;
    std::size_t i = 0;
    for (; i < stack->frames.size() && wait.object_kind.empty(); ++i) {
        const std::string& function = stack->frames[i].function;
        for (const auto& known : kBlockingFunctions)
            if (function.starts_with(known.prefix)) {
                wait.object_kind = known.object_kind;
                wait.function = known.shown;
                break;
            }
    }
    if (wait.object_kind.empty()) {
        // Not the C library's: whose code waits (an OpenMP runtime, a BLAS), and who called it.
        if (stack->frames.empty() || is_c_library(stack->frames.front().module))
            return wait;
        const StackFrame& innermost = stack->frames.front();
        wait.waiting_module = innermost.function.empty()
                                  ? fmt::format("{} (no symbol there)", innermost.module)
                                  : fmt::format("{} in {}", innermost.function, innermost.module);
        for (const auto& frame : stack->frames)
            if (!frame.function.empty() && frame.module != innermost.module &&
                !is_c_library(frame.module)) {
                wait.caller = frame.function;
                break;
            }
        return wait;
    }
    for (; i < stack->frames.size(); ++i) {
        const StackFrame& frame = stack->frames[i];
        // The first named glibc function above the wait took the lock; a later one may be the
        // one whose lock it is known to be (popen calls _IO_proc_open, which takes it).
        if (is_c_library(frame.module) && wait.glibc_lock.empty() && !frame.function.empty()) {
            wait.glibc_lock = glibc_lock_taken_by(frame.function);
            if (!wait.glibc_lock.empty() || wait.glibc_locker.empty())
                wait.glibc_locker = frame.function;
        }
        if (!frame.function.empty() && !is_c_library(frame.module)) {
            wait.caller = frame.function;
            break;
        }
    }
    return wait;
}

void describe_unowned_wait(WaitEdge& edge, const Event* pending, const std::vector<Event>& events,
                           const LiveProcessOf& live_process_of, const StackWait& from_stack) {
    if (!pending) {
        if (auto inside = inside_condition(edge, events, live_process_of)) {
            edge.object_kind = "condition variable";
            edge.description = *inside;
            return;
        }
        if (!from_stack.object_kind.empty()) {
            edge.object_kind = from_stack.object_kind; // a Python lock is a semaphore underneath
            edge.description = unowned_from_stack(edge, from_stack);
            return;
        }
        if (!from_stack.waiting_module.empty()) {
            edge.description = fmt::format(
                "{} waits on the futex at {:#x} in {}{}, owner unknown: the object is that "
                "library's own, and its futex word names no owner",
                waiter_phrase(edge), edge.address, from_stack.waiting_module,
                from_stack.caller.empty() ? ""
                                          : fmt::format(", called from {}", from_stack.caller));
            return;
        }
        edge.description = fmt::format(
            "{} waits on the futex at {:#x}, owner unknown (a semaphore, condition variable, "
            "barrier or join has no owner)",
            waiter_phrase(edge), edge.address);
        return;
    }
    switch (pending->kind) {
    case EventKind::lock_wait: {
        auto kind = static_cast<LockKind>(pending->arg0);
        edge.object_kind = std::string(to_string(kind));
        if (kind == LockKind::semaphore) {
            edge.description = semaphore_wait(edge, *pending, events, live_process_of);
        } else if (kind == LockKind::rwlock_write || kind == LockKind::rwlock_read) {
            edge.description = fmt::format(
                "{} waits for rwlock {}, held for reading: readers are counted, not named, so "
                "its holders are unknown",
                waiter_phrase(edge), named_object(*pending));
        } else {
            edge.description = fmt::format("{} waits for {} {}, owner unknown", waiter_phrase(edge),
                                           to_string(kind), named_object(*pending));
        }
        return;
    }
    case EventKind::cond_wait:
        edge.object_kind = "condition variable";
        if (pending->arg0 == static_cast<std::int64_t>(CondWaitKind::destroy)) {
            edge.description = condition_destroy(edge, *pending, events, live_process_of);
        } else {
            edge.description = condition_wait(edge, *pending, events, live_process_of);
        }
        return;
    case EventKind::barrier_wait:
        edge.object_kind = "barrier";
        edge.description = fmt::format(
            "{} waits at barrier {} for the other threads to arrive; a barrier has no owner",
            waiter_phrase(edge), named_object(*pending));
        return;
    case EventKind::join_wait:
        edge.object_kind = "thread";
        edge.description = join_wait(edge, *pending, live_process_of);
        return;
    default:
        edge.description = fmt::format("{} waits on the futex at {:#x}, owner unknown",
                                       waiter_phrase(edge), edge.address);
        return;
    }
}

} // namespace forklore
