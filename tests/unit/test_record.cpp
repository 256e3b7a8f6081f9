// The run record's versioned JSON: the keys other tools read, a full round trip of a deadlocked
// run, and one-line errors for records this build cannot read.
#include "sim/record/record.hpp"

#include "sim/protocol/channel.hpp"

#include <catch2/catch.hpp>

#include <bit>

#include <sys/wait.h>

#include <csignal>
#include <stdexcept>
#include <string>
#include <vector>

using namespace forklore;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

constexpr std::int64_t kStart = 5'000'000'000; // CLOCK_MONOTONIC at the runner's start
constexpr std::int64_t kMs = 1'000'000;

Event event(EventKind kind, std::int64_t t_ms, pid_t pid, pid_t tid, const char* thread,
            std::uint64_t object = 0, std::int64_t arg0 = 0, const char* name = nullptr,
            const char* text = nullptr) {
    static std::uint64_t seq = 0;
    Event e{};
    e.committed = 1;
    e.kind = kind;
    e.seq = seq++;
    e.time_ns = kStart + t_ms * kMs + 17; // odd nanoseconds survive too
    e.pid = pid;
    e.tid = tid;
    e.object = object;
    e.arg0 = arg0;
    copy_name(e.thread, thread);
    copy_name(e.name, name);
    copy_name(e.text, text);
    return e;
}

