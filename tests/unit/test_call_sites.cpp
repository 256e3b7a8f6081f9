// Where events were recorded: each probe's CallSite names the caller's line, in a path relative
// to the source tree; the channel keeps the paths; run records carry "file" and "line" through
// both readers; records of event schema 2 (no locations) still open.
#include "sim/probe/probe.hpp"
#include "sim/probe/probe_locks.hpp"
#include "sim/protocol/channel.hpp"
#include "sim/record/record.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace forklore;
using nlohmann::json;

namespace {

// This file as the probes name it: relative to the source tree, whatever the clone's path.
constexpr const char* kThisFile = "tests/unit/test_call_sites.cpp";

// Installs a fresh channel for the probes of this thread's test, and takes it away after.
struct InstalledChannel {
    Channel channel = Channel::create(1024);
    InstalledChannel() { probe::install_channel(&channel); }
    ~InstalledChannel() { probe::install_channel(nullptr); }
    std::vector<Event> events() {
        std::vector<Event> out;
        std::uint64_t cursor = 0;
        channel.read(cursor, out, true);
        return out;
    }
};

Event located_event(const char* path, std::uint32_t line, const char* text) {
    Event e{};
    e.committed = 1;
    e.kind = EventKind::note;
    e.time_ns = 1'000'000;
    e.pid = 2;
    e.tid = 2;
    copy_name(e.thread, "main");
    copy_name(e.text, text);
    e.file = path ? source_file_id(path) : 0;
    e.line = line;
    return e;
}

} // namespace

TEST_CASE("a probe records its caller's file, relative to the source tree, and line",
          "[call_site]") {
    InstalledChannel installed;
    const std::uint32_t note_line = __LINE__ + 1;
    probe::note("here");
    probe::Mutex mutex("m");
    const std::uint32_t lock_line = __LINE__ + 1;
    mutex.lock();
    const std::uint32_t unlock_line = __LINE__ + 1;
    mutex.unlock();

    const std::vector<Event> events = installed.events();
    REQUIRE(events.size() == 3);
    for (const Event& e : events)
        CHECK(e.file == source_file_id(kThisFile));
    CHECK(events[0].kind == EventKind::note);
    CHECK(events[0].line == note_line);
    CHECK(events[1].kind == EventKind::lock_acquired);
    CHECK(events[1].line == lock_line);
    CHECK(events[2].kind == EventKind::lock_released);
    CHECK(events[2].line == unlock_line);
}

TEST_CASE("a guard names the line it was made at for its lock and its release", "[call_site]") {
    InstalledChannel installed;
    probe::Mutex mutex("m");
    const std::uint32_t guard_line = __LINE__ + 1;
    { probe::LockGuard guard(mutex); }
    probe::StdMutex std_mutex("s");
    const std::uint32_t std_guard_line = __LINE__ + 1;
    { probe::LockGuard guard(std_mutex); }

    const std::vector<Event> events = installed.events();
    REQUIRE(events.size() == 4);
    CHECK(events[0].kind == EventKind::lock_acquired);
    CHECK(events[1].kind == EventKind::lock_released);
    CHECK(events[0].line == guard_line);
    CHECK(events[1].line == guard_line);
    CHECK(events[2].line == std_guard_line);
    CHECK(events[3].line == std_guard_line);
    for (const Event& e : events)
        CHECK(e.file == source_file_id(kThisFile));
}

TEST_CASE("the channel's table names each file once, by the id events carry", "[call_site]") {
    InstalledChannel installed;
    probe::note("one");
    probe::note("two");
    const auto files = installed.channel.source_files();
    REQUIRE(files.size() == 1);
    CHECK(files[0].first == source_file_id(kThisFile));
    CHECK(files[0].second == kThisFile);

    SECTION("noting again finds the entry; another path takes another") {
        CHECK(installed.channel.note_source_file(source_file_id(kThisFile), kThisFile));
        CHECK(installed.channel.note_source_file(source_file_id("scenarios/x.cpp"),
                                                 "scenarios/x.cpp"));
        CHECK(installed.channel.source_files().size() == 2);
    }
    SECTION("a new channel starts empty, even for a thread that noted the file before") {
        InstalledChannel second;
        probe::note("three");
        REQUIRE(second.channel.source_files().size() == 1);
        CHECK(second.channel.source_files()[0].second == kThisFile);
    }
    SECTION("engine events have no location") {
        probe::record(EventKind::note, 0, 0, 0, nullptr, "engine", CallSite::unknown());
        const std::vector<Event> events = installed.events();
        CHECK(events.back().file == 0);
        CHECK(events.back().line == 0);
    }
}

