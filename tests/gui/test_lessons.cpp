// The Lessons panel (issue 13): the fixture lesson of tests/gui/lessons walked from its list to
// its hand-in by clicking the panel's buttons in the whole window drawn headless, each run made
// for real through the controls' session, and the first lesson of tutorials/ done the same way
// step by step; the progress file saved, reloaded, and left alone when it cannot be read; a
// lesson's Markdown as the panel reads it.
//
// Index of this file:
// [SECTION] Helpers: clicking the panel, waiting for a run
// [SECTION] Lesson 1 from start to finish
// [SECTION] Progress: unreadable files, changed lessons
// [SECTION] Markdown, and the panel at a classroom's sizes
#include "gui/app.hpp"
#include "gui/app_lessons.hpp"
#include "gui/models/lesson_handin.hpp"
#include "gui/models/markdown_blocks.hpp"
#include "tests/gui/app_harness.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/lesson_clicks.hpp"
#include "tests/gui/records.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace forklore;
using namespace forklore::gui;
using namespace forklore::gui::test;
using Catch::Matchers::Contains;

// [SECTION] Helpers: clicking the panel, waiting for a run ----------------------------------------

namespace {

// The lesson these tests walk: kept beside them, so that they do not change with tutorials/.
const std::string kFixtureLessons = std::string(FORKLORE_SOURCE_DIR) + "/tests/gui/lessons";
const std::string kLessonId = "01-what-fork-copies";

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

bool enabled(const App& app, const std::string& label) {
    const DrawnButton* drawn = app.lessons.button(label);
    return drawn && drawn->enabled;
}

// Draws frames until the lesson's run has ended and been handed to the lesson. Bounded only so
// that a broken session fails instead of hanging: the runner's deadlines end every run first.
void wait_for_lesson_run(App& app) {
    for (int i = 0; i < 6000 && (app.session.running() || app.lessons.session.running_step());
         ++i) {
        app_frames(app, 1);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    REQUIRE_FALSE(app.session.running());
    REQUIRE_FALSE(app.lessons.session.running_step());
    app_frames(app, 3);
}

const ProcessRecord* child_named(const RunRecord& record, const std::string& name) {
    for (const auto& process : record.processes)
        if (process.name == name && process.parent_ns_pid != 0)
            return &process;
    return nullptr;
}

} // namespace

// [SECTION] Lesson 1 from start to finish ---------------------------------------------------------

TEST_CASE("lessons: lesson 1 walked from the list to the hand-in, with real runs",
          "[gui][lessons][run]") {
    TemporaryDirectory directory;
    const std::string progress_path = directory.file("state/forklore/lessons.json");
    // Tall enough that every button of a step is in view without scrolling the page.
    HeadlessImGui imgui(1280, 1100);
    App app;
    load_lessons(app, kFixtureLessons, progress_path);
    LessonSession& lesson = app.lessons.session;
    REQUIRE(lesson.library().problems.empty());
    REQUIRE(lesson.library().lessons.size() == 1);
    app.show_left_tab = LeftTab::lessons;
    app_frames(app);
    CHECK(app.left_tab == LeftTab::lessons);

    // The list, then the lesson's introduction, its read step, its predict step.
    press(app, "What fork copies");
    REQUIRE(lesson.is_open());
    CHECK(lesson.on_introduction());
    press(app, "Start");
    REQUIRE(lesson.step());
    CHECK(lesson.step()->kind == lesson::StepKind::read);
    press(app, "Next");
    REQUIRE(lesson.step());
    REQUIRE(lesson.step()->kind == lesson::StepKind::predict);
    const std::size_t predict = lesson.step_index();

    // Predict: Run waits for a prediction; the prediction is kept before the run.
    CHECK_FALSE(enabled(app, "Run"));
    CHECK(enabled(app, "completed"));
    press(app, "deadlocked(orphaned_lock)");
    CHECK(lesson.step_progress(predict).prediction == "deadlocked(orphaned_lock)");
    REQUIRE(enabled(app, "Run"));
    press(app, "Run");
    CHECK(lesson.running_step() == predict);
    CHECK_FALSE(enabled(app, "completed")); // no changing one's mind once it runs
    // The run was set up in the controls as a user would, and every panel shows it.
    CHECK(app.config.scenario == "file-read-under-lock");
    CHECK(app.config.variant == "fork");
    wait_for_lesson_run(app);
    REQUIRE(lesson.step_progress(predict).runs.size() == 1);
    const StepRun& predicted = lesson.step_progress(predict).runs.front();
    CHECK(predicted.outcome == "deadlocked(orphaned_lock)");
    CHECK(predicted.as_step_says); // answer_is_right against the run's verdict
    CHECK_FALSE(predicted.explanation.empty());
    REQUIRE(app.view);
    CHECK(app.view.record == lesson.record(predict));
    // The Timeline was brought to the front and shows the lesson's run.
    CHECK(app.timeline.built_from.record() == lesson.record(predict).get());
    CHECK_FALSE(app.timeline.model.lanes.empty());

    // Run: the run, then each look selects its lock, thread and process in the other panels.
    press(app, "Next");
    const std::size_t run = lesson.step_index();
    REQUIRE(lesson.step()->kind == lesson::StepKind::run);
    CHECK_FALSE(enabled(app, "Show lock file_lock")); // nothing to look at before the run
    press(app, "Run");
    wait_for_lesson_run(app);
    const auto record = lesson.record(run);
    REQUIRE(record);
    CHECK(lesson.step_progress(run).runs.back().as_step_says);
    const ProcessRecord* child = child_named(*record, "read");
    REQUIRE(child != nullptr);

    press(app, "Show lock file_lock");
    // The lock is selected by its address: every panel shows each copy of it (the parent's and
    // the child's, which fork made at the same address); the look names the child's, orphaned.
    REQUIRE_FALSE(app.locks.drawn_rows.empty()); // the Locks tab was brought to the front
    bool child_copy_shown = false;
    for (const auto& drawn : app.locks.drawn_rows) {
        const LockRow& row = app.locks.model.locks[drawn.row];
        if (drawn.file_lock || row.address != app.selection.object)
            continue;
        CHECK(row.name == "file_lock");
        if (row.process == child->ns_pid && row.orphaned)
            child_copy_shown = true;
    }
    CHECK(child_copy_shown);
    CHECK_THAT(app.lessons.look_said, Contains("process " + std::to_string(child->ns_pid)) &&
                                          Contains("orphaned", Catch::CaseSensitive::No));

    // Another run on screen meanwhile: the look puts the lesson's run back before it selects.
    show_record(app, view_of(recorded(test::kCycle)));
    app_frames(app, 1);
    press(app, "Show thread reader");
    CHECK(app.view.record == record);
    pid_t reader_tid = 0;
    for (const auto& process : record->processes)
        for (const auto& [tid, name] : process.threads)
            if (name == "reader")
                reader_tid = tid;
    REQUIRE(reader_tid != 0);
    CHECK(app.selection.tid == reader_tid);
    CHECK(app.selection.object == 0);
    CHECK(std::any_of(app.timeline.model.lanes.begin(), app.timeline.model.lanes.end(),
                      [&](const auto& lane) { return lane.tid == reader_tid; }));

    press(app, "Show process child");
    CHECK(app.selection.pid == child->ns_pid);
    CHECK(app.selection.tid == 0);
    REQUIRE_FALSE(app.process_tree.drawn_nodes.empty()); // the Process tree in front
    CHECK(lesson.step_progress(run).looks_followed ==
          std::vector<std::string>{"lock file_lock", "thread reader", "process child"});

    // Explain in words: a wrong answer, then the right one.
    press(app, "Next");
    const std::size_t owner = lesson.step_index();
    REQUIRE(lesson.step()->kind == lesson::StepKind::explain);
    CHECK_FALSE(enabled(app, "Check")); // no answer yet
    app.lessons.answer_text = "main";
    app_frames(app, 1);
    press(app, "Check");
    app.lessons.answer_text = " Reader ";
    app_frames(app, 1);
    press(app, "Check again");
    const auto& owner_attempts = lesson.step_progress(owner).attempts;
    REQUIRE(owner_attempts.size() == 2);
    CHECK_FALSE(owner_attempts[0].right);
    CHECK(owner_attempts[1].right);
    CHECK(app.lessons.button("Check again") == nullptr); // answered: nothing more to check

    // Explain with choices: a wrong choice, then the right one.
    press(app, "Next");
    const std::size_t why = lesson.step_index();
    press(app, "the owner is busy reading");
    press(app, "Check");
    press(app, "the owner was not copied");
    press(app, "Check again");
    const auto& why_attempts = lesson.step_progress(why).attempts;
    REQUIRE(why_attempts.size() == 2);
    CHECK_FALSE(why_attempts[0].right);
    CHECK(why_attempts[1].right);

    // Fix: a hint, then the knobs applied in the controls and run.
    press(app, "Next");
    const std::size_t fix = lesson.step_index();
    REQUIRE(lesson.step()->kind == lesson::StepKind::fix);
    press(app, "Hint (1 of 1)");
    CHECK(lesson.step_progress(fix).hints_shown == 1);
    CHECK(app.lessons.button("Hint (1 of 1)") == nullptr); // no more hints
    press(app, "Apply and run");
    CHECK(app.config.knobs.at("start_method") == "spawn");
    wait_for_lesson_run(app);
    REQUIRE_FALSE(lesson.step_progress(fix).runs.empty());
    CHECK(lesson.step_progress(fix).runs.back().outcome == "completed");
    CHECK(lesson.step_progress(fix).runs.back().as_step_says);
    CHECK(app.view.record->verdict.kind == VerdictKind::completed);

    // What you learned, and the hand-in: written once, never over itself unless asked.
    press(app, "Next");
    REQUIRE(lesson.on_learned());
    CHECK(lesson.progress().reached_end);
    CHECK(lesson.steps_done() == static_cast<int>(lesson.lesson().steps.size()));
    CHECK(app.lessons.handin_path == "lesson-01-what-fork-copies-handin.md");
    app.lessons.handin_path = directory.file("handin.md");
    app_frames(app, 1);
    press(app, "Hand in");
    const std::string handin = read_text(directory.file("handin.md"));
    CHECK_THAT(handin, Contains("# Hand-in: What fork copies (01-what-fork-copies)"));
    CHECK_THAT(handin, Contains("- prediction: `deadlocked(orphaned_lock)`"));
    CHECK_THAT(handin, Contains("- run `file-read-under-lock:fork`: the verdict was "
                                "`deadlocked(orphaned_lock)`: the prediction was **right**"));
    CHECK_THAT(handin, Contains("- looked at: lock file_lock, thread reader, process child"));
    CHECK_THAT(handin, Contains("- answer 1: `main`: **wrong**"));
    CHECK_THAT(handin, Contains("- answer 2: ` Reader `: **right**"));
    CHECK_THAT(handin, Contains("- answer 1: `the owner is busy reading`: **wrong**"));
    CHECK_THAT(handin, Contains("- answer 2: `the owner was not copied`: **right**"));
    CHECK_THAT(handin, Contains("- run `file-read-under-lock:fork start_method=spawn`: the verdict "
                                "was `completed`, as the step expects"));
    CHECK_THAT(handin, Contains("- hints asked for: 1 of 1"));
    CHECK_THAT(handin, Contains("- steps done: 6 of 6"));
    CHECK_THAT(handin, Contains("- time spent: "));
    CHECK_THAT(handin, Contains("## What you learned"));
    // The source tree's commit, read from its .git (a work tree's, or a linked one's).
    if (std::filesystem::exists(std::string(FORKLORE_SOURCE_DIR) + "/.git")) {
        const std::string commit = forklore_commit();
        CHECK_THAT(commit, Catch::Matchers::StartsWith("commit "));
        CHECK_THAT(handin, Contains("- forklore: " + commit));
    }
    CHECK(lesson.progress().handed_in == directory.file("handin.md"));

    write_text(directory.file("handin.md"), "the student's own notes\n");
    press(app, "Hand in");
    CHECK(app.lessons.handin_exists);
    CHECK_THAT(app.lessons.handin_message, Contains("exists"));
    CHECK(read_text(directory.file("handin.md")) == "the student's own notes\n");
    press(app, "Overwrite");
    CHECK_THAT(read_text(directory.file("handin.md")), Contains("# Hand-in: What fork copies"));
    CHECK_THAT(app.lessons.handin_message, Contains("replaced"));

    // The progress file holds what the session holds, and a new GUI restores it: the lesson open
    // at the page it reached, every prediction, answer and verdict.
    REQUIRE(lesson.save());
    const nlohmann::json saved = progress_to_json(lesson.store().book);
    ProgressStore reread(progress_path);
    REQUIRE(reread.load());
    CHECK(progress_to_json(reread.book) == saved);

    App restarted;
    load_lessons(restarted, kFixtureLessons, progress_path);
    app_frames(restarted);
    LessonSession& restored = restarted.lessons.session;
    REQUIRE(restored.is_open());
    CHECK(restarted.left_tab == LeftTab::lessons);
    CHECK(restored.lesson().id == kLessonId);
    CHECK(restored.on_learned());
    CHECK(restored.step_progress(predict).prediction == "deadlocked(orphaned_lock)");
    CHECK(restored.step_progress(predict).runs.front().outcome == "deadlocked(orphaned_lock)");
    CHECK(restored.step_progress(owner).attempts.size() == 2);
    CHECK(restored.step_progress(fix).runs.back().outcome == "completed");
    CHECK(restored.steps_done() == lesson.steps_done());
}

// The classroom's own first lesson, tutorials/01, done as a student does it: every step by the
// panel's buttons, each predict answered right, each run and fix made for real, each look
// followed, each question answered. Driven by the lesson's steps, so it follows the lesson's text.
TEST_CASE("lessons: the first lesson of tutorials/ done from start to finish in the panel",
          "[gui][lessons][run]") {
    TemporaryDirectory directory;
    HeadlessImGui imgui(1280, 1100);
    App app;
    load_lessons(app, std::string(FORKLORE_SOURCE_DIR) + "/tutorials",
                 directory.file("state/forklore/lessons.json"));
    LessonSession& lesson = app.lessons.session;
    REQUIRE(lesson.library().problems.empty());
    REQUIRE_FALSE(lesson.library().lessons.empty());
    const lesson::Lesson& first = lesson.library().lessons.front();
    CHECK(first.id == kLessonId);
    app.show_left_tab = LeftTab::lessons;
    app_frames(app);

    press(app, first.title);
    REQUIRE(lesson.is_open());
    press(app, "Start");
    while (!lesson.on_learned()) {
        REQUIRE(lesson.step());
        const lesson::Step& step = *lesson.step();
        const std::size_t index = lesson.step_index();
        INFO(step.label(index));
        switch (step.kind) {
        case lesson::StepKind::read:
            break;
        case lesson::StepKind::predict:
            press(app, step.outcome->text());
            press(app, "Run");
            wait_for_lesson_run(app);
            break;
        case lesson::StepKind::run:
            press(app, "Run");
            wait_for_lesson_run(app);
            for (const auto& look : step.looks) {
                press(app, "Show " + look.text());
                CHECK_FALSE(Contains("this run has no").match(app.lessons.look_said));
            }
            CHECK(lesson.step_progress(index).looks_followed.size() == step.looks.size());
            break;
        case lesson::StepKind::explain:
            if (step.check == lesson::AnswerCheck::choice) {
                press(app, step.answer);
            } else {
                app.lessons.answer_text = step.answer;
                app_frames(app, 1);
            }
            press(app, "Check");
            REQUIRE(lesson.step_progress(index).attempts.size() == 1);
            CHECK(lesson.step_progress(index).attempts.front().right);
            break;
        case lesson::StepKind::play: // the challenge in the Scheduler tab, won by the step's play
            press(app, "Play in the Scheduler tab");
            play_by_names(app, step.play, [&] { app_frame(app); });
            app_frames(app, 3);
            break;
        case lesson::StepKind::fix:
            press(app, "Apply and run");
            for (const auto& [knob, value] : step.run->settings)
                CHECK(app.config.knobs.at(knob) == value);
            wait_for_lesson_run(app);
            CHECK(app.view.record->verdict.kind == step.outcome->kind);
            break;
        }
        if (step.run) {
            // Every run ends as the lesson says: the prediction right, the fix repairing.
            REQUIRE_FALSE(lesson.step_progress(index).runs.empty());
            CHECK(lesson.step_progress(index).runs.back().as_step_says);
        }
        CHECK(lesson.step_done(index));
        press(app, "Next");
    }
    CHECK(lesson.progress().reached_end);
    CHECK(lesson.steps_done() == static_cast<int>(first.steps.size()));
    app.lessons.handin_path = directory.file("handin.md");
    app_frames(app, 1);
    press(app, "Hand in");
    const std::string handin = read_text(directory.file("handin.md"));
    CHECK_THAT(handin, Contains("# Hand-in: " + first.title + " (" + first.id + ")"));
    CHECK_THAT(handin, Contains(fmt::format("- steps done: {0} of {0}", first.steps.size())));
}

// [SECTION] Progress: unreadable files, changed lessons -------------------------------------------

TEST_CASE("lessons: a progress file that cannot be read is said, and never written over",
          "[gui][lessons]") {
    TemporaryDirectory directory;
    const std::string path = directory.file("lessons.json");
    for (const char* content :
         {"{ not json", "[1, 2, 3]", R"({"format": "forklore lesson progress", "version": 99})",
          R"({"format": "forklore lesson progress", "version": 1,
                                    "lessons": {"01-x": {"page": "three"}}})",
          R"({"format": "forklore lesson progress", "version": 1,
                                    "lessons": {"01-x": {"seconds": 1e300}}})",
          R"({"format": "forklore lesson progress", "version": 1,
                  "lessons": {"01-x": {"steps": [{"kind": "Read", "hints_shown": -4}]}}})"}) {
        INFO(content);
        write_text(path, content);
        HeadlessImGui imgui;
        App app;
        load_lessons(app, kFixtureLessons, path);
        LessonSession& lesson = app.lessons.session;
        CHECK(lesson.store().blocked());
        CHECK_THAT(lesson.store().problem(), Contains(path));
        CHECK_THAT(lesson.store().problem(), Contains("not saved"));
        // Walking a lesson changes nothing on disk while the file is unreadable.
        REQUIRE(open_lesson(app, kLessonId) == "");
        lesson.next();
        CHECK_FALSE(lesson.save());
        CHECK(read_text(path) == content);
        // The panel says so, and offers to set it aside.
        app.show_left_tab = LeftTab::lessons;
        app_frames(app);
        press(app, "Set it aside and start afresh");
        CHECK_FALSE(lesson.store().blocked());
        REQUIRE_FALSE(lesson.store().set_aside_to().empty());
        CHECK(read_text(lesson.store().set_aside_to()) == content);
        ProgressStore reread(path);
        REQUIRE(reread.load()); // the new file is progress
        CHECK(reread.book.lessons.at(kLessonId).page == 1);
        std::filesystem::remove(lesson.store().set_aside_to());
    }
}