// The classic: main forks while 'worker' holds the logger lock; the child waits forever.
RunRecord deadlocked_record() {
    RunRecord r;
    r.scenario = "fork-while-logging";
    r.variant = "fork";
    r.knobs = {{"method", "fork"}, {"threads", "2"}};
    r.expected = Expectation::deadlocks(DeadlockReason::orphaned_lock);
    r.start_time_ns = kStart;
    r.dropped_events = 3;
    r.torn_events = 1;

    r.verdict.kind = VerdictKind::deadlocked;
    r.verdict.reason = DeadlockReason::orphaned_lock;
    r.verdict.explanation =
        "Process 3 waits for lock 'logger', held by thread 'worker' (tid 2), which was left "
        "behind by the fork.";
    r.verdict.culprit_pid = 3;
    WaitEdge edge;
    edge.kind = WaitEdge::Kind::lock;
    edge.waiter_pid = 3;
    edge.waiter_tid = 3;
    edge.waiter_thread = "main";
    edge.address = 0x7f00deadbeef;
    edge.lock_name = "logger";
    edge.owner_pid = 1;
    edge.owner_tid = 2;
    edge.owner_thread = "worker";
    edge.orphaned = true;
    edge.owner_exists = true;
    edge.description = "thread 'main' of process 3 waits for lock 'logger'";
    r.verdict.wait_for.push_back(edge);
    WaitEdge parent_edge;
    parent_edge.kind = WaitEdge::Kind::child;
    parent_edge.waiter_pid = 1;
    parent_edge.waiter_tid = 1;
    parent_edge.owner_pid = 3;
    r.verdict.wait_for.push_back(parent_edge);

    r.events = {
        event(EventKind::process_start, 0, 1, 1, "main", 0, 0, "main"),
        event(EventKind::thread_start, 1, 1, 2, "worker", 0, 1, "worker"),
        event(EventKind::lock_wait, 2, 1, 2, "worker", 0x7f00deadbeef, 0, "logger"),
        event(EventKind::lock_acquired, 2, 1, 2, "worker", 0x7f00deadbeef, 0, "logger"),
        event(EventKind::output, 3, 1, 2, "worker", 2, 2, "logger", "worker: working\n"),
        event(EventKind::child_start, 4, 1, 1, "main", 3, static_cast<int>(StartMethod::fork),
              "child_main"),
        event(EventKind::process_start, 5, 3, 3, "main", 0, 1, "child_main"),
        event(EventKind::note, 5, 3, 3, "main", 0, 0, nullptr, "child logs a line"),
        event(EventKind::lock_wait, 6, 3, 3, "main", 0x7f00deadbeef, 0, "logger"),
        event(EventKind::file_lock_wait, 7, 1, 1, "main", 5,
              static_cast<std::int64_t>(FileLockKind::ofd), "data.lock"),
        event(EventKind::process_exit, 900, 1, 1, "main", 3, SIGKILL),
    };
    r.events[9].arg1 = 123456; // file lock inode

    Snapshot snapshot;
    snapshot.time_ns = kStart + 850 * kMs;
    snapshot.detailed = true;
    ProcessSnapshot parent;
    parent.pid = 1001;
    parent.ns_pid = 1;
    parent.ppid = 999;
    parent.comm = "fork-while-log";
    parent.state = 'S';
    ThreadSnapshot main_thread;
    main_thread.tid = 1001;
    main_thread.ns_tid = 1;
    main_thread.name = "main";
    main_thread.state = 'S';
    main_thread.wchan = "do_wait";
    main_thread.syscall = 61;
    main_thread.wait = WaitKind::child;
    main_thread.untimed = true;
    main_thread.waited_pid = 3;
    ThreadSnapshot worker;
    worker.tid = 1002;
    worker.ns_tid = 2;
    worker.name = "worker";
    worker.state = 'S';
    worker.wchan = "pipe_read";
    worker.syscall = 0;
    worker.wait = WaitKind::pipe;
    worker.untimed = true;
    worker.fd = 4;
    worker.fd_target = "pipe:[4242]";
    worker.cpu_ticks = 12;
    parent.threads = {main_thread, worker};
    ProcessSnapshot child;
    child.pid = 1003;
    child.ns_pid = 3;
    child.ppid = 1001;
    child.comm = "fork-while-log";
    child.state = 'S';
    ThreadSnapshot child_main;
    child_main.tid = 1003;
    child_main.ns_tid = 3;
    child_main.name = "main";
    child_main.state = 'S';
    child_main.wchan = "futex_wait_queue";
    child_main.syscall = 202;
    child_main.wait = WaitKind::futex;
    child_main.untimed = true;
    child_main.futex_address = 0x7f00deadbeef;
    child_main.owner_ns_tid = 2;
    child_main.owner_tid = 0; // the owner does not exist in this process
    child.threads = {child_main};
    snapshot.processes = {parent, child};
    FileLockEntry lock;
    lock.id = 1;
    lock.type = "OFDLCK";
    lock.write = true;
    lock.pid = -1;
    lock.inode = 123456;
    lock.device = "00:2a";
    snapshot.file_locks = {lock};
    r.snapshots = {snapshot};

    ProcessRecord main_process;
    main_process.pid = 1001;
    main_process.ns_pid = 1;
    main_process.role = "main";
    main_process.start_ns = 0;
    main_process.killed_by_runner = true;
    main_process.exit_description = "killed by the runner";
    main_process.output = "worker: working\n";
    main_process.threads = {{1, "main"}, {2, "worker"}};
    ProcessRecord child_process;
    child_process.pid = 1003;
    child_process.ns_pid = 3;
    child_process.parent_ns_pid = 1;
    child_process.role = "child_main";
    child_process.start_method = "fork";
    child_process.start_ns = 5 * kMs;
    child_process.end_ns = 900 * kMs;
    child_process.wait_status = SIGKILL; // raw status of a death by SIGKILL
    child_process.exit_description = "killed by SIGKILL";
    child_process.threads = {{3, "main"}};
    r.processes = {main_process, child_process};

    ThreadStack stack;
    stack.pid = 1003;
    stack.tid = 1003;
    stack.ns_pid = 3;
    stack.ns_tid = 3;
    stack.thread_name = "main";
    stack.frames = {{0x7f0012345678, "__lll_lock_wait", "libc.so.6", 0x4a},
                    {0x55550000abcd, "forklore::probe::Logger::write(char const*)",
                     "fork-while-logging", 0x20},
                    {0xffffffffff600000, "", "", 0}};
    ThreadStack failed;
    failed.pid = 1001;
    failed.tid = 1002;
    failed.ns_pid = 1;
    failed.ns_tid = 2;
    failed.thread_name = "worker";
    failed.error = "ptrace: Operation not permitted";
    r.stacks = {stack, failed};

    r.stdout_text = "hello\n";
    r.stderr_text = "worker: working\n";
    r.stdout_bytes = 6;
    r.stderr_bytes = 734003200;
    r.stderr_dropped = 733954048;
    r.output_truncated = true;
    r.timings = {12.5, 480.25, 512.0, 45.5, 97, 83.5};
    r.sandbox = "pid mount net ipc";
    r.limits.cpu_seconds = 7;
    r.limits.max_tasks = 12;
    r.host = "Linux 6.8 / glibc 2.39";
    return r;
}

