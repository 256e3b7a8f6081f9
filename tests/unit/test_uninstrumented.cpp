// Programs nobody instrumented (forklore exec), on synthetic snapshots: the process tree built
// from samples alone (forks, execs, exits, threads), and explanations that rely on /proc and
// native stacks instead of events (orphaned lock by parent, ownerless Python lock, dead owner).
//
// Host ids are namespace ids + 1000, as in test_verdict.cpp: the record and the sentences must
// use the ids the sandbox sees.
//
// Index of this file:
// [SECTION] Helpers: synthetic processes, snapshots, events and frames
// [SECTION] The process tree from samples alone: forks, execs, exits
// [SECTION] Explanations from /proc and native stacks
// [SECTION] The command line as a knob, and an armed timerfd
// [SECTION] Threads that bear only their program's name
#include "sim/observe/proc_files.hpp"
#include "sim/probe/exec_program.hpp"
#include "sim/record/process_records.hpp"
#include "sim/verdict/explain.hpp"
#include "sim/verdict/thread_names.hpp"
#include "sim/verdict/verdict.hpp"

#include "tests/unit/snapshot_builders.hpp"

#include <catch2/catch.hpp>

#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace forklore;
using Catch::Matchers::Contains;

// [SECTION] Helpers: synthetic processes, snapshots, events and frames ----------------------------

namespace {

using namespace forklore::test;
constexpr std::int64_t kStart = 7'000 * kMs; // the run's start, CLOCK_MONOTONIC

// A process running `exe`, whose stack starts at `image` (a new value means it exec'd).
ProcessSnapshot process(pid_t ns_pid, pid_t parent_ns_pid, const std::string& exe,
                        std::uint64_t image, std::vector<ThreadSnapshot> threads) {
    ProcessSnapshot p;
    p.pid = ns_pid + kHostOffset;
    p.ns_pid = ns_pid;
    p.ppid = parent_ns_pid + kHostOffset;
    p.start_time = 100 + static_cast<std::uint64_t>(ns_pid);
    p.image = image;
    p.exe = exe;
    p.command = exe.substr(exe.rfind('/') + 1);
    p.comm = threads.empty() ? p.command.substr(0, 15) : threads.front().name;
    p.state = 'S';
    p.threads = std::move(threads);
    return p;
}

ProcessSnapshot zombie(ProcessSnapshot p, int wait_status) {
    p.state = 'Z';
    p.exit_code = wait_status;
    p.exe.clear();
    p.command.clear();
    for (auto& t : p.threads) {
        t.state = 'Z';
        t.wait = WaitKind::zombie;
    }
    return p;
}

// The sandbox's reaper: pid 1, infrastructure, always in wait4.
ProcessSnapshot reaper() {
    ProcessSnapshot p =
        process(1, 0, "/bin/forklore-host", 0x7ff0, {waiting_for_child(1, "forklore-reaper", -1)});
    p.infrastructure = true;
    return p;
}

Snapshot at_ms(std::int64_t ms, std::vector<ProcessSnapshot> processes) {
    Snapshot s;
    s.time_ns = kStart + ms * kMs;
    s.detailed = true;
    s.processes = std::move(processes);
    return s;
}

const ProcessRecord* find(const std::vector<ProcessRecord>& records, pid_t ns_pid) {
    for (const auto& r : records)
        if (r.ns_pid == ns_pid)
            return &r;
    return nullptr;
}

Event exec_event(pid_t pid, std::int64_t ms, const char* program) {
    Event e{};
    e.committed = 1;
    e.kind = EventKind::exec;
    e.time_ns = kStart + ms * kMs;
    e.pid = pid;
    e.tid = pid;
    std::snprintf(e.thread, sizeof e.thread, "main");
    std::snprintf(e.name, sizeof e.name, "%s", program);
    std::snprintf(e.text, sizeof e.text, "%s", program);
    return e;
}

StackFrame frame(const char* function, const char* module) {
    StackFrame f;
    f.function = function;
    f.module = module;
    return f;
}

} // namespace

// [SECTION] The process tree from samples alone: forks, execs, exits ------------------------------

