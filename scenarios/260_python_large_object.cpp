// 260 python-large-object — Python: moving a large object to pool workers, measured.
//
// What it shows: the Python original of scenario 130. The program
// (scenarios/python/large_object.py) gives the same object (4 MiB of bytes by default) to each
// of 2 workers of a warmed-up multiprocessing.Pool, which return its CRC-32, in four ways:
// - pickle: the object is an argument of Pool.map: pickled in the parent, sent through a pipe
//   (64 KiB at a time) once per task, unpickled into a new copy in each worker: by far the
//   slowest;
// - file: the parent writes it once to a file in the working directory and sends the path;
//   each worker reads it from the page cache;
// - shared_memory: multiprocessing.shared_memory: the parent copies it once into a segment the
//   workers map by name, and they read it in place;
// - inherit: a module global set before the pool started; forked workers see the parent's
//   pages through copy-on-write, and nothing is sent at all. Only with fork: in a spawned or
//   forkserver worker the global was never set, and the task raises RuntimeError.
// The program prints one line per transfer ("transfer pickle: 2 workers x 4 MiB in 330.3 ms
// (crc32 ok)") on stdout, which the run record keeps: the figures are for reading, never a
// verdict (they move with the machine's load), and the run `completed` when every checksum
// matches.
//
// Measured (Python 3.11.2, PYTHONUNBUFFERED=0, a 2-core machine under a load of about 4): in
// forklore, 4 MiB: fork: pickle 330 ms, file 79 ms, shared_memory 73 ms, inherit 18 ms; spawn:
// 358, 91, 63 ms; 8 MiB, fork: 669, 202, 123, 38 ms. Outside forklore, fork, 16 MiB: 1226, 347,
// 267, 84 ms; 64 MiB: 4588, 859, 793, 262 ms. A bare multiprocessing Connection moved 4 MiB
// between two processes in 78 ms on this machine: the pipe is much of the pickle path's cost,
// paid once per worker. The default is 4 MiB so a run takes about a second; turn size_mb up to
// see the gap grow. A detail met on the way: a forked worker that attaches a segment starts a
// resource tracker of its own unless the parent's was running before the pool, and that
// tracker unlinks the segment as "leaked" when the worker exits (warnings on stderr); the
// program starts the parent's tracker first.
//
// What to look for: stdout, the four lines and their times; inherit_spawn: the RuntimeError
// raised in the workers and re-raised by Pool.map.
//
// Variants: all_fork, inherit_spawn. (`--set start_method=spawn` times the other three ways
// with spawned workers.)
#include "scenarios/support/python_program.hpp"

namespace {

using namespace forklore;

int run(ScenarioContext& context) {
    return python::run_script("large_object.py",
                              {context.knob("start_method"), context.knob("transfer"),
                               std::to_string(context.integer("size_mb"))},
                              false);
}

Scenario describe() {
    Scenario s;
    s.id = "python-large-object";
    s.group = "python multiprocessing";
    s.title = "Python: moving a large object to pool workers (pickle, file, shared memory, fork)";
    s.lesson =
        "A Python program (scenarios/python/large_object.py) gives the same large bytes object "
        "to 2 pool workers in four ways and prints how long each took: as a pickled argument "
        "(copied through a pipe once per worker, the slowest), as a file path (written once, "
        "read from the page cache), through multiprocessing.shared_memory (copied once, read in "
        "place), and inherited through fork (nothing sent: copy-on-write pages). Inheriting "
        "needs fork: a spawned worker never ran the code that set the global. The times are in "
        "the output, for reading; the run completes when every checksum matches. "
        "PYTHONUNBUFFERED is pinned to 0.";
    s.knobs = {
        python::start_method_knob("fork", "How the pool starts its worker processes."),
        Knob::choice("transfer", "all", {"all", "pickle", "file", "shared_memory", "inherit"},
                     "How the object reaches the workers."),
        Knob::integer("size_mb", 4, 1, 256, "The object's size in MiB."),
    };
    s.variants = {
        {"all_fork",
         "the four ways with forked workers, timed",
         {{"start_method", "fork"}, {"transfer", "all"}},
         python::expect(Expectation::completes().slow("times four transfers: about a second"))},
        {"inherit_spawn",
         "a spawned worker inherits nothing: the task raises RuntimeError",
         {{"start_method", "spawn"}, {"transfer", "inherit"}, {"size_mb", "1"}},
         python::expect(Expectation::ends_as(VerdictKind::failed))},
    };
    s.body = run;
    s.sources = {python::script_path("large_object.py")}; // the program the body runs
    s.timeout_seconds = 60.0; // size_mb goes up to 256: pickling 2 x 64 MiB took 4.6 s
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