// Expects `json` to be refused with a one-line std::runtime_error mentioning `words`.
void require_refused(const json& input, const std::string& words) {
    const std::string text = input.dump();
    INFO("input: " << (text.size() > 120 ? text.substr(0, 120) + "..." : text));
    try {
        (void)run_record_from_json(input);
        FAIL("run_record_from_json accepted a malformed record");
    } catch (const std::runtime_error& error) {
        const std::string message = error.what();
        INFO("message: " << message);
        CHECK_FALSE(message.empty());
        CHECK(message.find('\n') == std::string::npos);
        CHECK_THAT(message, Contains(words, Catch::CaseSensitive::No));
    }
}

} // namespace

TEST_CASE("a run record's JSON has the keys other tools read", "[record]") {
    const RunRecord r = deadlocked_record();
    const json j = to_json(r);

    for (const char* key : {"scenario", "variant", "verdict", "reason", "explanation",
                            "processes", "events", "stacks", "version", "format", "snapshots",
                            "knobs", "expected", "timings", "limits", "event_schema"})
        CHECK(j.contains(key));
    CHECK(j.at("format") == "forklore-run");
    CHECK(j.at("version") == kRunRecordVersion);
    CHECK(j.at("event_schema") == kEventSchemaVersion);
    CHECK(j.at("scenario") == "fork-while-logging");
    CHECK(j.at("variant") == "fork");
    CHECK(j.at("verdict") == "deadlocked");
    CHECK(j.at("reason") == "orphaned_lock");
    CHECK(j.at("explanation") == r.verdict.explanation);
    CHECK(j.at("knobs").at("threads") == "2");
    CHECK(j.at("expected").at("describe") == "deadlocked(orphaned_lock)");

    // Event times are relative to the run's start; kinds are names, not numbers.
    const json& events = j.at("events");
    REQUIRE(events.size() == r.events.size());
    CHECK(events[0].at("kind") == "process_start");
    CHECK(events[0].at("t_ns") == 17);
    CHECK(events[4].at("text") == "worker: working\n");
    CHECK(events[4].at("thread") == "worker");
    CHECK(events[2].at("name") == "logger");

    // The wait-for graph names the orphaned lock's owner.
    const json& edges = j.at("wait_for");
    REQUIRE(edges.size() == 2);
    CHECK(edges[0].at("kind") == "lock");
    CHECK(edges[0].at("owner_thread") == "worker");
    CHECK(edges[0].at("orphaned") == true);

    // Processes are named by the ids the sandbox sees; the host id is kept apart.
    CHECK(j.at("processes")[1].at("pid") == 3);
    CHECK(j.at("processes")[1].at("host_pid") == 1003);
    CHECK(j.at("stacks")[0].at("frames")[0].at("function") == "__lll_lock_wait");

    // The JSON text itself round-trips (what --out writes and the GUI opens).
    CHECK(json::parse(j.dump(2)) == j);
}

