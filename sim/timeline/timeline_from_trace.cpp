// Passes two and three of the timeline's model: the trace's events, one at a time in recording
// order, become bars (what a thread waits on, the locks it holds), markers (every other event)
// and arrows (a child started, an exec, an exit reported to the process that reaped it); then
// what never ended runs to the end of its thread.
//
// Index of this file:
// [SECTION] Locks, markers, and closing a bar
// [SECTION] Pass two: the events in recording order (TraceReader)
// [SECTION] Pass three: what never ended
#include "sim/timeline/timeline_passes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

namespace forklore {

std::size_t LockIdHash::operator()(const LockId& key) const {
    return std::hash<std::uint64_t>()(key.id * 4 + static_cast<std::uint64_t>(key.what)) ^
           (static_cast<std::size_t>(key.pid) << 1);
}

namespace {

// [SECTION] Locks, markers, and closing a bar ---------------------------------------------------

LockId lock_id(const Event& e) {
    switch (e.kind) {
    case EventKind::file_lock_wait:
    case EventKind::file_lock_acquired:
    case EventKind::file_lock_released:
        return {BarSubject::file_lock, 0,
                e.arg1 != 0 ? static_cast<std::uint64_t>(e.arg1) : e.object};
    default:
        return {BarSubject::lock, e.pid, e.object};
    }
}

MarkerKind marker_kind(EventKind kind) {
    switch (kind) {
    case EventKind::process_start:
        return MarkerKind::process_start;
    case EventKind::thread_start:
        return MarkerKind::thread_start;
    case EventKind::thread_exit:
        return MarkerKind::thread_exit;
    case EventKind::child_start:
        return MarkerKind::child_start;
    case EventKind::exec:
        return MarkerKind::exec;
    case EventKind::process_exit:
        return MarkerKind::exit;
    case EventKind::signal_sent:
        return MarkerKind::signal;
    case EventKind::output:
        return MarkerKind::output;
    case EventKind::note:
        return MarkerKind::note;
    case EventKind::measurement:
        return MarkerKind::measurement;
    case EventKind::cond_signal:
        return MarkerKind::cond_signal;
    default:
        return MarkerKind::other;
    }
}

// Ends a lane's open wait at t as a red bar.
void close_wait(LaneWork& lane, std::int64_t t, std::size_t end_event) {
    const PendingWait& wait = *lane.wait;
    LogicalBar bar;
    bar.bar.start_ns = wait.start_ns;
    bar.bar.end_ns = std::max(wait.start_ns, t);
    bar.bar.kind = BarKind::waiting;
    bar.bar.what = wait.what;
    bar.bar.begin_event = wait.event;
    bar.bar.end_event = end_event;
    bar.lock = wait.lock;
    bar.counts_as_waiter = wait.counts_as_waiter;
    lane.bars.push_back(bar);
    lane.wait.reset();
}

// Ends a hold at t as a band (its waiters colour it in pass five).
void close_hold(TimelineModel& model, LaneWork& lane, const OpenHold& hold, std::int64_t t,
                std::size_t end_event) {
    LogicalBar bar;
    bar.bar.start_ns = hold.start_ns;
    bar.bar.end_ns = std::max(hold.start_ns, t);
    bar.bar.kind = BarKind::held;
    bar.bar.what = hold.lock.what;
    bar.bar.begin_event = hold.event;
    bar.bar.end_event = end_event;
    bar.lock = hold.lock;
    lane.bars.push_back(bar);
    ++model.lock_holds;
}

// [SECTION] Pass two: the events in recording order (TraceReader) ------------------------------

// Pass two's state: the lanes' open waits and holds, and the execs waiting for the process_start
// that follows them.
class TraceReader {
  public:
    TraceReader(TimelineModel& model, const RunRecord& record, const LaneIndex& index)
        : model_(model), record_(record), index_(index), work_(model.lanes.size()) {}

    std::vector<LaneWork> read() {
        for (std::size_t event = 0; event < record_.events.size(); ++event) {
            const Event& e = record_.events[event];
            const std::size_t lane = index_.lane(e.pid, e.tid);
            const std::int64_t t = e.time_ns - record_.start_time_ns;
            if (!read_event(e, lane, t, event))
                add_marker(lane, t, marker_kind(e.kind), event);
        }
        return std::move(work_);
    }

