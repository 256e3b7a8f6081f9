// The fork-aware lock replay (lock_replay.hpp): its names and labels, its steps in order, who is
// who, the copies fork makes, and the end state of each copy. The trace's events are replayed in
// lock_replay_events.cpp, the kernel's corrections in lock_replay_kernel.cpp, the sentences in
// lock_sentences.cpp (see lock_replayer.hpp).
//
// Index of this file:
// [SECTION] Names and labels
// [SECTION] The replay, step by step
// [SECTION] Who is who
// [SECTION] Copies: what fork duplicates, what exec ends
// [SECTION] The end of the run: waiters, names, states
#include "sim/record/lock_replayer.hpp"

#include "sim/protocol/start_method.hpp"
#include "sim/protocol/verdict_kind.hpp"
#include "sim/verdict/explain.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace forklore {

// ---------------------------------------------------------------------------------------------
// [SECTION] Names and labels
// ---------------------------------------------------------------------------------------------

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

std::string thread_label(const ThreadRef& thread) {
    if (thread.name.empty())
        return fmt::format("(tid {})", thread.tid);
    return fmt::format("'{}' (tid {})", thread.name, thread.tid);
}

std::string LockCopy::label() const {
    if (!name.empty())
        return fmt::format("'{}'", name);
    return waited_in.empty() ? fmt::format("{:#x}", address)
                             : fmt::format("{:#x} ({})", address, waited_in);
}

std::string ReplayedFileLock::label() const {
    return name.empty() ? fmt::format("inode {}", inode)
                        : fmt::format("'{}' (inode {})", name, inode);
}

LockReplay replay_locks(const RunRecord& record, bool live) {
    return lock_replay_detail::LockReplayer(record, live).run();
}

