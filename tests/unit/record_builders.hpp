// A run record for the record tests to write, read and compare: the classic deadlock (main forks
// while 'worker' holds the logger lock; the child waits forever) with every part a record has,
// and events made the way the channel makes them.
#pragma once

#include "sim/protocol/channel.hpp"
#include "sim/record/record.hpp"
#include "tests/unit/snapshot_builders.hpp"

#include <csignal>
#include <cstdint>

namespace forklore::test {

inline constexpr std::int64_t kStart = 5'000'000'000; // CLOCK_MONOTONIC at the runner's start

// An event at `t_ms` after kStart (plus 17 ns: odd nanoseconds survive too), numbered in order.
inline Event event(EventKind kind, std::int64_t t_ms, pid_t pid, pid_t tid, const char* thread,
                   std::uint64_t object = 0, std::int64_t arg0 = 0, const char* name = nullptr,
                   const char* text = nullptr) {
    static std::uint64_t seq = 0;
    Event e{};
    e.committed = 1;
    e.kind = kind;
    e.seq = seq++;
    e.time_ns = kStart + t_ms * kMs + 17; // odd nanoseconds survive too
    e.pid = pid;
    e.tid = tid;
    e.object = object;
    e.arg0 = arg0;
    copy_name(e.thread, thread);
    copy_name(e.name, name);
    copy_name(e.text, text);
    return e;
}

inline // The classic: main forks while 'worker' holds the logger lock; the child waits forever.
    RunRecord
    deadlocked_record() {
    RunRecord r;
    r.scenario = "fork-while-logging";
    r.variant = "fork";
    r.knobs = {{"method", "fork"}, {"threads", "2"}};
    r.expected = Expectation::deadlocks(DeadlockReason::orphaned_lock);
    r.start_time_ns = kStart;
    r.dropped_events = 3;
    r.torn_events = 1;

    r.verdict.kind = VerdictKind::deadlocked;
    r.verdict.reason = DeadlockReason::orphaned_lock;
    r.verdict.explanation =
        "Process 3 waits for lock 'logger', held by thread 'worker' (tid 2), which was left "
        "behind by the fork.";
    r.verdict.culprit_pid = 3;
    WaitEdge edge;
    edge.kind = WaitEdge::Kind::lock;
    edge.waiter_pid = 3;
    edge.waiter_tid = 3;
    edge.waiter_thread = "main";
    edge.address = 0x7f00deadbeef;
    edge.lock_name = "logger";
    edge.owner_pid = 1;
    edge.owner_tid = 2;
    edge.owner_thread = "worker";
    edge.orphaned = true;
    edge.owner_exists = true;
    edge.description = "thread 'main' of process 3 waits for lock 'logger'";
    r.verdict.wait_for.push_back(edge);
    WaitEdge parent_edge;
    parent_edge.kind = WaitEdge::Kind::child;
    parent_edge.waiter_pid = 1;
    parent_edge.waiter_tid = 1;
    parent_edge.owner_pid = 3;
    r.verdict.wait_for.push_back(parent_edge);

    r.events = {
        event(EventKind::process_start, 0, 1, 1, "main", 0, 0, "main"),
        event(EventKind::thread_start, 1, 1, 2, "worker", 0, 1, "worker"),
        event(EventKind::lock_wait, 2, 1, 2, "worker", 0x7f00deadbeef, 0, "logger"),
        event(EventKind::lock_acquired, 2, 1, 2, "worker", 0x7f00deadbeef, 0, "logger"),
        event(EventKind::output, 3, 1, 2, "worker", 2, 2, "logger", "worker: working\n"),
        event(EventKind::child_start, 4, 1, 1, "main", 3, static_cast<int>(StartMethod::fork),
              "child_main"),
        event(EventKind::process_start, 5, 3, 3, "main", 0, 1, "child_main"),
        event(EventKind::note, 5, 3, 3, "main", 0, 0, nullptr, "child logs a line"),
        event(EventKind::lock_wait, 6, 3, 3, "main", 0x7f00deadbeef, 0, "logger"),
        event(EventKind::file_lock_wait, 7, 1, 1, "main", 5,
              static_cast<std::int64_t>(FileLockKind::ofd), "data.lock"),
        event(EventKind::process_exit, 900, 1, 1, "main", 3, SIGKILL),
    };
    r.events[9].arg1 = 123456; // file lock inode

    Snapshot snapshot;
    snapshot.time_ns = kStart + 850 * kMs;
    snapshot.detailed = true;
    ProcessSnapshot parent;
    parent.pid = 1001;
    parent.ns_pid = 1;
    parent.ppid = 999;
    parent.comm = "fork-while-log";
    parent.state = 'S';
    ThreadSnapshot main_thread;
    main_thread.tid = 1001;
    main_thread.ns_tid = 1;
    main_thread.name = "main";
    main_thread.state = 'S';
    main_thread.wchan = "do_wait";
    main_thread.syscall = 61;
    main_thread.wait = WaitKind::child;
    main_thread.untimed = true;
    main_thread.waited_pid = 3;
    ThreadSnapshot worker;
    worker.tid = 1002;
    worker.ns_tid = 2;
    worker.name = "worker";
    worker.state = 'S';
    worker.wchan = "pipe_read";
    worker.syscall = 0;
    worker.wait = WaitKind::pipe;
    worker.untimed = true;
    worker.fd = 4;
    worker.fd_target = "pipe:[4242]";
    worker.cpu_ticks = 12;
    parent.threads = {main_thread, worker};
    ProcessSnapshot child;
    child.pid = 1003;
    child.ns_pid = 3;
    child.ppid = 1001;
    child.comm = "fork-while-log";
    child.state = 'S';
    ThreadSnapshot child_main;
    child_main.tid = 1003;
    child_main.ns_tid = 3;
    child_main.name = "main";
    child_main.state = 'S';
    child_main.wchan = "futex_wait_queue";
    child_main.syscall = 202;
    child_main.wait = WaitKind::futex;
    child_main.untimed = true;
    child_main.futex_address = 0x7f00deadbeef;
    child_main.owner_ns_tid = 2;
    child_main.owner_tid = 0; // the owner does not exist in this process
    child.threads = {child_main};
    snapshot.processes = {parent, child};
    FileLockEntry lock;
    lock.id = 1;
    lock.type = "OFDLCK";
    lock.write = true;
    lock.pid = -1;
    lock.inode = 123456;
    lock.device = "00:2a";
    snapshot.file_locks = {lock};
    r.snapshots = {snapshot};

    ProcessRecord main_process;
    main_process.pid = 1001;
    main_process.ns_pid = 1;
    main_process.role = ProcessRole::main;
    main_process.name = "main";
    main_process.start_ns = 0;
    main_process.killed_by_runner = true;
    main_process.exit_description = "killed by the runner";
    main_process.output = "worker: working\n";
    main_process.threads = {{1, "main"}, {2, "worker"}};
    ProcessRecord child_process;
    child_process.pid = 1003;
    child_process.ns_pid = 3;
    child_process.parent_ns_pid = 1;
    child_process.name = "child_main";
    child_process.start_method = StartMethod::fork;
    child_process.start_ns = 5 * kMs;
    child_process.end_ns = 900 * kMs;
    child_process.wait_status = WaitStatus::from_raw(SIGKILL); // raw status of a death by SIGKILL
    child_process.exit_description = "killed by SIGKILL";
    child_process.threads = {{3, "main"}};
    r.processes = {main_process, child_process};

    ThreadStack stack;
    stack.pid = 1003;
    stack.tid = 1003;
    stack.ns_pid = 3;
    stack.ns_tid = 3;
    stack.thread_name = "main";
    stack.frames = {
        {0x7f0012345678, "__lll_lock_wait", "libc.so.6", 0x4a},
        {0x55550000abcd, "forklore::probe::Logger::write(char const*)", "fork-while-logging", 0x20},
        {0xffffffffff600000, "", "", 0}};
    ThreadStack failed;
    failed.pid = 1001;
    failed.tid = 1002;
    failed.ns_pid = 1;
    failed.ns_tid = 2;
    failed.thread_name = "worker";
    failed.error = "ptrace: Operation not permitted";
    r.stacks = {stack, failed};

    r.stdout_text = "hello\n";
    r.stderr_text = "worker: working\n";
    r.stdout_bytes = 6;
    r.stderr_bytes = 734003200;
    r.stderr_dropped = 733954048;
    r.output_truncated = true;
    r.timings = {12.5, 480.25, 512.0, 45.5, 97, 83.5};
    r.sandbox = "pid mount net ipc";
    r.limits.cpu_seconds = 7;
    r.limits.max_tasks = 12;
    r.host = "Linux 6.8 / glibc 2.39";
    return r;
}

} // namespace forklore::test
