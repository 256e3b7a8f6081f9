// Run records survive a round trip through JSON: a deadlocked run with every part a record has,
// output counts and limits, measurements, and how each limit was enforced with the cgroup's
// counters.
//
// Index of this file:
// [SECTION] A deadlocked run, part by part
// [SECTION] Output counts, measurements and limits
#include "sim/record/record.hpp"

#include "tests/unit/record_builders.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <bit>
#include <string>
#include <vector>

using namespace forklore;
using namespace forklore::test;
using Catch::Matchers::Contains;
using nlohmann::json;

//-----------------------------------------------------------------------------
// [SECTION] A deadlocked run, part by part
//-----------------------------------------------------------------------------

TEST_CASE("a deadlocked run record survives a round trip through JSON", "[record]") {
    const RunRecord original = deadlocked_record();
    const std::string text = to_json_text(to_json(original));
    // Both readers: from a JSON value (tools, tests), and the streaming parse of text (files),
    // which converts the events and snapshots while it reads them.
    const bool streamed = GENERATE(false, true);
    INFO((streamed ? "parse_run_record" : "run_record_from_json"));
    const RunRecord r = streamed ? parse_run_record(text) : run_record_from_json(json::parse(text));

    CHECK(r.version == kRunRecordVersion);
    CHECK(r.event_schema == kEventSchemaVersion);
    CHECK(r.scenario == original.scenario);
    CHECK(r.variant == original.variant);
    CHECK(r.knobs == original.knobs);
    REQUIRE(r.expected.has_value());
    CHECK(r.expected->verdict == VerdictKind::deadlocked);
    CHECK(r.expected->reason == DeadlockReason::orphaned_lock);
    CHECK(r.expected->describe() == "deadlocked(orphaned_lock)");
    CHECK(r.start_time_ns == kStart);
    CHECK(r.dropped_events == 3);
    CHECK(r.torn_events == 1);

    SECTION("verdict") {
        CHECK(r.verdict.kind == VerdictKind::deadlocked);
        REQUIRE(r.verdict.reason.has_value());
        CHECK(*r.verdict.reason == DeadlockReason::orphaned_lock);
        CHECK(r.verdict.explanation == original.verdict.explanation);
        CHECK(r.verdict.culprit_pid == 3);
        REQUIRE(r.verdict.wait_for.size() == 2);
        const WaitEdge& edge = r.verdict.wait_for[0];
        const WaitEdge& want = original.verdict.wait_for[0];
        CHECK(edge.kind == WaitEdge::Kind::lock);
        CHECK(edge.waiter_pid == want.waiter_pid);
        CHECK(edge.waiter_tid == want.waiter_tid);
        CHECK(edge.waiter_thread == want.waiter_thread);
        CHECK(edge.address == want.address);
        CHECK(edge.lock_name == want.lock_name);
        CHECK(edge.owner_pid == want.owner_pid);
        CHECK(edge.owner_tid == want.owner_tid);
        CHECK(edge.owner_thread == want.owner_thread);
        CHECK(edge.orphaned);
        CHECK(edge.owner_exists);
        CHECK(edge.description == want.description);
        CHECK(r.verdict.wait_for[1].kind == WaitEdge::Kind::child);
        CHECK(r.verdict.wait_for[1].owner_pid == 3);
        CHECK_FALSE(r.verdict.wait_for[1].orphaned);
    }

    SECTION("events") {
        REQUIRE(r.events.size() == original.events.size());
        for (std::size_t i = 0; i < r.events.size(); ++i) {
            const Event& got = r.events[i];
            const Event& want = original.events[i];
            INFO("event " << i << " (" << to_string(want.kind) << ")");
            CHECK(got.committed == 1u);
            CHECK(got.kind == want.kind);
            CHECK(got.seq == want.seq);
            CHECK(got.time_ns == want.time_ns);
            CHECK(got.pid == want.pid);
            CHECK(got.tid == want.tid);
            CHECK(got.object == want.object);
            CHECK(got.arg0 == want.arg0);
            CHECK(got.arg1 == want.arg1);
            CHECK(std::string(got.thread) == want.thread);
            CHECK(std::string(got.name) == want.name);
            CHECK(std::string(got.text) == want.text);
        }
    }

    SECTION("snapshots") {
        REQUIRE(r.snapshots.size() == 1);
        const Snapshot& s = r.snapshots[0];
        CHECK(s.time_ns == original.snapshots[0].time_ns);
        CHECK(s.detailed);
        REQUIRE(s.processes.size() == 2);
        CHECK(s.processes[0].ns_pid == 1);
        CHECK(s.processes[0].pid == 1001);
        CHECK(s.processes[0].ppid == 999);
        CHECK(s.processes[0].state == 'S');
        CHECK(s.processes[0].comm == "fork-while-log");
        REQUIRE(s.processes[0].threads.size() == 2);

        const ThreadSnapshot& waiting_for_child = s.processes[0].threads[0];
        CHECK(waiting_for_child.wait == WaitKind::child);
        CHECK(waiting_for_child.waited_pid == 3);
        CHECK(waiting_for_child.untimed);
        CHECK(waiting_for_child.wchan == "do_wait");

        const ThreadSnapshot& reading = s.processes[0].threads[1];
        CHECK(reading.wait == WaitKind::pipe);
        CHECK(reading.fd == 4);
        CHECK(reading.fd_target == "pipe:[4242]");
        CHECK(reading.cpu_ticks == 12);

        REQUIRE(s.processes[1].threads.size() == 1);
        const ThreadSnapshot& blocked = s.processes[1].threads[0];
        CHECK(blocked.tid == 1003);
        CHECK(blocked.ns_tid == 3);
        CHECK(blocked.state == 'S');
        CHECK(blocked.syscall == 202);
        CHECK(blocked.wait == WaitKind::futex);
        CHECK(blocked.untimed);
        CHECK(blocked.futex_address == 0x7f00deadbeefu);
        REQUIRE(blocked.owner_ns_tid.has_value());
        CHECK(*blocked.owner_ns_tid == 2);
        CHECK(blocked.owner_tid == 0);
        CHECK(blocked.fd == -1);

        REQUIRE(s.file_locks.size() == 1);
        CHECK(s.file_locks[0].type == "OFDLCK");
        CHECK(s.file_locks[0].write);
        CHECK(s.file_locks[0].pid == -1);
        CHECK(s.file_locks[0].inode == 123456u);
        CHECK(s.file_locks[0].device == "00:2a");
    }

    SECTION("processes") {
        REQUIRE(r.processes.size() == 2);
        const ProcessRecord* main_process = r.find_process(1);
        REQUIRE(main_process != nullptr);
        CHECK(main_process->pid == 1001);
        CHECK(main_process->role == ProcessRole::main);
        CHECK(main_process->name == "main");
        CHECK(main_process->killed_by_runner);
        CHECK_FALSE(main_process->wait_status.known());
        CHECK(main_process->output == "worker: working\n");
        CHECK(main_process->threads ==
              std::vector<std::pair<pid_t, std::string>>{{1, "main"}, {2, "worker"}});

        const ProcessRecord* child = r.find_process(3);
        REQUIRE(child != nullptr);
        CHECK(child->parent_ns_pid == 1);
        CHECK(child->role == ProcessRole::child);
        CHECK(child->name == "child_main");
        CHECK(child->start_method == StartMethod::fork);
        CHECK(child->start_ns == 5 * kMs);
        CHECK(child->end_ns == 900 * kMs);
        REQUIRE(child->wait_status.known());
        CHECK(child->wait_status.killed());
        CHECK(child->wait_status.fatal_signal() == SIGKILL);
        CHECK(child->exit_description == "killed by SIGKILL");
        CHECK_FALSE(child->killed_by_runner);
        CHECK(r.find_process(42) == nullptr);
    }

    SECTION("stacks") {
        REQUIRE(r.stacks.size() == 2);
        const ThreadStack& stack = r.stacks[0];
        CHECK(stack.pid == 1003);
        CHECK(stack.tid == 1003);
        CHECK(stack.ns_pid == 3);
        CHECK(stack.ns_tid == 3);
        CHECK(stack.thread_name == "main");
        CHECK(stack.error.empty());
        REQUIRE(stack.frames.size() == 3);
        for (std::size_t i = 0; i < 3; ++i) {
            INFO("frame " << i);
            CHECK(stack.frames[i].pc == original.stacks[0].frames[i].pc);
            CHECK(stack.frames[i].function == original.stacks[0].frames[i].function);
            CHECK(stack.frames[i].module == original.stacks[0].frames[i].module);
            CHECK(stack.frames[i].offset == original.stacks[0].frames[i].offset);
        }
        CHECK(r.stacks[1].frames.empty());
        CHECK(r.stacks[1].error == "ptrace: Operation not permitted");
        CHECK(r.stacks[1].ns_tid == 2);
    }

    SECTION("output, timings, sandbox") {
        CHECK(r.stdout_text == "hello\n");
        CHECK(r.stderr_text == "worker: working\n");
        CHECK(r.output_truncated);
        CHECK(r.stdout_bytes == 6);
        CHECK(r.stdout_dropped == 0);
        CHECK(r.stderr_bytes == 734003200);
        CHECK(r.stderr_dropped == 733954048);
        CHECK(r.timings.setup_ms == 12.5);
        CHECK(r.timings.verdict_ms == 480.25);
        CHECK(r.timings.total_ms == 512.0);
        CHECK(r.timings.quiet_window_ms == 45.5);
        CHECK(r.timings.samples == 97);
        CHECK(r.timings.sample_mean_us == 83.5);
        CHECK(r.sandbox == "pid mount net ipc");
        CHECK(r.limits.cpu_seconds == 7);
        CHECK(r.limits.max_tasks == 12);
        CHECK(r.limits.max_output == SandboxLimits{}.max_output);
        CHECK(r.host == "Linux 6.8 / glibc 2.39");
    }

    // Serialising again gives the same document: nothing is lost or invented on the way.
    CHECK(to_json(r) == to_json(original));
}

