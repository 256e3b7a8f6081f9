// What the app does for the Lessons panel (app_lessons.hpp).
#include "gui/app_lessons.hpp"

#include "sim/lesson/challenges.hpp"

#include <imgui.h>

#include <fmt/format.h>

#include <stdexcept>

namespace forklore::gui {

void load_lessons(App& app, const std::filesystem::path& lessons_directory,
                  const std::filesystem::path& progress_path) {
    LessonSession& session = app.lessons.session;
    session.load(lessons_directory, progress_path);
    if (const std::string current = session.store().book.current; !current.empty())
        open_lesson(app, current);
}

std::string open_lesson(App& app, const std::string& id, int page) {
    LessonSession& session = app.lessons.session;
    if (!session.open(id)) {
        std::vector<std::string> ids;
        for (const auto& lesson : session.library().lessons)
            ids.push_back(lesson.id);
        return fmt::format(
            "unknown lesson '{}' in {} (lessons: {})", id, session.library().directory.string(),
            ids.empty() ? std::string("none") : fmt::format("{}", fmt::join(ids, ", ")));
    }
    if (page >= 0)
        session.go_to(page);
    app.show_left_tab = LeftTab::lessons;
    return {};
}

std::string run_lesson_step(App& app, std::size_t step) {
    LessonSession& session = app.lessons.session;
    if (!session.is_open() || step >= session.lesson().steps.size())
        return "no lesson step to run";
    if (std::string why = session.why_not_run(step); !why.empty())
        return why;
    if (app.session.running())
        return "a run is in progress";
    const lesson::RunSpec& spec = *session.lesson().steps[step].run;
    // As a user would: the scenario in the browser, the variant and each knob in the controls.
    std::string problem;
    if (!select_scenario(app, spec.scenario)) {
        problem = fmt::format("unknown scenario '{}'", spec.scenario);
    } else {
        const Scenario& scenario = *app.config.find();
        try {
            app.config.knobs =
                scenario.resolve_knobs(scenario.find_variant(spec.variant), spec.settings);
            app.config.variant = spec.variant;
            // Knobs equal to a preset are that preset, as the controls say after an edit.
            if (std::string matching = app.config.matching_variant(scenario); !matching.empty())
                app.config.variant = matching;
            app.lesson_run_generation = app.session.view().generation;
            problem = start_run(app, 1);
        } catch (const std::invalid_argument& error) {
            problem = error.what();
        }
    }
    if (!problem.empty()) {
        session.run_failed(fmt::format("the run of {} could not start: {}", spec.text(), problem));
        return problem;
    }
    session.run_started(step);
    app.show_tab = CentreTab::timeline;
    return {};
}

void take_lesson_run(App& app) {
    LessonSession& session = app.lessons.session;
    if (!session.running_step() || app.session.running())
        return;
    const RunProgress progress = app.session.progress();
    const RecordView view = app.session.view();
    if (!progress.error.empty()) {
        session.run_failed(progress.error);
    } else if (view && !view.live && view.generation != app.lesson_run_generation) {
        session.run_ended(view.record);
    } else {
        session.run_failed("the run ended with no record");
    }
}

std::string play_lesson_step(App& app, std::size_t step) {
    LessonSession& session = app.lessons.session;
    if (!session.is_open() || step >= session.lesson().steps.size() ||
        session.lesson().steps[step].kind != lesson::StepKind::play)
        return "no lesson challenge to play";
    if (app.session.running())
        return "a run is in progress";
    const std::string& id = session.lesson().steps[step].challenge;
    const std::optional<int> index = challenge_index(id);
    if (!index)
        return fmt::format("unknown challenge '{}'", id);
    app.scheduler.challenge = *index;
    app.lesson_play_generation = app.session.view().generation;
    if (std::string problem = start_stepped_run(app); !problem.empty()) {
        session.run_failed(fmt::format("challenge '{}' could not start: {}", id, problem));
        return problem;
    }
    session.play_started(step);
    app.show_tab = CentreTab::scheduler;
    return {};
}

void take_lesson_play(App& app) {
    LessonSession& session = app.lessons.session;
    const auto step = session.playing_step();
    if (!step || app.session.running())
        return;
    const auto& list = challenges();
    const int index = app.scheduler.challenge;
    // The student ran something else, or chose another challenge: the lesson's play is over.
    if (!app.scheduler.stepping || index < 0 || index >= static_cast<int>(list.size()) ||
        list[static_cast<std::size_t>(index)].id != session.lesson().steps[*step].challenge) {
        session.play_stopped();
        return;
    }
    const RecordView view = app.session.view();
    if (!view || view.live || view.generation == app.lesson_play_generation)
        return;
    app.lesson_play_generation = view.generation;
    session.play_ended(view.record, challenge_outcome(app.scheduler, view));
}

void carry_out_lesson_requests(App& app) {
    // Cleared here, as the panel is not drawn behind another tab.
    if (app.lessons.run_step)
        run_lesson_step(app, *app.lessons.run_step);
    if (app.lessons.play_step)
        play_lesson_step(app, *app.lessons.play_step);
    if (app.lessons.look)
        follow_look(app, *app.lessons.look);
    app.lessons.run_step.reset();
    app.lessons.play_step.reset();
    app.lessons.look.reset();
}

void follow_look(App& app, const LookTarget& target) {
    if (target.record && app.view.record != target.record) {
        show_record(app, RecordView{target.record, next_record_generation(), false});
        app.origin = ViewOrigin::run;
    }
    app.selection = target.selection;
    switch (target.tab) {
    case LookTarget::Tab::timeline:
        app.show_tab = CentreTab::timeline;
        break;
    case LookTarget::Tab::process_tree:
        app.show_tab = CentreTab::process_tree;
        break;
    case LookTarget::Tab::locks:
        app.show_tab = CentreTab::locks;
        break;
    }
}

void draw_left_column(App& app) {
    if (!ImGui::BeginTabBar("##left"))
        return;
    auto flags = [&](LeftTab tab) {
        return app.show_left_tab == tab ? ImGuiTabItemFlags_SetSelected : ImGuiTabItemFlags_None;
    };
    if (ImGui::BeginTabItem("Scenarios", nullptr, flags(LeftTab::scenarios))) {
        app.left_tab = LeftTab::scenarios;
        if (ImGui::BeginChild("##scenarios"))
            draw_browser_panel(app.browser, app.config.scenario);
        ImGui::EndChild();
        ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("Lessons", nullptr, flags(LeftTab::lessons))) {
        app.left_tab = LeftTab::lessons;
        if (ImGui::BeginChild("##lessons"))
            draw_lessons_panel(app.lessons, app.session.running());
        ImGui::EndChild();
        ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
    app.show_left_tab.reset();
}

} // namespace forklore::gui