  private:
    // Returns whether the event is drawn already: as (part of) a bar, or as an exit on the process
    // that ended. Every other event becomes a marker on its thread's lane.
    bool read_event(const Event& e, std::size_t lane, std::int64_t t, std::size_t event) {
        switch (e.kind) {
        case EventKind::lock_wait:
        case EventKind::file_lock_wait:
            begin_wait(lane, t, event,
                       e.kind == EventKind::lock_wait ? BarSubject::lock : BarSubject::file_lock,
                       lock_id(e).id, lock_id(e));
            return true;
        case EventKind::lock_acquired:
        case EventKind::file_lock_acquired: {
            const LockId lock = lock_id(e);
            end_wait(lane, t, event, lock.what, lock.id, true);
            acquire(lane, t, event, lock);
            return true;
        }
        case EventKind::lock_released:
        case EventKind::file_lock_released:
            return release(lane, t, event, lock_id(e));
        case EventKind::cond_wait:
            begin_wait(lane, t, event, BarSubject::condition, e.object, {});
            return true;
        case EventKind::cond_woken:
            return end_wait(lane, t, event, BarSubject::condition, e.object, true);
        case EventKind::barrier_wait:
            begin_wait(lane, t, event, BarSubject::barrier, e.object, {});
            return true;
        case EventKind::barrier_passed:
            return end_wait(lane, t, event, BarSubject::barrier, e.object, true);
        case EventKind::join_wait:
            begin_wait(lane, t, event, BarSubject::join, e.object, {});
            return true;
        case EventKind::join_done:
            // The join_wait may predate the thread's tid (object 0): any join ends it.
            return end_wait(lane, t, event, BarSubject::join, e.object, false);
        case EventKind::child_wait:
            begin_wait(lane, t, event, BarSubject::child, e.object, {});
            return true;
        case EventKind::process_exit:
            return process_exited(e, lane, t, event);
        case EventKind::child_start:
            child_started(e, lane, t, event);
            return false;
        case EventKind::exec:
            pending_exec_[e.pid] = {lane, event};
            return false;
        case EventKind::process_start:
            exec_arrived(e, lane, t);
            return false;
        default:
            return false;
        }
    }

    void add_marker(std::size_t lane, std::int64_t t, MarkerKind kind, std::size_t event) {
        model_.lanes[lane].markers.push_back({t, kind, event});
    }

    void begin_wait(std::size_t lane, std::int64_t t, std::size_t event, BarSubject what,
                    std::uint64_t object, LockId lock) {
        // A thread blocks on one thing at a time: a wait still open lost its end event.
        if (work_[lane].wait)
            close_wait(work_[lane], t, event);
        PendingWait wait{what, object, lock, false, event, t};
        if (what == BarSubject::lock || what == BarSubject::file_lock) {
            // Waiting again on a lock it holds (a recursive mutex) makes nobody else wait.
            wait.counts_as_waiter =
                std::none_of(work_[lane].holds.begin(), work_[lane].holds.end(),
                             [&](const OpenHold& hold) { return hold.lock == lock; });
        }
        work_[lane].wait = wait;
    }

    // Ends the thread's wait when it is for `what` (and `object`, when `exact`).
    bool end_wait(std::size_t lane, std::int64_t t, std::size_t event, BarSubject what,
                  std::uint64_t object, bool exact) {
        auto& wait = work_[lane].wait;
        if (!wait || wait->what != what || (exact && wait->object != object))
            return false;
        close_wait(work_[lane], t, event);
        return true;
    }

    void acquire(std::size_t lane, std::int64_t t, std::size_t event, LockId lock) {
        for (auto& hold : work_[lane].holds)
            if (hold.lock == lock) {
                ++hold.count;
                return;
            }
        work_[lane].holds.push_back({lock, 1, event, t});
    }

    // Ends `holder`'s hold of the lock (once a recursive one is released as often as taken);
    // false when it holds no such lock.
    bool release_by(std::size_t holder, std::int64_t t, std::size_t event, LockId lock) {
        auto& holds = work_[holder].holds;
        for (auto it = holds.begin(); it != holds.end(); ++it)
            if (it->lock == lock) {
                if (--it->count == 0) {
                    close_hold(model_, work_[holder], *it, t, event);
                    holds.erase(it);
                }
                return true;
            }
        return false;
    }

