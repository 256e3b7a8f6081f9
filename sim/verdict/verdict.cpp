// The verdict engine: the deadlock detector, the wait-for graph and the judgement of exit
// statuses. The deadlock explanation (sentences for students) lives in explain.cpp.
#include "sim/verdict/verdict.hpp"

#include "sim/verdict/explain.hpp"

#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <set>

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

// ---------------------------------------------------------------------------------------------
// Snapshot queries
// ---------------------------------------------------------------------------------------------

namespace {

bool is_live(const ThreadSnapshot& thread) {
    return thread.wait != WaitKind::zombie && thread.state != 'Z' && thread.state != 'X';
}

// Calls visit(process, thread) for every live thread of scenario code. The sandbox's own host
// and reaper always sit in wait4 and are not what is studied.
template <typename Visit> void for_each_scenario_thread(const Snapshot& snapshot, Visit&& visit) {
    for (const auto& process : snapshot.processes) {
        if (process.infrastructure) continue;
        for (const auto& thread : process.threads)
            if (is_live(thread)) visit(process, thread);
    }
}

bool is_live(const ProcessSnapshot& process) {
    return std::any_of(process.threads.begin(), process.threads.end(),
                       [](const ThreadSnapshot& thread) { return is_live(thread); });
}

bool has_live_thread(const ProcessSnapshot& process, pid_t ns_tid) {
    return std::any_of(process.threads.begin(), process.threads.end(),
                       [&](const ThreadSnapshot& t) { return t.ns_tid == ns_tid && is_live(t); });
}

struct ThreadLocation {
    const ProcessSnapshot* process = nullptr;
    const ThreadSnapshot* thread = nullptr;
};

ThreadLocation find_live_thread(const Snapshot& snapshot, pid_t ns_tid) {
    for (const auto& process : snapshot.processes)
        for (const auto& thread : process.threads)
            if (thread.ns_tid == ns_tid && is_live(thread)) return {&process, &thread};
    return {};
}

const ProcessSnapshot* find_live_process(const Snapshot& snapshot, pid_t ns_pid) {
    for (const auto& process : snapshot.processes)
        if (process.ns_pid == ns_pid && is_live(process)) return &process;
    return nullptr;
}

pid_t ns_pid_of_host_pid(const Snapshot& snapshot, pid_t host_pid) {
    const ProcessSnapshot* process = snapshot.find_process(host_pid);
    return process ? process->ns_pid : 0;
}

} // namespace

bool is_untimed_block(const ThreadSnapshot& thread) {
    switch (thread.wait) {
    case WaitKind::futex:
    case WaitKind::file_lock:
    case WaitKind::child:
    case WaitKind::pipe:
    case WaitKind::poll:
    case WaitKind::signal:
        return thread.untimed;
    default:
        return false; // running, sleeping, stopped, unclassified or gone: never proof
    }
}

bool all_threads_blocked(const Snapshot& snapshot) {
    int blocked = 0;
    bool any_can_progress = false;
    for_each_scenario_thread(snapshot, [&](const ProcessSnapshot&, const ThreadSnapshot& thread) {
        if (is_untimed_block(thread))
            ++blocked;
        else
            any_can_progress = true;
    });
    return blocked > 0 && !any_can_progress;
}

// ---------------------------------------------------------------------------------------------
// The detector
// ---------------------------------------------------------------------------------------------

bool has_structural_orphan(const StuckSet& stuck) {
    // The owner must be alive in another process (the fork case). An owner that has just died
    // is not enough: a robust mutex's waiter is woken by the kernel as its owner exits, a moment
    // after a sample may have seen the owner gone; the full window judges that case.
    return std::any_of(stuck.stuck.begin(), stuck.stuck.end(), [](const StuckSet::Member& m) {
        const ThreadSnapshot& thread = *m.thread;
        return thread.wait == WaitKind::futex && thread.untimed && thread.futex_private &&
               thread.owner_ns_tid && *thread.owner_ns_tid > 0 && thread.owner_tid != 0 &&
               !has_live_thread(*m.process, *thread.owner_ns_tid);
    });
}