TEST_CASE("a run that did not deadlock has a null reason", "[record]") {
    RunRecord r;
    r.scenario = "hello";
    r.verdict.kind = VerdictKind::completed;
    r.verdict.explanation = "Every process exited with code 0.";
    const json j = to_json(r);
    CHECK(j.at("verdict") == "completed");
    CHECK(j.at("reason").is_null());
    CHECK(j.at("expected").is_null());

    const RunRecord back = run_record_from_json(j);
    CHECK(back.verdict.kind == VerdictKind::completed);
    CHECK_FALSE(back.verdict.reason.has_value());
    CHECK_FALSE(back.expected.has_value());
    CHECK(back.events.empty());
    CHECK(back.variant.empty());
}

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
        CHECK(main_process->role == "main");
        CHECK(main_process->killed_by_runner);
        CHECK_FALSE(main_process->wait_status.has_value());
        CHECK(main_process->output == "worker: working\n");
        CHECK(main_process->threads ==
              std::vector<std::pair<pid_t, std::string>>{{1, "main"}, {2, "worker"}});

        const ProcessRecord* child = r.find_process(3);
        REQUIRE(child != nullptr);
        CHECK(child->parent_ns_pid == 1);
        CHECK(child->role == "child_main");
        CHECK(child->start_method == "fork");
        CHECK(child->start_ns == 5 * kMs);
        CHECK(child->end_ns == 900 * kMs);
        REQUIRE(child->wait_status.has_value());
        CHECK(WIFSIGNALED(*child->wait_status));
        CHECK(WTERMSIG(*child->wait_status) == SIGKILL);
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

TEST_CASE("too-long strings in a record are cut to fit an event", "[record]") {
    RunRecord r;
    r.verdict.kind = VerdictKind::completed;
    json j = to_json(r);
    j["events"] = json::array({{{"kind", "note"},
                                {"t_ns", 5},
                                {"thread", std::string(40, 'h')},
                                {"name", std::string(40, 'n')},
                                {"text", std::string(200, 't')}}});
    const RunRecord back = run_record_from_json(j);
    REQUIRE(back.events.size() == 1);
    CHECK(std::string(back.events[0].thread) == std::string(sizeof(Event::thread) - 1, 'h'));
    CHECK(std::string(back.events[0].name) == std::string(sizeof(Event::name) - 1, 'n'));
    CHECK(std::string(back.events[0].text) == std::string(sizeof(Event::text) - 1, 't'));
}

TEST_CASE("records this build cannot read are refused with a one-line error", "[record]") {
    const json good = to_json(deadlocked_record());
    REQUIRE_NOTHROW(run_record_from_json(good));

    SECTION("not an object") {
        require_refused(json::array({1, 2, 3}), "forklore");
        require_refused(json("forklore-run"), "forklore");
        require_refused(json(nullptr), "forklore");
    }
    SECTION("another format") {
        json j = good;
        j["format"] = "chrome-trace";
        require_refused(j, "forklore-run");
        j.erase("format");
        require_refused(j, "forklore-run");
    }
    SECTION("a newer version") {
        json j = good;
        j["version"] = kRunRecordVersion + 1;
        require_refused(j, std::to_string(kRunRecordVersion + 1));
    }
    SECTION("no version") {
        json j = good;
        j.erase("version");
        require_refused(j, "version");
    }
    SECTION("an unknown verdict") {
        json j = good;
        j["verdict"] = "exploded";
        require_refused(j, "exploded");
    }
    SECTION("an unknown deadlock reason") {
        json j = good;
        j["reason"] = "bad_luck";
        require_refused(j, "bad_luck");
    }
    SECTION("an unknown event kind") {
        json j = good;
        j["events"][3]["kind"] = "teleport";
        require_refused(j, "teleport");
    }
    SECTION("an unknown wait kind in a snapshot") {
        json j = good;
        j["snapshots"][0]["processes"][1]["threads"][0]["wait"] = "levitating";
        require_refused(j, "levitating");
    }
    SECTION("a field of the wrong type") {
        json j = good;
        j["events"][0]["pid"] = "one";
        require_refused(j, "run record");
        j = good;
        j["events"] = "none";
        require_refused(j, "run record");
        j = good;
        j["verdict"] = 3;
        require_refused(j, "run record");
    }
    SECTION("a version or format of the wrong type") {
        json j = good;
        j["version"] = "1";
        require_refused(j, "run record");
        j = good;
        j["format"] = 7;
        require_refused(j, "run record");
    }
    SECTION("a stack frame whose pc is not a number") {
        json j = good;
        j["stacks"][0]["frames"][0]["pc"] = "somewhere";
        require_refused(j, "run record");
    }
    SECTION("an empty thread state") {
        json j = good;
        j["snapshots"][0]["processes"][1]["threads"][0]["state"] = "";
        require_refused(j, "run record");
    }
}

