// [SECTION] text: headline, expected vs actual, function names
// [SECTION] the stuck set, the live threads beside it, what was left running
// [SECTION] the wait-for graph: boxes and arrows with ImDrawList
// [SECTION] stacks and measurements
// [SECTION] the panel
#include "gui/panels/verdict_panel.hpp"

#include "gui/record_completeness.hpp"
#include "gui/widgets.hpp"
#include "sim/run/matrix.hpp"

#include <imgui.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

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
    if (verdict.warnings.empty()) return;
    ImGui::Spacing();
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(palette::warning));
    ImGui::TextUnformatted(fmt::format("Warnings ({}): hazards that did not bite this time",
                                       verdict.warnings.size())
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
    if (record.sandbox.empty() && record.enforcement.empty()) return; // an older record
    ImGui::Spacing();
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    wrapped_text("sandbox: " + record.sandbox);
    ImGui::PopStyleColor();
    std::string help = "What the run's sandbox isolated, and how each limit was enforced:\n";
    for (const auto& e : record.enforcement)
        help += fmt::format("\n{}: {} ({}{})", e.limit, e.value, e.mechanism,
                            e.by_kernel ? "" : "; not by the kernel");
    if (!record.cgroups.empty()) help += "\n\ncgroups: " + record.cgroups;
    help_marker(help.c_str());
    for (const auto& line : limits_not_enforced_by_kernel(record)) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.7f, 0.3f, 1.0f));
        ImGui::TextWrapped("warning: %s", line.c_str());
        ImGui::PopStyleColor();
    }
}

// ---------------------------------------------------------------------------------------------
// [SECTION] the wait-for graph: boxes and arrows with ImDrawList
// ---------------------------------------------------------------------------------------------

bool node_selected(const WaitGraphNode& node, const Selection& selection) {
    switch (node.kind) {
    case WaitGraphNode::Kind::thread:
        return node.tid != 0 && selection.tid == node.tid && selection.pid == node.pid;
    case WaitGraphNode::Kind::lock:
        return node.address != 0 && selection.object == node.address && selection.pid == node.pid;
    case WaitGraphNode::Kind::file_lock:
        return node.address != 0 && selection.object == node.address;
    case WaitGraphNode::Kind::process:
        return node.pid != 0 && selection.pid == node.pid && selection.tid == 0;
    default:
        return false;
    }
}

void select_node(const WaitGraphNode& node, Selection& selection) {
    switch (node.kind) {
    case WaitGraphNode::Kind::thread:
        if (node.pid > 0)
            selection.select_thread(node.pid, node.tid);
        break;
    case WaitGraphNode::Kind::process:
        selection.select_thread(node.pid, 0);
        break;
    case WaitGraphNode::Kind::lock:
    case WaitGraphNode::Kind::file_lock:
        selection.clear();
        selection.pid = node.pid;
        selection.object = node.address;
        break;
    default:
        break;
    }
}

// The fill says what the box is in the house vocabulary: red a blocked thread, yellow a lock
// that is held while others wait, green a thread running, grey what has no owner.
ImU32 node_fill(const WaitGraphModel& graph, std::size_t index) {
    const WaitGraphNode& node = graph.nodes[index];
    switch (node.kind) {
    case WaitGraphNode::Kind::thread:
        if (node.blocked)
            return with_alpha(palette::waiting, 90);
        if (node.live)
            return with_alpha(palette::running, 70);
        return with_alpha(node.exists ? palette::held : palette::running, 90);
    case WaitGraphNode::Kind::lock:
    case WaitGraphNode::Kind::file_lock:
    case WaitGraphNode::Kind::pipe:
        for (const auto& edge : graph.edges)
            if (edge.from == index && edge.relation == WaitGraphEdge::Relation::held_by)
                return with_alpha(palette::held_with_waiters, 90);
        return with_alpha(palette::running, 120);
    default:
        return with_alpha(palette::running, 120);
    }
}

struct EdgeStyle {
    ImU32 colour;
    float thickness;
};

EdgeStyle edge_style(const WaitGraphEdge& edge) {
    if (edge.orphaned)
        return {palette::waiting, 3.0f};
    if (edge.in_cycle)
        return {palette::held_with_waiters, 2.5f};
    if (edge.relation == WaitGraphEdge::Relation::held_by)
        return {palette::held, 1.5f};
    return {palette::process_edge, 1.5f};
}

void arrow_head(ImDrawList* draw, ImVec2 tip, ImVec2 direction, float size, ImU32 colour) {
    float length = std::sqrt(direction.x * direction.x + direction.y * direction.y);
    if (length <= 0)
        return;
    ImVec2 d(direction.x / length, direction.y / length);
    ImVec2 normal(-d.y, d.x);
    ImVec2 base(tip.x - d.x * size, tip.y - d.y * size);
    draw->AddTriangleFilled(
        tip, ImVec2(base.x + normal.x * size * 0.5f, base.y + normal.y * size * 0.5f),
        ImVec2(base.x - normal.x * size * 0.5f, base.y - normal.y * size * 0.5f), colour);
}