//-----------------------------------------------------------------------------
// [SECTION] Output counts, measurements and limits
//-----------------------------------------------------------------------------

TEST_CASE("output counts and limits: written, dropped, the limit and the kept size", "[record]") {
    RunRecord r = deadlocked_record();
    r.limits.max_output = 1 << 20;
    r.limits.output_keep = 4096;
    const json j = to_json(r);
    CHECK(j.at("stderr_bytes") == 734003200);
    CHECK(j.at("stderr_dropped") == 733954048);
    CHECK(j.at("stdout_dropped") == 0);
    CHECK(j.at("limits").at("max_output") == 1 << 20);
    CHECK(j.at("limits").at("output_keep") == 4096);
    const RunRecord back = run_record_from_json(j);
    CHECK(back.limits.max_output == 1u << 20);
    CHECK(back.limits.output_keep == 4096u);

    SECTION("a record from before the counts loads with 0 and keeps output_truncated") {
        json old = j;
        for (const char* key : {"stdout_bytes", "stderr_bytes", "stdout_dropped", "stderr_dropped"})
            old.erase(key);
        old["limits"].erase("output_keep");
        old["limits"]["max_output"] = 4 << 20; // then both the kept size and a limit
        const RunRecord loaded = run_record_from_json(old);
        CHECK(loaded.output_truncated);
        CHECK(loaded.stdout_bytes == 0);
        CHECK(loaded.stderr_bytes == 0);
        CHECK(loaded.stdout_dropped == 0);
        CHECK(loaded.stderr_dropped == 0);
        CHECK(loaded.limits.max_output == 4u << 20);
        CHECK(loaded.limits.output_keep == SandboxLimits{}.output_keep);
    }
}

