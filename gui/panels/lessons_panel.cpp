// The Lessons tab (lessons_panel.hpp).
//
// Index of this file:
// [SECTION] small pieces: buttons that the tests find, colours
// [SECTION] the list of lessons
// [SECTION] predict, run, explain, fix, play
// [SECTION] hints, the introduction and the end
// [SECTION] the panel
#include "gui/panels/lessons_panel.hpp"

#include "gui/models/lesson_handin.hpp"
#include "gui/panels/lesson_text.hpp"
#include "gui/widgets.hpp"
#include "sim/lesson/challenges.hpp"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

namespace forklore::gui {

namespace {

using lesson::StepKind;

const ImVec4 kRight{0.35f, 0.75f, 0.40f, 1.0f};
const ImVec4 kWrong{0.90f, 0.30f, 0.30f, 1.0f};

constexpr const char* kHelp =
    "Lessons for a classroom, from the tutorials/ folder: predict what a run will do, run it, "
    "look at it, explain it, fix it. Open a lesson and walk it with Back and Next. A step's Run "
    "sets the scenario, variant and knobs in the controls as you would, and every panel shows "
    "the run. Your progress (each prediction, answer and verdict) is saved as you go, in "
    "$XDG_STATE_HOME/forklore/lessons.json (~/.local/state/forklore/lessons.json), and comes "
    "back when forklore-gui starts. At the end, Hand in writes a Markdown summary for your "
    "teacher.";

// [SECTION] small pieces: buttons that the tests find, colours ------------------------------------

void remember(LessonsPanelState& state, const std::string& label, bool enabled) {
    state.drawn_buttons.push_back(
        DrawnButton{label, ImGui::GetItemRectMin(), ImGui::GetItemRectMax(), enabled});
}

// A button that can be disabled, remembered under its label (before any "##id").
bool button(LessonsPanelState& state, const std::string& label, bool enabled = true) {
    ImGui::BeginDisabled(!enabled);
    const bool pressed = ImGui::Button(label.c_str());
    ImGui::EndDisabled();
    remember(state, label.substr(0, label.find("##")), enabled);
    return pressed && enabled;
}

bool radio(LessonsPanelState& state, const std::string& label, bool active, bool enabled) {
    ImGui::BeginDisabled(!enabled);
    const bool pressed = ImGui::RadioButton(label.c_str(), active);
    ImGui::EndDisabled();
    remember(state, label, enabled);
    return pressed && enabled;
}

ImVec4 kind_colour(StepKind kind) {
    switch (kind) {
    case StepKind::predict:
        return {0.55f, 0.70f, 1.00f, 1.0f};
    case StepKind::run:
        return {0.45f, 0.85f, 0.55f, 1.0f};
    case StepKind::explain:
        return {0.95f, 0.80f, 0.35f, 1.0f};
    case StepKind::fix:
        return {0.95f, 0.60f, 0.30f, 1.0f};
    case StepKind::play:
        return {0.80f, 0.55f, 0.95f, 1.0f};
    case StepKind::read:
        break;
    }
    return ImGui::GetStyleColorVec4(ImGuiCol_Text);
}

ImVec4 outcome_colour(const std::string& outcome) {
    if (outcome == "completed")
        return verdict_colour(VerdictKind::completed);
    if (outcome.rfind("deadlocked", 0) == 0)
        return verdict_colour(VerdictKind::deadlocked);
    if (outcome == "crashed" || outcome == "failed")
        return verdict_colour(VerdictKind::crashed);
    return verdict_colour(VerdictKind::timed_out);
}

// "ended deadlocked(orphaned_lock)", coloured as the verdict.
void said_outcome(const char* before, const std::string& outcome) {
    ImGui::TextUnformatted(before);
    ImGui::SameLine();
    ImGui::TextColored(outcome_colour(outcome), "%s", outcome.c_str());
}

// [SECTION] the list of lessons -------------------------------------------------------------------

std::string status_text(const LessonSession& session, const lesson::Lesson& lesson) {
    const LessonProgress* progress = session.progress_of(lesson.id);
    switch (lesson_status(progress)) {
    case LessonStatus::not_started:
        return "not started";
    case LessonStatus::done:
        return progress->handed_in.empty() ? "done" : "done, handed in";
    case LessonStatus::in_progress:
        break;
    }
    const int steps = static_cast<int>(lesson.steps.size());
    return progress->page == 0
               ? "in progress: introduction"
               : fmt::format("in progress: step {} of {}", std::min(progress->page, steps), steps);
}

void draw_store_problem(LessonsPanelState& state) {
    ProgressStore& store = state.session.store();
    if (store.problem().empty())
        return;
    coloured_text(ImGui::ColorConvertU32ToFloat4(palette::warning), store.problem());
    if (store.blocked() && button(state, "Set it aside and start afresh")) {
        if (store.set_aside())
            state.session.save();
    }
}

void draw_list(LessonsPanelState& state) {
    LessonSession& session = state.session;
    const LessonLibrary& library = session.library();
    if (library.lessons.empty())
        disabled_text(fmt::format("No lessons in {} yet.", library.directory.string()));
    for (const auto& lesson : library.lessons) {
        ImGui::PushID(lesson.id.c_str());
        const bool open = ImGui::Selectable(lesson.title.c_str(), false, ImGuiSelectableFlags_None);
        remember(state, lesson.title, true);
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip("%s: %zu steps", lesson.id.c_str(), lesson.steps.size());
        const LessonStatus status = lesson_status(session.progress_of(lesson.id));
        ImGui::Indent();
        disabled_text(fmt::format("{} | {} min | {}", lesson.id, lesson.minutes,
                                  fmt::join(lesson.topics, ", ")));
        ImGui::TextColored(status == LessonStatus::done ? kRight
                           : status == LessonStatus::in_progress
                               ? kind_colour(StepKind::explain)
                               : ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled),
                           "%s", status_text(session, lesson).c_str());
        ImGui::Unindent();
        ImGui::Spacing();
        ImGui::PopID();
        if (open)
            session.open(lesson.id);
    }
    for (const auto& problem : library.problems) {
        coloured_text(ImGui::ColorConvertU32ToFloat4(palette::warning), problem);
    }
}

// [SECTION] predict, run, explain, fix, play ------------------------------------------------------

// The run button of a step, or why it cannot be pressed yet; then the running line.
void draw_run_button(LessonsPanelState& state, std::size_t step, const std::string& label,
                     bool running) {
    LessonSession& session = state.session;
    std::string why = session.why_not_run(step);
    if (why.empty() && running)
        why = "a run is in progress (Stop it in the controls)";
    if (button(state, label, why.empty()))
        state.run_step = step;
    if (session.running_step() == step) {
        ImGui::SameLine();
        ImGui::TextDisabled("running...");
    } else if (!why.empty()) {
        ImGui::SameLine();
        disabled_text(why);
    }
    if (const lesson::Step& shown = session.lesson().steps[step]; shown.run)
        disabled_text(shown.run->command());
}

// The verdict's explanation of the step's last run, if it has one.
void draw_explanation(const LessonSession& session, std::size_t step) {
    const StepProgress& progress = session.step_progress(step);
    if (progress.runs.empty() || progress.runs.back().explanation.empty())
        return;
    ImGui::Spacing();
    ImGui::TextDisabled("The verdict:");
    wrapped_text(progress.runs.back().explanation);
}

// The last run of the step: its outcome, and whether it is what the step says.
void draw_last_run(const LessonSession& session, std::size_t step) {
    const lesson::Step& shown = session.lesson().steps[step];
    const StepProgress& progress = session.step_progress(step);
    if (progress.runs.empty())
        return;
    const StepRun& run = progress.runs.back();
    ImGui::Spacing();
    if (!run.has_outcome()) {
        coloured_text(kWrong, "The run was stopped before a verdict: run it again.");
        return;
    }
    said_outcome("The run ended", run.outcome);
    const ImVec4 colour = run.as_step_says ? kRight : kWrong;
    if (shown.kind == StepKind::predict)
        coloured_text(colour, fmt::format("Your prediction, {}, was {}.", progress.prediction,
                                          run.as_step_says ? "right" : "wrong"));
    else if (shown.outcome)
        coloured_text(colour, run.as_step_says ? "As the step expects."
                                               : fmt::format("Not as the step expects: {}.",
                                                             shown.outcome->text()));
}

void draw_predict(LessonsPanelState& state, std::size_t step, bool running) {
    LessonSession& session = state.session;
    StepProgress& progress = session.step_progress(step);
    const bool open = progress.runs.empty() && session.running_step() != step;
    ImGui::TextUnformatted(open ? "Your prediction:" : "Your prediction (made before the run):");
    ImGui::Indent();
    for (const auto& choice : session.choices(step))
        if (radio(state, choice, progress.prediction == choice, open))
            session.choose_prediction(step, choice);
    ImGui::Unindent();
    draw_run_button(state, step, progress.runs.empty() ? "Run" : "Run again", running);
    draw_last_run(session, step);
    draw_explanation(session, step);
}

void draw_run(LessonsPanelState& state, std::size_t step, bool running) {
    LessonSession& session = state.session;
    const lesson::Step& shown = session.lesson().steps[step];
    draw_run_button(state, step, session.step_progress(step).runs.empty() ? "Run" : "Run again",
                    running);
    draw_last_run(session, step);
    if (shown.looks.empty()) {
        draw_explanation(session, step);
        return;
    }
    ImGui::Spacing();
    const auto record = session.record(step);
    ImGui::TextUnformatted("Look at it:");
    if (!record)
        disabled_text("(run it first: the looks point into its record)");
    for (const auto& look : shown.looks) {
        const std::string label = fmt::format("Show {} {}",
                                              look.kind == lesson::Look::Kind::lock     ? "lock"
                                              : look.kind == lesson::Look::Kind::thread ? "thread"
                                                                                        : "process",
                                              look.name);
        if (button(state, label, record != nullptr)) {
            if (auto target = find_look(look, *record)) {
                target->record = record;
                state.look_said = target->said;
                state.look = std::move(target);
                session.look_followed(step, look);
            } else {
                state.look_said = fmt::format("this run has no {}", look.text());
            }
        }
    }
    if (!state.look_said.empty()) {
        ImGui::TextDisabled("Selected:");
        ImGui::SameLine();
        wrapped_text(state.look_said);
    }
    draw_explanation(session, step);
}

void draw_explain(LessonsPanelState& state, std::size_t step) {
    LessonSession& session = state.session;
    const StepProgress& progress = session.step_progress(step);
    if (const StepRun* asked = session.asked_run(step)) {
        disabled_text(fmt::format("About the run of {}, which ended:", asked->run));
        coloured_text(outcome_colour(asked->outcome), asked->outcome);
    }
    const bool answered = progress.answered_right();
    const std::vector<std::string> choices = session.choices(step);
    if (!answered) {
        bool submitted = false;
        if (choices.empty()) {
            ImGui::SetNextItemWidth(-FLT_MIN);
            // Enter checks the answer, as the button does.
            submitted = ImGui::InputTextWithHint("##answer", "your answer", &state.answer_text,
                                                 ImGuiInputTextFlags_EnterReturnsTrue);
        } else {
            for (std::size_t i = 0; i < choices.size(); ++i)
                if (radio(state, choices[i], state.chosen == static_cast<int>(i), true))
                    state.chosen = static_cast<int>(i);
        }
        const std::string answer = choices.empty() ? state.answer_text
                                   : state.chosen >= 0
                                       ? choices[static_cast<std::size_t>(state.chosen)]
                                       : std::string();
        const bool has_answer = answer.find_first_not_of(" \t") != std::string::npos;
        if (button(state, progress.attempts.empty() ? "Check" : "Check again", has_answer) ||
            (submitted && has_answer))
            session.check_answer(step, answer);
    }
    for (std::size_t i = 0; i < progress.attempts.size(); ++i) {
        const AnswerAttempt& attempt = progress.attempts[i];
        coloured_text(
            attempt.right ? kRight : kWrong,
            fmt::format("{}. {}: {}", i + 1, attempt.answer, attempt.right ? "right" : "wrong"));
    }
    if (!progress.attempts.empty() && !answered)
        ImGui::TextDisabled("Not quite: try again (a hint may help).");
}

void draw_fix(LessonsPanelState& state, std::size_t step, bool running) {
    LessonSession& session = state.session;
    const lesson::RunSpec& spec = *session.lesson().steps[step].run;
    ImGui::TextUnformatted("In the controls:");
    ImGui::Indent();
    ImGui::BulletText("scenario %s", spec.scenario.c_str());
    ImGui::BulletText("variant %s",
                      spec.variant.empty() ? "(the knobs' defaults)" : spec.variant.c_str());
    for (const auto& [knob, value] : spec.settings)
        ImGui::BulletText("turn %s to %s", knob.c_str(), value.c_str());
    ImGui::Unindent();
    draw_run_button(state, step, "Apply and run", running);
    draw_last_run(session, step);
    draw_explanation(session, step);
}

// A play step: its challenge, a button that plays it in the Scheduler tab, and each try's result.
void draw_play(LessonsPanelState& state, std::size_t step, bool running) {
    LessonSession& session = state.session;
    const StepProgress& progress = session.step_progress(step);
    if (const Challenge* challenge = find_challenge(session.lesson().steps[step].challenge)) {
        ImGui::TextColored(kind_colour(StepKind::play), "Challenge: %s", challenge->title.c_str());
        wrapped_text(challenge->goal);
    }
    const bool won = session.step_done(step);
    if (button(state, progress.runs.empty() ? "Play in the Scheduler tab" : "Play again", !running))
        state.play_step = step;
    if (session.playing_step() == step && !won)
        disabled_text("Each run you finish in the Scheduler tab is judged here; Undo or Play "
                      "there to try again.");
    for (std::size_t i = 0; i < progress.runs.size(); ++i) {
        const StepRun& run = progress.runs[i];
        coloured_text(run.as_step_says ? kRight : kWrong,
                      fmt::format("Try {}: {}, {}.", i + 1, run.outcome, run.explanation));
    }
}

// [SECTION] hints, the introduction and the end ---------------------------------------------------

void draw_hints(LessonsPanelState& state, std::size_t step) {
    LessonSession& session = state.session;
    const auto& hints = session.lesson().steps[step].hints;
    if (hints.empty())
        return;
    const int shown = session.step_progress(step).hints_shown;
    ImGui::Spacing();
    for (int i = 0; i < shown && i < static_cast<int>(hints.size()); ++i) {
        ImGui::TextDisabled("Hint %d:", i + 1);
        ImGui::SameLine();
        wrapped_text(hints[static_cast<std::size_t>(i)]);
    }
    if (shown < static_cast<int>(hints.size()) &&
        button(state, fmt::format("Hint ({} of {})", shown + 1, hints.size())))
        session.show_hint(step);
}

void draw_introduction(const lesson::Lesson& lesson) {
    disabled_text(fmt::format("{} minutes | {}", lesson.minutes, fmt::join(lesson.topics, ", ")));
    disabled_text(fmt::format("{} steps | scenarios: {}", lesson.steps.size(),
                              fmt::join(lesson.scenarios, ", ")));
    ImGui::Spacing();
    draw_markdown(lesson.introduction);
}

void draw_end(LessonsPanelState& state) {
    LessonSession& session = state.session;
    const lesson::Lesson& lesson = session.lesson();
    draw_markdown(lesson.learned);
    ImGui::Separator();
    wrapped_text(fmt::format("Steps done: {} of {} | time spent: {}", session.steps_done(),
                             lesson.steps.size(), describe_duration(session.progress().seconds)));
    ImGui::Spacing();
    ImGui::TextUnformatted("Hand in a summary for your teacher:");
    help_marker("A Markdown file: the lesson, each prediction with its run's verdict, each "
                "explain answer and its attempts, each fix's verdict, the time spent and the "
                "commit of forklore. It is never written over an existing file unless you press "
                "Overwrite.");
    if (state.handin_path.empty())
        state.handin_path = default_handin_name(lesson);
    ImGui::SetNextItemWidth(-FLT_MIN);
    if (ImGui::InputText("##handin", &state.handin_path))
        state.handin_exists = false;
    auto hand_in = [&](bool overwrite) {
        const std::string markdown = handin_markdown(lesson, session.progress(), forklore_commit(),
                                                     static_cast<std::int64_t>(std::time(nullptr)));
        const HandinWrite wrote =
            write_handin(state.handin_path, markdown, overwrite, state.handin_message);
        state.handin_exists = wrote == HandinWrite::exists;
        state.handin_error = wrote == HandinWrite::failed;
        if (wrote == HandinWrite::written)
            session.handed_in(state.handin_path);
    };
    if (button(state, "Hand in"))
        hand_in(false);
    if (state.handin_exists) {
        ImGui::SameLine();
        if (button(state, "Overwrite"))
            hand_in(true);
    }
    if (!state.handin_message.empty())
        coloured_text(state.handin_error || state.handin_exists
                          ? ImGui::ColorConvertU32ToFloat4(palette::warning)
                          : kRight,
                      state.handin_message);
}

// [SECTION] the panel -----------------------------------------------------------------------------

// Small numbered buttons, one per step: green when done, the one shown highlighted. Jumps there.
void draw_step_strip(LessonsPanelState& state) {
    LessonSession& session = state.session;
    const lesson::Lesson& lesson = session.lesson();
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    for (int page = 0; page < session.pages(); ++page) {
        const bool step = page > 0 && page < session.pages() - 1;
        const std::string label = page == 0 ? "intro" : step ? std::to_string(page) : "end";
        const bool done = step && session.step_done(static_cast<std::size_t>(page - 1));
        const float width = ImGui::CalcTextSize(label.c_str()).x + ImGui::GetFontSize();
        if (page > 0 && ImGui::GetItemRectMax().x + width < right)
            ImGui::SameLine(0, 2);
        int colours = 0;
        if (page == session.page()) {
            ImGui::PushStyleColor(ImGuiCol_Button,
                                  ImGui::ColorConvertU32ToFloat4(palette::selected));
            ++colours;
        } else if (done) {
            ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.20f, 0.45f, 0.25f, 1.0f));
            ++colours;
        }
        ImGui::PushID(page);
        if (ImGui::SmallButton(label.c_str()))
            session.go_to(page);
        ImGui::PopID();
        ImGui::PopStyleColor(colours);
        if (step && ImGui::IsItemHovered()) {
            const lesson::Step& shown = lesson.steps[static_cast<std::size_t>(page - 1)];
            ImGui::SetTooltip("%s: %s%s", std::string(lesson::to_string(shown.kind)).c_str(),
                              shown.title.c_str(), done ? " (done)" : "");
        }
    }
}

