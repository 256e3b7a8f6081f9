// The Verdict panel (verdict_panel.hpp): its text, its lists, the stacks and measurements, and the
// panel that lays them out; the wait-for graph is drawn in verdict_wait_graph.cpp.
//
// Index of this file:
// [SECTION] text: headline, expected vs actual, function names
// [SECTION] the stuck set, the live threads beside it, what was left running
// [SECTION] stacks and measurements
// [SECTION] the panel
#include "gui/panels/verdict_panel.hpp"

#include "gui/panels/verdict_wait_graph.hpp"
#include "gui/record_completeness.hpp"
#include "gui/widgets.hpp"
#include "sim/export/record_text.hpp"
#include "sim/run/matrix.hpp"

#include <imgui.h>

#include <fmt/format.h>

#include <algorithm>

namespace forklore::gui {

// ---------------------------------------------------------------------------------------------
// [SECTION] text: headline, expected vs actual, function names
// ---------------------------------------------------------------------------------------------

std::string verdict_headline(const Verdict& verdict) {
    std::string headline(to_string(verdict.kind));
    if (verdict.reason)
        return headline + " / " + std::string(to_string(*verdict.reason));
    if (verdict.signal &&
        (verdict.kind == VerdictKind::crashed || verdict.kind == VerdictKind::limit))
        return headline + " / " + signal_name(verdict.signal);
    if (verdict.kind == VerdictKind::failed)
        return fmt::format("{} / exit code {}", headline, verdict.exit_code);
    return headline;
}

ExpectationLine expectation_line(const RunRecord& record) {
    if (!record.expected)
        return {};
    const Expectation& expected = *record.expected;
    if (!has_outcome(record.verdict.kind))
        return {fmt::format("expected {} - not checked: the run was stopped before a verdict",
                            expected.describe()),
                false};
    if (expected.racy)
        return {fmt::format("expected {} - a rate over many runs: Repeat checks it",
                            expected.describe()),
                false};
    bool ok = matches(expected, record.verdict);
    return {fmt::format("expected {} - {}", expected.describe(), ok ? "as expected" : "MISMATCH"),
            !ok};
}

std::string thread_state_line(const ThreadState& thread) {
    return fmt::format("process {} thread '{}' (tid {}): {}", thread.pid, thread.name, thread.tid,
                       thread.wait.empty() ? "runs" : thread.wait);
}

namespace {

// "std::thread::_State_impl<...>::_M_run()" instead of a screenful of template arguments: the
// contents of <> and () are folded; the full name is in the tooltip.
std::string short_function_name(const std::string& name) {
    static const std::string anonymous = "(anonymous namespace)";
    std::string out;
    int depth = 0;
    bool skipped = false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (depth == 0 && name.compare(i, anonymous.size(), anonymous) == 0) {
            out += anonymous;
            i += anonymous.size() - 1;
            continue;
        }
        char c = name[i];
        if (c == '<' || c == '(') {
            if (depth++ == 0) {
                out += c;
                skipped = false;
            }
            continue;
        }
        if ((c == '>' || c == ')') && depth > 0) {
            if (--depth == 0) {
                if (skipped)
                    out += "...";
                out += c;
            }
            continue;
        }
        if (depth == 0)
            out += c;
        else
            skipped = true;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] the stuck set, the live threads beside it, what was left running
// ---------------------------------------------------------------------------------------------

constexpr ImU32 kStuckText = IM_COL32(240, 150, 150, 255);
constexpr ImU32 kLiveText = IM_COL32(165, 165, 175, 255);

// A line of wrapped text that is one selectable item: a click anywhere on it selects the thread.
// (A Selectable's own label does not wrap, and these lines name long futex addresses.)
void thread_line(const std::string& id, const std::string& text, pid_t pid, pid_t tid, ImU32 colour,
                 Selection& selection) {
    const float indent = ImGui::GetFontSize();
    const float wrap = std::max(ImGui::GetContentRegionAvail().x - indent, indent * 4);
    const ImVec2 size = ImGui::CalcTextSize(text.c_str(), nullptr, false, wrap);
    const bool selected = selection.tid != 0 && selection.pid == pid && selection.tid == tid;
    const ImVec2 at = ImGui::GetCursorScreenPos();
    if (ImGui::Selectable(id.c_str(), selected, 0, ImVec2(0, size.y)))
        selection.select_thread(pid, tid);
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("click to select this thread in every panel");
    ImDrawList* draw = ImGui::GetWindowDrawList();
    draw->AddCircleFilled(ImVec2(at.x + indent * 0.4f, at.y + ImGui::GetTextLineHeight() / 2),
                          indent * 0.18f, colour);
    draw->AddText(ImGui::GetFont(), ImGui::GetFontSize(), ImVec2(at.x + indent, at.y), colour,
                  text.c_str(), nullptr, wrap);
}

void draw_thread_list(const char* title, const char* help, const char* id,
                      const std::vector<ThreadState>& threads, ImU32 colour, Selection& selection) {
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(colour), "%s", title);
    if (help)
        help_marker(help);
    for (std::size_t i = 0; i < threads.size(); ++i)
        thread_line(fmt::format("##{}{}", id, i), thread_state_line(threads[i]), threads[i].pid,
                    threads[i].tid, colour, selection);
}

void draw_stuck_set(const RunRecord& record, Selection& selection) {
    const Verdict& verdict = record.verdict;
    if (!verdict.stuck.empty() || !verdict.live.empty()) {
        ImGui::Spacing();
        draw_thread_list(
            "Stuck (can never run again)",
            "The stuck set: the threads that can never run again, because everything that could "
            "wake them (the owner of the lock they wait for, the child they wait to end, the "
            "writer of their pipe, a thread that would signal them) is itself stuck, or no longer "
            "exists. The verdict is proven from this set alone, whatever else still runs.\n\n"
            "Live threads are not in it: they run, sleep with a timeout, or wait for something a "
            "live thread can still do. A parent that keeps printing or polling is live, and it "
            "still cannot wake the stuck threads. Click a line to select that thread.",
            "stuck", verdict.stuck, kStuckText, selection);
        if (!verdict.live.empty())
            draw_thread_list("Still running beside them", nullptr, "live", verdict.live, kLiveText,
                             selection);
    }
    if (!record.left_running.empty()) {
        ImGui::Spacing();
        ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(kLiveText), "%s",
                           "Left running when the first process ended:");
        help_marker("Processes still alive when the scenario's first process ended: the run ends "
                    "there, and these were killed with the sandbox. What each thread was doing "
                    "then.");
        for (std::size_t p = 0; p < record.left_running.size(); ++p) {
            const LeftRunning& left = record.left_running[p];
            ImGui::TextDisabled("process %d (%s), killed with the sandbox", left.pid,
                                left.command.c_str());
            for (std::size_t t = 0; t < left.threads.size(); ++t)
                thread_line(fmt::format("##left{}_{}", p, t), thread_state_line(left.threads[t]),
                            left.threads[t].pid, left.threads[t].tid, kLiveText, selection);
        }
    }
}

