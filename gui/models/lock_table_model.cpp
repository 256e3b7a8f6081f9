// Builds the Locks tab's model in one pass over the trace, then corrects it with what the kernel
// showed: the verdict's wait-for graph (owners read from the lock words) and the last samples.
//
// The pass keeps one "copy" per (process, address). When a process is made by fork (or by a fork
// server, which forks too), every copy of its parent is duplicated at that instant, holders
// included, as fork() duplicates memory: the duplicate of a lock held by another thread of the
// parent keeps that owner, which does not exist in the child. The thread that called fork goes
// on in the child as its main thread, so what it held, the child's main thread holds.
#include "gui/models/lock_table_model.hpp"

#include "sim/verdict/explain.hpp"
#include "sim/protocol/start_method.hpp"
#include "sim/verdict/verdict.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

namespace forklore::gui {

std::string_view to_string(SyncKind kind) {
    switch (kind) {
    case SyncKind::mutex:
        return "mutex";
    case SyncKind::recursive_mutex:
        return "recursive mutex";
    case SyncKind::rwlock:
        return "rwlock";
    case SyncKind::semaphore:
        return "semaphore";
    case SyncKind::spin:
        return "spin lock";
    case SyncKind::condition_variable:
        return "condition variable";
    case SyncKind::barrier:
        return "barrier";
    case SyncKind::futex:
        return "futex";
    }
    return "lock";
}

bool has_owner(SyncKind kind) {
    switch (kind) {
    case SyncKind::mutex:
    case SyncKind::recursive_mutex:
    case SyncKind::rwlock:
    case SyncKind::spin:
        return true;
    default:
        return false;
    }
}

std::string_view to_string(LockState state) {
    switch (state) {
    case LockState::orphaned:
        return "ORPHANED";
    case LockState::held_with_waiters:
        return "held with waiters";
    case LockState::waited:
        return "waited on";
    case LockState::held:
        return "held";
    case LockState::free:
        return "free";
    }
    return "free";
}

std::string thread_label(const ThreadRef &thread) {
    if (thread.name.empty())
        return fmt::format("(tid {})", thread.tid);
    return fmt::format("'{}' (tid {})", thread.name, thread.tid);
}

std::string LockRow::label() const {
    if (!name.empty())
        return fmt::format("'{}'", name);
    return waited_in.empty() ? fmt::format("{:#x}", address)
                             : fmt::format("{:#x} ({})", address, waited_in);
}

std::string FileLockRow::label() const {
    return name.empty() ? fmt::format("inode {}", inode)
                        : fmt::format("'{}' (inode {})", name, inode);
}

const LockRow *LockTableModel::find(pid_t process, std::uint64_t address) const {
    for (const auto &row : locks)
        if (row.process == process && row.address == address)
            return &row;
    return nullptr;
}

std::vector<const LockRow *> LockTableModel::named(std::string_view name) const {
    std::vector<const LockRow *> found;
    for (const auto &row : locks)
        if (row.name == name)
            found.push_back(&row);
    return found;
}

int LockTableModel::orphaned_count() const {
    return static_cast<int>(
        std::count_if(locks.begin(), locks.end(), [](const LockRow &row) { return row.orphaned; }));
}

namespace {

template <std::size_t N> std::string text_of(const char (&field)[N]) {
    return std::string(field, strnlen(field, N));
}
std::string_view name_in(const Event &event) {
    return {event.name, strnlen(event.name, sizeof event.name)};
}

// The largest object a probe waits in is a pthread_rwlock_t (56 bytes). A waiter of a rwlock, a
// semaphore or a barrier sleeps on a futex word inside the object, not at its first byte.
constexpr std::uint64_t kLargestObject = 64;

SyncKind sync_kind_of(std::int64_t lock_kind) {
    switch (static_cast<LockKind>(lock_kind)) {
    case LockKind::mutex:
        return SyncKind::mutex;
    case LockKind::recursive_mutex:
        return SyncKind::recursive_mutex;
    case LockKind::rwlock_write:
    case LockKind::rwlock_read:
        return SyncKind::rwlock;
    case LockKind::semaphore:
        return SyncKind::semaphore;
    case LockKind::spin:
        return SyncKind::spin;
    }
    return SyncKind::mutex;
}

// WaitEdge::object_kind ("mutex", "rwlock_write", "condition variable", "barrier" ...).
SyncKind sync_kind_of(std::string_view object_kind) {
    for (std::size_t i = 0; i < kLockKindNames.size(); ++i)
        if (kLockKindNames[i] == object_kind)
            return sync_kind_of(static_cast<std::int64_t>(i));
    if (object_kind == "condition variable")
        return SyncKind::condition_variable;
    if (object_kind == "barrier")
        return SyncKind::barrier;
    return SyncKind::futex;
}

double to_ms(std::int64_t ns) {
    return static_cast<double>(ns) / 1e6;
}

std::string since_text(std::int64_t since_ns) {
    return since_ns == kUnknownTime ? std::string()
                                    : fmt::format(" since {:.1f} ms", to_ms(since_ns));
}

// "thread 'main'", "threads 'a' (tid 3) and 'b' (tid 4)"
std::string threads_phrase(const std::vector<ThreadRef> &threads) {
    if (threads.size() == 1)
        return threads.front().name.empty() ? fmt::format("thread (tid {})", threads.front().tid)
                                            : fmt::format("thread '{}'", threads.front().name);
    std::string text = "threads ";
    for (std::size_t i = 0; i < threads.size(); ++i) {
        if (i > 0)
            text += i + 1 == threads.size() ? " and " : ", ";
        text += thread_label(threads[i]);
    }
    return text;
}

struct PendingWait {
    pid_t tid = 0;
    std::int64_t since_ns = kUnknownTime;
    std::size_t event = kNoEvent;
    bool destroying = false;
    bool seen_by_kernel = false;
};

// One copy of an object while the trace is replayed.
struct Copy {
    LockRow row;
    std::vector<PendingWait> pending;
    bool touched = false; // an event of its own process, or the kernel, concerns it
    std::optional<ThreadRef> outstanding_take; // a semaphore: taken, not posted since
    std::optional<bool> kernel_orphaned, kernel_owner_exists;
};

// A file lock (by inode) while the trace is replayed.
struct FileTrace {
    FileLockRow row;
    std::vector<PendingWait> pending;
    std::vector<LockHolder> holders;
};

class Builder {
  public:
    Builder(const RunRecord &record, bool live) : record_(record), live_(live) {}

