// Records made to order for the lock replay's tests (test_lock_replay*.cpp): a trace built event
// by event with times in milliseconds after the run's start, the processes it names, the
// verdict's wait-for edges and the samples' blocked threads and /proc/locks lines.
#pragma once

#include "sim/protocol/channel.hpp"
#include "sim/protocol/start_method.hpp"
#include "sim/record/lock_replay.hpp"
#include "tests/unit/snapshot_builders.hpp"

#include <string>
#include <utility>
#include <vector>

namespace forklore::test {

inline constexpr std::int64_t kStart = 5'000'000'000; // the runner's start (CLOCK_MONOTONIC)

// A record built event by event; times are milliseconds after the run's start.
struct Trace {
    RunRecord record;

    explicit Trace(VerdictKind verdict) {
        record.start_time_ns = kStart;
        record.verdict.kind = verdict;
    }

    ProcessRecord& process(pid_t pid, pid_t parent, StartMethod method,
                           std::vector<std::pair<pid_t, std::string>> threads) {
        ProcessRecord process;
        process.pid = pid + kHostOffset;
        process.ns_pid = pid;
        process.parent_ns_pid = parent;
        if (parent)
            process.start_method = method;
        process.threads = std::move(threads);
        record.processes.push_back(std::move(process));
        return record.processes.back();
    }

    void event(std::int64_t ms, EventKind kind, pid_t pid, pid_t tid, const char* thread,
               std::uint64_t object, std::int64_t arg0, const char* name = nullptr,
               std::int64_t arg1 = 0) {
        Event event{};
        event.committed = 1;
        event.kind = kind;
        event.time_ns = kStart + ms * kMs;
        event.pid = pid;
        event.tid = tid;
        event.object = object;
        event.arg0 = arg0;
        event.arg1 = arg1;
        copy_name(event.thread, thread);
        copy_name(event.name, name);
        record.events.push_back(event);
    }

    // A lock event of `lock` (an event's LockKind) at `address`.
    void lock(std::int64_t ms, EventKind kind, pid_t pid, pid_t tid, const char* thread,
              std::uint64_t address, LockKind lock, const char* name) {
        event(ms, kind, pid, tid, thread, address, static_cast<std::int64_t>(lock), name);
    }

    void fork(std::int64_t ms, pid_t parent, pid_t tid, const char* thread, pid_t child) {
        event(ms, EventKind::child_start, parent, tid, thread, static_cast<std::uint64_t>(child),
              static_cast<std::int64_t>(StartMethod::fork), "child");
    }
};

inline const LockCopy* copy_in(const LockReplay& replay, pid_t process, std::uint64_t address) {
    for (const auto& copy : replay.locks)
        if (copy.process == process && copy.address == address && !copy.replaced_by_exec)
            return &copy;
    return nullptr;
}

inline const ReplayedFileLock* file_lock(const LockReplay& replay, std::uint64_t inode) {
    for (const auto& lock : replay.file_locks)
        if (lock.inode == inode)
            return &lock;
    return nullptr;
}

inline FileLockEntry lock_line(std::string type, bool write, pid_t host_pid, std::uint64_t inode,
                               std::string device, int fd = -1, bool waiting = false) {
    FileLockEntry entry;
    entry.type = std::move(type);
    entry.write = write;
    entry.waiting = waiting;
    entry.pid = host_pid;
    entry.inode = inode;
    entry.device = std::move(device);
    if (fd < 0) { // a line of /proc/locks names the range; fdinfo names the fd
        entry.start = "0";
        entry.end = "EOF";
    }
    entry.fd = fd;
    return entry;
}

// A wait-for edge of the verdict: thread `waiter` (its process's main thread) waits for the
// object at `address` (a file lock's inode).
inline WaitEdge waiting_for(WaitEdge::Kind kind, pid_t waiter, std::uint64_t address,
                            std::string description) {
    WaitEdge edge;
    edge.kind = kind;
    edge.waiter_pid = waiter;
    edge.waiter_tid = waiter;
    edge.address = address;
    edge.description = std::move(description);
    return edge;
}

// A process as a sample shows it, with host pid = namespace pid + kHostOffset.
inline ProcessSnapshot sampled_process(pid_t ns_pid, std::vector<ThreadSnapshot> threads = {}) {
    ProcessSnapshot process;
    process.pid = ns_pid + kHostOffset;
    process.ns_pid = ns_pid;
    process.threads = std::move(threads);
    return process;
}

inline constexpr std::uint64_t kFileLock = 0x1000;

} // namespace forklore::test
