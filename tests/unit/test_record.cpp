// The run record's versioned JSON: the keys other tools read, one-line errors for records this
// build cannot read, a scenario's description, lost events in plain words and strings cut to fit.
// The round trips of every part of a record are test_record_round_trip.cpp.
#include "sim/record/record.hpp"

#include "tests/unit/record_builders.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

using namespace forklore;
using namespace forklore::test;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

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

    for (const char* key : {"scenario", "variant", "verdict", "reason", "explanation", "processes",
                            "events", "stacks", "version", "format", "snapshots", "knobs",
                            "expected", "timings", "limits", "event_schema"})
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
    s.variants = {{"fork",
                   "fork hangs",
                   {{"method", "fork"}},
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
