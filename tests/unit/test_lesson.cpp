// Lessons (sim/lesson/): reading tutorials/FORMAT.md's format, and holding a lesson against a
// registry and a run. The registry and the runs here are local and fake, so every rule is tested
// in microseconds; the real lessons are checked against the real engine by `forklore lesson
// check` (tests/cli).
//
// Index of this file:
// - a fixture lesson (reader-lock), its fake registry and runs
// - reading: every step kind, outcomes, errors in one line
// - holding against the registry, the check, grading answers
// - play steps: a stand-in lock-cycle, a challenge, a winning play and a losing one
#include "sim/lesson/lesson.hpp"
#include "sim/lesson/lesson_check.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace forklore;
using namespace forklore::lesson;
using Catch::Matchers::Contains;

namespace {

const std::string kHeader = "---\n"
                            "title: What fork copies\n"
                            "minutes: 20\n"
                            "topics: fork and locks\n"
                            "scenarios: reader-lock\n"
                            "---\n";

const std::string kLesson = kHeader + R"(
The introduction.

## Read: one thread comes along

fork() copies the calling thread only.

```c
## not a heading: inside code
```

## Predict: the reader holds the lock

What happens to the child?

```step
run: reader-lock:fork
answer: deadlocked(orphaned_lock)
hint: Which threads does the child have?
hint: Who holds the lock?
```

## Run: see it

```step
run: reader-lock:fork
look: lock file_lock
look: thread reader
```

## Explain: who owns it

Which thread owns the lock the child waits for?

```step
answer: Reader
check: owner
```

## Explain: is it a cycle

```step
choices: yes | no
answer: no
check: choice
```

## Fix: spawn the worker

```step
run: reader-lock:fork start_method=spawn
expect: completed
```

## What you learned

- fork copies one thread.
)";

Lesson parsed(const std::string& text = kLesson) {
    return parse_lesson(text, "01-what-fork-copies", "tutorials/01-what-fork-copies.md");
}

// The error parse_lesson gives for `text`, or "" when it reads.
std::string error_of(const std::string& text) {
    try {
        parsed(text);
    } catch (const LessonError& error) {
        return error.what();
    }
    return {};
}

// A lesson with one predict step whose block is `block`.
std::string with_predict(const std::string& block) {
    return kHeader + "\n## Predict: p\n\n```step\n" + block +
           "\n```\n\n## What you learned\n\n- x\n";
}

Scenario reader_lock() {
    Scenario s;
    s.id = "reader-lock";
    s.number = 10;
    s.group = "fork and locks";
    s.title = "a reader holds a lock at fork";
    s.knobs = {start_method_knob("start_method", StartMethod::fork, "how the child is made")};
    s.variants = {{"fork", "", {{"start_method", "fork"}}, Expectation::completes()},
                  {"natural", "", {}, Expectation::hang_rate(20, 0.1, 0.9)}};
    return s;
}

// A run as the engine would record it: the child waits for file_lock, owned by the parent's
// reader thread, or (spawn) it completes.
RunRecord fake_run(const RunRequest& request) {
    RunRecord record;
    record.scenario = request.scenario->id;
    const bool forked = request.knobs.at("start_method") == "fork";
    record.verdict.kind = forked ? VerdictKind::deadlocked : VerdictKind::completed;
    if (forked) {
        record.verdict.reason = DeadlockReason::orphaned_lock;
        WaitEdge edge;
        edge.waiter_thread = "main";
        edge.owner_thread = "reader";
        edge.lock_name = "file_lock";
        record.verdict.wait_for.push_back(edge);
        ProcessRecord parent;
        parent.ns_pid = 2;
        parent.role = ProcessRole::main;
        parent.threads = {{2, "main"}, {3, "reader"}};
        record.processes.push_back(parent);
        Event event{};
        event.kind = EventKind::lock_acquired;
        std::snprintf(event.name, sizeof event.name, "%s", "file_lock");
        record.events.push_back(event);
    }
    return record;
}

} // namespace

