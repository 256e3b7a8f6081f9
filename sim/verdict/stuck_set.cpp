// The stuck set: the mark phase over one snapshot (see stuck_set.hpp for the rules).
//
// Index of this file:
// [SECTION] Who can wake a thread
// [SECTION] What a thread is doing, in words
// [SECTION] The mark phase
#include "sim/verdict/stuck_set.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace forklore {

namespace {

// ---------------------------------------------------------------------------------------------
// [SECTION] Who can wake a thread
// ---------------------------------------------------------------------------------------------

bool is_gone(const ThreadSnapshot& thread) {
    return thread.wait == WaitKind::zombie || thread.state == 'Z' || thread.state == 'X';
}

bool is_zombie(const ProcessSnapshot& process) {
    return process.state == 'Z' ||
           std::all_of(process.threads.begin(), process.threads.end(),
                       [](const ThreadSnapshot& thread) { return is_gone(thread); });
}

// Who can wake one thread: nobody needed (a root), the threads of some processes, or any thread
// of the sandbox.
struct Wakers {
    enum class Kind { root, processes, sandbox };
    Kind kind = Kind::root;
    std::vector<pid_t> processes;    // host pids
    bool for_lack_of_detail = false; // a root only because the sample could not name its wakers

    static Wakers root() { return {}; }
    static Wakers undetailed() { return {Kind::root, {}, true}; }
    static Wakers sandbox() { return {Kind::sandbox, {}, false}; }
    static Wakers of(std::vector<pid_t> processes) {
        return {Kind::processes, std::move(processes), false};
    }
};

// Every scenario process holding an fd on the pipe or socket `target` that `matches` accepts.
template <typename Match> std::vector<pid_t> holders_of(const Snapshot& snapshot, Match&& matches) {
    std::vector<pid_t> holders;
    for (const auto& process : snapshot.processes) {
        if (process.infrastructure)
            continue;
        if (std::any_of(process.channel_ends.begin(), process.channel_ends.end(), matches))
            holders.push_back(process.pid);
    }
    return holders;
}

// The other end of a socket the process holds, from its own channel ends.
std::string peer_of(const ProcessSnapshot& process, const std::string& target) {
    for (const auto& end : process.channel_ends)
        if (end.target == target)
            return end.peer_target;
    return {};
}

// Wakers of a wait on a pipe: a reader is woken by the holders of a write end, a writer (a full
// pipe) by the holders of a read end. Nobody on the other side in the sandbox: the wait ends at
// once (end of file, EPIPE), or the other end is in flight in a message or outside: a root.
Wakers pipe_wakers(const Snapshot& snapshot, const std::string& target, bool writing) {
    std::vector<pid_t> other_side = holders_of(snapshot, [&](const OpenChannelEnd& end) {
        return end.target == target && end.writable != writing;
    });
    if (other_side.empty())
        return Wakers::root();
    return Wakers::of(std::move(other_side));
}

// Wakers of a wait on a socket: the holders of either end (another thread may send, close or
// shut it down). A socket with no known other end (an unconnected datagram socket, a socket the
// kernel could not be asked about) can be sent to by anyone in the sandbox (its own network
// namespace); one whose other end is held by nobody here is in flight in a message or outside:
// a root.
Wakers socket_wakers(const Snapshot& snapshot, const ProcessSnapshot& waiter,
                     const std::string& target, std::string peer) {
    if (peer.empty())
        peer = peer_of(waiter, target);
    if (peer.empty())
        return Wakers::sandbox();
    // A stream whose other end is closed reads end-of-file: a reader seen blocked is about to
    // return (a connected datagram socket would wait, but its own holders can still close it).
    if (peer == kPeerClosed)
        return Wakers::root();
    std::vector<pid_t> holders = holders_of(snapshot, [&](const OpenChannelEnd& end) {
        return end.target == target || end.target == peer;
    });
    bool peer_here = !holders_of(snapshot, [&](const OpenChannelEnd& end) {
                          return end.target == peer;
                      }).empty();
    if (!peer_here)
        return Wakers::root(); // (holders then include the peer's)
    return Wakers::of(std::move(holders));
}

Wakers channel_wakers(const Snapshot& snapshot, const ProcessSnapshot& waiter,
                      const std::string& target, const std::string& peer, bool writing) {
    if (!snapshot.detailed)
        return Wakers::undetailed();
    if (target.starts_with("socket:"))
        return socket_wakers(snapshot, waiter, target, peer);
    if (target.starts_with("pipe:"))
        return pipe_wakers(snapshot, target, writing);
    return Wakers::root();
}

Wakers child_wakers(const Snapshot& snapshot, const ProcessSnapshot& waiter,
                    const ThreadSnapshot& thread) {
    std::vector<pid_t> children;
    for (const auto& process : snapshot.processes) {
        if (process.ppid != waiter.pid || process.infrastructure)
            continue;
        if (thread.waited_pid > 0 && process.ns_pid != thread.waited_pid)
            continue;
        // A zombie child is about to be reaped: the wait returns.
        if (is_zombie(process))
            return Wakers::root();
        children.push_back(process.pid);
    }
    // No child to see: it was made or reaped between two reads of /proc.
    if (children.empty())
        return Wakers::root();
    return Wakers::of(std::move(children));
}

// Wakers of a file lock wait: the processes that hold a lock on the same file. The file is the
// thread's fd's when known, else the one its process's blocked request in /proc/locks names.
Wakers file_lock_wakers(const Snapshot& snapshot, const ProcessSnapshot& waiter,
                        const ThreadSnapshot& thread) {
    if (!snapshot.detailed)
        return Wakers::undetailed();
    auto wanted = [&](const FileLockEntry& entry) {
        if (thread.fd_inode != 0)
            return entry.inode == thread.fd_inode && entry.device == thread.fd_device;
        return std::any_of(snapshot.file_locks.begin(), snapshot.file_locks.end(),
                           [&](const FileLockEntry& request) {
                               return request.waiting && request.pid == waiter.pid &&
                                      request.inode == entry.inode &&
                                      request.device == entry.device;
                           });
    };
    std::vector<pid_t> holders;
    for (const auto& held : snapshot.file_locks) {
        if (held.waiting || !wanted(held))
            continue;
        if (held.pid <= 0)
            continue; // an OFD lock in /proc/locks: fdinfo names its holders
        const ProcessSnapshot* holder = snapshot.find_process(held.pid);
        if (!holder || holder->infrastructure)
            return Wakers::root(); // held from outside
        holders.push_back(holder->pid);
    }
    if (holders.empty())
        return Wakers::root(); // released meanwhile: the wait is ending
    return Wakers::of(std::move(holders));
}

Wakers futex_wakers(const ProcessSnapshot& waiter, const ThreadSnapshot& thread) {
    if (thread.futex_private)
        return Wakers::of({waiter.pid});
    if (thread.futex_sharers.empty())
        return Wakers::undetailed();
    return Wakers::of(thread.futex_sharers);
}

// An untimed poll, select or epoll wait: the union of what can wake each watched fd.
Wakers poll_wakers(const Snapshot& snapshot, const ProcessSnapshot& waiter,
                   const ThreadSnapshot& thread) {
    if (!thread.watched_known)
        return snapshot.detailed ? Wakers::root() : Wakers::undetailed();
    // Watching nothing is waiting for a signal.
    if (thread.watched_targets.empty())
        return Wakers::sandbox();
    std::vector<pid_t> processes;
    for (const auto& target : thread.watched_targets) {
        if (target.starts_with("pipe:") || target.starts_with("socket:")) {
            // Readiness either way: for a pipe, the holders of both directions count.
            Wakers wakers = channel_wakers(snapshot, waiter, target, "", false);
            if (wakers.kind != Wakers::Kind::processes)
                return wakers;
            processes.insert(processes.end(), wakers.processes.begin(), wakers.processes.end());
            if (target.starts_with("socket:"))
                continue;
            Wakers readers = channel_wakers(snapshot, waiter, target, "", true);
            if (readers.kind != Wakers::Kind::processes)
                return readers;
            processes.insert(processes.end(), readers.processes.begin(), readers.processes.end());
        } else if (target == "anon_inode:[timerfd]") {
            processes.push_back(waiter.pid); // disarmed (armed ones made the wait timed): re-armed
                                             // only by its own process
        } else if (target == "anon_inode:[eventfd]" || target == "anon_inode:[signalfd]" ||
                   target == "anon_inode:[pidfd]") {
            return Wakers::sandbox(); // one anonymous inode for all of them: who holds which
                                      // cannot be told apart
        } else {
            return Wakers::root(); // a terminal, a file, inotify, a nested epoll...: unknown
        }
    }
    return Wakers::of(std::move(processes));
}

Wakers wakers_of(const Snapshot& snapshot, const ProcessSnapshot& process,
                 const ThreadSnapshot& thread) {
    switch (thread.wait) {
    case WaitKind::futex:
        return thread.untimed ? futex_wakers(process, thread) : Wakers::root();
    case WaitKind::child:
        return thread.untimed ? child_wakers(snapshot, process, thread) : Wakers::root();
    case WaitKind::pipe: {
        // accept() waits for anyone in the sandbox to connect.
        constexpr long accept = 43, accept4 = 288; // x86_64
        if (thread.syscall == accept || thread.syscall == accept4)
            return Wakers::sandbox();
        if (thread.fd_target.empty())
            return Wakers::root();
        constexpr long write = 1, writev = 20, sendto = 44, sendmsg = 46;
        bool writing = thread.syscall == write || thread.syscall == writev ||
                       thread.syscall == sendto || thread.syscall == sendmsg;
        return channel_wakers(snapshot, process, thread.fd_target, thread.fd_peer_target, writing);
    }
    case WaitKind::file_lock:
        return thread.untimed ? file_lock_wakers(snapshot, process, thread) : Wakers::root();
    case WaitKind::poll:
        return thread.untimed ? poll_wakers(snapshot, process, thread) : Wakers::root();
    case WaitKind::signal:
        return thread.timer_may_signal ? Wakers::root() : Wakers::sandbox();
    case WaitKind::stopped:
        // Stopped by a signal: a SIGCONT from any live thread continues it. Traced ('t'): its
        // tracer decides, and forklore does not know it.
        return thread.state == 'T' ? Wakers::sandbox() : Wakers::root();
    default:
        return Wakers::root(); // running, sleeping, unclassified
    }
}

} // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] What a thread is doing, in words
// ---------------------------------------------------------------------------------------------

