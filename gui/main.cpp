// forklore-gui: the interactive explorer.
//
//   forklore-gui [--run ID:VARIANT [--repeat N [--show-run K]]] [--open FILE] [--matrix GLOB]
//                [--challenge ID [--play THREAD,...]]
//                [--lesson ID[:STEP] [--predict CHOICE]] [--tab NAME] [--frames N]
//                [--screenshot FILE.png] [--size WxH] [--zoom FACTOR]
//
// --run chooses a scenario variant and starts it at launch (--repeat: N runs, as Repeat does;
// --show-run: once they have ended, run K is shown, as stepping through them does); --open shows a
// saved run record;
// --matrix runs the matrix over the variants the glob selects; --lesson opens a lesson of
// tutorials/ (or $FORKLORE_LESSONS) in the Lessons tab, at step STEP, and --predict answers that
// predict step and runs it, as the student would; --tab brings a centre tab to the
// front; --frames exits after N frames (not before what was started has finished, within a
// bound) and prints the mean frame time; --screenshot writes the last frame as PNG; --size opens
// the window at that size (1280x800 by default); --zoom scales text and sizes. Bad input (unknown
// scenario or variant, a file that is not a run record or passes a bound of RecordLimits, a
// screenshot path that must not be written, no display) prints one line on stderr and exits 2,
// before any window opens. --challenge starts a challenge in the Scheduler tab and --play lets
// the named threads ("reader", "main@3") take its first steps.
//
// Index of this file: the exit on bad input (usage_error and its helpers), then main(): the
// options, the window, what is started at launch, and the frame loop.
#include "gui/app.hpp"
#include "gui/app_lessons.hpp"
#include "gui/ui_scale.hpp"
#include "gui/window.hpp"
#include "sim/lesson/challenges.hpp"
#include "sim/lesson/lesson.hpp"
#include "sim/protocol/text.hpp"
#include "sim/record/user_file.hpp"
#include "sim/run/scheduler.hpp"

#include <imgui.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

namespace {

using namespace forklore;
using namespace forklore::gui;
using Clock = std::chrono::steady_clock;

constexpr int kExitUsage = 2;
// Frames drawn after the started run has ended, so every panel shows its final record (a panel
// may lay itself out over a frame or two) before the screenshot.
constexpr int kSettleFrames = 5;

int usage_error(const std::string& message) {
    fmt::print(stderr, "forklore-gui: {}\n", printable(message, 1000)); // one line, always
    return kExitUsage;
}

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Chooses ID:VARIANT (or ID alone: its first variant) in the app. Returns "" or the error.
std::string choose(App& app, const std::string& spec) {
    const auto colon = spec.find(':');
    const std::string id = spec.substr(0, colon);
    const std::string variant = colon == std::string::npos ? "" : spec.substr(colon + 1);
    if (!select_scenario(app, id))
        return fmt::format("unknown scenario '{}' (see 'forklore list')", id);
    if (!variant.empty() && !select_variant(app, variant)) {
        std::string names;
        for (const auto& v : app.config.find()->variants)
            names += (names.empty() ? "" : ", ") + v.name;
        return fmt::format("scenario '{}' has no variant '{}' (variants: {})", id, variant, names);
    }
    return {};
}

// "1024x700" -> {1024, 700}; nothing for what is not two whole numbers within a screen's range.
std::optional<std::pair<int, int>> parse_size(const std::string& text) {
    const auto x = text.find('x');
    if (x == std::string::npos)
        return std::nullopt;
    int width = 0, height = 0;
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    const auto [after_width, width_error] = std::from_chars(begin, begin + x, width);
    const auto [after_height, height_error] = std::from_chars(begin + x + 1, end, height);
    if (width_error != std::errc() || after_width != begin + x || height_error != std::errc() ||
        after_height != end)
        return std::nullopt;
    if (width < 320 || height < 240 || width > 16384 || height > 16384)
        return std::nullopt;
    return std::pair{width, height};
}

// Opens lesson ID[:STEP] in the Lessons tab and, with `prediction`, answers that predict step (its
// run starts once the window is open). Everything is checked before the lesson opens: a mistyped
// option changes nothing in the student's progress. Returns "" or the error.
std::string start_lesson(App& app, const std::string& spec, const std::string& prediction) {
    const auto colon = spec.find(':');
    const std::string id = spec.substr(0, colon);
    int step = 0; // 0: the page the progress reached
    if (colon != std::string::npos) {
        const std::string number = spec.substr(colon + 1);
        const auto [end, error] =
            std::from_chars(number.data(), number.data() + number.size(), step);
        if (error != std::errc() || end != number.data() + number.size() || step < 1)
            return fmt::format("--lesson '{}': STEP is a step's number, from 1", spec);
    }
    LessonSession& session = app.lessons.session;
    const lesson::Lesson* chosen = session.library().find(id);
    if (chosen && step > static_cast<int>(chosen->steps.size()))
        return fmt::format("lesson '{}' has {} steps", id, chosen->steps.size());
    if (chosen && !prediction.empty()) {
        if (step == 0)
            return "--predict needs the step: --lesson ID:STEP";
        const auto index = static_cast<std::size_t>(step - 1);
        if (chosen->steps[index].kind != lesson::StepKind::predict)
            return fmt::format("--predict: step {} of lesson '{}' is not a predict step", step, id);
        const auto choices = step_choices(chosen->steps[index]);
        if (std::find(choices.begin(), choices.end(), prediction) == choices.end())
            return fmt::format("--predict '{}' is not one of the step's choices ({})", prediction,
                               fmt::join(choices, " | "));
        if (const LessonProgress* progress = session.progress_of(id);
            progress && index < progress->steps.size() && !progress->steps[index].runs.empty() &&
            progress->steps[index].title == chosen->steps[index].title)
            return fmt::format("--predict: step {} of lesson '{}' was already run (your progress "
                               "keeps the prediction made before it)",
                               step, id);
    }
    if (std::string problem = open_lesson(app, id, step > 0 ? step : -1); !problem.empty())
        return problem;
    if (!prediction.empty())
        session.choose_prediction(session.step_index(), prediction);
    return {};
}

} // namespace