// Hazards the trace shows that did not bite in this run (Verdict::warnings): a completed run is
// not always a safe one.
void draw_warnings(const Verdict& verdict) {
    if (verdict.warnings.empty())
        return;
    ImGui::Spacing();
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(palette::warning));
    ImGui::TextUnformatted(
        fmt::format("Warnings ({}): hazards that did not bite this time", verdict.warnings.size())
            .c_str());
    ImGui::PopStyleColor();
    help_marker("The trace shows a hazard that this run happened to survive: a lock fork() copied "
                "in its locked state that the child never took, or a file lock two processes "
                "held at once through one shared open file description (so the lock excluded "
                "neither, and one's unlock released the other's). Another run, or a small change "
                "to the program, can make it bite. Found from the events and /proc/locks, never "
                "from what the scenario expects.");
    for (const auto& warning : verdict.warnings) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(palette::warning));
        wrapped_text(fmt::format("{}: {}", warning.kind, warning.text));
        ImGui::PopStyleColor();
    }
}

// What the sandbox isolated and how each limit was enforced; a warning when the kernel did not
// enforce the task or memory limit (no cgroup could be made on this system).
void draw_containment(const RunRecord& record) {
    if (record.sandbox.empty() && record.enforcement.empty())
        return; // an older record
    ImGui::Spacing();
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    wrapped_text("sandbox: " + record.sandbox);
    ImGui::PopStyleColor();
    std::string help = "What the run's sandbox isolated, and how each limit was enforced:\n";
    for (const auto& e : record.enforcement)
        help += fmt::format("\n{}: {} ({}{})", e.limit, e.value, e.mechanism,
                            e.by_kernel ? "" : "; not by the kernel");
    if (!record.cgroups.empty())
        help += "\n\ncgroups: " + record.cgroups;
    help_marker(help.c_str());
    for (const auto& line : limits_not_enforced_by_kernel(record)) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.7f, 0.3f, 1.0f));
        ImGui::TextWrapped("warning: %s", line.c_str());
        ImGui::PopStyleColor();
    }
}