// Pixel geometry of the graph: the model's units times a scale.
struct GraphCanvas {
    ImVec2 origin;
    float unit_x = 1, unit_y = 1;
    float right = 0;      // the drawable area's right edge: labels stay left of it
    float box_height = 0; // a box's height in pixels (rows are unit_y apart, unit_y >= it)
    ImVec2 centre(const WaitGraphNode& node) const {
        return ImVec2(origin.x + node.x * unit_x, origin.y + node.y * unit_y);
    }
    ImVec2 half() const { return ImVec2(kGraphNodeWidth * unit_x / 2, box_height / 2); }
};

void draw_edge(ImDrawList* draw, const GraphCanvas& canvas, const WaitGraphModel& graph,
               const WaitGraphEdge& edge) {
    const WaitGraphNode& from = graph.nodes[edge.from];
    const WaitGraphNode& to = graph.nodes[edge.to];
    const ImVec2 a = canvas.centre(from), b = canvas.centre(to), half = canvas.half();
    const EdgeStyle style = edge_style(edge);
    const float arrow = ImGui::GetFontSize() * 0.55f;
    ImVec2 p0, p1, p2, p3, direction;
    if (!edge.back && to.layer > from.layer) {
        // Downwards: from the bottom of one box to the top of the next.
        p0 = ImVec2(a.x, a.y + half.y);
        p3 = ImVec2(b.x, b.y - half.y);
        float bend = (p3.y - p0.y) * 0.5f;
        p1 = ImVec2(p0.x, p0.y + bend);
        p2 = ImVec2(p3.x, p3.y - bend);
        direction = ImVec2(0, 1);
    } else {
        // Back up to an earlier row (the edge that closes a cycle): around the right side.
        p0 = ImVec2(a.x + half.x, a.y);
        p3 = ImVec2(b.x + half.x, b.y);
        float out = canvas.unit_x * 0.35f;
        p1 = ImVec2(p0.x + out, p0.y);
        p2 = ImVec2(p3.x + out, p3.y);
        direction = ImVec2(-1, 0);
    }
    draw->AddBezierCubic(
        p0, p1, p2, ImVec2(p3.x - direction.x * arrow * 0.8f, p3.y - direction.y * arrow * 0.8f),
        style.colour, style.thickness);
    arrow_head(draw, p3, direction, arrow, style.colour);

    std::string label(to_string(edge.relation));
    if (edge.orphaned && edge.relation == WaitGraphEdge::Relation::held_by)
        label += " (orphaned)";
    ImVec2 middle((p0.x + 3 * p1.x + 3 * p2.x + p3.x) / 8, (p0.y + 3 * p1.y + 3 * p2.y + p3.y) / 8);
    ImVec2 size = ImGui::CalcTextSize(label.c_str());
    // Right of the arrow, or left of it when the right would run past the graph's edge.
    float x = middle.x + 4;
    if (canvas.right > 0 && x + size.x > canvas.right)
        x = std::max(canvas.origin.x, middle.x - 4 - size.x);
    draw->AddRectFilled(ImVec2(x - 1, middle.y - size.y / 2),
                        ImVec2(x + size.x + 1, middle.y + size.y / 2), IM_COL32(20, 20, 24, 200),
                        2.0f);
    draw->AddText(ImVec2(x, middle.y - size.y / 2), style.colour, label.c_str());
}

// The font size at which `text` fits `width`: the panel's own, or smaller down to 85% of it (a
// narrow panel keeps whole labels readable; smaller text would not be); what is still too long
// is wrapped or cut at the box's edge (see draw_node), and the tooltip has it all.
float fitted_font_size(const std::string& text, float width) {
    const float font = ImGui::GetFontSize();
    const float natural = ImGui::CalcTextSize(text.c_str()).x;
    if (natural <= width || natural <= 0)
        return font;
    return std::max(font * 0.85f, font * width / natural);
}

// ImGui draws no dashed lines: dashes of `dash` pixels with gaps as long.
void dashed_line(ImDrawList* draw, ImVec2 a, ImVec2 b, ImU32 colour, float dash = 5.0f) {
    const float length = std::sqrt((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y));
    if (length <= 0)
        return;
    const ImVec2 d((b.x - a.x) / length, (b.y - a.y) / length);
    for (float s = 0; s < length; s += 2 * dash) {
        const float e = std::min(length, s + dash);
        draw->AddLine(ImVec2(a.x + d.x * s, a.y + d.y * s), ImVec2(a.x + d.x * e, a.y + d.y * e),
                      colour);
    }
}

