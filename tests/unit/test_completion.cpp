// Why a run completed, and the hazards that did not bite (sim/verdict/completion.hpp), on synthetic
// traces; with the verdict engine's one time origin, the object addresses of futex waits, the
// fds of a flock held and waited for by one process, and the `stopped` verdict.
//
// Index of this file:
// [SECTION] Helpers: synthetic processes and traces
// [SECTION] Why it did not hang: spawn, exec, free locks, workers, atfork
// [SECTION] Hazards that did not bite: a held lock copied, a fork server, a flock
// [SECTION] The story in a verdict, and the stopped verdict
// [SECTION] Deadlock explanations: times, barriers, one flock through two fds
// [SECTION] What a record keeps
#include "sim/verdict/completion.hpp"

#include "sim/protocol/start_method.hpp"
#include "sim/record/record.hpp"
#include "sim/run/matrix.hpp"
#include "sim/verdict/verdict.hpp"
#include "tests/unit/event_builder.hpp"
#include "tests/unit/snapshot_builders.hpp"

#include <catch2/catch.hpp>

using namespace forklore;
using namespace forklore::test;
using Catch::Matchers::Contains;

// [SECTION] Helpers: synthetic processes and traces -----------------------------------------------

namespace {

constexpr std::int64_t kRunStart = 7'000 * kMs;
constexpr std::uint64_t kFileLock = 0x55d0c0a0;
constexpr std::uint64_t kInode = 42;

// Events at given times (tenths of a millisecond after the run's start).
struct Trace {
    std::vector<Event> events;

    Trace& add(int tenths, EventKind kind, pid_t pid, pid_t tid, const char* thread,
               std::uint64_t object = 0, std::int64_t arg0 = 0, std::int64_t arg1 = 0,
               const char* name = "") {
        events.push_back(recorded_event(events.size(), kRunStart + tenths * kMs / 10, kind, pid,
                                        tid, thread, object, arg0, arg1, name));
        return *this;
    }
    Trace& lock(int tenths, EventKind kind, pid_t pid, pid_t tid, const char* thread,
                std::uint64_t address = kFileLock, const char* name = "file_lock") {
        return add(tenths, kind, pid, tid, thread, address, 0, 0, name);
    }
    Trace& child_start(int tenths, pid_t parent, pid_t tid, pid_t child, StartMethod method,
                       const char* function = "read") {
        return add(tenths, EventKind::child_start, parent, tid, "main",
                   static_cast<std::uint64_t>(child), static_cast<std::int64_t>(method), 0,
                   function);
    }
    Trace& process_start(int tenths, pid_t pid, const char* role) {
        return add(tenths, EventKind::process_start, pid, pid, "main", 0, 0, 0, role);
    }
    Trace& file_lock(int tenths, EventKind kind, pid_t pid, int fd) {
        return add(tenths, kind, pid, pid, "main", static_cast<std::uint64_t>(fd),
                   static_cast<std::int64_t>(FileLockKind::flock),
                   static_cast<std::int64_t>(kInode), "log_lock");
    }
};

// Process 2's 'reader' (tid 3) holds file_lock from 1.0 ms to 9.0 ms.
Trace reader_holds_file_lock() {
    Trace trace;
    trace.process_start(0, 2, "main")
        .add(5, EventKind::thread_start, 2, 3, "reader", 0, 2, 0, "reader")
        .lock(10, EventKind::lock_acquired, 2, 3, "reader")
        .lock(90, EventKind::lock_released, 2, 3, "reader");
    return trace;
}

} // namespace

// [SECTION] Why it did not hang: spawn, exec, free locks, workers, atfork -------------------------