// ---------------------------------------------------------------------------------------------
// [SECTION] stacks and measurements
// ---------------------------------------------------------------------------------------------

void draw_frame(std::size_t depth, const StackFrame& frame) {
    std::string where =
        frame.function.empty()
            ? fmt::format("{:#x}", frame.pc)
            : fmt::format("{}+{:#x}", short_function_name(frame.function), frame.offset);
    // Wrapped, never cut: a deep template name takes two lines; the tooltip has all of it.
    ImGui::PushTextWrapPos(0.0f);
    ImGui::Text("#%-2zu %s", depth, where.c_str());
    ImGui::PopTextWrapPos();
    if (ImGui::IsItemHovered() && !frame.function.empty()) {
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 40.0f);
        ImGui::TextUnformatted(frame.function.c_str());
        ImGui::TextDisabled("%s, pc %#llx", frame.module.c_str(),
                            static_cast<unsigned long long>(frame.pc));
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
    }
    if (!frame.module.empty()) {
        const std::string module = fmt::format("({})", frame.module);
        const float right = ImGui::GetCursorScreenPos().x + ImGui::GetContentRegionAvail().x;
        const float room = right - ImGui::GetItemRectMax().x - ImGui::GetStyle().ItemSpacing.x;
        if (ImGui::CalcTextSize(module.c_str()).x < room) {
            ImGui::SameLine();
            ImGui::TextDisabled("%s", module.c_str());
        } else { // on a line of its own, under the function
            ImGui::Indent();
            ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
            wrapped_text(module);
            ImGui::PopStyleColor();
            ImGui::Unindent();
        }
    }
}

// The Python side of a thread of a CPython process, above its native frames: what it waits for
// in Python's words (sys.stderr's buffer lock, the thread recorded inside it), then its Python
// frames innermost first, each "file:line in function()" with the full path in a tooltip.
void draw_python_frames(const ThreadStack& stack) {
    if (!stack.python) {
        if (!stack.python_error.empty()) {
            ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
            wrapped_text(fmt::format("no Python frames: {}", stack.python_error));
            ImGui::PopStyleColor();
        }
        return;
    }
    const PythonStack& python = *stack.python;
    if (python.without_thread)
        ImGui::TextDisabled("a Python thread state with no thread of this process behind it");
    if (const std::string waits = python_wait_words(python); !waits.empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(palette::waiting));
        wrapped_text(waits);
        ImGui::PopStyleColor();
    }
    ImGui::TextUnformatted("Python, innermost call first:");
    if (python.frames.empty())
        ImGui::TextDisabled("   no Python frame: it runs no Python code now");
    for (std::size_t depth = 0; depth < python.frames.size(); ++depth) {
        const PythonFrame& frame = python.frames[depth];
        const auto slash = frame.file.rfind('/');
        const std::string file =
            slash == std::string::npos ? frame.file : frame.file.substr(slash + 1);
        ImGui::PushTextWrapPos(0.0f);
        ImGui::Text("#%-2zu %s:%d in %s()", depth, file.c_str(), frame.line,
                    frame.function.c_str());
        ImGui::PopTextWrapPos();
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip("%s, line %d", frame.file.c_str(), frame.line);
    }
    ImGui::TextUnformatted("Native, innermost call first:");
}

// "process 2 thread 'printer' (tid 5)". A Python thread's name is its threading name: the
// observer puts it in place of the kernel's (python3 for every thread: CPython 3.11 never names
// its threads for the kernel).
std::string stack_thread_label(const ThreadStack& stack) {
    return fmt::format("process {} thread '{}' (tid {})", stack.ns_pid, stack.thread_name,
                       stack.ns_tid);
}

