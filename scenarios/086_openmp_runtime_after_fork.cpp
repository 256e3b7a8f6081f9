// 086 openmp-runtime-after-fork — two real OpenMP runtimes forked after their pool was started:
// GCC's libgomp and LLVM's libomp.
//
// What it shows: scenario 085's thread pool, in the libraries people really link. The program
// is scenarios/programs/openmp_after_fork.c, plain C with no forklore header, built twice by
// scenarios/CMakeLists.txt: `gcc -fopenmp` links GCC's runtime, libgomp; `clang-14
// -fopenmp=libomp` links LLVM's, libomp. It runs a parallel loop in the parent (the runtime
// starts its worker threads, which stay asleep for the next loop: a pool), then starts a child
// that runs one too, and the body execs it, so the run is judged from /proc alone.
// - libgomp keeps its pool in the main thread's thread-local data: a forked child copies "the
//   pool has N threads" without the threads. Its next parallel region hands the work to them
//   and waits at the barrier where they would meet it (the pool's `threads_dock`, libgomp's
//   team.c): a futex no thread of the child will ever wake, the very address the parent's idle
//   worker sleeps on. GCC's answer is that a program
//   forks only before its first parallel region, or with one thread: OMP_NUM_THREADS=1 never
//   starts a pool.
// - libomp registers pthread_atfork handlers when it starts (z_Linux_util.cpp,
//   __kmp_register_atfork): its child handler resets the runtime, so the child's first
//   parallel region starts the runtime afresh, with new worker threads. The child completes.
// - A spawned child (posix_spawn of the same program) is a fresh program with no pool.
//
// Measured outside forklore (Debian 12 on 2 cores, gcc 12.2.0 with libgomp 12.2.0, clang
// 14.0.6 with libomp 14.0.6, glibc 2.36, 2026-12-05), each 20 runs under `timeout 10`:
// libgomp, parallel loop in the parent then fork, OMP_NUM_THREADS=2: hung 20 of 20 (gdb on the
// child: its only thread in futex(FUTEX_WAIT_PRIVATE) on a heap address, under GOMP_parallel in
// libgomp.so.1; forklore's record shows the parent's idle worker on the same address); the
// same with OMP_NUM_THREADS=1: completed 20 of 20; no parallel loop before
// fork: completed 20 of 20; spawn: completed 20 of 20. libomp: fork, spawn, with and without
// the parent's loop, 2 or 1 threads: completed 20 of 20 each; a forked child's loop used 2
// threads and the child had 2 threads afterwards (a new worker of its own).
//
// What to look for: "parent: OpenMP runtime /lib/x86_64-linux-gnu/libgomp.so.1", the parent's
// loop of 2 threads, then nothing from the child: its only thread waits on a futex with no
// owner (no_waker: a barrier is a count, not a lock, so there is no owner to name). The
// parent's main thread waits for it in wait4 and its idle libgomp worker on the pool's futex.
// With libomp the child prints "a parallel loop of 2 threads" and "has 2 threads now".
// In forklore: libgomp_fork deadlocked (no_waker) in 150 to 200 ms, the others complete in 75
// to 160 ms. (Scenario 088 meets the same pool through OpenBLAS, whose code spins instead.)
//
// Variants: libgomp_fork (hangs), libgomp_fork_one_thread, libgomp_fork_unused, libgomp_spawn,
// libomp_fork, libomp_spawn.
#include "scenarios/support/real_program.hpp"
#include "sim/probe/exec_program.hpp"
#include "sim/probe/probe.hpp"
#include "sim/scenario/scenario.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <string>

// scenarios/CMakeLists.txt says why a runtime's program was not built (empty when it was).
#ifndef FORKLORE_OPENMP_MISSING_LIBGOMP
#define FORKLORE_OPENMP_MISSING_LIBGOMP "the build did not say whether it was built"
#endif
#ifndef FORKLORE_OPENMP_MISSING_LIBOMP
#define FORKLORE_OPENMP_MISSING_LIBOMP "the build did not say whether it was built"
#endif

