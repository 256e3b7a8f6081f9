// 200 python-printer-thread — Python: a thread prints to sys.stderr while multiprocessing starts
// a process that prints too.
//
// What it shows: the Python version of scenario 020, and the bug most Python users meet first.
// The program is scenarios/python/printer_thread.py, run by Debian's /usr/bin/python3 with no
// instrumentation. sys.stderr is a TextIOWrapper over an io.BufferedWriter, and every
// BufferedWriter has a lock, held while it hands bytes to the fd with the GIL released.
// multiprocessing flushes stderr right before it forks, which takes and releases that lock;
// when the printer thread takes it again before os.fork() runs, the child's copy of stderr is
// locked by a thread that does not exist in the child, and the child's first print waits for
// ever. CPython does not re-create that lock at fork. With PYTHONUNBUFFERED=1 stderr has no
// BufferedWriter at all (a TextIOWrapper straight over the raw FileIO), so there is no lock to
// orphan. spawn and forkserver children are fresh interpreters with a fresh stderr.
// - natural timing: nothing forced; measured as a hang rate.
// - forced timing: sys.stderr is replaced by a stream built in the same layers (the ones
//   Python builds for the PYTHONUNBUFFERED in force) whose raw layer can hold the printer inside
//   its write, and an os.register_at_fork(before=...) hook, which runs after multiprocessing's
//   flush and right before fork, waits until the printer is in there. Deterministic.
//
// Measured on this machine (Debian 12, glibc 2.36, Python 3.11.2, 2 cores). Forced timing,
// outside forklore, stderr to a pipe, under `timeout 5`: fork hung 10 of 10 with
// PYTHONUNBUFFERED=0 (gdb: the child waits in PyThread_acquire_lock under PyFile_WriteString),
// 0 of 10 with 1; spawn and forkserver 0 of 10 either way. Natural spawn, forkserver and
// PYTHONUNBUFFERED=1 fork: 0 of 40.
//
// Natural fork, PYTHONUNBUFFERED=0: the rate is the scheduler's, not the stream's. The fork
// lands inside the printer's write only if the printer is ON A CPU, waiting for the GIL, when the
// main thread lets the GIL go between multiprocessing's flush and the fork (os.pipe() in
// Popen._launch releases it): the printer takes the GIL, takes the lock, lets the GIL go again
// inside its write, and the fork lands there. A preempted printer misses that moment and gives
// the GIL back later between two bytecodes, with the lock free. So anything that takes the
// printer's CPU at the moments it prints lowers the rate.
// Measured on the idle machine (load below 2, 2026-12-06, `timeout 3`, 20 runs each): stderr to
// a file 20, 20 and 20 of 20; to a reader that drains the pipe every 20 ms 20 and 20; to `cat`,
// which wakes at every write, 12, 16 and 14. Inside forklore, 40 runs a series: 28, 31, 31
// (70 to 78%), because the runner woke at every write the sandbox made and sampled /proc each
// time, as `cat` does. The runner now wakes on its sampling tick only (sim/run/runner.cpp):
// 39, 39, 39 of 40 alone, 90% and 92% in the matrix (2 runs at a time); beside 2 CPU-bound
// programs 80%, 85%, 78%; beside 6, 72% and 90% (outside forklore then, to a file: 1 of 20:
// the sandbox's cgroup gets its own share of the CPUs against the rest of the machine); beside
// another whole matrix (4 sandboxes on 2 cores) 38% and 52%; in one `make test`, beside its
// fuzz build (clang compiling on both cores), 2 of 40: so CTest runs racy variants alone
// (tests/CMakeLists.txt). Before that fix, at load 8 to 15 (other builds on the machine,
// 2026-12-05), inside and outside alike fell to 0 to 9 of 40.
// The variant declares 10% to 100% over 40 runs (at least 4 hangs): alone or beside a second
// matrix it holds with a wide margin. A student checks it best on an idle machine, with
// `forklore run python-printer-thread --variant fork_natural --repeat 40`: 36 or more. Every run
// pins PYTHONUNBUFFERED: an environment that exports PYTHONUNBUFFERED=1 (as many CI images and
// IDEs do) hides the bug.
//
// What to look for: in a hung fork run the child (the only thread of its process) waits on a
// futex with no owner in its lock word (a Python lock is a semaphore underneath up to 3.13.0):
// its native stack goes through PyThread_acquire_lock, its Python stack (read from outside, see
// sim/observe/python_frames.hpp) is at printer_thread.py:56, the print of worker(). That futex is
// the lock of sys.stderr's BufferedWriter, whose `owner` field still names the parent's thread
// 'printer' (threading keeps its Thread object, with its old ident, in the child): the
// explanation says so. The parent's main thread waits in wait4 (Popen.poll under child.join());
// the printer thread has finished.
//
// Variants: fork_forced (hangs), fork_forced_unbuffered, fork_natural (racy),
// fork_natural_unbuffered, spawn_natural, forkserver_natural. (Forced timing needs a fork of
// this process to run its hook: with spawn or forkserver the printer just starts afterwards.)
#include "scenarios/support/python_program.hpp"