namespace {

// "read() (system call 0)": the x86_64 numbers of the calls a blocked thread is most often in
// that /proc does not classify further; any other shows only its number.
std::string syscall_words(int number) {
    static constexpr std::pair<int, std::string_view> kNames[] = {
        {0, "read"},   {1, "write"},   {17, "pread64"},  {19, "readv"},   {20, "writev"},
        {34, "pause"}, {43, "accept"}, {45, "recvfrom"}, {47, "recvmsg"}, {288, "accept4"},
    };
    for (const auto& [known, name] : kNames)
        if (known == number)
            return fmt::format("{}() (system call {})", name, number);
    return fmt::format("system call {}", number);
}

} // namespace

std::string describe_activity(const ThreadSnapshot& thread) {
    switch (thread.wait) {
    case WaitKind::running:
        return "runs";
    case WaitKind::sleep:
        return "sleeps";
    case WaitKind::futex:
        if (!thread.untimed)
            return "waits on a futex with a timeout";
        return fmt::format("waits on the {} futex at {:#x}",
                           thread.futex_private ? "private" : "shared", thread.futex_address);
    case WaitKind::child:
        if (!thread.untimed)
            return "checks on its children without waiting (WNOHANG)";
        return thread.waited_pid > 0 ? fmt::format("waits for child {}", thread.waited_pid)
                                     : std::string("waits for any child");
    case WaitKind::pipe:
        return fmt::format("waits on {} (fd {})", thread.fd_target, thread.fd);
    case WaitKind::file_lock:
        return fmt::format("waits for a file lock on fd {}", thread.fd);
    case WaitKind::poll:
        return thread.untimed ? "waits in poll/select/epoll with no timeout"
                              : "polls with a timeout";
    case WaitKind::signal:
        return thread.timer_may_signal ? "waits for a signal that a timer may send"
                                       : "waits for a signal";
    case WaitKind::stopped:
        return thread.state == 'T' ? "is stopped" : "is stopped by a tracer";
    case WaitKind::other:
        return thread.syscall >= 0 ? fmt::format("is blocked in {}", syscall_words(thread.syscall))
                                   : std::string("is blocked");
    case WaitKind::zombie:
        return "has exited";
    }
    return "is blocked";
}

