// Quizzes drawn from the corpus (quiz.hpp).
//
// Index of this file:
// [SECTION] the choices and the student's answer
// [SECTION] the pool and the draw
// [SECTION] the history
#include "sim/lesson/quiz.hpp"
#include "sim/lesson/lesson.hpp"

#include "sim/protocol/text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <numeric>
#include <stdexcept>
#include <tuple>

namespace forklore {

namespace {

// [SECTION] the choices and the student's answer ---------------------------------------------

// Every outcome a quiz can offer, in the order a quiz lists them: the good ending, the proven
// hangs, the unproven one, then the ways a program dies or is stopped.
struct ChoiceSpec {
    VerdictKind verdict;
    std::optional<DeadlockReason> reason;
    const char* name;
    const char* label;
    const char* meaning;
    std::vector<const char*> more_names; // other words a student may use for it
};

const std::vector<ChoiceSpec>& choice_specs() {
    static const std::vector<ChoiceSpec> specs = {
        {VerdictKind::completed,
         std::nullopt,
         "completes",
         "completes",
         "every process exits with code 0",
         {"complete", "completed"}},
        {VerdictKind::deadlocked,
         DeadlockReason::orphaned_lock,
         "orphaned-lock",
         "deadlocks: orphaned lock",
         "a thread waits for a lock whose owner thread is not in its process",
         {"orphaned"}},
        {VerdictKind::deadlocked,
         DeadlockReason::cycle,
         "lock-cycle",
         "deadlocks: lock cycle",
         "threads wait for each other's locks",
         {}},
        {VerdictKind::deadlocked,
         DeadlockReason::blocked_on_process,
         "blocked-process",
         "deadlocks: waits on a blocked process",
         "waits on a child, a pipe or a file lock whose holder is itself blocked",
         {}},
        {VerdictKind::deadlocked,
         DeadlockReason::no_waker,
         "no-waker",
         "deadlocks: nothing left to wake it",
         "waits on something no thread owns (a condition variable, a semaphore, a thread's end, "
         "a reply) that no thread left will ever signal",
         {}},
        {VerdictKind::timed_out,
         std::nullopt,
         "deadline",
         "runs until the deadline",
         "never ends and is never proven stuck: it spins or loops until it is stopped",
         {"timeout", "times-out", "timed-out"}},
        {VerdictKind::crashed,
         std::nullopt,
         "crashes",
         "crashes",
         "a process dies by a signal nobody sent on purpose",
         {"crash", "crashed"}},
        {VerdictKind::failed,
         std::nullopt,
         "fails",
         "fails",
         "a process exits with a code other than 0",
         {"fail", "failed"}},
        {VerdictKind::limit,
         std::nullopt,
         "limit",
         "hits a limit",
         "a sandbox limit stops it (memory, tasks, output, CPU time)",
         {"limits"}},
    };
    return specs;
}

// Lower case, every run of other characters one '-', none at either end: "Deadlocked
// (orphaned_lock)" and "deadlocked-orphaned-lock" read the same.
std::string normalised(std::string_view text) {
    std::string out;
    bool separator = false;
    for (char c : text) {
        const bool letter = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        const bool capital = c >= 'A' && c <= 'Z';
        if (letter || capital) {
            if (separator && !out.empty())
                out += '-';
            out += capital ? static_cast<char>(c - 'A' + 'a') : c;
            separator = false;
        } else {
            separator = true;
        }
    }
    return out;
}

// Every word a student may type for a choice, normalised.
std::vector<std::string> names_of(const QuizChoice& choice) {
    std::vector<std::string> names = {normalised(choice.name), normalised(choice.label)};
    if (choice.reason) {
        const std::string reason = normalised(to_string(*choice.reason));
        names.push_back(reason);
        names.push_back("deadlocked-" + reason);
        names.push_back("deadlocks-" + reason);
        // The label without "deadlocks: ": "nothing left to wake it".
        const std::string label = choice.label;
        names.push_back(normalised(label.substr(label.find(':') + 1)));
    } else {
        names.push_back(normalised(to_string(choice.verdict)));
    }
    for (const auto& spec : choice_specs())
        if (spec.verdict == choice.verdict && spec.reason == choice.reason)
            for (const char* name : spec.more_names)
                names.push_back(normalised(name));
    return names;
}

// An expectation a quiz can grade: one of the choices (a deadlock names its reason).
bool gradable(const Expectation& expected) {
    if (expected.verdict == VerdictKind::deadlocked)
        return expected.reason.has_value();
    return expected.verdict != VerdictKind::setup_error && expected.verdict != VerdictKind::stopped;
}

// Scenarios in canonical order: by number, then id (two scenarios never share a number in the
// corpus, but the order must not depend on the registry's either way).
std::vector<const Scenario*> in_teaching_order(const std::vector<Scenario>& corpus) {
    std::vector<const Scenario*> scenarios;
    for (const auto& scenario : corpus)
        scenarios.push_back(&scenario);
    std::sort(scenarios.begin(), scenarios.end(), [](const Scenario* a, const Scenario* b) {
        return std::tie(a->number, a->id) < std::tie(b->number, b->id);
    });
    return scenarios;
}

bool has_questions(const Scenario& scenario) {
    return std::any_of(scenario.variants.begin(), scenario.variants.end(),
                       [&](const Variant& v) { return quiz_can_ask(scenario, v); });
}

bool same_topic(std::string_view a, std::string_view b) {
    return normalised(a) == normalised(b);
}

} // namespace

std::vector<QuizChoice> quiz_choices(const std::vector<Scenario>& corpus) {
    std::vector<QuizChoice> choices;
    for (const auto& spec : choice_specs()) {
        bool expected = false;
        for (const auto& scenario : corpus)
            for (const auto& variant : scenario.variants)
                expected = expected || (quiz_can_ask(scenario, variant) &&
                                        variant.expected.verdict == spec.verdict &&
                                        (spec.verdict != VerdictKind::deadlocked ||
                                         variant.expected.reason == spec.reason));
        if (expected)
            choices.push_back({spec.verdict, spec.reason, spec.name, spec.label, spec.meaning});
    }
    return choices;
}

std::optional<std::size_t> choice_for(const std::vector<QuizChoice>& choices, VerdictKind kind,
                                      std::optional<DeadlockReason> reason) {
    for (std::size_t i = 0; i < choices.size(); ++i)
        if (choices[i].verdict == kind &&
            (kind != VerdictKind::deadlocked || choices[i].reason == reason))
            return i;
    return std::nullopt;
}

std::optional<std::size_t> parse_quiz_answer(const std::vector<QuizChoice>& choices,
                                             std::string_view answer) {
    const std::string word = normalised(answer);
    if (word.empty())
        return std::nullopt;
    if (std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        if (word.size() > 3)
            return std::nullopt;
        const std::size_t number = std::stoul(word);
        if (number >= 1 && number <= choices.size())
            return number - 1;
        return std::nullopt;
    }
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < choices.size(); ++i) {
        const auto names = names_of(choices[i]);
        if (std::find(names.begin(), names.end(), word) == names.end())
            continue;
        if (found && *found != i)
            return std::nullopt; // ambiguous
        found = i;
    }
    return found;
}

