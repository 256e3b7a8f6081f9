// The words a student reads about the real-world hangs (scenarios 072 to 088 and 270 to 290): the
// real name of the lock (glibc's own locks by the function that took them, the loader's lock,
// the import lock of the module being imported, the RLock by its variable's name, a Condition's
// waiter lock), the thread's name, how the stuck process
// was made (fork), and for Python the file:line and function that waits. Only variants whose
// timing is forced, so that each run hangs the same way; each takes 0.2 to 0.6 s.
//
// The names were checked by hand against gdb on the same programs (glibc 2.36, Python 3.11.2):
// the child of 072's forced variant waits in __lll_lock_wait_private under __tz_convert (time/
// tzset.c's tzset_lock); 074's children under buffered_vfprintf (stderr's FILE lock); 076's under
// _dl_open (_dl_load_lock) and _dl_add_to_namespace_list (_dl_load_write_lock).
#include "engine_runs.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using namespace forklore;
using namespace forklore::engine_tests;
using Catch::Matchers::Contains;

TEST_CASE("words: localtime's child waits for glibc's time-zone lock, copied by fork",
          "[engine][words]") {
    RunRecord record = run_variant("glibc-calls-at-fork", "localtime_fork_forced");
    REQUIRE(record.verdict.kind == VerdictKind::deadlocked);
    const std::string& text = record.verdict.explanation;
    CHECK_THAT(text, Contains("the time-zone lock (tzset_lock)"));
    CHECK_THAT(text, Contains("one of glibc's internal locks (__lll_lock_wait_private in "
                              "__tz_convert"));
    CHECK_THAT(text, Contains("Thread 'main' (tid 4) of process 4"));
    CHECK_THAT(text, Contains("made by fork() from process 2"));
    // The thread that holds it in the parent is still reading the slow time-zone file.
    CHECK_THAT(text, Contains("thread 'tz_reader' (tid 3) of process 2 is blocked in read()"));
}

TEST_CASE("words: a copy made by _Fork or clone waits for the FILE lock of stderr",
          "[engine][words]") {
    for (const char* variant : {"underscore_fork", "raw_clone"}) {
        CAPTURE(variant);
        RunRecord record = run_variant("fork-against-underscore-fork", variant);
        REQUIRE(record.verdict.kind == VerdictKind::deadlocked);
        const std::string& text = record.verdict.explanation;
        CHECK_THAT(text, Contains("the lock of the FILE it writes or reads"));
        CHECK_THAT(text, Contains("in buffered_vfprintf"));
        CHECK_THAT(text, Contains("Process 4 is a copy"));
        CHECK_THAT(text, Contains("thread 'holder' (tid 3) of process 2"));
        // The call that made it, not "fork()": glibc resets stderr's lock in fork()'s child only.
        CHECK_THAT(text, Contains(std::string(variant) == "underscore_fork"
                                      ? "made by _Fork() from process 2"
                                      : "made by a raw clone system call from process 2"));
        CHECK_THAT(text, !Contains("made by fork()"));
    }
}

TEST_CASE("words: the loader's locks have their glibc names and their owner thread",
          "[engine][words]") {
    RunRecord dlopen = run_variant("loader-locks-at-fork", "dlopen_underscore_fork");
    REQUIRE(dlopen.verdict.kind == VerdictKind::deadlocked);
    CHECK(dlopen.verdict.reason == DeadlockReason::orphaned_lock);
    CHECK_THAT(dlopen.verdict.explanation,
               Contains("waits forever for the dynamic loader's lock _dl_load_lock (a mutex at"));
    CHECK_THAT(dlopen.verdict.explanation, Contains("Its owner is thread 'loader' (tid 3)"));
    CHECK_THAT(dlopen.verdict.explanation, Contains("made by _Fork() from process 2"));
    CHECK_THAT(dlopen.verdict.explanation, Contains("and _Fork() copied the lock in its locked"));
    CHECK_THAT(dlopen.verdict.explanation, !Contains("fork() copied"));

    RunRecord iterate = run_variant("loader-locks-at-fork", "iterate_fork");
    REQUIRE(iterate.verdict.kind == VerdictKind::deadlocked);
    CHECK_THAT(iterate.verdict.explanation,
               Contains("the dynamic loader's write lock _dl_load_write_lock (a mutex at"));
    CHECK_THAT(iterate.verdict.explanation, Contains("Its owner is thread 'walker' (tid 3)"));
    CHECK_THAT(iterate.verdict.explanation, Contains("made by fork() from process 2"));
    CHECK_THAT(iterate.verdict.explanation, Contains("and fork() copied the lock in its locked"));
}

TEST_CASE("words: a forked OpenMP child waits inside libgomp, under its parallel region",
          "[engine][words]") {
    RunRecord record = run_variant("openmp-runtime-after-fork", "libgomp_fork");
    REQUIRE(record.verdict.kind == VerdictKind::deadlocked);
    const std::string& text = record.verdict.explanation;
    CHECK_THAT(text, Contains("in libgomp.so.1"));
    CHECK_THAT(text, Contains("called from parallel_sum"));
    CHECK_THAT(text, Contains("that library's own"));
}

