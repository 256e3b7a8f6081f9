#include "gui/panels/matrix_panel.hpp"

#include "gui/widgets.hpp"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <fmt/format.h>

#include <algorithm>

namespace forklore::gui {

namespace {

constexpr ImU32 kMismatchBorder = IM_COL32(255, 70, 70, 255);
const ImVec4 kPendingColour{0.30f, 0.30f, 0.34f, 1.0f};

void refresh(MatrixPanelState& state) {
    const std::uint64_t version = state.session.version();
    if (version == state.version_seen)
        return;
    state.version_seen = version;
    state.entries = state.session.entries();
    state.rows.clear();
    for (std::size_t i = 0; i < state.entries.size(); ++i) {
        if (state.rows.empty() ||
            state.entries[state.rows.back().front()].scenario != state.entries[i].scenario)
            state.rows.emplace_back();
        state.rows.back().push_back(i);
    }
}

ImVec4 dimmed(ImVec4 colour, float factor) {
    return ImVec4(colour.x * factor, colour.y * factor, colour.z * factor, colour.w);
}

// What a cell shows under its variant's name; the colour already says the verdict, so a deadlock
// shows only its reason. The tooltip has the whole label.
std::string cell_caption(const MatrixEntry& entry, bool running) {
    if (!entry.done)
        return running ? "..." : "not run";
    const MatrixCell& cell = entry.cell;
    if (cell.expected.racy || cell.verdict_counts.size() != 1 || !entry.record)
        return describe_cell_actual(cell);
    const Verdict& verdict = entry.record->verdict;
    if (verdict.kind == VerdictKind::deadlocked && verdict.reason)
        return std::string(to_string(*verdict.reason));
    return cell.verdict_counts.begin()->first;
}

} // namespace

std::string cell_warning_mark(const MatrixEntry& entry) {
    return entry.done && !entry.cell.warning_counts.empty() ? "  !" : "";
}

namespace {

std::string cell_label(const MatrixEntry& entry, bool running) {
    const char* mark = entry.done ? (entry.cell.passed ? "  ok" : "  FAIL") : "";
    return fmt::format("{}{}{}\n{}", entry.variant, mark, cell_warning_mark(entry),
                       cell_caption(entry, running));
}

void draw_cell_tooltip(const MatrixEntry& entry) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 36);
    ImGui::Text("%s:%s", entry.scenario.c_str(), entry.variant.c_str());
    ImGui::Text("expected: %s", entry.expected.describe().c_str());
    if (!entry.done) {
        ImGui::TextDisabled("not run yet");
    } else {
        const MatrixCell& cell = entry.cell;
        ImGui::Text("actual:   %s", describe_cell_actual(cell).c_str());
        if (cell.expected.racy || cell.runs > 1)
            ImGui::Text("hang rate %.0f%% (%d of %d), 95%% interval [%.0f%%, %.0f%%]",
                        cell.hang_rate() * 100, cell.hangs, cell.runs,
                        cell.hang_rate_interval.low * 100, cell.hang_rate_interval.high * 100);
        ImGui::Text("verdict in %.1f ms (mean), %.1f ms (max)", cell.mean_verdict_ms,
                    cell.max_verdict_ms);
        ImGui::TextColored(cell.passed ? verdict_colour(VerdictKind::completed)
                                       : verdict_colour(VerdictKind::deadlocked),
                           "%s", cell.passed ? "pass" : "FAIL");
        if (!cell.mismatch.empty())
            ImGui::TextUnformatted(cell.mismatch.c_str());
        for (const auto& [kind, runs] : cell.warning_counts)
            ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(palette::warning),
                               "warning: %s in %d of %d run%s", kind.c_str(), runs, cell.runs,
                               cell.runs == 1 ? "" : "s");
        if (entry.record)
            for (const auto& warning : entry.record->verdict.warnings)
                ImGui::TextWrapped("%s", warning.text.c_str());
        ImGui::TextDisabled("click to open its last run");
    }
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
}

