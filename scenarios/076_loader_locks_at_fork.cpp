// 076 loader-locks-at-fork — the dynamic loader's two locks: one repaired by fork, one not.
//
// What it shows: the dynamic loader (ld.so) guards its list of loaded libraries with two
// recursive locks in _rtld_global: dl_load_lock, held for the whole of a dlopen (its ELF
// constructors ran under it up to glibc 2.42), and dl_load_write_lock, held while the list
// changes and while dl_iterate_phdr calls its callback. glibc 2.36's fork() resets
// dl_load_lock (and dl_load_tls_lock) in the child; it does not reset dl_load_write_lock
// (posix/fork.c, still so at tag glibc-2.42), and _Fork() resets neither.
// - dlopen: a loader thread is inside dlopen() of a library file that is slow to open (a FIFO
//   here, as a library on a stalled network filesystem would be), holding dl_load_lock. The
//   child dlopens libutil.so.1: with fork it loads it; with _Fork it waits for ever.
// - iterate: a walker thread is inside dl_iterate_phdr (profilers, unwinders and sanitizers
//   walk the loaded modules this way), its callback still running, holding dl_load_write_lock.
//   The child's dlopen of a new library must add it to the list: it waits for ever, even after
//   fork. (C++ exceptions no longer take this lock: GCC 12's unwinder uses glibc 2.35's
//   _dl_find_object.)
//
// What to look for: the loader's locks are pthread mutexes with an owner, so the child's wait
// names the parent's thread that holds them.
//
// Measured outside forklore first (a plain C program, 20 runs each then 10 with libutil.so.1,
// timeout 10, glibc 2.36-9+deb12u14, gcc 12.2): dlopen+fork 20/20 completed, dlopen+_Fork 20/20
// hung, iterate+fork 20/20 hung, iterate+_Fork 20/20 hung (gdb: the child waits in
// _dl_add_to_namespace_list on _rtld_global+2608, dl_load_write_lock). Racy, with a thread
// calling dlopen("libz.so.1")/dlclose in a loop and one fork: 90 of 100 children completed,
// 3 hung on dl_load_write_lock, and 7 died on ld.so's assertion "_dl_debug_update (args->nsid)
// ->r_state == RT_CONSISTENT": resetting dl_load_lock lets the child see the loader's list half
// changed. A reset is not a repair of the data the lock guards.
//
// Variants: dlopen_fork, dlopen_underscore_fork (hangs), iterate_fork (hangs), iterate_spawn.
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace {

using namespace forklore;

// A library nothing in the host has loaded (glibc 2.34+ ships it as an empty stub).
constexpr const char* kFreshLibrary = "libutil.so.1";

// --- The child: loads a library it has not loaded yet ---------------------------------------

int child_loads(const ChildArgs&) {
    probe::note("child: dlopen(\"libutil.so.1\")");
    void* library = dlopen(kFreshLibrary, RTLD_NOW); // SYNC: dl_load_lock, dl_load_write_lock
    probe::note(library ? "child: loaded" : "child: dlopen failed");
    return library ? 0 : 3;
}

// --- Holding dl_load_write_lock: a dl_iterate_phdr callback that has not returned -----------

probe::Barrier* g_walking = nullptr;
probe::Barrier* g_child_done = nullptr;

int hold_in_callback(dl_phdr_info*, size_t, void*) {
    g_walking->arrive_and_wait();    // SYNC: from here the walker holds dl_load_write_lock
    g_child_done->arrive_and_wait(); // SYNC: keeps it until the child is done
    return 1;                        // stop the walk
}

// --- Holding dl_load_lock: dlopen of a library file that is a FIFO -------------------------

std::string make_fifo_library() {
    char cwd[512] = {};
    std::string path = std::string(getcwd(cwd, sizeof cwd) ? cwd : ".") + "/slow_library.so";
    unlink(path.c_str());
    mkfifo(path.c_str(), 0600);
    return path;
}

// A FIFO opened for writing without blocking succeeds only once a reader has it open: the
// loader thread is then inside dlopen's open, under dl_load_lock. Our open lets its open
// return; its read then waits, still under the lock, until the returned fd is closed.
int wait_until_loader_holds_lock(const std::string& path) {
    int writer;
    timespec pause{0, 100'000};
    while ((writer = open(path.c_str(), O_WRONLY | O_NONBLOCK)) < 0 && errno == ENXIO)
        nanosleep(&pause, nullptr);
    return writer;
}

// A copy made by _Fork runs the child function itself, as start_child does for fork.
probe::Child underscore_fork() {
    pid_t pid = _Fork();
    if (pid == 0)
        _exit(probe::run_child_function("load", {}, StartMethod::fork));
    if (pid > 0)
        probe::record(EventKind::child_start, static_cast<std::uint64_t>(pid),
                      static_cast<std::int64_t>(StartMethod::fork),
                      static_cast<std::int64_t>(CopyCall::bare_fork), "load", nullptr);
    return probe::Child(pid, StartMethod::fork);
}

probe::Child make_child(const std::string& maker) {
    if (maker == "_Fork")
        return underscore_fork();
    return probe::start_child(maker == "spawn" ? StartMethod::spawn : StartMethod::fork, "load");
}

// --- The parent -----------------------------------------------------------------------------

int run(ScenarioContext& context) {
    const std::string version = std::string("glibc ") + gnu_get_libc_version();
    probe::note(version.c_str());
    const std::string maker = context.knob("maker");
    bool ok = false;
    if (context.knob("holder") == "iterate") {
        probe::Barrier walking{"walking", 2};
        probe::Barrier child_done{"child_done", 2};
        g_walking = &walking;
        g_child_done = &child_done;
        probe::Thread walker("walker", [] { dl_iterate_phdr(hold_in_callback, nullptr); });
        walking.arrive_and_wait(); // SYNC: from here the walker holds dl_load_write_lock
        probe::note("main: starting the child while walker is inside dl_iterate_phdr");
        probe::Child child = make_child(maker);
        ok = child.valid() && child.wait().exited_ok(); // SYNC: waits for ever if stuck
        child_done.arrive_and_wait();
        walker.join();
    } else {
        const std::string path = make_fifo_library();
        probe::Thread loader("loader", [&] {
            if (void* library = dlopen(path.c_str(), RTLD_NOW)) // fails: the file is empty
                dlclose(library);
        });
        const int writer = wait_until_loader_holds_lock(path); // SYNC: dl_load_lock held
        probe::note("main: starting the child while loader is inside dlopen()");
        probe::Child child = make_child(maker);
        close(writer); // the loader reads end of file: its dlopen fails and returns
        ok = child.valid() && child.wait().exited_ok(); // SYNC: waits for ever if stuck
        loader.join();
        unlink(path.c_str());
    }
    return ok ? 0 : 1;
}

Variant variant(const std::string& holder, const std::string& name, const std::string& maker,
                const std::string& what, Expectation expected) {
    return {holder + "_" + name, what, {{"holder", holder}, {"maker", maker}}, expected};
}

Scenario describe() {
    Scenario s;
    s.id = "loader-locks-at-fork";
    s.group = "glibc's own locks";
    s.title = "A thread is inside dlopen or dl_iterate_phdr while the main thread forks";
    s.lesson =
        "The dynamic loader has two locks. glibc 2.36's fork() resets dl_load_lock in the "
        "child, so a thread caught inside dlopen does not stop the child from loading a library "
        "(with _Fork, which makes no repairs, it does). It does not reset dl_load_write_lock, "
        "held while dl_iterate_phdr runs its callback: a thread walking the loaded modules at "
        "fork leaves the child unable to load any new library, still so in glibc 2.42. The "
        "loader's locks are mutexes that record their owner, so the child's wait names the "
        "parent's thread. A spawned child starts with free locks.";
    s.knobs = {
        Knob::choice("holder", "dlopen", {"dlopen", "iterate"},
                     "dlopen: a thread inside dlopen of a slow library file (dl_load_lock); "
                     "iterate: a thread inside a dl_iterate_phdr callback (dl_load_write_lock)."),
        Knob::choice("maker", "fork", {"fork", "_Fork", "spawn"},
                     "How the child that loads libutil.so.1 is made."),
    };
    s.variants = {
        variant("dlopen", "fork", "fork", "fork resets dl_load_lock: the child loads a library",
                Expectation::completes()),
        variant("dlopen", "underscore_fork", "_Fork",
                "_Fork resets nothing: the child waits for dl_load_lock",
                Expectation::deadlocks(DeadlockReason::orphaned_lock)),
        variant("iterate", "fork", "fork",
                "fork does not reset dl_load_write_lock: the child's dlopen waits",
                Expectation::deadlocks(DeadlockReason::orphaned_lock)),
        variant("iterate", "spawn", "spawn", "a spawned child has free loader locks",
                Expectation::completes()),
    };
    s.body = run;
    s.children = {{"load", child_loads}};
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
