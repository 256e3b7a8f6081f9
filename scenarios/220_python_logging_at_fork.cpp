// 220 python-logging-at-fork — Python: a thread is inside a logging handler while the main
// thread starts a process that logs.
//
// What it shows: what CPython repairs at fork, and what it does not. The program
// (scenarios/python/logging_at_fork.py) configures a logger with a StreamHandler, and a
// "logger" thread is held at a chosen place inside a log call (forced with threading.Event)
// while the main thread starts a multiprocessing.Process that logs too.
// - park=formatter: the thread is inside the handler's Formatter, so inside Handler.handle's
//   lock. logging registers every handler's lock with os.register_at_fork and re-creates it in
//   the child (_after_at_fork_child_reinit_locks in Lib/logging/__init__.py), so the child's
//   log call goes through: completed. The `own_lock` handler adds a threading.Lock of its own
//   around emit, as many third-party handlers do; logging does not know that lock, and the
//   child waits for it for ever.
// - park=stream: the handler writes to a stream built like sys.stderr or a FileHandler's file
//   (TextIOWrapper over BufferedWriter over a raw file), and the thread is held inside its raw
//   write. The handler's lock is repaired, but the stream's BufferedWriter lock is not: the
//   child hangs on the stream, not on logging. With PYTHONUNBUFFERED=1 the stream is built
//   like -u builds stderr, without a BufferedWriter, and the fork completes.
// - park=nowhere: natural timing, the thread logs to sys.stderr in a loop. Like scenario 200,
//   the fork sometimes lands while the thread holds stderr's own lock (no variant: the rate
//   moves with the load; `forklore run python-logging-at-fork --set park=nowhere --repeat 40`).
//
// Measured outside forklore (Python 3.11.2, stderr to a pipe, under `timeout 5`, 10 runs per
// cell with PYTHONUNBUFFERED=0 and with 1): park=formatter, stdlib: fork, spawn, forkserver
// completed 10 of 10; park=formatter, own_lock: fork hung 10 of 10 (either buffering), spawn and
// forkserver completed; park=stream, stdlib: fork hung 10 of 10 with PYTHONUNBUFFERED=0 and
// completed 10 of 10 with 1; spawn and forkserver completed. park=nowhere, fork: 11 and 12 of
// 40 hung with PYTHONUNBUFFERED=0 (gdb: the child waits in PyThread_acquire_lock under a stream
// write, the frame of scenario 200), 0 of 40 with 1.
//
// What to look for: fork_stdlib: "worker MainThread: hello from the worker" on stderr while the
// parent's thread is still held. fork_own_lock and fork_stream: the child's only thread waits on
// a futex with no owner; the parent's main thread waits in wait4 for it.
//
// Variants: fork_stdlib, fork_own_lock (hangs), spawn_own_lock, forkserver_own_lock,
// fork_stream (hangs), fork_stream_unbuffered.
#include "scenarios/support/python_program.hpp"

namespace {

using namespace forklore;

int run(ScenarioContext& context) {
    return python::run_script(
        "logging_at_fork.py",
        {context.knob("start_method"), context.knob("handler"), context.knob("park")},
        context.flag("unbuffered"));
}

Scenario describe() {
    Scenario s;
    s.id = "python-logging-at-fork";
    s.group = "python multiprocessing";
    s.title = "Python: a thread is inside a logging handler while the main thread forks";
    s.lesson =
        "A Python program (scenarios/python/logging_at_fork.py) holds a thread inside a log "
        "call while the main thread starts a multiprocessing.Process that logs too. CPython's "
        "logging module registers every handler's lock with os.register_at_fork and re-creates "
        "it in a forked child, so a child forked while a thread is inside the handler still "
        "logs: the repair works. A handler that adds a lock of its own (own_lock) is not "
        "repaired, and the child waits for it for ever. And logging repairs only its own "
        "locks: held inside the stream's write, the thread also holds the stream's "
        "BufferedWriter lock (sys.stderr's, or a FileHandler's file), which nobody re-creates, "
        "and the child hangs there; with PYTHONUNBUFFERED=1 a stream like sys.stderr has no "
        "such lock.";
    s.knobs = {
        python::start_method_knob("fork", "How multiprocessing starts the child process."),
        Knob::choice(
            "handler", "stdlib", {"stdlib", "own_lock"},
            "stdlib: logging.StreamHandler; own_lock: a subclass with a lock of its own in emit."),
        Knob::choice(
            "park", "formatter", {"formatter", "stream", "nowhere"},
            "Where the logging thread is held at fork: in the handler's formatter, in its stream's "
            "write, or nowhere (natural timing: it logs in a loop)."),
        python::unbuffered_knob("off"),
    };
    s.variants = {
        {"fork_stdlib",
         "fork while a thread is inside the handler: logging re-creates its lock",
         {{"start_method", "fork"}, {"handler", "stdlib"}},
         python::expect(Expectation::completes())},
        {"fork_own_lock",
         "the handler's own extra lock is not re-created: the child hangs",
         {{"start_method", "fork"}, {"handler", "own_lock"}},
         python::expect(Expectation::deadlocks(DeadlockReason::no_waker))},
        {"spawn_own_lock",
         "spawn: a fresh interpreter builds its own handler",
         {{"start_method", "spawn"}, {"handler", "own_lock"}},
         python::expect(Expectation::completes())},
        {"forkserver_own_lock",
         "forkserver: the server never had a thread inside the handler",
         {{"start_method", "forkserver"}, {"handler", "own_lock"}},
         python::expect(Expectation::completes())},
        {"fork_stream",
         "held inside the stream's write: its BufferedWriter lock is orphaned",
         {{"start_method", "fork"}, {"park", "stream"}},
         python::expect(Expectation::deadlocks(DeadlockReason::no_waker))},
        {"fork_stream_unbuffered",
         "PYTHONUNBUFFERED=1: a stream like stderr has no such lock",
         {{"start_method", "fork"}, {"park", "stream"}, {"unbuffered", "on"}},
         python::expect(Expectation::completes())},
    };
    s.body = run;
    s.sources = {python::script_path("logging_at_fork.py")}; // the program the body runs
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
