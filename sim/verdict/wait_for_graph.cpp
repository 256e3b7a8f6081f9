// The wait-for graph: one edge for each blocked thread of a proven deadlock, saying what it
// waits for and who could end the wait, from the snapshot (/proc), the trace and native stacks.
// Which deadlock the graph shows is choose_reason.cpp's decision.
//
// Index of this file:
// [SECTION] Futex waits: locks and their owners
// [SECTION] File-lock waits
// [SECTION] Child waits
// [SECTION] Pipe and socket waits
// [SECTION] One edge for each blocked thread
#include "sim/verdict/verdict.hpp"

#include "sim/verdict/explain.hpp"
#include "sim/verdict/snapshot_queries.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace forklore {

std::string_view to_string(WaitEdge::Kind kind) {
    switch (kind) {
    case WaitEdge::Kind::lock:
        return "lock";
    case WaitEdge::Kind::file_lock:
        return "file_lock";
    case WaitEdge::Kind::child:
        return "child";
    case WaitEdge::Kind::pipe:
        return "pipe";
    case WaitEdge::Kind::unknown:
        return "unknown";
    case WaitEdge::Kind::signal:
        return "signal";
    }
    return "unknown";
}

namespace {

// Everything a builder needs to know about one blocked thread.
struct BlockedThread {
    const Snapshot& snapshot;
    const std::vector<Event>& events;
    const ProcessSnapshot& process;
    const ThreadSnapshot& thread;
    const ThreadStack* stack; // its native stack when one was taken, else null
};

// ---------------------------------------------------------------------------------------------
// [SECTION] Futex waits: locks and their owners
// ---------------------------------------------------------------------------------------------

void describe_lock_owner(WaitEdge& edge, const BlockedThread& blocked, pid_t owner) {
    edge.owner_tid = owner;
    ThreadLocation location = find_live_thread(blocked.snapshot, owner);
    edge.owner_exists = location.thread != nullptr;
    edge.orphaned = !has_live_thread(blocked.process, owner);
    std::string whereabouts;
    if (edge.owner_exists) {
        edge.owner_pid = location.process->ns_pid;
        edge.owner_thread = location.thread->name;
        whereabouts = edge.orphaned
                          ? fmt::format(", which exists only in process {}", edge.owner_pid)
                          : fmt::format(" of process {}", edge.owner_pid);
    } else {
        edge.owner_thread = recorded_thread_name(blocked.events, owner);
        whereabouts = ", which no longer exists";
    }
    edge.description =
        fmt::format("{} waits for {} held by {}{}", waiter_phrase(edge), lock_label(edge),
                    thread_phrase(edge.owner_thread, owner), whereabouts);
}

void describe_futex_wait(WaitEdge& edge, const BlockedThread& blocked) {
    edge.kind = WaitEdge::Kind::lock;
    edge.address = blocked.thread.futex_address;
    edge.futex_address = blocked.thread.futex_address;
    // The trace knows which object the futex word belongs to: a rwlock's, a semaphore's or a
    // barrier's waiters sleep on a word inside it, not at its first byte. The object's own
    // address is the one every event and every sentence names.
    const Event* pending = pending_wait_of(blocked.events, blocked.thread.ns_tid);
    if (pending && !futex_belongs_to(*pending, edge.futex_address))
        pending = nullptr;
    if (pending && pending->kind != EventKind::join_wait) {
        edge.address = pending->object;
        edge.lock_name = std::string(field_text(pending->name));
        if (pending->kind == EventKind::lock_wait)
            edge.object_kind = std::string(to_string(static_cast<LockKind>(pending->arg0)));
    } else {
        edge.lock_name = recorded_lock_name(blocked.events, edge.address);
    }
    // Nothing recorded: the native stack says which kind of object the futex belongs to.
    StackWait from_stack;
    if (!pending) {
        from_stack = wait_from_stack(blocked.stack);
        if (edge.object_kind.empty())
            edge.object_kind = from_stack.object_kind;
        if (edge.lock_name.empty())
            edge.known_as = from_stack.glibc_lock;
    }
    // glibc keeps a mutex's owner in its lock word, and a write-locked rwlock's in __cur_writer.
    pid_t owner = blocked.thread.owner_ns_tid.value_or(0);
    if (owner > 0) {
        describe_lock_owner(edge, blocked, owner);
        return;
    }
    describe_unowned_wait(
        edge, pending, blocked.events,
        [&](pid_t tid) -> pid_t {
            ThreadLocation location = find_live_thread(blocked.snapshot, tid);
            return location.process ? location.process->ns_pid : 0;
        },
        from_stack);
}

// ---------------------------------------------------------------------------------------------
// [SECTION] File-lock waits
// ---------------------------------------------------------------------------------------------

// The inode the thread waits to lock: from its own file_lock_wait event when recorded (exact
// per thread), else from its process's blocked request in /proc/locks.
std::optional<std::uint64_t> waited_inode(const BlockedThread& blocked, std::string* device) {
    if (auto inode = pending_file_lock_inode(blocked.events, blocked.thread.ns_tid))
        return inode;
    for (const auto& entry : blocked.snapshot.file_locks) {
        if (entry.waiting && entry.pid == blocked.process.pid) {
            *device = entry.device;
            return entry.inode;
        }
    }
    return std::nullopt;
}

// The fd the thread asks for the file lock through: its own file_lock_wait event's, else the
// first argument of its blocking flock/fcntl call.
int waiting_fd(const BlockedThread& blocked) {
    for (auto e = blocked.events.rbegin(); e != blocked.events.rend(); ++e) {
        if (e->tid != blocked.thread.ns_tid)
            continue;
        if (e->kind == EventKind::file_lock_wait)
            return static_cast<int>(e->object);
        if (e->kind == EventKind::file_lock_acquired || e->kind == EventKind::file_lock_released)
            break;
    }
    return blocked.thread.fd;
}

// "fd 4 of process 2 and fd 4 of process 3" ("process 2" where /proc named no fd).
std::string holding_fds_phrase(const std::vector<WaitEdge::HoldingFd>& fds) {
    std::vector<std::string> parts;
    for (const auto& holder : fds)
        parts.push_back(holder.fd >= 0 ? fmt::format("fd {} of process {}", holder.fd, holder.pid)
                                       : fmt::format("process {}", holder.pid));
    if (parts.size() <= 1)
        return fmt::format("{}", fmt::join(parts, ""));
    std::vector<std::string> all_but_last(parts.begin(), parts.end() - 1);
    return fmt::format("{} and {}", fmt::join(all_but_last, ", "), parts.back());
}

void describe_file_lock_wait(WaitEdge& edge, const BlockedThread& blocked) {
    edge.kind = WaitEdge::Kind::file_lock;
    edge.waiter_fd = waiting_fd(blocked);
    std::string device;
    std::optional<std::uint64_t> inode = waited_inode(blocked, &device);
    std::vector<pid_t> holders;
    std::string description_lock; // "flock" or "OFD lock": owned by an open file description
    bool exclusive = true;        // every holder holds it for writing: one description holds it
    if (inode) {
        edge.address = *inode;
        edge.lock_name = recorded_file_lock_name(blocked.events, *inode);
        for (const auto& entry : blocked.snapshot.file_locks) {
            bool same_file = entry.inode == *inode && (device.empty() || entry.device == device);
            pid_t holder = ns_pid_of_host_pid(blocked.snapshot, entry.pid);
            if (!same_file || entry.waiting || holder == 0)
                continue;
            if (std::find(holders.begin(), holders.end(), holder) == holders.end())
                holders.push_back(holder);
            WaitEdge::HoldingFd holding{holder, entry.fd};
            if (std::find(edge.holding_fds.begin(), edge.holding_fds.end(), holding) ==
                edge.holding_fds.end())
                edge.holding_fds.push_back(holding);
            if (entry.type == "FLOCK")
                description_lock = "flock";
            if (entry.type == "OFDLCK")
                description_lock = "OFD lock";
            exclusive = exclusive && entry.write;
        }
    }
    // /proc/locks names a flock's first taker without an fd; its fdinfo line names the fd.
    std::erase_if(edge.holding_fds, [&](const WaitEdge::HoldingFd& holding) {
        return holding.fd < 0 && std::any_of(edge.holding_fds.begin(), edge.holding_fds.end(),
                                             [&](const WaitEdge::HoldingFd& other) {
                                                 return other.pid == holding.pid && other.fd >= 0;
                                             });
    });
    std::string what = edge.lock_name.empty() ? std::string("a file lock")
                                              : fmt::format("file lock '{}'", edge.lock_name);
    if (inode)
        what += fmt::format(" (inode {})", *inode);
    std::string through = edge.waiter_fd >= 0 ? fmt::format(" through fd {}", edge.waiter_fd) : "";
    if (holders.empty()) {
        edge.description = fmt::format("{} waits{} for {}, held by an unknown process",
                                       waiter_phrase(edge), through, what);
        return;
    }
    // The owner the chain follows: another process when there is one (the waiter's own process
    // holding it too is the point of the sentence, not where the chain goes).
    auto other = std::find_if(holders.begin(), holders.end(),
                              [&](pid_t pid) { return pid != edge.waiter_pid; });
    edge.owner_pid = other != holders.end() ? *other : holders.front();
    edge.owner_exists = true;
    const bool own_process_holds =
        std::find(holders.begin(), holders.end(), edge.waiter_pid) != holders.end();
    if (!description_lock.empty() && own_process_holds) {
        // A process holds it through one open file description and asks through another.
        std::vector<WaitEdge::HoldingFd> own;
        for (const auto& holding : edge.holding_fds)
            if (holding.pid == edge.waiter_pid && holding.fd >= 0)
                own.push_back(holding);
        std::string own_fds;
        for (const auto& holding : own)
            own_fds += fmt::format("{}fd {}", own_fds.empty() ? "" : " and ", holding.fd);
        edge.description = fmt::format(
            "{} waits{} for {}, which its own process {} holds{}: a {} belongs to the open file "
            "description, not to the process, so holding it through {} does not let {} in",
            waiter_phrase(edge), through, what, edge.waiter_pid,
            own_fds.empty() ? " through another open file description"
                            : " through " + own_fds + ", another open file description",
            description_lock, own_fds.empty() ? "one description" : own_fds,
            edge.waiter_fd >= 0 ? fmt::format("fd {}", edge.waiter_fd) : "another");
        if (holders.size() > 1)
            edge.description +=
                fmt::format("; {} hold it{}", holding_fds_phrase(edge.holding_fds),
                            exclusive ? ", the one open file description they share" : "");
        return;
    }
    if (holders.size() > 1 && !description_lock.empty()) {
        // Every process with an fd on the holding description holds the lock.
        edge.description =
            fmt::format("{} waits{} for {}, held through an open file description that {} share",
                        waiter_phrase(edge), through, what, holding_fds_phrase(edge.holding_fds));
        return;
    }
    // A POSIX (fcntl) lock belongs to its process, whichever fd took it.
    std::string by = fmt::format("process{} {}", holders.size() > 1 ? "es" : "", pid_list(holders));
    if (!description_lock.empty() && edge.holding_fds.size() == 1 && edge.holding_fds[0].fd >= 0)
        by += fmt::format(" through fd {}", edge.holding_fds[0].fd);
    else if (!description_lock.empty())
        by = holding_fds_phrase(edge.holding_fds);
    edge.description =
        fmt::format("{} waits{} for {} held by {}", waiter_phrase(edge), through, what, by);
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Child waits
// ---------------------------------------------------------------------------------------------

void describe_child_wait(WaitEdge& edge, const BlockedThread& blocked) {
    edge.kind = WaitEdge::Kind::child;
    // The wait4/waitid argument is a pid as the waiter sees it: a namespace pid.
    pid_t waited = blocked.thread.waited_pid;
    if (waited > 0) {
        edge.owner_pid = waited;
        edge.owner_exists = find_live_process(blocked.snapshot, waited) != nullptr;
        edge.description =
            fmt::format("{} waits for child process {} to exit", waiter_phrase(edge), waited);
        return;
    }
    std::vector<pid_t> children; // -1, 0 and -pgid: any of its children may end the wait
    for (const auto& process : blocked.snapshot.processes)
        if (process.ppid == blocked.process.pid && !process.infrastructure && is_live(process))
            children.push_back(process.ns_pid);
    if (children.empty()) {
        edge.description =
            fmt::format("{} waits for any child to exit, but none is running", waiter_phrase(edge));
        return;
    }
    edge.owner_pid = children.front();
    edge.owner_exists = true;
    edge.description =
        fmt::format("{} waits for a child to exit (running: process{} {})", waiter_phrase(edge),
                    children.size() > 1 ? "es" : "", pid_list(children));
}

// A fork server's child is waited for by reading the status the server sends on a socket: the
// trace says which child, so the wait is a wait for that child, not for a writer.
bool describe_forkserver_child_wait(WaitEdge& edge, const BlockedThread& blocked) {
    const Event* wait = pending_child_wait_of(blocked.events, blocked.thread.ns_tid);
    if (!wait || wait->arg0 < 0 || wait->arg0 != blocked.thread.fd)
        return false;
    edge.kind = WaitEdge::Kind::child;
    edge.owner_pid = static_cast<pid_t>(wait->object);
    edge.owner_exists = find_live_process(blocked.snapshot, edge.owner_pid) != nullptr;
    edge.description = fmt::format(
        "{} waits for child process {} to exit, made by the fork server, which reports its exit "
        "on fd {}",
        waiter_phrase(edge), edge.owner_pid, blocked.thread.fd);
    return true;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Pipe and socket waits
// ---------------------------------------------------------------------------------------------

bool holds_writable(const ProcessSnapshot& process, const std::string& target) {
    return std::any_of(
        process.channel_ends.begin(), process.channel_ends.end(),
        [&](const OpenChannelEnd& end) { return end.writable && end.target == target; });
}

bool holds_open(const ProcessSnapshot& process, const std::string& target) {
    return std::any_of(process.channel_ends.begin(), process.channel_ends.end(),
                       [&](const OpenChannelEnd& end) { return end.target == target; });
}

// A unix socket reader is woken by whoever holds the socket's other end, a different inode from
// its own (the reader's own fd is never a way in). False when that other end is unknown: the
// caller then matches the reader's own inode, as for a pipe.
bool describe_socket_wait(WaitEdge& edge, const BlockedThread& blocked, const std::string& what) {
    const std::string& peer = blocked.thread.fd_peer_target;
    if (peer.empty())
        return false;
    if (peer == kPeerClosed) {
        // Nobody can send any more: a stream reads end-of-file, a datagram socket waits for ever.
        edge.description = fmt::format("{} reads from {}, whose other end has been closed",
                                       waiter_phrase(edge), what);
        return true;
    }
    std::vector<pid_t> holders;
    for (const auto& process : blocked.snapshot.processes)
        if (&process != &blocked.process && !process.infrastructure && is_live(process) &&
            holds_open(process, peer))
            holders.push_back(process.ns_pid);
    if (!holders.empty()) {
        edge.owner_pid = holders.front();
        edge.owner_exists = true;
        edge.description = fmt::format("{} reads from {}, whose other end {} is held open by "
                                       "process{} {}",
                                       waiter_phrase(edge), what, peer,
                                       holders.size() > 1 ? "es" : "", pid_list(holders));
    } else if (holds_open(blocked.process, peer)) {
        edge.owner_pid = blocked.process.ns_pid;
        edge.owner_exists = true;
        edge.description = fmt::format("{} reads from {}, whose other end {} is held only by its "
                                       "own process, so it never sees end-of-file",
                                       waiter_phrase(edge), what, peer);
    } else {
        // Open somewhere, but in no fd of the sandbox: in flight in a message, or outside.
        edge.description = fmt::format("{} reads from {}, whose other end {} is open in no "
                                       "process of the sandbox",
                                       waiter_phrase(edge), what, peer);
    }
    return true;
}

void describe_pipe_wait(WaitEdge& edge, const BlockedThread& blocked) {
    if (describe_forkserver_child_wait(edge, blocked))
        return;
    edge.kind = WaitEdge::Kind::pipe;
    const std::string& target = blocked.thread.fd_target;
    std::string what = target.empty() ? fmt::format("fd {}", blocked.thread.fd)
                                      : fmt::format("{} (fd {})", target, blocked.thread.fd);
    if (describe_socket_wait(edge, blocked, what))
        return;
    std::vector<pid_t> writers;
    for (const auto& process : blocked.snapshot.processes)
        if (&process != &blocked.process && !process.infrastructure && is_live(process) &&
            holds_writable(process, target))
            writers.push_back(process.ns_pid);
    if (!writers.empty()) {
        edge.owner_pid = writers.front();
        edge.owner_exists = true;
        edge.description = fmt::format(
            "{} reads from {}, whose write end is held open by process{} {}", waiter_phrase(edge),
            what, writers.size() > 1 ? "es" : "", pid_list(writers));
    } else if (!target.empty() && holds_writable(blocked.process, target)) {
        // The classic: a reader that never closed its own copy of the write end never sees EOF.
        edge.owner_pid = blocked.process.ns_pid;
        edge.owner_exists = true;
        edge.description = fmt::format(
            "{} reads from {}, whose only open write end is in its own process, so it never sees "
            "end-of-file",
            waiter_phrase(edge), what);
    } else {
        edge.description =
            fmt::format("{} reads from {}, writer unknown", waiter_phrase(edge), what);
    }
}

// ---------------------------------------------------------------------------------------------
// [SECTION] One edge for each blocked thread
// ---------------------------------------------------------------------------------------------

WaitEdge edge_of(const BlockedThread& blocked) {
    WaitEdge edge;
    edge.waiter_pid = blocked.process.ns_pid;
    edge.waiter_tid = blocked.thread.ns_tid;
    edge.waiter_thread = blocked.thread.name;
    switch (blocked.thread.wait) {
    case WaitKind::futex:
        describe_futex_wait(edge, blocked);
        break;
    case WaitKind::file_lock:
        describe_file_lock_wait(edge, blocked);
        break;
    case WaitKind::child:
        describe_child_wait(edge, blocked);
        break;
    case WaitKind::pipe:
        describe_pipe_wait(edge, blocked);
        break;
    case WaitKind::signal:
        edge.kind = WaitEdge::Kind::signal;
        edge.description = fmt::format("{} waits for a signal, which no live thread of the "
                                       "sandbox sends",
                                       waiter_phrase(edge));
        break;
    case WaitKind::stopped:
        edge.kind = WaitEdge::Kind::signal;
        edge.description = fmt::format("{} is stopped, and no live thread of the sandbox can "
                                       "continue it (SIGCONT)",
                                       waiter_phrase(edge));
        break;
    default:
        edge.kind = WaitEdge::Kind::unknown;
        edge.description = fmt::format("{} waits in poll() with no timeout", waiter_phrase(edge));
        break;
    }
    return edge;
}

} // namespace

std::vector<WaitEdge> build_wait_for_graph(const Snapshot& snapshot,
                                           const std::vector<Event>& events,
                                           const std::vector<ThreadStack>& stacks,
                                           const StuckSet* only) {
    std::vector<WaitEdge> graph;
    for_each_scenario_thread(
        snapshot, [&](const ProcessSnapshot& process, const ThreadSnapshot& thread) {
            bool member =
                only && !only->empty() ? only->is_stuck(thread.tid) : is_untimed_block(thread);
            if (!member)
                return;
            auto stack = std::find_if(stacks.begin(), stacks.end(), [&](const ThreadStack& s) {
                return s.tid == thread.tid && !s.frames.empty();
            });
            graph.push_back(edge_of(
                {snapshot, events, process, thread, stack == stacks.end() ? nullptr : &*stack}));
        });
    return graph;
}

} // namespace forklore
