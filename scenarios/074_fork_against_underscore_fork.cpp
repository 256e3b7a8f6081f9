// 074 fork-against-underscore-fork — glibc repairs its stdio and malloc locks in fork() only,
// not in _Fork or a raw clone.
//
// What it shows: a holder thread holds stderr's FILE lock (flockfile: the lock fprintf and
// fwrite take around every call) while the main thread makes a child that writes to stderr.
// - fork(): glibc 2.36's fork resets every FILE's lock in the child (fresetlockfiles in
//   posix/fork.c), so the child's fprintf goes through.
// - _Fork() (glibc 2.34+, POSIX 2024): the same system call without glibc's repairs and
//   without atfork handlers, made to be async-signal-safe. The child's copy of the lock is held
//   by a thread it does not have: its fprintf waits for ever.
// - syscall(SYS_clone, SIGCHLD, ...): the raw system call, behind glibc's back; the same.
// - The safe ways out run no library code in a copy: vfork then execve at once, posix_spawn,
//   system() (posix_spawn of /bin/sh underneath since glibc 2.34) all complete with the lock held.
//
// What to look for: in `underscore_fork` and `raw_clone` the child's main thread waits on a private
// futex in libc with no owner (a FILE lock records its owner as a thread pointer, not a tid, so
// nothing names the holder): deadlocked(no_waker).
//
// Measured outside forklore first (a plain C program, 20 runs each, timeout 10, glibc
// 2.36-9+deb12u14, gcc 12.2): fork 20/20 completed, _Fork 20/20 hung, raw clone 20/20 hung;
// vfork+execve(/bin/true), posix_spawn(/bin/true) and system("true") 20/20 completed each.
//
// malloc, natural timing (a churner thread frees and allocates 64 blocks in a loop in its own
// arena; the child frees them, then makes 2000 allocations): outside forklore, 40 runs each,
// fork 40/40 completed, _Fork 16/40 hung, raw clone 12/40 hung. Inside forklore (forklore
// matrix, 40 runs, twice): _Fork 38% and 28%, raw clone 18% and 35%; malloc_fork 20/20.
// (A child that only allocates never hangs here: its main thread uses the main arena, which the
// churner never locks.) The hung child waits on the arena's lock, a bare lock word: no_waker.
//
// Variants: fork, underscore_fork (hangs), raw_clone (hangs), vfork_exec, posix_spawn, system,
// malloc_fork, malloc_underscore_fork and malloc_raw_clone (racy).
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <gnu/libc-version.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

extern char** environ;

