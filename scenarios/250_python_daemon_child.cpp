// 250 python-daemon-child — Python: a daemonic process tries to start a child of its own.
//
// What it shows: a rule multiprocessing enforces. The program
// (scenarios/python/daemon_child.py) starts an "outer" Process whose target starts a
// "grandchild" Process. multiprocessing terminates a daemonic process when its parent exits,
// and such a process could not clean up children of its own, so Process.start() refuses
// inside one with "AssertionError: daemonic processes are not allowed to have children". The
// exception ends the outer process (traceback on stderr, exit code 1); the parent only sees the
// exit code, reports it and exits with it: `failed`. Without daemon=True the grandchild runs.
// (The check is an `assert` statement: under `python -O` it would silently not be made.)
//
// Measured outside forklore (Python 3.11.2, PYTHONUNBUFFERED=0, 1 run per cell, the output
// read): daemon: exit 1 with the AssertionError for fork, spawn and forkserver; not_daemon: exit
// 0 with "grandchild: running" for all three.
//
// What to look for: stderr: "Process outer:", the traceback through process.py's start(), and
// "AssertionError: daemonic processes are not allowed to have children"; stdout: "main: the
// outer process exited with code 1".
//
// Variants: daemon_fork, daemon_spawn, not_daemon_fork.
#include "scenarios/support/python_program.hpp"

namespace {

using namespace forklore;

int run(ScenarioContext& context) {
    return python::run_script(
        "daemon_child.py",
        {context.knob("start_method"), context.flag("daemon") ? "daemon" : "not_daemon"}, false);
}

Scenario describe() {
    Scenario s;
    s.id = "python-daemon-child";
    s.group = "python multiprocessing";
    s.title = "Python: a daemonic process tries to start a child";
    s.lesson =
        "A Python program (scenarios/python/daemon_child.py) starts a process that starts a "
        "process of its own. When the first is daemonic (daemon=True: killed when its parent "
        "exits, so it could never clean up children), multiprocessing refuses with "
        "\"AssertionError: daemonic processes are not allowed to have children\". The "
        "exception ends that process with code 1 and a traceback on its stderr; the parent "
        "only learns the exit code, and exits with it. PYTHONUNBUFFERED is pinned to 0.";
    s.knobs = {
        python::start_method_knob("fork", "How multiprocessing starts both processes."),
        Knob::flag("daemon", true, "Start the outer process with daemon=True."),
    };
    const auto refused = python::expect(Expectation::ends_as(VerdictKind::failed));
    s.variants = {
        {"daemon_fork",
         "a daemonic process may not have children: AssertionError, exit 1",
         {{"daemon", "on"}, {"start_method", "fork"}},
         refused},
        {"daemon_spawn",
         "the same rule with spawn",
         {{"daemon", "on"}, {"start_method", "spawn"}},
         refused},
        {"not_daemon_fork",
         "an ordinary process may: the grandchild runs",
         {{"daemon", "off"}, {"start_method", "fork"}},
         python::expect(Expectation::completes())},
    };
    s.body = run;
    s.sources = {python::script_path("daemon_child.py")}; // the program the body runs
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
