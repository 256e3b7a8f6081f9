// Clicking the Lessons panel in the whole window drawn headless, as a student does: one frame of
// draw_app with the mouse somewhere, and a left click on a button the panel drew.
#pragma once

#include "gui/app.hpp"

#include <imgui.h>

#include <catch2/catch.hpp>

#include <string>

namespace forklore::gui::test {

// One frame of the whole window as the program draws it: draw_app's own full-screen window and
// no other (HeadlessImGui::frame's window would lie over it and take the clicks).
inline void app_frame(App& app, ImVec2 mouse = ImVec2(-1, -1)) {
    ImGui::GetIO().MousePos = mouse;
    ImGui::NewFrame();
    draw_app(app);
    ImGui::Render();
}

inline void app_frames(App& app, int frames = 3) {
    for (int i = 0; i < frames; ++i)
        app_frame(app);
}

// A left click on the panel's button (or radio button, or list entry) drawn with `label` in the
// last frame: hover, press, release, one frame of the whole window each.
inline void press(App& app, const std::string& label) {
    const DrawnButton* drawn = app.lessons.button(label);
    INFO("button '" << label << "'");
    REQUIRE(drawn != nullptr);
    REQUIRE(drawn->enabled);
    const ImVec2 at((drawn->min.x + drawn->max.x) / 2, (drawn->min.y + drawn->max.y) / 2);
    ImGuiIO& io = ImGui::GetIO();
    io.MouseDown[0] = false;
    app_frame(app, at);
    io.MouseDown[0] = true;
    app_frame(app, at);
    io.MouseDown[0] = false;
    app_frame(app, at);
    app_frames(app, 2); // the request carried out, and the panels drawn after it
}

} // namespace forklore::gui::test