    LockTableModel build() {
        index_threads_and_forks();
        for (std::size_t i = 0; i < record_.events.size(); ++i)
            replay(record_.events[i], i);
        apply_verdict();
        if (live_ || is_hang(record_.verdict.kind) || !has_outcome(record_.verdict.kind))
            apply_last_sample(); // the sandbox was still running at the end: the sample is the end
        LockTableModel model;
        finish_locks(model);
        finish_file_locks(model);
        return model;
    }

  private:
    // ---- who is who -------------------------------------------------------------------------

    void index_threads_and_forks() {
        for (const auto &process : record_.processes)
            for (const auto &[tid, name] : process.threads) {
                home_.emplace(tid, process.ns_pid);
                if (!name.empty())
                    names_.emplace(tid, name);
            }
        for (const auto &event : record_.events) {
            if (event.pid > 0 && event.tid > 0)
                home_.emplace(event.tid, event.pid);
            if (event.kind == EventKind::thread_start)
                names_[event.tid] = text_of(event.name);
            if (event.tid > 0 && event.thread[0])
                names_.emplace(event.tid, text_of(event.thread));
            if (event.kind == EventKind::child_start) {
                auto method = static_cast<StartMethod>(event.arg0);
                // fork and a fork server's fork copy memory; exec and spawn start fresh programs.
                if (method == StartMethod::fork || method == StartMethod::forkserver)
                    fork_origin_[static_cast<pid_t>(event.object)] = {event.pid, event.tid};
            }
        }
        // Dropped child_start events: the process list still says how each process was made.
        for (const auto &process : record_.processes)
            if ((process.start_method == "fork" || process.start_method == "forkserver") &&
                process.parent_ns_pid > 0)
                fork_origin_.emplace(process.ns_pid, ForkOrigin{process.parent_ns_pid, 0});
    }

    pid_t home_of(pid_t tid) const {
        auto found = home_.find(tid);
        return found == home_.end() ? 0 : found->second;
    }
    std::string name_of(pid_t tid) const {
        auto found = names_.find(tid);
        return found == names_.end() ? std::string() : found->second;
    }
    ThreadRef thread(pid_t tid) const { return {home_of(tid), tid, name_of(tid)}; }
    // During the replay: names are filled in once at the end (a 100k-event trace would copy a
    // name string per event otherwise).
    ThreadRef bare(pid_t tid) const { return {home_of(tid), tid, {}}; }
    void name(ThreadRef &thread) const {
        if (thread.name.empty())
            thread.name = name_of(thread.tid);
    }
    void name(std::optional<ThreadRef> &thread) const {
        if (thread)
            name(*thread);
    }

    bool process_ended(pid_t pid) const {
        const ProcessRecord *process = record_.find_process(pid);
        return process && process->wait_status.has_value();
    }
    // Alive when the run ended: its process was not reaped and it did not exit. (A process the
    // runner killed at the end was alive at the verdict, which is the moment the table shows.)
    bool thread_alive_at_end(pid_t tid) const {
        pid_t home = home_of(tid);
        return home != 0 && !process_ended(home) && exited_threads_.count(tid) == 0;
    }

