#include "gui/ui_scale.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>

namespace forklore::gui {

namespace {

constexpr float kBaseFontPixels = 13.0f; // ImGui's default font (ProggyClean) is drawn for 13 px

// The dark style, with the tabs told apart: the tab in front is bright blue with white text and
// joins its content; the others are dim. ImGui's own dark tabs differ by a few shades only.
void forklore_style(ImGuiStyle& style) {
    ImGui::StyleColorsDark(&style);
    ImVec4* colours = style.Colors;
    colours[ImGuiCol_Tab] = ImVec4(0.16f, 0.18f, 0.22f, 1.0f);
    colours[ImGuiCol_TabHovered] = ImVec4(0.30f, 0.46f, 0.70f, 1.0f);
    colours[ImGuiCol_TabActive] = ImVec4(0.22f, 0.48f, 0.86f, 1.0f);
    colours[ImGuiCol_TabUnfocused] = colours[ImGuiCol_Tab];
    colours[ImGuiCol_TabUnfocusedActive] = colours[ImGuiCol_TabActive];
    style.TabRounding = 3.0f;
    style.TabBorderSize = 1.0f;
}

} // namespace

float clamp_zoom(float zoom) {
    if (!std::isfinite(zoom))
        return 1.0f;
    return std::clamp(zoom, kMinZoom, kMaxZoom);
}

void apply_ui_scale(float zoom) {
    zoom = clamp_zoom(zoom);
    ImGuiIO& io = ImGui::GetIO();
    io.Fonts->Clear();
    ImFontConfig font;
    font.SizePixels = std::round(kBaseFontPixels * zoom);
    io.Fonts->AddFontDefault(&font);
    unsigned char* pixels = nullptr;
    int width = 0, height = 0;
    io.Fonts->GetTexDataAsRGBA32(&pixels, &width, &height); // builds the atlas
    io.FontGlobalScale = 1.0f;

    ImGuiStyle style;
    forklore_style(style);
    style.ScaleAllSizes(zoom);
    ImGui::GetStyle() = style;
}

} // namespace forklore::gui