bool StuckSet::is_stuck(pid_t host_tid) const {
    return std::any_of(stuck.begin(), stuck.end(),
                       [&](const Member& member) { return member.thread->tid == host_tid; });
}

std::string StuckSet::signature() const {
    std::vector<std::string> waits;
    for (const auto& member : stuck) {
        const ThreadSnapshot& thread = *member.thread;
        waits.push_back(fmt::format("{}:{}:{:x}:{}:{}", thread.tid, to_string(thread.wait),
                                    thread.futex_address, thread.fd, thread.syscall));
    }
    std::sort(waits.begin(), waits.end());
    return fmt::format("{}", fmt::join(waits, ";"));
}

// ---------------------------------------------------------------------------------------------
// [SECTION] The mark phase
// ---------------------------------------------------------------------------------------------

StuckSet find_stuck_threads(const Snapshot& snapshot) {
    struct Node {
        const ProcessSnapshot* process;
        const ThreadSnapshot* thread;
        Wakers wakers;
        bool live = false;
    };
    std::vector<Node> nodes;
    StuckSet result;
    for (const auto& process : snapshot.processes) {
        if (process.infrastructure)
            continue; // the sandbox's host and reaper are not studied
        for (const auto& thread : process.threads) {
            if (is_gone(thread))
                continue;
            Wakers wakers = wakers_of(snapshot, process, thread);
            result.needs_detail = result.needs_detail || wakers.for_lack_of_detail;
            bool root = wakers.kind == Wakers::Kind::root;
            nodes.push_back({&process, &thread, std::move(wakers), root});
        }
    }
    // Mark: whatever a live thread can wake is live, until nothing changes.
    std::unordered_map<pid_t, int> live_threads_of; // host pid -> live threads in it
    int live_total = 0;
    for (const auto& node : nodes)
        if (node.live) {
            ++live_threads_of[node.process->pid];
            ++live_total;
        }
    for (bool changed = true; changed;) {
        changed = false;
        for (auto& node : nodes) {
            if (node.live)
                continue;
            bool woken = false;
            if (node.wakers.kind == Wakers::Kind::sandbox)
                woken = live_total > 0;
            else
                woken = std::any_of(node.wakers.processes.begin(), node.wakers.processes.end(),
                                    [&](pid_t pid) { return live_threads_of[pid] > 0; });
            if (!woken)
                continue;
            node.live = true;
            ++live_threads_of[node.process->pid];
            ++live_total;
            changed = true;
        }
    }
    for (const auto& node : nodes) {
        bool root = node.wakers.kind == Wakers::Kind::root;
        std::string what = describe_activity(*node.thread);
        if (node.live && !root)
            what += " (a live thread can wake it)";
        if (node.live && node.wakers.for_lack_of_detail)
            what += " (its wakers are not yet known)";
        (node.live ? result.live : result.stuck).push_back({node.process, node.thread, what});
    }
    return result;
}

} // namespace forklore
