// [SECTION] colours and sizes
// [SECTION] a node: box, text, tooltip, click
// [SECTION] the panel
#include "gui/panels/process_tree_panel.hpp"

#include "gui/widgets.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>

namespace forklore::gui {
namespace {

constexpr const char* kHelp =
    "The processes of the run, from parent (top) to child (below). Each edge says how the "
    "child was made: fork (a copy of the parent's memory, with only the thread that called "
    "fork), fork_exec (fork, then a fresh program), spawn (a fresh program), forkserver (a copy "
    "of a clean server forked early); 'sandbox' edges are forklore's own host and reaper, "
    "shown when 'sandbox host and reaper' is ticked (the host's pid is the machine's; every "
    "other pid is the sandbox's own).\n\n"
    "A box's colour is the process's state at the end of the run: red stuck (after a deadlock: "
    "none of its threads can ever run again) or blocked (every thread waits with no timeout), "
    "half red half grey partly stuck (some threads stuck, others still running beside them: the "
    "red part is the stuck share), green exited with code 0, orange exited with another code or "
    "killed by a signal, grey killed by the runner when it ended the sandbox. A thick red "
    "outline marks the culprit, the process the verdict is about.\n\n"
    "Hover a box for its threads and what each waits for; click it to select the process in "
    "every panel.";

// ---------------------------------------------------------------------------------------------
// [SECTION] colours and sizes
// ---------------------------------------------------------------------------------------------

constexpr ImU32 kExitedOk = palette::held;
constexpr ImU32 kFailed = IM_COL32(235, 150, 50, 255);
constexpr ImU32 kKilledByRunner = IM_COL32(130, 130, 140, 255);
constexpr ImU32 kText = IM_COL32(235, 235, 240, 255);

ImU32 state_colour(const ProcessNode& node) {
    switch (node.state) {
    case ProcessState::blocked:
    case ProcessState::stuck:
    case ProcessState::partly_stuck:
        return palette::waiting;
    case ProcessState::exited:
        if (!node.exit_status_known)
            return palette::process_edge; // no status was read: neither success nor failure
        return node.exit_code == 0 ? kExitedOk : kFailed;
    case ProcessState::killed_by_signal:
        return kFailed;
    case ProcessState::killed_by_runner:
        return kKilledByRunner;
    case ProcessState::running:
        break;
    }
    return palette::running;
}

struct Geometry {
    float line = 0; // text line height
    float box_w = 0, box_h = 0;
    float gap_x = 0, gap_y = 0;
    ImVec2 origin;

