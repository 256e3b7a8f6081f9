// Run records from outside: files and text nobody checked (a classmate's file, a truncated
// download, a fuzzer's bytes). Each is refused with one line saying what and where, within the
// bounds of RecordLimits, and never crashes: not on 100,000 nested lists, not on a number no
// field can hold, not on a FIFO or /dev/zero given as the file.
//
// Index of this file:
// [SECTION] Records to refuse, and where to write them
// [SECTION] Nesting and the bounds of RecordLimits
// [SECTION] Fields of the wrong type or range, text that is not a record
// [SECTION] The streaming parse, text cut to fit, files
#include "sim/record/record.hpp"
#include "sim/record/user_file.hpp"

#include "sim/protocol/channel.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using namespace forklore;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using nlohmann::json;
namespace fs = std::filesystem;

//-----------------------------------------------------------------------------
// [SECTION] Records to refuse, and where to write them
//-----------------------------------------------------------------------------

namespace {

// A small but complete record: events, a snapshot with a blocked thread, processes, a stack and
// a wait-for edge, so that every list a hostile file could abuse is there.
RunRecord small_record() {
    RunRecord r;
    r.scenario = "file-read-under-lock";
    r.variant = "fork";
    r.knobs = {{"start_method", "fork"}};
    r.start_time_ns = 1'000'000'000;
    r.verdict.kind = VerdictKind::deadlocked;
    r.verdict.reason = DeadlockReason::orphaned_lock;
    r.verdict.explanation = "Thread 'main' waits forever.";
    WaitEdge edge;
    edge.kind = WaitEdge::Kind::lock;
    edge.waiter_pid = 4;
    edge.owner_pid = 2;
    r.verdict.wait_for = {edge};
    r.verdict.stuck = {{4, 4, "main", "waits on the private futex at 0x10"}};
    for (int i = 0; i < 4; ++i) {
        Event e{};
        e.committed = 1;
        e.kind = i == 0 ? EventKind::process_start : EventKind::note;
        e.seq = static_cast<std::uint64_t>(i);
        e.time_ns = r.start_time_ns + i * 1000;
        e.pid = 2;
        e.tid = 2;
        copy_name(e.thread, "main");
        copy_name(e.text, "step");
        r.events.push_back(e);
    }
    Snapshot snapshot;
    snapshot.time_ns = r.start_time_ns + 5000;
    ProcessSnapshot process;
    process.pid = 1002;
    process.ns_pid = 2;
    process.state = 'S';
    ThreadSnapshot thread;
    thread.tid = 1002;
    thread.ns_tid = 2;
    thread.name = "main";
    thread.state = 'S';
    thread.wait = WaitKind::futex;
    process.threads = {thread};
    snapshot.processes = {process};
    r.snapshots = {snapshot, snapshot};
    ProcessRecord main_process;
    main_process.ns_pid = 2;
    main_process.role = ProcessRole::main;
    main_process.name = "main";
    main_process.threads = {{2, "main"}};
    r.processes = {main_process};
    ThreadStack stack;
    stack.ns_pid = 4;
    stack.ns_tid = 4;
    stack.frames = {{0x7f0012345678, "__lll_lock_wait", "libc.so.6", 0x4a}};
    r.stacks = {stack};
    return r;
}

json small_json() {
    return to_json(small_record());
}

// Expects `text` to be refused by parse_run_record with a one-line RecordError that contains
// `words`; returns the message.
std::string refused(const std::string& text, const std::string& words,
                    const RecordLimits& limits = {}) {
    INFO("input: " << (text.size() > 160 ? text.substr(0, 160) + "..." : text));
    try {
        (void)parse_run_record(text, limits);
    } catch (const RecordError& error) {
        const std::string message = error.what();
        INFO("message: " << message);
        CHECK(message.find('\n') == std::string::npos);
        CHECK_THAT(message, Contains(words));
        return message;
    }
    FAIL("parse_run_record accepted it");
    return {};
}

std::string refused_value(const json& value, const std::string& words) {
    return refused(value.dump(), words);
}

// A minimal record whose `key` holds lists nested `depth` deep: [[[...]]].
std::string nested_record(const std::string& key, std::size_t depth) {
    return R"({"format":"forklore-run","version":1,"verdict":"completed",")" + key +
           "\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
}

// A private directory for files the tests write, removed at the end.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "forklore-reader-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() { fs::remove_all(path); }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

} // namespace

