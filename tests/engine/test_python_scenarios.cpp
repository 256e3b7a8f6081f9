// The Python scenarios (200 to 260) beyond their verdicts, which the corpus checks: each run
// records Python's version and the PYTHONUNBUFFERED it pinned, and the messages the lessons
// talk about really reach the run's output. Where /usr/bin/python3 is missing, every one of
// them must end as a setup error that names it, and nothing else is checked.
#include <catch2/catch.hpp>

#include "engine_runs.hpp"
#include "scenarios/support/python_program.hpp"
#include "sim/record/record.hpp"
#include "sim/run/matrix.hpp"
#include "sim/run/runner.hpp"
#include "sim/scenario/scenario.hpp"

#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace forklore;
using namespace forklore::engine_tests;

std::vector<std::string> notes_of(const RunRecord& record) {
    std::vector<std::string> notes;
    for (const auto& event : record.events)
        if (event.kind == EventKind::note)
            notes.emplace_back(field_text(event.text));
    return notes;
}

bool has_note_starting(const RunRecord& record, const std::string& prefix) {
    for (const auto& note : notes_of(record))
        if (note.rfind(prefix, 0) == 0)
            return true;
    return false;
}

bool any_frame_contains(const RunRecord& record, const std::string& function) {
    for (const auto& stack : record.stacks)
        for (const auto& frame : stack.frames)
            if (frame.function.find(function) != std::string::npos)
                return true;
    return false;
}

} // namespace

TEST_CASE("a Python run records the interpreter's version and the pinned PYTHONUNBUFFERED",
          "[engine][python]") {
    RunRecord buffered = run_variant("python-lock-at-fork", "spawn");
    if (!python_ran(buffered))
        return;
    CHECK(buffered.verdict.kind == VerdictKind::completed);
    CHECK(has_note_starting(buffered, "python: Python 3."));
    CHECK(has_note_starting(buffered, "python: PYTHONUNBUFFERED=0"));
    // The script's own first line says what it found: the version and, where printed, stderr's
    // layer, which PYTHONUNBUFFERED decides.
    CHECK_THAT(buffered.stdout_text, Catch::Contains("main: Python 3."));

    RunRecord unbuffered = run_variant("python-printer-thread", "fork_natural_unbuffered");
    CHECK(unbuffered.verdict.kind == VerdictKind::completed);
    CHECK(has_note_starting(unbuffered, "python: PYTHONUNBUFFERED=1"));
    CHECK_THAT(unbuffered.stdout_text, Catch::Contains("stderr's binary layer is FileIO"));
}

TEST_CASE("a Python lock orphaned by fork is a deadlock with the child inside the lock",
          "[engine][python]") {
    RunRecord record = run_variant("python-printer-thread", "fork_forced");
    if (!python_ran(record))
        return;
    REQUIRE(record.verdict.kind == VerdictKind::deadlocked);
    CHECK(record.verdict.reason == DeadlockReason::no_waker);
    CHECK_THAT(record.stdout_text, Catch::Contains("stderr's binary layer is BufferedWriter"));
    CHECK(any_frame_contains(record, "PyThread_acquire_lock"));
}

