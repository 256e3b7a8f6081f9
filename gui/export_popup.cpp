// Export, next to Save (export_popup.hpp).
#include "gui/export_popup.hpp"

#include "gui/record_file.hpp"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <fmt/format.h>

namespace forklore::gui {

bool export_view(App& app, ExportFormat format, const std::string& path) {
    app.file_warning = false;
    if (!app.view || app.view.live) {
        app.file_message = "nothing to export yet: run a scenario or open a record first";
        app.file_error = true;
        return false;
    }
    std::string error;
    if (!write_export_file(*app.view.record, format, path, error)) {
        app.file_message = error;
        app.file_error = true;
        return false;
    }
    app.file_message = fmt::format("exported the {} to {}", export_description(format), path);
    app.file_error = false;
    return true;
}

void draw_export_button(App& app) {
    constexpr const char* kPopup = "##export";
    ImGui::BeginDisabled(!app.view || app.view.live);
    if (ImGui::Button("Export...")) {
        for (std::size_t i = 0; i < kExportFormatNames.size(); ++i)
            app.export_paths[i] = default_export_path(app.file_path, static_cast<ExportFormat>(i));
        ImGui::OpenPopup(kPopup);
    }
    ImGui::EndDisabled();
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip("The run on screen as an SVG timeline (a slide), a Chrome trace "
                          "(ui.perfetto.dev, chrome://tracing) or a Markdown report (a handout). "
                          "The same as 'forklore export RECORD --format svg|chrome|markdown'.");
    if (!ImGui::BeginPopup(kPopup))
        return;
    ImGui::TextUnformatted("Export the run on screen to:");
    constexpr const char* kUses[] = {"for a slide", "for ui.perfetto.dev or chrome://tracing",
                                     "for a handout"};
    for (std::size_t i = 0; i < kExportFormatNames.size(); ++i) {
        const auto format = static_cast<ExportFormat>(i);
        ImGui::PushID(static_cast<int>(i));
        ImGui::SetNextItemWidth(ImGui::GetFontSize() * 18);
        ImGui::InputText("##path", &app.export_paths[i]);
        ImGui::SameLine();
        if (ImGui::Button(fmt::format("Export {}", export_description(format)).c_str())) {
            export_view(app, format, app.export_paths[i]);
            ImGui::CloseCurrentPopup();
        }
        ImGui::SameLine();
        ImGui::TextDisabled("%s", kUses[i]);
        ImGui::PopID();
    }
    ImGui::EndPopup();
}

} // namespace forklore::gui