// One cell: a button coloured by the verdict of its last run, "variant ok" over what it ended as.
void draw_cell(MatrixPanelState& state, const MatrixEntry& entry, float width, bool running) {
    const std::string key = entry.scenario + ":" + entry.variant;
    ImVec4 colour = kPendingColour;
    if (entry.done && entry.record)
        colour = dimmed(verdict_colour(entry.record->verdict.kind), 0.75f);
    ImGui::PushStyleColor(ImGuiCol_Button, colour);
    ImGui::PushStyleColor(ImGuiCol_ButtonHovered, dimmed(colour, 1.25f));
    ImGui::PushStyleColor(ImGuiCol_ButtonActive, dimmed(colour, 1.4f));
    const std::string label = cell_label(entry, running) + "##" + key;
    if (ImGui::Button(label.c_str(), ImVec2(width, 0)) && entry.done && entry.record) {
        state.opened = key;
        state.open_request = RecordView{entry.record, entry.generation, false};
    }
    ImGui::PopStyleColor(3);
    if (ImGui::IsItemHovered())
        draw_cell_tooltip(entry);
    ImDrawList* draw = ImGui::GetWindowDrawList();
    if (entry.done && !entry.cell.warning_counts.empty()) {
        // A hazard that did not bite: a warning-coloured corner, beside the "!" in the label.
        const ImVec2 max = ImGui::GetItemRectMax();
        const float size = ImGui::GetFontSize() * 0.7f;
        const ImVec2 corner(max.x, ImGui::GetItemRectMin().y);
        draw->AddTriangleFilled(corner, ImVec2(corner.x - size, corner.y),
                                ImVec2(corner.x, corner.y + size), palette::warning);
    }
    if (entry.done && !entry.cell.passed)
        draw->AddRect(ImGui::GetItemRectMin(), ImGui::GetItemRectMax(), kMismatchBorder, 3.0f, 0,
                      2.0f);
    if (key == state.opened)
        draw->AddRect(ImGui::GetItemRectMin(), ImGui::GetItemRectMax(), palette::selected, 3.0f, 0,
                      2.0f);
}

void draw_legend() {
    const std::pair<VerdictKind, const char*> entries[] = {
        {VerdictKind::completed, "completed"},
        {VerdictKind::deadlocked, "deadlocked"},
        {VerdictKind::crashed, "failed / crashed"},
        {VerdictKind::timed_out, "timed out / limit"},
    };
    // Each entry on the line while it fits the panel: a narrow panel wraps the legend.
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    auto next_fits = [&](const char* text) {
        const float width = ImGui::GetFontSize() + 4 + ImGui::CalcTextSize(text).x;
        return ImGui::GetItemRectMax().x + ImGui::GetStyle().ItemSpacing.x + width < right;
    };
    bool first = true;
    for (const auto& [kind, name] : entries) {
        if (!first && next_fits(name))
            ImGui::SameLine();
        first = false;
        ImGui::ColorButton(name, dimmed(verdict_colour(kind), 0.75f), ImGuiColorEditFlags_NoTooltip,
                           ImVec2(ImGui::GetFontSize(), ImGui::GetFontSize()));
        ImGui::SameLine(0, 4);
        ImGui::TextUnformatted(name);
    }
    const char* border = "| red border: not as expected | ! and a yellow corner: a warning";
    if (next_fits(border))
        ImGui::SameLine();
    ImGui::TextDisabled("%s", border);
}

void draw_toolbar(MatrixPanelState& state) {
    const bool running = state.session.running();
    ImGui::BeginDisabled(running);
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("filter");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 14);
    ImGui::InputTextWithHint("##filter", "glob: * or file-read-under-lock:*", &state.filter);
    ImGui::SameLine();
    ImGui::TextUnformatted("repeat");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    ImGui::InputInt("##repeat", &state.repeat);
    state.repeat = std::clamp(state.repeat, 1, 1000);
    ImGui::SameLine();
    ImGui::Checkbox("racy and slow", &state.all_variants);
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Unticked, the matrix runs the quick deterministic variants (as "
                          "'forklore matrix'); ticked, every variant (as 'forklore matrix --all'). "
                          "A filter other than * runs every variant it matches.");
    ImGui::SameLine();
    ImGui::Checkbox("self-tests", &state.include_hidden);
    ImGui::SameLine();
    if (ImGui::Button("Run matrix")) {
        MatrixOptions options;
        options.filter = state.filter.empty() ? "*" : state.filter;
        options.repeat = state.repeat;
        // The same tiers as the command line: a filter names the variants the user wants.
        const bool everything = state.all_variants || options.filter != "*";
        options.include_racy = everything;
        options.include_slow = everything;
        options.include_hidden = state.include_hidden;
        state.skipped = skipped_variants(options);
        state.opened.clear();
        state.error = state.session.start(options);
    }
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::BeginDisabled(!running);
    if (ImGui::Button("Stop##matrix"))
        state.session.stop();
    ImGui::EndDisabled();

    const MatrixProgress progress = state.session.progress();
    if (!state.error.empty() || !progress.error.empty())
        ImGui::TextColored(verdict_colour(VerdictKind::deadlocked), "%s",
                           (state.error.empty() ? progress.error : state.error).c_str());
    else if (progress.total)
        ImGui::Text("%zu of %zu variants done: %zu pass, %zu fail%s%s", progress.done,
                    progress.total, progress.passed, progress.failed,
                    progress.running ? "" : (progress.stopped ? " (stopped)" : ""),
                    state.skipped.total()
                        ? fmt::format("; {} racy and {} slow skipped ('racy and slow' runs them)",
                                      state.skipped.racy, state.skipped.slow)
                              .c_str()
                        : "");
    else
        ImGui::TextDisabled("Not run yet.");
}

} // namespace

