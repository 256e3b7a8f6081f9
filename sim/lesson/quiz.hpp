// Quizzes drawn from the corpus: which variants a quiz asks about, the answers it offers, how a
// student's answer is read, and the small history of what a student was asked.
//
// Pure and reproducible: the same corpus, seed, count and topic give the same questions on every
// machine and with every standard library. The pool is in a canonical order (scenario number,
// then variant name: never registration or hash order), and the draw uses std::mt19937_64, whose
// output the standard fixes, with its own bounded draw instead of std::uniform_int_distribution,
// whose algorithm each library chooses. No I/O here: the CLI runs the questions in the sandbox and
// reads and writes the history file.
#pragma once

#include "sim/protocol/verdict_kind.hpp"
#include "sim/scenario/scenario.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace forklore {

// One outcome a quiz offers as an answer.
struct QuizChoice {
    VerdictKind verdict = VerdictKind::completed;
    std::optional<DeadlockReason> reason; // deadlocked: which deadlock
    std::string name;                     // what a student may type: "orphaned-lock"
    std::string label;                    // "deadlocks: orphaned lock"
    std::string meaning;                  // one line, for someone who has not read the DESIGN
};

// The answers a quiz offers: every outcome some question of `corpus` expects, in one fixed order
// (completes, the four deadlocks, runs until the deadline, crashes, fails, hits a limit). The
// numbers mean the same in every quiz of a corpus whatever its topic, and a topic's choices do
// not hint at its answers.
std::vector<QuizChoice> quiz_choices(const std::vector<Scenario>& corpus);

// The index in `choices` of the outcome a verdict (or an expectation) is; nullopt when none is:
// a setup error, a stopped run, or an outcome no question expects.
std::optional<std::size_t> choice_for(const std::vector<QuizChoice>& choices, VerdictKind kind,
                                      std::optional<DeadlockReason> reason);

// A student's answer as an index in `choices`: its number (from 1), its name, its label, or the
// verdict's own words ("deadlocked(orphaned_lock)", "orphaned lock", "crashed"); case, spaces,
// '_' and '-' do not matter. nullopt when it is none of them: empty, out of range, or ambiguous
// ("deadlocks" alone names four).
std::optional<std::size_t> parse_quiz_answer(const std::vector<QuizChoice>& choices,
                                             std::string_view answer);

// Whether a variant can be a question: a scenario of the corpus (not one of the engine's hidden
// self-tests, not `exec`, which means nothing without a command line) and a deterministic
// expectation (a racy variant's outcome is a rate, not a fact).
bool quiz_can_ask(const Scenario& scenario, const Variant& variant);

// A question: one variant of the corpus. Pointers into the corpus, valid as long as it is.
struct QuizQuestion {
    const Scenario* scenario = nullptr;
    const Variant* variant = nullptr;
    std::string key() const; // "file-read-under-lock:fork", as the history records it
};

// The groups (Scenario::group) that have questions, in teaching order (first scenario number).
std::vector<std::string> quiz_topics(const std::vector<Scenario>& corpus);

// Every question a quiz on `topic` can ask ("" = every topic), in canonical order: scenario
// number, then variant name. Throws std::invalid_argument (one line, naming the topics) when
// `topic` is not one of quiz_topics.
std::vector<QuizQuestion> quiz_pool(const std::vector<Scenario>& corpus, const std::string& topic);

// A number in [0, bound) from `engine` (bound > 0), uniformly and the same with every standard
// library: draws below 2^64 mod bound are rejected, so every remainder is equally likely.
std::uint64_t bounded_draw(std::mt19937_64& engine, std::uint64_t bound);

// `count` distinct questions of `pool`, drawn with `seed`, in the order drawn (a partial
// Fisher-Yates shuffle: the first k questions of a seed are the same whatever the count). Throws
// std::invalid_argument (one line) when `count` is 0 or more than the pool holds, saying how many
// it holds.
std::vector<QuizQuestion> draw_quiz(const std::vector<QuizQuestion>& pool, std::uint64_t seed,
                                    std::size_t count);

// Seeds a quiz draws for itself are below this: short enough to copy from a screen.
inline constexpr std::uint64_t kQuizSeedLimit = 1'000'000;

// For a quiz without a given seed: of the seeds `first`, `first` + 1, ... (`tries` of them,
// wrapping below kQuizSeedLimit), the first whose quiz asks the fewest questions in `asked`. The
// seed alone then gives the same quiz again, and the student still meets new variants first.
std::uint64_t seed_preferring_unasked(const std::vector<QuizQuestion>& pool, std::size_t count,
                                      const std::set<std::string>& asked, std::uint64_t first,
                                      std::size_t tries);

// The history of one student: the questions (QuizQuestion::key) they were asked, as the JSON
// text of its file, and back. parse_quiz_history throws std::invalid_argument (one line) when the
// text is not such a history.
std::string quiz_history_text(const std::set<std::string>& asked);
std::set<std::string> parse_quiz_history(std::string_view text);

// Where the history lives: $XDG_STATE_HOME/forklore/quiz-history.json, or
// $HOME/.local/state/forklore/quiz-history.json when XDG_STATE_HOME is unset, empty or relative
// (the XDG base directory specification ignores a relative one); "" when neither gives a place.
std::string quiz_history_path(const char* xdg_state_home, const char* home);

} // namespace forklore