// [SECTION] the pool and the draw ------------------------------------------------------------

bool quiz_can_ask(const Scenario& scenario, const Variant& variant) {
    return !scenario.hidden && scenario.id != "exec" && !variant.expected.racy &&
           gradable(variant.expected);
}

std::string QuizQuestion::key() const {
    return scenario->id + ":" + variant->name;
}

std::vector<std::string> quiz_topics(const std::vector<Scenario>& corpus) {
    std::vector<std::string> topics;
    for (const Scenario* scenario : in_teaching_order(corpus))
        if (has_questions(*scenario) &&
            std::find(topics.begin(), topics.end(), scenario->group) == topics.end())
            topics.push_back(scenario->group);
    return topics;
}

std::vector<QuizQuestion> quiz_pool(const std::vector<Scenario>& corpus, const std::string& topic) {
    const std::vector<std::string> topics = quiz_topics(corpus);
    if (!topic.empty() && std::none_of(topics.begin(), topics.end(),
                                       [&](const std::string& t) { return same_topic(t, topic); }))
        throw std::invalid_argument(fmt::format("unknown topic '{}' (topics: {})",
                                                printable(topic, 100), fmt::join(topics, ", ")));
    std::vector<QuizQuestion> pool;
    for (const Scenario* scenario : in_teaching_order(corpus)) {
        if (!topic.empty() && !same_topic(scenario->group, topic))
            continue;
        std::vector<const Variant*> variants;
        for (const auto& variant : scenario->variants)
            if (quiz_can_ask(*scenario, variant))
                variants.push_back(&variant);
        std::sort(variants.begin(), variants.end(),
                  [](const Variant* a, const Variant* b) { return a->name < b->name; });
        for (const Variant* variant : variants)
            pool.push_back({scenario, variant});
    }
    return pool;
}