bool DeadlockDetector::observe(const Snapshot& snapshot, const StuckSet& stuck,
                               const std::vector<Event>& events) {
    if (stuck.empty()) {
        reset();
        events_read_ = events.size();
        return false;
    }
    std::string signature = stuck.signature();
    // Any sign of life in the stuck set (a different set, a thread scheduled or spending CPU
    // time, an event it recorded) means it could still be moving: prove again from here.
    bool moved = quiet_samples_ == 0 || signature != signature_;
    for (const auto& member : stuck.stuck) {
        const ThreadSnapshot& thread = *member.thread;
        auto known = activity_.find(thread.tid);
        Activity now{thread.cpu_ticks, thread.run_ns, thread.run_slices};
        if (known == activity_.end() || !(known->second == now)) moved = true;
    }
    for (std::size_t i = events_read_; i < events.size() && !moved; ++i)
        if (std::find(stuck_ns_tids_.begin(), stuck_ns_tids_.end(), events[i].tid) !=
            stuck_ns_tids_.end())
            moved = true;
    events_read_ = events.size();
    if (moved) {
        quiet_samples_ = 1;
        quiet_since_ns_ = snapshot.time_ns;
        signature_ = std::move(signature);
        activity_.clear();
        stuck_ns_tids_.clear();
        for (const auto& member : stuck.stuck) {
            const ThreadSnapshot& thread = *member.thread;
            activity_[thread.tid] = {thread.cpu_ticks, thread.run_ns, thread.run_slices};
            stuck_ns_tids_.push_back(thread.ns_tid);
        }
        return false;
    }
    ++quiet_samples_;
    if (quiet_samples_ >= settings_.structural_samples && has_structural_orphan(stuck)) return true;
    return quiet_samples_ >= settings_.min_samples &&
           snapshot.time_ns - quiet_since_ns_ >= settings_.min_quiet_ns;
}

void DeadlockDetector::reset() {
    quiet_since_ns_ = 0;
    quiet_samples_ = 0;
    signature_.clear();
    activity_.clear();
    stuck_ns_tids_.clear();
}

// ---------------------------------------------------------------------------------------------
// The wait-for graph
// ---------------------------------------------------------------------------------------------

