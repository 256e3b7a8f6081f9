// How `forklore quiz` prints: a question, what its run showed, the score, a teacher's handout and
// answer key (Markdown), and the same as JSON. Formatting only: quiz_command.cpp asks and runs.
#pragma once

#include "sim/lesson/quiz.hpp"
#include "sim/verdict/verdict.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace forklore::cli {

// One quiz as drawn: what the seed, count and topic gave.
struct QuizSetup {
    std::uint64_t seed = 0;
    std::size_t count = 0;
    std::string topic; // "" = every topic
    std::vector<QuizChoice> choices;
    std::vector<QuizQuestion> questions;
};

// One question asked, answered and run.
struct QuizResult {
    QuizQuestion question;
    std::string answer_text;           // what the student typed
    std::optional<std::size_t> answer; // the choice it names; nullopt: none (counted as wrong)
    Verdict verdict;                   // what the run showed
    double verdict_ms = 0;
    // The choice the verdict is; nullopt when it is none (a setup error, an outcome no question
    // expects): such a question is not graded.
    std::optional<std::size_t> actual;
    bool graded() const { return actual.has_value(); }
    bool right() const { return answer && actual && *answer == *actual; }
};

// The command that gives this quiz again: "forklore quiz --seed 7 --count 10 --topic 'file locks'".
std::string quiz_command_line(const QuizSetup& setup);

// The choices with their meanings, numbered: printed once, at the start of a quiz.
std::string choices_text(const QuizSetup& setup);
// Question `index` (from 0): the scenario's title, this variant's knobs and what each means, the
// numbered choices. Nothing that gives the answer away: not the lesson, the variant's name or
// its summary, which say how it ends.
std::string question_text(const QuizSetup& setup, std::size_t index);
// What the run showed: the verdict and its sentences, right or wrong, the variant it was, and a
// clear note when the run contradicts the corpus's expectation.
std::string result_text(const QuizSetup& setup, const QuizResult& result);
// "score: R of N", and every question with its answer and how to run it again. `stopped_early`:
// why the quiz ended before its last question ("" when it did not).
std::string summary_text(const QuizSetup& setup, const std::vector<QuizResult>& results,
                         const std::string& stopped_early);

// A teacher's sheets, in Markdown: the questions without answers, and the answer key (from the
// corpus's expectations: nothing is run).
std::string handout_markdown(const QuizSetup& setup);
std::string key_markdown(const QuizSetup& setup);

// For machines: the quiz's questions (with the expected answers when `with_key`), and a quiz
// taken (every answer, verdict and the score).
nlohmann::json quiz_json(const QuizSetup& setup, bool with_key);
nlohmann::json results_json(const QuizSetup& setup, const std::vector<QuizResult>& results,
                            const std::string& stopped_early);

} // namespace forklore::cli
