// The lock replay's corrections from what the kernel showed (see lock_replayer.hpp). The trace
// says what each thread did; the kernel says where it is stuck: the verdict's wait-for edges name
// owners read from the lock words, the last sample shows who is blocked on which futex now (a
// live run) or when the run hung, and the last detailed sample's /proc/locks shows who holds and
// requests each file lock.
//
// Index of this file:
// [SECTION] Owners read from the lock words
// [SECTION] The verdict's wait-for edges
// [SECTION] The last sample's blocked threads
// [SECTION] File locks: /proc/locks joined with the trace
#include "sim/record/lock_replayer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace forklore::lock_replay_detail {

namespace {

const Snapshot* latest(const std::vector<Snapshot>& snapshots, bool detailed_only) {
    const Snapshot* best = nullptr;
    for (const auto& snapshot : snapshots)
        if ((!detailed_only || snapshot.detailed) && (!best || snapshot.time_ns >= best->time_ns))
            best = &snapshot;
    return best;
}

void append_line(std::string& text, const std::string& line) {
    if (line.empty())
        return;
    if (!text.empty())
        text += '\n';
    text += line;
}

// The fd a blocked request asks through: /proc/locks names only the process, the blocked
// thread's flock/fcntl call names the fd.
int waiting_fd(const Snapshot& snapshot, const FileLockEntry& entry) {
    const ProcessSnapshot* process = snapshot.find_process(entry.pid);
    if (!process)
        return -1;
    for (const auto& thread : process->threads)
        if (thread.wait == WaitKind::file_lock && thread.fd >= 0 &&
            (thread.fd_inode == 0 || thread.fd_inode == entry.inode))
            return thread.fd;
    return -1;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] Owners read from the lock words
// ---------------------------------------------------------------------------------------------

// The owner read from the lock word replaces what the trace concluded: it is the truth the
// waiter is stuck on.
void LockReplayer::set_kernel_owner(Copy& copy, pid_t owner_tid, pid_t owner_pid,
                                    std::string owner_name) {
    auto& holders = copy.row.holders;
    auto found = std::find_if(holders.begin(), holders.end(), [&](const LockHolder& h) {
        return h.thread.tid == owner_tid && !h.reader;
    });
    if (found == holders.end()) {
        holders.erase(std::remove_if(holders.begin(), holders.end(),
                                     [](const LockHolder& h) { return !h.reader; }),
                      holders.end());
        LockHolder holder;
        holder.thread = thread(owner_tid);
        holders.insert(holders.begin(), std::move(holder));
        found = holders.begin();
    }
    if (owner_pid > 0)
        found->thread.pid = owner_pid;
    if (!owner_name.empty())
        found->thread.name = std::move(owner_name);
    copy.row.owner_from_kernel = true;
    // The kernel read the word as a glibc mutex's (or a write-locked rwlock's).
    if (copy.row.kind == SyncKind::futex)
        copy.row.kind = SyncKind::mutex;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] The verdict's wait-for edges
// ---------------------------------------------------------------------------------------------

void LockReplayer::apply_verdict() {
    for (const WaitEdge& edge : record_.verdict.wait_for) {
        if (edge.kind == WaitEdge::Kind::file_lock) {
            FileTrace& file = files_[edge.address];
            file.row.inode = edge.address;
            if (file.row.name.empty())
                file.row.name = edge.lock_name;
            append_line(file.row.verdict_text, edge.description);
            mark_waiter(file.pending, edge.waiter_tid);
            continue;
        }
        // Joins are waits for a thread, not a lock: the timeline and verdict show them.
        if (edge.kind != WaitEdge::Kind::lock || edge.object_kind == "thread")
            continue;
        Copy* copy = copy_containing(edge.waiter_pid, edge.address);
        if (!copy)
            copy = &copy_at(edge.waiter_pid, edge.address, sync_kind_of(edge.object_kind),
                            edge.lock_name);
        copy->touched = true;
        mark_waiter(copy->pending, edge.waiter_tid);
        append_line(copy->row.verdict_text, edge.description);
        if (edge.owner_tid > 0) {
            set_kernel_owner(*copy, edge.owner_tid, edge.owner_pid, edge.owner_thread);
            copy->kernel_orphaned = edge.orphaned;
            copy->kernel_owner_exists = edge.owner_exists;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// [SECTION] The last sample's blocked threads
// ---------------------------------------------------------------------------------------------

// The last sample shows who is blocked on which futex now (a live run), or when the run hung;
// a detailed sample also read each mutex's owner from its lock word.
void LockReplayer::apply_last_sample() {
    const Snapshot* last = latest(record_.snapshots, false);
    const Snapshot* detailed = latest(record_.snapshots, true);
    if (!last)
        return;
    for (const auto& process : last->processes) {
        if (process.infrastructure)
            continue;
        for (const auto& blocked : process.threads) {
            if (blocked.wait != WaitKind::futex || blocked.futex_address == 0)
                continue;
            std::optional<pid_t> owner = blocked.owner_ns_tid;
            if (!owner && detailed)
                if (const ProcessSnapshot* then = detailed->find_process(process.pid))
                    for (const auto& same : then->threads)
                        if (same.ns_tid == blocked.ns_tid &&
                            same.futex_address == blocked.futex_address)
                            owner = same.owner_ns_tid;
            Copy* copy = copy_containing(process.ns_pid, blocked.futex_address);
            if (!copy) {
                // The trace says what it waits on (a join, a wait outside the table).
                if (waiting_threads_.count(blocked.ns_tid))
                    continue;
                copy = &copy_at(process.ns_pid, blocked.futex_address, SyncKind::futex, "");
            }
            copy->touched = true;
            mark_waiter(copy->pending, blocked.ns_tid);
            if (owner && *owner > 0 && !copy->row.owner_from_kernel)
                set_kernel_owner(*copy, *owner, 0, "");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// [SECTION] File locks: /proc/locks joined with the trace
// ---------------------------------------------------------------------------------------------

void LockReplayer::finish_file_locks(LockReplay& replay) {
    const Snapshot* detailed = latest(record_.snapshots, true);
    std::map<std::pair<std::string, std::uint64_t>, ReplayedFileLock> seen; // (device, inode)
    if (detailed) {
        replay.file_locks_seen_ns = detailed->time_ns - record_.start_time_ns;
        replay.file_locks_note =
            sample_is_the_end()
                ? fmt::format("/proc/locks (and each process's fdinfo) in the last detailed "
                              "sample, at {:.1f} ms",
                              to_ms(replay.file_locks_seen_ns))
                : fmt::format("/proc/locks at {:.1f} ms, the last detailed sample: what was "
                              "held then, before the run ended",
                              to_ms(replay.file_locks_seen_ns));
        for (const auto& entry : detailed->file_locks) {
            ReplayedFileLock& row = seen[{entry.device, entry.inode}];
            row.inode = entry.inode;
            row.device = entry.device;
            if (row.kind.empty())
                row.kind = entry.type;
            FileLockParty party;
            party.host_pid = entry.pid;
            if (const ProcessSnapshot* process = detailed->find_process(entry.pid))
                party.pid = process->ns_pid;
            party.type = entry.type;
            party.write = entry.write;
            party.range =
                entry.start.empty() ? std::string() : fmt::format("{}-{}", entry.start, entry.end);
            party.fd = entry.waiting ? waiting_fd(*detailed, entry) : entry.fd;
            auto& parties = entry.waiting ? row.waiters : row.holders;
            // /proc/locks and fdinfo may both list one holding process; fdinfo names its fd.
            auto known = std::find_if(parties.begin(), parties.end(), [&](const auto& p) {
                return p.host_pid == party.host_pid && p.type == party.type &&
                       p.write == party.write && (p.fd < 0 || party.fd < 0 || p.fd == party.fd);
            });
            if (known == parties.end())
                parties.push_back(std::move(party));
            else if (known->fd < 0)
                known->fd = party.fd;
        }
    } else {
        replay.file_locks_note = "no detailed sample was taken: file locks come from the "
                                 "trace only";
    }
    // Join the trace's view (names, waiting threads, history) by inode.
    for (auto& [inode, file] : files_) {
        // An init-capture: clang before 16 (the fuzz build) cannot capture a structured binding.
        auto match = std::find_if(seen.begin(), seen.end(), [key = inode](const auto& item) {
            return item.first.second == key;
        });
        ReplayedFileLock& row = match != seen.end() ? match->second : seen[{"", inode}];
        row.inode = inode;
        if (!file.row.name.empty())
            row.name = file.row.name;
        if (!file.row.kind.empty())
            row.kind = file.row.kind;
        row.history = file.row.history;
        name(row.history.last_taker);
        row.verdict_text = file.row.verdict_text;
        row.trace_waiters = waiters_of(file.pending);
        for (auto& holder : file.holders)
            if (!process_ended(holder.thread.pid)) {
                holder.exists = thread_alive_at_end(holder.thread.tid);
                row.trace_holders.push_back(holder);
            }
    }
    for (auto& [key, row] : seen) {
        decide_file_state(row);
        replay.file_locks.push_back(std::move(row));
    }
}

} // namespace forklore::lock_replay_detail