TEST_CASE("the samples alone give the process tree: forks, execs, exits", "[records][exec]") {
    const std::string python = "/usr/bin/python3.11";
    ProcessHistory history;
    history.observe(at_ms(1, {reaper(), process(2, 1, python, 0xA0, {thread(2, "python3")})}));
    // Process 2 forks process 3 (a copy: same program, same stack) and starts a thread.
    history.observe(at_ms(
        3, {reaper(),
            process(2, 1, python, 0xA0, {waiting_for_child(2, "python3", 3), thread(4, "python3")}),
            process(3, 2, python, 0xA0, {thread(3, "python3")})}));
    // Process 3 execs sh: a new stack address, a new program.
    history.observe(at_ms(
        5, {reaper(),
            process(2, 1, python, 0xA0, {waiting_for_child(2, "python3", 3), thread(4, "python3")}),
            process(3, 2, "/usr/bin/dash", 0xB0, {thread(3, "sh")})}));
    // It exits with code 3; its parent has not reaped it yet.
    history.observe(
        at_ms(7, {reaper(), process(2, 1, python, 0xA0, {thread(2, "python3")}),
                  zombie(process(3, 2, "/usr/bin/dash", 0xB0, {thread(3, "sh")}), 3 << 8)}));
    // Reaped by process 2 (which records nothing), then process 2 ends too.
    history.observe(at_ms(9, {reaper(), process(2, 1, python, 0xA0, {thread(2, "python3")})}));

    REQUIRE(history.processes().size() == 3);
    const ProcessHistory::Process& child = history.processes()[2];
    CHECK(child.ns_pid == 3);
    CHECK(child.parent_ns_pid == 2);
    CHECK(child.first_seen_ns == kStart + 3 * kMs);
    REQUIRE(child.programs.size() == 2);
    CHECK(child.programs[0].exe == python);
    CHECK(child.programs[1].exe == "/usr/bin/dash");
    CHECK(child.programs[1].seen_ns == kStart + 5 * kMs);
    CHECK(child.zombie_ns == kStart + 7 * kMs);
    REQUIRE(child.zombie_status.has_value());
    CHECK(*child.zombie_status == 3 << 8);
    CHECK(child.gone_ns == kStart + 9 * kMs);

    auto records = build_process_records({}, history, kStart, {9999, 0, false});
    const ProcessRecord* parent = find(records, 2);
    const ProcessRecord* sh = find(records, 3);
    REQUIRE(parent != nullptr);
    REQUIRE(sh != nullptr);
    CHECK(parent->name == "python3");
    CHECK(parent->program == python);
    CHECK(parent->start_ns == 1 * kMs);
    CHECK(parent->threads ==
          std::vector<std::pair<pid_t, std::string>>{{2, "python3"}, {4, "python3"}});
    // Its parent, the reaper, runs another program: it exec'd before the first sample saw it.
    REQUIRE(parent->execs.size() == 1);
    CHECK(parent->execs[0].program == python);
    // The sandbox ended on its own: nobody was killed by the runner.
    CHECK_FALSE(parent->killed_by_runner);

    CHECK(sh->parent_ns_pid == 2);
    CHECK(sh->start_ns == 3 * kMs);
    CHECK(sh->program == "/usr/bin/dash");
    REQUIRE(sh->execs.size() == 1);
    CHECK(sh->execs[0].program == "/usr/bin/dash");
    CHECK(sh->execs[0].t_ns == 5 * kMs);
    REQUIRE(sh->wait_status.known());
    CHECK(sh->exit_description == "exited with code 3");
    CHECK(sh->end_ns == 7 * kMs);
    CHECK_FALSE(sh->killed_by_runner);

    // How each was made, as the history can say it: the child first ran its parent's program (a
    // copy: fork), the parent already ran another program than the reaper's (fork and exec, or
    // spawn); a start method the trace recorded wins.
    CHECK(how_started(*sh) == "fork");
    CHECK(how_started(*parent) == "exec python3.11");
    ProcessRecord spawned = *sh;
    spawned.start_method = StartMethod::spawn;
    CHECK(how_started(spawned) == "spawn");
    ProcessRecord unseen = *sh;
    unseen.pid = 0; // only the trace knows it
    CHECK(how_started(unseen).empty());
}

