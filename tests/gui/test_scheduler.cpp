// The Scheduler tab, headless, over real stepped runs: each challenge played to victory through
// the whole application (draw_app carries out Play and Undo; the test clicks a thread's Step the
// way the button does, through the run's StepControl), the goal judged on the finished record.
#include "gui/app.hpp"
#include "gui/panels/scheduler_panel.hpp"
#include "sim/lesson/challenges.hpp"
#include "tests/gui/app_harness.hpp"
#include "tests/gui/headless.hpp"

#include <catch2/catch.hpp>

#include <imgui_internal.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace forklore;
using namespace forklore::gui;
using namespace forklore::gui::test;

namespace {

// The threads to let go, by name, one per step; then whoever waits first.
struct Script {
    std::string challenge;
    std::vector<std::string> threads;
};

void play(HeadlessImGui& imgui, App& app, const Script& script) {
    play_by_names(app, script.threads, [&] { imgui.frame([&] { draw_app(app); }); });
}

int challenge_at(const std::string& id) {
    const std::optional<int> index = challenge_index(id);
    INFO("challenge " << id);
    REQUIRE(index);
    return *index;
}

} // namespace

TEST_CASE("scheduler: every challenge can be played to victory in the GUI", "[gui][scheduler]") {
    REQUIRE(challenges().size() >= 7);
    const std::vector<Script> scripts = {
        // The reader starts and takes the lock; main notes and forks: the copy is orphaned.
        {"orphan-the-lock", {"reader", "reader", "main", "main"}},
        // The reader reads and lets the lock go, then waits at its barrier; then main forks.
        {"the-safe-moment", {"reader", "reader", "reader", "reader", "reader"}},
        // The same fork as the first, while the lock is held; but the child execs.
        {"fork-exec-is-fresh", {"reader", "reader", "main", "main"}},
        // Each thread takes its first lock before either asks for its second.
        {"cause-the-cycle", {"a", "a", "b", "b"}},
        // a takes left; b asks for it and blocks; everything then runs to the end.
        {"one-order-no-cycle", {"a", "a", "b", "b"}},
        // The parent (pid 2) starts both workers and sends their tasks; worker 1 (pid 4) works
        // until it is about to send its error; worker 0 (pid 3) then answers first.
        {"lose-the-exception",
         {"main@2", "main@2", "main@3", "main@4", "main@2", "main@2", "main@2", "main@4",
          "main@3"}},
        // The same, but worker 1 sends its error before worker 0 has even started its task.
        {"catch-the-exception",
         {"main@2", "main@2", "main@3", "main@4", "main@2", "main@2", "main@2", "main@4",
          "main@4"}},
    };
    for (const auto& script : scripts) {
        CAPTURE(script.challenge);
        HeadlessImGui imgui(1280, 800);
        App app;
        app.scheduler.challenge = challenge_at(script.challenge);
        app.scheduler.request = SchedulerPanelState::Request::play;
        app.show_tab = CentreTab::scheduler;
        play(imgui, app, script);
        INFO(app.view.get()->verdict.explanation);
        CHECK(challenge_outcome(app.scheduler, app.view) == "");
        REQUIRE(app.view.get()->schedule);
        CHECK(app.view.get()->schedule->steps.size() >= script.threads.size());
        // The panel says so, and draws the steps taken.
        imgui.frame([&] { draw_app(app); });
        CHECK_FALSE(app.scheduler.control->chosen().empty());
    }
}

