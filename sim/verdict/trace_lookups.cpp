// What the trace says about a lock, a thread or a process: the look-ups the verdict engine's
// edges and sentences are built from. See trace_lookups.hpp.
#include "sim/verdict/trace_lookups.hpp"

#include "sim/protocol/start_method.hpp"

#include <algorithm>

namespace forklore {

namespace {

bool names_a_lock(EventKind kind) {
    return kind == EventKind::lock_wait || kind == EventKind::lock_acquired ||
           kind == EventKind::lock_released || kind == EventKind::barrier_wait ||
           kind == EventKind::barrier_passed;
}

bool is_file_lock_event(EventKind kind) {
    return kind == EventKind::file_lock_wait || kind == EventKind::file_lock_acquired ||
           kind == EventKind::file_lock_released;
}

} // namespace

std::string recorded_lock_name(const std::vector<Event>& events, std::uint64_t address) {
    const Event* event = latest_event(
        events, [&](const Event& e) { return names_a_lock(e.kind) && e.object == address; });
    return event ? std::string(field_text(event->name)) : std::string();
}

std::string recorded_file_lock_name(const std::vector<Event>& events, std::uint64_t inode) {
    const Event* event = latest_event(events, [&](const Event& e) {
        return is_file_lock_event(e.kind) && static_cast<std::uint64_t>(e.arg1) == inode;
    });
    return event ? std::string(field_text(event->name)) : std::string();
}

std::string recorded_thread_name(const std::vector<Event>& events, pid_t tid) {
    if (const Event* start = latest_event(events, [&](const Event& e) {
            return e.kind == EventKind::thread_start && e.tid == tid;
        }))
        return std::string(field_text(start->name));
    const Event* any = latest_event(events, [&](const Event& e) { return e.tid == tid; });
    return any ? std::string(field_text(any->thread)) : std::string();
}

pid_t recorded_pid_of_thread(const std::vector<Event>& events, pid_t tid) {
    const Event* any = latest_event(events, [&](const Event& e) { return e.tid == tid; });
    return any ? any->pid : 0;
}

std::optional<std::uint64_t> pending_file_lock_inode(const std::vector<Event>& events, pid_t tid) {
    const Event* latest = latest_event(
        events, [&](const Event& e) { return is_file_lock_event(e.kind) && e.tid == tid; });
    if (!latest || latest->kind != EventKind::file_lock_wait)
        return std::nullopt;
    return static_cast<std::uint64_t>(latest->arg1);
}

namespace {
bool begins_wait(EventKind kind) {
    return kind == EventKind::lock_wait || kind == EventKind::cond_wait ||
           kind == EventKind::barrier_wait || kind == EventKind::join_wait;
}
bool ends_wait(EventKind kind) {
    return kind == EventKind::lock_acquired || kind == EventKind::cond_woken ||
           kind == EventKind::barrier_passed || kind == EventKind::join_done;
}
} // namespace

const Event* pending_wait_of(const std::vector<Event>& events, pid_t tid) {
    const Event* latest = latest_event(events, [&](const Event& e) {
        return e.tid == tid && (begins_wait(e.kind) || ends_wait(e.kind));
    });
    return latest && begins_wait(latest->kind) ? latest : nullptr;
}

const Event* pending_child_wait_of(const std::vector<Event>& events, pid_t tid) {
    const Event* wait = latest_event(
        events, [&](const Event& e) { return e.kind == EventKind::child_wait && e.tid == tid; });
    if (!wait)
        return nullptr;
    bool ended = std::any_of(events.begin(), events.end(), [&](const Event& e) {
        return e.kind == EventKind::process_exit && e.object == wait->object &&
               e.time_ns >= wait->time_ns;
    });
    return ended ? nullptr : wait;
}

bool futex_belongs_to(const Event& wait, std::uint64_t futex_address) {
    // The largest object a probe waits in is a pthread_rwlock_t (56 bytes).
    constexpr std::uint64_t kLargestObject = 64;
    if (wait.kind == EventKind::join_wait)
        return true; // object is a tid, not an address
    return futex_address >= wait.object && futex_address < wait.object + kLargestObject;
}

const Event* child_start_of(const std::vector<Event>& events, pid_t pid) {
    return latest_event(events, [&](const Event& e) {
        return e.kind == EventKind::child_start && e.object == static_cast<std::uint64_t>(pid);
    });
}

std::string_view copy_call_that_made(const Event* made) {
    return copy_call_name(
        static_cast<std::int64_t>(made ? copy_call_of(made->arg0, made->arg1) : CopyCall::fork));
}

const Event* first_event_of_kind(const std::vector<Event>& events, EventKind kind) {
    auto found =
        std::find_if(events.begin(), events.end(), [&](const Event& e) { return e.kind == kind; });
    return found == events.end() ? nullptr : &*found;
}

bool death_was_intended(const std::vector<Event>& events, pid_t pid, int signal) {
    return std::any_of(events.begin(), events.end(), [&](const Event& e) {
        return e.kind == EventKind::signal_sent && e.object == static_cast<std::uint64_t>(pid) &&
               e.arg0 == signal;
    });
}

} // namespace forklore
