// The exports of real runs (sim/export): file-read-under-lock's fork variant, which deadlocks
// on a lock fork() orphaned, and its forkserver variant, which completes. Each record is
// exported in the three formats and held to what a teacher relies on: the SVG is well-formed
// with exactly one lane per thread of the program, the Chrome trace keeps the format's rules
// with one flow per fork from the parent to the child, the Markdown report names the verdict,
// the orphaned lock and its owner, and holds the process tree.
#include "sim/export/chrome_trace.hpp"
#include "sim/export/markdown_report.hpp"
#include "sim/export/record_text.hpp"
#include "sim/export/svg_timeline.hpp"
#include "sim/run/runner.hpp"
#include "sim/scenario/scenario.hpp"
#include "tests/unit/export_checks.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <set>

namespace {

using namespace forklore;
using namespace forklore::test;
using nlohmann::json;

RunRecord run_variant(const std::string& id, const std::string& variant) {
    const Scenario* scenario = ScenarioRegistry::instance().find(id);
    REQUIRE(scenario != nullptr);
    return run_scenario(make_request(*scenario, variant));
}

// The threads of the program's processes (not the sandbox's host and reaper), as the record
// lists them; a process the record knows no thread of (one a sample saw for an instant) is
// drawn as one lane of its own, its pid as its tid, so that its start and end show.
std::set<std::pair<int, int>> program_threads(const RunRecord& record) {
    std::set<std::pair<int, int>> threads;
    for (const ProcessRecord& process : record.processes) {
        if (is_sandbox_process(process.role))
            continue;
        for (const auto& [tid, name] : process.threads)
            threads.insert({process.ns_pid, tid});
        if (process.threads.empty())
            threads.insert({process.ns_pid, process.ns_pid});
    }
    return threads;
}

// The SVG lanes' (pid, tid), read back from their data attributes.
std::set<std::pair<int, int>> svg_lanes(const std::string& svg, std::size_t& count) {
    std::set<std::pair<int, int>> lanes;
    count = 0;
    const std::string marker = "<g class=\"lane\" data-pid=\"";
    for (std::size_t at = svg.find(marker); at != std::string::npos;
         at = svg.find(marker, at + 1)) {
        ++count;
        const std::size_t pid_at = at + marker.size();
        const std::size_t tid_at = svg.find("data-tid=\"", pid_at) + 10;
        lanes.insert({std::stoi(svg.substr(pid_at)), std::stoi(svg.substr(tid_at))});
    }
    return lanes;
}

// The flows a fork, spawn or forkserver made (exec flows stay in one process).
std::size_t process_starts(const json& trace) {
    std::size_t count = 0;
    for (const json& event : trace.at("traceEvents"))
        if (event.at("ph") == "s" && event.at("name") != "exec")
            ++count;
    return count;
}

void check_exports(const RunRecord& record) {
    const std::string svg = svg_timeline(record);
    REQUIRE(xml_problem(svg) == "");
    std::size_t lanes = 0;
    INFO("the record: " << to_json_text(to_json(record)));
    CHECK(svg_lanes(svg, lanes) == program_threads(record));
    CHECK(lanes == program_threads(record).size());

    const json trace = json::parse(chrome_trace_text(record));
    const auto flows = check_chrome_trace(trace);
    std::set<std::pair<int, int>> named;
    for (const json& event : trace.at("traceEvents"))
        if (event.at("ph") == "M" && event.at("name") == "thread_name")
            named.insert({event.at("pid").get<int>(), event.at("tid").get<int>()});
    CHECK(named == program_threads(record));
    // One flow per process the program started, from its parent to it.
    std::size_t children = 0;
    for (const ProcessRecord& process : record.processes)
        if (!is_sandbox_process(process.role) && process.start_method)
            ++children;
    CHECK(process_starts(trace) == children);
    for (const auto& [id, ends] : flows)
        if (ends.first != ends.second) {
            const ProcessRecord* child = record.find_process(ends.second);
            REQUIRE(child != nullptr);
            CHECK(child->parent_ns_pid == ends.first);
        }

    const std::string report = markdown_report(record);
    CHECK(report.find(process_tree_text(record)) != std::string::npos);
}

} // namespace

TEST_CASE("the exports of a run that deadlocks on a lock fork() orphaned", "[engine][export]") {
    const RunRecord record = run_variant("file-read-under-lock", "fork");
    REQUIRE(record.verdict.kind == VerdictKind::deadlocked);
    REQUIRE(record.verdict.reason == DeadlockReason::orphaned_lock);
    check_exports(record);

    const std::string svg = svg_timeline(record);
    CHECK(svg.find("file-read-under-lock:fork: deadlocked (orphaned lock)") != std::string::npos);
    CHECK(svg.find("data-stuck=\"true\"") != std::string::npos);
    CHECK(svg.find(">STUCK</text>") != std::string::npos);

    const json trace = json::parse(chrome_trace_text(record));
    bool holds = false, waits_forever = false, orphaned_copy = false;
    for (const json& event : trace.at("traceEvents")) {
        if (event.at("ph") != "X")
            continue;
        holds = holds || (event.at("name") == "holds file_lock" && event.at("cat") == "lock");
        waits_forever = waits_forever || (event.at("name") == "waits for file_lock" &&
                                          event.at("args").value("never_ended", false));
        orphaned_copy = orphaned_copy || (event.at("name") == "holds copy of file_lock" &&
                                          event.at("args").at("orphaned") == true);
    }
    CHECK(holds);
    CHECK(waits_forever);
    CHECK(orphaned_copy);

    // The explanation's key words: the lock, and the thread that owns it in the parent.
    const std::string report = markdown_report(record);
    CHECK(report.find("**Verdict: deadlocked (orphaned lock)**") != std::string::npos);
    const auto orphan = std::find_if(record.verdict.wait_for.begin(), record.verdict.wait_for.end(),
                                     [](const WaitEdge& edge) { return edge.orphaned; });
    REQUIRE(orphan != record.verdict.wait_for.end());
    CHECK(orphan->lock_name == "file_lock");
    CHECK(report.find("file_lock") != std::string::npos);
    CHECK(report.find(orphan->owner_thread) != std::string::npos);
    CHECK(report.find("## Stuck threads") != std::string::npos);
}

TEST_CASE("the exports of a run that completes through a fork server", "[engine][export]") {
    const RunRecord record = run_variant("file-read-under-lock", "forkserver");
    REQUIRE(record.verdict.kind == VerdictKind::completed);
    check_exports(record);
    CHECK(svg_timeline(record).find("data-stuck=\"true\"") == std::string::npos);
    CHECK(markdown_report(record).find("**Verdict: completed**") != std::string::npos);
}
