// `forklore lesson list | show ID | check [ID]`: the lessons of tutorials/ from the command line
// (sim/lesson/lesson.hpp reads them; lesson_check.hpp holds them against the engine).
//
// Index of this file:
// [SECTION] list and show
// [SECTION] check
// [SECTION] the command
#include "command.hpp"

#include "sim/lesson/challenges.hpp"
#include "sim/lesson/lesson.hpp"
#include "sim/lesson/lesson_check.hpp"
#include "sim/protocol/text.hpp"

#include <algorithm>
#include <fmt/format.h>

#include <map>
#include <memory>
#include <stdexcept>

namespace forklore::cli {

namespace {

using nlohmann::json;
using namespace forklore::lesson;

struct LessonOptions {
    std::string dir; // empty: default_lessons_directory()
    std::string id;
    bool json_output = false;
    bool answers = false;
    bool static_only = false;
};

std::filesystem::path lessons_directory(const LessonOptions& options) {
    return options.dir.empty() ? default_lessons_directory() : std::filesystem::path(options.dir);
}

// The lessons of the directory, each file read on its own: one that cannot be read is kept as
// its one-line error (file:line and why) and never hides the others.
struct LessonShelf {
    std::vector<Lesson> lessons;
    std::map<std::string, std::string> unreadable; // id -> the error
};

// A directory that does not exist or cannot be listed is a usage error.
LessonShelf read_shelf(const LessonOptions& options) {
    const std::filesystem::path dir = lessons_directory(options);
    std::error_code error;
    if (!std::filesystem::is_directory(dir, error))
        throw UsageError(fmt::format("{}: no such directory of lessons", dir.string()));
    LessonShelf shelf;
    try {
        for (const auto& file : lesson_files(dir)) {
            try {
                shelf.lessons.push_back(load_lesson(file));
            } catch (const LessonError& bad) {
                shelf.unreadable.emplace(file.stem().string(), bad.what());
            }
        }
    } catch (const LessonError& unlisted) {
        throw UsageError(unlisted.what());
    }
    return shelf;
}

// A lesson whose file cannot be read: its error fails the command (exit 1: the lesson is
// broken, not the command line).
struct UnreadableLesson : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The lesson `id`; an id with no file at all is a usage error.
const Lesson& find_lesson(const LessonShelf& shelf, const std::string& id) {
    for (const auto& lesson : shelf.lessons)
        if (lesson.id == id)
            return lesson;
    if (auto bad = shelf.unreadable.find(id); bad != shelf.unreadable.end())
        throw UnreadableLesson(bad->second);
    std::vector<std::string> ids;
    for (const auto& lesson : shelf.lessons)
        ids.push_back(lesson.id);
    for (const auto& [bad_id, error] : shelf.unreadable)
        ids.push_back(bad_id);
    std::sort(ids.begin(), ids.end());
    throw UsageError(
        fmt::format("unknown lesson '{}' (lessons: {})", printable(id, 100), fmt::join(ids, ", ")));
}

// Says each lesson that could not be read, on stderr. The exit status of a command that read
// them: 1 when one could not be read.
int say_unreadable(const LessonShelf& shelf) {
    for (const auto& [id, error] : shelf.unreadable)
        print_error(error);
    return shelf.unreadable.empty() ? 0 : kExitError;
}

// [SECTION] list and show --------------------------------------------------------------------

json lesson_summary_json(const Lesson& lesson) {
    json steps = json::array();
    for (const auto& step : lesson.steps) {
        json s = {{"kind", to_string(step.kind)}, {"title", step.title}};
        if (step.run)
            s["run"] = step.run->text();
        if (step.kind == StepKind::play)
            s["challenge"] = step.challenge;
        steps.push_back(std::move(s));
    }
    return {{"id", lesson.id},         {"title", lesson.title},         {"minutes", lesson.minutes},
            {"topics", lesson.topics}, {"scenarios", lesson.scenarios}, {"steps", steps}};
}

int command_list(const LessonOptions& options) {
    const LessonShelf shelf = read_shelf(options);
    const std::vector<Lesson>& lessons = shelf.lessons;
    if (options.json_output) {
        json list = json::array();
        for (const auto& lesson : lessons)
            list.push_back(lesson_summary_json(lesson));
        fmt::print("{}", to_json_text(list));
        return say_unreadable(shelf);
    }
    // One column as wide as the longest id, so the minutes and titles line up whatever the ids.
    std::size_t id_width = 0;
    for (const auto& lesson : lessons)
        id_width = std::max(id_width, lesson.id.size());
    int minutes = 0;
    for (const auto& lesson : lessons) {
        fmt::print("{:<{}} {:>3} min  {}\n", lesson.id, id_width, lesson.minutes, lesson.title);
        fmt::print("{:<{}}          topics: {}\n", "", id_width, fmt::join(lesson.topics, ", "));
        minutes += lesson.minutes;
    }
    fmt::print("{} lessons, {} minutes in all. 'forklore lesson show ID' shows one.\n",
               lessons.size(), minutes);
    return say_unreadable(shelf);
}

std::string indent(const std::string& text, std::string_view by) {
    std::string out;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        std::string_view line(text.data() + start, end - start);
        out += line.empty() ? "\n" : fmt::format("{}{}\n", by, line);
        start = end + 1;
    }
    return out;
}

// The lesson as a student reads it in a terminal: each step with the command it runs and the
// choices it offers; answers and hints only when asked for.
std::string describe_lesson(const Lesson& lesson, bool answers) {
    std::string out =
        fmt::format("{}: {}\n{} minutes; topics: {}\n\n{}", lesson.id, lesson.title, lesson.minutes,
                    fmt::join(lesson.topics, ", "), indent(lesson.introduction, ""));
    for (std::size_t i = 0; i < lesson.steps.size(); ++i) {
        const Step& step = lesson.steps[i];
        out += fmt::format("\nStep {} of {}. {}: {}\n", i + 1, lesson.steps.size(),
                           to_string(step.kind), step.title);
        out += indent(step.text, "  ");
        if (step.run)
            out += fmt::format("  {}: {}\n", step.kind == StepKind::predict ? "then run" : "run",
                               step.run->command());
        if (const Challenge* challenge = find_challenge(step.challenge)) {
            out += fmt::format("  challenge '{}': {}\n", challenge->title, challenge->goal);
            std::string sets;
            for (const auto& [knob, value] : challenge->knobs)
                sets += fmt::format(" --set {}={}", knob, value);
            out += fmt::format("  play it: forklore-gui --challenge {} (the Scheduler tab judges "
                               "it), or step the same run here: forklore run {}{} --step\n",
                               challenge->id, challenge->scenario, sets);
        }
        for (const auto& look : step.looks)
            out += fmt::format("  look at: {}\n", look.text());
        if (!step.choices.empty()) {
            out += "  choices:\n";
            for (std::size_t c = 0; c < step.choices.size(); ++c)
                out += fmt::format("    {}) {}\n", c + 1, step.choices[c]);
        }
        if (answers) {
            if (step.kind == StepKind::predict || step.kind == StepKind::explain)
                out += fmt::format("  answer: {}\n", step.answer);
            else if (step.outcome)
                out += fmt::format("  it ends: {}\n", step.outcome->text());
            if (!step.play.empty())
                out += fmt::format("  a winning play (one step each, then the first waiting): "
                                   "{}\n",
                                   fmt::join(step.play, ", "));
            for (const auto& hint : step.hints)
                out += fmt::format("  hint: {}\n", hint);
        } else if (!step.hints.empty()) {
            out += fmt::format("  ({} hint{}: 'forklore lesson show {} --answers' shows them "
                               "with the answers)\n",
                               step.hints.size(), step.hints.size() == 1 ? "" : "s", lesson.id);
        }
    }
    out += "\nWhat you learned\n" + indent(lesson.learned, "  ");
    return out;
}

int command_show(const LessonOptions& options) {
    const LessonShelf shelf = read_shelf(options);
    const Lesson* found = nullptr;
    try {
        found = &find_lesson(shelf, options.id);
    } catch (const UnreadableLesson& bad) {
        print_error(bad.what());
        return kExitError;
    }
    const Lesson& lesson = *found;
    if (options.json_output)
        fmt::print("{}", to_json_text(lesson_summary_json(lesson)));
    else
        fmt::print("{}", describe_lesson(lesson, options.answers));
    return 0;
}

// [SECTION] check ----------------------------------------------------------------------------

// A lesson that cannot be read fails the check (it is what is being checked), as a stale claim
// does; only an unknown id or an unreadable directory is a usage error.
int command_check(const LessonOptions& options) {
    LessonShelf shelf = read_shelf(options);
    std::vector<Lesson> lessons;
    std::vector<std::string> unreadable;
    if (options.id.empty()) {
        lessons = shelf.lessons;
        for (const auto& [id, error] : shelf.unreadable)
            unreadable.push_back(error);
    } else {
        try {
            lessons = {find_lesson(shelf, options.id)};
        } catch (const UnreadableLesson& bad) {
            unreadable = {bad.what()}; // the lesson asked for is broken: that fails its check
        }
    }
    const ScenarioRegistry& registry = ScenarioRegistry::instance();
    RunFunction run = [](const RunRequest& request) {
        RunRequest cancellable = request;
        cancellable.cancel = &interrupted();
        RunRecord record = run_scenario(cancellable);
        stop_if_interrupted();
        return record;
    };
    std::vector<std::string> problems = unreadable;
    std::size_t steps = 0, runs = 0;
    for (const auto& lesson : lessons) {
        fmt::print("{} ({} steps)\n", lesson.id, lesson.steps.size());
        LessonCheck check;
        if (options.static_only) {
            check.lesson = lesson.id;
            check.problems = validate_lesson(lesson, registry);
        } else {
            check = check_lesson(lesson, registry, run, [&](const StepCheck& step) {
                const Step& s = lesson.steps[step.step];
                if (!step.ran && step.engine_says.empty())
                    return;
                runs += step.ran;
                fmt::print("  {:<60} {} {}\n", s.label(step.step).substr(0, 60),
                           step.ok ? "ok  " : "FAIL", step.engine_says);
            });
        }
        steps += lesson.steps.size();
        for (const auto& problem : check.problems)
            fmt::print("  {}\n", problem);
        problems.insert(problems.end(), check.problems.begin(), check.problems.end());
    }
    for (const auto& bad : unreadable)
        fmt::print("{}\n", bad);
    if (problems.empty()) {
        fmt::print("lesson check: {} lessons, {} steps ({} checked by a run): every claim holds\n",
                   lessons.size(), steps, runs);
        return 0;
    }
    fmt::print(stderr, "lesson check: {} problem{}:\n", problems.size(),
               problems.size() == 1 ? "" : "s");
    for (const auto& problem : problems)
        fmt::print(stderr, "  {}\n", problem);
    return kExitError;
}

} // namespace

