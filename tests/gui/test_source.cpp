// The code beside the timeline, over real runs: the events of a run carry the scenario's file and
// the line of each call (checked against the embedded text, never a line number written here),
// and the Source panel highlights the selected event's line, marks each thread's line, and
// selects a line's event when the line is clicked.
#include "gui/models/source_model.hpp"
#include "gui/panels/source_panel.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

using namespace forklore;
using namespace forklore::gui;
using forklore::gui::test::HeadlessImGui;
using forklore::gui::test::recorded;

namespace {

constexpr const char* kScenarioFile = "scenarios/010_file_read_under_lock.cpp";

std::vector<std::string_view> embedded_lines(const std::string& path) {
    auto text = ScenarioRegistry::instance().source_text(path);
    REQUIRE(text.has_value());
    return split_lines(*text);
}

// The lines (1-based) of `path` that contain `code`.
std::vector<std::uint32_t> lines_with(const std::string& path, std::string_view code) {
    std::vector<std::uint32_t> found;
    const auto lines = embedded_lines(path);
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (lines[i].find(code) != std::string_view::npos)
            found.push_back(static_cast<std::uint32_t>(i + 1));
    return found;
}

std::string_view line_text(const std::string& path, std::uint32_t line) {
    const auto lines = embedded_lines(path);
    REQUIRE(line >= 1);
    REQUIRE(line <= lines.size());
    return lines[line - 1];
}

// The first event matching `match`, by index.
template <typename Match> std::optional<std::size_t> find_event(const RunRecord& r, Match match) {
    for (std::size_t i = 0; i < r.events.size(); ++i)
        if (match(r.events[i]))
            return i;
    return std::nullopt;
}

} // namespace

TEST_CASE("the corpus's sources are embedded and each scenario knows its file", "[gui][source]") {
    const Scenario* scenario = ScenarioRegistry::instance().find("file-read-under-lock");
    REQUIRE(scenario);
    REQUIRE_FALSE(scenario->sources.empty());
    CHECK(scenario->sources.front() == kScenarioFile);
    CHECK(ScenarioRegistry::instance().source_text(kScenarioFile).has_value());
    const Scenario* python = ScenarioRegistry::instance().find("python-lock-at-fork");
    REQUIRE(python);
    REQUIRE(python->sources.size() == 2);
    CHECK(python->sources[1] == "scenarios/python/lock_at_fork.py");
    CHECK(ScenarioRegistry::instance().source_text(python->sources[1]).has_value());
    for (const Scenario& each : ScenarioRegistry::instance().all())
        for (const std::string& path : each.sources) {
            INFO(each.id << ": " << path);
            CHECK(ScenarioRegistry::instance().source_text(path).has_value());
        }
}

TEST_CASE("a real run's lock, fork and note carry the scenario's file and the line of the call",
          "[gui][source]") {
    const auto record = recorded(test::kOrphanedLock);
    const RunRecord& r = *record;

    // The reader thread's lock: `g_file_lock.lock(); // SYNC: the reader is inside the library`.
    auto reader_lock = find_event(r, [](const Event& e) {
        return e.kind == EventKind::lock_acquired && field_text(e.thread) == "reader";
    });
    REQUIRE(reader_lock);
    const Event& lock = r.events[*reader_lock];
    REQUIRE(r.source_file(lock));
    CHECK(*r.source_file(lock) == kScenarioFile);
    CHECK(lines_with(kScenarioFile, "g_file_lock.lock(); // SYNC: the reader is inside") ==
          std::vector<std::uint32_t>{lock.line});

    // The fork: child_start names the start_child call of the branch with a reader thread.
    auto fork = find_event(r, [](const Event& e) { return e.kind == EventKind::child_start; });
    REQUIRE(fork);
    REQUIRE(r.source_file(r.events[*fork]));
    CHECK(*r.source_file(r.events[*fork]) == kScenarioFile);
    CHECK(line_text(kScenarioFile, r.events[*fork].line)
              .find("probe::start_child(method, \"read\"") != std::string_view::npos);
    CHECK(lines_with(kScenarioFile, "probe::start_child(method, \"read\"").back() ==
          r.events[*fork].line);

    // A note: the line holding its text.
    auto note = find_event(r, [](const Event& e) {
        return e.kind == EventKind::note &&
               field_text(e.text) == "main: starting the worker while the reader holds file_lock";
    });
    REQUIRE(note);
    CHECK(lines_with(kScenarioFile,
                     "\"main: starting the worker while the reader holds file_lock\"") ==
          std::vector<std::uint32_t>{r.events[*note].line});

    // The child's wait for the orphaned lock: the guard's line inside read_file_under_lock,
    // not a line of <mutex>.
    auto child_wait = find_event(r, [](const Event& e) { return e.kind == EventKind::lock_wait; });
    REQUIRE(child_wait);
    REQUIRE(r.source_file(r.events[*child_wait]));
    CHECK(*r.source_file(r.events[*child_wait]) == kScenarioFile);
    CHECK(lines_with(kScenarioFile, "probe::LockGuard guard(g_file_lock)") ==
          std::vector<std::uint32_t>{r.events[*child_wait].line});

    // What the engine records on its own (a process's start) has no line.
    auto start = find_event(r, [](const Event& e) { return e.kind == EventKind::process_start; });
    REQUIRE(start);
    CHECK(r.source_file(r.events[*start]) == nullptr);
    CHECK(r.events[*start].line == 0);
}

