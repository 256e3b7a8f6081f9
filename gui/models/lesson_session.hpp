// The Lessons panel's model: the lessons of a directory, the student's progress (a
// ProgressStore), and the walk through the lesson that is open: its page, its predictions,
// answers and hints, and the runs its steps made. No ImGui: the panel draws it and asks the app
// for what only the app can do (run a step through the controls, point the other panels at a
// look); the app tells the session how the run ended. Every change is saved at once.
#pragma once

#include "gui/models/lesson_progress.hpp"
#include "sim/lesson/lesson.hpp"
#include "sim/record/record.hpp"

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace forklore::gui {

// The lessons of a directory. A lesson that cannot be read, or that names what the corpus does
// not have, is reported in one line and left out; the others stay.
struct LessonLibrary {
    std::filesystem::path directory;
    std::vector<lesson::Lesson> lessons; // in id order
    std::vector<std::string> problems;   // one line each

    const lesson::Lesson* find(const std::string& id) const;
};

LessonLibrary read_lesson_library(const std::filesystem::path& directory);

// The options a predict or explain step offers (a predict step without its own: the outcomes of
// default_outcome_choices()); empty for an explain step answered in words.
std::vector<std::string> step_choices(const lesson::Step& step);

// How far a student is in a lesson, for the list.
enum class LessonStatus { not_started, in_progress, done };
LessonStatus lesson_status(const LessonProgress* progress);

class LessonSession {
  public:
    // Reads the lessons, and the progress from `progress_path` (empty: kept in memory only).
    void load(const std::filesystem::path& lessons_directory,
              const std::filesystem::path& progress_path);

    const LessonLibrary& library() const { return library_; }
    ProgressStore& store() { return store_; }
    const ProgressStore& store() const { return store_; }
    const LessonProgress* progress_of(const std::string& id) const;

    // Opens a lesson at the page its progress reached (a lesson whose steps changed keeps the
    // progress of the steps that did not). False for an unknown id.
    bool open(const std::string& id);
    // Back to the list.
    void close();
    bool is_open() const { return open_ != nullptr; }
    const lesson::Lesson& lesson() const { return *open_; } // only while open
    LessonProgress& progress() { return *progress_; }       // only while open
    const LessonProgress& progress() const { return *progress_; }

    // Pages: 0 the introduction, 1 to N the steps, N + 1 "What you learned".
    int page() const { return progress_->page; }
    int pages() const { return static_cast<int>(open_->steps.size()) + 2; }
    bool on_introduction() const { return page() == 0; }
    bool on_learned() const { return page() == pages() - 1; }
    void go_to(int page);
    void next() { go_to(page() + 1); }
    void back() { go_to(page() - 1); }
    // The step on the page shown; null on the introduction and on "What you learned".
    const lesson::Step* step() const;
    std::size_t step_index() const { return static_cast<std::size_t>(page() - 1); }
    StepProgress& step_progress(std::size_t step) { return progress_->steps.at(step); }
    const StepProgress& step_progress(std::size_t step) const { return progress_->steps.at(step); }

    // step_choices of the open lesson's step.
    std::vector<std::string> choices(std::size_t step) const {
        return step_choices(open_->steps.at(step));
    }
    // A predict step's prediction; refused (false) once its run has started.
    bool choose_prediction(std::size_t step, const std::string& answer);
    // Whether the step's run may start: it has one, no run is in progress, and a predict step
    // has its prediction. "" when it may, else why not in words.
    std::string why_not_run(std::size_t step) const;

    // The app started the step's run / the run ended with its final record / it could not start
    // or ended with no record (message in one line).
    void run_started(std::size_t step);
    std::optional<std::size_t> running_step() const { return running_; }
    void run_ended(std::shared_ptr<const RunRecord> record);
    void run_failed(const std::string& message);
    // A play step: the student plays its challenge in the Scheduler tab. Every stepped run of
    // it that ends is kept as one of the step's runs (outcome, and "goal reached" or why not in
    // the explanation) until one wins; then the play is over. `play_stopped` ends it without a
    // run (the student started something else).
    void play_started(std::size_t step);
    std::optional<std::size_t> playing_step() const { return playing_; }
    void play_ended(std::shared_ptr<const RunRecord> record, const std::string& missed);
    void play_stopped() { playing_.reset(); }

    // The latest record of the step's run, made in this session of the GUI (records are not
    // saved); null when none.
    std::shared_ptr<const RunRecord> record(std::size_t step) const;
    // The run an explain step asks about: the latest run of the step it names; null when none.
    const StepRun* asked_run(std::size_t explain_step) const;

    // An explain step's answer, checked and kept with the attempts before it. Returns whether it
    // is right. Refused (false, nothing kept) for an empty answer or once answered right.
    bool check_answer(std::size_t step, const std::string& answer);
    void look_followed(std::size_t step, const lesson::Look& look);
    // Shows the next hint; false when every hint is shown.
    bool show_hint(std::size_t step);
    // Whether the student did what the step asks: a run with an outcome (predict, run, fix), a
    // right answer (explain), a won challenge (play), or read it.
    bool step_done(std::size_t step) const;
    int steps_done() const;

    // Time with the lesson open; saved every half minute of it, and at every other change.
    void add_time(double seconds);
    // The lesson's hand-in was written to `path`.
    void handed_in(const std::string& path);

    // Writes the progress file. False, with store().problem(), when it could not.
    bool save();
    // Why the last run of a step failed, in one line; "" when it did not.
    const std::string& message() const { return message_; }
    void clear_message() { message_.clear(); }

  private:
    void touch(); // updated time, then save

    LessonLibrary library_;
    ProgressStore store_;
    const lesson::Lesson* open_ = nullptr;
    LessonProgress* progress_ = nullptr; // in store_.book, which is not replaced while open
    std::optional<std::size_t> running_;
    std::optional<std::size_t> playing_;
    std::map<std::size_t, std::shared_ptr<const RunRecord>> records_;
    double unsaved_seconds_ = 0;
    std::string message_;
};

} // namespace forklore::gui