// [SECTION] the command ----------------------------------------------------------------------

Command add_lesson_command(CLI::App& app) {
    auto options = std::make_shared<LessonOptions>();
    auto* lesson =
        app.add_subcommand("lesson", "the classroom's lessons (tutorials/): list, show, check");
    lesson->require_subcommand(1);
    lesson->add_option("--dir", options->dir,
                       "the directory of lessons (default: $FORKLORE_LESSONS, else the source "
                       "tree's tutorials/)");
    auto* list = lesson->add_subcommand("list", "every lesson with its time and topics");
    list->add_flag("--json", options->json_output, "print JSON");
    auto* show = lesson->add_subcommand("show", "a lesson's steps, as a student reads them");
    show->add_option("id", options->id, "lesson id (see 'forklore lesson list')")->required();
    show->add_flag("--answers", options->answers,
                   "with the answers and the hints (a teacher's "
                   "copy)");
    show->add_flag("--json", options->json_output, "print JSON");
    auto* check = lesson->add_subcommand(
        "check", "run every lesson's steps and check each claim against the engine (exit 1 if "
                 "one no longer holds)");
    check->add_option("id", options->id, "one lesson (default: all)");
    check->add_flag("--static", options->static_only,
                    "check only that every scenario, variant, knob and topic exists; run nothing");
    // --dir may follow the subcommand: `forklore lesson check --dir DIR`.
    for (auto* sub : {list, show, check})
        sub->fallthrough();
    return {lesson, [=] {
                if (*list)
                    return command_list(*options);
                if (*show)
                    return command_show(*options);
                return command_check(*options);
            }};
}

} // namespace forklore::cli
