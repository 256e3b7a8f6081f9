// The program's window: GLFW with an OpenGL 3.3 core context, and ImGui's GLFW and OpenGL3
// backends. The only place (with main.cpp) that includes GLFW or OpenGL.
#pragma once

#include <memory>
#include <string>

struct GLFWwindow;

namespace forklore::gui {

class Window {
  public:
    // Opens the window and an ImGui context with its backends. Null with a one-line `error` when
    // there is no display or no OpenGL 3.3.
    static std::unique_ptr<Window> open(const std::string& title, int width, int height, bool vsync,
                                        std::string& error);
    ~Window();
    Window(const Window&) = delete;
    Window& operator=(const Window&) = delete;

    bool should_close() const;
    // A picture taken for the documentation or a test must not depend on where the (virtual)
    // display's pointer happens to be: with this, ImGui sees no mouse at all.
    void ignore_mouse(bool ignore) { ignore_mouse_ = ignore; }
    // The zoom of fonts and sizes (gui/ui_scale.hpp). Takes effect at the next begin_frame: the
    // font atlas is rebuilt and uploaded again, between frames.
    void set_zoom(float zoom) { wanted_zoom_ = zoom; }
    float zoom() const { return zoom_; }
    // Polls input and starts an ImGui frame. `wait_seconds` > 0 sleeps until input arrives or
    // that much time passes (an idle GUI does not spin).
    void begin_frame(double wait_seconds = 0);
    // Renders the frame; with `screenshot_path`, writes it as PNG before it is shown. Returns
    // false with a one-line `error` when the screenshot could not be written.
    bool end_frame(const std::string* screenshot_path, std::string& error);

  private:
    explicit Window(GLFWwindow* window) : window_(window) {}
    bool write_png(const std::string& path, std::string& error) const;
    GLFWwindow* window_ = nullptr;
    bool ignore_mouse_ = false;
    float zoom_ = 0;        // applied; 0 before the first frame
    float wanted_zoom_ = 1; // asked for
};

} // namespace forklore::gui
