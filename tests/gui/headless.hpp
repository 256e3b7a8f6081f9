// An ImGui context with no backend: panels are drawn into draw lists that are never rendered,
// so the GUI's drawing code runs (and its assertions fire) with no window and no GPU.
#pragma once

#include <imgui.h>
#include <imgui_internal.h>

#include <functional>
#include <string>

namespace forklore::gui::test {

class HeadlessImGui {
  public:
    explicit HeadlessImGui(float width = 1280, float height = 800) {
        IMGUI_CHECKVERSION();
        context_ = ImGui::CreateContext();
        ImGuiIO& io = ImGui::GetIO();
        io.IniFilename = nullptr; // never write imgui.ini from a test
        io.LogFilename = nullptr;
        io.DisplaySize = ImVec2(width, height);
        io.DeltaTime = 1.0f / 60.0f;
        unsigned char* pixels = nullptr;
        int w = 0, h = 0;
        io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h); // builds the font atlas
    }
    ~HeadlessImGui() { ImGui::DestroyContext(context_); }
    HeadlessImGui(const HeadlessImGui&) = delete;
    HeadlessImGui& operator=(const HeadlessImGui&) = delete;

    // One frame with `draw` called inside a full-screen window; returns the frame's vertex count
    // (a panel that drew something has more than an empty window).
    int frame(const std::function<void()>& draw, ImVec2 mouse = ImVec2(-1, -1)) {
        ImGuiIO& io = ImGui::GetIO();
        io.MousePos = mouse;
        ImGui::NewFrame();
        ImGui::SetNextWindowPos(ImVec2(0, 0));
        ImGui::SetNextWindowSize(io.DisplaySize);
        ImGui::Begin("test", nullptr, ImGuiWindowFlags_NoDecoration);
        draw();
        ImGui::End();
        ImGui::Render();
        return ImGui::GetDrawData()->TotalVtxCount;
    }

  private:
    ImGuiContext* context_ = nullptr;
};

// The text a frame of `draw` showed (every Text, wrapped text and button label ImGui drew and
// did not clip), from ImGui's own log of rendered text.
template <typename Draw> std::string drawn_text(HeadlessImGui& gui, const Draw& draw) {
    std::string text;
    gui.frame([&] {
        ImGui::LogToBuffer();
        draw();
        text = GImGui->LogBuffer.c_str();
        ImGui::LogFinish();
    });
    return text;
}

} // namespace forklore::gui::test