void draw_stacks(VerdictPanelState& state, const RunRecord& record, Selection& selection) {
    // A selection made anywhere (the timeline, the graph, an event) opens that thread's stack once.
    const bool selection_moved =
        selection.pid != state.shown_pid || selection.tid != state.shown_tid;
    state.shown_pid = selection.pid;
    state.shown_tid = selection.tid;
    for (std::size_t i = 0; i < record.stacks.size(); ++i) {
        const ThreadStack& stack = record.stacks[i];
        const bool selected =
            selection.tid != 0 && selection.pid == stack.ns_pid && selection.tid == stack.ns_tid;
        auto node = state.graph.find_thread(stack.ns_pid, stack.ns_tid);
        const bool culprit = node && state.graph.nodes[*node].culprit;
        ImGuiTreeNodeFlags flags = ImGuiTreeNodeFlags_OpenOnArrow |
                                   ImGuiTreeNodeFlags_OpenOnDoubleClick |
                                   ImGuiTreeNodeFlags_SpanAvailWidth;
        if (selected)
            flags |= ImGuiTreeNodeFlags_Selected;
        if (culprit)
            flags |= ImGuiTreeNodeFlags_DefaultOpen;
        if (selected && selection_moved)
            ImGui::SetNextItemOpen(true);
        std::string header = fmt::format("{}{}##stack{}", stack_thread_label(stack),
                                         culprit ? "  (culprit)" : "", i);
        const bool open = ImGui::TreeNodeEx(header.c_str(), flags);
        if (ImGui::IsItemClicked() && !ImGui::IsItemToggledOpen()) {
            selection.select_thread(stack.ns_pid, stack.ns_tid);
            state.shown_pid = stack.ns_pid; // chosen here: no need to re-open it next frame
            state.shown_tid = stack.ns_tid;
        }
        if (!open)
            continue;
        draw_python_frames(stack);
        if (stack.frames.empty())
            ImGui::TextDisabled("no stack: %s",
                                stack.error.empty() ? "unknown" : stack.error.c_str());
        for (std::size_t depth = 0; depth < stack.frames.size(); ++depth)
            draw_frame(depth, stack.frames[depth]);
        ImGui::TreePop();
    }
}

void draw_measurements(const std::vector<Measurement>& measurements) {
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                  ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_ScrollY;
    const float rows = static_cast<float>(std::min<std::size_t>(measurements.size(), 8) + 1);
    const ImVec2 size(0, rows * (ImGui::GetTextLineHeight() + 2 * ImGui::GetStyle().CellPadding.y) +
                             ImGui::GetStyle().CellPadding.y * 2);
    if (!ImGui::BeginTable("##measurements", 5, flags, size))
        return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("what");
    ImGui::TableSetupColumn("value");
    ImGui::TableSetupColumn("unit");
    ImGui::TableSetupColumn("thread");
    ImGui::TableSetupColumn("at ms");
    ImGui::TableHeadersRow();
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(measurements.size()));
    while (clipper.Step()) {
        for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row) {
            const Measurement& m = measurements[static_cast<std::size_t>(row)];
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(m.name.c_str());
            ImGui::TableNextColumn();
            ImGui::Text("%g", m.value);
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(m.unit.c_str());
            ImGui::TableNextColumn();
            ImGui::Text("%s (%d/%d)", m.thread.c_str(), m.pid, m.tid);
            ImGui::TableNextColumn();
            ImGui::Text("%.2f", static_cast<double>(m.t_ns) / 1e6);
        }
    }
    ImGui::EndTable();
}

void section(const char* title, const char* help) {
    ImGui::Spacing();
    ImGui::Separator();
    ImGui::TextUnformatted(title);
    help_marker(help);
}

} // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] the panel
// ---------------------------------------------------------------------------------------------