TEST_CASE("lessons: a missing progress file is no progress, and an unknown lesson id is said",
          "[gui][lessons]") {
    TemporaryDirectory directory;
    App app;
    load_lessons(app, kFixtureLessons, directory.file("none/lessons.json"));
    CHECK_FALSE(app.lessons.session.store().blocked());
    CHECK(app.lessons.session.store().problem().empty());
    CHECK_FALSE(app.lessons.session.is_open());
    CHECK(lesson_status(app.lessons.session.progress_of(kLessonId)) == LessonStatus::not_started);
    CHECK_THAT(open_lesson(app, "99-nothing"),
               Contains("unknown lesson '99-nothing'") && Contains(kLessonId));
    REQUIRE(open_lesson(app, kLessonId) == "");
    CHECK(lesson_status(app.lessons.session.progress_of(kLessonId)) == LessonStatus::in_progress);
    CHECK(std::filesystem::exists(directory.file("none/lessons.json"))); // made on the change
}

TEST_CASE("lessons: a lesson whose steps changed keeps only the answers of the steps that did "
          "not",
          "[gui][lessons]") {
    TemporaryDirectory directory;
    const std::string path = directory.file("lessons.json");
    {
        ProgressStore store(path);
        LessonProgress progress;
        progress.lesson = kLessonId;
        progress.page = 5;
        StepProgress kept;
        kept.kind = "Predict";
        kept.title = "the reader holds the lock";
        kept.prediction = "completed";
        StepProgress renamed;
        renamed.kind = "Run";
        renamed.title = "a title the lesson no longer has";
        renamed.looks_followed = {"lock file_lock"};
        StepProgress read;
        read.kind = "Read";
        read.title = "one thread comes along";
        progress.steps = {read, kept, renamed};
        store.book.lessons[kLessonId] = progress;
        REQUIRE(store.save());
    }
    App app;
    load_lessons(app, kFixtureLessons, path);
    REQUIRE(open_lesson(app, kLessonId) == "");
    LessonSession& lesson = app.lessons.session;
    CHECK(lesson.page() == 5); // where the student was
    CHECK(lesson.step_progress(1).prediction == "completed");
    CHECK(lesson.step_progress(2).looks_followed.empty());
    CHECK(lesson.step_progress(2).title == "look at the hang");
    // A prediction made before a run is never changed after it.
    CHECK(lesson.choose_prediction(1, "crashed"));
    lesson.step_progress(1).runs.push_back(StepRun{"x", "completed", "", false, 0});
    CHECK_FALSE(lesson.choose_prediction(1, "completed"));
    CHECK(lesson.step_progress(1).prediction == "crashed");
}