    // Top-down: a level per depth, leaves side by side.
    ImVec2 box_min(const ProcessNode& node) const {
        return {origin.x + node.slot * (box_w + gap_x),
                origin.y + static_cast<float>(node.depth) * (box_h + gap_y)};
    }
};

Geometry geometry_at(ImVec2 origin) {
    Geometry g;
    g.line = ImGui::GetTextLineHeight();
    g.box_w = ImGui::CalcTextSize("process 00000 'forkserver'").x + 16.0f;
    g.box_h = g.line * 3.0f + 12.0f;
    g.gap_x = g.line;
    g.gap_y = g.line * 2.5f; // room for the edge's label
    g.origin = origin;
    return g;
}

void legend_swatch(ImU32 colour, const char* label) {
    ImDrawList* draw = ImGui::GetWindowDrawList();
    ImVec2 at = ImGui::GetCursorScreenPos();
    float size = ImGui::GetTextLineHeight();
    draw->AddRectFilled(at, ImVec2(at.x + size, at.y + size), colour, 2.0f);
    ImGui::Dummy(ImVec2(size, size));
    ImGui::SameLine();
    ImGui::TextUnformatted(label);
    ImGui::SameLine();
}

void legend() {
    legend_swatch(palette::waiting, "stuck / blocked");
    legend_swatch(kExitedOk, "exited 0");
    legend_swatch(kFailed, "failed / crashed");
    legend_swatch(kKilledByRunner, "killed by the runner");
    legend_swatch(palette::running, "running");
    ImGui::NewLine();
}

// ---------------------------------------------------------------------------------------------
// [SECTION] a node: box, text, tooltip, click
// ---------------------------------------------------------------------------------------------

// Parent's bottom to child's top: down, across, down, with the start method beside the last leg
// and an arrow head at the child.
void draw_edge(ImDrawList* draw, const Geometry& g, const ProcessNode& parent,
               const ProcessNode& child) {
    ImVec2 from = g.box_min(parent);
    from.x += g.box_w * 0.5f;
    from.y += g.box_h;
    ImVec2 to = g.box_min(child);
    to.x += g.box_w * 0.5f;
    float elbow = from.y + g.gap_y * 0.25f;
    ImU32 colour = palette::process_edge;
    draw->AddLine(from, ImVec2(from.x, elbow), colour, 1.5f);
    draw->AddLine(ImVec2(from.x, elbow), ImVec2(to.x, elbow), colour, 1.5f);
    draw->AddLine(ImVec2(to.x, elbow), ImVec2(to.x, to.y - 1.0f), colour, 1.5f);
    draw->AddTriangleFilled(ImVec2(to.x, to.y), ImVec2(to.x - 4.0f, to.y - 7.0f),
                            ImVec2(to.x + 4.0f, to.y - 7.0f), colour);
    const std::string& label = child.edge_label;
    draw->AddText(ImVec2(to.x + 6.0f, elbow + 2.0f), colour, label.c_str());
}

void node_tooltip(const ProcessNode& node) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 36.0f);
    ImGui::TextUnformatted(node.title().c_str());
    if (node.host_pid != 0 && node.host_pid != node.pid)
        ImGui::TextDisabled("host pid %d", node.host_pid);
    if (node.edge_label == "child of")
        ImGui::Text("child of process %d (how it was made is not known)", node.parent);
    else if (!node.edge_label.empty())
        ImGui::Text("made by process %d with %s", node.parent, node.edge_label.c_str());
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(state_colour(node)), "%s",
                       node.state_text.c_str());
    if (node.culprit)
        ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(palette::waiting),
                           "the culprit: the process the verdict is about");
    ImGui::Text("started at %.1f ms", static_cast<double>(node.start_ns) / 1e6);
    if (node.end_ns > 0)
        ImGui::Text("ended at %.1f ms", static_cast<double>(node.end_ns) / 1e6);
    ImGui::Separator();
    ImGui::Text("%zu thread%s", node.threads.size(), node.threads.size() == 1 ? "" : "s");
    for (const auto& thread : node.threads) {
        if (thread.stuck || thread.live)
            ImGui::BulletText("%s '%s' (tid %d): %s", thread.stuck ? "STUCK" : "live",
                              thread.name.c_str(), thread.tid, thread.wait.c_str());
        else if (thread.wait.empty())
            ImGui::BulletText("'%s' (tid %d)", thread.name.c_str(), thread.tid);
        else
            ImGui::BulletText("'%s' (tid %d): %s", thread.name.c_str(), thread.tid,
                              thread.wait.c_str());
    }
    // Its part in the verdict beyond its own threads' waits: what others wait for from it.
    bool header = false;
    for (const auto& line : node.verdict_lines) {
        if (line.rfind("waited for by another process: ", 0) != 0)
            continue;
        if (!header)
            ImGui::Separator();
        header = true;
        ImGui::BulletText("%s", line.c_str());
    }
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
}