namespace {

using namespace forklore;

// --- The child: writes one line to stderr ---------------------------------------------------

int child_prints(const ChildArgs&) {
    probe::print(stderr, "child: a line on stderr"); // SYNC: takes stderr's FILE lock
    return 0;
}

// --- malloc: a churner thread allocates and frees in a loop; the child frees its blocks ------
// Atomic slots, so at the instant of the copy each holds either nothing or a live block.
std::array<std::atomic<void*>, 64> g_live{};

void churn_step(unsigned i) {
    std::atomic<void*>& slot = g_live[i % g_live.size()];
    std::free(slot.exchange(nullptr));                        // SYNC: the churner's arena lock
    slot.store(std::malloc(16u << (i % g_live.size() % 15))); // SYNC: the churner's arena lock
}

// The churner has its own arena (glibc gives a new thread one): only by freeing the churner's
// blocks does the child's main thread take that arena's lock.
int child_allocates(const ChildArgs&) {
    for (auto& slot : g_live)
        std::free(slot.exchange(nullptr)); // SYNC: the churner's arena lock, as it was copied
    for (unsigned i = 0; i < 2000; ++i)
        std::free(std::malloc(16u << (i % 15)));
    probe::print(stdout, "child: 2000 allocations done");
    return 0;
}

// A copy made by _Fork or clone runs the child function itself, as start_child does for fork.
pid_t make_copy(const std::string& maker, const std::string& function) {
    pid_t pid =
        maker == "_Fork" ? _Fork() : static_cast<pid_t>(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
    if (pid == 0)
        _exit(probe::run_child_function(function, {}, StartMethod::fork));
    if (pid > 0)
        probe::record(
            EventKind::child_start, static_cast<std::uint64_t>(pid),
            static_cast<std::int64_t>(StartMethod::fork),
            static_cast<std::int64_t>(maker == "_Fork" ? CopyCall::bare_fork : CopyCall::raw_clone),
            function.c_str(), nullptr);
    return pid;
}

// The safe ways out: a new program, started without running library code in a copy.
bool run_program(const std::string& maker) {
    char program[] = "/bin/true";
    char* const argv[] = {program, nullptr};
    if (maker == "system")
        return system("true") == 0; // SYNC: waits for /bin/sh
    pid_t pid = -1;
    if (maker == "posix_spawn") {
        if (posix_spawn(&pid, program, nullptr, nullptr, argv, environ) != 0)
            return false;
    } else {
        pid = probe::vfork_exec(program, argv);
    }
    if (pid < 0)
        return false;
    probe::Child child(pid, StartMethod::spawn);
    return child.wait().exited_ok(); // SYNC: waits for /bin/true
}

// --- The parent -----------------------------------------------------------------------------

// malloc, natural timing: where the churner is at the instant of the copy is luck.
int run_malloc(const std::string& maker) {
    std::atomic<bool> stop{false};
    std::atomic<unsigned> steps{0};
    probe::Thread churner("churner", [&] {
        for (unsigned i = 0; !stop.load(std::memory_order_relaxed); ++i) {
            churn_step(i);
            steps.store(i + 1, std::memory_order_relaxed);
        }
    });
    timespec pause{0, 200'000};
    while (steps.load(std::memory_order_relaxed) < 2000)
        nanosleep(&pause, nullptr);
    const std::string starting = "main: " + maker + " while the churner is busy in malloc";
    probe::note(starting.c_str());
    probe::Child child = maker == "fork"
                             ? probe::start_child(StartMethod::fork, "allocate")
                             : probe::Child(make_copy(maker, "allocate"), StartMethod::fork);
    const bool ok = child.valid() && child.wait().exited_ok(); // SYNC: for ever if stuck
    stop = true;
    churner.join();
    for (auto& slot : g_live)
        std::free(slot.exchange(nullptr));
    return ok ? 0 : 1;
}

int run(ScenarioContext& context) {
    const std::string version = std::string("glibc ") + gnu_get_libc_version();
    probe::note(version.c_str());
    const std::string maker = context.knob("maker");
    if (context.knob("lock") == "malloc")
        return run_malloc(maker);

    probe::Barrier lock_held{"lock_held", 2};
    probe::Barrier finished{"finished", 2};
    probe::Thread holder("holder", [&] {
        flockfile(stderr); // SYNC: holds stderr's FILE lock, as a thread inside fprintf does
        lock_held.arrive_and_wait();
        finished.arrive_and_wait(); // SYNC: keeps it until the child is done
        funlockfile(stderr);
    });
    lock_held.arrive_and_wait(); // SYNC: from here the holder holds stderr's lock
    const std::string starting = "main: " + maker + " while the holder holds stderr's lock";
    probe::note(starting.c_str());
    bool ok = false;
    if (maker == "fork") {
        probe::Child child = probe::start_child(StartMethod::fork, "print");
        ok = child.wait().exited_ok(); // SYNC: waits for ever if the child is stuck
    } else if (maker == "_Fork" || maker == "clone") {
        probe::Child child(make_copy(maker, "print"), StartMethod::fork);
        ok = child.valid() && child.wait().exited_ok(); // SYNC: waits for ever if stuck
    } else {
        ok = run_program(maker);
    }
    finished.arrive_and_wait();
    holder.join();
    return ok ? 0 : 1;
}

Variant variant(const std::string& name, const std::string& maker, const std::string& what,
                Expectation expected, const std::string& lock = "stdio") {
    return {name, what, {{"maker", maker}, {"lock", lock}}, expected};
}

Scenario describe() {
    Scenario s;
    s.id = "fork-against-underscore-fork";
    s.group = "glibc's own locks";
    s.title = "A thread holds stderr's lock while the main thread makes a child by fork, _Fork, "
              "clone, vfork+exec, posix_spawn or system";
    s.lesson =
        "glibc's repair of its stdio locks is done by fork() itself, not by the kernel. A holder "
        "thread holds stderr's FILE lock (what fprintf takes) while the main thread makes a "
        "child that writes to stderr. With fork() the child completes: glibc 2.36 resets every "
        "FILE's lock in the child. _Fork() (glibc 2.34 and later) is the bare system call "
        "without those repairs, and syscall(SYS_clone) goes behind glibc's back: their child "
        "waits for ever. vfork followed at once by exec, posix_spawn and system() run no "
        "library code in a copy of the parent, and complete with the lock held. malloc is the "
        "same: with a churner thread busy in malloc, fork's child always completes (glibc "
        "resets the arenas' locks), _Fork's and clone's children sometimes hang.";
    s.knobs = {
        Knob::choice("lock", "stdio", {"stdio", "malloc"},
                     "stdio: a thread holds stderr's FILE lock (forced); malloc: a churner "
                     "thread allocates and frees in a loop (natural timing), the child frees its "
                     "blocks. The safe ways out are shown with stdio."),
        Knob::choice("maker", "fork",
                     {"fork", "_Fork", "clone", "vfork_exec", "posix_spawn", "system"},
                     "How the child is made: a copy (fork, _Fork, raw clone) that prints to "
                     "stderr, or a new program (/bin/true, or /bin/sh for system)."),
    };
    s.variants = {
        variant("fork", "fork", "fork: glibc resets stderr's lock in the child",
                Expectation::completes()),
        variant("underscore_fork", "_Fork",
                "_Fork: no reset, the child's stderr lock is held by nobody it has",
                Expectation::deadlocks(DeadlockReason::no_waker)),
        variant("raw_clone", "clone", "raw clone: no reset either",
                Expectation::deadlocks(DeadlockReason::no_waker)),
        variant("vfork_exec", "vfork_exec", "vfork then execve at once: a new program",
                Expectation::completes()),
        variant("posix_spawn", "posix_spawn", "posix_spawn of /bin/true", Expectation::completes()),
        variant("system", "system", "system(\"true\"): posix_spawn of /bin/sh underneath",
                Expectation::completes()),
        variant("malloc_fork", "fork",
                "fork while the churner is in malloc: glibc resets the arenas",
                Expectation::completes(), "malloc"),
        variant("malloc_underscore_fork", "_Fork",
                "_Fork while the churner is in malloc: sometimes its arena's lock is copied held",
                Expectation::hang_rate(40, 0.05, 0.75), "malloc"),
        variant("malloc_raw_clone", "clone", "raw clone while the churner is in malloc",
                Expectation::hang_rate(40, 0.05, 0.75), "malloc"),
    };
    s.body = run;
    s.children = {{"print", child_prints}, {"allocate", child_allocates}};
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
