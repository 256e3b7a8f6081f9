// The fork pass: what a child made by fork() was born holding.
//
// fork() copies the parent's whole memory at one instant, every lock in the state it had then,
// but only the thread that called fork. The instant itself is not recorded: it lies before the
// parent's child_start (recorded once fork returns) and before the child's first event, so a hold
// still open at the earlier of the two, in recording order, was copied (the rule the Locks tab
// uses too). An atfork handler takes a lock just before fork and releases it just after, in both
// processes: the parent's release is then recorded before its child_start, but the child's
// release of a lock it never took proves its copy was held; that release is matched to the
// parent's latest hold of the same address. spawn and fork_exec start a fresh program: nothing is
// copied. File locks are the kernel's, not memory: they are not copies (an inherited flock is the
// same lock, shared) and are left out here.
#include "sim/timeline/timeline_passes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace forklore {

namespace {

std::string thread_text(pid_t tid, std::string_view name) {
    return name.empty() ? fmt::format("tid {}", tid) : fmt::format("'{}' (tid {})", name, tid);
}

// Per process, the indices of the events that can end a copy or prove one: lock acquisitions and
// releases, and exec (which replaces the memory the copies live in).
struct ProcessLockEvents {
    std::size_t first_event = kNoTimelineEvent;
    std::vector<std::size_t> lock_events;
};

std::unordered_map<pid_t, ProcessLockEvents> index_processes(const RunRecord& record) {
    std::unordered_map<pid_t, ProcessLockEvents> by_pid;
    for (std::size_t i = 0; i < record.events.size(); ++i) {
        const Event& e = record.events[i];
        ProcessLockEvents& process = by_pid[e.pid];
        if (process.first_event == kNoTimelineEvent)
            process.first_event = i;
        if (e.kind == EventKind::lock_acquired || e.kind == EventKind::lock_released ||
            e.kind == EventKind::exec)
            process.lock_events.push_back(i);
    }
    return by_pid;
}

// A hold of `lane`'s thread at the fork, as the child's copy of it.
CopiedLock copied(const Event& acquired, const TimelineLane& lane, pid_t forking_tid,
                  std::size_t acquired_event) {
    CopiedLock lock;
    lock.name = field_text(acquired.name);
    lock.address = acquired.object;
    lock.holder_tid = lane.tid;
    lock.holder_name = lane.name;
    lock.held_by_forker = lane.tid == forking_tid;
    // The forking thread goes on in the child with a new thread id: a plain mutex it held can
    // still be unlocked there, a recursive one (which checks its owner) cannot.
    lock.orphaned =
        !lock.held_by_forker || static_cast<LockKind>(acquired.arg0) == LockKind::recursive_mutex;
    lock.acquired_event = acquired_event;
    return lock;
}

// The locks the threads of `parent` held at event `at`: holds begun before it and not ended
// before it, and copies the parent was itself born with and still held.
std::vector<CopiedLock> held_at(const TimelineModel& model, const RunRecord& record,
                                const TimelineGroup& parent, std::size_t at, pid_t forking_tid) {
    std::vector<CopiedLock> held;
    const std::int64_t t = record.events[at].time_ns - record.start_time_ns;
    std::set<std::size_t> seen; // a hold cut into green and yellow segments is one hold
    for (std::size_t l = parent.first_lane; l < parent.first_lane + parent.lane_count; ++l) {
        const TimelineLane& lane = model.lanes[l];
        for (const TimelineRow& row : lane.hold_rows)
            for (std::size_t i = row.first_ending_at_or_after(t);
                 i < row.bars.size() && row.bars[i].start_ns <= t; ++i) {
                const TimelineBar& bar = row.bars[i];
                if (bar.what != BarSubject::lock || bar.begin_event >= at ||
                    bar.begin_event >= record.events.size() ||
                    (!bar.open() && bar.end_event < at) || !seen.insert(bar.begin_event).second)
                    continue;
                const Event& acquired = record.events[bar.begin_event];
                held.push_back(copied(acquired, lane, forking_tid, bar.begin_event));
            }
        for (const CopyBand& copy : lane.copies)
            if (copy.fork_event < at &&
                (copy.end_event == kNoTimelineEvent || copy.end_event > at)) {
                CopiedLock again = copy.lock;
                again.orphaned = copy.lock.orphaned || lane.tid != forking_tid;
                again.held_by_forker = !copy.lock.orphaned && lane.tid == forking_tid;
                held.push_back(std::move(again));
            }
    }
    return held;
}

// The parent's latest hold of the lock at `address` begun before event `at` (for a copy only
// the child's release reveals), as a copied lock; nothing when the parent never held it.
std::optional<CopiedLock> latest_hold(const TimelineModel& model, const RunRecord& record,
                                      const TimelineGroup& parent, std::uint64_t address,
                                      std::size_t at, pid_t forking_tid) {
    std::optional<CopiedLock> latest;
    for (std::size_t l = parent.first_lane; l < parent.first_lane + parent.lane_count; ++l) {
        const TimelineLane& lane = model.lanes[l];
        for (const TimelineRow& row : lane.hold_rows)
            for (const TimelineBar& bar : row.bars) {
                if (bar.what != BarSubject::lock || bar.begin_event >= at ||
                    bar.begin_event >= record.events.size())
                    continue;
                const Event& acquired = record.events[bar.begin_event];
                if (acquired.object != address ||
                    (latest && latest->acquired_event >= bar.begin_event))
                    continue;
                latest = copied(acquired, lane, forking_tid, bar.begin_event);
            }
    }
    return latest;
}

} // namespace