    std::int64_t relative(const Event &event) const {
        return event.time_ns - record_.start_time_ns;
    }

    // ---- copies -------------------------------------------------------------------------------

    struct ForkOrigin {
        pid_t parent = 0;
        pid_t forking_tid = 0; // 0 when unknown
    };

    // The first time process `pid` shows up: a forked process starts with a copy of every object
    // of its parent, in the state the parent had at this instant (the fork happened just before
    // the parent's child_start event or the child's first event, whichever came first).
    void be_born(pid_t pid, std::int64_t t) {
        if (pid == last_born_)
            return; // most events come from the process of the one before
        if (!born_.insert(pid).second) {
            last_born_ = pid;
            return;
        }
        last_born_ = pid;
        auto origin = fork_origin_.find(pid);
        if (origin == fork_origin_.end())
            return;
        const ForkOrigin from = origin->second;
        be_born(from.parent, t);
        std::vector<std::size_t> parents;
        for (auto it = active_.lower_bound({from.parent, 0});
             it != active_.end() && it->first.first == from.parent; ++it)
            parents.push_back(it->second);
        for (std::size_t index : parents) {
            Copy copy;
            // Read before this iteration's push_back, which may move the vector's elements.
            const Copy &parent = copies_[index];
            copy.row.address = parent.row.address;
            copy.row.name = parent.row.name;
            copy.row.kind = parent.row.kind;
            copy.row.process = pid;
            copy.row.copied_from = from.parent;
            copy.row.copied_at_ns = t;
            copy.outstanding_take = parent.outstanding_take;
            for (LockHolder holder : parent.row.holders) {
                holder.inherited = true;
                if (from.forking_tid != 0 && holder.thread.tid == from.forking_tid) {
                    // The calling thread goes on as the child's main thread (tid == pid).
                    std::string name = name_of(pid);
                    holder.thread = {pid, pid, name.empty() ? holder.thread.name : name};
                }
                copy.row.holders.push_back(std::move(holder));
            }
            // The threads waiting in the parent are not copied; a condition variable's copy
            // still counts them, which is worth showing.
            if (parent.row.kind == SyncKind::condition_variable)
                for (const auto &waiting : parent.pending)
                    if (!waiting.destroying)
                        copy.row.inherited_waiters.push_back(bare(waiting.tid));
            copies_.push_back(std::move(copy));
            active_[{pid, copies_.back().row.address}] = copies_.size() - 1;
        }
    }

    // The copy of the object at `address` in `pid`, made fresh when the trace has not seen it
    // there, or when the address now names another object (a stack slot reused).
    Copy &copy_at(pid_t pid, std::uint64_t address, SyncKind kind, std::string_view name) {
        auto found = active_.find({pid, address});
        if (found != active_.end()) {
            Copy &existing = copies_[found->second];
            bool same = existing.row.kind == kind || existing.row.kind == SyncKind::futex;
            if (same && (name.empty() || existing.row.name.empty() || existing.row.name == name)) {
                if (existing.row.name.empty())
                    existing.row.name = std::string(name);
                if (existing.row.kind == SyncKind::futex)
                    existing.row.kind = kind;
                return existing;
            }
        }
        Copy copy;
        copy.row.address = address;
        copy.row.name = std::string(name);
        copy.row.kind = kind;
        copy.row.process = pid;
        copies_.push_back(std::move(copy));
        active_[{pid, address}] = copies_.size() - 1;
        return copies_.back();
    }

    // The copy in `pid` whose object contains the futex word at `address`: the nearest object
    // starting at or below it, no further than the largest object a probe waits in.
    Copy *copy_containing(pid_t pid, std::uint64_t address) {
        auto it = active_.upper_bound({pid, address});
        if (it == active_.begin())
            return nullptr;
        --it;
        if (it->first.first != pid || address - it->first.second >= kLargestObject)
            return nullptr;
        return &copies_[it->second];
    }

    // exec replaced the process's memory: its copies are gone, later events make new ones.
    void retire(pid_t pid) {
        auto it = active_.lower_bound({pid, 0});
        while (it != active_.end() && it->first.first == pid) {
            copies_[it->second].row.replaced_by_exec = true;
            it = active_.erase(it);
        }
    }

    void touch(Copy &copy, std::int64_t t) {
        copy.touched = true;
        if (copy.row.history.first_ns == kUnknownTime)
            copy.row.history.first_ns = t;
        copy.row.history.last_ns = t;
    }

    static void add_pending(std::vector<PendingWait> &pending, PendingWait wait) {
        auto same = [&](const PendingWait &p) { return p.tid == wait.tid; };
        pending.erase(std::remove_if(pending.begin(), pending.end(), same), pending.end());
        pending.push_back(wait);
    }
    // Ends thread `tid`'s wait; returns how long it lasted (0 when it was not waiting).
    static std::int64_t end_pending(std::vector<PendingWait> &pending, pid_t tid, std::int64_t t) {
        auto found = std::find_if(pending.begin(), pending.end(),
                                  [&](const PendingWait &p) { return p.tid == tid; });
        if (found == pending.end())
            return 0;
        std::int64_t waited = found->since_ns == kUnknownTime ? 0 : t - found->since_ns;
        pending.erase(found);
        return waited;
    }