TEST_CASE("completion: a spawned child has no copy of a lock another thread held",
          "[verdict][completion]") {
    Trace trace = reader_holds_file_lock();
    // The child's own program has its own file_lock, at another address.
    trace.child_start(50, 2, 2, 4, StartMethod::spawn)
        .process_start(60, 4, "read")
        .lock(63, EventKind::lock_acquired, 4, 4, "main", 0x7000)
        .lock(64, EventKind::lock_released, 4, 4, "main", 0x7000);
    CompletionStory story = explain_completion(trace.events, {}, kRunStart);
    REQUIRE(story.children.size() == 1);
    CHECK_THAT(
        story.children[0],
        Contains("Process 4 (child 'read') started from a fresh program (spawn) at 5.0 ms") &&
            Contains("no copy of 'file_lock', held by thread 'reader' (tid 3) at that "
                     "moment existed in it") &&
            Contains("It took its own 'file_lock' at 6.3 ms without waiting."));
    CHECK(story.warnings.empty());
}

TEST_CASE("completion: fork then exec replaces the copy before it takes any lock",
          "[verdict][completion]") {
    Trace trace = reader_holds_file_lock();
    trace.add(48, EventKind::exec, 4, 4, "main", 0, 0, 0, "forklore-host")
        .child_start(50, 2, 2, 4, StartMethod::fork_exec)
        .process_start(60, 4, "read");
    CompletionStory story = explain_completion(trace.events, {}, kRunStart);
    REQUIRE(story.children.size() == 1);
    CHECK_THAT(story.children[0], Contains("fresh program (fork then exec) at 5.0 ms") &&
                                      Contains("exec replaced the copy at 4.8 ms"));
}

TEST_CASE("completion: a fork when no other thread held a lock copies only free locks",
          "[verdict][completion]") {
    Trace trace;
    trace.process_start(0, 2, "main")
        .process_start(20, 3, "read") // the child's first event comes before the parent's
        .lock(21, EventKind::lock_acquired, 3, 3, "main")
        .lock(22, EventKind::lock_released, 3, 3, "main")
        .child_start(30, 2, 2, 3, StartMethod::fork);
    CompletionStory story = explain_completion(trace.events, {}, kRunStart);
    REQUIRE(story.children.size() == 1);
    // The fork happened before the child's first event, 2.0 ms.
    CHECK_THAT(story.children[0], Contains("was made by fork() from process 2 at 2.0 ms") &&
                                      Contains("had one thread") &&
                                      Contains("held no lock the trace follows") &&
                                      Contains("every such lock it copied was free"));
    CHECK(story.warnings.empty());
}

TEST_CASE("completion: workers made the same way are told once", "[verdict][completion]") {
    Trace trace;
    trace.process_start(0, 2, "main");
    for (pid_t worker = 3; worker <= 5; ++worker)
        trace.child_start(10 * worker, 2, 2, worker, StartMethod::fork, "pool_worker")
            .process_start(10 * worker + 1, worker, "pool_worker");
    CompletionStory story = explain_completion(trace.events, {}, kRunStart);
    REQUIRE(story.children.size() == 2);
    CHECK_THAT(story.children[0], Contains("Process 3 (child 'pool_worker') was made by fork()"));
    CHECK(story.children[1] ==
          "So were processes 4 and 5, made the same way at 4.0 ms and 5.0 ms.");
}