// [SECTION] Markdown, and the panel at a classroom's sizes ----------------------------------------

TEST_CASE("lessons: a step that moved keeps its answers when steps are added before it",
          "[gui][lessons]") {
    TemporaryDirectory directory;
    const std::string path = directory.file("lessons.json");
    {
        // Saved when the lesson had two more steps in front: every step since moved by two.
        ProgressStore store(path);
        LessonProgress progress;
        progress.lesson = kLessonId;
        StepProgress removed;
        removed.kind = "Read";
        removed.title = "a step the teacher has since removed";
        StepProgress predict;
        predict.kind = "Predict";
        predict.title = "the reader holds the lock";
        predict.prediction = "completed";
        predict.hints_shown = 9; // more than the step has
        StepProgress also_removed = removed;
        also_removed.title = "another step since removed";
        progress.steps = {removed, also_removed, predict};
        store.book.lessons[kLessonId] = progress;
        REQUIRE(store.save());
    }
    App app;
    load_lessons(app, kFixtureLessons, path);
    REQUIRE(open_lesson(app, kLessonId) == "");
    LessonSession& lesson = app.lessons.session;
    REQUIRE(lesson.lesson().steps[1].kind == lesson::StepKind::predict);
    CHECK(lesson.step_progress(1).prediction == "completed");
    CHECK(lesson.step_progress(1).hints_shown ==
          static_cast<int>(lesson.lesson().steps[1].hints.size()));
}

