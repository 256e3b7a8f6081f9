// A lesson held against the corpus and the engine: every scenario, variant, knob and topic it
// names exists, and every outcome and checked answer it states is what a run shows now. The
// command line's `lesson check`, the GUI's Lessons panel and the tests use these, so a student is
// graded by the same rules a teacher's check applies.
#pragma once

#include "sim/lesson/lesson.hpp"
#include "sim/record/record.hpp"
#include "sim/run/runner.hpp"

#include <functional>
#include <string>
#include <vector>

namespace forklore::lesson {

// What the lesson names that the corpus does not have, one line each ("step 3 (Run: ...):
// scenario 'x' has no variant 'y' (variants: ...)"); empty when it all exists. Runs nothing.
std::vector<std::string> validate_lesson(const Lesson& lesson, const ScenarioRegistry& registry);

// The request a step's run makes. Throws std::invalid_argument (one line) for what
// validate_lesson reports.
RunRequest request_for(const RunSpec& spec, const ScenarioRegistry& registry);

// The stepped run a play step makes: its challenge's scenario and knobs, played by the step's
// threads (play_threads). Throws std::invalid_argument for an unknown challenge.
RunRequest play_request(const Step& step, const ScenarioRegistry& registry);

// The names a run's verdict offers for an explain step's check: the owners, waiters or locks of
// the wait-for graph, the deadlock reason, the role of the process the verdict is about. Empty
// for `choice`, and when the run has none (it completed).
std::vector<std::string> verdict_names(AnswerCheck check, const RunRecord& record);

// Whether `answer` is right for `step` (an explain step): it is the step's answer, compared as
// same_answer does. For a predict step: whether `answer` names the outcome `record` shows.
bool answer_is_right(const Step& step, const std::string& answer, const RunRecord* record);

// Whether the run's record has what a look points at: a lock of that name in the trace, a thread
// of that name, a process of that role or name.
bool record_has(const Look& look, const RunRecord& record);

// One step's check: what the lesson says and what the engine shows.
struct StepCheck {
    std::size_t step = 0; // index in Lesson::steps
    bool ran = false;     // the step made a run (predict, run, fix)
    bool ok = true;
    std::string engine_says; // the outcome the run showed, or the names the verdict offers
    std::string problem;     // one line when !ok: "says X, the engine says Y"
};

struct LessonCheck {
    std::string lesson;
    std::vector<std::string> problems; // validate_lesson's, then each failed step's line
    std::vector<StepCheck> steps;
    bool ok() const { return problems.empty(); }
};

using RunFunction = std::function<RunRecord(const RunRequest&)>;

// Validates the lesson, then runs every predict, run and fix step (one run per distinct RunSpec)
// and plays every play step's winning play, and checks each stated outcome, each victory, each
// look, and each explain step's answer against the verdict of the run it asks about. `on_step`
// hears each step as it is checked. A problem line reads "LESSON STEP-LABEL: PROBLEM", e.g.
// "01-what-fork-copies step 4 (Predict: the reader holds the lock): says deadlocked(orphaned_lock),
// the engine says completed".
LessonCheck check_lesson(const Lesson& lesson, const ScenarioRegistry& registry,
                         const RunFunction& run,
                         const std::function<void(const StepCheck&)>& on_step = {});

} // namespace forklore::lesson
