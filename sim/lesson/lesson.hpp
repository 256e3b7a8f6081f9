// A lesson of tutorials/: a Markdown file with a small header and steps of six kinds (read,
// predict, run, explain, fix, play), as tutorials/FORMAT.md specifies. This file reads one; it
// knows nothing of the corpus (lesson_check.hpp holds the lesson against the registry and the
// engine), so the CLI, the GUI and the tests share one reading of every lesson.
#pragma once

#include "sim/protocol/verdict_kind.hpp"
#include "sim/scenario/scenario.hpp"

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace forklore {

struct Verdict;

namespace lesson {

enum class StepKind { read, predict, run, explain, fix, play };
std::string_view to_string(StepKind kind); // "Read", "Predict" ... as the headings write them

// What an explain step's answer is checked against in the verdict of the run it asks about.
enum class AnswerCheck { owner, waiter, lock, reason, process, choice };
std::string_view to_string(AnswerCheck check);

// What a step runs: a scenario, a named variant or its defaults, and knob settings on top.
struct RunSpec {
    std::string scenario;
    std::string variant; // empty: the knobs' defaults
    KnobValues settings; // over the variant's values
    // "file-read-under-lock:fork atfork=on", as the lesson writes it
    std::string text() const;
    // The command a student types for it: "forklore run file-read-under-lock --variant fork
    // --set atfork=on".
    std::string command() const;
    bool operator==(const RunSpec&) const = default;
};

// An outcome as the corpus writes it: "completed", "deadlocked(orphaned_lock)".
struct Outcome {
    VerdictKind kind = VerdictKind::completed;
    std::optional<DeadlockReason> reason; // deadlocked only
    std::string text() const;
    // The outcome a verdict shows.
    static Outcome of(const Verdict& verdict);
    static std::optional<Outcome> parse(std::string_view text);
    bool operator==(const Outcome&) const = default;
};

// The outcomes a predict step offers when it names none.
std::vector<std::string> default_outcome_choices();

// Where a run step points the other panels: a lock, a thread or a process (by role).
struct Look {
    enum class Kind { lock, thread, process };
    Kind kind = Kind::lock;
    std::string name;
    std::string text() const; // "lock file_lock"
};

struct Step {
    StepKind kind = StepKind::read;
    std::string title;
    std::string text; // the Markdown the student reads, without the step block
    int line = 0;     // the heading's line in the file, from 1

    std::optional<RunSpec> run;     // predict, run, fix
    std::optional<Outcome> outcome; // predict: the answer; run (optional), fix: what it shows
    std::vector<std::string> choices;
    std::string answer; // explain: the checked answer
    AnswerCheck check = AnswerCheck::choice;
    std::vector<Look> looks;
    std::vector<std::string> hints;
    // play: the challenge (sim/lesson/challenges.hpp) the student plays in the Scheduler tab,
    // and a winning play, the threads let go one step each by name, that `lesson check` plays
    // to prove the challenge can be won as the lesson says.
    std::string challenge;
    std::vector<std::string> play;
    // explain: the index of the step whose run it asks about (the last predict, run or fix step
    // before it); -1 for the other kinds.
    int asks_about = -1;

    // "step 4 (Predict: the reader holds the lock)", numbered from 1.
    std::string label(std::size_t index) const;
};

struct Lesson {
    std::string id;   // the file name without ".md": "01-what-fork-copies"
    std::string path; // where it was read from
    std::string title;
    int minutes = 0;
    std::vector<std::string> topics;    // corpus groups
    std::vector<std::string> scenarios; // every scenario its steps use
    std::string introduction;           // Markdown before the first step
    std::vector<Step> steps;
    std::string learned; // the Markdown of "What you learned"
};

// A lesson that cannot be read: where (file:line) and why, in one line.
struct LessonError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Reads a lesson from its text. `id` and `path` name it in errors. Throws LessonError.
Lesson parse_lesson(std::string_view markdown, const std::string& id, const std::string& path);
// Reads `file` (its id is the file name without .md). Throws LessonError.
Lesson load_lesson(const std::filesystem::path& file);
// The lesson files of `directory`: every NN-*.md, in id order (README.md and FORMAT.md are not
// lessons). Throws LessonError when the directory cannot be listed.
std::vector<std::filesystem::path> lesson_files(const std::filesystem::path& directory);
// Every lesson of lesson_files(directory). Throws LessonError for the first that cannot be read.
std::vector<Lesson> load_lessons(const std::filesystem::path& directory);

// Where the lessons are: $FORKLORE_LESSONS when set, else the source tree's tutorials/ (the
// build records it).
std::filesystem::path default_lessons_directory();

// Where forklore keeps a student's file `name` (quiz history, lesson progress): under
// $XDG_STATE_HOME/forklore when it is an absolute path, else ~/.local/state/forklore; empty when
// neither is known.
std::string state_file_path(std::string_view name, const char* xdg_state_home, const char* home);

// Answers compare without regard to case or surrounding spaces.
bool same_answer(std::string_view a, std::string_view b);

} // namespace lesson
} // namespace forklore