TEST_CASE("completion: atfork handlers hold the lock across fork and free both copies",
          "[verdict][completion]") {
    Trace trace;
    trace.process_start(0, 2, "main")
        .add(5, EventKind::thread_start, 2, 3, "reader", 0, 2, 0, "reader")
        // An earlier wait and hold of the forking thread's: not the one before the fork.
        .lock(6, EventKind::lock_wait, 2, 2, "main")
        .lock(7, EventKind::lock_acquired, 2, 2, "main")
        .lock(8, EventKind::lock_released, 2, 2, "main")
        .lock(10, EventKind::lock_acquired, 2, 3, "reader")
        .lock(20, EventKind::lock_wait, 2, 2, "main")
        .lock(21, EventKind::lock_released, 2, 3, "reader")
        .lock(22, EventKind::lock_acquired, 2, 2, "main") // the prepare handler
        .lock(30, EventKind::lock_released, 2, 2, "main") // the parent handler
        .child_start(31, 2, 2, 4, StartMethod::fork)
        .lock(32, EventKind::lock_released, 4, 4, "main") // the child handler
        .process_start(33, 4, "read");
    CompletionStory story = explain_completion(trace.events, {}, kRunStart);
    REQUIRE(story.children.size() == 1);
    CHECK_THAT(story.children[0],
               Contains("Thread 'main' (tid 2), the thread that called fork(), took 'file_lock' "
                        "at 2.2 ms (it waited for it from 2.0 ms)") &&
                   Contains("the parent released its copy at 3.0 ms and the child released its "
                            "own first thing, at 3.2 ms, as pthread_atfork handlers do"));
    CHECK(story.warnings.empty());

    SECTION("a semaphore taken before fork and posted in both processes") {
        Trace semaphore;
        const auto kind = static_cast<std::int64_t>(LockKind::semaphore);
        semaphore.process_start(0, 2, "main")
            .add(22, EventKind::lock_acquired, 2, 2, "main", kFileLock, kind, 0, "slots")
            .add(30, EventKind::lock_released, 2, 2, "main", kFileLock, kind, 0, "slots")
            .child_start(31, 2, 2, 4, StartMethod::fork)
            .add(32, EventKind::lock_released, 4, 4, "main", kFileLock, kind, 0, "slots");
        CompletionStory told = explain_completion(semaphore.events, {}, kRunStart);
        REQUIRE(told.children.size() == 1);
        CHECK_THAT(told.children[0], Contains("took 'slots' at 2.2 ms and held it across") &&
                                         Contains("as pthread_atfork handlers do"));
    }
}

// [SECTION] Hazards that did not bite: a held lock copied, a fork server, a flock -----------------

TEST_CASE("completion: a fork that copied a held lock the child never took is a warning",
          "[verdict][completion]") {
    Trace trace = reader_holds_file_lock();
    trace.child_start(50, 2, 2, 4, StartMethod::fork).process_start(52, 4, "read");
    CompletionStory story = explain_completion(trace.events, {}, kRunStart);
    REQUIRE(story.children.size() == 1);
    CHECK_THAT(story.children[0],
               Contains("The copy of 'file_lock' that fork() made was held by thread 'reader' "
                        "(tid 3), a thread that does not exist in the child"));
    REQUIRE(story.warnings.size() == 1);
    CHECK(story.warnings[0].kind == "copied_held_lock");
    CHECK(story.warnings[0].pid == 4);
    CHECK_THAT(story.warnings[0].text, Contains("would wait for ever"));

    SECTION("a child that execs replaces its copy: the hazard lasted until the exec") {
        Trace execs = reader_holds_file_lock();
        execs.child_start(50, 2, 2, 4, StartMethod::fork)
            .process_start(52, 4, "step_then_exec")
            .add(55, EventKind::exec, 4, 4, "main", 0, 0, 0, "forklore-host")
            .process_start(70, 4, "after_exec")
            .lock(71, EventKind::lock_acquired, 4, 4, "main", 0x7000); // its own, elsewhere
        CompletionStory told = explain_completion(execs.events, {}, kRunStart);
        REQUIRE(told.children.size() == 1);
        CHECK_THAT(told.children[0], Contains("the child took no lock before it called exec at "
                                              "5.5 ms, which replaced the copy"));
        REQUIRE(told.warnings.size() == 1);
        CHECK_THAT(told.warnings[0].text,
                   Contains("Until its exec at 5.5 ms") && Contains("it took none"));
    }
}