void dashed_rect(ImDrawList* draw, ImVec2 min, ImVec2 max, ImU32 colour) {
    dashed_line(draw, min, ImVec2(max.x, min.y), colour);
    dashed_line(draw, ImVec2(max.x, min.y), max, colour);
    dashed_line(draw, max, ImVec2(min.x, max.y), colour);
    dashed_line(draw, ImVec2(min.x, max.y), min, colour);
}

// The band above the live threads with no edges: a dashed rule and what they are.
void draw_live_note(ImDrawList* draw, const GraphCanvas& canvas, const WaitGraphModel& graph) {
    if (graph.live_top <= 0)
        return;
    const float y = canvas.origin.y + graph.live_top * canvas.unit_y;
    const ImU32 colour = IM_COL32(150, 150, 160, 255);
    dashed_line(draw, ImVec2(canvas.origin.x, y + 2),
                ImVec2(canvas.origin.x + graph.width * canvas.unit_x, y + 2), colour);
    const std::string note = "live beside them: cannot wake the stuck threads";
    const float width = graph.width * canvas.unit_x - 8;
    draw->AddText(ImGui::GetFont(), fitted_font_size(note, width),
                  ImVec2(canvas.origin.x + 4, y + 5), colour, note.c_str());
}

void draw_node(ImDrawList* draw, const GraphCanvas& canvas, const WaitGraphModel& graph,
               std::size_t index, const Selection& selection) {
    const WaitGraphNode& node = graph.nodes[index];
    const ImVec2 c = canvas.centre(node), half = canvas.half();
    const ImVec2 min(c.x - half.x, c.y - half.y), max(c.x + half.x, c.y + half.y);
    const float rounding = 4.0f;
    draw->AddRectFilled(min, max, node_fill(graph, index), rounding);
    ImU32 border = IM_COL32(150, 150, 160, 255);
    float thickness = 1.0f;
    if (node_selected(node, selection)) {
        border = palette::selected;
        thickness = 3.0f;
    } else if (node.culprit) {
        border = IM_COL32(255, 255, 255, 255);
        thickness = 2.5f;
    } else if (node.in_cycle) {
        border = palette::held_with_waiters;
        thickness = 2.0f;
    }
    if (node.live && thickness == 1.0f)
        dashed_rect(draw, min, max, border); // live: beside the graph, not part of it
    else
        draw->AddRect(min, max, border, rounding, 0, thickness);

    // Two lines, cut at the box's edge; the tooltip has everything.
    const float pad = ImGui::GetStyle().FramePadding.x;
    const float line = ImGui::GetTextLineHeight();
    // The clip starts at the box's edge: a glyph may begin a pixel left of its pen position.
    const ImVec4 clip(min.x + 1, min.y, max.x - pad, max.y);
    const float top = c.y - line;
    const float inner = max.x - min.x - 2 * pad;
    const ImU32 label_colour =
        node.live ? ImGui::GetColorU32(ImGuiCol_TextDisabled) : ImGui::GetColorU32(ImGuiCol_Text);
    const float label_size = fitted_font_size(node.label, inner);
    if (ImGui::CalcTextSize(node.label.c_str()).x * label_size / line > inner + 0.5f) {
        // Too long even when drawn smaller: the label takes both lines, wrapped at its words
        // ("main (tid 4) @" / "process 4"); the detail is in the tooltip.
        draw->AddText(ImGui::GetFont(), ImGui::GetFontSize(), ImVec2(min.x + pad, top),
                      label_colour, node.label.c_str(), nullptr, inner, &clip);
        return;
    }
    const float detail_size = fitted_font_size(node.detail, inner);
    draw->AddText(ImGui::GetFont(), label_size, ImVec2(min.x + pad, top + (line - label_size) / 2),
                  label_colour, node.label.c_str(), nullptr, 0.0f, &clip);
    draw->AddText(
        ImGui::GetFont(), detail_size, ImVec2(min.x + pad, top + line + (line - detail_size) / 2),
        ImGui::GetColorU32(ImGuiCol_TextDisabled), node.detail.c_str(), nullptr, 0.0f, &clip);
}

void node_tooltip(const WaitGraphNode& node) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 36.0f);
    ImGui::TextUnformatted(node.label.c_str());
    ImGui::TextDisabled("%s", node.detail.c_str());
    if (!node.tooltip.empty()) {
        ImGui::Separator();
        ImGui::TextUnformatted(node.tooltip.c_str());
    }
    if (node.kind == WaitGraphNode::Kind::thread && node.pid > 0)
        ImGui::TextDisabled("click to select this thread everywhere");
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
}