TEST_CASE("a lesson reads: header, introduction, steps of every kind, what you learned",
          "[lesson]") {
    const Lesson lesson = parsed();
    CHECK(lesson.id == "01-what-fork-copies");
    CHECK(lesson.title == "What fork copies");
    CHECK(lesson.minutes == 20);
    CHECK(lesson.topics == std::vector<std::string>{"fork and locks"});
    CHECK(lesson.introduction == "The introduction.\n");
    REQUIRE(lesson.steps.size() == 6);
    const Step& read = lesson.steps[0];
    CHECK(read.kind == StepKind::read);
    CHECK_THAT(read.text, Contains("## not a heading: inside code")); // fenced code stays text
    const Step& predict = lesson.steps[1];
    CHECK(predict.kind == StepKind::predict);
    REQUIRE(predict.run);
    CHECK(predict.run->text() == "reader-lock:fork");
    CHECK(predict.run->command() == "forklore run reader-lock --variant fork");
    CHECK(predict.outcome->text() == "deadlocked(orphaned_lock)");
    CHECK(predict.choices == default_outcome_choices());
    CHECK(predict.hints.size() == 2);
    CHECK(predict.text == "What happens to the child?\n"); // the block is not shown as text
    CHECK(lesson.steps[2].looks.size() == 2);
    CHECK(lesson.steps[2].looks[0].text() == "lock file_lock");
    CHECK(lesson.steps[3].check == AnswerCheck::owner);
    CHECK(lesson.steps[3].asks_about == 2); // the last step that ran before it
    CHECK(lesson.steps[5].run->settings.at("start_method") == "spawn");
    CHECK(lesson.steps[5].label(5) == "step 6 (Fix: spawn the worker)");
    CHECK_THAT(lesson.learned, Contains("fork copies one thread."));
}

TEST_CASE("outcomes read as the corpus writes them, and nothing else", "[lesson]") {
    CHECK(Outcome::parse("completed")->text() == "completed");
    CHECK(Outcome::parse(" deadlocked(cycle) ")->text() == "deadlocked(cycle)");
    CHECK_FALSE(Outcome::parse("deadlocked"));          // a deadlock has its reason
    CHECK_FALSE(Outcome::parse("completed(cycle)"));    // nothing else has one
    CHECK_FALSE(Outcome::parse("deadlocked(forever)")); // no such reason
    CHECK_FALSE(Outcome::parse("stopped"));             // not an outcome a lesson teaches
    CHECK_FALSE(Outcome::parse("hangs"));
}

TEST_CASE("a lesson that cannot be read says where and why in one line", "[lesson]") {
    CHECK_THAT(error_of("no header\n"), Contains("01-what-fork-copies.md:1: a lesson starts"));
    CHECK_THAT(error_of("---\ntitle: x\n"), Contains("no closing '---'"));
    CHECK_THAT(error_of("---\ntitle: x\nminutes: 3\ntopics: a\nscenarios: b\n---\n"),
               Contains(":3: minutes: takes a number from 5 to 120 (got '3')"));
    CHECK_THAT(error_of("---\ntitle: x\ncolour: red\n---\n"), Contains("unknown header key"));
    CHECK_THAT(error_of(kHeader + "\n## Guess: p\n\n## What you learned\n\n- x\n"),
               Contains(":8: '## Guess: p' is not a step"));
    CHECK_THAT(error_of(kHeader + "\n## Read: r\n"), Contains("no '## What you learned'"));
    CHECK_THAT(error_of(kHeader + "\n## Explain: e\n\n```step\nanswer: a\ncheck: owner\n```\n\n"
                                  "## What you learned\n\n- x\n"),
               Contains("must come before it"));
    CHECK_THAT(error_of(with_predict("run: reader-lock:fork")), Contains("needs 'answer'"));
    CHECK_THAT(error_of(with_predict("run: reader-lock:fork\nanswer: hangs")),
               Contains("'hangs' is not an outcome"));
    CHECK_THAT(error_of(with_predict("run: reader-lock:fork\nanswer: completed\nlook: lock l")),
               Contains("a predict step takes no 'look'"));
    CHECK_THAT(error_of(with_predict("run: reader-lock:fork\nanswer: crashed\n"
                                     "choices: completed | deadlocked(cycle)")),
               Contains("the answer 'crashed' is not one of the choices"));
    CHECK_THAT(error_of(with_predict("run: reader-lock:fork knob\nanswer: completed")),
               Contains("'knob' is not a knob setting"));
    CHECK_THAT(error_of(with_predict("run: reader-lock:fork\nanswer: completed\nrun: x")),
               Contains("'run' is given twice"));
    CHECK_THAT(error_of(kHeader + "\n## Predict: p\n\n```step\nrun: x\n"), Contains("not closed"));
}