TEST_CASE("completion: a fork server's child is a copy of the clean server",
          "[verdict][completion]") {
    Trace trace;
    trace.process_start(0, 2, "main")
        .child_start(5, 2, 2, 3, StartMethod::fork, "forkserver") // single-threaded still
        .add(6, EventKind::process_start, 3, 3, "forkserver", 0, 2, 0, "forkserver")
        .add(7, EventKind::thread_start, 2, 4, "reader", 0, 2, 0, "reader")
        .lock(10, EventKind::lock_acquired, 2, 4, "reader")
        .add(40, EventKind::child_start, 3, 3, "forkserver", 5,
             static_cast<std::int64_t>(StartMethod::forkserver), 0, "read")
        .process_start(41, 5, "read")
        .lock(42, EventKind::lock_acquired, 5, 5, "main")
        .lock(90, EventKind::lock_released, 2, 4, "reader");
    CompletionStory story = explain_completion(trace.events, {}, kRunStart);
    REQUIRE(story.children.size() == 2);
    CHECK_THAT(story.children[0], Contains("had one thread"));
    CHECK_THAT(story.children[1],
               Contains("was forked by the fork server (process 3) at 4.0 ms: a copy of the "
                        "server, not of process 2, where thread 'reader' (tid 4) held "
                        "'file_lock' at that moment") &&
                   Contains("forked from process 2 at 0.5 ms, when it had one thread and held no "
                            "lock") &&
                   Contains("It took its copy of 'file_lock' at 4.2 ms without waiting."));
    CHECK(story.warnings.empty());
}

TEST_CASE("completion: an inherited flock released by the child is a warning",
          "[verdict][completion]") {
    Trace trace;
    trace.process_start(0, 2, "main")
        .file_lock(10, EventKind::file_lock_acquired, 2, 4)
        .child_start(20, 2, 2, 3, StartMethod::fork, "append")
        .process_start(21, 3, "append")
        .file_lock(30, EventKind::file_lock_wait, 3, 4)
        .file_lock(31, EventKind::file_lock_acquired, 3, 4)
        .file_lock(35, EventKind::file_lock_released, 3, 4)
        .file_lock(50, EventKind::file_lock_released, 2, 4);
    // The kernel saw no lock on the file in between.
    Snapshot between = {};
    between.time_ns = kRunStart + 40 * kMs / 10;
    between.detailed = true;
    CompletionStory story = explain_completion(trace.events, {between}, kRunStart);
    REQUIRE(story.children.size() == 1);
    CHECK_THAT(story.children[0], Contains("Process 2 held flock 'log_lock' through fd 4 then: "
                                           "fork() copies every fd"));
    REQUIRE(story.warnings.size() == 1);
    const VerdictWarning& warning = story.warnings[0];
    CHECK(warning.kind == "shared_file_lock");
    CHECK(warning.pid == 2);
    CHECK_THAT(warning.text,
               Contains("Process 3 (child 'append')'s lock call on flock 'log_lock' (inode 42) "
                        "through fd 4 returned at once at 3.1 ms although process 2 ('main') held "
                        "it through fd 4 since 1.0 ms") &&
                   Contains("process 3 (child 'append') unlocked it through fd 4 at 3.5 ms, which "
                            "released the lock of process 2 ('main') too") &&
                   Contains("(it released it only at 5.0 ms)") &&
                   Contains("/proc/locks at 4.0 ms listed no lock on the file"));

    SECTION("two processes that take it in turn share nothing") {
        Trace turns;
        turns.file_lock(10, EventKind::file_lock_acquired, 2, 4)
            .file_lock(20, EventKind::file_lock_released, 2, 4)
            .file_lock(30, EventKind::file_lock_acquired, 3, 5)
            .file_lock(40, EventKind::file_lock_released, 3, 5);
        CHECK(explain_completion(turns.events, {}, kRunStart).warnings.empty());
    }
}

// [SECTION] The story in a verdict, and the stopped verdict ---------------------------------------

