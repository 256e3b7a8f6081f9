// A student's progress through the lessons, kept between sessions of the GUI: for each lesson
// the page reached, each prediction, each run's verdict, each answer tried, the hints asked for,
// the looks followed and the time spent. Plain data, its JSON and the file it lives in; no ImGui.
// The run records themselves are not kept (they are large): a step's run can be made again.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace forklore::gui {

// One run a lesson step made.
struct StepRun {
    std::string run;         // what was run, as the lesson writes it (RunSpec::text())
    std::string outcome;     // "deadlocked(orphaned_lock)", as the corpus writes it; "stopped"
                             // when the user stopped the run before a verdict
    std::string explanation; // the verdict's explanation
    // Predict: the prediction was right. Run and fix: the run ended as the step says (true when
    // a run step states no outcome). False for a stopped run.
    bool as_step_says = false;
    std::int64_t at = 0; // when it ended, seconds since the epoch

    bool has_outcome() const { return outcome != "stopped"; }
};

// One answer an explain step was checked with.
struct AnswerAttempt {
    std::string answer;
    bool right = false;
    std::int64_t at = 0;
};

struct StepProgress {
    // The step's kind and title when this was saved: a lesson whose steps changed since keeps
    // no answer under a step it was not given for.
    std::string kind, title;
    std::string prediction; // predict: chosen before the run, fixed once the run starts
    std::vector<StepRun> runs;
    std::vector<AnswerAttempt> attempts; // explain
    int hints_shown = 0;
    std::vector<std::string> looks_followed; // run: "lock file_lock", in the order followed
    bool visited = false;

    bool answered_right() const;
    // The last run with an outcome; null when none.
    const StepRun* last_run() const;
};

struct LessonProgress {
    std::string lesson; // its id
    // 0 the introduction, 1 to N the steps, N + 1 "What you learned".
    int page = 0;
    double seconds = 0;              // time spent with the lesson open
    std::int64_t started = 0;        // seconds since the epoch
    std::int64_t updated = 0;        // seconds since the epoch
    bool reached_end = false;        // "What you learned" was shown
    std::string handed_in;           // the last hand-in's path
    std::vector<StepProgress> steps; // one per step of the lesson, in order
};

struct ProgressBook {
    std::map<std::string, LessonProgress> lessons; // by id
    std::string current; // the lesson that was open when the GUI was left; "" none
};

inline constexpr int kProgressVersion = 1;

nlohmann::json progress_to_json(const ProgressBook& book);
// Throws std::runtime_error with a one-line reason when `json` is not progress of this version.
ProgressBook progress_from_json(const nlohmann::json& json);

// Where the progress is kept: $XDG_STATE_HOME/forklore/lessons.json, else
// $HOME/.local/state/forklore/lessons.json; empty when neither variable is set.
std::filesystem::path default_progress_path();

// The progress file: read once, written whole and atomically (sim/record/user_file.hpp) after
// every change. A file that is there but cannot be read as progress is reported and never
// overwritten: saving stays refused until the student sets it aside.
class ProgressStore {
  public:
    // An empty path keeps the progress in memory only.
    explicit ProgressStore(std::filesystem::path path = {}) : path_(std::move(path)) {}

    // Reads the file: a missing one is an empty book. False, with problem() and blocked(), when
    // the file cannot be read or is not progress; the book is then empty.
    bool load();
    // Writes the book. False with problem() (one line) when it could not, or when blocked.
    bool save();
    // Renames an unreadable file to "lessons.json.unreadable-YYYYmmdd-HHMMSS" beside it, so the
    // progress can be saved again. False with problem() when it could not.
    bool set_aside();

    ProgressBook book;
    const std::filesystem::path& path() const { return path_; }
    const std::string& problem() const { return problem_; }
    bool blocked() const { return blocked_; }
    // Where set_aside() put the unreadable file; "" before.
    const std::string& set_aside_to() const { return set_aside_to_; }

  private:
    std::filesystem::path path_;
    std::string problem_;
    bool blocked_ = false;
    std::string set_aside_to_;
};

} // namespace forklore::gui