//-----------------------------------------------------------------------------
// [SECTION] Nesting and the bounds of RecordLimits
//-----------------------------------------------------------------------------

TEST_CASE("a record's lists nested 100,000 deep are refused in one line, not a stack overflow",
          "[record][reader]") {
    // The keys named when the GUI died with SIGSEGV in a recursive copy; 50,000 was survived.
    const std::string key = GENERATE("events", "snapshots", "processes", "stacks", "wait_for");
    const std::size_t depth = GENERATE(100'000, 50'000, 33);
    INFO(key << " nested " << depth << " deep");
    const auto started = std::chrono::steady_clock::now();
    // The events and snapshots are converted element by element: a list where an element should
    // be is refused as soon as it starts. The other lists are refused by the depth bound.
    const bool streamed = key == "events" || key == "snapshots";
    const std::string message = refused(nested_record(key, depth),
                                        streamed ? key + "[0]: must be an object"
                                                 : "arrays and objects nested more than 32 deep");
    CHECK_THAT(message, StartsWith("run record: "));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
    // Inside an element, the depth bound is what stops it.
    if (streamed) {
        const std::string inside =
            R"({"format":"forklore-run","version":1,"verdict":"completed",")" + key +
            "\":[{\"x\":" + std::string(depth, '[') + std::string(depth, ']') + "}]}";
        refused(inside, "arrays and objects nested more than 32 deep");
    }
}

TEST_CASE("nesting up to the bound is read, one more level is refused", "[record][reader]") {
    // An unknown key may hold anything (newer builds add fields), within the depth bound: the
    // record's own object is one level, so its value may nest 31.
    json record = small_json();
    std::string text = record.dump();
    text.insert(text.size() - 1, ",\"future\":" + std::string(31, '[') + std::string(31, ']'));
    CHECK_NOTHROW(parse_run_record(text));
    text = record.dump();
    text.insert(text.size() - 1, ",\"future\":" + std::string(32, '[') + std::string(32, ']'));
    refused(text, "nested more than 32 deep");
    // Objects count as much as lists.
    std::string objects;
    for (int i = 0; i < 40; ++i)
        objects += "{\"a\":";
    objects += "1" + std::string(40, '}');
    text = record.dump();
    text.insert(text.size() - 1, ",\"future\":" + objects);
    refused(text, "nested more than 32 deep");
}

