// A student's progress through the lessons, as JSON in a file of its own (lesson_progress.hpp).
//
// Index of this file:
// [SECTION] steps
// [SECTION] JSON
// [SECTION] the file
#include "gui/models/lesson_progress.hpp"
#include "sim/lesson/lesson.hpp"

#include "sim/record/user_file.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <system_error>

namespace forklore::gui {

// [SECTION] steps ---------------------------------------------------------------------------------

bool StepProgress::answered_right() const {
    for (const auto& attempt : attempts)
        if (attempt.right)
            return true;
    return false;
}

const StepRun* StepProgress::last_run() const {
    for (auto it = runs.rbegin(); it != runs.rend(); ++it)
        if (it->has_outcome())
            return &*it;
    return nullptr;
}

// [SECTION] JSON ----------------------------------------------------------------------------------

namespace {

using nlohmann::json;

constexpr const char* kFormatName = "forklore lesson progress";
// The most a progress file may hold: a year of lessons is a few hundred kilobytes.
constexpr std::uint64_t kMaxProgressBytes = 16u << 20;

json step_to_json(const StepProgress& step) {
    json runs = json::array();
    for (const auto& run : step.runs)
        runs.push_back({{"run", run.run},
                        {"outcome", run.outcome},
                        {"explanation", run.explanation},
                        {"as_step_says", run.as_step_says},
                        {"at", run.at}});
    json attempts = json::array();
    for (const auto& attempt : step.attempts)
        attempts.push_back(
            {{"answer", attempt.answer}, {"right", attempt.right}, {"at", attempt.at}});
    return {{"kind", step.kind},
            {"title", step.title},
            {"prediction", step.prediction},
            {"runs", runs},
            {"attempts", attempts},
            {"hints_shown", step.hints_shown},
            {"looks_followed", step.looks_followed},
            {"visited", step.visited}};
}

// A field of `object`: its value, or `fallback` when absent (fields added later read as their
// default); a field of the wrong type throws.
template <typename T> T field(const json& object, const char* name, T fallback = T{}) {
    const auto it = object.find(name);
    if (it == object.end() || it->is_null())
        return fallback;
    return it->get<T>();
}

StepProgress step_from_json(const json& object) {
    if (!object.is_object())
        throw std::runtime_error("a step is not an object");
    StepProgress step;
    step.kind = field<std::string>(object, "kind");
    step.title = field<std::string>(object, "title");
    step.prediction = field<std::string>(object, "prediction");
    for (const auto& run : field<json>(object, "runs", json::array())) {
        if (!run.is_object())
            throw std::runtime_error("a run is not an object");
        step.runs.push_back(
            StepRun{field<std::string>(run, "run"), field<std::string>(run, "outcome"),
                    field<std::string>(run, "explanation"), field<bool>(run, "as_step_says"),
                    field<std::int64_t>(run, "at")});
    }
    for (const auto& attempt : field<json>(object, "attempts", json::array())) {
        if (!attempt.is_object())
            throw std::runtime_error("an answer is not an object");
        step.attempts.push_back(AnswerAttempt{field<std::string>(attempt, "answer"),
                                              field<bool>(attempt, "right"),
                                              field<std::int64_t>(attempt, "at")});
    }
    step.hints_shown = field<int>(object, "hints_shown");
    if (step.hints_shown < 0)
        throw std::runtime_error("a step shows a negative number of hints");
    step.looks_followed = field<std::vector<std::string>>(object, "looks_followed");
    step.visited = field<bool>(object, "visited");
    return step;
}

} // namespace

nlohmann::json progress_to_json(const ProgressBook& book) {
    json lessons = json::object();
    for (const auto& [id, lesson] : book.lessons) {
        json steps = json::array();
        for (const auto& step : lesson.steps)
            steps.push_back(step_to_json(step));
        lessons[id] = {{"page", lesson.page},
                       {"seconds", lesson.seconds},
                       {"started", lesson.started},
                       {"updated", lesson.updated},
                       {"reached_end", lesson.reached_end},
                       {"handed_in", lesson.handed_in},
                       {"steps", steps}};
    }
    return {{"format", kFormatName},
            {"version", kProgressVersion},
            {"current", book.current},
            {"lessons", lessons}};
}

ProgressBook progress_from_json(const nlohmann::json& json) {
    if (!json.is_object() || field<std::string>(json, "format") != kFormatName)
        throw std::runtime_error(fmt::format("it is not a {} file", kFormatName));
    const int version = field<int>(json, "version");
    if (version != kProgressVersion)
        throw std::runtime_error(
            fmt::format("it is version {} of the progress format; this forklore reads version {}",
                        version, kProgressVersion));
    ProgressBook book;
    try {
        book.current = field<std::string>(json, "current");
        const auto lessons = field<nlohmann::json>(json, "lessons", nlohmann::json::object());
        if (!lessons.is_object())
            throw std::runtime_error("'lessons' is not an object");
        for (const auto& [id, object] : lessons.items()) {
            if (!object.is_object())
                throw std::runtime_error(fmt::format("lesson '{}' is not an object", id));
            LessonProgress lesson;
            lesson.lesson = id;
            lesson.page = field<int>(object, "page");
            lesson.seconds = field<double>(object, "seconds");
            lesson.started = field<std::int64_t>(object, "started");
            lesson.updated = field<std::int64_t>(object, "updated");
            lesson.reached_end = field<bool>(object, "reached_end");
            lesson.handed_in = field<std::string>(object, "handed_in");
            for (const auto& step : field<nlohmann::json>(object, "steps", nlohmann::json::array()))
                lesson.steps.push_back(step_from_json(step));
            // A time of more than a century is not one a student spent (and would overflow
            // when rounded for the hand-in).
            if (lesson.page < 0 || !(lesson.seconds >= 0 && lesson.seconds < 3.2e9))
                throw std::runtime_error(
                    fmt::format("lesson '{}' has a negative page or an impossible time", id));
            book.lessons[id] = std::move(lesson);
        }
    } catch (const nlohmann::json::exception& error) {
        throw std::runtime_error(error.what()); // a field of the wrong type
    }
    return book;
}

// [SECTION] the file ------------------------------------------------------------------------------

std::filesystem::path default_progress_path() {
    return lesson::state_file_path("lessons.json", std::getenv("XDG_STATE_HOME"),
                                   std::getenv("HOME"));
}

bool ProgressStore::load() {
    book = ProgressBook{};
    problem_.clear();
    blocked_ = false;
    if (path_.empty())
        return true;
    std::error_code error;
    if (!std::filesystem::exists(std::filesystem::symlink_status(path_, error)))
        return true; // nothing saved yet
    try {
        const std::string text =
            read_regular_file(path_.string(), kMaxProgressBytes, "a lessons progress file");
        book = progress_from_json(nlohmann::json::parse(text));
        return true;
    } catch (const std::exception& failure) {
        // Not ours, or damaged: keep it as it is for the student to look at, and say so.
        book = ProgressBook{};
        blocked_ = true;
        std::string reason = failure.what();
        if (auto newline = reason.find('\n'); newline != std::string::npos)
            reason.resize(newline);
        problem_ = fmt::format("{} cannot be read as lesson progress ({}); it is left as it is "
                               "and your progress is not saved until you set it aside",
                               path_.string(), reason);
        return false;
    }
}

bool ProgressStore::save() {
    if (path_.empty())
        return true;
    if (blocked_)
        return false; // problem_ still says why
    try {
        std::error_code error;
        std::filesystem::create_directories(path_.parent_path(), error);
        if (error)
            throw UserFileError(
                fmt::format("cannot create {}: {}", path_.parent_path().string(), error.message()));
        // A lesson's text may hold bytes that are not UTF-8 (its titles are copied in): replaced,
        // never a reason to lose the progress.
        write_output_file(
            path_.string(),
            progress_to_json(book).dump(1, ' ', false, json::error_handler_t::replace) + "\n");
        problem_.clear();
        return true;
    } catch (const std::exception& failure) {
        problem_ = fmt::format("your lesson progress was not saved: {}", failure.what());
        return false;
    }
}

bool ProgressStore::set_aside() {
    if (!blocked_)
        return true;
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
    std::filesystem::path aside = path_;
    aside += fmt::format(".unreadable-{}", stamp);
    std::error_code error;
    for (int n = 2; std::filesystem::exists(std::filesystem::symlink_status(aside, error)); ++n) {
        aside = path_;
        aside += fmt::format(".unreadable-{}-{}", stamp, n); // never over an earlier one
    }
    std::filesystem::rename(path_, aside, error);
    if (error) {
        problem_ = fmt::format("cannot set {} aside: {}", path_.string(), error.message());
        return false;
    }
    set_aside_to_ = aside.string();
    blocked_ = false;
    problem_.clear();
    return true;
}

} // namespace forklore::gui
