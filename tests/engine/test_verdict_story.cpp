// The verdict tells the whole story, on real runs: why a completed run did not hang (spawn,
// fork_exec, forkserver, atfork, a fork with no lock held), the inherited flock's warning, one
// time origin for the explanation and the event log, one address for a barrier, and the fds of a
// flock one process holds and waits for.
#include "engine_runs.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

using namespace forklore;
using namespace forklore::engine_tests;
using Catch::Matchers::Contains;

namespace {

const Event* first_event(const RunRecord& record, EventKind kind, const char* name = nullptr) {
    auto found = std::find_if(record.events.begin(), record.events.end(), [&](const Event& e) {
        return e.kind == kind && (!name || std::strcmp(e.name, name) == 0);
    });
    return found == record.events.end() ? nullptr : &*found;
}

} // namespace

TEST_CASE("story: file-read-under-lock completes for a reason the trace shows", "[engine][story]") {
    struct Case {
        const char* variant;
        std::vector<const char*> says;
    };
    const Case cases[] = {
        {"spawn",
         {"started from a fresh program (spawn)", "no copy of 'file_lock', held by thread 'reader'",
          "without waiting"}},
        {"fork_exec",
         {"started from a fresh program (fork then exec)",
          "no copy of 'file_lock', held by thread 'reader'", "exec replaced the copy"}},
        {"forkserver",
         {"was forked by the fork server (process 3)", "a copy of the server, not of process 2",
          "thread 'reader' (tid 4) held 'file_lock'", "when it had one thread and held no lock"}},
        {"fork_atfork",
         {"the thread that called fork(), took 'file_lock'", "as pthread_atfork handlers do"}},
        {"fork_no_reader",
         {"made by fork() from process 2", "had one thread", "every such lock it copied was free"}},
    };
    for (const auto& c : cases) {
        RunRecord record = run_variant("file-read-under-lock", c.variant);
        INFO(c.variant << ": " << record.verdict.explanation);
        REQUIRE(record.verdict.kind == VerdictKind::completed);
        CHECK_THAT(record.verdict.explanation, Contains("Why it did not hang: "));
        for (const char* words : c.says)
            CHECK_THAT(record.verdict.explanation, Contains(words));
        CHECK(record.verdict.warnings.empty());
    }
}

TEST_CASE("story: the inherited flock's shared unlock is a warning, found in the trace",
          "[engine][story]") {
    RunRecord record = run_variant("file-locks-across-fork", "flock_inherited");
    INFO(record.verdict.explanation);
    REQUIRE(record.verdict.kind == VerdictKind::completed);
    REQUIRE(record.verdict.warnings.size() == 1);
    const VerdictWarning& warning = record.verdict.warnings.front();
    CHECK(warning.kind == "shared_file_lock");
    CHECK(warning.pid == 2);
    CHECK_THAT(warning.text, Contains("flock 'log_lock'") && Contains("returned at once") &&
                                 Contains("one open file description") &&
                                 Contains("which released the lock of process 2"));
    CHECK_THAT(record.verdict.explanation, Contains("1 warning"));
    // Records keep it.
    RunRecord read = parse_run_record(to_json_text(to_json(record)));
    REQUIRE(read.verdict.warnings.size() == 1);
    CHECK(read.verdict.warnings.front().text == warning.text);

    SECTION("posix_spawn keeps the fd and its open file description: the same hazard") {
        RunRecord spawned = run_variant("file-locks-across-fork", "flock_spawn");
        INFO(spawned.verdict.explanation);
        CHECK(spawned.verdict.kind == VerdictKind::completed);
        CHECK(spawned.verdict.warnings.size() == 1);
    }
}