namespace {

// Everything a builder needs to know about one blocked thread.
struct BlockedThread {
    const Snapshot& snapshot;
    const std::vector<Event>& events;
    const ProcessSnapshot& process;
    const ThreadSnapshot& thread;
    const ThreadStack* stack; // its native stack when one was taken, else null
};

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
    if (pending && !futex_belongs_to(*pending, edge.futex_address)) pending = nullptr;
    if (pending && pending->kind != EventKind::join_wait) {
        edge.address = pending->object;
        edge.lock_name = std::string(pending->name, strnlen(pending->name, sizeof pending->name));
        if (pending->kind == EventKind::lock_wait)
            edge.object_kind = std::string(to_string(static_cast<LockKind>(pending->arg0)));
    } else {
        edge.lock_name = recorded_lock_name(blocked.events, edge.address);
    }
    // Nothing recorded: the native stack says which kind of object the futex belongs to.
    StackWait from_stack;
    if (!pending) {
        from_stack = wait_from_stack(blocked.stack);
        if (edge.object_kind.empty()) edge.object_kind = from_stack.object_kind;
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

// The inode the thread waits to lock: from its own file_lock_wait event when recorded (exact
// per thread), else from its process's blocked request in /proc/locks.
std::optional<std::uint64_t> waited_inode(const BlockedThread& blocked, std::string* device) {
    if (auto inode = pending_file_lock_inode(blocked.events, blocked.thread.ns_tid)) return inode;
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
        if (e->tid != blocked.thread.ns_tid) continue;
        if (e->kind == EventKind::file_lock_wait) return static_cast<int>(e->object);
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
    if (parts.size() <= 1) return fmt::format("{}", fmt::join(parts, ""));
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
            if (!same_file || entry.waiting || holder == 0) continue;
            if (std::find(holders.begin(), holders.end(), holder) == holders.end())
                holders.push_back(holder);
            WaitEdge::HoldingFd holding{holder, entry.fd};
            if (std::find(edge.holding_fds.begin(), edge.holding_fds.end(), holding) ==
                edge.holding_fds.end())
                edge.holding_fds.push_back(holding);
            if (entry.type == "FLOCK") description_lock = "flock";
            if (entry.type == "OFDLCK") description_lock = "OFD lock";
            exclusive = exclusive && entry.write;
        }
    }
    // /proc/locks names a flock's first taker without an fd; its fdinfo line names the fd.
    std::erase_if(edge.holding_fds, [&](const WaitEdge::HoldingFd& holding) {
        return holding.fd < 0 &&
               std::any_of(edge.holding_fds.begin(), edge.holding_fds.end(),
                           [&](const WaitEdge::HoldingFd& other) {
                               return other.pid == holding.pid && other.fd >= 0;
                           });
    });
    std::string what = edge.lock_name.empty() ? std::string("a file lock")
                                              : fmt::format("file lock '{}'", edge.lock_name);
    if (inode) what += fmt::format(" (inode {})", *inode);
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
            if (holding.pid == edge.waiter_pid && holding.fd >= 0) own.push_back(holding);
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
            edge.description += fmt::format(
                "; {} hold it{}", holding_fds_phrase(edge.holding_fds),
                exclusive ? ", the one open file description they share" : "");
        return;
    }
    if (holders.size() > 1 && !description_lock.empty()) {
        // Every process with an fd on the holding description holds the lock.
        edge.description = fmt::format(
            "{} waits{} for {}, held through an open file description that {} share",
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

bool holds_writable(const ProcessSnapshot& process, const std::string& target) {
    return std::any_of(
        process.channel_ends.begin(), process.channel_ends.end(),
        [&](const OpenChannelEnd& end) { return end.writable && end.target == target; });
}

// A fork server's child is waited for by reading the status the server sends on a socket: the
// trace says which child, so the wait is a wait for that child, not for a writer.
bool describe_forkserver_child_wait(WaitEdge& edge, const BlockedThread& blocked) {
    const Event* wait = pending_child_wait_of(blocked.events, blocked.thread.ns_tid);
    if (!wait || wait->arg0 < 0 || wait->arg0 != blocked.thread.fd) return false;
    edge.kind = WaitEdge::Kind::child;
    edge.owner_pid = static_cast<pid_t>(wait->object);
    edge.owner_exists = find_live_process(blocked.snapshot, edge.owner_pid) != nullptr;
    edge.description = fmt::format(
        "{} waits for child process {} to exit, made by the fork server, which reports its exit "
        "on fd {}",
        waiter_phrase(edge), edge.owner_pid, blocked.thread.fd);
    return true;
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
    if (peer.empty()) return false;
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
    if (describe_forkserver_child_wait(edge, blocked)) return;
    edge.kind = WaitEdge::Kind::pipe;
    const std::string& target = blocked.thread.fd_target;
    std::string what = target.empty() ? fmt::format("fd {}", blocked.thread.fd)
                                      : fmt::format("{} (fd {})", target, blocked.thread.fd);
    if (describe_socket_wait(edge, blocked, what)) return;
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
    for_each_scenario_thread(snapshot, [&](const ProcessSnapshot& process,
                                           const ThreadSnapshot& thread) {
        bool member = only && !only->empty() ? only->is_stuck(thread.tid)
                                             : is_untimed_block(thread);
        if (!member) return;
        auto stack = std::find_if(stacks.begin(), stacks.end(), [&](const ThreadStack& s) {
            return s.tid == thread.tid && !s.frames.empty();
        });
        graph.push_back(edge_of(
            {snapshot, events, process, thread, stack == stacks.end() ? nullptr : &*stack}));
    });
    return graph;
}

// ---------------------------------------------------------------------------------------------
// Exits
// ---------------------------------------------------------------------------------------------

std::string signal_name(int signal) {
    const char* abbreviation = sigabbrev_np(signal);
    if (abbreviation) return fmt::format("SIG{}", abbreviation);
    return fmt::format("signal {}", signal);
}

std::string describe_wait_status(int status) {
    if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return fmt::format("killed by {}", signal_name(WTERMSIG(status)));
    if (WIFSTOPPED(status)) return fmt::format("stopped by {}", signal_name(WSTOPSIG(status)));
    return fmt::format("ended with wait status {:#x}", status);
}

namespace {

// One reaped process: its namespace pid and raw wait status.
struct ProcessEnd {
    pid_t pid = 0;
    int status = 0;

    bool killed() const { return WIFSIGNALED(status); }
    int signal() const { return killed() ? WTERMSIG(status) : 0; }
    int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : 0; }
};

// A process can be reported twice (by the parent's wait and by the reaper): keep the first.
std::vector<ProcessEnd> reaped_processes(const std::vector<Event>& events) {
    std::vector<ProcessEnd> ends;
    std::set<pid_t> seen;
    for (const auto& event : events) {
        if (event.kind != EventKind::process_exit) continue;
        auto pid = static_cast<pid_t>(event.object);
        if (seen.insert(pid).second) ends.push_back({pid, static_cast<int>(event.arg0)});
    }
    return ends;
}

bool is_limit_signal(int signal) {
    return signal == SIGXCPU || signal == SIGXFSZ;
}

std::string_view limit_reason(int signal) {
    return signal == SIGXCPU ? "it used more CPU time than the sandbox allows"
                             : "it wrote a file larger than the sandbox allows";
}

Verdict verdict_of(VerdictKind kind, std::string explanation, pid_t culprit) {
    Verdict verdict;
    verdict.kind = kind;
    verdict.explanation = std::move(explanation);
    verdict.culprit_pid = culprit;
    return verdict;
}

Verdict limit_verdict(pid_t pid, std::string_view label, int signal) {
    Verdict verdict = verdict_of(VerdictKind::limit,
                                 fmt::format("Limit: {} was killed by {}: {}.", label,
                                             signal_name(signal), limit_reason(signal)),
                                 pid);
    verdict.signal = signal;
    verdict.limit = signal == SIGXCPU ? "cpu time" : "file size";
    return verdict;
}

// " Its last output: 'task 3 raised ...'." from the process's latest output or note event: the
// scenario's own words usually say what went wrong.
std::string last_words(const std::vector<Event>& events, pid_t pid) {
    auto found = std::find_if(events.rbegin(), events.rend(), [&](const Event& e) {
        return e.pid == pid && (e.kind == EventKind::output || e.kind == EventKind::note) &&
               e.text[0] != '\0';
    });
    if (found == events.rend()) return {};
    std::size_t length = strnlen(found->text, sizeof found->text);
    bool cut = length == sizeof found->text - 1; // the event's text field was full
    return fmt::format(" Its last {}: '{}{}'.", found->kind == EventKind::note ? "note" : "output",
                       std::string_view(found->text, length), cut ? "..." : "");
}

Verdict crash_verdict(const std::vector<Event>& events, pid_t pid, std::string_view label,
                      int signal) {
    Verdict verdict = verdict_of(VerdictKind::crashed,
                                 fmt::format("Crashed: {} was killed by {}.{}", label,
                                             signal_name(signal), last_words(events, pid)),
                                 pid);
    verdict.signal = signal;
    verdict.limit = signal == SIGXCPU ? "cpu time" : "file size";
    return verdict;
}

Verdict failure_verdict(const std::vector<Event>& events, pid_t pid, std::string_view label,
                        int code) {
    Verdict verdict = verdict_of(
        VerdictKind::failed,
        fmt::format("Failed: {} exited with code {}.{}", label, code, last_words(events, pid)), pid);
    verdict.exit_code = code;
    return verdict;
}

Verdict completion_verdict(const std::vector<Event>& events, const std::vector<ProcessEnd>& ends) {
    std::vector<std::string> intended_kills;
    for (const auto& end : ends)
        if (end.killed())
            intended_kills.push_back(fmt::format("{} was killed by {} on purpose",
                                                 process_label(events, end.pid),
                                                 signal_name(end.signal())));
    std::size_t clean = ends.size() - intended_kills.size();
    std::string exited_cleanly;
    if (clean == 1 && ends.size() == 1)
        exited_cleanly = "the process exited with code 0";
    else if (clean == ends.size())
        exited_cleanly = fmt::format("all {} processes exited with code 0", clean);
    else if (clean > 0)
        exited_cleanly =
            fmt::format("{} process{} exited with code 0", clean, clean == 1 ? "" : "es");
    if (!intended_kills.empty() && !exited_cleanly.empty()) exited_cleanly += "; ";
    return verdict_of(
        VerdictKind::completed,
        fmt::format("Completed: {}{}.", exited_cleanly, fmt::join(intended_kills, "; ")), 0);
}

// Without any process_exit event the host's status stands for the scenario's main process:
// the host exits with its code, or with 128 + the signal that killed it.
Verdict judge_host_status(const std::vector<Event>& events, int host_status) {
    const Event* main_start = first_event_of_kind(events, EventKind::process_start);
    pid_t main_pid = main_start ? main_start->pid : 0;
    std::string label = main_pid ? process_label(events, main_pid) : "the scenario";
    int signal = 0;
    if (WIFSIGNALED(host_status))
        signal = WTERMSIG(host_status);
    else if (WIFEXITED(host_status) && WEXITSTATUS(host_status) > 128 &&
             WEXITSTATUS(host_status) < 128 + NSIG)
        signal = WEXITSTATUS(host_status) - 128;
    int code = WIFEXITED(host_status) ? WEXITSTATUS(host_status) : 0;
    if (signal && is_limit_signal(signal)) return limit_verdict(main_pid, label, signal);
    if (signal && !death_was_intended(events, main_pid, signal))
        return crash_verdict(events, main_pid, label, signal);
    if (!signal && code != 0) return failure_verdict(events, main_pid, label, code);
    return verdict_of(VerdictKind::completed,
                      fmt::format("Completed: {} {}.", label, describe_wait_status(host_status)),
                      0);
}

} // namespace

Verdict judge_exits(const std::vector<Event>& events, int host_status) {
    std::vector<ProcessEnd> ends = reaped_processes(events);
    if (ends.empty()) return judge_host_status(events, host_status);

    auto unintended_death = [&](const ProcessEnd& end) {
        return end.killed() && !death_was_intended(events, end.pid, end.signal());
    };
    for (const auto& end : ends)
        if (unintended_death(end) && is_limit_signal(end.signal()))
            return limit_verdict(end.pid, process_label(events, end.pid), end.signal());
    for (const auto& end : ends)
        if (unintended_death(end))
            return crash_verdict(events, end.pid, process_label(events, end.pid), end.signal());
    // The first failure reaped is named (a parent that fails because its worker did is reaped
    // after it); any others are listed, so the text does not depend on which one came first.
    std::vector<const ProcessEnd*> failures;
    for (const auto& end : ends)
        if (end.exit_code() != 0) failures.push_back(&end);
    if (!failures.empty()) {
        const ProcessEnd& first = *failures.front();
        Verdict verdict =
            failure_verdict(events, first.pid, process_label(events, first.pid), first.exit_code());
        if (failures.size() > 1) {
            std::vector<std::string> others;
            for (std::size_t i = 1; i < failures.size(); ++i)
                others.push_back(fmt::format("{} with code {}",
                                             process_label(events, failures[i]->pid),
                                             failures[i]->exit_code()));
            std::sort(others.begin(), others.end());
            verdict.explanation += fmt::format(" Also failed: {}.", fmt::join(others, "; "));
        }
        return verdict;
    }
    return completion_verdict(events, ends);
}

} // namespace forklore