namespace {

using namespace forklore;

int run(ScenarioContext& context) {
    return python::run_script("printer_thread.py",
                              {context.knob("start_method"), context.knob("timing")},
                              context.flag("unbuffered"));
}

Scenario describe() {
    Scenario s;
    s.id = "python-printer-thread";
    s.group = "python multiprocessing";
    s.title = "Python: a thread prints to sys.stderr while multiprocessing starts a process";
    s.lesson =
        "A Python program (scenarios/python/printer_thread.py, run by /usr/bin/python3) has a "
        "thread that prints to sys.stderr in a loop while the main thread starts a "
        "multiprocessing.Process whose target prints one line. sys.stderr writes through an "
        "io.BufferedWriter, which holds a lock of its own while it writes to the fd. "
        "multiprocessing flushes stderr just before it forks; if the printer takes the lock "
        "again before the fork, the child's stderr is locked by a thread it does not have, and "
        "its print waits for ever. Forced timing makes that happen every time; natural timing "
        "makes it happen often. spawn and forkserver start from a fresh interpreter. "
        "PYTHONUNBUFFERED=1 makes stderr a TextIOWrapper straight over the raw file, with no "
        "lock: the same fork then completes, which is how an environment that sets it hides "
        "the bug. Python's version and the PYTHONUNBUFFERED used are notes of every run.";
    s.knobs = {
        python::start_method_knob("fork", "How multiprocessing starts the child process."),
        Knob::choice(
            "timing", "forced", {"forced", "natural"},
            "forced: the printer is held inside stderr's write at fork; natural: nothing forced."),
        python::unbuffered_knob("off"),
    };
    const auto completes = python::expect(Expectation::completes());
    s.variants = {
        {"fork_forced",
         "fork while the printer is inside stderr's write: the child hangs",
         {{"start_method", "fork"}, {"timing", "forced"}},
         python::expect(Expectation::deadlocks(DeadlockReason::no_waker))},
        {"fork_forced_unbuffered",
         "PYTHONUNBUFFERED=1: stderr has no lock, the fork completes",
         {{"start_method", "fork"}, {"timing", "forced"}, {"unbuffered", "on"}},
         completes},
        {"fork_natural",
         "fork at a natural moment: the child hangs in some runs",
         {{"start_method", "fork"}, {"timing", "natural"}},
         // 97% alone, 38% and more beside a second matrix (see the header).
         python::expect(Expectation::hang_rate(40, 0.10, 1.0))},
        {"fork_natural_unbuffered",
         "natural timing, PYTHONUNBUFFERED=1: nothing to orphan",
         {{"start_method", "fork"}, {"timing", "natural"}, {"unbuffered", "on"}},
         completes},
        {"spawn_natural",
         "spawn: a fresh interpreter with a fresh stderr",
         {{"start_method", "spawn"}, {"timing", "natural"}},
         completes},
        {"forkserver_natural",
         "forkserver: forked from a server that never had a printer thread",
         {{"start_method", "forkserver"}, {"timing", "natural"}},
         completes},
    };
    s.body = run;
    s.sources = {python::script_path("printer_thread.py")}; // the program the body runs
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
