// A hung Python program in the GUI: the Verdict panel shows each stuck thread's Python frames
// above its native ones, names its threading thread and the Python object it waits for, and the
// Source panel marks the script's line where the thread waits. Over a real run of
// python-printer-thread:fork_forced (CPython 3.11.2 on Debian 12): the child of fork waits for
// sys.stderr's buffer lock, which the parent's 'printer' thread held when it forked.
#include "gui/models/source_model.hpp"
#include "gui/panels/verdict_panel.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <string>

using namespace forklore;
using namespace forklore::gui;
using Catch::Matchers::Contains;
using forklore::gui::test::drawn_text;
using forklore::gui::test::HeadlessImGui;
using forklore::gui::test::recorded;

namespace {

constexpr const char* kScript = "scenarios/python/printer_thread.py";

// The line (1-based) of the embedded script holding `code`; 0 when none does.
std::uint32_t script_line(std::string_view code) {
    const auto text = ScenarioRegistry::instance().source_text(kScript);
    REQUIRE(text.has_value());
    const auto lines = split_lines(*text);
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (lines[i].find(code) != std::string_view::npos)
            return static_cast<std::uint32_t>(i + 1);
    return 0;
}

// The stack of the thread of the child the verdict is about: the one that waits for stderr.
const ThreadStack* stuck_python_stack(const RunRecord& record) {
    for (const ThreadStack& stack : record.stacks)
        if (stack.python && !stack.python->waits_on.empty())
            return &stack;
    return nullptr;
}

} // namespace

TEST_CASE("a hung Python run shows Python frames, the thread's names and the lock's owner",
          "[gui][verdict][source][python]") {
    if (access("/usr/bin/python3", X_OK) != 0) {
        WARN("no /usr/bin/python3: not checked here");
        return;
    }
    auto record = recorded("python-printer-thread", "fork_forced");
    INFO(record->verdict.explanation);
    REQUIRE(record->verdict.kind == VerdictKind::deadlocked);
    const ThreadStack* stuck = stuck_python_stack(*record);
    REQUIRE(stuck);
    const PythonStack& python = *stuck->python;
    CHECK_THAT(python.waits_on, Contains("sys.stderr"));
    CHECK(python.lock_holder == "printer");
    CHECK_FALSE(python.lock_holder_here); // the printer did not come along through fork
    // The worker's print is the script's line that waits.
    const std::uint32_t print_line = script_line("print(\"worker: hello from the child process\"");
    REQUIRE(print_line > 0);
    const auto in_script =
        std::find_if(python.frames.begin(), python.frames.end(), [](const PythonFrame& frame) {
            const std::string_view name = "/printer_thread.py";
            return frame.file.size() >= name.size() &&
                   frame.file.compare(frame.file.size() - name.size(), name.size(), name) == 0;
        });
    REQUIRE(in_script != python.frames.end());
    CHECK(in_script->function == "worker");
    CHECK(in_script->line == static_cast<int>(print_line));

    SECTION("the Verdict panel: Python frames above the native ones, in Python's words") {
        HeadlessImGui gui(1280, 4000); // tall: every stack is drawn, none clipped
        RecordView view{record, 1, false};
        Selection selection;
        selection.select_thread(stuck->ns_pid, stuck->ns_tid); // opens its stack
        VerdictPanelState verdict;
        std::string shown;
        for (int frame = 0; frame < 3; ++frame)
            shown = drawn_text(gui, [&] { draw_verdict_panel(verdict, view, selection); });
        CHECK_THAT(shown, Contains("Python, innermost call first:"));
        CHECK_THAT(shown, Contains(fmt::format("printer_thread.py:{} in worker()", print_line)));
        CHECK_THAT(shown, Contains("Native, innermost call first:"));
        CHECK_THAT(shown, Contains("sys.stderr") && Contains("which records thread 'printer'") &&
                              Contains("left behind by fork"));
        // The Python frames come before the native ones.
        CHECK(shown.find("Python, innermost call first:") <
              shown.find("Native, innermost call first:"));
    }

    SECTION("the Source panel marks the script's line where the child waits") {
        SourceModel model;
        model.update(*record, 1, std::nullopt, "");
        REQUIRE(model.file() == kScript);
        CHECK_THAT(model.remark(), Contains("marked where their Python frames were when the hang "
                                            "was proven"));
        const auto marks = model.marks_on(print_line);
        const auto child = std::find_if(marks.begin(), marks.end(), [&](const ThreadMark* mark) {
            return mark->pid == stuck->ns_pid && mark->tid == stuck->ns_tid;
        });
        REQUIRE(child != marks.end());
        CHECK((*child)->event == kNoMarkEvent);
        CHECK((*child)->waiting); // in the stuck set
        CHECK((*child)->python_function == "worker");
        CHECK_THAT((*child)->label, Contains(fmt::format("({})", stuck->ns_pid)));
        CHECK(model.focus_line() == print_line); // the panel scrolls to where it waits
    }
}

TEST_CASE("a Python stack's header names its threading thread; an unreadable one says why",
          "[gui][verdict][python]") {
    auto record = std::make_shared<RunRecord>();
    record->scenario = "python-printer-thread";
    record->verdict.kind = VerdictKind::deadlocked;
    record->verdict.reason = DeadlockReason::orphaned_lock;
    ThreadStack stack;
    stack.ns_pid = 2;
    stack.ns_tid = 5;
    stack.thread_name = "printer"; // the observer's name for it: the threading name
    stack.python = PythonStack{};
    stack.python->name = "printer";
    stack.python->frames = {{"/tmp/x/printer_thread.py", "printer", 69}};
    record->stacks.push_back(stack);
    ThreadStack unreadable;
    unreadable.ns_pid = 3;
    unreadable.ns_tid = 3;
    unreadable.thread_name = "python3";
    unreadable.python_error = "this is not Debian's 3.11.2";
    record->stacks.push_back(unreadable);

    HeadlessImGui gui(1280, 2000);
    RecordView view{record, 1, false};
    Selection selection;
    selection.select_thread(2, 5);
    VerdictPanelState verdict;
    std::string shown;
    for (int frame = 0; frame < 3; ++frame)
        shown = drawn_text(gui, [&] { draw_verdict_panel(verdict, view, selection); });
    CHECK_THAT(shown, Contains("process 2 thread 'printer' (tid 5)"));
    CHECK_THAT(shown, Contains("printer_thread.py:69 in printer()"));
    CHECK_THAT(shown, Contains("process 3 thread 'python3' (tid 3)"));
}
