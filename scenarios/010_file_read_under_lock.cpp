// 010 file-read-under-lock — the classic hang of a threaded file reader and fork.
//
// What it shows: a library reads files under one global lock (as a Parquet reader does). A
// reader thread of the parent is inside that lock when the main thread starts a worker
// process. With `fork`, the worker is a copy of the parent's memory taken at that instant: the
// lock is copied locked, but the reader thread that would unlock it is not copied. The worker's
// first read waits for ever.
//
// What to look for: in the fork variant, the child's main thread waits on `file_lock` whose
// owner is the parent's `reader` thread; the lock is "orphaned" in the child. In fork_exec,
// spawn and forkserver the child is a fresh program (or a copy of a clean server) whose lock is
// free. With `atfork` the library takes its lock before fork and releases it in both processes.
//
// Variants: fork (hangs), fork_exec, spawn, forkserver, fork_no_reader ("fork can work"),
// fork_atfork (repaired by pthread_atfork handlers).
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>

namespace {

using namespace forklore;

const char* const kDataFile = "table.parquet";

// --- The "library": one global lock around every file read --------------------------------

// Static storage: a forked child finds it at the same address, in whatever state it had.
probe::Mutex g_file_lock{"file_lock"};

long read_file(const char* path) {
    long total = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buffer[4096];
    for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;)
        total += n;
    close(fd);
    return total;
}

long read_file_under_lock(const char* path) {
    probe::LockGuard guard(g_file_lock); // SYNC: the library's global reader lock
    return read_file(path);
}

// --- The forced interleaving ---------------------------------------------------------------
// The reader holds the lock until somebody "releases" it: the main thread after the child is
// started, or the atfork prepare handler, which must get the lock before fork can proceed.
probe::Barrier* g_release_reader = nullptr;
std::atomic<bool> g_reader_released{false};

void release_reader_once() {
    if (g_release_reader && !g_reader_released.exchange(true))
        g_release_reader->arrive_and_wait();
}

// pthread_atfork handlers of the library: hold the lock across fork, release it on both sides.
void atfork_prepare() {
    release_reader_once();
    g_file_lock.lock(); // SYNC: waits for the reader to finish its read
}
void atfork_parent() {
    g_file_lock.unlock();
}
void atfork_child() {
    g_file_lock.unlock();
}

// --- The worker process ---------------------------------------------------------------------

int worker_read(const ChildArgs& args) {
    probe::note("worker: reading the file through the library");
    long size = read_file_under_lock(args.at("path").c_str()); // SYNC: hangs if orphaned
    std::string line = "worker read " + std::to_string(size) + " bytes";
    probe::print(stdout, line.c_str());
    return size > 0 ? 0 : 1;
}

// --- The main process -----------------------------------------------------------------------

