// The lock replay's sentences for students (see lock_replayer.hpp): who owns a copy, why it is in
// its state (an orphaned lock says which owner is missing and that fork copied it locked), and who
// holds and requests a file lock, by /proc/locks or by the trace.
//
// Index of this file:
// [SECTION] Threads in words
// [SECTION] Owners
// [SECTION] States of in-memory copies
// [SECTION] File locks
#include "sim/record/lock_replayer.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace forklore::lock_replay_detail {

namespace {

// ---------------------------------------------------------------------------------------------
// [SECTION] Threads in words
// ---------------------------------------------------------------------------------------------

std::string since_text(std::int64_t since_ns) {
    return since_ns == kUnknownTime ? std::string()
                                    : fmt::format(" since {:.1f} ms", to_ms(since_ns));
}

// "thread 'main'", "threads 'a' (tid 3) and 'b' (tid 4)"
std::string threads_phrase(const std::vector<ThreadRef>& threads) {
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

std::string waiters_sentence(const LockCopy& row, std::string_view verb_one,
                             std::string_view verb_many) {
    std::vector<ThreadRef> threads;
    for (const auto& waiter : row.waiters)
        threads.push_back(waiter.thread);
    std::string text = threads_phrase(threads);
    if (row.waiters.size() == 1)
        text += since_text(row.waiters.front().since_ns);
    return fmt::format("{} {}", text, row.waiters.size() == 1 ? verb_one : verb_many);
}

std::string holder_text(const LockHolder& holder) {
    std::string text = thread_label(holder.thread);
    text += holder.thread.pid ? fmt::format(" @ process {}", holder.thread.pid)
                              : std::string(" @ an unknown process");
    if (holder.count > 1)
        text += fmt::format(" ({} times)", holder.count);
    return text;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] Owners
// ---------------------------------------------------------------------------------------------

std::string owner_text(const LockCopy& row) {
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

// ---------------------------------------------------------------------------------------------
// [SECTION] States of in-memory copies
// ---------------------------------------------------------------------------------------------

namespace {

// "owner 'reader' (tid 3) exists only in process 2; thread 'main' of process 4 waits on its
// copy. fork() copied it, locked, from process 2 at 25.3 ms."
std::string orphaned_text(const LockCopy& row) {
    const LockHolder* owner = absent_holder(row);
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
        for (const auto& waiter : row.waiters)
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

std::string ownerless_wait_text(const LockCopy& row,
                                const std::optional<ThreadRef>& outstanding_take) {
    switch (row.kind) {
    case SyncKind::semaphore: {
        std::string text =
            fmt::format("{}; a semaphore has no owner: it is only a count, and nothing records who "
                        "should post it",
                        waiters_sentence(row, "waits on it", "wait on it"));
        if (outstanding_take)
            text += fmt::format("; the trace shows it was last taken by {}, with no post since",
                                thread_label(*outstanding_take));
        return text;
    }
    case SyncKind::condition_variable: {
        bool destroying = std::any_of(row.waiters.begin(), row.waiters.end(),
                                      [](const LockWaiter& w) { return w.destroying; });
        std::string text =
            destroying ? fmt::format("{}: pthread_cond_destroy waits until every waiter has left",
                                     waiters_sentence(row, "destroys it", "destroy it"))
                       : fmt::format("{}; a condition variable has no owner: any thread may "
                                     "signal it",
                                     waiters_sentence(row, "waits to be signalled",
                                                      "wait to be signalled"));
        if (row.history.last_signaller)
            text +=
                fmt::format("; last signalled by {}", thread_label(*row.history.last_signaller));
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

} // namespace

std::string state_text(const LockCopy& row, const std::optional<ThreadRef>& outstanding_take) {
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
        text = ownerless_wait_text(row, outstanding_take);
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
        text +=
            fmt::format(". Process {} then exec'd a new program: this copy is gone", row.process);
    else if (row.process_ended)
        text += fmt::format(" (process {} has exited)", row.process);
    return text;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] File locks
// ---------------------------------------------------------------------------------------------

namespace {

std::string party_text(const FileLockParty& party) {
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
std::string held_and_waited_by_one_process(const ReplayedFileLock& row) {
    std::string text;
    for (const auto& waiter : row.waiters) {
        if (waiter.pid == 0 || (waiter.type != "FLOCK" && waiter.type != "OFDLCK"))
            continue;
        for (const auto& holder : row.holders) {
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

} // namespace

void decide_file_state(ReplayedFileLock& row) {
    // The kernel's lists when this file was in the sample, else the trace's.
    bool from_kernel = !row.holders.empty() || !row.waiters.empty();
    std::vector<std::string> holders, waiters;
    if (from_kernel) {
        for (const auto& party : row.holders)
            holders.push_back(party_text(party));
        for (const auto& party : row.waiters)
            waiters.push_back(party_text(party));
    } else {
        for (const auto& holder : row.trace_holders)
            holders.push_back(
                fmt::format("{} of process {}", thread_label(holder.thread), holder.thread.pid));
        for (const auto& waiter : row.trace_waiters)
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

} // namespace forklore::lock_replay_detail