TEST_CASE("a parsed JSON value nested 100,000 deep is refused too", "[record][reader]") {
    // run_record_from_json reads only the fields it knows, by reference: nothing recurses into
    // a value it was given, however deep.
    const std::string key = GENERATE("events", "snapshots", "processes", "stacks", "wait_for");
    const json value = json::parse(nested_record(key, 100'000));
    try {
        (void)run_record_from_json(value);
        FAIL("accepted");
    } catch (const RecordError& error) {
        CHECK_THAT(std::string(error.what()), Contains("run record: " + key + "[0]"));
        CHECK_THAT(std::string(error.what()), Contains("must be an object (got a list)"));
    }
}

TEST_CASE("bounds of RecordLimits: events, values per event, objects, values, bytes",
          "[record][reader]") {
    const std::string text = small_json().dump();
    CHECK_NOTHROW(parse_run_record(text));
    RecordLimits limits;
    SECTION("events") {
        limits.max_events = 4;
        CHECK(parse_run_record(text, limits).events.size() == 4);
        limits.max_events = 3;
        refused(text, "more than 3 events", limits);
    }
    SECTION("values in one event") {
        json record = small_json();
        for (int i = 0; i < 40; ++i)
            record["events"][2]["extra" + std::to_string(i)] = i;
        refused(record.dump(), "events[2] holds more than 64 values");
    }
    SECTION("objects and values besides the events") {
        limits.max_objects = 5;
        refused(text, "more than 5 JSON objects besides the events", limits);
        limits = {};
        limits.max_values = 50;
        refused(text, "more than 50 JSON values besides the events", limits);
    }
    SECTION("bytes") {
        limits.max_bytes = text.size() - 1;
        refused(text, "larger than", limits);
        limits.max_bytes = text.size();
        CHECK_NOTHROW(parse_run_record(text, limits));
    }
    SECTION("the default bound on events: twice what one run's channel holds") {
        CHECK(RecordLimits{}.max_events == 2 * Channel::kDefaultCapacity);
        std::string many =
            R"({"format":"forklore-run","version":1,"verdict":"completed","events":[)";
        const std::string one = R"({"kind":"note"},)";
        many.reserve(many.size() + one.size() * (RecordLimits{}.max_events + 1));
        for (std::size_t i = 0; i <= RecordLimits{}.max_events; ++i)
            many += one;
        many.back() = ']';
        many += '}';
        refused(many, "more than " + std::to_string(RecordLimits{}.max_events) + " events");
    }
}

TEST_CASE("half a million small objects are read or refused in linear time", "[record][reader]") {
    // nlohmann's callback parser scanned the enclosing array after every object: 500,000 threads
    // in one snapshot took a minute. Within the bound they are read, past it refused, quickly.
    auto threads = [](std::size_t count) {
        std::string text = R"({"format":"forklore-run","version":1,"verdict":"completed",)"
                           R"("snapshots":[{"processes":[{"threads":[)";
        for (std::size_t i = 0; i < count; ++i)
            text += i ? ",{}" : "{}";
        return text + "]}]}]}";
    };
    auto started = std::chrono::steady_clock::now();
    const RunRecord r = parse_run_record(threads(RecordLimits{}.max_objects - 3));
    CHECK(r.snapshots.at(0).processes.at(0).threads.size() ==
          RecordLimits{}.max_objects - 3); // the record, the snapshot and the process are 3 more
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
    started = std::chrono::steady_clock::now();
    refused(threads(500'000), "more than 262144 JSON objects besides the events");
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
}

//-----------------------------------------------------------------------------
// [SECTION] Fields of the wrong type or range, text that is not a record
//-----------------------------------------------------------------------------

TEST_CASE("fields of the wrong type or range are refused with where they are", "[record][reader]") {
    SECTION("a number no pid can hold, a fraction, a string") {
        json record = small_json();
        record["events"][1]["pid"] = 1e20;
        refused_value(record,
                      "run record: events[1].pid: must be a whole number from -2147483648 to "
                      "2147483647 (got 1e+20)");
        record["events"][1]["pid"] = 1LL << 40;
        refused_value(record, "events[1].pid: must be a whole number");
        record["events"][1]["pid"] = 1.5;
        refused_value(record, "events[1].pid: must be a whole number");
        record["events"][1]["pid"] = "2";
        refused_value(record, "events[1].pid: must be a whole number");
    }
    SECTION("a negative count") {
        json record = small_json();
        record["dropped_events"] = -1;
        refused_value(record, "dropped_events: must be a whole number from 0 to");
    }
    SECTION("times beyond 104 days of the start, which the GUI's arithmetic could overflow") {
        // Found by hand for the fuzzer: a process living from -2^63 to 2^63 made the timeline's
        // hit test overflow (UBSan), and 1e300 ms made the timeline's end a float overflow.
        json record = small_json();
        record["start_time_ns"] = std::numeric_limits<std::int64_t>::max();
        refused_value(record, "run record: start_time_ns: must be a whole number from 0 to "
                              "4611686018427387904 (got 9223372036854775807)");
        record["start_time_ns"] = -1;
        refused_value(record, "start_time_ns: must be a whole number from 0 to");
        record = small_json();
        record["events"][0]["t_ns"] = (1LL << 53) + 1;
        refused_value(record, "events[0].t_ns: must be within 9007199254740992 ns (104 days) of "
                              "the run's start (got 9007199254740993)");
        record = small_json();
        record["snapshots"][1]["t_ns"] = std::numeric_limits<std::int64_t>::min();
        refused_value(record, "snapshots[1].t_ns: must be within");
        record = small_json();
        record["processes"][0]["start_ns"] = -(1LL << 62);
        refused_value(record, "processes[0].start_ns: must be within");
        record = small_json();
        record["processes"][0]["execs"] = json::array({{{"t_ns", 1LL << 60}}});
        refused_value(record, "processes[0].execs[0].t_ns: must be within");
        record = small_json();
        record["timings"]["verdict_ms"] = 1e300;
        refused_value(record, "timings.verdict_ms: must be within 104 days (got 1e+300)");
        // At the bounds: read, and the times come out exact.
        record = small_json();
        record["start_time_ns"] = 1LL << 62;
        record["events"][0]["t_ns"] = 1LL << 53;
        record["events"][1]["t_ns"] = -(1LL << 53);
        const RunRecord r = parse_run_record(record.dump());
        CHECK(r.events[0].time_ns == (1LL << 62) + (1LL << 53));
        CHECK(r.events[1].time_ns == (1LL << 62) - (1LL << 53));
    }
    SECTION("a number too large to be finite") {
        std::string text = small_json().dump();
        const std::string timings = "\"setup_ms\":";
        text.insert(text.find(timings) + timings.size(), "1e999,\"x\":");
        refused(text, "not JSON: number overflow parsing '1e999'");
        // A JSON value made in memory can hold one; it could not be written back.
        json record = small_json();
        record["timings"]["setup_ms"] = std::numeric_limits<double>::infinity();
        CHECK_THROWS_WITH(run_record_from_json(record),
                          "run record: timings.setup_ms: must be a finite number (got null)");
    }
    SECTION("deep in a snapshot") {
        json record = small_json();
        record["snapshots"][1]["processes"][0]["threads"][0]["state"] = "";
        refused_value(record, "run record: snapshots[1].processes[0].threads[0].state: must be one "
                              "character");
        record = small_json();
        record["snapshots"][0]["processes"][0]["threads"][0]["wait"] = "levitating";
        refused_value(record,
                      "snapshots[0].processes[0].threads[0].wait: unknown wait 'levitating'");
    }
    SECTION("lists and objects where they are not") {
        json record = small_json();
        record["events"] = "none";
        refused_value(record, "run record: events: must be a list (got \"none\")");
        record["events"] = json::array({5});
        refused_value(record, "run record: events[0]: must be an object");
        record = small_json();
        record["snapshots"] = json::array({json::array()});
        refused_value(record, "run record: snapshots[0]: must be an object");
        record = small_json();
        record["processes"] = json::object();
        refused_value(record, "run record: processes: must be a list (got an object)");
        record = small_json();
        record["knobs"] = json::object({{"start_method", 1}});
        refused_value(record, "run record: knobs.start_method: must be a string (got 1)");
        record = small_json();
        record["timings"] = json::array();
        refused_value(record, "run record: timings: must be an object");
    }
    SECTION("a stack pc that is not hexadecimal") {
        json record = small_json();
        record["stacks"][0]["frames"][0]["pc"] = "-1";
        refused_value(record, "stacks[0].frames[0].pc: must be a hexadecimal address (got \"-1\")");
        record["stacks"][0]["frames"][0]["pc"] = "0x";
        refused_value(record, "must be a hexadecimal address");
        record["stacks"][0]["frames"][0]["pc"] = "0x10000000000000000";
        refused_value(record, "must be a hexadecimal address");
        record["stacks"][0]["frames"][0]["pc"] = "7f00";
        CHECK(parse_run_record(record.dump()).stacks[0].frames[0].pc == 0x7f00);
    }
    SECTION("text with a newline in it stays on one line") {
        json record = small_json();
        record["events"][0]["kind"] = "tele\nport";
        refused_value(record, "unknown event kind 'tele\\nport'");
    }
}

TEST_CASE("text that is not a run record: empty, truncated, garbage, another JSON",
          "[record][reader]") {
    const std::string text = to_json_text(small_json());
    refused("", "not JSON: empty");
    refused(" \n\t ", "not JSON: empty");
    for (std::size_t cut : {std::size_t{1}, text.size() / 3, text.size() / 2, text.size() - 2}) {
        INFO("cut at " << cut);
        const std::string message = refused(text.substr(0, cut), "not JSON: ");
        CHECK_THAT(message, Contains("parse error"));
        CHECK_THAT(message, !Contains("json.exception")); // nlohmann's id is not for people
    }
    std::string garbage;
    for (int i = 0; i < 4096; ++i)
        garbage += static_cast<char>((i * 7919 + 13) % 256);
    refused(garbage, "not JSON");
    refused("{\"format\":\"forklore-run\",\"scenario\":\"\xff\xfe\"}", "not JSON");
    refused("[1, 2, 3]", "not a run record (no \"format\": \"forklore-run\")");
    refused("\"forklore-run\"", "not a run record");
    refused("{\"format\":\"forklore-run\"}", "run record: no version");
    refused("{\"format\":\"forklore-run\",\"version\":99}",
            "run record version 99 is not supported");
}

//-----------------------------------------------------------------------------
// [SECTION] The streaming parse, text cut to fit, files
//-----------------------------------------------------------------------------

TEST_CASE("the streaming parse reads what a JSON value would", "[record][reader]") {
    json record = small_json();
    SECTION("a key given twice: the last one counts, as in a JSON object") {
        std::string text = record.dump();
        text.insert(1, R"("events":[{"kind":"exec"}],)");
        text.insert(1, R"("snapshots":[],)");
        const RunRecord streamed = parse_run_record(text);
        const RunRecord parsed = run_record_from_json(json::parse(text));
        CHECK(streamed.events.size() == parsed.events.size());
        CHECK(streamed.snapshots.size() == parsed.snapshots.size());
        CHECK(to_json(streamed) == to_json(parsed));
        // Replaced by a value of another type: refused, as the JSON value would be.
        for (const char* key : {"events", "snapshots", "stdout"}) {
            std::string again = record.dump();
            again.insert(again.size() - 1, std::string(",\"") + key + "\":5");
            CHECK_THROWS_AS(run_record_from_json(json::parse(again)), RecordError);
            refused(again, std::string("run record: ") + key + ": must be a");
        }
    }
    SECTION("events and snapshots given as something else are read as the value would be") {
        record["events"] = json::object();
        CHECK_THROWS_AS(parse_run_record(record.dump()), RecordError);
        record = small_json();
        record.erase("events");
        record.erase("snapshots");
        const RunRecord r = parse_run_record(record.dump());
        CHECK(r.events.empty());
        CHECK(r.snapshots.empty());
    }
}

TEST_CASE("event text cut to fit is cut between characters, and can be written again",
          "[record][reader]") {
    json record = small_json();
    record["events"][0]["thread"] =
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"; // 8 x é
    const RunRecord r = parse_run_record(record.dump());
    // 16 bytes of room, 15 for text: seven whole é, not seven and a half.
    CHECK(std::string(r.events[0].thread) ==
          "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    CHECK_NOTHROW(to_json(r).dump()); // strict UTF-8: it would throw on half a character
}

TEST_CASE("records are written even with text that is not UTF-8", "[record][reader]") {
    RunRecord r = small_record();
    r.snapshots[0].processes[0].threads[0].name = "worker-\xc3"; // comm cut by the kernel
    const std::string text = to_json_text(to_json(r));
    CHECK(text.back() == '\n');
    CHECK_THAT(text, Contains("worker-\xef\xbf\xbd")); // U+FFFD
    CHECK(parse_run_record(text).snapshots[0].processes[0].threads[0].name ==
          "worker-\xef\xbf\xbd");
}

TEST_CASE("record files: only a regular file, within the size bound", "[record][reader][file]") {
    TempDir dir;
    const std::string good = dir.file("good.json");
    write_text(good, to_json_text(small_json()));
    CHECK(load_run_record_file(good).events.size() == 4);

    auto refused_file = [](const std::string& path, const std::string& words,
                           const RecordLimits& limits = {}) {
        try {
            (void)load_run_record_file(path, limits);
            FAIL("accepted " << path);
        } catch (const std::runtime_error& error) { // RecordError or UserFileError
            const std::string message = error.what();
            INFO(message);
            CHECK(message.find('\n') == std::string::npos);
            CHECK_THAT(message, Contains(path));
            CHECK_THAT(message, Contains(words));
        }
    };
    SECTION("missing") {
        refused_file(dir.file("missing.json"), "cannot open");
    }
    SECTION("a directory") {
        refused_file(dir.path.string(), "it is a directory, not a regular file");
    }
    SECTION("a FIFO with no writer: refused at once, not waited on") {
        const std::string fifo = dir.file("fifo");
        REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
        refused_file(fifo, "it is a FIFO (named pipe), not a regular file");
    }
    SECTION("/dev/zero, which never ends") {
        refused_file("/dev/zero", "it is a character device, not a regular file");
    }
    SECTION("empty") {
        const std::string empty = dir.file("empty.json");
        write_text(empty, "");
        refused_file(empty, "is empty: not a run record");
    }
    SECTION("larger than the bound") {
        RecordLimits limits;
        limits.max_bytes = 100;
        refused_file(good, "is larger than 100 bytes, the most a run record may be", limits);
    }
    SECTION("truncated") {
        const std::string text = to_json_text(small_json());
        const std::string truncated = dir.file("truncated.json");
        write_text(truncated, text.substr(0, text.size() / 2));
        refused_file(truncated, "not JSON: parse error");
    }
    SECTION("through a symbolic link: read, as any reader would") {
        const std::string link = dir.file("link.json");
        fs::create_symlink(good, link);
        CHECK(load_run_record_file(link).events.size() == 4);
    }
    SECTION("unreadable") {
        if (geteuid() == 0) {
            WARN("root reads any file: not checked here");
            return;
        }
        REQUIRE(chmod(good.c_str(), 0) == 0);
        refused_file(good, "Permission denied");
    }
}
