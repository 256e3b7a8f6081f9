// The lock replay's pass over the trace (see lock_replayer.hpp): each event changes the copy of
// the object it names in its own process, or the file lock of its inode; what fork copies is made
// in be_born (lock_replay.cpp) the first time a process shows up.
#include "sim/record/lock_replayer.hpp"

#include <algorithm>
#include <iterator>

namespace forklore::lock_replay_detail {

void touch(Copy& copy, std::int64_t t) {
    copy.touched = true;
    if (copy.row.history.first_ns == kUnknownTime)
        copy.row.history.first_ns = t;
    copy.row.history.last_ns = t;
}

void add_pending(std::vector<PendingWait>& pending, PendingWait wait) {
    auto same = [&](const PendingWait& p) { return p.tid == wait.tid; };
    pending.erase(std::remove_if(pending.begin(), pending.end(), same), pending.end());
    pending.push_back(wait);
}

std::int64_t end_pending(std::vector<PendingWait>& pending, pid_t tid, std::int64_t t) {
    auto found = std::find_if(pending.begin(), pending.end(),
                              [&](const PendingWait& p) { return p.tid == tid; });
    if (found == pending.end())
        return 0;
    std::int64_t waited = found->since_ns == kUnknownTime ? 0 : t - found->since_ns;
    pending.erase(found);
    return waited;
}

void mark_waiter(std::vector<PendingWait>& pending, pid_t tid) {
    auto found = std::find_if(pending.begin(), pending.end(),
                              [&](const PendingWait& p) { return p.tid == tid; });
    if (found == pending.end()) {
        PendingWait wait;
        wait.tid = tid;
        pending.push_back(wait);
        found = pending.end() - 1;
    }
    found->seen_by_kernel = true;
}

void LockReplayer::taken(LockHistory& history, const Event& event, std::size_t index,
                         std::int64_t t) {
    ++history.acquisitions;
    history.last_taker = bare(event.tid);
    history.last_taken_ns = t;
    history.last_taken_event = index;
}

void LockReplayer::replay(const Event& event, std::size_t index) {
    const std::int64_t t = event.time_ns - record_.start_time_ns;
    if (event.pid > 0)
        be_born(event.pid, t);
    switch (event.kind) {
    case EventKind::child_start:
        if (fork_origin_.count(static_cast<pid_t>(event.object)))
            be_born(static_cast<pid_t>(event.object), t);
        break;
    case EventKind::exec:
        retire(event.pid);
        break;
    case EventKind::thread_exit:
        exited_threads_.insert(event.tid);
        break;
    case EventKind::lock_wait:
    case EventKind::lock_acquired:
    case EventKind::lock_released:
        replay_lock(event, index, t);
        break;
    case EventKind::cond_wait:
    case EventKind::cond_woken:
    case EventKind::cond_signal:
        replay_condition(event, index, t);
        break;
    case EventKind::barrier_wait:
    case EventKind::barrier_passed:
        replay_barrier(event, index, t);
        break;
    case EventKind::join_wait:
        waiting_threads_.insert(event.tid);
        break;
    case EventKind::join_done:
        waiting_threads_.erase(event.tid);
        break;
    case EventKind::file_lock_wait:
    case EventKind::file_lock_acquired:
    case EventKind::file_lock_released:
        replay_file_lock(event, index, t);
        break;
    default:
        break;
    }
}

void LockReplayer::replay_lock(const Event& event, std::size_t index, std::int64_t t) {
    const SyncKind kind = sync_kind_of(event.arg0);
    const bool reader = static_cast<LockKind>(event.arg0) == LockKind::rwlock_read;
    Copy& copy = copy_at(event.pid, event.object, kind, field_text(event.name));
    touch(copy, t);
    LockHistory& history = copy.row.history;
    auto& holders = copy.row.holders;
    switch (event.kind) {
    case EventKind::lock_wait:
        ++history.waits;
        add_pending(copy.pending, {event.tid, t, index});
        waiting_threads_.insert(event.tid);
        break;
    case EventKind::lock_acquired: {
        history.longest_wait_ns =
            std::max(history.longest_wait_ns, end_pending(copy.pending, event.tid, t));
        waiting_threads_.erase(event.tid);
        taken(history, event, index, t);
        if (kind == SyncKind::semaphore) {
            copy.outstanding_take = bare(event.tid);
            break;
        }
        auto again = std::find_if(holders.begin(), holders.end(), [&](const LockHolder& h) {
            return h.thread.tid == event.tid && h.reader == reader;
        });
        if (again != holders.end() && kind == SyncKind::recursive_mutex) {
            ++again->count;
            break;
        }
        LockHolder holder;
        holder.thread = bare(event.tid);
        holder.reader = reader;
        holder.since_ns = t;
        holder.event = index;
        holders.push_back(std::move(holder));
        break;
    }
    case EventKind::lock_released: {
        ++history.releases;
        if (kind == SyncKind::semaphore) {
            copy.outstanding_take.reset();
            break;
        }
        auto mine = std::find_if(holders.begin(), holders.end(), [&](const LockHolder& h) {
            return h.thread.tid == event.tid && h.reader == reader;
        });
        if (mine != holders.end()) {
            if (--mine->count <= 0)
                holders.erase(mine);
        } else if (reader) {
            auto any_reader = std::find_if(holders.begin(), holders.end(),
                                           [](const LockHolder& h) { return h.reader; });
            if (any_reader != holders.end())
                holders.erase(any_reader);
        } else {
            // An unlock frees the word whoever calls it (a spin lock may be released by
            // another thread; a fork child's main thread releases what its parent held).
            holders.erase(std::remove_if(holders.begin(), holders.end(),
                                         [](const LockHolder& h) { return !h.reader; }),
                          holders.end());
        }
        break;
    }
    default:
        break;
    }
}

void LockReplayer::replay_condition(const Event& event, std::size_t index, std::int64_t t) {
    Copy& copy =
        copy_at(event.pid, event.object, SyncKind::condition_variable, field_text(event.name));
    touch(copy, t);
    LockHistory& history = copy.row.history;
    if (event.kind == EventKind::cond_wait) {
        ++history.waits;
        bool destroying = event.arg0 == static_cast<std::int64_t>(CondWaitKind::destroy);
        add_pending(copy.pending, {event.tid, t, index, destroying});
        waiting_threads_.insert(event.tid);
    } else if (event.kind == EventKind::cond_woken) {
        history.longest_wait_ns =
            std::max(history.longest_wait_ns, end_pending(copy.pending, event.tid, t));
        waiting_threads_.erase(event.tid);
    } else {
        ++history.signals;
        history.last_signaller = bare(event.tid);
    }
}

void LockReplayer::replay_barrier(const Event& event, std::size_t index, std::int64_t t) {
    Copy& copy = copy_at(event.pid, event.object, SyncKind::barrier, field_text(event.name));
    touch(copy, t);
    LockHistory& history = copy.row.history;
    if (event.kind == EventKind::barrier_wait) {
        ++history.waits;
        add_pending(copy.pending, {event.tid, t, index});
        waiting_threads_.insert(event.tid);
    } else {
        history.longest_wait_ns =
            std::max(history.longest_wait_ns, end_pending(copy.pending, event.tid, t));
        waiting_threads_.erase(event.tid);
        ++history.acquisitions; // passed
    }
}

// File locks are kernel objects, not memory: one row per inode, across processes.
void LockReplayer::replay_file_lock(const Event& event, std::size_t index, std::int64_t t) {
    auto inode = static_cast<std::uint64_t>(event.arg1);
    FileTrace& file = files_[inode];
    file.row.inode = inode;
    if (event.name[0])
        file.row.name = std::string(field_text(event.name));
    auto kind = static_cast<std::size_t>(event.arg0);
    static constexpr const char* kKinds[] = {"flock", "fcntl", "ofd"};
    if (kind < std::size(kKinds))
        file.row.kind = kKinds[kind];
    LockHistory& history = file.row.history;
    if (history.first_ns == kUnknownTime)
        history.first_ns = t;
    history.last_ns = t;
    if (event.kind == EventKind::file_lock_wait) {
        ++history.waits;
        add_pending(file.pending, {event.tid, t, index});
        waiting_threads_.insert(event.tid);
    } else if (event.kind == EventKind::file_lock_acquired) {
        history.longest_wait_ns =
            std::max(history.longest_wait_ns, end_pending(file.pending, event.tid, t));
        waiting_threads_.erase(event.tid);
        taken(history, event, index, t);
        LockHolder holder;
        holder.thread = thread(event.tid);
        holder.thread.pid = event.pid;
        holder.since_ns = t;
        holder.event = index;
        file.holders.push_back(std::move(holder));
    } else {
        ++history.releases;
        // fcntl locks belong to the process, flock and OFD locks to the open file
        // description: either way an unlock by this process ends what it held.
        auto& holders = file.holders;
        holders.erase(
            std::remove_if(holders.begin(), holders.end(),
                           [&](const LockHolder& h) { return h.thread.pid == event.pid; }),
            holders.end());
    }
}

} // namespace forklore::lock_replay_detail