std::string copied_lock_label(const CopiedLock& lock) {
    const std::string name = lock.name.empty() ? fmt::format("{:#x}", lock.address) : lock.name;
    return fmt::format("{} (held by {})", name,
                       lock.holder_name.empty() ? fmt::format("tid {}", lock.holder_tid)
                                                : lock.holder_name);
}

std::string copies_label(const TimelineArrow& arrow) {
    std::string text;
    for (const CopiedLock& lock : arrow.copies)
        text += (text.empty() ? "copies " : ", ") + copied_lock_label(lock);
    return text;
}

std::string copy_band_label(const CopyBand& band) {
    const CopiedLock& lock = band.lock;
    const std::string name = lock.name.empty() ? fmt::format("{:#x}", lock.address) : lock.name;
    const std::string holder =
        lock.holder_name.empty() ? fmt::format("tid {}", lock.holder_tid) : lock.holder_name;
    if (lock.orphaned && lock.held_by_forker)
        return fmt::format("{} (copy; its owner, tid {}, is not in this process)", name,
                           lock.holder_tid);
    if (lock.orphaned)
        return fmt::format("{} (copy; its holder '{}' is not in this process)", name, holder);
    return fmt::format("{} (copy; held by this thread, which called fork)", name);
}

std::string describe_copy(const TimelineModel& model, const RunRecord& record,
                          const CopyBand& band) {
    const CopiedLock& lock = band.lock;
    std::string text =
        fmt::format("copy of lock {} at {:#x}, locked\n",
                    lock.name.empty() ? "(unnamed)" : "'" + lock.name + "'", lock.address);
    if (band.fork_event < record.events.size()) {
        const Event& fork = record.events[band.fork_event];
        text += fmt::format("fork() by thread {} of process {} (recorded at {}) copied the "
                            "parent's memory while thread {} held the lock",
                            thread_text(fork.tid, field_text(fork.thread)), fork.pid,
                            ms(fork.time_ns - record.start_time_ns),
                            thread_text(lock.holder_tid, lock.holder_name));
        if (lock.acquired_event < record.events.size())
            text += fmt::format(" (since {})", ms(record.events[lock.acquired_event].time_ns -
                                                  record.start_time_ns));
        text += ".\n";
    }
    if (lock.orphaned && lock.held_by_forker)
        text += fmt::format("The thread that called fork goes on here as this thread, but with a "
                            "new thread id; the copy is a lock that checks its owner and still "
                            "names tid {}, which does not exist in this process: nobody here can "
                            "unlock it.\n",
                            lock.holder_tid);
    else if (lock.orphaned)
        text += fmt::format("fork copies only the thread that calls it: {} does not exist in "
                            "this process, so nobody here can unlock the copy.\n",
                            thread_text(lock.holder_tid, lock.holder_name));
    else
        text += "The thread that called fork goes on here as this thread: it holds the copy, and "
                "can release it.\n";
    if (band.end_event < record.events.size()) {
        const Event& end = record.events[band.end_event];
        text += end.kind == EventKind::exec
                    ? fmt::format("exec replaced this process's memory at {}, the copy with it",
                                  ms(band.end_ns))
                    : fmt::format("released in this process by thread {} at {}",
                                  thread_text(end.tid, field_text(end.thread)), ms(band.end_ns));
    } else {
        text += fmt::format("still locked when {} ({})",
                            band.end_ns >= model.end_ns ? "the run ended" : "this process ended",
                            ms(band.end_ns));
    }
    return text;
}

