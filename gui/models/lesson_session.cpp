// The Lessons panel's model (lesson_session.hpp).
//
// Index of this file:
// [SECTION] the library
// [SECTION] opening a lesson and walking it
// [SECTION] predictions, runs, answers, hints
// [SECTION] time and saving
#include "gui/models/lesson_session.hpp"

#include "sim/lesson/lesson_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace forklore::gui {

namespace {

std::int64_t now_seconds() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

// Progress is saved at least this often while a lesson is open, so a crash loses little time.
constexpr double kSaveEverySeconds = 30;

} // namespace

// [SECTION] the library ---------------------------------------------------------------------------

const lesson::Lesson* LessonLibrary::find(const std::string& id) const {
    for (const auto& lesson : lessons)
        if (lesson.id == id)
            return &lesson;
    return nullptr;
}

LessonLibrary read_lesson_library(const std::filesystem::path& directory) {
    LessonLibrary library;
    library.directory = directory;
    std::vector<std::filesystem::path> files;
    try {
        files = lesson::lesson_files(directory);
    } catch (const lesson::LessonError& error) {
        library.problems.push_back(error.what());
    }
    for (const auto& file : files) {
        try {
            lesson::Lesson read = lesson::load_lesson(file);
            // A lesson naming a scenario, variant or knob the corpus lacks could not be run.
            const auto missing = lesson::validate_lesson(read, ScenarioRegistry::instance());
            if (!missing.empty()) {
                library.problems.insert(library.problems.end(), missing.begin(), missing.end());
                continue;
            }
            library.lessons.push_back(std::move(read));
        } catch (const lesson::LessonError& error) {
            library.problems.push_back(error.what());
        }
    }
    return library;
}

std::vector<std::string> step_choices(const lesson::Step& step) {
    return step.choices; // parse_lesson gives a predict step without its own the default ones
}

LessonStatus lesson_status(const LessonProgress* progress) {
    if (!progress)
        return LessonStatus::not_started;
    return progress->reached_end ? LessonStatus::done : LessonStatus::in_progress;
}

// [SECTION] opening a lesson and walking it -------------------------------------------------------

void LessonSession::load(const std::filesystem::path& lessons_directory,
                         const std::filesystem::path& progress_path) {
    close();
    library_ = read_lesson_library(lessons_directory);
    store_ = ProgressStore(progress_path);
    store_.load(); // an unreadable file is said by store_.problem()
    message_.clear();
}

const LessonProgress* LessonSession::progress_of(const std::string& id) const {
    const auto it = store_.book.lessons.find(id);
    return it == store_.book.lessons.end() ? nullptr : &it->second;
}

bool LessonSession::open(const std::string& id) {
    const lesson::Lesson* lesson = library_.find(id);
    if (!lesson)
        return false;
    if (open_ != lesson)
        records_.clear();
    open_ = lesson;
    running_.reset();
    playing_.reset();
    LessonProgress& progress = store_.book.lessons[id];
    progress_ = &progress;
    if (progress.lesson.empty()) {
        progress.lesson = id;
        progress.started = now_seconds();
    }
    // Keep what was saved for each step that is still in the lesson, found by its kind and title
    // wherever it moved (a step added before it shifts it); start the others afresh. Two steps
    // of the same kind and title are matched in order.
    std::multimap<std::pair<std::string, std::string>, std::size_t> saved;
    for (std::size_t i = 0; i < progress.steps.size(); ++i)
        saved.emplace(std::pair(progress.steps[i].kind, progress.steps[i].title), i);
    std::vector<StepProgress> steps;
    for (const lesson::Step& step : lesson->steps) {
        const std::string kind(lesson::to_string(step.kind));
        if (auto match = saved.find(std::pair(kind, step.title)); match != saved.end()) {
            steps.push_back(std::move(progress.steps[match->second]));
            saved.erase(match);
            // No more hints shown than the step has now (a file may say more).
            steps.back().hints_shown =
                std::min(steps.back().hints_shown, static_cast<int>(step.hints.size()));
        } else {
            StepProgress fresh;
            fresh.kind = kind;
            fresh.title = step.title;
            steps.push_back(std::move(fresh));
        }
    }
    progress.steps = std::move(steps);
    progress.page = std::clamp(progress.page, 0, pages() - 1);
    store_.book.current = id;
    go_to(progress.page);
    return true;
}

void LessonSession::close() {
    if (!open_)
        return;
    store_.book.current.clear();
    touch();
    open_ = nullptr;
    progress_ = nullptr;
    running_.reset();
    playing_.reset();
    records_.clear();
}

void LessonSession::go_to(int page) {
    progress_->page = std::clamp(page, 0, pages() - 1);
    if (const lesson::Step* shown = step(); shown)
        progress_->steps[step_index()].visited = true;
    if (on_learned())
        progress_->reached_end = true;
    touch();
}

const lesson::Step* LessonSession::step() const {
    if (!open_ || on_introduction() || on_learned())
        return nullptr;
    return &open_->steps[step_index()];
}

// [SECTION] predictions, runs, answers, hints -----------------------------------------------------

bool LessonSession::choose_prediction(std::size_t step, const std::string& answer) {
    StepProgress& progress = step_progress(step);
    if (open_->steps.at(step).kind != lesson::StepKind::predict || !progress.runs.empty() ||
        running_ == step)
        return false; // a prediction is made before the run, not after
    progress.prediction = answer;
    touch();
    return true;
}