TEST_CASE("story: the explanation's fork time is the event log's child_start time",
          "[engine][story]") {
    // The orphan can be proven before the parent has recorded child_start (it records it once
    // fork() has returned there): then the explanation names no fork time at all. Such a run says
    // nothing about the clock; another one does.
    RunRecord record;
    for (int attempt = 0; attempt < 5; ++attempt) {
        record = run_variant("file-read-under-lock", "fork");
        if (record.verdict.explanation.find("fork() from process 2 at") != std::string::npos)
            break;
    }
    REQUIRE(record.verdict.kind == VerdictKind::deadlocked);
    REQUIRE_THAT(record.verdict.explanation, Contains("fork() from process 2 at"));
    const Event* made = first_event(record, EventKind::child_start, "read");
    REQUIRE(made);
    // The event log shows t - start_time_ns; the explanation prints one decimal of it.
    const double event_log_ms = static_cast<double>(made->time_ns - record.start_time_ns) / 1e6;
    INFO(record.verdict.explanation);
    CHECK_THAT(record.verdict.explanation,
               Contains(fmt::format("fork() from process 2 at {:.1f} ms", event_log_ms)));
}

TEST_CASE("story: the reader's barrier has one address in the graph, the text and the list",
          "[engine][story]") {
    RunRecord record = run_variant("file-read-under-lock", "fork");
    REQUIRE(record.verdict.kind == VerdictKind::deadlocked);
    const Event* barrier = nullptr;
    for (const auto& e : record.events)
        if (e.kind == EventKind::barrier_wait && std::strcmp(e.name, "finished") == 0 &&
            std::strcmp(e.thread, "reader") == 0)
            barrier = &e;
    REQUIRE(barrier);
    auto edge = std::find_if(record.verdict.wait_for.begin(), record.verdict.wait_for.end(),
                             [](const WaitEdge& e) { return e.lock_name == "finished"; });
    REQUIRE(edge != record.verdict.wait_for.end());
    CHECK(edge->address == barrier->object);
    CHECK(edge->futex_address != 0);
    CHECK(edge->futex_address >= edge->address);
    const std::string address = fmt::format("{:#x}", barrier->object);
    CHECK_THAT(edge->description, Contains(address));
    CHECK_THAT(record.verdict.explanation, Contains(address));
    auto reader = std::find_if(record.verdict.stuck.begin(), record.verdict.stuck.end(),
                               [](const ThreadState& t) { return t.name == "reader"; });
    REQUIRE(reader != record.verdict.stuck.end());
    CHECK_THAT(reader->wait, Contains("barrier 'finished' at " + address));
}

TEST_CASE("story: a process that holds the flock through one fd and waits through another",
          "[engine][story]") {
    RunRecord record = run_variant("file-locks-across-fork", "flock_reopened");
    INFO(record.verdict.explanation);
    REQUIRE(record.verdict.kind == VerdictKind::deadlocked);
    auto edge = std::find_if(record.verdict.wait_for.begin(), record.verdict.wait_for.end(),
                             [](const WaitEdge& e) { return e.kind == WaitEdge::Kind::file_lock; });
    REQUIRE(edge != record.verdict.wait_for.end());
    // The worker reopened the file as fd 5 and waits through it; the fd 4 it inherited shares the
    // parent's open file description, which holds the lock.
    const Event* wait = first_event(record, EventKind::file_lock_wait);
    REQUIRE(wait);
    CHECK(edge->waiter_pid == 3);
    const Event* worker_wait = nullptr;
    for (const auto& e : record.events)
        if (e.kind == EventKind::file_lock_wait && e.pid == 3)
            worker_wait = &e;
    REQUIRE(worker_wait);
    CHECK(edge->waiter_fd == static_cast<int>(worker_wait->object));
    CHECK(edge->owner_pid == 2);
    const int parent_fd = static_cast<int>(wait->object);
    CHECK(std::count(edge->holding_fds.begin(), edge->holding_fds.end(),
                     WaitEdge::HoldingFd{2, parent_fd}) == 1);
    CHECK(std::count(edge->holding_fds.begin(), edge->holding_fds.end(),
                     WaitEdge::HoldingFd{3, parent_fd}) == 1);
    CHECK_THAT(edge->description,
               Contains(fmt::format("waits through fd {}", edge->waiter_fd)) &&
                   Contains(fmt::format("which its own process 3 holds through fd {}", parent_fd)));
}
