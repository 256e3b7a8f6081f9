// The verdict engine on synthetic snapshots and traces: which threads count as blocked, the
// deadlock detector's quiet window, and the judgement of exits. The deadlock reasons and their
// explanations are in test_verdict_deadlocks.cpp, the reason choice alone in
// test_verdict_choose_reason.cpp.
//
// Host ids are namespace ids + 1000 throughout, so a test fails if the engine ever shows a
// student a host id instead of the id the trace shows.
#include "sim/verdict/verdict.hpp"

#include "sim/protocol/start_method.hpp"
#include "tests/unit/snapshot_builders.hpp"
#include "tests/unit/verdict_trace.hpp"

#include <catch2/catch.hpp>

#include <csignal>

using namespace forklore;
using namespace forklore::test;
using Catch::Matchers::Contains;

namespace {

// Every sample of a detector test: one scenario thread blocked on a futex forever.
Snapshot quiet_sample(std::int64_t time_ns, std::uint64_t cpu_ticks = 7,
                      std::uint64_t address = 0x1000) {
    ThreadSnapshot waiter = on_futex(2, "main", address);
    waiter.cpu_ticks = cpu_ticks;
    return snapshot_at(time_ns, {sandbox_infrastructure(), process(2, 1, {waiter})});
}

// Feeds a sample with a trace of `events` events, all recorded by thread 2 (the stuck 'main' of
// quiet_sample): a trace that grew between two samples is a sign of life from the stuck set.
bool feed(DeadlockDetector& detector, const Snapshot& snapshot, std::size_t events) {
    std::vector<Event> trace(events);
    for (auto& event : trace)
        event.tid = 2;
    return detector.observe(snapshot, trace);
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Blocked threads and the detector
// ---------------------------------------------------------------------------------------------

TEST_CASE("verdict: only untimed waits on another thread or process count as blocked",
          "[verdict]") {
    for (WaitKind wait :
         {WaitKind::futex, WaitKind::file_lock, WaitKind::child, WaitKind::pipe, WaitKind::poll}) {
        CHECK(is_untimed_block(thread(2, "t", wait, true)));
        CHECK_FALSE(is_untimed_block(thread(2, "t", wait, false)));
    }
    for (WaitKind wait : {WaitKind::running, WaitKind::sleep, WaitKind::other, WaitKind::stopped,
                          WaitKind::zombie}) {
        ThreadSnapshot waiting = thread(2, "t", wait);
        waiting.untimed = true;
        CHECK_FALSE(is_untimed_block(waiting));
    }
}

TEST_CASE("verdict: infrastructure and zombie threads are ignored", "[verdict]") {
    ProcessSnapshot busy_host = sandbox_infrastructure();
    busy_host.threads.push_back(thread(9, "reaper"));
    ProcessSnapshot dead_child = process(5, 2, {thread(5, "child", WaitKind::zombie)});
    ProcessSnapshot main =
        process(2, 1, {on_futex(2, "main", 0x10), thread(3, "worker", WaitKind::zombie)});
    CHECK(all_threads_blocked(snapshot_at(0, {busy_host, main, dead_child})));
    CHECK_FALSE(all_threads_blocked(snapshot_at(0, {busy_host})));
    CHECK_FALSE(all_threads_blocked(snapshot_at(0, {dead_child})));
    // A zombie is not waited on: the graph only has the live waiter.
    auto graph = build_wait_for_graph(snapshot_at(0, {busy_host, main, dead_child}), {});
    REQUIRE(graph.size() == 1);
    CHECK(graph[0].waiter_tid == 2);
}

TEST_CASE("verdict: the detector needs enough quiet samples over enough time", "[verdict]") {
    DeadlockDetector detector({3, 15 * kMs});
    CHECK_FALSE(feed(detector, quiet_sample(0), 10));
    CHECK_FALSE(feed(detector, quiet_sample(5 * kMs), 10));
    CHECK_FALSE(feed(detector, quiet_sample(10 * kMs), 10)); // 3 samples, only 10 ms
    CHECK(feed(detector, quiet_sample(20 * kMs), 10));

    DeadlockDetector slow_sampler({3, 15 * kMs});
    CHECK_FALSE(feed(slow_sampler, quiet_sample(0), 10));
    CHECK_FALSE(feed(slow_sampler, quiet_sample(30 * kMs), 10)); // long enough, 2 samples
    CHECK(feed(slow_sampler, quiet_sample(60 * kMs), 10));
}

TEST_CASE("verdict: any sign of life restarts the quiet window", "[verdict]") {
    DeadlockDetector detector({3, 15 * kMs});
    REQUIRE_FALSE(feed(detector, quiet_sample(0), 10));
    REQUIRE_FALSE(feed(detector, quiet_sample(10 * kMs), 10));

    // What the samples look like from the change on.
    std::uint64_t cpu_ticks = 7, events_seen = 10, address = 0x1000;
    SECTION("CPU time spent") {
        cpu_ticks = 8;
    }
    SECTION("a new event") {
        events_seen = 11;
    }
    SECTION("a different wait") {
        address = 0x2000;
    }
    SECTION("a running thread") {
        Snapshot running = quiet_sample(15 * kMs);
        running.processes[1].threads.push_back(thread(3, "spinner"));
        CHECK_FALSE(feed(detector, running, 10));
        CHECK(detector.quiet_since_ns() == 0);
    }
    CHECK_FALSE(feed(detector, quiet_sample(20 * kMs, cpu_ticks, address), events_seen));
    CHECK(detector.quiet_since_ns() == 20 * kMs);
    // A full window is needed again from there.
    CHECK_FALSE(feed(detector, quiet_sample(30 * kMs, cpu_ticks, address), events_seen));
    CHECK(feed(detector, quiet_sample(40 * kMs, cpu_ticks, address), events_seen));
}

TEST_CASE("verdict: sleeps and timed waits never prove a hang", "[verdict]") {
    DeadlockDetector detector({2, 1 * kMs});
    // Flagged untimed: a sleep is no proof even so.
    ThreadSnapshot napper = thread(3, "napper", WaitKind::sleep);
    napper.untimed = true;
    for (int sample = 0; sample < 20; ++sample) {
        Snapshot snapshot = snapshot_at(
            sample * 10 * kMs, {process(2, 1, {on_futex(2, "main", 0x10), napper}),
                                process(4, 2, {thread(4, "timed", WaitKind::futex, false)})});
        CHECK_FALSE(feed(detector, snapshot, 3));
    }
}

// ---------------------------------------------------------------------------------------------
// Exits
// ---------------------------------------------------------------------------------------------

TEST_CASE("verdict: describing wait statuses", "[verdict]") {
    CHECK(WaitStatus::from_raw(exited(0)).text() == "exited with code 0");
    CHECK(WaitStatus::from_raw(exited(3)).text() == "exited with code 3");
    CHECK(WaitStatus::from_raw(killed_by(SIGSEGV)).text() == "killed by SIGSEGV");
    CHECK(signal_name(SIGKILL) == "SIGKILL");
}

TEST_CASE("verdict: judging how processes exited", "[verdict]") {
    Trace trace;
    trace.process_start(2, "main").child_start(2, 3, StartMethod::fork, "read_file");

    SECTION("everyone exited 0, some reported twice") {
        trace.process_exit(2, 3, exited(0))
            .process_exit(1, 3, exited(0))
            .process_exit(1, 4, exited(0))
            .process_exit(1, 2, exited(0));
        Verdict verdict = judge_exits(trace.events, exited(0));
        CHECK(verdict.kind == VerdictKind::completed);
        CHECK(verdict.explanation == "Completed: all 3 processes exited with code 0.");
    }
    SECTION("a non-zero exit code fails") {
        trace.process_exit(1, 3, exited(0)).process_exit(1, 2, exited(3));
        Verdict verdict = judge_exits(trace.events, exited(3));
        CHECK(verdict.kind == VerdictKind::failed);
        CHECK(verdict.exit_code == 3);
        CHECK(verdict.culprit_pid == 2);
        CHECK(verdict.explanation == "Failed: process 2 ('main') exited with code 3.");
    }
    SECTION("an unexpected signal crashes, and outranks a failure") {
        trace.process_exit(2, 3, killed_by(SIGSEGV)).process_exit(1, 2, exited(1));
        Verdict verdict = judge_exits(trace.events, exited(1));
        CHECK(verdict.kind == VerdictKind::crashed);
        CHECK(verdict.signal == SIGSEGV);
        CHECK(verdict.culprit_pid == 3);
        CHECK(verdict.explanation ==
              "Crashed: process 3 (child 'read_file') was killed by SIGSEGV.");
    }
    SECTION("a signal the scenario sent on purpose is expected") {
        trace.signal_sent(2, 3, SIGKILL)
            .process_exit(2, 3, killed_by(SIGKILL))
            .process_exit(1, 2, exited(0));
        Verdict verdict = judge_exits(trace.events, exited(0));
        CHECK(verdict.kind == VerdictKind::completed);
        CHECK(verdict.explanation == "Completed: 1 process exited with code 0; process 3 "
                                     "(child 'read_file') was killed by SIGKILL on purpose.");
    }
    SECTION("a signal sent to another process does not excuse this one") {
        trace.signal_sent(2, 4, SIGKILL).process_exit(2, 3, killed_by(SIGKILL));
        CHECK(judge_exits(trace.events, exited(0)).kind == VerdictKind::crashed);
    }
    SECTION("a sandbox limit outranks a crash") {
        trace.process_exit(2, 3, killed_by(SIGSEGV)).process_exit(1, 4, killed_by(SIGXCPU));
        Verdict verdict = judge_exits(trace.events, exited(0));
        CHECK(verdict.kind == VerdictKind::limit);
        CHECK(verdict.signal == SIGXCPU);
        CHECK(verdict.culprit_pid == 4);
        CHECK_THAT(verdict.explanation, Contains("CPU time"));
    }
}

TEST_CASE("verdict: without exit events the host's status stands for the scenario", "[verdict]") {
    Trace trace;
    trace.process_start(2, "main");
    CHECK(judge_exits(trace.events, exited(0)).kind == VerdictKind::completed);

    Verdict failed = judge_exits(trace.events, exited(3));
    CHECK(failed.kind == VerdictKind::failed);
    CHECK(failed.exit_code == 3);
    CHECK(failed.culprit_pid == 2);

    Verdict crashed = judge_exits(trace.events, exited(128 + SIGSEGV));
    CHECK(crashed.kind == VerdictKind::crashed);
    CHECK(crashed.signal == SIGSEGV);

    CHECK(judge_exits({}, killed_by(SIGXFSZ)).kind == VerdictKind::limit);
}