namespace lock_replay_detail {

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

// ---------------------------------------------------------------------------------------------
// [SECTION] The replay, step by step
// ---------------------------------------------------------------------------------------------

LockReplay LockReplayer::run() {
    index_threads_and_forks();
    for (std::size_t i = 0; i < record_.events.size(); ++i)
        replay(record_.events[i], i);
    apply_verdict();
    if (sample_is_the_end())
        apply_last_sample();
    LockReplay replay;
    finish_locks(replay);
    finish_file_locks(replay);
    return replay;
}

bool LockReplayer::sample_is_the_end() const {
    return live_ || is_hang(record_.verdict.kind) || !has_outcome(record_.verdict.kind);
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Who is who
// ---------------------------------------------------------------------------------------------

void LockReplayer::index_threads_and_forks() {
    for (const auto& process : record_.processes)
        for (const auto& [tid, name] : process.threads) {
            home_.emplace(tid, process.ns_pid);
            if (!name.empty())
                names_.emplace(tid, name);
        }
    for (const auto& event : record_.events) {
        if (event.pid > 0 && event.tid > 0)
            home_.emplace(event.tid, event.pid);
        if (event.kind == EventKind::thread_start)
            names_[event.tid] = std::string(field_text(event.name));
        if (event.tid > 0 && event.thread[0])
            names_.emplace(event.tid, std::string(field_text(event.thread)));
        if (event.kind == EventKind::child_start &&
            copies_memory(static_cast<StartMethod>(event.arg0)))
            fork_origin_[static_cast<pid_t>(event.object)] = {event.pid, event.tid};
    }
    // Dropped child_start events: the process list still says how each process was made.
    for (const auto& process : record_.processes)
        if (process.start_method && copies_memory(*process.start_method) &&
            process.parent_ns_pid > 0)
            fork_origin_.emplace(process.ns_pid, ForkOrigin{process.parent_ns_pid, 0});
}

pid_t LockReplayer::home_of(pid_t tid) const {
    auto found = home_.find(tid);
    return found == home_.end() ? 0 : found->second;
}
std::string LockReplayer::name_of(pid_t tid) const {
    auto found = names_.find(tid);
    return found == names_.end() ? std::string() : found->second;
}
void LockReplayer::name(ThreadRef& thread) const {
    if (thread.name.empty())
        thread.name = name_of(thread.tid);
}
void LockReplayer::name(std::optional<ThreadRef>& thread) const {
    if (thread)
        name(*thread);
}

bool LockReplayer::process_ended(pid_t pid) const {
    const ProcessRecord* process = record_.find_process(pid);
    return process && process->wait_status.known();
}
// Alive when the run ended: its process was not reaped and it did not exit. (A process the
// runner killed at the end was alive at the verdict, which is the moment the table shows.)
bool LockReplayer::thread_alive_at_end(pid_t tid) const {
    pid_t home = home_of(tid);
    return home != 0 && !process_ended(home) && exited_threads_.count(tid) == 0;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Copies: what fork duplicates, what exec ends
// ---------------------------------------------------------------------------------------------

// The first time process `pid` shows up: a forked process starts with a copy of every object
// of its parent, in the state the parent had at this instant (the fork happened just before
// the parent's child_start event or the child's first event, whichever came first).
void LockReplayer::be_born(pid_t pid, std::int64_t t) {
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
        const Copy& parent = copies_[index];
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
            for (const auto& waiting : parent.pending)
                if (!waiting.destroying)
                    copy.row.inherited_waiters.push_back(bare(waiting.tid));
        copies_.push_back(std::move(copy));
        active_[{pid, copies_.back().row.address}] = copies_.size() - 1;
    }
}

// The copy of the object at `address` in `pid`, made fresh when the trace has not seen it
// there, or when the address now names another object (a stack slot reused).
Copy& LockReplayer::copy_at(pid_t pid, std::uint64_t address, SyncKind kind,
                            std::string_view name) {
    auto found = active_.find({pid, address});
    if (found != active_.end()) {
        Copy& existing = copies_[found->second];
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
Copy* LockReplayer::copy_containing(pid_t pid, std::uint64_t address) {
    auto it = active_.upper_bound({pid, address});
    if (it == active_.begin())
        return nullptr;
    --it;
    if (it->first.first != pid || address - it->first.second >= kLargestObject)
        return nullptr;
    return &copies_[it->second];
}

// exec replaced the process's memory: its copies are gone, later events make new ones.
void LockReplayer::retire(pid_t pid) {
    auto it = active_.lower_bound({pid, 0});
    while (it != active_.end() && it->first.first == pid) {
        copies_[it->second].row.replaced_by_exec = true;
        it = active_.erase(it);
    }
}

// ---------------------------------------------------------------------------------------------
// [SECTION] The end of the run: waiters, names, states
// ---------------------------------------------------------------------------------------------

std::vector<LockWaiter> LockReplayer::waiters_of(const std::vector<PendingWait>& pending) const {
    std::vector<LockWaiter> waiters;
    for (const auto& wait : pending) {
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

void LockReplayer::finish_locks(LockReplay& replay) {
    for (auto& copy : copies_) {
        LockCopy& row = copy.row;
        row.waiters = waiters_of(copy.pending);
        bool carries_state =
            !row.holders.empty() || !row.waiters.empty() || !row.inherited_waiters.empty();
        if (!copy.touched && !carries_state)
            continue; // an untouched, idle copy
        row.process_ended = process_ended(row.process);
        for (auto& waiting : row.inherited_waiters)
            name(waiting);
        name(row.history.last_taker);
        name(row.history.last_signaller);
        name(copy.outstanding_take);
        for (auto& holder : row.holders) {
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
        row.owner_text = owner_text(row);
        row.state_text = state_text(row, copy.outstanding_take);
        replay.locks.push_back(std::move(row));
    }
}

// An object no event names, as well as its waiters' native stacks allow: the function
// they wait in, and who called it (CPython's lock primitive names a Python lock).
void LockReplayer::name_from_stacks(LockCopy& row) const {
    for (const auto& waiter : row.waiters)
        for (const ThreadStack& stack : record_.stacks) {
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
const LockHolder* absent_holder(const LockCopy& row) {
    for (const auto& holder : row.holders)
        if (holder.thread.pid != 0 && holder.thread.pid != row.process)
            return &holder;
    return nullptr;
}

void decide_state(Copy& copy) {
    LockCopy& row = copy.row;
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

} // namespace lock_replay_detail

} // namespace forklore