TEST_CASE("a process reaped unseen ends with an unknown status, not killed by the runner",
          "[records][exec]") {
    ProcessHistory history;
    history.observe(
        at_ms(1, {reaper(), process(2, 1, "/bin/sh", 0xA0, {waiting_for_child(2, "sh", 3)}),
                  process(3, 2, "/bin/sleep", 0xC0, {thread(3, "sleep", WaitKind::sleep)})}));
    history.observe(at_ms(4, {reaper(), process(2, 1, "/bin/sh", 0xA0, {thread(2, "sh")})}));

    SECTION("the run ended on its own") {
        auto records = build_process_records({}, history, kStart, {9999, 0, false});
        const ProcessRecord* sleeper = find(records, 3);
        REQUIRE(sleeper != nullptr);
        CHECK_FALSE(sleeper->wait_status.known());
        CHECK_FALSE(sleeper->killed_by_runner);
        CHECK(sleeper->end_ns == 4 * kMs);
        CHECK_THAT(sleeper->exit_description, Contains("status unknown"));
        // sleep was not sh's program when first seen: it exec'd before any sample saw it.
        REQUIRE(sleeper->execs.size() == 1);
        CHECK(sleeper->execs[0].program == "/bin/sleep");
        const ProcessRecord* shell = find(records, 2);
        REQUIRE(shell != nullptr);
        CHECK_FALSE(shell->killed_by_runner);
    }
    SECTION("the runner ended it: what was still alive was killed") {
        auto records = build_process_records({}, history, kStart, {9999, 0, true});
        const ProcessRecord* shell = find(records, 2);
        REQUIRE(shell != nullptr);
        CHECK(shell->killed_by_runner);
        const ProcessRecord* sleeper = find(records, 3);
        REQUIRE(sleeper != nullptr);
        CHECK_FALSE(sleeper->killed_by_runner); // it had ended before
    }
}

TEST_CASE("an exec seen mid-way and the exec event are one exec", "[records][exec]") {
    ProcessHistory history;
    history.observe(
        at_ms(1, {reaper(), process(2, 1, "/bin/forklore-host", 0xA0, {thread(2, "main")})}));
    // Inside execve: the new program, its stack not placed yet.
    history.observe(
        at_ms(3, {reaper(), process(2, 1, "/usr/bin/python3.11", 0xB0, {thread(2, "python3")})}));
    // Placed: the stack moved, the program is the same.
    history.observe(
        at_ms(5, {reaper(), process(2, 1, "/usr/bin/python3.11", 0xB8, {thread(2, "python3")})}));
    REQUIRE(history.processes().size() == 2);
    CHECK(history.processes()[1].programs.size() == 2);

    // The probe recorded the exec at 2 ms, before the sample that showed it.
    std::vector<Event> events = {exec_event(2, 2, "python3")};
    auto records = build_process_records(events, history, kStart, {9999, 0, true});
    const ProcessRecord* main_process = find(records, 2);
    REQUIRE(main_process != nullptr);
    REQUIRE(main_process->execs.size() == 1);
    CHECK(main_process->execs[0].t_ns == 2 * kMs);                  // the trace's time
    CHECK(main_process->execs[0].program == "/usr/bin/python3.11"); // /proc's program
    // After the exec, /proc's thread names are the truth, not the trace's.
    CHECK(main_process->threads == std::vector<std::pair<pid_t, std::string>>{{2, "python3"}});
}

// [SECTION] Explanations from /proc and native stacks ---------------------------------------------