    void taken(LockHistory &history, const Event &event, std::size_t index, std::int64_t t) {
        ++history.acquisitions;
        history.last_taker = bare(event.tid);
        history.last_taken_ns = t;
        history.last_taken_event = index;
    }

    // ---- the replay ---------------------------------------------------------------------------

    void replay(const Event &event, std::size_t index) {
        const std::int64_t t = relative(event);
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

    void replay_lock(const Event &event, std::size_t index, std::int64_t t) {
        const SyncKind kind = sync_kind_of(event.arg0);
        const bool reader = static_cast<LockKind>(event.arg0) == LockKind::rwlock_read;
        Copy &copy = copy_at(event.pid, event.object, kind, name_in(event));
        touch(copy, t);
        LockHistory &history = copy.row.history;
        auto &holders = copy.row.holders;
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
            auto again = std::find_if(holders.begin(), holders.end(), [&](const LockHolder &h) {
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
            auto mine = std::find_if(holders.begin(), holders.end(), [&](const LockHolder &h) {
                return h.thread.tid == event.tid && h.reader == reader;
            });
            if (mine != holders.end()) {
                if (--mine->count <= 0)
                    holders.erase(mine);
            } else if (reader) {
                auto any_reader = std::find_if(holders.begin(), holders.end(),
                                               [](const LockHolder &h) { return h.reader; });
                if (any_reader != holders.end())
                    holders.erase(any_reader);
            } else {
                // An unlock frees the word whoever calls it (a spin lock may be released by
                // another thread; a fork child's main thread releases what its parent held).
                holders.erase(std::remove_if(holders.begin(), holders.end(),
                                             [](const LockHolder &h) { return !h.reader; }),
                              holders.end());
            }
            break;
        }
        default:
            break;
        }
    }

    void replay_condition(const Event &event, std::size_t index, std::int64_t t) {
        Copy &copy = copy_at(event.pid, event.object, SyncKind::condition_variable, name_in(event));
        touch(copy, t);
        LockHistory &history = copy.row.history;
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

    void replay_barrier(const Event &event, std::size_t index, std::int64_t t) {
        Copy &copy = copy_at(event.pid, event.object, SyncKind::barrier, name_in(event));
        touch(copy, t);
        LockHistory &history = copy.row.history;
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
    void replay_file_lock(const Event &event, std::size_t index, std::int64_t t) {
        auto inode = static_cast<std::uint64_t>(event.arg1);
        FileTrace &file = files_[inode];
        file.row.inode = inode;
        if (event.name[0])
            file.row.name = text_of(event.name);
        auto kind = static_cast<std::size_t>(event.arg0);
        static constexpr const char *kKinds[] = {"flock", "fcntl", "ofd"};
        if (kind < std::size(kKinds))
            file.row.kind = kKinds[kind];
        LockHistory &history = file.row.history;
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
            auto &holders = file.holders;
            holders.erase(
                std::remove_if(holders.begin(), holders.end(),
                               [&](const LockHolder &h) { return h.thread.pid == event.pid; }),
                holders.end());
        }
    }

    // ---- what the kernel showed -----------------------------------------------------------

    static void mark_waiter(std::vector<PendingWait> &pending, pid_t tid) {
        auto found = std::find_if(pending.begin(), pending.end(),
                                  [&](const PendingWait &p) { return p.tid == tid; });
        if (found == pending.end()) {
            PendingWait wait;
            wait.tid = tid;
            pending.push_back(wait);
            found = pending.end() - 1;
        }
        found->seen_by_kernel = true;
    }

    // The owner read from the lock word replaces what the trace concluded: it is the truth the
    // waiter is stuck on.
    void set_kernel_owner(Copy &copy, pid_t owner_tid, pid_t owner_pid, std::string owner_name) {
        auto &holders = copy.row.holders;
        auto found = std::find_if(holders.begin(), holders.end(), [&](const LockHolder &h) {
            return h.thread.tid == owner_tid && !h.reader;
        });
        if (found == holders.end()) {
            holders.erase(std::remove_if(holders.begin(), holders.end(),
                                         [](const LockHolder &h) { return !h.reader; }),
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

    void apply_verdict() {
        for (const WaitEdge &edge : record_.verdict.wait_for) {
            if (edge.kind == WaitEdge::Kind::file_lock) {
                FileTrace &file = files_[edge.address];
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
            Copy *copy = copy_containing(edge.waiter_pid, edge.address);
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

    static const Snapshot *latest(const std::vector<Snapshot> &snapshots, bool detailed_only) {
        const Snapshot *best = nullptr;
        for (const auto &snapshot : snapshots)
            if ((!detailed_only || snapshot.detailed) &&
                (!best || snapshot.time_ns >= best->time_ns))
                best = &snapshot;
        return best;
    }

    // The last sample shows who is blocked on which futex now (a live run), or when the run hung;
    // a detailed sample also read each mutex's owner from its lock word.
    void apply_last_sample() {
        const Snapshot *last = latest(record_.snapshots, false);
        const Snapshot *detailed = latest(record_.snapshots, true);
        if (!last)
            return;
        for (const auto &process : last->processes) {
            if (process.infrastructure)
                continue;
            for (const auto &blocked : process.threads) {
                if (blocked.wait != WaitKind::futex || blocked.futex_address == 0)
                    continue;
                std::optional<pid_t> owner = blocked.owner_ns_tid;
                if (!owner && detailed)
                    if (const ProcessSnapshot *then = detailed->find_process(process.pid))
                        for (const auto &same : then->threads)
                            if (same.ns_tid == blocked.ns_tid &&
                                same.futex_address == blocked.futex_address)
                                owner = same.owner_ns_tid;
                Copy *copy = copy_containing(process.ns_pid, blocked.futex_address);
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

    static void append_line(std::string &text, const std::string &line) {
        if (line.empty())
            return;
        if (!text.empty())
            text += '\n';
        text += line;
    }

    // ---- the rows -----------------------------------------------------------------------------

    std::vector<LockWaiter> waiters_of(const std::vector<PendingWait> &pending) const {
        std::vector<LockWaiter> waiters;
        for (const auto &wait : pending) {
            LockWaiter waiter;
            waiter.thread = thread(wait.tid);
            waiter.since_ns = wait.since_ns;
            waiter.event = wait.event;
            waiter.seen_by_kernel = wait.seen_by_kernel;
            waiter.destroying = wait.destroying;
            waiters.push_back(std::move(waiter));
        }
        return waiters;
    }

    void finish_locks(LockTableModel &model) {
        for (auto &copy : copies_) {
            LockRow &row = copy.row;
            row.waiters = waiters_of(copy.pending);
            bool carries_state =
                !row.holders.empty() || !row.waiters.empty() || !row.inherited_waiters.empty();
            if (!copy.touched && !carries_state)
                continue; // an untouched, idle copy
            row.process_ended = process_ended(row.process);
            for (auto &waiting : row.inherited_waiters)
                name(waiting);
            name(row.history.last_taker);
            name(row.history.last_signaller);
            name(copy.outstanding_take);
            for (auto &holder : row.holders) {
                name(holder.thread);
                if (holder.thread.pid == 0)
                    holder.thread.pid = home_of(holder.thread.tid);
                holder.exists = thread_alive_at_end(holder.thread.tid);
            }
            if (copy.kernel_owner_exists && !row.holders.empty())
                row.holders.front().exists = *copy.kernel_owner_exists;
            if (row.name.empty())
                name_from_stacks(row);
            decide_state(copy);
            row.owner_text = owner_text(copy);
            row.state_text = state_text(copy);
            model.locks.push_back(std::move(row));
        }
        std::sort(model.locks.begin(), model.locks.end(), [](const LockRow &a, const LockRow &b) {
            return std::tie(a.state, a.process, a.name, a.address) <
                   std::tie(b.state, b.process, b.name, b.address);
        });
    }

    // An object no event names, as well as its waiters' native stacks allow: the function
    // they wait in, and who called it (CPython's lock primitive names a Python lock).
    void name_from_stacks(LockRow &row) const {
        for (const auto &waiter : row.waiters)
            for (const ThreadStack &stack : record_.stacks) {
                if (stack.ns_pid != row.process || stack.ns_tid != waiter.thread.tid)
                    continue;
                const StackWait wait = wait_from_stack(&stack);
                if (wait.function.empty())
                    continue;
                row.waited_in = wait.caller.empty()
                                    ? wait.function
                                    : fmt::format("{} in {}", wait.function, wait.caller);
                if (row.kind == SyncKind::futex)
                    row.kind = sync_kind_of(std::string_view(wait.object_kind));
                return;
            }
    }

    // The first holder that does not live in the copy's process, if any.
    static const LockHolder *absent_holder(const LockRow &row) {
        for (const auto &holder : row.holders)
            if (holder.thread.pid != 0 && holder.thread.pid != row.process)
                return &holder;
        return nullptr;
    }

    static void decide_state(Copy &copy) {
        LockRow &row = copy.row;
        if (has_owner(row.kind) && !row.holders.empty()) {
            row.orphaned = copy.kernel_orphaned.value_or(absent_holder(row) != nullptr);
            if (row.orphaned)
                row.state = LockState::orphaned;
            else
                row.state = row.waiters.empty() ? LockState::held : LockState::held_with_waiters;
        } else {
            row.state = row.waiters.empty() ? LockState::free : LockState::waited;
        }
    }

    static std::string holder_text(const LockHolder &holder) {
        std::string text = thread_label(holder.thread);
        text += holder.thread.pid ? fmt::format(" @ process {}", holder.thread.pid)
                                  : std::string(" @ an unknown process");
        if (holder.count > 1)
            text += fmt::format(" ({} times)", holder.count);
        return text;
    }

    static std::string owner_text(const Copy &copy) {
        const LockRow &row = copy.row;
        switch (row.kind) {
        case SyncKind::semaphore:
            return "no owner: a semaphore is only a count";
        case SyncKind::condition_variable:
            return "no owner: any thread may signal it";
        case SyncKind::barrier:
            return "no owner: it opens when enough threads arrive";
        case SyncKind::futex:
            return "unknown: no event names this futex";
        default:
            break;
        }
        if (row.holders.empty())
            return "free";
        std::string text;
        bool readers = row.holders.front().reader;
        if (readers)
            text = "read by ";
        for (std::size_t i = 0; i < row.holders.size(); ++i) {
            if (i > 0)
                text += ", ";
            text += holder_text(row.holders[i]);
        }
        if (readers)
            text += " (named by the trace: the kernel only counts readers)";
        return text;
    }

    static std::string waiters_sentence(const LockRow &row, std::string_view verb_one,
                                        std::string_view verb_many) {
        std::vector<ThreadRef> threads;
        for (const auto &waiter : row.waiters)
            threads.push_back(waiter.thread);
        std::string text = threads_phrase(threads);
        if (row.waiters.size() == 1)
            text += since_text(row.waiters.front().since_ns);
        return fmt::format("{} {}", text, row.waiters.size() == 1 ? verb_one : verb_many);
    }

    std::string state_text(const Copy &copy) const {
        const LockRow &row = copy.row;
        std::string text;
        switch (row.state) {
        case LockState::orphaned:
            text = orphaned_text(row);
            break;
        case LockState::held_with_waiters:
            text = fmt::format("held by {}; {}", holder_text(row.holders.front()),
                               waiters_sentence(row, "waits for it", "wait for it"));
            break;
        case LockState::held:
            text = fmt::format("held by {}; nobody waits for it", holder_text(row.holders.front()));
            break;
        case LockState::waited:
            text = ownerless_wait_text(copy);
            break;
        case LockState::free:
            text = has_owner(row.kind) ? "free at the end of the run"
                                       : "nobody waits on it at the end of the run";
            break;
        }
        if (!row.inherited_waiters.empty())
            text += fmt::format("; its copy still counts {} as waiting (fork copied the count of "
                                "waiters, not the threads)",
                                threads_phrase(row.inherited_waiters));
        if (row.replaced_by_exec)
            text += fmt::format(". Process {} then exec'd a new program: this copy is gone",
                                row.process);
        else if (row.process_ended)
            text += fmt::format(" (process {} has exited)", row.process);
        return text;
    }

    // "owner 'reader' (tid 3) exists only in process 2; thread 'main' of process 4 waits on its
    // copy. fork() copied it, locked, from process 2 at 25.3 ms."
    static std::string orphaned_text(const LockRow &row) {
        const LockHolder *owner = absent_holder(row);
        if (!owner)
            owner = &row.holders.front();
        std::string where;
        if (!owner->exists)
            where = "no longer exists";
        else if (owner->thread.pid != 0 && owner->thread.pid != row.process)
            where = fmt::format("exists only in process {}", owner->thread.pid);
        else
            where = fmt::format("does not exist in process {}", row.process);
        std::string text = fmt::format("owner {} {}", thread_label(owner->thread), where);
        std::string_view object = row.copied_from ? "its copy" : "it";
        if (!row.waiters.empty()) {
            std::vector<ThreadRef> threads;
            for (const auto &waiter : row.waiters)
                threads.push_back(waiter.thread);
            text += fmt::format("; {} of process {} {} on {}", threads_phrase(threads), row.process,
                                threads.size() == 1 ? "waits" : "wait", object);
        } else {
            text += fmt::format("; nobody in process {} waits on {} yet, but whoever takes it "
                                "will wait for ever",
                                row.process, object);
        }
        if (row.copied_from)
            text += fmt::format(". fork() copied it, locked, from process {} at {:.1f} ms",
                                row.copied_from, to_ms(row.copied_at_ns));
        return text;
    }

    static std::string ownerless_wait_text(const Copy &copy) {
        const LockRow &row = copy.row;
        switch (row.kind) {
        case SyncKind::semaphore: {
            std::string text = fmt::format(
                "{}; a semaphore has no owner: it is only a count, and nothing records who "
                "should post it",
                waiters_sentence(row, "waits on it", "wait on it"));
            if (copy.outstanding_take)
                text += fmt::format("; the trace shows it was last taken by {}, with no post since",
                                    thread_label(*copy.outstanding_take));
            return text;
        }
        case SyncKind::condition_variable: {
            bool destroying = std::any_of(row.waiters.begin(), row.waiters.end(),
                                          [](const LockWaiter &w) { return w.destroying; });
            std::string text =
                destroying
                    ? fmt::format("{}: pthread_cond_destroy waits until every waiter has left",
                                  waiters_sentence(row, "destroys it", "destroy it"))
                    : fmt::format(
                          "{}; a condition variable has no owner: any thread may "
                          "signal it",
                          waiters_sentence(row, "waits to be signalled", "wait to be signalled"));
            if (row.history.last_signaller)
                text += fmt::format("; last signalled by {}",
                                    thread_label(*row.history.last_signaller));
            return text;
        }
        case SyncKind::barrier:
            return fmt::format("{} for the other threads to arrive; a barrier has no owner",
                               waiters_sentence(row, "waits at it", "wait at it"));
        case SyncKind::futex:
            return fmt::format("{}; no event names this futex, so what it is and who would wake "
                               "it are unknown",
                               waiters_sentence(row, "waits on it", "wait on it"));
        default:
            return fmt::format("{}, yet by the trace nobody holds it",
                               waiters_sentence(row, "waits for it", "wait for it"));
        }
    }

    // ---- file locks ---------------------------------------------------------------------------

    void finish_file_locks(LockTableModel &model) {
        const Snapshot *detailed = latest(record_.snapshots, true);
        std::map<std::pair<std::string, std::uint64_t>, FileLockRow> seen; // (device, inode)
        if (detailed) {
            model.file_locks_seen_ns = detailed->time_ns - record_.start_time_ns;
            model.file_locks_note =
                live_ || is_hang(record_.verdict.kind) || !has_outcome(record_.verdict.kind)
                    ? fmt::format("/proc/locks (and each process's fdinfo) in the last detailed "
                                  "sample, at {:.1f} ms",
                                  to_ms(model.file_locks_seen_ns))
                    : fmt::format("/proc/locks at {:.1f} ms, the last detailed sample: what was "
                                  "held then, before the run ended",
                                  to_ms(model.file_locks_seen_ns));
            for (const auto &entry : detailed->file_locks) {
                FileLockRow &row = seen[{entry.device, entry.inode}];
                row.inode = entry.inode;
                row.device = entry.device;
                if (row.kind.empty())
                    row.kind = entry.type;
                FileLockParty party;
                party.host_pid = entry.pid;
                if (const ProcessSnapshot *process = detailed->find_process(entry.pid))
                    party.pid = process->ns_pid;
                party.type = entry.type;
                party.write = entry.write;
                party.range = entry.start.empty() ? std::string()
                                                  : fmt::format("{}-{}", entry.start, entry.end);
                party.fd = entry.waiting ? waiting_fd(*detailed, entry) : entry.fd;
                auto &parties = entry.waiting ? row.waiters : row.holders;
                // /proc/locks and fdinfo may both list one holding process; fdinfo names its fd.
                auto known = std::find_if(parties.begin(), parties.end(), [&](const auto &p) {
                    return p.host_pid == party.host_pid && p.type == party.type &&
                           p.write == party.write &&
                           (p.fd < 0 || party.fd < 0 || p.fd == party.fd);
                });
                if (known == parties.end())
                    parties.push_back(std::move(party));
                else if (known->fd < 0)
                    known->fd = party.fd;
            }
        } else {
            model.file_locks_note = "no detailed sample was taken: file locks come from the "
                                    "trace only";
        }
        // Join the trace's view (names, waiting threads, history) by inode.
        for (auto &[inode, file] : files_) {
            // An init-capture: clang before 16 (the fuzz build) cannot capture a structured binding.
            auto match = std::find_if(seen.begin(), seen.end(), [key = inode](const auto &item) {
                return item.first.second == key;
            });
            FileLockRow &row = match != seen.end() ? match->second : seen[{"", inode}];
            row.inode = inode;
            if (!file.row.name.empty())
                row.name = file.row.name;
            if (!file.row.kind.empty())
                row.kind = file.row.kind;
            row.history = file.row.history;
            name(row.history.last_taker);
            row.verdict_text = file.row.verdict_text;
            row.trace_waiters = waiters_of(file.pending);
            for (auto &holder : file.holders)
                if (!process_ended(holder.thread.pid)) {
                    holder.exists = thread_alive_at_end(holder.thread.tid);
                    row.trace_holders.push_back(holder);
                }
        }
        for (auto &[key, row] : seen) {
            decide_file_state(row);
            model.file_locks.push_back(std::move(row));
        }
        std::sort(model.file_locks.begin(), model.file_locks.end(),
                  [](const FileLockRow &a, const FileLockRow &b) {
                      return std::tie(a.state, a.inode) < std::tie(b.state, b.inode);
                  });
    }

    // The fd a blocked request asks through: /proc/locks names only the process, the blocked
    // thread's flock/fcntl call names the fd.
    static int waiting_fd(const Snapshot &snapshot, const FileLockEntry &entry) {
        const ProcessSnapshot *process = snapshot.find_process(entry.pid);
        if (!process)
            return -1;
        for (const auto &thread : process->threads)
            if (thread.wait == WaitKind::file_lock && thread.fd >= 0 &&
                (thread.fd_inode == 0 || thread.fd_inode == entry.inode))
                return thread.fd;
        return -1;
    }

    static std::string party_text(const FileLockParty &party) {
        std::string who = party.pid ? fmt::format("process {}", party.pid)
                          : party.host_pid == -1
                              ? std::string("an open file description (an OFD lock has no process)")
                              : fmt::format("host pid {} (outside the sandbox)", party.host_pid);
        if (party.fd >= 0)
            who += fmt::format(" through fd {}", party.fd);
        return fmt::format("{} ({} {})", who, party.type, party.write ? "WRITE" : "READ");
    }

    // " Process 3 holds it through fd 4 and waits for it through fd 5: ..." when one process is
    // on both lists of a lock that belongs to an open file description.
    static std::string held_and_waited_by_one_process(const FileLockRow &row) {
        std::string text;
        for (const auto &waiter : row.waiters) {
            if (waiter.pid == 0 || (waiter.type != "FLOCK" && waiter.type != "OFDLCK"))
                continue;
            for (const auto &holder : row.holders) {
                if (holder.pid != waiter.pid)
                    continue;
                text += fmt::format(
                    ". Process {} holds it {} and waits for it {}: a {} belongs to the open file "
                    "description, not to the process, so the two fds are two owners",
                    waiter.pid,
                    holder.fd >= 0 ? fmt::format("through fd {}", holder.fd)
                                   : std::string("through one open file description"),
                    waiter.fd >= 0 ? fmt::format("through fd {}", waiter.fd)
                                   : std::string("through another"),
                    waiter.type == "FLOCK" ? "flock" : "OFD lock");
                break;
            }
        }
        return text;
    }

    static void decide_file_state(FileLockRow &row) {
        // The kernel's lists when this file was in the sample, else the trace's.
        bool from_kernel = !row.holders.empty() || !row.waiters.empty();
        std::vector<std::string> holders, waiters;
        if (from_kernel) {
            for (const auto &party : row.holders)
                holders.push_back(party_text(party));
            for (const auto &party : row.waiters)
                waiters.push_back(party_text(party));
        } else {
            for (const auto &holder : row.trace_holders)
                holders.push_back(fmt::format("{} of process {}", thread_label(holder.thread),
                                              holder.thread.pid));
            for (const auto &waiter : row.trace_waiters)
                waiters.push_back(fmt::format("{} of process {}{}", thread_label(waiter.thread),
                                              waiter.thread.pid, since_text(waiter.since_ns)));
        }
        if (!holders.empty())
            row.state = waiters.empty() ? LockState::held : LockState::held_with_waiters;
        else
            row.state = waiters.empty() ? LockState::free : LockState::waited;
        std::string source = from_kernel ? "/proc/locks" : "the trace";
        if (holders.empty() && waiters.empty()) {
            row.state_text = "nobody holds or waits for it at the end of the run";
            return;
        }
        row.state_text = fmt::format("by {}: ", source);
        if (!holders.empty())
            row.state_text += fmt::format("held by {}", fmt::join(holders, ", "));
        if (!holders.empty() && !waiters.empty())
            row.state_text += "; ";
        if (!waiters.empty())
            row.state_text += fmt::format("requested by {}", fmt::join(waiters, ", "));
        if (from_kernel)
            row.state_text += held_and_waited_by_one_process(row);
    }

    const RunRecord &record_;
    bool live_;
    std::unordered_map<pid_t, pid_t> home_;        // thread -> the process it lives in
    std::unordered_map<pid_t, std::string> names_; // thread -> name
    std::unordered_map<pid_t, ForkOrigin> fork_origin_;
    std::set<pid_t> born_;
    pid_t last_born_ = 0;
    std::set<pid_t> exited_threads_;
    std::set<pid_t> waiting_threads_; // inside some wait by the trace (locks, joins ...)
    std::vector<Copy> copies_;        // every copy ever made, in order
    std::map<std::pair<pid_t, std::uint64_t>, std::size_t> active_; // (process, address) -> copy
    std::map<std::uint64_t, FileTrace> files_;                      // by inode
};

} // namespace

LockTableModel build_lock_table(const RunRecord &record, bool live) {
    return Builder(record, live).build();
}

} // namespace forklore::gui