std::uint64_t bounded_draw(std::mt19937_64& engine, std::uint64_t bound) {
    // 2^64 mod bound, in 64-bit arithmetic: the draws below it are the incomplete last lap.
    const std::uint64_t rejected_below = (0 - bound) % bound;
    for (;;) {
        const std::uint64_t draw = engine();
        if (draw >= rejected_below)
            return draw % bound;
    }
}

std::vector<QuizQuestion> draw_quiz(const std::vector<QuizQuestion>& pool, std::uint64_t seed,
                                    std::size_t count) {
    if (count == 0)
        throw std::invalid_argument("a quiz asks at least 1 question");
    if (count > pool.size())
        throw std::invalid_argument(
            fmt::format("a quiz of {} questions: there are {} to draw from", count, pool.size()));
    std::vector<std::size_t> order(pool.size());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 engine(seed);
    std::vector<QuizQuestion> questions;
    for (std::size_t i = 0; i < count; ++i) {
        std::swap(order[i], order[i + bounded_draw(engine, pool.size() - i)]);
        questions.push_back(pool[order[i]]);
    }
    return questions;
}

std::uint64_t seed_preferring_unasked(const std::vector<QuizQuestion>& pool, std::size_t count,
                                      const std::set<std::string>& asked, std::uint64_t first,
                                      std::size_t tries) {
    std::uint64_t best_seed = first % kQuizSeedLimit;
    std::size_t fewest = count + 1;
    for (std::size_t i = 0; i < tries && fewest > 0; ++i) {
        const std::uint64_t seed = (first + i) % kQuizSeedLimit;
        std::size_t asked_before = 0;
        for (const auto& question : draw_quiz(pool, seed, count))
            asked_before += asked.count(question.key());
        if (asked_before < fewest) {
            fewest = asked_before;
            best_seed = seed;
        }
    }
    return best_seed;
}

// [SECTION] the history ----------------------------------------------------------------------

namespace {
constexpr int kQuizHistoryVersion = 1;
}

std::string quiz_history_text(const std::set<std::string>& asked) {
    nlohmann::json history = {
        {"about", "the corpus variants forklore quiz has asked ('forklore quiz --forget' clears "
                  "it)"},
        {"version", kQuizHistoryVersion},
        {"asked", asked},
    };
    return history.dump(2) + "\n";
}

std::set<std::string> parse_quiz_history(std::string_view text) {
    const nlohmann::json history = nlohmann::json::parse(text, nullptr, false);
    if (history.is_discarded())
        throw std::invalid_argument("it is not JSON");
    if (!history.is_object() || !history.contains("asked") || !history["asked"].is_array())
        throw std::invalid_argument("it has no list 'asked'");
    if (history.contains("version") &&
        (!history["version"].is_number_integer() || history["version"] != kQuizHistoryVersion))
        throw std::invalid_argument(fmt::format("its version is {}, not {}",
                                                printable(history["version"].dump(), 40),
                                                kQuizHistoryVersion));
    std::set<std::string> asked;
    for (const auto& key : history["asked"]) {
        if (!key.is_string())
            throw std::invalid_argument("its list 'asked' holds something other than names");
        asked.insert(key.get<std::string>());
    }
    return asked;
}

std::string quiz_history_path(const char* xdg_state_home, const char* home) {
    return lesson::state_file_path("quiz-history.json", xdg_state_home, home);
}

} // namespace forklore