void draw_node(ProcessTreePanelState& state, std::size_t index, const Geometry& g,
               Selection& selection) {
    const ProcessNode& node = state.model.nodes[index];
    ImDrawList* draw = ImGui::GetWindowDrawList();
    ImVec2 min = g.box_min(node);
    ImVec2 max(min.x + g.box_w, min.y + g.box_h);
    ImU32 colour = state_colour(node);
    bool selected = selection.pid != 0 && selection.pid == node.pid;

    if (node.state == ProcessState::partly_stuck) {
        // The stuck share of its threads in red, the live share grey.
        const float share = static_cast<float>(node.stuck_threads) /
                            static_cast<float>(node.stuck_threads + node.live_threads);
        const float split = min.x + (max.x - min.x) * share;
        draw->AddRectFilled(min, ImVec2(split, max.y), with_alpha(colour, 80), 4.0f,
                            ImDrawFlags_RoundCornersLeft);
        draw->AddRectFilled(ImVec2(split, min.y), max, with_alpha(palette::running, 110), 4.0f,
                            ImDrawFlags_RoundCornersRight);
    } else {
        draw->AddRectFilled(min, max, with_alpha(colour, 80), 4.0f);
    }
    ImU32 border = node.culprit ? palette::waiting : selected ? palette::selected : colour;
    float thickness = node.culprit ? 3.5f : selected ? 2.5f : 1.0f;
    draw->AddRect(min, max, border, 4.0f, 0, thickness);
    if (node.culprit && selected) // both: the selection inside the culprit's outline
        draw->AddRect(ImVec2(min.x + 4, min.y + 4), ImVec2(max.x - 4, max.y - 4), palette::selected,
                      3.0f, 0, 1.5f);

    std::string threads =
        node.state == ProcessState::partly_stuck
            ? fmt::format("{} of {} threads stuck", node.stuck_threads, node.threads.size())
            : fmt::format("{} thread{}", node.threads.size(), node.threads.size() == 1 ? "" : "s");
    std::string third = node.culprit ? "CULPRIT - " + threads : threads;
    draw->PushClipRect(min, max, true);
    ImVec2 text(min.x + 8.0f, min.y + 6.0f);
    draw->AddText(text, kText, node.title().c_str());
    draw->AddText(ImVec2(text.x, text.y + g.line), colour, node.state_label.c_str());
    draw->AddText(ImVec2(text.x, text.y + g.line * 2.0f), node.culprit ? palette::waiting : kText,
                  third.c_str());
    draw->PopClipRect();

    ImGui::SetCursorScreenPos(min);
    ImGui::PushID(static_cast<int>(index));
    if (ImGui::InvisibleButton("node", ImVec2(g.box_w, g.box_h)))
        selection.select_thread(node.pid, 0);
    if (ImGui::IsItemHovered())
        node_tooltip(node);
    ImGui::PopID();
    state.drawn_nodes.push_back({index, min, max});
}

} // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] the panel
// ---------------------------------------------------------------------------------------------

void draw_process_tree_panel(ProcessTreePanelState& state, const RecordView& view,
                             Selection& selection) {
    ImGui::TextUnformatted("Process tree");
    help_marker(kHelp);
    if (!view) {
        ImGui::TextDisabled("No run yet.");
        return;
    }
    if (!state.built_from.matches(view, state.show_infrastructure)) {
        state.model = build_process_tree(*view.record, view.live,
                                         state.show_infrastructure ? Infrastructure::shown
                                                                   : Infrastructure::hidden);
        state.built_from.remember(view, state.show_infrastructure);
    }
    state.drawn_nodes.clear();
    const ProcessTreeModel& model = state.model;
    ImGui::SameLine();
    ImGui::TextColored(view.live ? ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled)
                                 : verdict_colour(view.record->verdict.kind),
                       "%s", model.verdict_summary.c_str());
    legend();
    ImGui::Checkbox("sandbox host and reaper", &state.show_infrastructure);
    help_marker("The sandbox's own processes: the host, which sets the sandbox up and lives "
                "outside it (its pid is the machine's, while every other pid is the sandbox's "
                "own), and the reaper, pid 1 inside the sandbox, which collects orphaned "
                "processes. They are not the scenario's code: hidden unless ticked.");
    if (model.nodes.empty()) {
        ImGui::TextDisabled("No process recorded yet.");
        return;
    }

    ImGui::BeginChild("process tree canvas", ImVec2(0, 0), false,
                      ImGuiWindowFlags_HorizontalScrollbar);
    ImVec2 start = ImGui::GetCursorScreenPos();
    Geometry g = geometry_at(ImVec2(start.x + 4.0f, start.y + 4.0f));
    ImDrawList* draw = ImGui::GetWindowDrawList();
    for (const auto& node : model.nodes)
        if (node.parent_index)
            draw_edge(draw, g, model.nodes[*node.parent_index], node);
    for (std::size_t i = 0; i < model.nodes.size(); ++i)
        draw_node(state, i, g, selection);
    // The whole tree's extent, so the child region scrolls to every box.
    ImGui::SetCursorScreenPos(start);
    ImGui::Dummy(ImVec2(static_cast<float>(model.slots) * (g.box_w + g.gap_x) + 8.0f,
                        static_cast<float>(model.levels) * (g.box_h + g.gap_y)));
    ImGui::EndChild();
}

} // namespace forklore::gui