TEST_CASE("a lesson is held against the registry before anything runs", "[lesson]") {
    ScenarioRegistry registry;
    registry.add(reader_lock());
    CHECK(validate_lesson(parsed(), registry).empty());

    std::string text = kLesson;
    text.replace(text.find("reader-lock:fork start_method=spawn"), 35,
                 "reader-lock:fork start_method=teleport");
    auto problems = validate_lesson(parsed(text), registry);
    REQUIRE(problems.size() == 1);
    CHECK_THAT(problems[0], Contains("01-what-fork-copies step 6 (Fix: spawn the worker):"));
    CHECK_THAT(problems[0], Contains("teleport"));

    text = kLesson;
    text.replace(text.find("run: reader-lock:fork\nlook"), 21, "run: reader-lock:natural");
    problems = validate_lesson(parsed(text), registry);
    REQUIRE(problems.size() == 1);
    CHECK_THAT(problems[0], Contains("step 3 (Run: see it): 'reader-lock:natural' is racy"));

    text = kLesson;
    text.replace(text.find("topics: fork and locks"), 22, "topics: astrology");
    CHECK_THAT(validate_lesson(parsed(text), registry).at(0),
               Contains("header: unknown topic 'astrology'"));
}

TEST_CASE("lesson check runs each configuration once and names the step a stale claim is in",
          "[lesson]") {
    ScenarioRegistry registry;
    registry.add(reader_lock());
    int runs = 0;
    RunFunction run = [&](const RunRequest& request) {
        ++runs;
        return fake_run(request);
    };
    LessonCheck check = check_lesson(parsed(), registry, run);
    CHECK(check.ok());
    CHECK(runs == 2); // fork (predict, run and both explains share it) and spawn
    REQUIRE(check.steps.size() == 6);
    CHECK(check.steps[1].engine_says == "deadlocked(orphaned_lock)");
    CHECK(check.steps[3].engine_says == "reader");

    // The engine changed: the fork completes now. Every claim about it fails, by step.
    RunFunction completes = [](const RunRequest& request) {
        RunRecord record = fake_run(request);
        record.verdict = {};
        record.verdict.kind = VerdictKind::completed;
        return record;
    };
    check = check_lesson(parsed(), registry, completes);
    REQUIRE_FALSE(check.ok());
    CHECK(check.problems.at(0) ==
          "01-what-fork-copies step 2 (Predict: the reader holds the lock): says "
          "deadlocked(orphaned_lock), the engine says completed (reader-lock:fork)");
    CHECK_THAT(check.problems.at(1), Contains("step 4 (Explain: who owns it): answers 'Reader'"));

    // A look at what the run does not have.
    std::string text = kLesson;
    text.replace(text.find("look: thread reader"), 19, "look: thread writer");
    check = check_lesson(parsed(text), registry, run);
    REQUIRE(check.problems.size() == 1);
    CHECK_THAT(check.problems[0], Contains("step 3 (Run: see it): looks at thread writer"));
}

TEST_CASE("a student's answer is graded by the run for a prediction, by the lesson otherwise",
          "[lesson]") {
    const Lesson lesson = parsed();
    const Step& predict = lesson.steps[1];
    RunRequest fork_request;
    Scenario scenario = reader_lock();
    fork_request.scenario = &scenario;
    fork_request.knobs = {{"start_method", "fork"}};
    const RunRecord hung = fake_run(fork_request);
    CHECK(answer_is_right(predict, "deadlocked(orphaned_lock)", &hung));
    CHECK_FALSE(answer_is_right(predict, "completed", &hung));
    CHECK(answer_is_right(lesson.steps[3], "  reader ", &hung));
    CHECK_FALSE(answer_is_right(lesson.steps[3], "main", &hung));
    CHECK(verdict_names(AnswerCheck::waiter, hung) == std::vector<std::string>{"main"});
    CHECK(verdict_names(AnswerCheck::reason, hung) == std::vector<std::string>{"orphaned_lock"});
    CHECK(record_has(Look{Look::Kind::lock, "file_lock"}, hung));
    CHECK_FALSE(record_has(Look{Look::Kind::lock, "other_lock"}, hung));
    CHECK(record_has(Look{Look::Kind::process, "main"}, hung));
}

