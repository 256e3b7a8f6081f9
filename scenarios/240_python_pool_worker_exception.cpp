// 240 python-pool-worker-exception — Python: a task raises an exception inside a pool worker.
//
// What it shows: the Python original of scenario 120's "propagating" pool, and the ways the
// error can still get lost. The program (scenarios/python/pool_worker_exception.py) runs
// parse_record over 9 tasks on a multiprocessing.Pool of 3; task 3 raises
// ValueError("record 3 is corrupt: expected 4 fields, found 3").
// - map: the worker catches the exception, pickles it with its traceback text and sends it
//   back; Pool.map raises it again in the parent. Uncaught, it ends the program with a
//   traceback that shows both sides ("multiprocessing.pool.RemoteTraceback" with the worker's
//   line, then the parent's) and exit code 1: `failed`.
// - apply_async: the same exception is stored in an AsyncResult that nobody calls get() on.
//   The pool closes and joins normally, the program says "no error seen" and exits 0:
//   `completed`, and the error is lost without a trace.
// - error_callback: apply_async with an error_callback; the pool's result thread calls it in
//   the parent with the exception, and the program reports it and exits 1: `failed`.
//
// Measured outside forklore (Python 3.11.2, PYTHONUNBUFFERED=0, fork and spawn, 1 run each, the
// output read): map exits 1 with the ValueError and its message on stderr; apply_async exits 0
// with nothing on stderr; error_callback exits 1 with "main: a task failed: ValueError: record
// 3 is corrupt: expected 4 fields, found 3".
//
// What to look for: stderr. map: the RemoteTraceback, then "ValueError: record 3 is corrupt";
// apply_async: an empty stderr and a success message; error_callback: one line naming it.
//
// Variants: map_fork, apply_async_fork (the lost error), error_callback_fork. (The exception is
// pickled whatever the start method: spawn gives the same output, measured above.)
#include "scenarios/support/python_program.hpp"

namespace {

using namespace forklore;

int run(ScenarioContext& context) {
    return python::run_script("pool_worker_exception.py",
                              {context.knob("start_method"), context.knob("api")}, false);
}

Scenario describe() {
    Scenario s;
    s.id = "python-pool-worker-exception";
    s.group = "python multiprocessing";
    s.title = "Python: a task raises an exception in a pool worker";
    s.lesson =
        "A Python program (scenarios/python/pool_worker_exception.py) runs 9 tasks on a "
        "multiprocessing.Pool, and task 3 raises ValueError. Pool.map sends the exception back "
        "from the worker and raises it again in the parent, where, uncaught, it ends the "
        "program with both tracebacks and exit code 1. With apply_async and no get(), the "
        "exception waits in a result nobody reads: the program ends with code 0 and the error "
        "is lost. An error_callback hears of it in the parent. PYTHONUNBUFFERED is pinned to "
        "0.";
    s.knobs = {
        python::start_method_knob("fork", "How the pool starts its worker processes."),
        Knob::choice(
            "api", "map", {"map", "apply_async", "error_callback"},
            "map: Pool.map; apply_async: results never asked for; error_callback: apply_async "
            "with an error_callback."),
    };
    const auto fails = python::expect(Expectation::ends_as(VerdictKind::failed));
    s.variants = {
        {"map_fork",
         "Pool.map raises the worker's ValueError in the parent: exit 1",
         {{"api", "map"}, {"start_method", "fork"}},
         fails},
        {"apply_async_fork",
         "apply_async without get(): the error is lost, the program exits 0",
         {{"api", "apply_async"}, {"start_method", "fork"}},
         python::expect(Expectation::completes())},
        {"error_callback_fork",
         "apply_async with an error_callback: the parent hears of it",
         {{"api", "error_callback"}, {"start_method", "fork"}},
         fails},
    };
    s.body = run;
    s.sources = {python::script_path("pool_worker_exception.py")}; // the program the body runs
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
