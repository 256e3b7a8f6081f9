// Builders of synthetic snapshots for the verdict engine's tests: threads in each kind of wait,
// with host ids = namespace ids + kHostOffset, so that a test fails if the engine ever shows a
// student a host id instead of the id the trace shows.
#pragma once

#include "sim/observe/snapshot.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace forklore::test {

inline constexpr pid_t kHostOffset = 1000;
inline constexpr std::int64_t kMs = 1'000'000;

// A thread in `wait`: running ('R'), stopped ('T'), a zombie ('Z') or blocked ('S'), untimed
// unless it runs, sleeps, or `untimed` says otherwise.
inline ThreadSnapshot thread(pid_t ns_tid, const std::string& name,
                             WaitKind wait = WaitKind::running, bool untimed = true) {
    ThreadSnapshot t;
    t.tid = ns_tid + kHostOffset;
    t.ns_tid = ns_tid;
    t.name = name;
    t.state = wait == WaitKind::running   ? 'R'
              : wait == WaitKind::stopped ? 'T'
              : wait == WaitKind::zombie  ? 'Z'
                                          : 'S';
    t.wait = wait;
    t.untimed = untimed && wait != WaitKind::running && wait != WaitKind::sleep;
    t.syscall = wait == WaitKind::running ? -1 : 202;
    return t;
}

// A thread blocked on the private futex at `address`; `owner`, when given, is the lock word's
// owner (a namespace tid), found by the observer among the sandbox's threads.
inline ThreadSnapshot on_futex(pid_t ns_tid, const std::string& name, std::uint64_t address,
                               std::optional<pid_t> owner = std::nullopt) {
    ThreadSnapshot t = thread(ns_tid, name, WaitKind::futex);
    t.futex_address = address;
    t.owner_ns_tid = owner;
    if (owner)
        t.owner_tid = *owner + kHostOffset;
    return t;
}

// A thread in wait4 for `child` (-1: any child).
inline ThreadSnapshot waiting_for_child(pid_t ns_tid, const std::string& name, pid_t child) {
    ThreadSnapshot t = thread(ns_tid, name, WaitKind::child);
    t.syscall = 61;
    t.waited_pid = child;
    return t;
}

// A process of the sandbox, made by `parent_ns_pid`, named after its first thread.
inline ProcessSnapshot process(pid_t ns_pid, pid_t parent_ns_pid,
                               std::vector<ThreadSnapshot> threads) {
    ProcessSnapshot result;
    result.pid = ns_pid + kHostOffset;
    result.ns_pid = ns_pid;
    result.ppid = parent_ns_pid + kHostOffset;
    result.comm = threads.empty() ? "" : threads.front().name;
    result.state = 'S';
    result.threads = std::move(threads);
    return result;
}

// The sandbox host and its reaper: always in wait4, never part of the verdict.
inline ProcessSnapshot sandbox_infrastructure() {
    ProcessSnapshot host = process(1, 0, {waiting_for_child(1, "forklore-host", -1)});
    host.infrastructure = true;
    return host;
}

// A detailed sample (file locks, fds and lock owners read) of `processes` at `time_ns`.
inline Snapshot snapshot_at(std::int64_t time_ns, std::vector<ProcessSnapshot> processes) {
    Snapshot snapshot;
    snapshot.time_ns = time_ns;
    snapshot.detailed = true;
    snapshot.processes = std::move(processes);
    return snapshot;
}

} // namespace forklore::test