namespace {

using namespace forklore;

// Why the program for `runtime` was not built; empty when it was.
std::string why_not_built(const std::string& runtime) {
    return runtime == "libgomp" ? FORKLORE_OPENMP_MISSING_LIBGOMP : FORKLORE_OPENMP_MISSING_LIBOMP;
}

// A variant's expectation where its runtime's program was built; where it was not, the honest
// outcome is the setup error that names what is missing.
Expectation expect(const std::string& runtime, Expectation where_built) {
    return why_not_built(runtime).empty() ? where_built
                                          : Expectation::ends_as(VerdictKind::setup_error);
}

int run(ScenarioContext& context) {
    const std::string& runtime = context.knob("runtime");
    const std::string program = program_beside_host("openmp_after_fork_" + runtime);
    if (std::string why = why_not_built(runtime); !why.empty())
        return setup_error(fmt::format("openmp_after_fork_{} was not built: {}", runtime, why));
    if (access(program.c_str(), X_OK) != 0)
        return setup_error(
            fmt::format("{} is missing: build the target forklore_openmp_programs", program));
    const std::string threads = context.knob("threads");
    probe::note(fmt::format("openmp: {} build, OMP_NUM_THREADS={}", runtime, threads).c_str());
    // From here on the program records nothing: the run is judged from /proc.
    return exec_program(
        {program, context.knob("start_method"), context.flag("parent_parallel") ? "on" : "off"},
        {{"OMP_NUM_THREADS", threads}});
}

Scenario describe() {
    Scenario s;
    s.id = "openmp-runtime-after-fork";
    s.group = "threads after fork";
    s.title = "Two real OpenMP runtimes forked after a parallel loop: libgomp hangs, libomp not";
    s.lesson =
        "A C program (scenarios/programs/openmp_after_fork.c) runs an OpenMP parallel loop, "
        "then starts a child that runs one too. Built with gcc it uses GCC's runtime, libgomp "
        "(12.2): the parent's loop starts a pool of worker threads, a forked child copies the "
        "pool's bookkeeping without its threads, and its loop waits for ever at the barrier "
        "where they would meet it: a futex with no owner and nobody to wake it. libgomp's fix "
        "is to fork before the first parallel region or with OMP_NUM_THREADS=1, which starts no "
        "pool. Built with clang-14 it uses LLVM's runtime, libomp (14): its pthread_atfork child "
        "handler resets the runtime, so the child starts new workers and completes. A spawned "
        "child is a fresh program with no pool, whatever the runtime.";
    s.knobs = {
        Knob::choice("runtime", "libgomp", {"libgomp", "libomp"},
                     "The OpenMP runtime: GCC's libgomp (gcc -fopenmp) or LLVM's libomp "
                     "(clang-14 -fopenmp=libomp)."),
        Knob::choice("start_method", "fork", {"fork", "spawn"},
                     "fork: the child is a copy of the parent; spawn: posix_spawn of the same "
                     "program, a fresh start."),
        Knob::flag("parent_parallel", true,
                   "The parent runs a parallel loop before it starts the child, so the "
                   "runtime's pool exists."),
        Knob::integer("threads", 2, 1, 4,
                      "OMP_NUM_THREADS: the threads of a parallel loop. 1 starts no pool."),
    };
    s.variants = {
        {"libgomp_fork",
         "libgomp, fork after a parallel loop: the child waits for the pool's missing threads",
         {{"runtime", "libgomp"}},
         expect("libgomp", Expectation::deadlocks(DeadlockReason::no_waker))},
        {"libgomp_fork_one_thread",
         "libgomp with OMP_NUM_THREADS=1: no pool was ever started",
         {{"runtime", "libgomp"}, {"threads", "1"}},
         expect("libgomp", Expectation::completes())},
        {"libgomp_fork_unused",
         "libgomp, fork before any parallel loop: the child starts its own pool",
         {{"runtime", "libgomp"}, {"parent_parallel", "off"}},
         expect("libgomp", Expectation::completes())},
        {"libgomp_spawn",
         "libgomp, spawn: a fresh program starts its own pool",
         {{"runtime", "libgomp"}, {"start_method", "spawn"}},
         expect("libgomp", Expectation::completes())},
        {"libomp_fork",
         "libomp, fork after a parallel loop: its atfork handler resets the runtime",
         {{"runtime", "libomp"}},
         expect("libomp", Expectation::completes())},
        {"libomp_spawn",
         "libomp, spawn: a fresh program",
         {{"runtime", "libomp"}, {"start_method", "spawn"}},
         expect("libomp", Expectation::completes())},
    };
    s.body = run;
    s.sources = {"scenarios/programs/openmp_after_fork.c"}; // the program the body runs
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
