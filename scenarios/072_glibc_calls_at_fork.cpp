// 072 glibc-calls-at-fork — glibc's own internal locks, held by a busy thread at fork.
//
// What it shows: glibc repairs a few of its locks in the child of fork() (stdio, malloc, the
// NSS database, the loader lock), not all of them. A busy thread calls one glibc function in a
// loop while the main thread forks once, and the child calls the same function once:
//   getpwnam     the lock nss/getXXbyYY.c holds around the whole lookup (reading /etc/passwd);
//   setenv       the environment lock (stdlib/setenv.c, envlock); getenv takes no lock;
//   localtime    the time-zone lock (time/tzset.c, tzset_lock), taken by every localtime,
//                localtime_r and even gmtime_r call;
//   getaddrinfo  "localhost" through /etc/hosts (nsswitch: files dns): the child waits in
//                __check_pf (sysdeps/unix/sysv/linux/check_pf.c), whose static lock is held
//                while it asks the kernel for the machine's addresses over netlink, on every
//                call when nscd does not run (strace shows the netlink request per call);
//   popen        the list of popen'd files (libio/iopopen.c, proc_file_chain_lock), held while
//                popen spawns /bin/sh. glibc 2.41 takes and resets it in fork (commit 9f0d2c0,
//                "libio: Fix a deadlock after fork in popen"): there popen_fork should not hang.
// None of these locks is reset by glibc 2.36's fork (read posix/fork.c at tag glibc-2.36: it
// resets the malloc arenas, every FILE's lock, the FILE list lock, the NSS database, dl_load_lock
// and dl_load_tls_lock, nothing else), so whenever the busy thread is inside the function at the
// instant of fork, the child's call waits for ever on a lock no thread of it will release.
// `localtime_fork_forced` forces it: TZ names a FIFO, so the thread's localtime() is blocked
// reading "the time-zone file" while it holds tzset_lock (a time-zone file on slow storage).
//
// What to look for: the child's main thread waits on a private futex inside libc with no owner
// (glibc's internal locks are bare lock words, lll_lock: they record no owner), so the verdict is
// deadlocked(no_waker), not orphaned_lock. The run's notes give glibc's version.
//
// Measured outside forklore first (a plain C program: busy thread, one fork after 20 calls, the
// child's call given 2 s; 40 runs each, timeout 10, glibc 2.36-9+deb12u14, gcc 12.2, 2 loaded
// cores): getpwnam 40/40 hung, setenv 36/40, localtime 39/40, getaddrinfo 20/40, popen 29/40.
// With _Fork() instead of fork(): 40/40, 35/40, 38/40, 19/40, 27/40 (the same: fork resets none
// of them). The forced time-zone case: 20/20 hung, and 10/10 with gmtime_r in the child.
// Inside forklore (forklore matrix, 40 runs per variant, three times for localtime with
// localtime(), twice for the rest): getpwnam 100% and 100%, setenv 85%, 95% and 92%,
// localtime 90% and 92% (52% with localtime_r, which re-reads TZ less under the lock),
// getaddrinfo 50%, 32% and 42%, popen 95%, 88% and 88%. The declared intervals hold these.
// popen measured again later (2026-12-06, same machine, same glibc, forklore at 6779761, four
// matrix runs of 40): 42%, 45%, 57% and 55%, below the 50% first declared; the interval is now
// 20% to 100%, which every measurement so far keeps. Why it fell is not known (the cost of
// spawning /bin/sh inside the sandbox is the first suspect).
// getaddrinfo measured again (2026-12-06, forklore at c17053f): 40 runs gave 2% to 8% alone,
// too few to hold a 10% floor, so the variant makes 200 runs. 200 runs alone: 8%, 6%, 9%, 6%;
// beside two CPU-bound shells: 9%, 10%, 8%; beside another `forklore matrix`: 32%, 10%, 4%
// (and 28% to 50% in earlier ctest runs). The rate rises with what else runs, not with CPU load
// alone: the likely cause (not proven) is that the netlink request under the lock waits in the
// kernel for the routing lock (rtnl) that other sandboxes take while they set up and tear down
// their network namespaces, so the lock is held longer. The interval, 2% to 60%, holds every
// figure; a student reproduces the low figures on a quiet machine.
// Then 1 of 200 in a CTest run alone (2026-12-06, at 8109e1d), and 2%, 2%, 5.5% of 200 by hand
// minutes later: one caller leaves __check_pf's lock free most of the time, and the floor
// could not hold. The variant now has 8 callers (knob `callers`): while one holds the lock the
// others wait for it or work outside it, so it is held a larger part of the time. Measured
// outside forklore first (a C program, N threads calling getaddrinfo("localhost") in a loop,
// fork after 20 calls, the child's call given 2 s by alarm(), timeout 10, 40 runs each, glibc
// 2.36): in the machine's network namespace 1 caller 24/40 hung, 8 callers 37/40; in a fresh
// one (unshare -n, only a loopback that is down) 11/40 and 10/40. Inside forklore, 200 runs
// each, 1 caller: 1%; 2 callers 19%; 4 callers 15.5%, 15%, 17%; 8 callers alone 30.5%, 36.5%,
// 27%; beside two CPU spinners 37.5%, 36.5%; beside a `forklore matrix --deterministic` 52%,
// 28.5%. The interval, 12% to 75% over 200 runs, holds every 8-caller figure.
// In the forced variant the child inherits the FIFO's write end, so the parent's tz_reader stays
// blocked in read too: the verdict lists it beside the stuck threads.
//
// Variants: getpwnam_fork, setenv_fork, localtime_fork, getaddrinfo_fork, popen_fork (racy),
// localtime_fork_forced (hangs), localtime_spawn_forced.
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <fcntl.h>
#include <gnu/libc-version.h>
#include <netdb.h>
#include <pwd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>