std::string LessonSession::why_not_run(std::size_t step) const {
    const lesson::Step& shown = open_->steps.at(step);
    if (!shown.run)
        return "this step runs nothing";
    if (running_)
        return "a run of this lesson is in progress";
    if (shown.kind == lesson::StepKind::predict && step_progress(step).prediction.empty())
        return "choose your prediction first";
    return {};
}

void LessonSession::run_started(std::size_t step) {
    running_ = step;
    message_.clear();
    touch(); // the prediction is kept before the run can show the answer
}

void LessonSession::run_ended(std::shared_ptr<const RunRecord> record) {
    if (!running_ || !record || !open_)
        return;
    const std::size_t step = *running_;
    running_.reset();
    const lesson::Step& shown = open_->steps.at(step);
    StepRun run;
    run.run = shown.run->text();
    run.explanation = record->verdict.explanation;
    run.at = now_seconds();
    if (!has_outcome(record->verdict.kind)) {
        run.outcome = "stopped"; // no verdict: neither right nor wrong
    } else {
        run.outcome = lesson::Outcome::of(record->verdict).text();
        StepProgress& progress = step_progress(step);
        if (shown.kind == lesson::StepKind::predict)
            run.as_step_says = lesson::answer_is_right(shown, progress.prediction, record.get());
        else
            run.as_step_says = !shown.outcome || shown.outcome->text() == run.outcome;
    }
    step_progress(step).runs.push_back(std::move(run));
    records_[step] = std::move(record);
    touch();
}

void LessonSession::run_failed(const std::string& message) {
    running_.reset();
    message_ = message;
}

void LessonSession::play_started(std::size_t step) {
    if (!open_ || open_->steps.at(step).kind != lesson::StepKind::play)
        return;
    playing_ = step;
    message_.clear();
}

void LessonSession::play_ended(std::shared_ptr<const RunRecord> record, const std::string& missed) {
    if (!playing_ || !record || !open_)
        return;
    const std::size_t step = *playing_;
    StepRun run;
    run.run = open_->steps.at(step).challenge;
    run.at = now_seconds();
    if (!has_outcome(record->verdict.kind)) {
        run.outcome = "stopped";
    } else {
        run.outcome = lesson::Outcome::of(record->verdict).text();
        run.as_step_says = missed.empty();
    }
    run.explanation = missed.empty() ? std::string("goal reached") : missed;
    if (run.as_step_says)
        playing_.reset(); // won: later plays of the challenge are the student's own
    step_progress(step).runs.push_back(std::move(run));
    records_[step] = std::move(record);
    touch();
}

std::shared_ptr<const RunRecord> LessonSession::record(std::size_t step) const {
    const auto it = records_.find(step);
    return it == records_.end() ? nullptr : it->second;
}

const StepRun* LessonSession::asked_run(std::size_t explain_step) const {
    const int asked = open_->steps.at(explain_step).asks_about;
    if (asked < 0)
        return nullptr;
    return step_progress(static_cast<std::size_t>(asked)).last_run();
}

bool LessonSession::check_answer(std::size_t step, const std::string& answer) {
    const lesson::Step& shown = open_->steps.at(step);
    StepProgress& progress = step_progress(step);
    const auto begin = answer.find_first_not_of(" \t\r\n");
    if (shown.kind != lesson::StepKind::explain || begin == std::string::npos ||
        progress.answered_right())
        return false;
    const bool right = lesson::answer_is_right(shown, answer, record(step).get());
    progress.attempts.push_back(AnswerAttempt{answer, right, now_seconds()});
    touch();
    return right;
}

void LessonSession::look_followed(std::size_t step, const lesson::Look& look) {
    auto& followed = step_progress(step).looks_followed;
    if (std::find(followed.begin(), followed.end(), look.text()) == followed.end()) {
        followed.push_back(look.text());
        touch();
    }
}

bool LessonSession::show_hint(std::size_t step) {
    StepProgress& progress = step_progress(step);
    if (progress.hints_shown >= static_cast<int>(open_->steps.at(step).hints.size()))
        return false;
    ++progress.hints_shown;
    touch();
    return true;
}

bool LessonSession::step_done(std::size_t step) const {
    const StepProgress& progress = step_progress(step);
    switch (open_->steps.at(step).kind) {
    case lesson::StepKind::read:
        return progress.visited;
    case lesson::StepKind::predict:
    case lesson::StepKind::run:
    case lesson::StepKind::fix:
        return progress.last_run() != nullptr;
    case lesson::StepKind::explain:
        return progress.answered_right();
    case lesson::StepKind::play:
        return std::any_of(progress.runs.begin(), progress.runs.end(),
                           [](const StepRun& run) { return run.as_step_says; });
    }
    return false;
}

int LessonSession::steps_done() const {
    int done = 0;
    for (std::size_t i = 0; i < open_->steps.size(); ++i)
        done += step_done(i) ? 1 : 0;
    return done;
}

// [SECTION] time and saving -----------------------------------------------------------------------

void LessonSession::add_time(double seconds) {
    if (!open_ || seconds <= 0)
        return;
    // A frame that took long (the machine was suspended) is not time spent on the lesson.
    seconds = std::min(seconds, 1.0);
    progress_->seconds += seconds;
    unsaved_seconds_ += seconds;
    if (unsaved_seconds_ >= kSaveEverySeconds)
        touch();
}

void LessonSession::handed_in(const std::string& path) {
    progress_->handed_in = path;
    touch();
}

void LessonSession::touch() {
    if (progress_)
        progress_->updated = now_seconds();
    save();
}

bool LessonSession::save() {
    unsaved_seconds_ = 0;
    return store_.save();
}

} // namespace forklore::gui
