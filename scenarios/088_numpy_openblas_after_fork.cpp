// 088 numpy-openblas-after-fork — Python: numpy multiplies matrices on BLAS's threads, then
// multiprocessing starts a child that does too, on OpenBLAS's OpenMP build or its pthread build.
//
// What it shows: the thread-pool hang (085, 086) as most people meet it, through numpy. The
// program is scenarios/python/numpy_openblas.py, run by Debian's /usr/bin/python3 with Debian's
// numpy, whose matrix product calls dgemm in libblas.so.3. Debian ships OpenBLAS built two
// ways, each with its libblas.so.3 in its own directory; the body chooses one for this run
// alone with LD_LIBRARY_PATH (never by changing the system's `update-alternatives` choice),
// checks in a python3 that imports numpy which libblas.so.3 its /proc/PID/maps really shows,
// and records it as a note.
// - The OpenMP build runs dgemm's threads on GCC's OpenMP runtime, libgomp: the parent's
//   product starts libgomp's pool, and a forked child's product never ends, in one of two
//   ways, depending on where the parent's idle worker was inside libgomp at the instant of
//   fork (both seen). Mostly libgomp hands the child's thread its share of dgemm, and
//   OpenBLAS's code then waits for the share of the worker, which did not come along, in a
//   loop of sched_yield (gdb, below): a thread that spins is running, nothing proves it stuck,
//   and forklore ends the run at its deadline as timed_out (as it does scenario 012's spin
//   lock). Sometimes the child's thread instead waits on the futex of libgomp's pool, as
//   scenario 086's plain C loop does every time: proven deadlocked (no_waker). Either way the
//   child never ends, so the variant declares a hang in every run, of either kind.
// - The pthread build keeps its own pool, and registers a pthread_atfork prepare handler that
//   shuts the pool down before every fork (blas_thread_shutdown_); a child starts new threads
//   at its first product. It completes.
// - One thread (OMP_NUM_THREADS=1, which the OpenMP build reads; the pthread build reads
//   OPENBLAS_NUM_THREADS first, then OMP_NUM_THREADS: both are set to the knob) starts no pool.
//   Nor does a product below OpenBLAS's threshold: a 64x64 product runs on the calling thread
//   (it goes multithreaded when M*N*K exceeds 64^3).
// - spawn and forkserver children are fresh interpreters; the forkserver's server imports
//   numpy (it preloads __main__) but never multiplies, so the OpenMP build has no pool there.
//
// Measured outside forklore (Debian 12 on 2 cores under a load of 5 to 14 from other builds,
// Python 3.11.2, numpy 1.24.2, OpenBLAS 0.3.21 (libopenblas0-openmp and libopenblas0-pthread
// 0.3.21+ds-4), libgomp 12.2.0, glibc 2.36, PYTHONUNBUFFERED=1, 200x200 matrices, 2026-12-05),
// each run under `timeout 10`, with the library path as here, OPENBLAS_NUM_THREADS and
// OMP_NUM_THREADS both set to the thread count:
//   OpenMP build, fork, 2 threads: hung 20 of 20 (gdb on a hung child: its only thread
//     running, in sched_yield, called by OpenBLAS's code under GOMP_parallel, exec_blas,
//     dgemm_thread_nn and cblas_dgemm; /proc: state R, its CPU time growing); 1 thread:
//     completed 20 of 20;
//     64x64 matrices: completed 20 of 20 (20x20: 64 of 64); spawn and forkserver, 2 or 1
//     threads: completed 20 of 20 each.
//   pthread build, fork, 2 threads: completed 40 of 40 (gdb: a breakpoint on
//     blas_thread_shutdown_ is hit from glibc's __run_prefork_handlers inside fork); 1 thread:
//     completed 20 of 20; spawn and forkserver, 2 or 1 threads: completed 20 of 20 each.
//   The OpenMP build reads OMP_NUM_THREADS only (OPENBLAS_NUM_THREADS=1 with OMP_NUM_THREADS=2
//   still hung); the pthread build reads OPENBLAS_NUM_THREADS first. A product of 64x64 left
//   the OpenMP build's process with 1 thread, 65x65 with 2. Under that load a fork run took
//   2 to 3.5 s of wall time, a spawn or forkserver run 5 to 6 s (about 0.3 s of CPU per
//   interpreter that imports numpy).
//
// In forklore (load about 3, `forklore matrix --repeat 20`): openmp_fork hung 20 of 20, 19
// timed_out at the 6 s deadline (spinning) and 1 deadlocked (no_waker, on the futex the
// parent's idle libgomp worker waits on); the other variants completed 20 of 20, in 1.1 to
// 2.5 s each.
//
// What to look for: "main: mapped .../openblas-openmp/libblas.so.3" and libgomp.so.1, the
// parent's product "has 2 threads now", then nothing from the child: its only thread keeps
// running (sched_yield) and the run times out. The parent's main thread waits for it
// (multiprocessing's join, wait4).
//
// Variants: openmp_fork (hangs: spins, or waits on a futex), openmp_fork_one_thread,
// openmp_fork_small_product, openmp_spawn, openmp_forkserver, pthread_fork.
#include "scenarios/support/python_program.hpp"
#include "scenarios/support/real_program.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <string>
#include <vector>

