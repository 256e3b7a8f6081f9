// Quizzes drawn from the corpus (sim/lesson/quiz.hpp): the pool, the draw, the choices, the
// answers a student types, and the history file's text. The corpus here is local: the unit
// tests link no scenario.
#include "sim/lesson/quiz.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace forklore;
using Catch::Matchers::Contains;

namespace {

Variant variant(std::string name, Expectation expected) {
    return {std::move(name), "summary of " + name, {}, expected};
}

Scenario scenario(std::string id, int number, std::string group, std::vector<Variant> variants) {
    Scenario s;
    s.id = std::move(id);
    s.number = number;
    s.group = std::move(group);
    s.title = "title of " + s.id;
    s.knobs = {Knob::flag("atfork", false, "handlers")};
    s.variants = std::move(variants);
    return s;
}

// A small corpus with everything a quiz must leave out: a racy variant, a hidden self-test, the
// exec scenario. Registered out of teaching order, variants out of name order.
std::vector<Scenario> corpus() {
    const auto orphaned = Expectation::deadlocks(DeadlockReason::orphaned_lock);
    return {
        scenario("locks-b", 30, "fork and locks",
                 {variant("opposite", Expectation::deadlocks(DeadlockReason::cycle)),
                  variant("same", Expectation::completes())}),
        scenario("locks-a", 10, "fork and locks",
                 {variant("spawn", Expectation::completes()), variant("fork", orphaned),
                  variant("natural", Expectation::hang_rate(40, 0.1, 0.9)),
                  variant("atfork", Expectation::completes())}),
        scenario("files", 40, "file locks",
                 {variant("reopened", Expectation::deadlocks(DeadlockReason::blocked_on_process)),
                  variant("inherited", Expectation::completes()),
                  variant("careless", Expectation::ends_as(VerdictKind::failed))}),
        scenario("pools", 120, "process pools",
                 {variant("watching", Expectation::ends_as(VerdictKind::crashed, 6)),
                  variant("naive", Expectation::deadlocks(DeadlockReason::blocked_on_process)),
                  variant("racy_only", Expectation::hang_rate(40, 0.1, 0.9))}),
        [] {
            Scenario s = scenario("engine-self-test", 900, "engine self-tests",
                                  {variant("limit", Expectation::ends_as(VerdictKind::limit))});
            s.hidden = true;
            return s;
        }(),
        scenario("exec", 990, "engine self-tests",
                 {variant("program", Expectation::ends_as(VerdictKind::timed_out))}),
    };
}

std::vector<std::string> keys(const std::vector<QuizQuestion>& questions) {
    std::vector<std::string> out;
    for (const auto& q : questions)
        out.push_back(q.key());
    return out;
}

} // namespace

TEST_CASE("a quiz's pool is in canonical order, without racy, hidden or exec variants") {
    const auto all = corpus();
    const auto pool = quiz_pool(all, "");
    CHECK(keys(pool) == std::vector<std::string>{
                            "locks-a:atfork", "locks-a:fork", "locks-a:spawn", "locks-b:opposite",
                            "locks-b:same", "files:careless", "files:inherited", "files:reopened",
                            "pools:naive", "pools:watching"});
    for (const auto& question : pool) {
        CHECK_FALSE(question.variant->expected.racy);
        CHECK_FALSE(question.scenario->hidden);
        CHECK(question.scenario->id != "exec");
    }
    // The order is the corpus's, not the registration's: reversed, the same pool.
    auto reversed = all;
    std::reverse(reversed.begin(), reversed.end());
    for (auto& s : reversed)
        std::reverse(s.variants.begin(), s.variants.end());
    CHECK(keys(quiz_pool(reversed, "")) == keys(pool));
}