// Measured by hand first (scenarios/python/printer_thread.py fork forced, PYTHONUNBUFFERED=0,
// under timeout; gdb -p on the child): the child's only thread waits in sem_wait under
// PyThread_acquire_lock, called from PyFile_WriteString, i.e. the print of worker() (line 56),
// on a futex that is the address of the sem_t (0x1ee06b50 in that run).
TEST_CASE("a hung Python run shows Python frames, threading names and the lock sys.stderr holds",
          "[engine][python]") {
    RunRecord record = run_variant("python-printer-thread", "fork_forced");
    if (!python_ran(record))
        return;
    REQUIRE(record.verdict.kind == VerdictKind::deadlocked);
    const ThreadStack* child = nullptr;
    for (const auto& stack : record.stacks)
        if (stack.python && stack.python->waits_on.size() > 0)
            child = &stack;
    REQUIRE(child != nullptr);
    const PythonStack& python = *child->python;
    REQUIRE(!python.frames.empty());
    CHECK_THAT(python.frames.front().file, Catch::EndsWith("printer_thread.py"));
    CHECK(python.frames.front().function == "worker");
    CHECK(python.frames.front().line == 56); // print("worker: ...", file=sys.stderr)
    CHECK(python.frames.back().function == "<module>");
    CHECK(python.name == "MainThread");
    CHECK(python.waits_on == "sys.stderr's buffer lock (the lock of its io.BufferedWriter)");
    CHECK(python.lock_holder == "printer");
    CHECK_FALSE(python.lock_holder_here);
    // The parent waits in multiprocessing's join, under the script's child.join() (line 92).
    bool parent_joins = false;
    for (const auto& stack : record.stacks)
        if (stack.python && stack.ns_pid != child->ns_pid)
            for (const auto& frame : stack.python->frames)
                parent_joins = parent_joins || (frame.function == "BaseProcess.join");
    CHECK(parent_joins);

    const std::string& explanation = record.verdict.explanation;
    CHECK_THAT(explanation, Catch::Contains("printer_thread.py:56 in worker()"));
    CHECK_THAT(explanation, Catch::Contains("sys.stderr's buffer lock"));
    CHECK_THAT(explanation, Catch::Contains("io.BufferedWriter"));
    CHECK_THAT(explanation, Catch::Contains("thread 'printer'"));
    CHECK_THAT(explanation, Catch::Contains("fork"));
    CHECK_THAT(explanation, Catch::Contains("Thread 'MainThread'"));

    // The record keeps all of it through JSON.
    RunRecord reread = run_record_from_json(to_json(record));
    bool kept = false;
    for (const auto& stack : reread.stacks)
        kept = kept || (stack.python && stack.python->lock_holder == "printer" &&
                        !stack.python->frames.empty() && stack.python->frames.front().line == 56);
    CHECK(kept);
}

TEST_CASE("a daemonic Python process may not have children: the message reaches stderr",
          "[engine][python]") {
    RunRecord record = run_variant("python-daemon-child", "daemon_fork");
    if (!python_ran(record))
        return;
    CHECK(record.verdict.kind == VerdictKind::failed);
    CHECK_THAT(record.stderr_text,
               Catch::Contains("AssertionError: daemonic processes are not allowed to have "
                               "children"));
    CHECK_THAT(record.stdout_text, Catch::Contains("main: the outer process exited with code 1"));
}

TEST_CASE("a pool worker's exception reaches the parent through map, and is lost without get",
          "[engine][python]") {
    RunRecord map = run_variant("python-pool-worker-exception", "map_fork");
    if (!python_ran(map))
        return;
    CHECK(map.verdict.kind == VerdictKind::failed);
    CHECK_THAT(map.stderr_text, Catch::Contains("RemoteTraceback"));
    CHECK_THAT(map.stderr_text,
               Catch::Contains("ValueError: record 3 is corrupt: expected 4 fields, found 3"));

    RunRecord lost = run_variant("python-pool-worker-exception", "apply_async_fork");
    CHECK(lost.verdict.kind == VerdictKind::completed);
    CHECK_THAT(lost.stdout_text, Catch::Contains("no error seen"));
    CHECK_THAT(lost.stderr_text, !Catch::Contains("ValueError"));
}

TEST_CASE("ProcessPoolExecutor reports a killed worker as BrokenProcessPool", "[engine][python]") {
    RunRecord record = run_variant("python-pool-worker-killed", "executor_fork");
    if (!python_ran(record))
        return;
    CHECK(record.verdict.kind == VerdictKind::failed);
    CHECK_THAT(record.stdout_text, Catch::Contains("killed by SIGKILL"));
    CHECK_THAT(record.stderr_text,
               Catch::Contains("BrokenProcessPool: A process in the process pool was terminated "
                               "abruptly"));
}

TEST_CASE("the large-object transfers are measured and checked", "[engine][python]") {
    RunRecord record = run_variant("python-large-object", "all_fork");
    if (!python_ran(record))
        return;
    CHECK(record.verdict.kind == VerdictKind::completed);
    for (const char* how : {"pickle", "file", "shared_memory", "inherit"}) {
        INFO(how);
        CHECK_THAT(record.stdout_text, Catch::Contains(std::string("transfer ") + how + ":"));
    }
    CHECK_THAT(record.stdout_text, !Catch::Contains("WRONG"));
    // The resource tracker found nothing leaked: the workers shared the parent's tracker.
    CHECK_THAT(record.stderr_text, !Catch::Contains("leaked"));
}