    // A release ends the thread's own hold; a release by a thread that holds nothing (a semaphore
    // posted by another thread) ends the oldest hold of that lock in the same process.
    bool release(std::size_t lane, std::int64_t t, std::size_t event, LockId lock) {
        if (release_by(lane, t, event, lock))
            return true;
        const TimelineGroup& group = model_.groups[model_.lanes[lane].group];
        std::optional<std::size_t> oldest;
        std::int64_t oldest_start = 0;
        for (std::size_t other = group.first_lane; other < group.first_lane + group.lane_count;
             ++other)
            for (const auto& hold : work_[other].holds)
                if (hold.lock == lock && (!oldest || hold.start_ns < oldest_start)) {
                    oldest = other;
                    oldest_start = hold.start_ns;
                }
        return oldest && release_by(*oldest, t, event, lock);
    }

    // Ends the reaper's wait for the child; the exit is drawn on the process that ended, with an
    // arrow to its reaper.
    bool process_exited(const Event& e, std::size_t lane, std::int64_t t, std::size_t event) {
        const auto& wait = work_[lane].wait;
        if (wait && wait->what == BarSubject::child &&
            (wait->object == e.object || static_cast<std::int64_t>(wait->object) <= 0))
            close_wait(work_[lane], t, event);
        auto exited = index_.group_of.find(static_cast<pid_t>(e.object));
        if (exited == index_.group_of.end())
            return false;
        const std::size_t exited_lane = model_.groups[exited->second].first_lane;
        add_marker(exited_lane, t, MarkerKind::exit, event);
        model_.arrows.push_back({ArrowKind::exit, exited_lane, lane, t, t,
                                 exit_label(WaitStatus::from_raw(static_cast<int>(e.arg0))),
                                 event});
        return true;
    }

    void child_started(const Event& e, std::size_t lane, std::int64_t t, std::size_t event) {
        const pid_t child_pid = static_cast<pid_t>(e.object);
        auto child = index_.group_of.find(child_pid);
        if (child == index_.group_of.end())
            return;
        // child_start is recorded once the start returns, and a forked child may run first:
        // then the arrow is drawn when the child began, the fork was no later.
        auto first_own = index_.first_own_event_ns.find(child_pid);
        const std::int64_t arrival =
            first_own != index_.first_own_event_ns.end() ? first_own->second : t;
        model_.arrows.push_back({ArrowKind::start, lane, model_.groups[child->second].first_lane,
                                 std::min(t, arrival), arrival, start_method_name(e), event});
    }

    // A process_start after an exec in the same process: the exec's arrow ends here.
    void exec_arrived(const Event& e, std::size_t lane, std::int64_t t) {
        auto exec = pending_exec_.find(e.pid);
        if (exec == pending_exec_.end())
            return;
        const auto [exec_lane, exec_event] = exec->second;
        const Event& exec_e = record_.events[exec_event];
        model_.arrows.push_back({ArrowKind::exec, exec_lane, lane,
                                 exec_e.time_ns - record_.start_time_ns, t,
                                 fmt::format("exec {}", exec_e.name), exec_event});
        pending_exec_.erase(exec);
    }

    TimelineModel& model_;
    const RunRecord& record_;
    const LaneIndex& index_;
    std::vector<LaneWork> work_;
    std::unordered_map<pid_t, std::pair<std::size_t, std::size_t>> pending_exec_; // lane, event
};

} // namespace

std::vector<LaneWork> read_trace(TimelineModel& model, const RunRecord& record,
                                 const LaneIndex& index) {
    return TraceReader(model, record, index).read();
}

// [SECTION] Pass three: what never ended -----------------------------------------------------

void end_what_never_ended(TimelineModel& model, std::vector<LaneWork>& work) {
    for (std::size_t lane = 0; lane < work.size(); ++lane) {
        const std::int64_t end = model.lanes[lane].end_ns;
        if (work[lane].wait)
            close_wait(work[lane], end, kNoTimelineEvent);
        for (const auto& hold : work[lane].holds)
            close_hold(model, work[lane], hold, end, kNoTimelineEvent);
        work[lane].holds.clear();
    }
}

} // namespace forklore