std::string describe_cell_actual(const MatrixCell& cell) {
    if (cell.runs == 0)
        return "not run";
    if (cell.expected.racy)
        return fmt::format("hang {:.0f}% [{:.0f}%, {:.0f}%]", cell.hang_rate() * 100,
                           cell.hang_rate_interval.low * 100, cell.hang_rate_interval.high * 100);
    if (cell.verdict_counts.size() == 1)
        return cell.verdict_counts.begin()->first;
    std::string text;
    for (const auto& [label, count] : cell.verdict_counts)
        text += fmt::format("{}{} {}", text.empty() ? "" : ", ", label, count);
    return text;
}

void draw_matrix_panel(MatrixPanelState& state, const RecordView& /*view*/,
                       Selection& /*selection*/) {
    state.open_request.reset();
    ImGui::TextUnformatted("Matrix");
    help_marker("Every scenario variant of the corpus run for real and compared with the outcome "
                "it is expected to have: one row per scenario, one cell per variant. A cell's "
                "colour is the verdict of its last run (green completed, red deadlocked, orange "
                "failed or crashed, grey timed out or limit); a red border marks a cell that did "
                "not end as expected. Racy variants show their hang rate with its 95% interval. "
                "Hover a cell for details; click a finished cell to open its last run in the other "
                "panels. The filter is a glob on scenario:variant.");
    draw_toolbar(state);
    refresh(state);
    if (state.entries.empty()) {
        ImGui::TextDisabled("Press Run matrix to run every variant of the corpus (the filter "
                            "narrows it).");
        return;
    }
    draw_legend();
    const bool running = state.session.running();
    // Every cell is visible without scrolling sideways: one width for all (the widest caption's,
    // within [7, 14] font sizes), as many per line as the panel holds, a scenario's cells
    // continuing on the next line when it has more variants than that. A caption longer than a
    // cell is cut at its edge; the tooltip has all of it.
    const float font = ImGui::GetFontSize();
    float cell_width = font * 7;
    for (const auto& entry : state.entries)
        cell_width =
            std::max(cell_width, ImGui::CalcTextSize(cell_label(entry, running).c_str()).x);
    cell_width = std::min(cell_width + ImGui::GetStyle().FramePadding.x * 2, font * 14);
    if (!ImGui::BeginChild("##matrix-cells", ImVec2(0, 0), false)) {
        ImGui::EndChild();
        return;
    }
    const float spacing = ImGui::GetStyle().ItemSpacing.x;
    const float available = ImGui::GetContentRegionAvail().x;
    state.cells_drawn = 0;
    state.cells_right = 0;
    state.area_right = ImGui::GetCursorScreenPos().x + available;
    const std::size_t per_line = std::max<std::size_t>(
        1, static_cast<std::size_t>((available + spacing) / (cell_width + spacing)));
    ImGui::PushStyleVar(ImGuiStyleVar_ButtonTextAlign, ImVec2(0.0f, 0.5f));
    for (const auto& row : state.rows) {
        const MatrixEntry& first = state.entries[row.front()];
        ImGui::Text("%03d %s", first.scenario_number, first.scenario.c_str());
        ImGui::SameLine();
        ImGui::TextDisabled("(%zu variant%s)", row.size(), row.size() == 1 ? "" : "s");
        for (std::size_t k = 0; k < row.size(); ++k) {
            if (k % per_line != 0)
                ImGui::SameLine();
            draw_cell(state, state.entries[row[k]], cell_width, running);
            ++state.cells_drawn;
            state.cells_right = std::max(state.cells_right, ImGui::GetItemRectMax().x);
        }
        ImGui::Spacing();
    }
    ImGui::PopStyleVar();
    ImGui::EndChild();
}

} // namespace forklore::gui