TEST_CASE("a child the fork server makes names the scenario's start_child line too",
          "[gui][source]") {
    // The server records child_start in its own process: the request carries the caller's line.
    const auto record = recorded("file-read-under-lock", "forkserver");
    const RunRecord& r = *record;
    auto start = find_event(r, [](const Event& e) {
        return e.kind == EventKind::child_start &&
               e.arg0 == static_cast<std::int64_t>(StartMethod::forkserver);
    });
    REQUIRE(start);
    REQUIRE(r.source_file(r.events[*start]));
    CHECK(*r.source_file(r.events[*start]) == kScenarioFile);
    CHECK(lines_with(kScenarioFile, "probe::start_child(method, \"read\"").back() ==
          r.events[*start].line);
}

TEST_CASE("the Source panel highlights the selected event's line and marks each thread's line",
          "[gui][source]") {
    RecordView view;
    view.record = recorded(test::kOrphanedLock);
    view.generation = 1;
    const RunRecord& r = *view.record;
    HeadlessImGui ui(1280, 800);
    SourcePanelState state;
    Selection selection;

    SECTION("at the end of the run: the child's main thread waits at the guard's line") {
        ui.frame([&] { draw_source_panel(state, view, selection); });
        const SourceModel& model = state.model;
        CHECK(model.unavailable().empty());
        CHECK(model.file() == kScenarioFile);
        CHECK(model.highlighted_line() == 0);
        const std::uint32_t guard =
            lines_with(kScenarioFile, "probe::LockGuard guard(g_file_lock)").at(0);
        const auto marks = model.marks_on(guard);
        REQUIRE(marks.size() == 1);
        CHECK(r.events[marks[0]->event].kind == EventKind::lock_wait);
        CHECK(marks[0]->waiting);
        // Nothing is selected: the code is brought to the first line where a thread waits.
        CHECK(model.focus_line() == guard);
        CHECK(marks[0]->label.rfind("main (", 0) == 0);
        // The parent's main thread is in its wait for the child: its mark is on `child.wait()`.
        const std::uint32_t wait =
            lines_with(kScenarioFile, "WaitStatus status = child.wait(); // SYNC").at(0);
        REQUIRE(model.marks_on(wait).size() == 1);
        CHECK(r.events[model.marks_on(wait)[0]->event].kind == EventKind::child_wait);
    }

    SECTION("a selected event (from any panel) highlights its line; marks stop at it") {
        auto fork = find_event(r, [](const Event& e) { return e.kind == EventKind::child_start; });
        REQUIRE(fork);
        selection.select_event(r, *fork);
        ui.frame([&] { draw_source_panel(state, view, selection); });
        ui.frame([&] { draw_source_panel(state, view, selection); });
        const SourceModel& model = state.model;
        CHECK(model.highlighted_line() == r.events[*fork].line);
        // At the fork the reader holds file_lock and is at one of its barriers (lock_held, or
        // already release_reader: the fork and its read race).
        std::optional<std::uint32_t> reader_line;
        for (const auto& [line, line_marks] : model.marks())
            for (const auto& mark : line_marks)
                if (mark.label.rfind("reader (", 0) == 0)
                    reader_line = line;
        REQUIRE(reader_line);
        CHECK(line_text(kScenarioFile, *reader_line).find("arrive_and_wait()") !=
              std::string_view::npos);
        // The forking thread is marked on the fork's line.
        const auto at_fork = model.marks_on(r.events[*fork].line);
        REQUIRE(at_fork.size() == 1);
        CHECK(at_fork[0]->event == *fork);
        // Nothing of the child is marked yet: it had recorded nothing at the fork.
        for (const auto& [line, line_marks] : model.marks())
            for (const auto& mark : line_marks)
                CHECK(mark.event <= *fork);
    }

    SECTION("an event the engine recorded itself has no line, and says so") {
        auto start =
            find_event(r, [](const Event& e) { return e.kind == EventKind::process_start; });
        REQUIRE(start);
        selection.select_event(r, *start);
        ui.frame([&] { draw_source_panel(state, view, selection); });
        CHECK(state.model.highlighted_line() == 0);
        CHECK(state.model.selection_note().find("has no line") != std::string::npos);
    }
}