TEST_CASE("words: a Python child waits for an import lock, under the program's line",
          "[engine][words][python]") {
    RunRecord record = run_variant("python-import-at-fork", "fork");
    if (!python_ran(record))
        return;
    REQUIRE(record.verdict.kind == VerdictKind::deadlocked);
    const std::string& text = record.verdict.explanation;
    CHECK_THAT(text, Contains("Thread 'MainThread' (tid 5) of process 5 waits at <frozen "
                              "importlib._bootstrap>:120 in _ModuleLock.acquire(), under "
                              "import_at_fork.py:49 in worker()"));
    // Named from the interpreter's own table (importlib._bootstrap._module_locks), with the
    // thread its owner field names: the warm-up thread, which stayed in the parent.
    CHECK_THAT(text, Contains("for the import lock of module 'plugin_registry' (importlib's "
                              "_ModuleLock for it"));
    CHECK_THAT(text, Contains("That lock records thread 'warm-up' as the one holding it, and "
                              "process 5 has no thread 'warm-up'"));
    CHECK_THAT(text, Contains("made by os.fork() in multiprocessing's fork start method "
                              "(popen_fork.py:71 in Popen._launch(), started at "
                              "import_at_fork.py:79 in <module>())"));
}

TEST_CASE("words: a Python child waits on a held RLock at the program's with-line",
          "[engine][words][python]") {
    RunRecord record = run_variant("python-rlock-at-fork", "fork_thread_holds");
    if (!python_ran(record))
        return;
    REQUIRE(record.verdict.kind == VerdictKind::deadlocked);
    const std::string& text = record.verdict.explanation;
    CHECK_THAT(text, Contains("waits at rlock_at_fork.py:37 in register()"));
    // The RLock's own owner field (checked by hand: the child's repr() of the lock prints
    // owner=<the holder thread's ident>) names the holder.
    CHECK_THAT(text, Contains("for the threading.RLock registry_lock (a global of module "
                              "__main__)"));
    CHECK_THAT(text, Contains("That lock records thread 'holder' as the one holding it"));
    CHECK_THAT(text, Contains("Process 5 is a copy made by os.fork()"));
    CHECK_THAT(text, Contains("started at rlock_at_fork.py:69 in <module>()"));
}

TEST_CASE("words: a plain threading.Lock is named where the program keeps it, owner unknown",
          "[engine][words][python]") {
    // A global of the script, and a lock a logging handler's subclass adds (found through
    // logging's list of every handler). A threading.Lock keeps no owner in CPython 3.11.
    struct Case {
        const char* scenario;
        const char* variant;
        const char* named;
    };
    for (const Case& each :
         {Case{"python-lock-at-fork", "fork",
               "for the threading.Lock cache_lock (a global of module __main__)"},
          Case{"python-logging-at-fork", "fork_own_lock",
               "for the threading.Lock write_lock (an attribute of a logging handler of class "
               "OwnLockHandler)"}}) {
        CAPTURE(each.scenario, each.variant);
        RunRecord record = run_variant(each.scenario, each.variant);
        if (!python_ran(record))
            return;
        REQUIRE(record.verdict.kind == VerdictKind::deadlocked);
        const std::string& text = record.verdict.explanation;
        CHECK_THAT(text, Contains(each.named));
        CHECK_THAT(text, Contains("owner unknown: a threading.Lock records no owner"));
        CHECK_THAT(text, Contains("Process 5 is a copy made by os.fork()"));
    }
}

TEST_CASE("words: Pool.map under fork: workers wait at the task's line, the parent in a Condition",
          "[engine][words][python]") {
    for (const char* variant : {"map_fork", "starmap_fork"}) {
        CAPTURE(variant);
        RunRecord record = run_variant("python-pool-start-methods", variant);
        if (!python_ran(record))
            return;
        REQUIRE(record.verdict.kind == VerdictKind::deadlocked);
        const std::string& text = record.verdict.explanation;
        CHECK_THAT(text, Contains("waits at pool_start_methods.py:35 in add_metrics() for the "
                                  "threading.Lock metrics_lock (a global of module __main__)"));
        CHECK_THAT(text, Contains("thread 'Thread-2 (_handle_tasks)'"));
        // One stuck worker is a proven deadlock of its own: on a loaded machine the proof can
        // come while another worker still starts, before the parent's wait depends only on
        // stuck threads; the parent is then live beside it, named, not in the stuck set.
        const bool parent_stuck = std::any_of(
            record.verdict.stuck.begin(), record.verdict.stuck.end(),
            [](const ThreadState& thread) { return thread.pid == 2 && thread.tid == 2; });
        if (parent_stuck) {
            CHECK_THAT(text, Contains("Thread 'MainThread' (tid 2) of process 2 waits at "
                                      "threading.py:320 in Condition.wait(), under "
                                      "pool_start_methods.py:"));
            CHECK_THAT(text, Contains("the waiter lock of a threading.Condition"));
        } else {
            CHECK_THAT(text, Contains("thread 'MainThread' (tid 2) of process 2 waits on the "
                                      "private futex"));
        }
        CHECK_THAT(text, Contains("a copy made by os.fork() in multiprocessing's fork start "
                                  "method"));
    }
}
