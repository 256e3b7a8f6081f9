#include "gui/panels/browser_panel.hpp"

#include "gui/widgets.hpp"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace forklore::gui {

namespace {

std::string lowercase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

bool contains(const std::string& haystack, const std::string& lowered_needle) {
    return lowercase(haystack).find(lowered_needle) != std::string::npos;
}

void draw_lesson(const Scenario& scenario) {
    ImGui::TextColored(ImVec4(0.65f, 0.8f, 1.0f, 1.0f), "%03d %s", scenario.number,
                       scenario.id.c_str());
    wrapped_text(scenario.title);
    ImGui::Spacing();
    wrapped_text(scenario.lesson);
    if (scenario.variants.empty())
        return;
    ImGui::Spacing();
    ImGui::TextDisabled("Variants");
    for (const auto& variant : scenario.variants) {
        ImGui::Bullet();
        wrapped_text(fmt::format("{}: {} (expected: {})", variant.name, variant.summary,
                                 variant.expected.describe()));
        if (const auto& fact = variant.expected.explored)
            wrapped_text(fmt::format("explored: {} (forklore explore {} --variant {})",
                                     fact->describe(), scenario.id, variant.name));
    }
}

} // namespace

bool scenario_matches(const Scenario& scenario, const std::string& search) {
    if (search.empty())
        return true;
    const std::string needle = lowercase(search);
    return contains(scenario.id, needle) || contains(scenario.title, needle) ||
           contains(scenario.lesson, needle) || contains(scenario.group, needle);
}

void draw_browser_panel(BrowserPanelState& state, const std::string& selected_id) {
    state.requested.clear();
    ImGui::TextUnformatted("Scenarios");
    help_marker("The corpus in teaching order, grouped by topic. Click a scenario to choose it: "
                "its knobs and variants appear above, its lesson below. The search box matches "
                "the id, the title and the lesson text. 'self-tests' shows the engine's own "
                "test scenarios.");
    ImGui::SetNextItemWidth(-FLT_MIN);
    ImGui::InputTextWithHint("##search", "search id, title, lesson", &state.search);
    ImGui::Checkbox("self-tests", &state.show_hidden);

    const auto& all = ScenarioRegistry::instance().all();
    // Groups in the order of their first scenario, so the list still reads as a curriculum.
    std::vector<std::string> groups;
    for (const auto& scenario : all) {
        if (scenario.hidden && !state.show_hidden)
            continue;
        if (!scenario_matches(scenario, state.search))
            continue;
        const std::string group = scenario.group.empty() ? "other" : scenario.group;
        if (std::find(groups.begin(), groups.end(), group) == groups.end())
            groups.push_back(group);
    }

    const float list_height = ImGui::GetContentRegionAvail().y * 0.5f;
    if (ImGui::BeginChild("##scenario-list", ImVec2(0, list_height), true)) {
        if (groups.empty())
            ImGui::TextDisabled("No scenario matches.");
        for (const auto& group : groups) {
            if (!ImGui::CollapsingHeader(group.c_str(), ImGuiTreeNodeFlags_DefaultOpen))
                continue;
            for (const auto& scenario : all) {
                if (scenario.hidden && !state.show_hidden)
                    continue;
                if ((scenario.group.empty() ? "other" : scenario.group) != group)
                    continue;
                if (!scenario_matches(scenario, state.search))
                    continue;
                const std::string label = fmt::format("{:03d} {}", scenario.number, scenario.id);
                if (ImGui::Selectable(label.c_str(), scenario.id == selected_id))
                    state.requested = scenario.id;
                if (ImGui::IsItemHovered())
                    ImGui::SetTooltip("%s", scenario.title.c_str());
            }
        }
    }
    ImGui::EndChild();

    if (ImGui::BeginChild("##lesson", ImVec2(0, 0), false)) {
        if (const Scenario* selected = ScenarioRegistry::instance().find(selected_id))
            draw_lesson(*selected);
        else
            ImGui::TextDisabled("Choose a scenario to read its lesson.");
    }
    ImGui::EndChild();
}

} // namespace forklore::gui