TEST_CASE("measurements are listed in the record and survive a round trip", "[record]") {
    RunRecord r = deadlocked_record();
    r.events.push_back(event(EventKind::measurement, 9, 3, 3, "main", 0,
                             std::bit_cast<std::int64_t>(412.75), "pipe_MiB_per_s", "MiB/s"));
    r.events.push_back(event(EventKind::measurement, 10, 3, 3, "main", 0,
                             std::bit_cast<std::int64_t>(-0.5), "skew_ms", "ms"));
    const json j = to_json(r);
    REQUIRE(j.at("measurements").size() == 2);
    const json& first = j.at("measurements").at(0);
    CHECK(first.at("name") == "pipe_MiB_per_s");
    CHECK(first.at("value") == 412.75);
    CHECK(first.at("unit") == "MiB/s");
    CHECK(first.at("pid") == 3);

    const RunRecord back = run_record_from_json(j);
    std::vector<Measurement> measured = measurements_of(back);
    REQUIRE(measured.size() == 2);
    CHECK(measured[1].name == "skew_ms");
    CHECK(measured[1].value == -0.5);
    CHECK(measured[1].unit == "ms");
    CHECK(measured[1].t_ns == 10 * kMs + 17);
}

TEST_CASE("a limit's enforcement and the cgroup's counters survive a round trip, "
          "through the bounded reader too",
          "[record]") {
    RunRecord record = deadlocked_record();
    record.verdict.kind = VerdictKind::limit;
    record.verdict.reason.reset();
    record.verdict.limit = "tasks";
    record.limits.max_tasks = 256;
    record.limits.max_memory = 6ULL << 30;
    record.enforcement = {{"tasks", "256", "cgroup v1 pids.max", true},
                          {"cpu time", "10 s", "RLIMIT_CPU", false}};
    record.cgroups = "cgroup v1 pids memory cpu";
    record.cgroup_counters.tasks_refused = 4242;
    record.cgroup_counters.tasks = 3;
    record.peak_tasks = 256;
    record.cgroup_counters.oom_kills = 1;
    record.cgroup_counters.memory_peak = 123456789;
    record.cgroup_counters.cpu_ns = 987654321;

    for (bool streamed : {false, true}) {
        INFO((streamed ? "parse_run_record" : "run_record_from_json"));
        const std::string text = to_json(record).dump();
        const RunRecord back =
            streamed ? parse_run_record(text) : run_record_from_json(json::parse(text));
        CHECK(back.verdict.limit == "tasks");
        CHECK(back.limits.max_tasks == 256);
        CHECK(back.limits.max_memory == (6ULL << 30));
        REQUIRE(back.enforcement.size() == 2);
        CHECK(back.enforcement[0].mechanism == "cgroup v1 pids.max");
        CHECK(back.enforcement[0].by_kernel);
        CHECK(back.enforcement[1].limit == "cpu time");
        CHECK_FALSE(back.enforcement[1].by_kernel);
        CHECK(back.cgroups == "cgroup v1 pids memory cpu");
        CHECK(back.cgroup_counters.tasks_refused == 4242);
        CHECK(back.peak_tasks == 256);
        CHECK(back.cgroup_counters.oom_kills == 1);
        CHECK(back.cgroup_counters.memory_peak == 123456789);
        CHECK(back.cgroup_counters.cpu_ns == 987654321);
        CHECK(to_json(back) == to_json(record));
    }

    // A wrong type is named where it is.
    json bad = to_json(record);
    bad["cgroup_counters"]["oom_kills"] = "one";
    CHECK_THROWS_WITH(parse_run_record(bad.dump()), Contains("cgroup_counters.oom_kills"));
}