TEST_CASE("clicking a line of the Source panel selects its event in every panel", "[gui][source]") {
    RecordView view;
    view.record = recorded(test::kOrphanedLock);
    view.generation = 1;
    const RunRecord& r = *view.record;
    // Tall enough to show the whole file without scrolling.
    HeadlessImGui ui(1280, 4000);
    SourcePanelState state;
    Selection selection;
    auto draw = [&] { draw_source_panel(state, view, selection); };
    ui.frame(draw);

    // Click down the line numbers until a click selects an event.
    ImGuiIO& io = ImGui::GetIO();
    std::optional<std::uint32_t> clicked;
    for (float y = 40; y < 3900 && !clicked; y += 6) {
        io.MouseDown[0] = true;
        ui.frame(draw, ImVec2(20, y));
        io.MouseDown[0] = false;
        ui.frame(draw, ImVec2(20, y));
        if (selection.event)
            clicked = state.clicked_line;
    }
    REQUIRE(clicked);
    REQUIRE(selection.event);
    const Event& selected = r.events[*selection.event];
    // The selected event was recorded at the clicked line, and it is that line's first event.
    CHECK(selected.line == *clicked);
    REQUIRE(r.source_file(selected));
    CHECK(*r.source_file(selected) == kScenarioFile);
    CHECK(state.model.events_on(*clicked).front() == *selection.event);
    // The selection is the shared one: pid, tid and object are the event's, as every panel uses.
    CHECK(selection.pid == selected.pid);
    CHECK(selection.tid == selected.tid);
    ui.frame(draw);
    CHECK(state.model.highlighted_line() == *clicked);

    // Clicking again steps to the line's next event, when it has one.
    const auto on_line = state.model.events_on(*clicked);
    if (on_line.size() > 1) {
        auto next = event_for_line_click(state.model, *clicked, selection);
        REQUIRE(next);
        CHECK(*next == on_line[1]);
    }
}

TEST_CASE("runs without source say why in one line", "[gui][source]") {
    SourceModel model;
    SECTION("a forklore exec record") {
        RunRecord r;
        r.scenario = "exec";
        model.update(r, 1, std::nullopt, "");
        CHECK(model.unavailable().find("forklore exec") != std::string::npos);
    }
    SECTION("a scenario this build does not have, and no located event") {
        RunRecord r;
        r.scenario = "no-such-scenario";
        model.update(r, 1, std::nullopt, "");
        CHECK(model.unavailable().find("no-such-scenario") != std::string::npos);
    }
    SECTION("a Python scenario shows its program and says why no line is marked") {
        RunRecord r;
        r.scenario = "python-lock-at-fork";
        model.update(r, 1, std::nullopt, "");
        CHECK(model.unavailable().empty());
        CHECK(model.file() == "scenarios/python/lock_at_fork.py");
        CHECK_FALSE(model.lines().empty());
        CHECK(model.remark().find("Python frames") != std::string::npos);
    }
}