namespace {

using namespace forklore;

// One call of the glibc function under study (each takes one of glibc's internal locks).
void call_glibc(const std::string& function) {
    if (function == "getpwnam") {
        [[maybe_unused]] passwd* entry = getpwnam("root"); // SYNC: getpwnam's lock
    } else if (function == "setenv") {
        setenv("FORKLORE_VALUE", "1", 1); // SYNC: the environment lock
    } else if (function == "localtime") {
        time_t now = time(nullptr);
        [[maybe_unused]] tm* fields = localtime(&now); // SYNC: tzset_lock
    } else if (function == "getaddrinfo") {
        addrinfo* found = nullptr;
        if (getaddrinfo("localhost", nullptr, nullptr, &found) == 0) // SYNC: resolver and NSS
            freeaddrinfo(found);
    } else if (function == "popen") {
        if (FILE* shell = popen("true", "r")) // SYNC: proc_file_chain_lock
            pclose(shell);
    }
}

void note_glibc_version() {
    const std::string version = std::string("glibc ") + gnu_get_libc_version();
    probe::note(version.c_str());
}

// --- The child: one call --------------------------------------------------------------------

int child_calls(const ChildArgs& args) {
    const std::string function = args.at("function");
    const std::string starting = "child: calling " + function;
    probe::note(starting.c_str());
    // The forced case: the FIFO has no writer any more; a fresh program would wait on it. The
    // lock is taken before TZ is read, so this changes nothing for a forked copy.
    if (auto zone = args.find("time_zone"); zone != args.end())
        setenv("TZ", zone->second.c_str(), 1);
    call_glibc(function); // SYNC: waits for ever if the lock was copied held
    probe::note("child: the call returned");
    return 0;
}

// --- The forced case: localtime() blocked reading a time-zone file that is a FIFO ----------

struct SlowTimeZoneFile {
    std::string path;
    int writer = -1;
};

SlowTimeZoneFile make_fifo_time_zone() {
    SlowTimeZoneFile file;
    file.path = "time_zone_fifo"; // the sandbox's private working directory
    unlink(file.path.c_str());
    mkfifo(file.path.c_str(), 0600);
    char cwd[512] = {};
    if (getcwd(cwd, sizeof cwd))
        file.path = std::string(cwd) + "/" + file.path;
    const std::string tz = ":" + file.path;
    setenv("TZ", tz.c_str(), 1); // before any thread: the next localtime reads this file
    return file;
}

// True once the reader thread is inside localtime(), holding tzset_lock: a FIFO opened for
// writing without blocking succeeds only when a reader has it open, and glibc opens the
// time-zone file under tzset_lock. Our open also lets the reader's open return; its read then
// waits for data, still under the lock, until `writer` is closed.
void wait_until_reader_holds_lock(SlowTimeZoneFile& file) {
    timespec pause{0, 100'000};
    while ((file.writer = open(file.path.c_str(), O_WRONLY | O_NONBLOCK)) < 0 && errno == ENXIO)
        nanosleep(&pause, nullptr);
}

// --- The parent -----------------------------------------------------------------------------

int run(ScenarioContext& context) {
    note_glibc_version();
    const StartMethod method = context.method("start_method");
    const std::string function = context.knob("function");
    const bool forced = context.knob("timing") == "forced";

    if (forced) {
        SlowTimeZoneFile zone = make_fifo_time_zone();
        probe::Thread reader("tz_reader", [] { call_glibc("localtime"); });
        wait_until_reader_holds_lock(zone); // SYNC: from here tz_reader holds tzset_lock
        probe::note("main: starting the child while tz_reader is inside localtime()");
        probe::Child child =
            probe::start_child(method, "call", {{"function", "localtime"}, {"time_zone", "UTC"}});
        close(zone.writer); // the reader's read sees end of file: localtime() returns (UTC)
        const WaitStatus status = child.wait(); // SYNC: waits for ever if the child is stuck
        reader.join();
        unlink(zone.path.c_str());
        return status.exited_ok() ? 0 : 1;
    }

    std::atomic<bool> stop{false};
    std::atomic<unsigned> calls{0};
    auto call_in_a_loop = [&] {
        while (!stop.load(std::memory_order_relaxed)) {
            call_glibc(function); // natural timing: where it is at fork is luck
            calls.fetch_add(1, std::memory_order_relaxed);
        }
    };
    // More callers keep the function's lock held a larger part of the time (one holds it while
    // the others wait for it or work outside it).
    std::deque<probe::Thread> busy;
    const long callers = context.integer("callers");
    for (long k = 0; k < callers; ++k)
        busy.emplace_back(k == 0 ? std::string("busy") : "busy " + std::to_string(k + 1),
                          call_in_a_loop);
    timespec pause{0, 200'000};
    while (calls.load(std::memory_order_relaxed) < 20)
        nanosleep(&pause, nullptr);
    const std::string starting = "main: starting the child while busy calls " + function;
    probe::note(starting.c_str());
    probe::Child child = probe::start_child(method, "call", {{"function", function}});
    const WaitStatus status = child.wait(); // SYNC: waits for ever if the child is stuck
    stop = true;
    for (auto& thread : busy)
        thread.join();
    return status.exited_ok() ? 0 : 1;
}

// The intervals: matrices of 40 runs each on 2 loaded cores (glibc 2.36), in the header.
Variant racy(const std::string& function, const std::string& what, double min, double max,
             int runs = 40) {
    return {function + "_fork",
            what,
            {{"function", function}, {"timing", "natural"}, {"start_method", "fork"}},
            Expectation::hang_rate(runs, min, max)};
}

Scenario describe() {
    Scenario s;
    s.id = "glibc-calls-at-fork";
    s.group = "glibc's own locks";
    s.title = "A thread calls getpwnam, setenv, localtime, getaddrinfo or popen while the main "
              "thread forks";
    s.lesson =
        "glibc repairs some of its own locks in the child of fork (stdio, malloc, the NSS "
        "database, the dynamic loader's lock) but not all of them. A busy thread calls a glibc "
        "function in a loop while the main thread forks, and the child calls it once. In glibc "
        "2.36 the lock of getpwnam, the environment lock of setenv, the time-zone lock of "
        "localtime (and gmtime_r) and popen's list lock are copied as they were: if the busy "
        "thread was inside, the child waits for ever on a lock word that names no owner. glibc "
        "2.41 added popen's lock to the ones fork resets. The forced variant catches the thread "
        "inside localtime while it reads a slow time-zone file; a spawned child starts fresh.";
    s.knobs = {
        start_method_knob("start_method", StartMethod::fork, "How the child process is made."),
        Knob::choice("function", "getpwnam",
                     {"getpwnam", "setenv", "localtime", "getaddrinfo", "popen"},
                     "The glibc function the busy thread and the child call."),
        Knob::choice("timing", "natural", {"natural", "forced"},
                     "natural: fork whenever; forced: localtime blocked on a FIFO time-zone "
                     "file, holding tzset_lock, at the instant of fork."),
        Knob::integer("callers", 1, 1, 8,
                      "How many busy threads call the function in a loop (natural timing)."),
    };
    s.variants = {
        racy("getpwnam", "getpwnam holds its lock around the whole lookup", 0.8, 1.0),
        racy("setenv", "setenv holds the environment lock", 0.5, 1.0),
        racy("localtime", "localtime holds the time-zone lock", 0.6, 1.0),
        {"getaddrinfo_fork",
         "getaddrinfo(\"localhost\") in 8 threads: __check_pf's lock, held over a netlink "
         "request",
         {{"function", "getaddrinfo"},
          {"callers", "8"},
          {"timing", "natural"},
          {"start_method", "fork"}},
         Expectation::hang_rate(200, 0.12, 0.75)},
        racy("popen", "popen holds its list lock while it spawns /bin/sh (glibc < 2.41)", 0.2, 1.0),
        {"localtime_fork_forced",
         "fork while localtime reads a FIFO time-zone file: tzset_lock is copied held",
         {{"function", "localtime"}, {"timing", "forced"}, {"start_method", "fork"}},
         Expectation::deadlocks(DeadlockReason::no_waker)},
        {"localtime_spawn_forced",
         "spawn while localtime holds tzset_lock: a fresh program has a free lock",
         {{"function", "localtime"}, {"timing", "forced"}, {"start_method", "spawn"}},
         Expectation::completes()},
    };
    s.body = run;
    s.children = {{"call", child_calls}};
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
