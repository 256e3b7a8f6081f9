// Exploration (sim/run/explore.hpp) asserts facts instead of rates. Stepped with nothing forcing
// the order (timing=natural), file-read-under-lock's fork falls in exactly 6 places among the
// reader's steps (before its start, after its start, after it took the lock, after its note,
// after it let the lock go, at its barrier), and the child hangs on the orphaned lock in exactly
// the 2 where the reader held the lock; lock-cycle's two threads reach the cycle. A shortest
// hanging schedule replays to the same hang.
//
// Measured with `forklore explore` first (2 cores): file-read-under-lock --variant fork --bound 1
// (timing=natural): 40 runs in 3.8 s, 4 hang (2 placements x 2), 36 complete; --bound 2: 228
// runs in 21.6 s, the same 6 placements, the same 2 hang; --unbounded (sleep sets): 91 runs in
// 7.4 s, 40 of them cut short, the same 6 and 2. lock-cycle --variant opposite_order --bound 1:
// 111 runs in 11 s, 8 end in the cycle.
#include "sim/record/record.hpp"
#include "sim/run/explore.hpp"
#include "sim/run/runner.hpp"
#include "sim/scenario/scenario.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace forklore;

namespace {

RunRequest natural_request(const std::string& id, const std::string& variant) {
    const Scenario* scenario = ScenarioRegistry::instance().find(id);
    REQUIRE(scenario);
    RunRequest request = make_request(*scenario, variant, {{"timing", "natural"}});
    request.timeout_seconds = 30;
    return request;
}

void replays_to(const RunRequest& base, const Schedule& schedule, VerdictKind kind,
                DeadlockReason reason) {
    for (int run = 0; run < 5; ++run) {
        RunRequest request = base;
        request.scheduler = replay_schedule(schedule);
        const RunRecord record = run_scenario(request);
        INFO(record.verdict.explanation);
        REQUIRE(record.verdict.kind == kind);
        CHECK(record.verdict.reason == reason);
    }
}

} // namespace

TEST_CASE("explore: file-read-under-lock's fork hangs in exactly the 2 of 6 placements where the "
          "reader holds the lock",
          "[explore][engine]") {
    const RunRequest request = natural_request("file-read-under-lock", "fork");
    ExploreOptions options;
    options.preemption_bound = 1;
    const ExploreResult result = explore_schedules(request, options);
    REQUIRE(result.complete);
    CHECK(result.diverged <= result.schedules / 10); // timing in the program, rare
    REQUIRE(result.outcomes.size() == 2);
    REQUIRE(result.outcomes.count("completed"));
    REQUIRE(result.outcomes.count("deadlocked(orphaned_lock)"));

    REQUIRE(result.fork_placements.size() == 6);
    for (std::size_t placement = 0; placement < 6; ++placement) {
        const ForkPlacement& place = result.fork_placements[placement];
        CAPTURE(place.description);
        REQUIRE(place.steps_before == std::vector<std::size_t>{placement});
        // The reader took the lock at its 2nd step and let it go at its 4th: the fork after 2
        // or 3 of its steps copies it held.
        const bool reader_held_the_lock = placement == 2 || placement == 3;
        REQUIRE(place.outcomes.size() == 1);
        CHECK(place.outcomes.begin()->first ==
              (reader_held_the_lock ? "deadlocked(orphaned_lock)" : "completed"));
    }
    CHECK_THAT(result.fork_placements[2].description, Catch::Contains("lock file_lock"));

    // The shortest hanging schedule: the reader starts and takes the lock, the main thread forks,
    // the child asks for its copy.
    const Schedule& shortest = result.outcomes.at("deadlocked(orphaned_lock)").shortest;
    REQUIRE(shortest.steps.size() >= 6);
    CHECK(shortest.steps.back().kind == EventKind::lock_wait);
    CHECK(shortest.steps.back().object == "file_lock");
    replays_to(request, shortest, VerdictKind::deadlocked, DeadlockReason::orphaned_lock);

    const std::string words = describe_exploration(result);
    CHECK_THAT(words, Catch::Contains("every schedule within the bound"));
    CHECK_THAT(words, Catch::Contains("the child was started at 6 different points among the "
                                      "other threads' steps; it hung at 2 of them"));
}

