// The exports of a run record (sim/export) on records built here: the SVG timeline is
// well-formed XML with a lane per thread, the Chrome trace keeps the trace event format's rules
// (tests/unit/export_checks.hpp), the Markdown report says the verdict and why; and the text a
// program chose for its names (markup characters, bytes that are not UTF-8) never breaks any of
// them. Real runs are exported in tests/engine/test_exports.cpp and through the CLI in
// tests/cli/test_cli_export.cpp.
#include "sim/export/chrome_trace.hpp"
#include "sim/export/export.hpp"
#include "sim/export/markdown_report.hpp"
#include "sim/export/record_text.hpp"
#include "sim/export/svg_timeline.hpp"
#include "sim/export/xml_text.hpp"
#include "tests/unit/export_checks.hpp"
#include "tests/unit/record_builders.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <set>

namespace {

using namespace forklore;
using namespace forklore::test;
using nlohmann::json;

// The events of `trace` with this "ph", and this name when one is given.
std::vector<json> events_of(const json& trace, std::string_view ph, std::string_view name = "") {
    std::vector<json> found;
    for (const json& event : trace.at("traceEvents"))
        if (event.at("ph") == ph && (name.empty() || event.at("name") == name))
            found.push_back(event);
    return found;
}

// deadlocked_record() with the names a hostile or careless program could choose: markup
// characters in a thread, a lock and a process name, and a byte that is not UTF-8.
RunRecord record_with_markup_names() {
    RunRecord record = deadlocked_record();
    for (Event& e : record.events) {
        if (field_text(e.thread) == "worker")
            copy_name(e.thread, "w<&\"'>\xff");
        if (field_text(e.name) == "logger")
            copy_name(e.name, "log<&\"'>lock");
    }
    record.processes[0].threads = {{1, "main"}, {2, "w<&\"'>\xff"}};
    // A thread name may hold a newline (prctl allows it): it must not end a heading or an item.
    record.verdict.stuck = {{3, 3, "two\nlines", "waits for lock 'log<&\"'>lock'"}};
    record.processes[1].name = "child<b>";
    record.verdict.explanation = "Process 3 waits for lock 'log<&\"'>lock' <script>.";
    return record;
}

} // namespace