TEST_CASE("a quiz's topic is one of the corpus's groups, in teaching order") {
    const auto all = corpus();
    CHECK(quiz_topics(all) ==
          std::vector<std::string>{"fork and locks", "file locks", "process pools"});
    CHECK(keys(quiz_pool(all, "file locks")) ==
          std::vector<std::string>{"files:careless", "files:inherited", "files:reopened"});
    // Spelling of case and separators does not matter; an unknown topic names the topics.
    CHECK(quiz_pool(all, "File_Locks").size() == 3);
    try {
        (void)quiz_pool(all, "threads");
        FAIL("an unknown topic was accepted");
    } catch (const std::invalid_argument& error) {
        const std::string message = error.what();
        CHECK_THAT(message, Contains("unknown topic 'threads'"));
        CHECK_THAT(message, Contains("fork and locks, file locks, process pools"));
        CHECK(message.find('\n') == std::string::npos);
    }
    // A group with only hidden or racy variants is no topic.
    CHECK_THROWS_AS(quiz_pool(all, "engine self-tests"), std::invalid_argument);
}

TEST_CASE("the same seed draws the same questions, other seeds draw others") {
    const auto all = corpus();
    const auto pool = quiz_pool(all, "");
    const auto first = keys(draw_quiz(pool, 7, 5));
    CHECK(keys(draw_quiz(pool, 7, 5)) == first);
    // Pinned: a standard library, a compiler or a refactoring that changed the draw would change
    // every quiz a teacher handed out.
    CHECK(first == std::vector<std::string>{"files:careless", "files:reopened", "pools:naive",
                                            "locks-a:atfork", "locks-b:opposite"});
    std::set<std::vector<std::string>> quizzes;
    for (std::uint64_t seed = 0; seed < 20; ++seed)
        quizzes.insert(keys(draw_quiz(pool, seed, 5)));
    CHECK(quizzes.size() >= 18);
    // The first questions of a seed are the same whatever the count.
    const auto three = keys(draw_quiz(pool, 7, 3));
    CHECK(std::equal(three.begin(), three.end(), first.begin()));
}

TEST_CASE("a quiz's questions are distinct, and a count beyond the pool is refused") {
    const auto all = corpus();
    const auto pool = quiz_pool(all, "");
    for (std::uint64_t seed = 0; seed < 50; ++seed) {
        const auto drawn = keys(draw_quiz(pool, seed, pool.size()));
        CHECK(std::set<std::string>(drawn.begin(), drawn.end()).size() == pool.size());
    }
    CHECK_THROWS_AS(draw_quiz(pool, 1, 0), std::invalid_argument);
    try {
        (void)draw_quiz(pool, 1, pool.size() + 1);
        FAIL("a count beyond the pool was accepted");
    } catch (const std::invalid_argument& error) {
        CHECK_THAT(std::string(error.what()), Contains("there are 10"));
    }
    CHECK(draw_quiz(quiz_pool(all, "file locks"), 99, 3).size() == 3);
}

TEST_CASE("the bounded draw is uniform and within its bound") {
    std::mt19937_64 engine(42);
    std::vector<int> counts(6);
    for (int i = 0; i < 60000; ++i) {
        const auto value = bounded_draw(engine, 6);
        REQUIRE(value < 6);
        ++counts[value];
    }
    for (int count : counts)
        CHECK(std::abs(count - 10000) < 500);
    CHECK(bounded_draw(engine, 1) == 0);
    // A bound near 2^64 rejects almost half the draws and still ends.
    CHECK(bounded_draw(engine, (std::uint64_t{1} << 63) + 1) <= std::uint64_t{1} << 63);
}

TEST_CASE("a quiz without a seed prefers questions not asked before, with a seed it gives again") {
    const auto all = corpus();
    const auto pool = quiz_pool(all, "");
    // Seven of the ten asked: a quiz of three can still be all new.
    std::set<std::string> asked;
    for (std::size_t i = 0; i < 7; ++i)
        asked.insert(pool[i].key());
    const std::uint64_t seed = seed_preferring_unasked(pool, 3, asked, 123, 20000);
    CHECK(seed < kQuizSeedLimit);
    for (const auto& question : draw_quiz(pool, seed, 3))
        CHECK(asked.count(question.key()) == 0);
    // Nothing asked: the first seed tried is taken. Everything asked: still a seed.
    CHECK(seed_preferring_unasked(pool, 3, {}, 123, 20000) == 123);
    std::set<std::string> everything;
    for (const auto& question : pool)
        everything.insert(question.key());
    CHECK(seed_preferring_unasked(pool, 3, everything, kQuizSeedLimit - 1, 5) ==
          kQuizSeedLimit - 1);
}