void draw_wait_graph(VerdictPanelState& state, const WaitGraphModel& graph, Selection& selection) {
    const float line = ImGui::GetTextLineHeight();
    const ImGuiStyle& style = ImGui::GetStyle();
    // A row is a box of two text lines and a gap for its arrows and their labels: as tall as a
    // box when the panel has room, down to a label's height so that the whole graph and its
    // legend fit the panel's visible height without scrolling.
    const float box_height = 2 * line + 2 * style.FramePadding.y + 4;
    const float rows = std::max(graph.height, 1.0f);
    const std::string legend_text =
        fmt::format("red: waits, yellow: held with waiters, thick white: the culprit{}",
                    graph.live_count > 0 ? ", grey dashed: live" : "");
    const float legend =
        ImGui::CalcTextSize(legend_text.c_str(), nullptr, false, ImGui::GetContentRegionAvail().x)
            .y +
        style.ItemSpacing.y;
    const float room =
        ImGui::GetContentRegionAvail().y - legend - 2 * style.WindowPadding.y - style.ItemSpacing.y;
    const float gap = std::clamp(room / rows - box_height, line + 6, box_height);
    const float unit_y = box_height + gap;
    // The graph fits the panel's width: a box is as wide as "main (tid 4) @ process 4" when
    // there is room (up to half as wide again), narrower when the panel is (its labels then drawn
    // smaller or on two lines, see draw_node). Only below 45% of that does the graph scroll
    // sideways.
    const float readable =
        ImGui::CalcTextSize("main (tid 4) @ process 4").x + 2 * style.FramePadding.x;
    const float min_unit_x = readable / kGraphNodeWidth;
    const bool loops_back = std::any_of(graph.edges.begin(), graph.edges.end(),
                                        [](const WaitGraphEdge& edge) { return edge.back; });
    // Room on the right for the arrows that loop back up, and their labels.
    const float side = loops_back ? line * 7 : line;
    const float available = ImGui::GetContentRegionAvail().x - side - 2 * style.WindowPadding.x;
    const float unit_x =
        std::clamp(available / std::max(graph.width, 0.01f), min_unit_x * 0.45f, min_unit_x * 1.5f);
    const bool scrolls = graph.width * unit_x + side > available + side;
    const float height =
        graph.height * unit_y + (scrolls ? style.ScrollbarSize : 0.0f) + 2 * style.WindowPadding.y;

    state.graph_drawn = true;
    state.graph_scrolls = scrolls;
    state.graph_min = ImGui::GetCursorScreenPos();
    if (ImGui::BeginChild("##wait_graph", ImVec2(0, height), true,
                          ImGuiWindowFlags_HorizontalScrollbar)) {
        GraphCanvas canvas;
        canvas.origin = ImGui::GetCursorScreenPos();
        canvas.unit_x = unit_x;
        canvas.unit_y = unit_y;
        canvas.box_height = box_height;
        canvas.right = canvas.origin.x + graph.width * unit_x + side;
        // Reserve the area so the child scrolls horizontally when the graph is wider than it.
        ImGui::Dummy(ImVec2(graph.width * unit_x + side, graph.height * unit_y));
        ImDrawList* draw = ImGui::GetWindowDrawList();
        draw_live_note(draw, canvas, graph);
        for (const auto& edge : graph.edges)
            draw_edge(draw, canvas, graph, edge);
        const bool hovered_window = ImGui::IsWindowHovered();
        for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
            draw_node(draw, canvas, graph, i, selection);
            const ImVec2 c = canvas.centre(graph.nodes[i]), half = canvas.half();
            if (hovered_window && ImGui::IsMouseHoveringRect(ImVec2(c.x - half.x, c.y - half.y),
                                                             ImVec2(c.x + half.x, c.y + half.y))) {
                node_tooltip(graph.nodes[i]);
                if (ImGui::IsMouseClicked(ImGuiMouseButton_Left))
                    select_node(graph.nodes[i], selection);
            }
        }
    }
    ImGui::EndChild();
    // The legend wraps: a narrow panel must not cut it.
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    wrapped_text(legend_text);
    ImGui::PopStyleColor();
    state.graph_max =
        ImVec2(state.graph_min.x + ImGui::GetContentRegionAvail().x, ImGui::GetItemRectMax().y);
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
        std::string header =
            fmt::format("process {} thread '{}' (tid {}){}##stack{}", stack.ns_pid,
                        stack.thread_name, stack.ns_tid, culprit ? "  (culprit)" : "", i);
        const bool open = ImGui::TreeNodeEx(header.c_str(), flags);
        if (ImGui::IsItemClicked() && !ImGui::IsItemToggledOpen()) {
            selection.select_thread(stack.ns_pid, stack.ns_tid);
            state.shown_pid = stack.ns_pid; // chosen here: no need to re-open it next frame
            state.shown_tid = stack.ns_tid;
        }
        if (!open)
            continue;
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
                "thread to select it in every panel. Below: the native stacks of the blocked "
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
        ImVec4 colour = expected.mismatch ? verdict_colour(VerdictKind::deadlocked)
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