TEST_CASE("explore: without a bound, every schedule (sleep sets cut the reorderings short) gives "
          "the same 2 hanging placements of 6",
          "[explore][engine]") {
    const RunRequest request = natural_request("file-read-under-lock", "fork");
    ExploreOptions every;
    every.preemption_bound = -1;
    const ExploreResult all = explore_schedules(request, every);
    REQUIRE(all.complete);
    CHECK(all.pruned > 0);
    std::size_t counted = 0;
    for (const auto& [label, outcome] : all.outcomes)
        counted += outcome.schedules;
    CHECK(counted + all.pruned + all.diverged == all.schedules);
    REQUIRE(all.outcomes.size() == 2);
    REQUIRE(all.fork_placements.size() == 6);
    for (std::size_t placement = 0; placement < 6; ++placement) {
        const ForkPlacement& place = all.fork_placements[placement];
        CAPTURE(place.description);
        CHECK(place.steps_before == std::vector<std::size_t>{placement});
        REQUIRE(place.outcomes.size() == 1);
        CHECK(place.outcomes.begin()->first ==
              (placement == 2 || placement == 3 ? "deadlocked(orphaned_lock)" : "completed"));
    }
    CHECK_THAT(describe_exploration(all), Catch::Contains("(every schedule)"));
}

TEST_CASE("explore: lock-cycle's threads reach the cycle in some schedules, complete in others",
          "[explore][engine]") {
    const RunRequest request = natural_request("lock-cycle", "opposite_order");
    ExploreOptions options;
    options.preemption_bound = 1;
    const ExploreResult result = explore_schedules(request, options);
    REQUIRE(result.complete);
    REQUIRE(result.outcomes.size() == 2);
    REQUIRE(result.outcomes.count("completed"));
    REQUIRE(result.outcomes.count("deadlocked(cycle)"));
    CHECK(result.fork_placements.empty()); // no fork in this one
    // The cycle needs both first locks taken before either second: a and b each lock once
    // before either locks twice.
    const Schedule& cycle = result.outcomes.at("deadlocked(cycle)").shortest;
    int locks_by_a = 0, locks_by_b = 0;
    for (const auto& step : cycle.steps) {
        locks_by_a += step.thread == "a" && step.kind == EventKind::lock_wait;
        locks_by_b += step.thread == "b" && step.kind == EventKind::lock_wait;
    }
    CHECK(locks_by_a == 2);
    CHECK(locks_by_b == 2);
    replays_to(request, cycle, VerdictKind::deadlocked, DeadlockReason::cycle);
}

TEST_CASE("explore: a thread that runs between scheduling points is named, and no fact is "
          "claimed from its runs",
          "[explore][engine]") {
    // glibc-calls-at-fork's busy thread calls getpwnam in a loop with no probe in it: after its
    // start it never stops again, and where it is inside glibc at the fork is the machine's
    // timing (measured: 2 schedules, busy named, 2026-12-06).
    const Scenario* scenario = ScenarioRegistry::instance().find("glibc-calls-at-fork");
    REQUIRE(scenario);
    RunRequest request = make_request(*scenario, "getpwnam_fork", {});
    request.timeout_seconds = 30;
    ExploreOptions options;
    options.preemption_bound = 1;
    const ExploreResult result = explore_schedules(request, options);
    INFO(describe_exploration(result));
    CHECK(result.unsettled.count("busy") == 1);
    CHECK_THAT(describe_exploration(result),
               Catch::Matchers::Contains("busy kept running between two scheduling points"));
    ExploredFact fact;
    fact.placements = result.fork_placements.size();
    fact.hanging = fact.placements;
    fact.reason = DeadlockReason::no_waker;
    CHECK_THAT(explored_mismatch(result, fact),
               Catch::Matchers::Contains("busy ran between scheduling points"));

    // A schedule keeps the names through its JSON.
    Schedule schedule;
    schedule.unsettled = {"busy"};
    CHECK(schedule_from_json(schedule_to_json(schedule)).unsettled == schedule.unsettled);
}