TEST_CASE("completion: the story joins a completed verdict; warnings join any verdict",
          "[verdict][completion]") {
    Trace trace = reader_holds_file_lock();
    trace.child_start(50, 2, 2, 4, StartMethod::fork).process_start(52, 4, "read");
    Verdict completed;
    completed.kind = VerdictKind::completed;
    completed.explanation = "Completed: all 2 processes exited with code 0.";
    add_completion_story(completed, trace.events, {}, kRunStart);
    CHECK_THAT(completed.explanation, Contains("Why it did not hang: Process 4 (child 'read') was "
                                               "made by fork()") &&
                                          Contains("1 warning"));
    CHECK(completed.warnings.size() == 1);

    Verdict failed;
    failed.kind = VerdictKind::failed;
    failed.explanation = "Failed: process 4 exited with code 1.";
    add_completion_story(failed, trace.events, {}, kRunStart);
    CHECK_THAT(failed.explanation, !Contains("Why it did not hang"));
    CHECK(failed.warnings.size() == 1);
}

TEST_CASE("verdict: a run stopped by the user has no outcome", "[verdict]") {
    CHECK_FALSE(has_outcome(VerdictKind::stopped));
    CHECK_FALSE(is_hang(VerdictKind::stopped));
    CHECK(has_outcome(VerdictKind::timed_out));
    CHECK(verdict_from_string("stopped") == VerdictKind::stopped);
    Verdict stopped;
    stopped.kind = VerdictKind::stopped;
    CHECK_FALSE(matches(Expectation::ends_as(VerdictKind::timed_out), stopped));
    CHECK(outcome_label(stopped) == "stopped");
}

// [SECTION] Deadlock explanations: times, barriers, one flock through two fds ---------------------

TEST_CASE("verdict: times in the explanation count from the run's start", "[verdict]") {
    Trace trace = reader_holds_file_lock();
    trace.child_start(50, 2, 2, 4, StartMethod::fork)
        .process_start(52, 4, "read")
        .lock(53, EventKind::lock_wait, 4, 4, "main");
    Snapshot snapshot;
    snapshot.detailed = true;
    snapshot.processes = {
        process(2, 1, {waiting_for_child(2, "main", 4), on_futex(3, "reader", 0x9000)}),
        process(4, 2, {on_futex(4, "main", kFileLock, 3)})};
    // The first event is at the run's start + 0 ms, but the run started 3 ms earlier still.
    Verdict verdict = explain_deadlock(snapshot, trace.events, kRunStart - 3 * kMs);
    CHECK_THAT(verdict.explanation, Contains("fork() from process 2 at 8.0 ms"));
}

TEST_CASE("verdict: a futex word inside a barrier is shown as the barrier's address", "[verdict]") {
    constexpr std::uint64_t kBarrier = 0x7ffd10;
    Trace trace;
    trace.add(10, EventKind::barrier_wait, 2, 3, "reader", kBarrier, 0, 0, "finished");
    Snapshot snapshot;
    snapshot.detailed = true;
    // glibc's barrier waiters sleep on a word 4 bytes into the object.
    snapshot.processes = {process(2, 1, {on_futex(3, "reader", kBarrier + 4)})};
    Verdict verdict = explain_deadlock(snapshot, trace.events, kRunStart);
    REQUIRE(verdict.wait_for.size() == 1);
    const WaitEdge& edge = verdict.wait_for[0];
    CHECK(edge.address == kBarrier);
    CHECK(edge.futex_address == kBarrier + 4);
    CHECK(edge.object_kind == "barrier");
    CHECK_THAT(edge.description, Contains("barrier 'finished' (0x7ffd10)"));
    REQUIRE(verdict.stuck.size() == 1);
    CHECK(verdict.stuck[0].wait ==
          "waits on barrier 'finished' at 0x7ffd10 (its futex word is at 0x7ffd14)");
}

