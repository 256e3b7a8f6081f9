// A lesson's play step in the GUI: the Lessons panel's button starts the step's challenge in the
// Scheduler tab, every stepped run the student finishes there is judged and kept as a try, the
// step is done once one reaches the goal, and the hand-in lists the tries. Real stepped runs of
// file-read-under-lock, played by names as a student clicks.
#include "gui/app.hpp"
#include "gui/app_lessons.hpp"
#include "gui/models/lesson_handin.hpp"
#include "sim/lesson/challenges.hpp"
#include "tests/gui/app_harness.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/lesson_clicks.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

using namespace forklore;
using namespace forklore::gui;
using namespace forklore::gui::test;
using Catch::Matchers::Contains;

namespace {

const std::string kPlayLesson = R"(---
title: Be the scheduler
minutes: 10
topics: fork and locks
scenarios: file-read-under-lock
---

One challenge.

## Play: orphan it

Make the child hang.

```step
challenge: orphan-the-lock
play: reader, reader, main, main
hint: Let the reader take the lock first.
```

## What you learned

- fork copies the lock, not its owner.
)";

// The lesson above, alone in a directory of `directory`, loaded and opened at its play step.
void open_play_lesson(App& app, const TemporaryDirectory& directory,
                      const std::filesystem::path& progress) {
    std::filesystem::create_directories(directory.path / "lessons");
    write_text(directory.file("lessons/01-be-the-scheduler.md"), kPlayLesson);
    load_lessons(app, directory.path / "lessons", progress);
    REQUIRE(app.lessons.session.library().problems.empty());
    REQUIRE(open_lesson(app, "01-be-the-scheduler", 1).empty());
    app_frames(app);
}

} // namespace

TEST_CASE("lessons: a play step is played in the Scheduler tab, judged try by try",
          "[gui][lessons][scheduler]") {
    TemporaryDirectory directory;
    HeadlessImGui imgui(1280, 1100);
    App app;
    open_play_lesson(app, directory, directory.file("progress.json"));
    LessonSession& lesson = app.lessons.session;
    REQUIRE(lesson.step());
    REQUIRE(lesson.step()->kind == lesson::StepKind::play);
    CHECK_FALSE(lesson.step_done(0));

    // The button chooses the challenge in the Scheduler tab and starts its stepped run there.
    press(app, "Play in the Scheduler tab");
    CHECK(lesson.playing_step() == 0u);
    CHECK(challenges()[static_cast<std::size_t>(app.scheduler.challenge)].id == "orphan-the-lock");
    CHECK(app.scheduler.stepping);

    // A first try where main forks before the reader has started: the worker completes, which
    // is not the goal. The try is kept, and the play goes on.
    play_by_names(app, {"main", "main"}, [&] { app_frame(app); });
    app_frames(app);
    REQUIRE(lesson.step_progress(0).runs.size() == 1);
    const StepRun& missed = lesson.step_progress(0).runs.front();
    CHECK(missed.run == "orphan-the-lock");
    CHECK(missed.outcome == "completed");
    CHECK_FALSE(missed.as_step_says);
    CHECK(missed.explanation == "the run ended completed, not deadlocked(orphaned_lock)");
    CHECK_FALSE(lesson.step_done(0));
    CHECK(lesson.playing_step() == 0u);

    // Play again from the lesson: the reader takes file_lock, then main forks. Won.
    press(app, "Play again");
    play_by_names(app, lesson.step()->play, [&] { app_frame(app); });
    app_frames(app);
    REQUIRE(lesson.step_progress(0).runs.size() == 2);
    CHECK(lesson.step_progress(0).runs.back().outcome == "deadlocked(orphaned_lock)");
    CHECK(lesson.step_progress(0).runs.back().as_step_says);
    CHECK(lesson.step_done(0));
    CHECK_FALSE(lesson.playing_step()); // won: later runs are the student's own

    // Replaying the challenge in the Scheduler tab after the victory adds no try.
    app.scheduler.request = SchedulerPanelState::Request::play;
    play_by_names(app, {"main", "main"}, [&] { app_frame(app); });
    app_frames(app);
    CHECK(lesson.step_progress(0).runs.size() == 2);

    // The hand-in says it, try by try.
    const std::string handin = handin_markdown(lesson.lesson(), lesson.progress(), "", 0);
    CHECK_THAT(handin, Contains("- challenges won: 1 of 1"));
    CHECK_THAT(handin, Contains("- try 1 of challenge `orphan-the-lock`: `completed`: the run "
                                "ended completed, not deadlocked(orphaned_lock)"));
    CHECK_THAT(handin, Contains("- try 2 of challenge `orphan-the-lock`: "
                                "`deadlocked(orphaned_lock)`: goal reached"));
}

TEST_CASE("lessons: a stopped play is a try without a verdict; another run ends the play",
          "[gui][lessons][scheduler]") {
    TemporaryDirectory directory;
    HeadlessImGui imgui(1280, 1100);
    App app;
    open_play_lesson(app, directory, "");
    press(app, "Play in the Scheduler tab");
    LessonSession& lesson = app.lessons.session;
    REQUIRE(lesson.playing_step() == 0u);
    // The student stops the run at the first step, as the Controls' Stop does.
    for (int i = 0; i < 5000 && !app.scheduler.control->prompt(); ++i) {
        app_frame(app);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    REQUIRE(app.scheduler.control->prompt());
    app.session.stop();
    wait_until_idle(app.session);
    app_frames(app);
    REQUIRE(lesson.step_progress(0).runs.size() == 1);
    CHECK(lesson.step_progress(0).runs.front().outcome == "stopped");
    CHECK(lesson.playing_step() == 0u);
    // A plain run of the controls is not a try of the challenge: the play is over.
    REQUIRE(start_run(app, 1).empty());
    app_frames(app);
    wait_until_idle(app.session);
    app_frames(app);
    CHECK_FALSE(lesson.playing_step());
    CHECK(lesson.step_progress(0).runs.size() == 1);
}