TEST_CASE("xml_escape makes any bytes valid XML text", "[export]") {
    CHECK(xml_escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
    CHECK(xml_escape("tab\tline\nbell\x07") == "tab\tline\nbell ");
    // A stray byte, a cut sequence, a surrogate, U+FFFF: U+FFFD each.
    CHECK(xml_escape("x\xffy") == "x\xEF\xBF\xBDy");
    CHECK(xml_escape("\xE2\x82") == "\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(xml_escape("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(xml_escape("\xEF\xBF\xBF") == "\xEF\xBF\xBD");
    CHECK(xml_escape("caf\xC3\xA9 \xE2\x86\x92") == "caf\xC3\xA9 \xE2\x86\x92"); // kept
    CHECK(valid_utf8("ok\xC0\xAF") == "ok\xEF\xBF\xBD\xEF\xBF\xBD");             // an overlong '/'
    CHECK(xml_problem("<a x=\"" + xml_escape("\x01<&>\xfe") + "\">" + xml_escape("]]>&") +
                      "</a>") == "");
}

TEST_CASE("the XML check refuses what a parser refuses", "[export]") {
    CHECK(xml_problem("<a><b/></a>") == "");
    CHECK(xml_problem("<?xml version=\"1.0\"?>\n<a x='1' y=\"2\">t &amp; &#60;</a>\n") == "");
    CHECK_FALSE(xml_problem("<a><b></a>").empty());
    CHECK_FALSE(xml_problem("<a>x < y</a>").empty());
    CHECK_FALSE(xml_problem("<a>fish & chips</a>").empty());
    CHECK_FALSE(xml_problem("<a x=\"1\" x=\"2\"/>").empty());
    CHECK_FALSE(xml_problem("<a/><b/>").empty());
    CHECK_FALSE(xml_problem("<a>\xff</a>").empty());
}

TEST_CASE("an export is written beside its record by default", "[export]") {
    CHECK(default_export_path("run.json", ExportFormat::svg) == "run.svg");
    CHECK(default_export_path("/tmp/x/run.json", ExportFormat::chrome) == "/tmp/x/run.trace.json");
    CHECK(default_export_path("notes", ExportFormat::markdown) == "notes.md");
    CHECK(default_export_path("", ExportFormat::svg) == "forklore-run.svg");
    CHECK(default_export_path("dir/", ExportFormat::svg) == "dir/forklore-run.svg");
    for (std::size_t i = 0; i < kExportFormatNames.size(); ++i)
        CHECK(export_format_from_name(kExportFormatNames[i]) == static_cast<ExportFormat>(i));
    CHECK_FALSE(export_format_from_name("png"));
}

TEST_CASE("the SVG timeline has a lane per thread, the fork's arrow and the verdict", "[export]") {
    const RunRecord record = deadlocked_record();
    const std::string svg = svg_timeline(record);
    REQUIRE(xml_problem(svg) == "");
    // Threads 1 and 2 of process 1, thread 3 of process 3 (the forked child).
    CHECK(occurrences(svg, "<g class=\"lane\"") == 3);
    CHECK(occurrences(svg, "<g class=\"process\"") == 2);
    CHECK(svg.find("data-pid=\"1\" data-tid=\"2\" data-thread=\"worker\"") != std::string::npos);
    CHECK(svg.find("data-label=\"process 3 (child &apos;child_main&apos;) \u00b7 thread main "
                   "(tid 3)\"") != std::string::npos);
    CHECK(svg.find("fork-while-logging:fork: deadlocked (orphaned lock)") != std::string::npos);
    CHECK(occurrences(svg, "<g class=\"arrow\" data-kind=\"start\"") == 1);
    // The child's wait never ended: hatched, and its tooltip says so.
    CHECK(svg.find("url(#never-ended)") != std::string::npos);
    CHECK(svg.find("waiting for lock &apos;logger&apos;") != std::string::npos);
    CHECK(svg.find("width=\"1280.0\"") != std::string::npos);
}

TEST_CASE("an explanation too long for the SVG ends its last line in an ellipsis", "[export]") {
    RunRecord record = deadlocked_record();
    std::string words;
    for (int i = 0; i < 400; ++i)
        words += fmt::format("word{} ", i);
    record.verdict.explanation = words + "LAST";
    const std::string svg = svg_timeline(record);
    REQUIRE(xml_problem(svg) == "");
    CHECK(svg.find("LAST") == std::string::npos);
    CHECK(svg.find("\u2026</text>") != std::string::npos); // the cut is said where it is
    CHECK(svg.find("word0 word1") != std::string::npos);
}

TEST_CASE("a lane that carries nothing still appears in the SVG", "[export]") {
    RunRecord record = deadlocked_record();
    record.processes[0].threads.push_back({7, "idle"}); // a thread no event names
    const std::string svg = svg_timeline(record);
    REQUIRE(xml_problem(svg) == "");
    CHECK(occurrences(svg, "<g class=\"lane\"") == 4);
    CHECK(svg.find("data-tid=\"7\" data-thread=\"idle\"") != std::string::npos);
}

TEST_CASE("names with markup and stray bytes are escaped in every export", "[export]") {
    const RunRecord record = record_with_markup_names();

    const std::string svg = svg_timeline(record);
    REQUIRE(xml_problem(svg) == "");
    CHECK(svg.find("w&lt;&amp;&quot;&apos;&gt;\xEF\xBF\xBD") != std::string::npos);
    CHECK(svg.find("log&lt;&amp;&quot;&apos;&gt;lock") != std::string::npos);
    CHECK(svg.find("child&lt;b&gt;") != std::string::npos);
    CHECK(svg.find("<script>") == std::string::npos);
    CHECK(svg.find("w<&") == std::string::npos);

    const json trace = json::parse(chrome_trace_text(record)); // throws on invalid JSON
    check_chrome_trace(trace);
    bool named = false;
    for (const json& event : events_of(trace, "M", "thread_name"))
        named = named || event.at("args").at("name") == "w<&\"'>\xEF\xBF\xBD";
    CHECK(named);
    CHECK_FALSE(events_of(trace, "X", "holds log<&\"'>lock").empty());

    const std::string report = markdown_report(record);
    CHECK(valid_utf8(report) == report);
    CHECK(report.find("log\\<\\&\"'\\>lock") != std::string::npos);
    CHECK(report.find("\\<script\\>") != std::string::npos);
    CHECK(report.find("<script>") == std::string::npos);
    CHECK(report.find("two\nlines") == std::string::npos);
    CHECK(report.find("thread 'two lines'") != std::string::npos);
}

TEST_CASE("the Chrome trace of a deadlock: names, holds, waits, the fork's flow, the verdict",
          "[export]") {
    const RunRecord record = deadlocked_record();
    const json trace = json::parse(chrome_trace_text(record));
    const auto flows = check_chrome_trace(trace);

    std::set<std::pair<int, int>> threads;
    for (const json& event : events_of(trace, "M", "thread_name"))
        threads.insert({event.at("pid").get<int>(), event.at("tid").get<int>()});
    CHECK(threads == std::set<std::pair<int, int>>{{1, 1}, {1, 2}, {3, 3}});
    CHECK(events_of(trace, "M", "process_name").size() == 2);
    CHECK(events_of(trace, "M", "process_sort_index").size() == 2);
    CHECK(events_of(trace, "M", "thread_sort_index").size() == 3);

    const auto holds = events_of(trace, "X", "holds logger");
    REQUIRE(holds.size() == 1);
    CHECK(holds[0].at("cat") == "lock");
    CHECK(holds[0].at("pid") == 1);
    CHECK(holds[0].at("tid") == 2);
    CHECK(holds[0].at("ts").get<double>() == Approx(2000.017));
    // The worker's wait of no time before it took the lock, and the child's that never ended.
    auto waits = events_of(trace, "X", "waits for logger");
    REQUIRE(waits.size() == 2);
    std::sort(waits.begin(), waits.end(), [](const json& a, const json& b) {
        return a.at("ts").get<double>() < b.at("ts").get<double>();
    });
    CHECK(waits[0].at("tid") == 2);
    CHECK(waits[0].at("dur").get<double>() == 0);
    waits.erase(waits.begin());
    CHECK(waits[0].at("pid") == 3);
    CHECK(waits[0].at("args").at("never_ended") == true);
    CHECK(waits[0].at("ts").get<double>() == Approx(6000.017));
    // The child was born holding a copy of the lock its parent's worker held.
    const auto copies = events_of(trace, "X", "holds copy of logger");
    REQUIRE(copies.size() == 1);
    CHECK(copies[0].at("args").at("orphaned") == true);

    REQUIRE(flows.size() == 1);
    CHECK(flows.begin()->second == std::pair{1, 3}); // from the parent to the child
    const auto verdicts = events_of(trace, "i");
    CHECK(std::any_of(verdicts.begin(), verdicts.end(), [](const json& event) {
        return event.at("s") == "g" && event.at("name") == "verdict: deadlocked (orphaned lock)";
    }));
    CHECK(trace.at("otherData").at("scenario") == "fork-while-logging");
}

TEST_CASE("a slice that would cross the end of another on its thread becomes an async slice",
          "[export]") {
    // 'worker' takes a semaphore, then waits at a barrier; main posts the semaphore meanwhile:
    // the hold [1, 3] ms and the wait [2, 5] ms overlap without nesting.
    RunRecord record;
    record.scenario = "semaphore";
    record.start_time_ns = kStart;
    record.verdict.kind = VerdictKind::completed;
    const auto semaphore = static_cast<std::int64_t>(LockKind::semaphore);
    record.events = {
        event(EventKind::process_start, 0, 1, 1, "main", 0, 0, "main"),
        event(EventKind::thread_start, 0, 1, 2, "worker", 0, 0, "worker"),
        event(EventKind::lock_acquired, 1, 1, 2, "worker", 0x10, semaphore, "slots"),
        event(EventKind::barrier_wait, 2, 1, 2, "worker", 0x20, 0, "gate"),
        event(EventKind::lock_released, 3, 1, 1, "main", 0x10, semaphore, "slots"),
        event(EventKind::barrier_passed, 5, 1, 2, "worker", 0x20, 0, "gate"),
    };
    const json trace = json::parse(chrome_trace_text(record));
    check_chrome_trace(trace); // nesting included
    const auto holds = events_of(trace, "X", "holds slots");
    const auto waits = events_of(trace, "b", "waits at barrier gate");
    REQUIRE(holds.size() == 1);
    REQUIRE(waits.size() == 1);
    CHECK(events_of(trace, "e", "waits at barrier gate").size() == 1);
    CHECK(waits[0].at("tid") == 2);
}

TEST_CASE("the Markdown report says the verdict, why, the processes and the stuck threads",
          "[export]") {
    RunRecord record = deadlocked_record();
    record.verdict.stuck = {{3, 3, "main", "waits for lock 'logger' (orphaned)"}};
    record.verdict.live = {{1, 2, "worker", "reads a pipe"}};
    const std::string report = markdown_report(record);
    CHECK(report.find("# forklore: fork-while-logging:fork") != std::string::npos);
    CHECK(report.find("**Verdict: deadlocked (orphaned lock)**") != std::string::npos);
    CHECK(report.find(record.verdict.explanation) != std::string::npos); // whole, and unescaped
    CHECK(report.find("| method | fork |") != std::string::npos);
    // The process tree as `forklore exec` prints it.
    const std::string tree = process_tree_text(record);
    REQUIRE_FALSE(tree.empty());
    CHECK(report.find(tree) != std::string::npos);
    CHECK(report.find("### Process 3, thread 'main' (tid 3)") != std::string::npos);
    CHECK(report.find("- waits for: thread 'main' of process 3 waits for lock 'logger'") !=
          std::string::npos);
    CHECK(report.find("__lll_lock_wait (libc.so.6)") != std::string::npos);
    CHECK(report.find("forklore::probe::Logger::write(...)") != std::string::npos);
    CHECK(report.find("## Still running beside them") != std::string::npos);
    CHECK(report.find("ptrace: Operation not permitted") != std::string::npos); // the other stack
    CHECK(report.find("```text\nhello\n```") != std::string::npos);             // stdout's end
    CHECK(report.find("## Warnings") != std::string::npos); // events and output were dropped
    CHECK(report.find("run record format 1") != std::string::npos);
}

TEST_CASE("output with backtick fences stays inside its code block", "[export]") {
    RunRecord record = deadlocked_record();
    record.stdout_text = "```\n# not a heading\n````\n";
    const std::string report = markdown_report(record);
    CHECK(report.find("`````text\n```\n# not a heading\n````\n`````") != std::string::npos);
}

TEST_CASE("every format exports a record with no events and no processes", "[export]") {
    RunRecord record;
    record.scenario = "empty";
    record.verdict.kind = VerdictKind::setup_error;
    record.verdict.explanation = "The sandbox could not start.";
    const std::string svg = export_record(record, ExportFormat::svg);
    CHECK(xml_problem(svg) == "");
    CHECK(occurrences(svg, "<g class=\"lane\"") == 0);
    check_chrome_trace(json::parse(export_record(record, ExportFormat::chrome)));
    CHECK(export_record(record, ExportFormat::markdown).find("setup_error") != std::string::npos);
}
