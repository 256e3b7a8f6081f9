#include "gui/widgets.hpp"

#include <string>

namespace forklore::gui {

ImVec4 verdict_colour(VerdictKind kind) {
    switch (kind) {
    case VerdictKind::completed:
        return {0.35f, 0.75f, 0.40f, 1.0f};
    case VerdictKind::deadlocked:
        return {0.90f, 0.30f, 0.30f, 1.0f};
    case VerdictKind::failed:
    case VerdictKind::crashed:
        return {0.95f, 0.60f, 0.20f, 1.0f};
    default:
        return {0.65f, 0.65f, 0.70f, 1.0f};
    }
}

void help_marker(const char* text) {
    ImGui::SameLine();
    ImGui::TextDisabled("(?)");
    if (ImGui::IsItemHovered()) {
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 32.0f);
        ImGui::TextUnformatted(text);
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
    }
}

void wrapped_text(const std::string& text) {
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextUnformatted(text.c_str(), text.c_str() + text.size());
    ImGui::PopTextWrapPos();
}

} // namespace forklore::gui
