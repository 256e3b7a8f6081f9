// The Verdict panel's wait-for graph (verdict_wait_graph.hpp): the model's boxes and arrows in
// pixels, with ImDrawList, which has no dashed lines and no arrow heads of its own.
//
// Index of this file:
// [SECTION] Boxes: selection and colour
// [SECTION] Arrows in pixels
// [SECTION] Boxes in pixels: labels, dashed borders, tooltips
// [SECTION] The graph and its legend
#include "gui/panels/verdict_wait_graph.hpp"

#include "gui/widgets.hpp"

#include <imgui.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace forklore::gui {

namespace {

// ---------------------------------------------------------------------------------------------
// [SECTION] Boxes: selection and colour
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

// ---------------------------------------------------------------------------------------------
// [SECTION] Arrows in pixels
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// [SECTION] Boxes in pixels: labels, dashed borders, tooltips
// ---------------------------------------------------------------------------------------------

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

} // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] The graph and its legend
// ---------------------------------------------------------------------------------------------

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

} // namespace forklore::gui
