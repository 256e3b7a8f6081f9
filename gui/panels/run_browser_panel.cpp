#include "gui/panels/run_browser_panel.hpp"

#include "gui/widgets.hpp"

#include <imgui.h>

#include <fmt/format.h>

#include <algorithm>

namespace forklore::gui {

namespace {

constexpr float kCellMax = 12; // a run's cell in the strip, when they all fit at this width
constexpr float kCellMin = 2;

ImU32 cell_colour(const RunEntry& entry) {
    if (entry.stopped)
        return IM_COL32(140, 140, 150, 255); // grey: cut short, no verdict of its own
    return ImGui::ColorConvertFloat4ToU32(verdict_colour(entry.kind));
}

} // namespace

std::string run_label(const RecordView& view, int runs_asked, int runs_done) {
    if (!view || view.run_number <= 0)
        return {};
    const int of = std::max({runs_asked, runs_done, view.run_number});
    return fmt::format("run {} of {}{}", view.run_number, of, view.live ? " (running)" : "");
}

void draw_run_browser(RunBrowserState& state, const std::vector<RunEntry>& runs, int runs_asked,
                      const RecordView& view, bool pinned, std::size_t budget_bytes) {
    state.show_run.reset();
    state.follow_latest = false;
    ImGui::AlignTextToFramePadding();
    const std::string label = run_label(view, runs_asked, static_cast<int>(runs.size()));
    ImGui::TextUnformatted(label.empty() ? "Runs" : label.c_str());
    help_marker("Every finished run of the last Run or Repeat is kept: step through them with < "
                "and >, or click a run in the strip (its colour is its verdict's). The filter "
                "makes < and > step through the hung runs only (deadlocked or timed out), or the "
                "completed ones only; the strip dims the others. While a Repeat goes on, the "
                "newest run is shown unless you chose one; 'Latest' follows the newest again. "
                "Records are kept within a memory budget: past it the oldest are dropped (never "
                "the last example of an outcome), and the strip shows them hollow.");
    const int current = view.run_number;

    ImGui::SameLine();
    const auto previous = step_runs(runs, current, -1, state.filter);
    ImGui::BeginDisabled(!previous);
    if (ImGui::ArrowButton("##previous-run", ImGuiDir_Left) && previous)
        state.show_run = *previous;
    ImGui::EndDisabled();
    ImGui::SameLine();
    const auto next = step_runs(runs, current, +1, state.filter);
    ImGui::BeginDisabled(!next);
    if (ImGui::ArrowButton("##next-run", ImGuiDir_Right) && next)
        state.show_run = *next;
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::BeginDisabled(!pinned);
    if (ImGui::SmallButton("Latest"))
        state.follow_latest = true;
    ImGui::EndDisabled();

    const auto hung = std::count_if(runs.begin(), runs.end(),
                                    [](const RunEntry& e) { return e.matches(RunFilter::hung); });
    const auto completed = std::count_if(runs.begin(), runs.end(), [](const RunEntry& e) {
        return e.matches(RunFilter::completed);
    });
    ImGui::SameLine(0, ImGui::GetFontSize());
    int filter = static_cast<int>(state.filter);
    ImGui::RadioButton("all", &filter, static_cast<int>(RunFilter::all));
    ImGui::SameLine();
    ImGui::RadioButton(fmt::format("hung ({})", hung).c_str(), &filter,
                       static_cast<int>(RunFilter::hung));
    ImGui::SameLine();
    ImGui::RadioButton(fmt::format("completed ({})", completed).c_str(), &filter,
                       static_cast<int>(RunFilter::completed));
    state.filter = static_cast<RunFilter>(filter);

    const auto dropped =
        std::count_if(runs.begin(), runs.end(), [](const RunEntry& e) { return !e.kept(); });
    if (dropped > 0) {
        ImGui::SameLine();
        ImGui::TextDisabled("(%d records dropped for memory)", static_cast<int>(dropped));
    }

    // The strip: one cell per run, as wide as the rest of the line allows.
    if (runs.empty())
        return;
    ImGui::SameLine(0, ImGui::GetFontSize());
    const float avail = ImGui::GetContentRegionAvail().x;
    const float cell = std::clamp(avail / static_cast<float>(runs.size()), kCellMin, kCellMax);
    const float height = ImGui::GetFrameHeight();
    const float width = std::max(cell, cell * static_cast<float>(runs.size()));
    ImGui::InvisibleButton("##run-strip", ImVec2(std::min(width, std::max(avail, cell)), height));
    const ImVec2 min = ImGui::GetItemRectMin(), max = ImGui::GetItemRectMax();
    ImDrawList* draw = ImGui::GetWindowDrawList();
    draw->PushClipRect(min, max, true);
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const RunEntry& entry = runs[i];
        const float x0 = min.x + cell * static_cast<float>(i);
        if (x0 > max.x)
            break;
        const ImVec2 a(x0, min.y + 3), b(x0 + std::max(1.0f, cell - 1), max.y - 3);
        ImU32 colour = cell_colour(entry);
        if (!entry.matches(state.filter))
            colour = (colour & ~IM_COL32_A_MASK) | (60u << IM_COL32_A_SHIFT);
        if (entry.kept())
            draw->AddRectFilled(a, b, colour);
        else
            draw->AddRect(a, b, colour);
        if (entry.number == current)
            draw->AddRect(ImVec2(a.x - 1, min.y), ImVec2(b.x + 1, max.y), palette::selected, 0, 0,
                          2);
    }
    draw->PopClipRect();
    if (ImGui::IsItemHovered()) {
        const auto index =
            static_cast<std::size_t>(std::max(0.0f, (ImGui::GetIO().MousePos.x - min.x) / cell));
        if (index < runs.size()) {
            const RunEntry& entry = runs[index];
            const std::string tip =
                entry.kept()
                    ? fmt::format("run {}: {}\nclick to show it", entry.number, entry.outcome)
                    : fmt::format("run {}: {}\nits record was dropped to stay within the {} MiB "
                                  "the history may hold",
                                  entry.number, entry.outcome, budget_bytes >> 20);
            ImGui::SetTooltip("%s", tip.c_str());
            if (ImGui::IsItemClicked(ImGuiMouseButton_Left) && entry.kept())
                state.show_run = entry.number;
        }
    }
}

} // namespace forklore::gui