TEST_CASE("lessons: Markdown reads as blocks without its markup", "[gui][lessons]") {
    const auto blocks = markdown_blocks("# Title\n\nA **bold** claim about `file_lock` and\n"
                                        "*fork*, see [the docs](https://x.org).\n\n"
                                        "- one\n  more of one\n- two_words\n\n1. first\n\n"
                                        "```\ncode *stays*\n```\n> quoted\n\n| a | b |\n|---|---|\n"
                                        "| 1 | 2 |\n\n---\n");
    REQUIRE(blocks.size() == 9);
    CHECK(blocks[0].kind == MarkdownBlock::Kind::heading);
    CHECK(blocks[0].level == 1);
    CHECK(blocks[0].text == "Title");
    CHECK(blocks[1].kind == MarkdownBlock::Kind::paragraph);
    CHECK(blocks[1].text == "A bold claim about file_lock and fork, see the docs (https://x.org).");
    CHECK(blocks[2].kind == MarkdownBlock::Kind::bullet);
    CHECK(blocks[2].text == "one more of one");
    CHECK(blocks[3].text == "two_words");
    CHECK(blocks[4].kind == MarkdownBlock::Kind::numbered);
    CHECK(blocks[4].marker == "1.");
    CHECK(blocks[5].kind == MarkdownBlock::Kind::code);
    CHECK(blocks[5].text == "code *stays*");
    CHECK(blocks[6].kind == MarkdownBlock::Kind::quote);
    CHECK(blocks[7].kind == MarkdownBlock::Kind::table);
    CHECK(blocks[7].text == "| a | b |\n| 1 | 2 |");
    CHECK(blocks[8].kind == MarkdownBlock::Kind::rule);
    CHECK(plain_inline("a * b, 3*4, __init__, `a*b`, _emphasis_") ==
          "a * b, 3*4, __init__, a*b, emphasis");
}

