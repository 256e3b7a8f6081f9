// One sample of a sandbox (observer.hpp): every process and thread read from /proc, each wait
// classified; a detailed sample also finds what each wait waits for (lock owners, the processes
// sharing a futex, watched fds, file locks, socket peers).
//
// Index of this file:
// [SECTION] What a detailed sample's waits wait for
// [SECTION] Sampling processes and threads
#include "sim/observe/observer.hpp"

#include "sim/observe/glibc_lock_words.hpp"
#include "sim/observe/proc_files.hpp"
#include "sim/observe/unix_socket_peers.hpp"
#include "sim/observe/wait_classification.hpp"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <unordered_set>

namespace forklore {
namespace {

std::int64_t monotonic_now_ns() {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

bool children_files_exist() {
    // The same kernel configuration holds for every task: ask about ourselves.
    return ::access("/proc/thread-self/children", R_OK) == 0;
}

//-----------------------------------------------------------------------------
// [SECTION] What a detailed sample's waits wait for
//-----------------------------------------------------------------------------

// Maps a mutex owner's namespace tid to a host tid. All scenario processes share one PID
// namespace, so ns tids are unique among them; the waiter's own process is searched first and the
// infrastructure processes (which may live in the outer namespace) last, so that a coincidence
// between namespaces cannot shadow the real owner.
pid_t find_host_tid(const Snapshot& snapshot, const ProcessSnapshot& waiter_process, pid_t ns_tid) {
    auto find_in = [ns_tid](const ProcessSnapshot& process) -> pid_t {
        for (const auto& thread : process.threads)
            if (thread.ns_tid == ns_tid)
                return thread.tid;
        return 0;
    };
    if (pid_t tid = find_in(waiter_process))
        return tid;
    for (bool infrastructure : {false, true})
        for (const auto& process : snapshot.processes)
            if (process.infrastructure == infrastructure && &process != &waiter_process)
                if (pid_t tid = find_in(process))
                    return tid;
    return 0;
}

void resolve_mutex_owners(Snapshot& snapshot) {
    for (auto& process : snapshot.processes) {
        for (auto& thread : process.threads) {
            if (thread.wait != WaitKind::futex || thread.futex_address == 0)
                continue;
            thread.owner_ns_tid = lock_words::read_mutex_owner(process.pid, thread.futex_address);
            if (!thread.owner_ns_tid)
                thread.owner_ns_tid =
                    lock_words::read_rwlock_writer(process.pid, thread.futex_address);
            if (thread.owner_ns_tid)
                thread.owner_tid = find_host_tid(snapshot, process, *thread.owner_ns_tid);
        }
    }
}

// An event loop (poll/epoll with no timeout) whose process holds an armed timerfd wakes when the
// timer fires: its wait is timed, whatever the syscall's own timeout says.
void excuse_waits_on_timers(Snapshot& snapshot) {
    for (auto& process : snapshot.processes) {
        bool untimed_poll = std::any_of(
            process.threads.begin(), process.threads.end(),
            [](const ThreadSnapshot& t) { return t.wait == WaitKind::poll && t.untimed; });
        if (!untimed_poll || !procfs::has_armed_timerfd(process.pid))
            continue;
        for (auto& thread : process.threads)
            if (thread.wait == WaitKind::poll)
                thread.untimed = false;
    }
}

// Who can wake each shared futex: the processes that map the same memory object. Private
// futexes need nothing read: only their own address space can wake them.
void resolve_futex_sharers(Snapshot& snapshot) {
    std::vector<pid_t> scenario_pids;
    for (const auto& process : snapshot.processes)
        if (!process.infrastructure)
            scenario_pids.push_back(process.pid);
    for (auto& process : snapshot.processes)
        for (auto& thread : process.threads)
            if (thread.wait == WaitKind::futex && thread.untimed && !thread.futex_private &&
                thread.futex_address != 0)
                thread.futex_sharers =
                    procfs::futex_sharers(process.pid, thread.futex_address, scenario_pids);
}

// What every untimed poll, select or epoll wait watches, as fd targets.
void resolve_watched_fds(Snapshot& snapshot) {
    for (auto& process : snapshot.processes)
        for (auto& thread : process.threads) {
            if (thread.wait != WaitKind::poll || !thread.untimed)
                continue;
            auto fds = waits::read_watched_fds(process.pid, thread);
            if (!fds)
                continue;
            thread.watched_targets.clear();
            for (int fd : *fds)
                thread.watched_targets.push_back(procfs::read_fd_target(process.pid, fd));
            thread.watched_known = true;
        }
}

// The /proc/locks entries that concern the sandbox: those of its processes, and every other entry
// on the same files (a lock held by an outsider, an OFD lock with pid -1, waiters).
std::vector<FileLockEntry> sandbox_file_locks(const Snapshot& snapshot) {
    auto all = procfs::read_file_locks();
    std::unordered_set<pid_t> sandbox_pids;
    for (const auto& process : snapshot.processes)
        sandbox_pids.insert(process.pid);

    // /proc/locks gives OFD locks pid -1 and a flock the pid of its first taker: the fds of each
    // process say who holds them (a process holds a lock its inherited fd's description holds).
    for (const auto& process : snapshot.processes) {
        if (process.infrastructure)
            continue;
        // Each fd also names which of the process's fds holds it: a process can hold a flock
        // through one open file description and wait for it through another.
        for (auto& held : procfs::read_fd_locks(process.pid)) {
            auto known = std::find_if(all.begin(), all.end(), [&](const FileLockEntry& e) {
                return e.pid == held.pid && e.inode == held.inode && e.device == held.device &&
                       e.waiting == held.waiting && (e.fd < 0 || e.fd == held.fd);
            });
            if (known == all.end())
                all.push_back(std::move(held));
            else
                known->fd = held.fd;
        }
    }

    auto same_file = [](const FileLockEntry& a, const FileLockEntry& b) {
        return a.inode == b.inode && a.device == b.device;
    };
    std::vector<const FileLockEntry*> sandbox_entries;
    for (const auto& entry : all)
        if (sandbox_pids.count(entry.pid))
            sandbox_entries.push_back(&entry);

    std::vector<FileLockEntry> result;
    for (const auto& entry : all) {
        auto shares_file = [&](const FileLockEntry* own) { return same_file(*own, entry); };
        bool related = sandbox_pids.count(entry.pid) ||
                       std::any_of(sandbox_entries.begin(), sandbox_entries.end(), shares_file);
        if (related)
            result.push_back(entry);
    }
    return result;
}

// Names the other end of every unix socket the sandbox reads from or holds: a reader is woken by
// whoever holds that other end, a different inode from its own. One sock_diag query for the
// whole sample, in the host's network namespace (the sandbox's, which every scenario process
// inherits). Left empty when the kernel cannot be asked: the verdict then falls back to
// matching the reader's own inode.
void resolve_socket_peers(Snapshot& snapshot, pid_t host_pid) {
    UnixSocketPeers peers = unix_socket_peers(host_pid);
    if (peers.empty())
        return;
    for (auto& process : snapshot.processes) {
        for (auto& end : process.channel_ends)
            end.peer_target = peer_target_of(end.target, peers);
        for (auto& thread : process.threads)
            if (thread.wait == WaitKind::pipe)
                thread.fd_peer_target = peer_target_of(thread.fd_target, peers);
    }
}

} // namespace

//-----------------------------------------------------------------------------
// [SECTION] Sampling processes and threads
//-----------------------------------------------------------------------------

Observer::Observer(pid_t host_pid)
    : host_pid_(host_pid), use_children_files_(children_files_exist()) {}

// nullopt when the thread was reaped since its stat was read: its host id must not stand in for
// the namespace one (a record would gain a process that never was).
std::optional<pid_t> Observer::namespace_id(pid_t pid, pid_t tid, std::uint64_t start_time) {
    auto cached = namespace_ids_.find(tid);
    if (cached != namespace_ids_.end() && cached->second.start_time == start_time)
        return cached->second.id;
    auto ids = procfs::read_nspid(pid, tid);
    if (!ids)
        return std::nullopt;
    pid_t id = ids->empty() ? tid : ids->back(); // the innermost namespace is the last
    namespace_ids_[tid] = {start_time, id};
    return id;
}

Snapshot Observer::sample(bool detailed) {
    Snapshot snapshot;
    snapshot.time_ns = monotonic_now_ns();
    snapshot.detailed = detailed;

    // Breadth first from the host. With children files each thread names its own children as it
    // is sampled; otherwise one scan of /proc finds every descendant up front.
    std::vector<pid_t> pids{host_pid_};
    if (!use_children_files_)
        pids = procfs::descendants_of(host_pid_, procfs::list_processes());
    std::unordered_set<pid_t> queued(pids.begin(), pids.end());
    std::unordered_set<pid_t> live_tids;

    for (std::size_t next = 0; next < pids.size(); ++next) {
        const pid_t pid = pids[next];
        auto stat = procfs::read_task_stat(pid, pid);
        if (!stat)
            continue; // reaped since it was listed
        ProcessSnapshot process;
        process.pid = pid;
        const auto ns_pid = namespace_id(pid, pid, stat->start_time);
        if (!ns_pid)
            continue; // reaped since its stat was read
        process.ns_pid = *ns_pid;
        process.ppid = stat->ppid;
        process.comm = std::move(stat->comm);
        process.state = stat->state;
        process.exit_code = stat->exit_code;
        process.start_time = stat->start_time;
        process.image = stat->start_stack;
        // The host forks one reaper, which forks the scenario: both are the sandbox's own.
        process.infrastructure = pid == host_pid_ || process.ppid == host_pid_;

        for (pid_t tid : procfs::list_threads(pid)) {
            auto thread = sample_thread(pid, tid);
            if (!thread)
                continue; // exited since list_threads
            live_tids.insert(tid);
            if (use_children_files_)
                for (pid_t child : procfs::read_children(pid, tid).value_or(std::vector<pid_t>{}))
                    if (queued.insert(child).second)
                        pids.push_back(child);
            process.threads.push_back(std::move(*thread));
        }
        if (detailed)
            process.channel_ends = procfs::read_channel_ends(pid);
        note_program(process);
        snapshot.processes.push_back(std::move(process));
    }
    std::erase_if(namespace_ids_, [&](const auto& entry) { return !live_tids.count(entry.first); });
    std::erase_if(programs_, [&](const auto& entry) { return !queued.count(entry.first); });

    if (detailed) {
        excuse_waits_on_timers(snapshot);
        resolve_mutex_owners(snapshot);
        resolve_futex_sharers(snapshot);
        resolve_watched_fds(snapshot);
        resolve_socket_peers(snapshot, host_pid_);
        snapshot.file_locks = sandbox_file_locks(snapshot);
    }
    return snapshot;
}

void Observer::note_program(ProcessSnapshot& process) {
    if (process.state == 'Z' || process.state == 'X')
        return; // no program left to name
    Program& known = programs_[process.pid];
    // Without the stack address (hidden by the kernel) a new comm is the only sign of an exec.
    bool changed = known.start_time != process.start_time || known.image != process.image ||
                   (process.image == 0 && known.comm != process.comm) || known.exe.empty();
    if (changed) {
        known.start_time = process.start_time;
        known.image = process.image;
        known.comm = process.comm;
        known.exe = procfs::read_exe(process.pid);
        known.command = procfs::read_command_line(process.pid);
        // Inside execve the new program has no arguments yet: read it all again next time.
        if (known.command.empty())
            known.exe.clear();
    }
    process.exe = known.exe;
    process.command = known.command;
}

std::optional<ThreadSnapshot> Observer::sample_thread(pid_t pid, pid_t tid) {
    auto stat = procfs::read_task_stat(pid, tid);
    if (!stat)
        return std::nullopt;
    ThreadSnapshot thread;
    thread.tid = tid;
    const auto ns_tid = namespace_id(pid, tid, stat->start_time);
    if (!ns_tid)
        return std::nullopt; // exited since its stat was read
    thread.ns_tid = *ns_tid;
    thread.name = std::move(stat->comm);
    thread.state = stat->state;
    thread.cpu_ticks = stat->utime + stat->stime;
    // A running thread has no wait channel and its syscall file says "running"; a zombie has
    // neither: skip those reads.
    bool blocked_or_stopped = thread.state != 'R' && thread.state != 'Z' && thread.state != 'X';
    if (blocked_or_stopped) {
        thread.wchan = procfs::read_wchan(pid, tid);
        if (auto call = procfs::read_syscall(pid, tid)) {
            thread.syscall = call->number;
            thread.syscall_args = call->args;
        }
        if (auto stats = procfs::read_schedstat(pid, tid)) {
            thread.run_ns = stats->run_ns;
            thread.run_slices = stats->slices;
        }
    }
    waits::classify_wait(thread, pid);
    if (thread.wait == WaitKind::signal)
        thread.timer_may_signal = procfs::timer_may_signal(pid, tid);
    if (thread.wait == WaitKind::file_lock && thread.fd >= 0)
        procfs::read_fd_file(pid, thread.fd, thread.fd_inode, thread.fd_device);
    return thread;
}

} // namespace forklore