TEST_CASE("an orphaned mutex without events names the address, the waiter and the parent",
          "[verdict][exec]") {
    const std::uint64_t mutex = 0x55d0c0a0;
    // Process 2 (holder thread 3 blocked on a pipe, main thread waiting for its child 4);
    // process 4 forked from it waits for the mutex whose lock word names tid 3.
    ThreadSnapshot holder = thread(3, "holder", WaitKind::pipe);
    holder.fd = 3;
    holder.fd_target = "pipe:[77]";
    ProcessSnapshot parent = process(2, 1, "/bin/orphaned_mutex", 0xA0,
                                     {waiting_for_child(2, "orphaned_mutex", 4), holder});
    ProcessSnapshot child =
        process(4, 2, "/bin/orphaned_mutex", 0xA0, {on_futex(4, "orphaned_mutex", mutex, 3)});
    Snapshot snapshot = at_ms(10, {reaper(), parent, child});

    std::vector<ThreadStack> stacks(1);
    stacks[0].tid = 4 + kHostOffset;
    stacks[0].frames = {frame("__lll_lock_wait", "libc.so.6"),
                        frame("___pthread_mutex_lock", "libc.so.6"),
                        frame("main", "orphaned_mutex")};
    Verdict verdict = explain_deadlock(snapshot, {}, 0, stacks);
    REQUIRE(verdict.kind == VerdictKind::deadlocked);
    REQUIRE(verdict.reason == DeadlockReason::orphaned_lock);
    CHECK_THAT(verdict.explanation, Contains("mutex at 0x55d0c0a0"));
    CHECK_THAT(verdict.explanation,
               Contains("'main' (tid 4) of process 4")); // its comm is only the program's name
    CHECK_THAT(verdict.explanation,
               Contains("thread 'holder' (tid 3), which exists only in process 2"));
    CHECK_THAT(verdict.explanation, Contains("the parent of process 4"));
    CHECK_THAT(verdict.explanation, Contains("nothing recorded how it was made"));
    REQUIRE_FALSE(verdict.wait_for.empty());
    const WaitEdge& edge = verdict.wait_for.back();
    CHECK(edge.orphaned);
    CHECK(edge.owner_pid == 2);
    CHECK(edge.owner_tid == 3);
    CHECK(edge.object_kind == "mutex");
}

TEST_CASE("an owner tid that lives nowhere is said to no longer exist", "[verdict][exec]") {
    ProcessSnapshot child = process(4, 1, "/bin/prog", 0xA0, {on_futex(4, "prog", 0x1000, 9)});
    Verdict verdict = explain_deadlock(at_ms(10, {reaper(), child}), {}, 0);
    REQUIRE(verdict.reason == DeadlockReason::orphaned_lock);
    CHECK_THAT(verdict.explanation, Contains("tid 9"));
    CHECK_THAT(verdict.explanation, Contains("no longer exists"));
}

TEST_CASE("a Python lock taken in a forked child is ownerless, said so from its stack",
          "[verdict][exec]") {
    ProcessSnapshot parent =
        process(2, 1, "/usr/bin/python3.11", 0xA0,
                {waiting_for_child(2, "python3", 4), on_futex(3, "python3", 0x7f00)});
    ProcessSnapshot child =
        process(4, 2, "/usr/bin/python3.11", 0xA0, {on_futex(4, "python3", 0x2a00)});
    std::vector<ThreadStack> stacks(1);
    stacks[0].tid = 4 + kHostOffset;
    stacks[0].frames = {frame("__futex_abstimed_wait_common", "libc.so.6"),
                        frame("__new_sem_wait_slow64.constprop.0", "libc.so.6"),
                        frame("PyThread_acquire_lock_timed", "python3.11"),
                        frame("_PyEval_EvalFrameDefault", "python3.11")};
    Verdict verdict = explain_deadlock(at_ms(10, {reaper(), parent, child}), {}, 0, stacks);
    REQUIRE(verdict.kind == VerdictKind::deadlocked);
    CHECK(verdict.reason == DeadlockReason::no_waker);
    CHECK_THAT(verdict.explanation, Contains("Python lock at 0x2a00"));
    CHECK_THAT(verdict.explanation, Contains("owner unknown"));
    CHECK_THAT(verdict.explanation, Contains("waits for child process 4"));
    // The parent's thread has no stack here: the futex stays honestly unnamed.
    CHECK_THAT(verdict.explanation, Contains("futex at 0x7f00, owner unknown"));
}

TEST_CASE("a stack names what a futex belongs to", "[verdict][exec]") {
    ThreadStack stack;
    CHECK(wait_from_stack(nullptr).object_kind.empty());
    stack.frames = {frame("__futex_abstimed_wait_common", "libc.so.6"),
                    frame("__new_sem_wait_slow64.constprop.0", "libc.so.6"),
                    frame("worker", "prog")};
    StackWait semaphore = wait_from_stack(&stack);
    CHECK(semaphore.object_kind == "semaphore");
    CHECK(semaphore.function == "sem_wait");
    CHECK(semaphore.caller == "worker");

    stack.frames = {frame("__futex_abstimed_wait_common", "libc.so.6"),
                    frame("___pthread_cond_wait", "libc.so.6"), frame("", "prog"),
                    frame("consumer", "prog")};
    StackWait condition = wait_from_stack(&stack);
    CHECK(condition.object_kind == "condition variable");
    CHECK(condition.caller == "consumer");

    stack.frames = {frame("read", "libc.so.6"), frame("main", "prog")};
    CHECK(wait_from_stack(&stack).object_kind.empty());
}