TEST_CASE("scheduler: a missed goal says why; Undo replays all but the last step in a fresh run",
          "[gui][scheduler]") {
    HeadlessImGui imgui(1280, 800);
    App app;
    app.scheduler.challenge = challenge_at("orphan-the-lock");
    app.scheduler.request = SchedulerPanelState::Request::play;
    // main goes first: it forks before the reader has even started: the worker completes.
    play(imgui, app, {"orphan-the-lock", {"main", "main"}});
    const std::string missed = challenge_outcome(app.scheduler, app.view);
    CHECK(missed == "the run ended completed, not deadlocked(orphaned_lock)");
    const std::vector<ScheduleStep> taken = app.scheduler.control->chosen();
    REQUIRE(taken.size() >= 3);

    // Undo: a fresh sandbox follows every step but the last, then asks again.
    app.scheduler.replay.assign(taken.begin(), taken.end() - 1);
    app.scheduler.request = SchedulerPanelState::Request::undo;
    std::optional<StepPrompt> prompt;
    for (int frame = 0; frame < 5000 && !prompt; ++frame) {
        imgui.frame([&] { draw_app(app); });
        if (app.scheduler.control)
            prompt = app.scheduler.control->prompt();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    REQUIRE(prompt);
    INFO("diverged: " << app.scheduler.control->diverged());
    for (const auto& step : taken)
        UNSCOPED_INFO("taken: " << describe_step(step));
    for (const auto& thread : prompt->waiting)
        UNSCOPED_INFO("waiting: " << describe_step(thread.next));
    CHECK(prompt->step == taken.size());
    CHECK(app.scheduler.control->diverged() == "");
    CHECK(app.scheduler.control->chosen().size() == taken.size() - 1);
    app.scheduler.control->run_free();
    wait_until_idle(app.session);
}

namespace {

// Draws frames until the runner asks the student again; returns what it asks.
StepPrompt next_prompt(HeadlessImGui& imgui, App& app) {
    for (int frame = 0; frame < 5000; ++frame) {
        imgui.frame([&] { draw_app(app); });
        if (app.scheduler.control)
            if (auto prompt = app.scheduler.control->prompt())
                return *prompt;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    FAIL("no prompt came");
    return {};
}

const WaitingThread* waiting_named(const StepPrompt& prompt, const std::string& name) {
    for (const auto& thread : prompt.waiting)
        if (thread.next.thread == name)
            return &thread;
    return nullptr;
}

} // namespace

TEST_CASE("scheduler: To next lock lets a thread go until it is about to lock or unlock",
          "[gui][scheduler]") {
    HeadlessImGui imgui(1280, 800);
    App app;
    app.scheduler.challenge = challenge_at("cause-the-cycle");
    app.scheduler.request = SchedulerPanelState::Request::play;
    StepPrompt prompt = next_prompt(imgui, app);
    const WaitingThread* a = waiting_named(prompt, "a");
    REQUIRE(a);
    CHECK(a->next.kind == EventKind::thread_start);
    app.scheduler.control->run_to_next_lock(a->slot);
    // a started, and stops before its first lock.
    prompt = next_prompt(imgui, app);
    a = waiting_named(prompt, "a");
    REQUIRE(a);
    CHECK(a->next.kind == EventKind::lock_wait);
    CHECK(a->next.object == "left");
    CHECK(app.scheduler.control->chosen().size() == 1);
    // Again: it takes left (its first step is taken whatever it is) and stops before right.
    app.scheduler.control->run_to_next_lock(a->slot);
    prompt = next_prompt(imgui, app);
    a = waiting_named(prompt, "a");
    REQUIRE(a);
    CHECK(a->next.kind == EventKind::lock_wait);
    CHECK(a->next.object == "right");
    const auto chosen = app.scheduler.control->chosen();
    REQUIRE(chosen.size() == 2);
    CHECK(chosen.back().kind == EventKind::lock_wait);
    CHECK(chosen.back().object == "left");
    app.scheduler.control->run_free();
    wait_until_idle(app.session);
}

TEST_CASE("scheduler: a long operation wraps, and every waiting thread's line stays in view",
          "[gui][scheduler]") {
    HeadlessImGui imgui(1280, 800);
    App app;
    app.scheduler.challenge = challenge_at("lose-the-exception");
    app.scheduler.request = SchedulerPanelState::Request::play;
    app.show_tab = CentreTab::scheduler;
    // Worker 1 (pid 4) works until it is about to send its error: the longest note of the corpus'
    // challenges waits in the table ("note worker 1: task 1 raised std::out_of_range: ...").
    const std::vector<std::string> script = {"main@2", "main@2", "main@3", "main@4",
                                             "main@2", "main@2", "main@2", "main@4"};
    for (const auto& token : script) {
        const StepPrompt prompt = next_prompt(imgui, app);
        const auto named = std::find_if(
            prompt.waiting.begin(), prompt.waiting.end(), [&](const WaitingThread& thread) {
                return play_token_matches(token, thread.next.thread, thread.next.pid);
            });
        REQUIRE(named != prompt.waiting.end());
        app.scheduler.control->choose(named->slot);
    }
    const StepPrompt prompt = next_prompt(imgui, app);
    const WaitingThread* worker = nullptr;
    for (const auto& thread : prompt.waiting)
        if (thread.next.pid == 4)
            worker = &thread;
    REQUIRE(worker);
    REQUIRE_THAT(worker->next.object, Catch::Matchers::Contains("sending it to the parent"));
    // The tab as wide as the centre region is at 1280 px (about 650 px, beside the browser and
    // the verdict). What ImGui logs is the text, clipped or not; where the columns fell is read
    // from the table itself: the line column whole, inside the table's visible width.
    const std::string location = step_location(worker->next);
    float line_width = 0, line_right = 0, visible_right = 0, location_width = 0;
    const auto centre = [&] {
        ImGui::BeginChild("##centre", ImVec2(650, 700));
        draw_scheduler_panel(app.scheduler, app.session.progress(), app.view);
    };
    for (int frame = 0; frame < 3; ++frame) // a new table fits its columns to their content
        imgui.frame([&] {
            centre();
            ImGui::EndChild();
        });
    const std::string text = drawn_text(imgui, [&] {
        centre();
        if (const ImGuiTable* table = ImGui::TableFindByID(ImGui::GetID("##waiting"))) {
            const ImGuiTableColumn& line = table->Columns[table->ColumnsCount - 1];
            line_width = line.WorkMaxX - line.WorkMinX; // where its text may go
            line_right = line.WorkMaxX;
            visible_right = table->InnerClipRect.Max.x;
            location_width = ImGui::CalcTextSize(location.c_str()).x;
        }
        ImGui::EndChild();
    });
    INFO(text);
    CHECK_THAT(text, Catch::Matchers::Contains("sending it to the parent"));
    CHECK_THAT(text, Catch::Matchers::Contains(location));
    INFO("line column " << line_width << " px wide, ends at " << line_right << ", the table at "
                        << visible_right << "; the location needs " << location_width << " px");
    REQUIRE(location_width > 0); // the table was found
    CHECK(line_width >= location_width);
    CHECK(line_right <= visible_right + 1);
    app.scheduler.control->run_free();
    wait_until_idle(app.session);
}