TEST_CASE("a scenario's description lists knobs, variants and their expectations", "[record]") {
    Scenario s;
    s.id = "json-test";
    s.number = 990;
    s.group = "tests";
    s.title = "A scenario for the JSON test";
    s.lesson = "Nothing to learn here.";
    s.hidden = true;
    s.knobs = {start_method_knob("method", StartMethod::fork, "how to start the child")};
    Knob threads;
    threads.name = "threads";
    threads.type = KnobType::integer;
    threads.default_value = "2";
    threads.min = 1;
    threads.max = 8;
    s.knobs.push_back(threads);
    Knob flag;
    flag.name = "warm";
    flag.type = KnobType::flag;
    flag.default_value = "off";
    s.knobs.push_back(flag);
    s.variants = {{"fork", "fork hangs", {{"method", "fork"}},
                   Expectation::deadlocks(DeadlockReason::orphaned_lock)},
                  {"racy", "sometimes", {{"threads", "8"}}, Expectation::hang_rate(40, 0.1, 0.9)}};
    s.children["child_main"] = [](const ChildArgs&) { return 0; };

    const json j = scenario_to_json(s);
    CHECK(j.at("id") == "json-test");
    CHECK(j.at("number") == 990);
    CHECK(j.at("hidden") == true);
    REQUIRE(j.at("knobs").size() == 3);
    CHECK(j.at("knobs")[0].at("type") == "choice");
    CHECK(j.at("knobs")[0].at("default") == "fork");
    CHECK(j.at("knobs")[0].at("choices") ==
          json::array({"fork", "fork_exec", "spawn", "forkserver"}));
    CHECK(j.at("knobs")[1].at("type") == "integer");
    CHECK(j.at("knobs")[1].at("min") == 1);
    CHECK(j.at("knobs")[1].at("max") == 8);
    CHECK_FALSE(j.at("knobs")[1].contains("choices"));
    CHECK(j.at("knobs")[2].at("type") == "flag");
    REQUIRE(j.at("variants").size() == 2);
    CHECK(j.at("variants")[0].at("knobs").at("method") == "fork");
    CHECK(j.at("variants")[0].at("expected").at("verdict") == "deadlocked");
    CHECK(j.at("variants")[0].at("expected").at("reason") == "orphaned_lock");
    CHECK(j.at("variants")[1].at("expected").at("racy") == true);
    CHECK(j.at("variants")[1].at("expected").at("runs") == 40);
    CHECK(j.at("children") == json::array({"child_main"}));
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

TEST_CASE("events lost to a full ring or a dying writer are said in plain words", "[record]") {
    RunRecord record;
    record.events = {event(EventKind::note, 1, 2, 2, "main")};
    CHECK(describe_lost_events(record).empty());
    CHECK_FALSE(to_json(record).contains("events_lost"));

    record.dropped_events = 1234;
    std::string text = describe_lost_events(record);
    CHECK_THAT(text, Contains("1234 events were dropped: the event ring was full"));
    CHECK_THAT(text, Contains("1 events kept"));
    CHECK_THAT(text, Contains("the verdict does not depend on it"));
    CHECK(to_json(record).at("events_lost") == text);
    CHECK(to_json(record).at("dropped_events") == 1234);

    record.dropped_events = 1;
    CHECK_THAT(describe_lost_events(record), Contains("1 event was dropped"));

    record.dropped_events = 0;
    record.torn_events = 2;
    CHECK(describe_lost_events(record) ==
          "2 events were torn: a process died while writing them, and they were skipped.");

    // A record read back from JSON says the same.
    record.dropped_events = 7;
    RunRecord back = run_record_from_json(to_json(record));
    CHECK(describe_lost_events(back) == describe_lost_events(record));
}

TEST_CASE("a limit's enforcement and the cgroup's counters survive a round trip, "
          "through the bounded reader too", "[record]") {
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
        const RunRecord back = streamed ? parse_run_record(text) : run_record_from_json(json::parse(text));
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