namespace {

using namespace forklore;

// Debian's multiarch directory, where both OpenBLAS builds install their libblas.so.3.
#if defined(__x86_64__)
constexpr const char* kLibraryDirectory = "/usr/lib/x86_64-linux-gnu";
#elif defined(__aarch64__)
constexpr const char* kLibraryDirectory = "/usr/lib/aarch64-linux-gnu";
#else
constexpr const char* kLibraryDirectory = "/usr/lib";
#endif
constexpr const char* kNumpy = "/usr/lib/python3/dist-packages/numpy/__init__.py";

// One of Debian's OpenBLAS builds: the knob's value, its directory, its package.
struct BlasBuild {
    std::string directory;
    std::string package;
};

BlasBuild blas_build(const std::string& knob_value) {
    const std::string kind = knob_value == "openblas_openmp" ? "openmp" : "pthread";
    return {fmt::format("{}/openblas-{}", kLibraryDirectory, kind), "libopenblas0-" + kind};
}

// What is missing for a run on `blas` ("python3-numpy"), empty when nothing is.
std::string missing_for(const std::string& blas) {
    if (!python::interpreter_installed())
        return "python3";
    if (access(kNumpy, R_OK) != 0)
        return "python3-numpy";
    BlasBuild build = blas_build(blas);
    if (access((build.directory + "/libblas.so.3").c_str(), R_OK) != 0)
        return build.package;
    return {};
}

// Where numpy or a BLAS build is missing (checked when the corpus is registered), the honest
// outcome is the setup error that names the package.
Expectation expect(const std::string& blas, Expectation where_installed) {
    return missing_for(blas).empty() ? where_installed
                                     : Expectation::ends_as(VerdictKind::setup_error);
}

// The libblas.so.3 that a python3 importing numpy maps with `library_path` first, from its
// /proc/self/maps. Empty, with `error` set, when it cannot be asked. One thread, so the
// pthread build starts none for this question.
std::string mapped_blas(const std::string& library_path, std::string& error) {
    const char* question = "import numpy\n"
                           "with open('/proc/self/maps') as maps:\n"
                           "    paths = {l.split()[-1] for l in maps if 'libblas.so' in l}\n"
                           "print(' '.join(sorted(paths)))\n";
    return output_of(
        {python::kInterpreter, "-c", question},
        {"LD_LIBRARY_PATH=" + library_path, "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1"}, error);
}

int run(ScenarioContext& context) {
    const std::string& blas = context.knob("blas");
    if (std::string package = missing_for(blas); !package.empty())
        return setup_error(fmt::format("{} is not installed: this scenario needs Debian's {} "
                                       "(make deps installs it)",
                                       package, package));
    const BlasBuild build = blas_build(blas);
    std::string error;
    const std::string mapped = mapped_blas(build.directory, error);
    if (!error.empty())
        return setup_error("cannot ask numpy which BLAS it loads: " + error);
    if (mapped != build.directory + "/libblas.so.3")
        return setup_error(
            fmt::format("numpy loads '{}', not {}/libblas.so.3", mapped, build.directory));
    // A note's text holds 96 characters.
    probe::note(fmt::format("blas: numpy maps {}", mapped).c_str());
    const std::string threads = context.knob("threads");
    probe::note(fmt::format("blas: OPENBLAS_NUM_THREADS={} OMP_NUM_THREADS={}, {}x{} matrices",
                            threads, threads, context.knob("size"), context.knob("size"))
                    .c_str());
    return python::run_script("numpy_openblas.py",
                              {context.knob("start_method"), context.knob("size")}, false,
                              {{"LD_LIBRARY_PATH", build.directory},
                               {"OPENBLAS_NUM_THREADS", threads},
                               {"OMP_NUM_THREADS", threads}});
}

Scenario describe() {
    Scenario s;
    s.id = "numpy-openblas-after-fork";
    s.group = "python multiprocessing";
    s.title = "Python: numpy on OpenBLAS's threads, then a forked child multiplies too";
    s.lesson =
        "A Python program (scenarios/python/numpy_openblas.py) multiplies two 200x200 matrices "
        "with numpy, which hands the product to OpenBLAS's threads, then starts a "
        "multiprocessing child that multiplies too. Debian ships OpenBLAS built on OpenMP and "
        "built on its own pthread pool; the run picks one with LD_LIBRARY_PATH and notes which "
        "libblas.so.3 numpy really maps. The OpenMP build's threads belong to GCC's libgomp: a "
        "forked child copies its pool without the threads and never ends: mostly it spins "
        "(sched_yield) waiting for their share of the product, running, so never proven stuck, "
        "and times out; sometimes it waits on libgomp's futex, a proven deadlock. The "
        "pthread build shuts its pool down before every fork (a pthread_atfork handler), so the "
        "child starts new threads. One thread (OMP_NUM_THREADS=1), a product too small for "
        "threads, or a spawn or forkserver child avoid the hang. Python 3.11.2, numpy 1.24.2, "
        "OpenBLAS 0.3.21; PYTHONUNBUFFERED is pinned to 0.";
    s.knobs = {
        Knob::choice("blas", "openblas_openmp", {"openblas_openmp", "openblas_pthread"},
                     "Which OpenBLAS build numpy loads (LD_LIBRARY_PATH): the OpenMP build "
                     "(libopenblas0-openmp) or the pthread build (libopenblas0-pthread)."),
        python::start_method_knob("fork", "How multiprocessing starts the child process."),
        Knob::integer("threads", 2, 1, 4,
                      "OPENBLAS_NUM_THREADS and OMP_NUM_THREADS: BLAS's threads. 1 starts none."),
        Knob::integer("size", 200, 8, 1000,
                      "The matrices are size x size; OpenBLAS uses threads above 64."),
    };
    // Measured 1.0 to 1.4 s a run, two at a time on the 2-core machine: two interpreters import
    // numpy and run a product on OpenBLAS's threads.
    const char* const kStartsNumpyTwice = "two interpreters import numpy: over a second";
    s.variants = {
        {"openmp_fork",
         "OpenMP build, fork: the child never ends (spins, or waits on libgomp's pool)",
         {{"blas", "openblas_openmp"}},
         // Every run hangs; which kind (a spin, timed_out; a futex, deadlocked) is a race.
         expect("openblas_openmp", Expectation::hang_rate(1, 1.0, 1.0))},
        {"openmp_fork_one_thread",
         "OpenMP build with one thread: no pool was ever started",
         {{"blas", "openblas_openmp"}, {"threads", "1"}},
         expect("openblas_openmp", Expectation::completes())},
        {"openmp_fork_small_product",
         "OpenMP build, 64x64 matrices: below OpenBLAS's threshold, no threads",
         {{"blas", "openblas_openmp"}, {"size", "64"}},
         expect("openblas_openmp", Expectation::completes())},
        {"openmp_spawn",
         "OpenMP build, spawn: a fresh interpreter starts its own pool",
         {{"blas", "openblas_openmp"}, {"start_method", "spawn"}},
         expect("openblas_openmp", Expectation::completes().slow(kStartsNumpyTwice))},
        {"openmp_forkserver",
         "OpenMP build, forkserver: the server never multiplied, so it has no pool",
         {{"blas", "openblas_openmp"}, {"start_method", "forkserver"}},
         expect("openblas_openmp", Expectation::completes().slow(kStartsNumpyTwice))},
        {"pthread_fork",
         "pthread build, fork: its atfork handler shut the pool down before fork",
         {{"blas", "openblas_pthread"}},
         expect("openblas_pthread", Expectation::completes().slow(kStartsNumpyTwice))},
    };
    s.body = run;
    // openmp_fork spins until the deadline: 6 s, three times the slowest completing run here.
    s.timeout_seconds = 6.0;
    s.sources = {python::script_path("numpy_openblas.py")}; // the program the body runs
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