TEST_CASE("a record's events keep their file and line through both readers", "[call_site]") {
    RunRecord r;
    r.scenario = "file-read-under-lock";
    r.verdict.kind = VerdictKind::completed;
    r.start_time_ns = 0;
    r.events = {located_event("scenarios/010_file_read_under_lock.cpp", 57, "located"),
                located_event(nullptr, 0, "engine's own")};
    r.source_files[source_file_id("scenarios/010_file_read_under_lock.cpp")] =
        "scenarios/010_file_read_under_lock.cpp";

    const json j = to_json(r);
    CHECK(j["events"][0]["file"] == "scenarios/010_file_read_under_lock.cpp");
    CHECK(j["events"][0]["line"] == 57);
    CHECK_FALSE(j["events"][1].contains("file"));
    CHECK_FALSE(j["events"][1].contains("line"));

    const std::string text = to_json_text(j);
    const bool streamed = GENERATE(false, true);
    INFO((streamed ? "parse_run_record" : "run_record_from_json"));
    const RunRecord back =
        streamed ? parse_run_record(text) : run_record_from_json(json::parse(text));
    REQUIRE(back.events.size() == 2);
    REQUIRE(back.source_file(back.events[0]) != nullptr);
    CHECK(*back.source_file(back.events[0]) == "scenarios/010_file_read_under_lock.cpp");
    CHECK(back.events[0].line == 57);
    CHECK(back.source_file(back.events[1]) == nullptr);
    CHECK(back.events[1].line == 0);
    // And written again, the same.
    CHECK(to_json(back)["events"] == j["events"]);
}

TEST_CASE("a record of event schema 2, without locations, still opens", "[call_site]") {
    const std::string schema2 = R"({
      "format": "forklore-run", "version": 1, "event_schema": 2,
      "scenario": "file-read-under-lock", "variant": "fork", "knobs": {},
      "verdict": "completed", "reason": null, "explanation": "", "start_time_ns": 1000,
      "events": [
        {"seq": 0, "t_ns": 5, "kind": "note", "pid": 2, "tid": 2, "thread": "main",
         "text": "an old note, from before events had lines"},
        {"seq": 1, "t_ns": 9, "kind": "lock_acquired", "pid": 2, "tid": 3, "thread": "reader",
         "object": 4096, "name": "file_lock"}
      ],
      "snapshots": [], "processes": [], "stacks": []
    })";
    const bool streamed = GENERATE(false, true);
    INFO((streamed ? "parse_run_record" : "run_record_from_json"));
    const RunRecord r =
        streamed ? parse_run_record(schema2) : run_record_from_json(json::parse(schema2));
    CHECK(r.event_schema == 2);
    REQUIRE(r.events.size() == 2);
    CHECK(std::string(r.events[0].text) == "an old note, from before events had lines");
    for (const Event& e : r.events) {
        CHECK(e.file == 0);
        CHECK(e.line == 0);
        CHECK(r.source_file(e) == nullptr);
    }
    CHECK(r.source_files.empty());
}

TEST_CASE("a bad location in a record is a one-line error", "[call_site]") {
    RunRecord r;
    r.verdict.kind = VerdictKind::completed;
    json j = to_json(r);
    j["events"] = json::array({{{"kind", "note"}, {"t_ns", 5}, {"file", 7}}});
    CHECK_THROWS_WITH(run_record_from_json(j), Catch::Matchers::Contains("events[0].file"));
    j["events"] = json::array({{{"kind", "note"}, {"t_ns", 5}, {"file", "a.cpp"}, {"line", -1}}});
    CHECK_THROWS_WITH(run_record_from_json(j), Catch::Matchers::Contains("events[0].line"));
    j["events"] = json::array(
        {{{"kind", "note"}, {"t_ns", 5}, {"file", std::string(5000, 'p')}, {"line", 1}}});
    CHECK_THROWS_WITH(run_record_from_json(j), Catch::Matchers::Contains("events[0].file"));
}