void draw_verdict_panel(VerdictPanelState& state, const RecordView& view, Selection& selection) {
    state.graph_drawn = false;
    ImGui::TextUnformatted("Verdict");
    help_marker("How the run ended and why. The verdict is proven, not guessed: 'deadlocked' means "
                "some threads (the stuck set) can never run again, because everything that could "
                "wake them is itself stuck, whatever other threads still do. The wait-for graph "
                "reads from top to bottom: a thread waits for a lock (or a process, a pipe), "
                "which is held by another thread. A red arrow is an orphaned lock: its owner "
                "thread does not exist in the waiting process, because fork() copied the lock but "
                "not the thread. Yellow arrows form a cycle. Hover a box for details, click a "
                "thread to select it in every panel. Below: the stacks (Python, then native) of "
                "the blocked "
                "threads, captured before the sandbox was killed.");
    if (!view) {
        ImGui::TextDisabled("No run yet.");
        return;
    }
    const RunRecord& record = *view.record;
    if (view.live) {
        // No verdict yet, and the record changes every sample: nothing to build until it ends.
        ImGui::TextColored(ImVec4(0.65f, 0.8f, 1.0f, 1.0f), "running...");
        ImGui::TextDisabled("%zu events, %zu processes so far", record.events.size(),
                            record.processes.size());
        return;
    }
    if (!state.built_from.matches(view)) {
        state.graph = build_wait_graph(record);
        state.measurements = measurements_of(record);
        state.built_from.remember(view);
    }

    // A record cut short says so first: its verdict is the saved one, not what is on screen.
    const std::string incomplete = describe_incomplete_record(record);
    if (!incomplete.empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(palette::warning));
        wrapped_text("Incomplete record. " + incomplete);
        ImGui::PopStyleColor();
        ImGui::TextDisabled("saved verdict:");
        ImGui::SameLine();
    }
    ImGui::TextColored(verdict_colour(record.verdict.kind), "%s",
                       verdict_headline(record.verdict).c_str());
    const ExpectationLine expected = expectation_line(record);
    if (!expected.text.empty()) {
        ImVec4 colour = expected.mismatch                  ? verdict_colour(VerdictKind::deadlocked)
                        : has_outcome(record.verdict.kind) ? verdict_colour(VerdictKind::completed)
                                                           : verdict_colour(record.verdict.kind);
        ImGui::PushStyleColor(ImGuiCol_Text, colour);
        wrapped_text(expected.text);
        ImGui::PopStyleColor();
    }
    std::string timing = fmt::format("verdict in {:.1f} ms", record.timings.verdict_ms);
    if (record.timings.quiet_window_ms > 0)
        timing += fmt::format(", quiet window {:.1f} ms", record.timings.quiet_window_ms);
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    wrapped_text(timing);
    ImGui::PopStyleColor();
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("setup %.1f ms, total %.1f ms, %d samples of /proc (%.0f us each)",
                          record.timings.setup_ms, record.timings.total_ms, record.timings.samples,
                          record.timings.sample_mean_us);
    // The picture first, right under the headline, so that it is in view without scrolling in
    // a short panel; the words that explain it follow.
    if (!state.graph.empty() && incomplete.empty()) {
        section("Wait-for graph",
                "Every stuck thread and what it waits for. Arrows: 'waits for' from a thread to "
                "what blocks it, 'held by' from a lock to its owner, 'runs' from a process to its "
                "threads, 'joins' from a thread to the thread it waits to end. An arrow that "
                "loops back up on the right closes a cycle. Grey dashed boxes are live threads of "
                "the same processes: they still run, and cannot wake anyone in the graph (a live "
                "owner of a lock a forked child waits for holds the parent's copy, not the "
                "child's).");
        draw_wait_graph(state, state.graph, selection);
    }
    ImGui::Spacing();
    wrapped_text(record.verdict.explanation);
    draw_warnings(record.verdict);
    if (const std::string lost = describe_lost_events(record); !lost.empty()) {
        ImGui::Spacing();
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(palette::warning));
        wrapped_text(lost);
        ImGui::PopStyleColor();
        help_marker("The sandbox records events into a fixed-size ring in shared memory. When it "
                    "is full, further events are counted and dropped rather than making the "
                    "program wait: the instrument must never cause a hang. The verdict does not "
                    "rest on them: a deadlock is proven from what /proc says, and exit statuses "
                    "have a reserve of their own. The timeline and the event log end where the "
                    "ring filled.");
    }
    draw_stuck_set(record, selection);
    draw_containment(record);

    if (!record.stacks.empty()) {
        section("Stacks of the blocked threads",
                "Where each blocked thread was, innermost call first (#0 is the blocking call). "
                "Click a header to select that thread everywhere; the arrow opens it. The "
                "culprit's stack is open.");
        draw_stacks(state, record, selection);
    }
    if (!state.measurements.empty()) {
        section("Measurements", "Figures the scenario measured while it ran (measurement events).");
        draw_measurements(state.measurements);
    }
}

} // namespace forklore::gui