int run(ScenarioContext& context) {
    const StartMethod method = context.method("start_method");
    {
        int fd = open(kDataFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        std::string block(64 * 1024, 'p');
        if (fd < 0 || write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()))
            return 2;
        close(fd);
    }
    if (context.flag("atfork"))
        pthread_atfork(atfork_prepare, atfork_parent, atfork_child);

    if (!context.flag("reader_thread")) {
        // No other thread: nothing can hold the lock at fork. This is why fork "usually works".
        probe::Child child = probe::start_child(method, "read", {{"path", kDataFile}});
        const WaitStatus status = child.wait();
        return status.exited_ok() ? 0 : 1;
    }

    probe::Barrier finished{"finished", 2};
    if (context.knob("timing") == "natural") {
        // No barrier forces the order: the reader takes the lock, reads and lets it go while
        // the main thread starts the worker, and where the fork falls among the reader's steps
        // is up to the scheduler: the machine's, or yours in a stepped run.
        probe::Thread reader("reader", [&] {
            g_file_lock.lock(); // SYNC: in the library, for as long as the scheduler says
            probe::note("reader: holding file_lock while reading");
            read_file(kDataFile);
            g_file_lock.unlock();
            finished.arrive_and_wait(); // stays alive: the owner of an orphaned lock is seen
        });
        probe::note("main: starting the worker");
        probe::Child child = probe::start_child(method, "read", {{"path", kDataFile}});
        const WaitStatus outcome = child.wait(); // SYNC: for ever if the child is stuck
        finished.arrive_and_wait();
        reader.join();
        return outcome.exited_ok() ? 0 : 1;
    }

    probe::Barrier lock_held{"lock_held", 2};
    probe::Barrier release_reader{"release_reader", 2};
    g_release_reader = &release_reader;
    probe::Thread reader("reader", [&] {
        g_file_lock.lock(); // SYNC: the reader is inside the library
        probe::note("reader: holding file_lock while reading");
        lock_held.arrive_and_wait();
        read_file(kDataFile);
        release_reader.arrive_and_wait(); // SYNC: keeps the lock until the child exists
        g_file_lock.unlock();
        // Stay alive until the end, so the owner of an orphaned lock can be seen in the parent.
        finished.arrive_and_wait();
    });
    lock_held.arrive_and_wait(); // SYNC: from here on the reader holds file_lock
    probe::note("main: starting the worker while the reader holds file_lock");
    probe::Child child = probe::start_child(method, "read", {{"path", kDataFile}});
    release_reader_once();
    const WaitStatus status = child.wait(); // SYNC: waits for ever if the child is stuck
    finished.arrive_and_wait();
    reader.join();
    return status.exited_ok() ? 0 : 1;
}

Scenario describe() {
    Scenario s;
    s.id = "file-read-under-lock";
    s.group = "fork and locks";
    s.title = "A reader thread holds the library's lock while the main thread forks";
    s.lesson =
        "A file-reading library guards its reads with one global lock, and a reader thread is "
        "inside it when the main thread starts a worker process. fork() copies the whole memory, "
        "the lock included, in its locked state, but only the thread that called fork: in the "
        "child nobody will ever unlock it, and the worker's first read waits for ever. A start "
        "method that runs a fresh program (fork_exec, spawn) or forks a clean single-threaded "
        "server (forkserver) does not copy the held lock; pthread_atfork handlers that take the "
        "lock before fork and release it on both sides repair plain fork.";
    s.knobs = {
        start_method_knob("start_method", StartMethod::fork, "How the worker process is made."),
        Knob::flag("reader_thread", true,
                   "Run a reader thread that holds the lock while the worker is started."),
        Knob::flag("atfork", false,
                   "The library registers pthread_atfork handlers that hold its lock across fork."),
        Knob::choice(
            "timing", "forced", {"forced", "natural"},
            "forced: barriers make the fork fall while the reader holds the lock; natural: "
            "nothing forces the order (a race, or yours to choose in a stepped run)."),
    };
    s.variants = {
        {"fork",
         "fork while the reader holds the lock: the child's copy is orphaned",
         {{"start_method", "fork"}},
         Expectation::deadlocks(DeadlockReason::orphaned_lock)},
        {"fork_exec",
         "fork then exec: the new program has a fresh, free lock",
         {{"start_method", "fork_exec"}},
         Expectation::completes()},
        {"spawn",
         "posix_spawn a fresh program",
         {{"start_method", "spawn"}},
         Expectation::completes()},
        {"forkserver",
         "fork from a server made before any thread existed",
         {{"start_method", "forkserver"}},
         Expectation::completes()},
        {"fork_no_reader",
         "fork can work: no other thread, so no lock is held at fork",
         {{"start_method", "fork"}, {"reader_thread", "off"}},
         Expectation::completes()},
        {"fork_atfork",
         "fork with atfork handlers that hold the lock across fork",
         {{"start_method", "fork"}, {"atfork", "on"}},
         Expectation::completes()},
    };
    s.body = run;
    s.children = {{"read", worker_read}};
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