TEST_CASE("verdict: a process that holds a flock through one fd and waits through another",
          "[verdict]") {
    Trace trace;
    trace.file_lock(10, EventKind::file_lock_acquired, 2, 4)
        .file_lock(30, EventKind::file_lock_wait, 3, 5);
    ThreadSnapshot waiter = thread(3, "main", WaitKind::file_lock);
    waiter.fd = 5;
    Snapshot snapshot;
    snapshot.detailed = true;
    snapshot.processes = {process(2, 1, {waiting_for_child(2, "main", 3)}),
                          process(3, 2, {waiter})};
    // /proc/locks names the first taker (process 2) and the blocked request; each process's
    // fdinfo names the fd its description holds it through.
    FileLockEntry first_taker{1,      "FLOCK", true, false, 2 + kHostOffset,
                              kInode, "00:28", "0",  "EOF"};
    FileLockEntry request = first_taker;
    request.waiting = true;
    request.pid = 3 + kHostOffset;
    FileLockEntry parent_fd = first_taker;
    parent_fd.fd = 4;
    FileLockEntry child_fd = first_taker;
    child_fd.pid = 3 + kHostOffset;
    child_fd.fd = 4;
    snapshot.file_locks = {parent_fd, request, child_fd};
    Verdict verdict = explain_deadlock(snapshot, trace.events, kRunStart);
    REQUIRE(verdict.wait_for.size() == 2);
    const WaitEdge& edge = verdict.wait_for[1];
    CHECK(edge.kind == WaitEdge::Kind::file_lock);
    CHECK(edge.waiter_fd == 5);
    CHECK(edge.owner_pid == 2);
    CHECK(edge.holding_fds == std::vector<WaitEdge::HoldingFd>{{2, 4}, {3, 4}});
    CHECK_THAT(edge.description,
               Contains("thread 'main' (tid 3) of process 3 waits through fd 5 for file lock "
                        "'log_lock' (inode 42), which its own process 3 holds through fd 4, "
                        "another open file description") &&
                   Contains("holding it through fd 4 does not let fd 5 in") &&
                   Contains("fd 4 of process 2 and fd 4 of process 3 hold it, the one open file "
                            "description they share"));
}

// [SECTION] What a record keeps -------------------------------------------------------------------

TEST_CASE("records keep the stopped verdict, the warnings, the futex word and the fds",
          "[verdict][record]") {
    RunRecord record;
    record.scenario = "file-locks-across-fork";
    record.start_time_ns = kRunStart;
    record.verdict.kind = VerdictKind::stopped;
    record.verdict.explanation = "Stopped by the user after 2.6 s, before a verdict was proven.";
    record.verdict.warnings = {{"shared_file_lock", "process 3 released it", 2}};
    WaitEdge edge;
    edge.kind = WaitEdge::Kind::file_lock;
    edge.address = kInode;
    edge.futex_address = 0x7ffd14;
    edge.waiter_fd = 5;
    edge.holding_fds = {{2, 4}, {3, 4}};
    record.verdict.wait_for = {edge};
    Snapshot snapshot;
    snapshot.time_ns = kRunStart + kMs;
    snapshot.detailed = true;
    FileLockEntry held{1, "FLOCK", true, false, 1002, kInode, "00:28", "0", "EOF"};
    held.fd = 4;
    snapshot.file_locks = {held};
    record.snapshots = {snapshot};

    RunRecord read = parse_run_record(to_json_text(to_json(record)));
    CHECK(read.verdict.kind == VerdictKind::stopped);
    REQUIRE(read.verdict.warnings.size() == 1);
    CHECK(read.verdict.warnings[0].kind == "shared_file_lock");
    CHECK(read.verdict.warnings[0].text == "process 3 released it");
    CHECK(read.verdict.warnings[0].pid == 2);
    REQUIRE(read.verdict.wait_for.size() == 1);
    CHECK(read.verdict.wait_for[0].futex_address == 0x7ffd14);
    CHECK(read.verdict.wait_for[0].waiter_fd == 5);
    CHECK(read.verdict.wait_for[0].holding_fds == edge.holding_fds);
    REQUIRE(read.snapshots.size() == 1);
    REQUIRE(read.snapshots[0].file_locks.size() == 1);
    CHECK(read.snapshots[0].file_locks[0].fd == 4);
}