TEST_CASE("a quiz's choices are the outcomes its questions expect, in a fixed order") {
    const auto choices = quiz_choices(corpus());
    std::vector<std::string> names;
    for (const auto& choice : choices)
        names.push_back(choice.name);
    // No limit (only the hidden self-test expects one), no deadline (only exec).
    CHECK(names == std::vector<std::string>{"completes", "orphaned-lock", "lock-cycle",
                                            "blocked-process", "crashes", "fails"});
    CHECK(choice_for(choices, VerdictKind::deadlocked, DeadlockReason::cycle) == 2u);
    CHECK(choice_for(choices, VerdictKind::crashed, std::nullopt) == 4u);
    CHECK_FALSE(choice_for(choices, VerdictKind::deadlocked, DeadlockReason::no_waker));
    CHECK_FALSE(choice_for(choices, VerdictKind::setup_error, std::nullopt));
}

TEST_CASE("a student answers with a number, a name, or the verdict's words") {
    const auto choices = quiz_choices(corpus());
    CHECK(parse_quiz_answer(choices, "1") == 0u);
    CHECK(parse_quiz_answer(choices, " 6 ") == 5u);
    CHECK(parse_quiz_answer(choices, "completes") == 0u);
    CHECK(parse_quiz_answer(choices, "Completed") == 0u);
    CHECK(parse_quiz_answer(choices, "orphaned-lock") == 1u);
    CHECK(parse_quiz_answer(choices, "orphaned lock") == 1u);
    CHECK(parse_quiz_answer(choices, "deadlocked(orphaned_lock)") == 1u);
    CHECK(parse_quiz_answer(choices, "deadlocks: lock cycle") == 2u);
    CHECK(parse_quiz_answer(choices, "cycle") == 2u);
    CHECK(parse_quiz_answer(choices, "blocked_on_process") == 3u);
    CHECK(parse_quiz_answer(choices, "waits on a blocked process") == 3u);
    CHECK(parse_quiz_answer(choices, "CRASHED") == 4u);
    CHECK(parse_quiz_answer(choices, "fails") == 5u);
    // None of them: empty, out of range, ambiguous, a choice this corpus does not offer.
    for (const char* wrong : {"", "   ", "0", "7", "99999999999999999999", "deadlocks",
                              "deadlocked", "no-waker", "limit", "maybe"})
        CHECK_FALSE(parse_quiz_answer(choices, wrong));
}

TEST_CASE("the history of questions asked reads back what it wrote, and refuses anything else") {
    const std::set<std::string> asked = {"locks-a:fork", "files:reopened"};
    CHECK(parse_quiz_history(quiz_history_text(asked)) == asked);
    CHECK(parse_quiz_history(quiz_history_text({})).empty());
    for (const char* corrupt :
         {"", "not json", "[]", "{}", R"({"asked": "locks-a:fork"})", R"({"asked": [1, 2]})",
          R"({"version": 2, "asked": []})", R"({"asked": ["a:b"])"}) {
        INFO(corrupt);
        try {
            (void)parse_quiz_history(corrupt);
            FAIL("a corrupt history was read");
        } catch (const std::invalid_argument& error) {
            CHECK(std::string(error.what()).find('\n') == std::string::npos);
        }
    }
}

TEST_CASE("the history lives under XDG_STATE_HOME, else under HOME") {
    CHECK(quiz_history_path("/state", "/home/ada") == "/state/forklore/quiz-history.json");
    CHECK(quiz_history_path(nullptr, "/home/ada") ==
          "/home/ada/.local/state/forklore/quiz-history.json");
    CHECK(quiz_history_path("", "/home/ada") ==
          "/home/ada/.local/state/forklore/quiz-history.json");
    CHECK(quiz_history_path("relative", "/home/ada") ==
          "/home/ada/.local/state/forklore/quiz-history.json");
    CHECK(quiz_history_path(nullptr, nullptr).empty());
    CHECK(quiz_history_path(nullptr, "").empty());
}
