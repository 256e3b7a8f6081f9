#include "gui/window.hpp"

#include "gui/ui_scale.hpp"

#include "sim/protocol/text.hpp"
#include "sim/record/user_file.hpp"

#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#define GLFW_INCLUDE_NONE
#include <GL/gl.h>
#include <GLFW/glfw3.h>
#include <stb_image_write.h>

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <vector>

namespace forklore::gui {

namespace {

std::string g_glfw_error; // GLFW reports errors through a callback; the last one is kept

void on_glfw_error(int, const char* description) {
    g_glfw_error = description ? description : "?";
}

bool has_display() {
    const char* x11 = std::getenv("DISPLAY");
    const char* wayland = std::getenv("WAYLAND_DISPLAY");
    return (x11 && *x11) || (wayland && *wayland);
}

} // namespace

std::unique_ptr<Window> Window::open(const std::string& title, int width, int height, bool vsync,
                                     std::string& error) {
    glfwSetErrorCallback(on_glfw_error);
    if (!has_display()) {
        error = "cannot open a window: no display (set DISPLAY, or run under xvfb-run)";
        return nullptr;
    }
    if (!glfwInit()) {
        error = fmt::format("cannot open a window: {}", g_glfw_error);
        return nullptr;
    }
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
    glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
    GLFWwindow* window = glfwCreateWindow(width, height, title.c_str(), nullptr, nullptr);
    if (!window) {
        error = fmt::format("cannot open a window with OpenGL 3.3: {}", g_glfw_error);
        glfwTerminate();
        return nullptr;
    }
    glfwMakeContextCurrent(window);
    glfwSwapInterval(vsync ? 1 : 0);

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename =
        nullptr; // the layout is the program's; nothing to save in the working directory
    ImGui_ImplGlfw_InitForOpenGL(window, true);
    ImGui_ImplOpenGL3_Init("#version 330 core");
    return std::unique_ptr<Window>(new Window(window));
}

Window::~Window() {
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
    glfwDestroyWindow(window_);
    glfwTerminate();
}

bool Window::should_close() const {
    return glfwWindowShouldClose(window_);
}

void Window::begin_frame(double wait_seconds) {
    if (wait_seconds > 0)
        glfwWaitEventsTimeout(wait_seconds);
    else
        glfwPollEvents();
    if (wanted_zoom_ != zoom_) {
        apply_ui_scale(wanted_zoom_);
        // The renderer's objects (the font texture among them) are made again by its NewFrame.
        ImGui_ImplOpenGL3_DestroyDeviceObjects();
        zoom_ = wanted_zoom_;
    }
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    if (ignore_mouse_)
        ImGui::GetIO().MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
    ImGui::NewFrame();
}

bool Window::end_frame(const std::string* screenshot_path, std::string& error) {
    ImGui::Render();
    int width = 0, height = 0;
    glfwGetFramebufferSize(window_, &width, &height);
    glViewport(0, 0, width, height);
    glClearColor(0.08f, 0.08f, 0.10f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    bool ok = true;
    // Read before the swap: after it the back buffer's content is undefined.
    if (screenshot_path)
        ok = write_png(*screenshot_path, error);
    glfwSwapBuffers(window_);
    return ok;
}

bool Window::write_png(const std::string& path, std::string& error) const {
    int width = 0, height = 0;
    glfwGetFramebufferSize(window_, &width, &height);
    if (width <= 0 || height <= 0) {
        error = "cannot take a screenshot: the window has no size";
        return false;
    }
    const std::size_t stride = static_cast<std::size_t>(width) * 3;
    std::vector<unsigned char> pixels(stride * static_cast<std::size_t>(height));
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadBuffer(GL_BACK);
    glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE, pixels.data());
    // OpenGL's rows start at the bottom; a PNG's at the top.
    std::vector<unsigned char> flipped(pixels.size());
    for (int y = 0; y < height; ++y)
        std::memcpy(&flipped[static_cast<std::size_t>(y) * stride],
                    &pixels[static_cast<std::size_t>(height - 1 - y) * stride], stride);
    // Encoded in memory, then written as every output file is (sim/record/user_file.hpp): never
    // over a device, a FIFO or a symbolic link, and never half a picture.
    std::string png;
    const auto append = [](void* context, void* data, int size) {
        static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                                   static_cast<std::size_t>(size));
    };
    if (!stbi_write_png_to_func(append, &png, width, height, 3, flipped.data(),
                                static_cast<int>(stride))) {
        error = fmt::format("cannot encode the screenshot {}", printable(path));
        return false;
    }
    try {
        write_output_file(path, png);
    } catch (const UserFileError& problem) {
        error = problem.what();
        return false;
    }
    return true;
}

} // namespace forklore::gui