void draw_open_lesson(LessonsPanelState& state, bool running) {
    LessonSession& session = state.session;
    const lesson::Lesson& lesson = session.lesson();
    if (state.answer_page != session.page()) {
        state.answer_page = session.page();
        state.answer_text.clear();
        state.chosen = -1;
        state.look_said.clear();
    }
    if (button(state, "< Lessons")) {
        session.close();
        return;
    }
    ImGui::SameLine();
    ImGui::PushStyleColor(ImGuiCol_Text, kLessonHeading);
    wrapped_text(lesson.title);
    ImGui::PopStyleColor();
    draw_step_strip(state);
    ImGui::Separator();

    const lesson::Step* step = session.step();
    if (step) {
        ImGui::TextColored(kind_colour(step->kind),
                           "%s:", std::string(lesson::to_string(step->kind)).c_str());
        ImGui::SameLine();
        wrapped_text(step->title);
    } else {
        ImGui::TextColored(kLessonHeading, "%s",
                           session.on_introduction() ? "Introduction" : "What you learned");
    }
    // The page scrolls between its heading and Back / Next, which stay in view.
    const float footer = ImGui::GetFrameHeightWithSpacing() + ImGui::GetStyle().ItemSpacing.y;
    if (ImGui::BeginChild("##page", ImVec2(0, -footer))) {
        if (session.on_introduction()) {
            draw_introduction(lesson);
        } else if (session.on_learned()) {
            draw_end(state);
        } else {
            const std::size_t index = session.step_index();
            draw_markdown(step->text);
            ImGui::Spacing();
            switch (step->kind) {
            case StepKind::read:
                break;
            case StepKind::predict:
                draw_predict(state, index, running);
                break;
            case StepKind::run:
                draw_run(state, index, running);
                break;
            case StepKind::explain:
                draw_explain(state, index);
                break;
            case StepKind::fix:
                draw_fix(state, index, running);
                break;
            case StepKind::play:
                draw_play(state, index, running);
                break;
            }
            draw_hints(state, index);
        }
        if (!session.message().empty())
            coloured_text(kWrong, session.message());
    }
    ImGui::EndChild();
    ImGui::Separator();
    if (button(state, "Back", !session.on_introduction()))
        session.back();
    ImGui::SameLine();
    if (button(state, session.on_introduction() ? "Start" : "Next", !session.on_learned()))
        session.next();
    ImGui::SameLine();
    if (session.step()) // the page may have changed with the button
        ImGui::TextDisabled("step %zu of %zu%s", session.step_index() + 1, lesson.steps.size(),
                            session.step_done(session.step_index()) ? ", done" : "");
}

} // namespace

const DrawnButton* LessonsPanelState::button(const std::string& label) const {
    for (const auto& drawn : drawn_buttons)
        if (drawn.label == label)
            return &drawn;
    return nullptr;
}

void draw_lessons_panel(LessonsPanelState& state, bool running) {
    state.drawn_buttons.clear();
    state.run_step.reset();
    state.look.reset();
    if (!state.session.is_open()) {
        ImGui::TextUnformatted("Lessons");
        help_marker(kHelp);
    }
    draw_store_problem(state);
    if (state.session.is_open())
        draw_open_lesson(state, running);
    else
        draw_list(state);
}

} // namespace forklore::gui
