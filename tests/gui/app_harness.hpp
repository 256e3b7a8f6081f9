// The whole application drawn headless, for the tests of the window, its sessions and its layout:
// frames of draw_app, a record shown as if just run, a stepped run played by names, and a private
// directory for the files a test writes.
#pragma once

#include "gui/app.hpp"
#include "gui/record_view.hpp"
#include "gui/run_session.hpp"
#include "sim/run/scheduler.hpp"
#include "tests/gui/headless.hpp"

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace forklore::gui::test {

// A private directory for files the tests write, removed at the end.
struct TemporaryDirectory {
    std::filesystem::path path;
    TemporaryDirectory() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "forklore-gui-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TemporaryDirectory() { std::filesystem::remove_all(path); }
    TemporaryDirectory(const TemporaryDirectory&) = delete;
    TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
    std::string file(const std::string& name) const { return (path / name).string(); }
};

inline void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
}

// The whole window drawn `frames` times; returns the last frame's vertex count.
inline int draw_frames(HeadlessImGui& imgui, App& app, int frames = 3) {
    int vertices = 0;
    for (int i = 0; i < frames; ++i)
        vertices = imgui.frame([&] { draw_app(app); });
    return vertices;
}

// A record as a new generation, not live: what the app shows after a run or an Open.
inline RecordView view_of(std::shared_ptr<const RunRecord> record) {
    return RecordView{std::move(record), next_record_generation(), false};
}

// Waits for the session's runs to end. Bounded only so a broken session fails instead of hanging
// the suite; the runner's own deadlines end every run long before.
inline void wait_until_idle(const RunSession& session) {
    for (int i = 0; i < 6000 && session.running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE_FALSE(session.running());
}

// Plays the Scheduler tab's stepped run as a student clicking names would: each prompt answered
// by the next of `threads` ("reader", or "main@3": play_token_matches), then by the first waiting
// thread, until the run has ended. `frame` draws one frame of the whole window. Bounded, so that a
// broken session fails the test.
template <class Frame>
void play_by_names(App& app, const std::vector<std::string>& threads, Frame frame) {
    std::size_t next = 0;
    for (int i = 0; i < 20000; ++i) {
        frame();
        if (!app.session.running() && app.scheduler.control && app.view && !app.view.live)
            return;
        const auto prompt = app.scheduler.control ? app.scheduler.control->prompt() : std::nullopt;
        if (prompt) {
            REQUIRE_FALSE(prompt->waiting.empty());
            int slot = prompt->waiting.front().slot;
            if (next < threads.size()) {
                const auto named =
                    std::find_if(prompt->waiting.begin(), prompt->waiting.end(),
                                 [&](const WaitingThread& thread) {
                                     return play_token_matches(threads[next], thread.next.thread,
                                                               thread.next.pid);
                                 });
                INFO("step " << prompt->step << ": no waiting thread named " << threads[next]);
                REQUIRE(named != prompt->waiting.end());
                slot = named->slot;
                ++next;
            }
            app.scheduler.control->choose(slot);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    FAIL("the stepped run did not end");
}

} // namespace forklore::gui::test