TEST_CASE("lessons: the Lessons tab fits 1024x700 and 1280x800 with the step's buttons in view",
          "[gui][lessons][layout]") {
    for (const ImVec2 size : {ImVec2(1024, 700), ImVec2(1280, 800)}) {
        INFO("window " << size.x << "x" << size.y);
        HeadlessImGui imgui(size.x, size.y);
        App app;
        load_lessons(app, kFixtureLessons, {});
        REQUIRE(open_lesson(app, kLessonId, 2) == ""); // the predict step
        app_frames(app, 4);
        const Region column = app.regions.browser;
        // Wider than the scenario browser, and the centre still has its room.
        CHECK(column.width >= ImGui::GetFontSize() * 16);
        CHECK(column.width > size.x * 0.17f);
        CHECK(app.regions.centre.width >= ImGui::GetFontSize() * 24);
        CHECK(app.regions.verdict.x + app.regions.verdict.width <= size.x + 0.5f);
        for (const char* label :
             {"Run", "deadlocked(orphaned_lock)", "Back", "Next", "Hint (1 of 2)"}) {
            INFO(label);
            const DrawnButton* drawn = app.lessons.button(label);
            REQUIRE(drawn != nullptr);
            CHECK(drawn->min.x >= column.x);
            CHECK(drawn->max.x <= column.x + column.width + 0.5f);
            CHECK(drawn->max.y <= column.y + column.height + 0.5f);
        }
        // Back in the Scenarios tab, the column is the browser's width again.
        app.show_left_tab = LeftTab::scenarios;
        app_frames(app, 3);
        CHECK(app.regions.browser.width < column.width);
    }
}