// [SECTION] The command line as a knob, and an armed timerfd --------------------------------------

TEST_CASE("a command line survives the trip through a knob", "[exec]") {
    std::vector<std::string> argv = {"python3", "-c", "print(\"a b\") # \\ ,=", ""};
    auto back = probe::decode_argv(probe::encode_argv(argv));
    REQUIRE(back.has_value());
    CHECK(*back == argv);
    CHECK_FALSE(probe::decode_argv("not json").has_value());
    CHECK_FALSE(probe::decode_argv("[1, 2]").has_value());
    CHECK_FALSE(probe::decode_argv("{\"a\": 1}").has_value());
}

TEST_CASE("an armed timerfd makes an event loop's endless poll a timed wait", "[procfs][exec]") {
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    REQUIRE(timer >= 0);
    CHECK_FALSE(procfs::has_armed_timerfd(getpid())); // created, never armed
    itimerspec every_minute{{60, 0}, {60, 0}};
    REQUIRE(timerfd_settime(timer, 0, &every_minute, nullptr) == 0);
    CHECK(procfs::has_armed_timerfd(getpid()));
    itimerspec disarmed{};
    REQUIRE(timerfd_settime(timer, 0, &disarmed, nullptr) == 0);
    CHECK_FALSE(procfs::has_armed_timerfd(getpid()));
    close(timer);
}

// [SECTION] Threads that bear only their program's name -------------------------------------------

TEST_CASE("threads that bear only their program's name are called main and thread N",
          "[verdict][exec][names]") {
    // As Debian's python3 runs a script: the executable is python3.11, the command's first word
    // python3, and the kernel calls every thread the program never named 'python3'.
    ProcessSnapshot parent =
        process(2, 1, "/usr/bin/python3.11", 0xA0,
                {waiting_for_child(2, "python3", 4), on_futex(3, "python3", 0x7f00),
                 on_futex(5, "printer", 0x7f80)});
    parent.command = "/usr/bin/python3 lock_at_fork.py";
    ProcessSnapshot child =
        process(4, 2, "/usr/bin/python3.11", 0xA0, {on_futex(4, "python3", 0x2a00)});
    child.command = parent.command;
    CHECK(has_program_name_only(parent, parent.threads[0]));
    CHECK(readable_thread_name(parent, parent.threads[0]) == "main");
    CHECK(readable_thread_name(parent, parent.threads[1]) == "thread 3");
    CHECK(readable_thread_name(parent, parent.threads[2]) == "printer"); // a name it gave itself
    CHECK(readable_thread_name(child, child.threads[0]) == "main");

    Verdict verdict = explain_deadlock(at_ms(10, {reaper(), parent, child}), {}, 0);
    REQUIRE(verdict.kind == VerdictKind::deadlocked);
    CHECK_THAT(verdict.explanation, !Contains("'python3'"));
    CHECK_THAT(verdict.explanation, Contains("Thread 'main' (tid 4) of process 4"));
    for (const auto& edge : verdict.wait_for)
        CHECK(edge.waiter_thread != "python3");
    for (const auto& state : verdict.stuck)
        CHECK(state.name != "python3");

    // A scenario's own threads (named by the probes) keep their names, and so does the sandbox.
    ProcessSnapshot scenario = process(6, 1, "/work/build/bin/forklore-host", 0xB0,
                                       {on_futex(6, "main", 0x10), on_futex(7, "reader", 0x20)});
    CHECK(readable_thread_name(scenario, scenario.threads[0]) == "main");
    CHECK(readable_thread_name(scenario, scenario.threads[1]) == "reader");
    ProcessSnapshot host = reaper();
    CHECK(readable_thread_name(host, host.threads[0]) == "forklore-reaper");
}