void add_fork_copies(TimelineModel& model, const RunRecord& record) {
    const auto processes = index_processes(record);
    // Start arrows are in recording order: a parent's own copies are known before its children's.
    for (TimelineArrow& arrow : model.arrows) {
        if (arrow.kind != ArrowKind::start || arrow.event >= record.events.size())
            continue;
        const Event& start = record.events[arrow.event];
        const auto method = recorded_start_method(start);
        if (!method || !copies_memory(*method))
            continue;
        const auto parent = model.group_index(start.pid);
        const auto child = model.group_index(static_cast<pid_t>(start.object));
        if (!parent || !child)
            continue;
        const auto child_events = processes.find(static_cast<pid_t>(start.object));
        // The fork happened before the parent's child_start and before the child's first event.
        std::size_t fork_point = arrow.event;
        if (child_events != processes.end())
            fork_point = std::min(fork_point, child_events->second.first_event);
        std::vector<CopiedLock> copies =
            held_at(model, record, model.groups[*parent], fork_point, start.tid);
        std::unordered_set<std::uint64_t> copied;
        for (const CopiedLock& lock : copies)
            copied.insert(lock.address);

        // The child's releases of locks it never took: their copies were held (atfork handlers).
        if (child_events != processes.end()) {
            std::unordered_set<std::uint64_t> taken;
            for (std::size_t i : child_events->second.lock_events) {
                const Event& e = record.events[i];
                if (e.kind == EventKind::exec)
                    break;
                if (e.kind == EventKind::lock_acquired)
                    taken.insert(e.object);
                else if (!taken.count(e.object) && !copied.count(e.object))
                    if (auto lock = latest_hold(model, record, model.groups[*parent], e.object,
                                                fork_point, start.tid)) {
                        copied.insert(e.object);
                        copies.push_back(std::move(*lock));
                    }
            }
        }

        // Each copy, on the child's first lane, until the child releases it, execs or ends.
        const TimelineGroup& child_group = model.groups[*child];
        TimelineLane& child_lane = model.lanes[child_group.first_lane];
        for (const CopiedLock& lock : copies) {
            CopyBand band;
            band.lock = lock;
            band.start_ns = child_lane.start_ns;
            band.end_ns = child_group.end_ns;
            band.fork_event = arrow.event;
            if (child_events != processes.end())
                for (std::size_t i : child_events->second.lock_events) {
                    const Event& e = record.events[i];
                    if (e.kind == EventKind::exec ||
                        (e.kind == EventKind::lock_released && e.object == lock.address)) {
                        band.end_event = i;
                        band.end_ns = e.time_ns - record.start_time_ns;
                        break;
                    }
                }
            band.end_ns = std::max(band.start_ns, band.end_ns);
            child_lane.copies.push_back(std::move(band));
        }
        arrow.copies = std::move(copies);
    }
}

} // namespace forklore