int main(int argc, char** argv) {
    CLI::App cli{"forklore-gui: explore fork, threads and locks scenarios live"};
    cli.footer("Exit codes:\n"
               "  0  the window was closed, or --frames were drawn\n"
               "  2  bad input: unknown scenario or variant, a --open file that is not a run "
               "record or passes a bound (README, Run records), a --screenshot path that must "
               "not be written, no display; one line on stderr, before any window opens");
    std::string run_spec, open_path, matrix_filter, tab, screenshot_path, size_text = "1280x800";
    std::string lesson_spec, prediction, challenge_id;
    std::vector<std::string> play_script;
    int frames = 0, repeat = 1, show_run_number = 0;
    float zoom = 1.0f;
    CLI::Option* run_option = cli.add_option(
        "--run", run_spec, "choose a scenario variant (ID:VARIANT) and run it at launch");
    // A file name given as '' (an unset shell variable) is an error, not "no file".
    const CLI::Validator file_name(
        [](std::string& text) -> std::string { return text.empty() ? "needs a file name" : ""; },
        "FILE");
    cli.add_option("--open", open_path, "show a saved run record (JSON)")->check(file_name);
    cli.add_option(
        "--matrix", matrix_filter,
        "run the matrix over the variants a glob selects at launch ('*': the quick "
        "deterministic ones, as 'forklore matrix'; any other glob: every one it matches)");
    CLI::Option* lesson_option = cli.add_option(
        "--lesson", lesson_spec,
        "open a lesson (ID, or ID:STEP at that step) in the Lessons tab ('forklore lesson list')");
    cli.add_option("--predict", prediction,
                   "with --lesson ID:STEP at a predict step: choose CHOICE and run the step")
        ->needs(lesson_option);
    CLI::Option* challenge_option = cli.add_option(
        "--challenge", challenge_id,
        "start a challenge at launch in the Scheduler tab (one-order-no-cycle, orphan-the-lock, "
        "...: the tab lists them)");
    cli.add_option("--play", play_script,
                   "with --challenge: let these threads go, by name (or NAME@PID), one step each, "
                   "then wait")
        ->delimiter(',')
        ->needs(challenge_option);
    cli.add_option("--tab", tab,
                   "the centre tab in front: timeline, process-tree, locks, matrix, scheduler")
        ->check(CLI::IsMember({"timeline", "process-tree", "locks", "matrix", "scheduler"}));
    cli.add_option("--repeat", repeat, "with --run: run it N times, as Repeat does")
        ->check(CLI::Range(1, 100000))
        ->needs(run_option);
    cli.add_option("--show-run", show_run_number,
                   "with --run: once the runs have ended, show run K of them (K <= --repeat)")
        ->check(CLI::PositiveNumber)
        ->needs(run_option);
    cli.add_option("--frames", frames,
                   "exit after N frames (not before the run or matrix started at launch has "
                   "ended) and print the mean frame time")
        ->check(CLI::PositiveNumber);
    cli.add_option("--screenshot", screenshot_path,
                   "write the last frame as PNG (with no --frames: after 60 frames)")
        ->check(file_name);
    cli.add_option("--size", size_text, "the window's size in pixels, WIDTHxHEIGHT (1280x800)");
    cli.add_option("--zoom", zoom,
                   "scale text and sizes, e.g. 1.5 for a projector (0.75 to 3; the 'zoom' "
                   "control changes it later)");
    try {
        cli.parse(argc, argv);
    } catch (const CLI::CallForHelp& help) {
        return cli.exit(help);
    } catch (const CLI::ParseError& error) {
        return usage_error(error.what());
    }
    if (show_run_number > repeat)
        return usage_error(fmt::format("--show-run {}: only {} run{} will be made (--repeat)",
                                       show_run_number, repeat, repeat == 1 ? "" : "s"));
    const auto size = parse_size(size_text);
    if (!size)
        return usage_error(fmt::format("--size '{}' is not WIDTHxHEIGHT in pixels (320x240 to "
                                       "16384x16384), e.g. 1024x700",
                                       size_text));
    if (!std::isfinite(zoom) || zoom < kMinZoom || zoom > kMaxZoom)
        return usage_error(
            fmt::format("--zoom {} is not a zoom from {} to {}", zoom, kMinZoom, kMaxZoom));
    if (!screenshot_path.empty() && frames == 0)
        frames = 60;
    // Before anything runs: what is at the path must not be replaced by a picture.
    if (!screenshot_path.empty())
        if (auto problem = output_file_problem(screenshot_path))
            return usage_error(*problem);

    App app;
    app.zoom = zoom;
    // The lessons, and the student's progress: a progress file that cannot be read is said in
    // the Lessons tab, never overwritten.
    load_lessons(app, lesson::default_lessons_directory(), default_progress_path());
    if (!run_spec.empty())
        if (std::string error = choose(app, run_spec); !error.empty())
            return usage_error(error);
    if (!open_path.empty() && !open_record(app, open_path))
        return usage_error(app.file_message);
    if (!lesson_spec.empty())
        if (std::string problem = start_lesson(app, lesson_spec, prediction); !problem.empty())
            return usage_error(problem);

    if (!challenge_id.empty()) {
        const std::optional<int> index = challenge_index(challenge_id);
        if (!index)
            return usage_error(fmt::format("unknown challenge '{}' (challenges: {})",
                                           printable(challenge_id, 60), challenge_ids()));
        app.scheduler.challenge = *index;
    }

    std::string error;
    // Counted frames are measured: no waiting for the screen's refresh in them.
    auto window = Window::open("forklore", size->first, size->second, frames == 0, error);
    if (!window)
        return usage_error(error);
    window->ignore_mouse(!screenshot_path.empty());

    if (!run_spec.empty())
        if (std::string problem = start_run(app, repeat); !problem.empty())
            return usage_error(problem);
    if (!prediction.empty())
        if (std::string problem = run_lesson_step(app, app.lessons.session.step_index());
            !problem.empty())
            return usage_error(problem);
    if (!challenge_id.empty()) {
        if (std::string problem = start_stepped_run(app); !problem.empty())
            return usage_error(problem);
        app.show_tab = CentreTab::scheduler;
    }
    std::size_t played = 0; // steps of --play given so far
    if (!matrix_filter.empty()) {
        app.matrix.filter = matrix_filter;
        MatrixOptions options;
        options.filter = matrix_filter;
        // As in the panel and `forklore matrix --filter`: a filter runs every variant it names.
        options.include_racy = options.include_slow = matrix_filter != "*";
        if (std::string problem = app.matrix.session.start(options); !problem.empty())
            return usage_error(problem);
        app.show_tab = CentreTab::matrix;
    }
    if (tab == "timeline")
        app.show_tab = CentreTab::timeline;
    if (tab == "process-tree")
        app.show_tab = CentreTab::process_tree;
    if (tab == "locks")
        app.show_tab = CentreTab::locks;
    if (tab == "matrix")
        app.show_tab = CentreTab::matrix;
    if (tab == "scheduler")
        app.show_tab = CentreTab::scheduler;
    // What never ends must not keep a counted session open for ever: a run's deadline and a
    // margin for the sandbox to be killed and reaped; for a matrix, ten minutes.
    const Scenario* scenario = app.config.find();
    const double run_bound_ms =
        matrix_filter.empty() ? ((scenario ? scenario->timeout_seconds : 10.0) + 10.0) * 1000.0
                              : 600'000.0;
    const bool started =
        !run_spec.empty() || !matrix_filter.empty() || !prediction.empty() || !challenge_id.empty();
    const auto launched = Clock::now();

    int drawn = 0, settled = 0;
    double total_ms = 0, panels_ms = 0, render_ms = 0, max_ms = 0;
    bool warned = false;
    while (!window->should_close()) {
        const auto frame_start = Clock::now();
        window->set_zoom(app.zoom); // the zoom control's choice, applied between frames
        // Interactive and idle: sleep until input (or 1/60 s, so a live run still animates).
        window->begin_frame(frames == 0 ? 1.0 / 60.0 : 0.0);
        const auto panels_start = Clock::now();
        if (show_run_number > 0 && !app.session.running() && app.session.view() &&
            !app.pinned_run && !show_run(app, show_run_number))
            return usage_error(
                fmt::format("--show-run: there is no run {} to show", show_run_number));
        // --play: each prompt of the challenge's run answered by the next name; then it waits
        // for the user (a screenshot mid-play).
        std::optional<StepPrompt> prompt;
        if (app.scheduler.control)
            prompt = app.scheduler.control->prompt();
        if (prompt && played < play_script.size()) {
            for (const auto& thread : prompt->waiting)
                if (play_token_matches(play_script[played], thread.next.thread, thread.next.pid)) {
                    app.scheduler.control->choose(thread.slot);
                    ++played;
                    break;
                }
            if (app.scheduler.control->prompt())
                return usage_error(fmt::format("--play: step {}: no thread named '{}' waits",
                                               prompt->step, printable(play_script[played], 60)));
            prompt.reset();
        }
        draw_app(app);
        panels_ms += ms_since(panels_start);

        bool last = false;
        if (frames > 0) {
            // A challenge's run waits for the user once --play is used up: that is its end here.
            const bool waits_for_user =
                !challenge_id.empty() && prompt && played == play_script.size();
            const bool run_over =
                waits_for_user ||
                (!app.session.running() && !app.matrix.session.running() &&
                 (app.pinned_run || app.view.generation == app.session.view().generation));
            if (run_over || !started)
                ++settled;
            // Settling matters only for what is shown at the end: a run's final record, a
            // screenshot. Otherwise exactly the frames asked for are drawn.
            const bool needs_settling = started || !screenshot_path.empty();
            const bool bound_passed = ms_since(launched) > run_bound_ms;
            if (bound_passed && !warned) {
                fmt::print(
                    stderr,
                    "forklore-gui: what was started did not end within {:.0f} s; stopping it\n",
                    run_bound_ms / 1000);
                app.session.stop();
                app.matrix.session.stop();
                warned = true;
            }
            last = drawn + 1 >= frames &&
                   (!needs_settling || settled >= kSettleFrames || bound_passed);
        }
        const bool shoot = last && !screenshot_path.empty();
        const auto render_start = Clock::now();
        if (!window->end_frame(shoot ? &screenshot_path : nullptr, error))
            return usage_error(error);
        if (!shoot)
            render_ms += ms_since(render_start); // a screenshot's read-back is not a frame's cost
        const double frame_ms = ms_since(frame_start);
        ++drawn;
        total_ms += frame_ms;
        max_ms = std::max(max_ms, frame_ms);
        if (last)
            break;
    }
    if (frames > 0 && drawn > 0) {
        fmt::print("frames: {}, mean {:.2f} ms (panels {:.2f} ms, render and swap {:.2f} ms), max "
                   "{:.2f} ms\n",
                   drawn, total_ms / drawn, panels_ms / drawn, render_ms / drawn, max_ms);
        if (drawn > frames)
            fmt::print("({} asked for; {} more drawn until {} and the panels had settled)\n",
                       frames, drawn - frames,
                       started ? "what was started had ended" : "the screenshot's frame");
    }
    app.session.stop();
    // The time spent since the last save (progress is saved at every change, and every half
    // minute of a lesson open).
    if (app.lessons.session.is_open())
        app.lessons.session.save();
    return 0;
}