namespace {

// A stand-in for lock-cycle, with the knobs its challenges set.
Scenario lock_cycle() {
    Scenario s;
    s.id = "lock-cycle";
    s.number = 30;
    s.group = "fork and locks";
    s.title = "two threads, two locks";
    s.knobs = {Knob::choice("order", "opposite", {"opposite", "same"}, "b's order"),
               Knob::choice("timing", "forced", {"forced", "natural"}, "barriers or none")};
    s.variants = {{"opposite_order", "", {{"order", "opposite"}}, Expectation::completes()}};
    return s;
}

std::string play_lesson(const std::string& block) {
    return "---\ntitle: Play\nminutes: 10\ntopics: fork and locks\nscenarios: lock-cycle\n---\n"
           "\n## Play: cause it\n\nBe the scheduler.\n\n```step\n" +
           block + "\n```\n\n## What you learned\n\n- x\n";
}

} // namespace

TEST_CASE("a play step names a challenge and a winning play, which lesson check plays",
          "[lesson]") {
    const Lesson lesson = parse_lesson(play_lesson("challenge: cause-the-cycle\nplay: a, a, b, b"),
                                       "09-play", "tutorials/09-play.md");
    REQUIRE(lesson.steps.size() == 1);
    CHECK(lesson.steps[0].kind == StepKind::play);
    CHECK(lesson.steps[0].challenge == "cause-the-cycle");
    CHECK(lesson.steps[0].play == std::vector<std::string>{"a", "a", "b", "b"});
    CHECK(lesson.steps[0].asks_about == -1);

    CHECK_THAT(error_of(play_lesson("challenge: cause-the-cycle")), Contains("needs 'play'"));
    CHECK_THAT(error_of(play_lesson("challenge: cause-the-cycle\nplay: ,")),
               Contains("play: names no thread"));
    CHECK_THAT(error_of(play_lesson("play: a\nrun: lock-cycle")),
               Contains("a play step takes no 'run'"));

    ScenarioRegistry registry;
    registry.add(lock_cycle());
    CHECK(validate_lesson(lesson, registry).empty());
    const Lesson unknown =
        parse_lesson(play_lesson("challenge: win-the-lottery\nplay: a"), "09-play", "p.md");
    CHECK_THAT(validate_lesson(unknown, registry).at(0),
               Contains("step 1 (Play: cause it): unknown challenge 'win-the-lottery' "
                        "(challenges: orphan-the-lock,"));
    const Lesson elsewhere =
        parse_lesson(play_lesson("challenge: orphan-the-lock\nplay: reader"), "09-play", "p.md");
    CHECK_THAT(validate_lesson(elsewhere, registry).at(0),
               Contains("plays challenge 'orphan-the-lock' on 'file-read-under-lock', which the "
                        "header's scenarios do not list"));

    // The check plays the step's threads, stepped, with the challenge's knobs, and judges the
    // record as the Scheduler tab does.
    int runs = 0;
    RunFunction cycles = [&](const RunRequest& request) {
        ++runs;
        CHECK(request.scheduler);
        CHECK(request.knobs.at("order") == "opposite");
        CHECK(request.knobs.at("timing") == "natural");
        RunRecord record;
        record.verdict.kind = VerdictKind::deadlocked;
        record.verdict.reason = DeadlockReason::cycle;
        record.schedule = Schedule{};
        return record;
    };
    LessonCheck check = check_lesson(lesson, registry, cycles);
    CHECK(check.ok());
    CHECK(runs == 1);
    REQUIRE(check.steps.size() == 1);
    CHECK(check.steps[0].ran);
    CHECK(check.steps[0].engine_says == "won");

    RunFunction completes = [](const RunRequest&) {
        RunRecord record;
        record.verdict.kind = VerdictKind::completed;
        record.schedule = Schedule{};
        return record;
    };
    check = check_lesson(lesson, registry, completes);
    REQUIRE(check.problems.size() == 1);
    CHECK_THAT(check.problems[0],
               Contains("09-play step 1 (Play: cause it): the play a, a, b, b does not win "
                        "challenge 'cause-the-cycle': the run ended completed"));

    // A play the run could not follow is said as the run's record says it.
    RunFunction diverges = [](const RunRequest&) {
        RunRecord record;
        record.verdict.kind = VerdictKind::deadlocked;
        record.verdict.reason = DeadlockReason::cycle;
        record.schedule = Schedule{};
        record.schedule->diverged = "step 3: the play lets go thread 'b', but no thread of that "
                                    "name waits for a turn";
        return record;
    };
    check = check_lesson(lesson, registry, diverges);
    REQUIRE(check.problems.size() == 1);
    CHECK_THAT(check.problems[0], Contains("no thread of that name waits"));
}
