// Stepped runs of a real scenario (sim/run/scheduler.hpp): the test is the scheduler. It steps
// file-read-under-lock with nothing forcing the order (timing=natural) by hand, thread by thread,
// into the orphaned-lock hang (the reader takes the lock, then the main thread forks) and, with
// another schedule, to completion with the reader thread still alive at the fork (it let the lock
// go first). Each schedule the record keeps is then replayed 20 times in fresh sandboxes: the
// same verdict every time, and the same steps.
//
// Measured outside these tests first (forklore run file-read-under-lock --set timing=natural,
// unstepped): 10 of 10 runs completed, the reader reading its 64 KiB before the fork; the hang
// needs a schedule.
#include "sim/record/record.hpp"
#include "sim/run/runner.hpp"
#include "sim/run/scheduler.hpp"
#include "sim/scenario/scenario.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <optional>
#include <string>

using namespace forklore;

namespace {

RunRequest stepped_request(Scheduler scheduler) {
    const Scenario* scenario = ScenarioRegistry::instance().find("file-read-under-lock");
    REQUIRE(scenario);
    RunRequest request =
        make_request(*scenario, "", {{"start_method", "fork"}, {"timing", "natural"}});
    request.timeout_seconds = 30; // a bound: a stepped run is proven or complete long before
    request.scheduler = std::move(scheduler);
    return request;
}

// The first runnable thread that `wanted` accepts, if any.
std::optional<int> first_runnable(const StepState& state,
                                  const std::function<bool(const StepView&)>& wanted) {
    for (std::size_t index : state.runnable)
        if (wanted(state.slots[index]))
            return state.slots[index].slot;
    return std::nullopt;
}

bool is_reader(const StepView& view) {
    return view.thread == "reader";
}

// The student's hanging schedule: the reader starts and takes the lock (two steps); from then on
// anyone but the reader goes first: the main thread forks while the reader holds the lock.
StepChoice reader_locks_then_main_forks(const StepState& state) {
    if (state.steps_taken < 2)
        if (auto reader = first_runnable(state, is_reader))
            return StepChoice::grant(*reader);
    if (auto other = first_runnable(state, [](const StepView& v) { return !is_reader(v); }))
        return StepChoice::grant(*other);
    return StepChoice::grant(state.slots[state.runnable.front()].slot);
}

// The safe one: the reader goes whenever it can (takes the lock, reads, lets it go, then waits at
// the 'finished' barrier, alive); only then does the main thread fork.
StepChoice reader_first(const StepState& state) {
    if (auto reader = first_runnable(state, is_reader))
        return StepChoice::grant(*reader);
    return StepChoice::grant(state.slots[state.runnable.front()].slot);
}

// The index of the first step of `thread` doing `kind`, or steps.size().
std::size_t step_index(const Schedule& schedule, const std::string& thread, EventKind kind) {
    for (std::size_t i = 0; i < schedule.steps.size(); ++i)
        if (schedule.steps[i].thread == thread && schedule.steps[i].kind == kind)
            return i;
    return schedule.steps.size();
}

bool same_steps(const Schedule& a, const Schedule& b) {
    if (a.steps.size() != b.steps.size())
        return false;
    for (std::size_t i = 0; i < a.steps.size(); ++i) {
        const ScheduleStep &x = a.steps[i], &y = b.steps[i];
        if (x.pid != y.pid || x.tid != y.tid || x.kind != y.kind || x.line != y.line ||
            x.object != y.object)
            return false;
    }
    return true;
}

// Replays `schedule` 20 times: each run must end as `expected` and follow it step by step.
void replay_twenty_times(const Schedule& schedule, VerdictKind expected) {
    // Through its JSON, as a file would carry it.
    const Schedule carried = schedule_from_json(schedule_to_json(schedule));
    REQUIRE(same_steps(carried, schedule));
    for (int run = 0; run < 20; ++run) {
        CAPTURE(run);
        const RunRecord replay = run_scenario(stepped_request(replay_schedule(carried)));
        INFO(replay.verdict.explanation);
        REQUIRE(replay.verdict.kind == expected);
        REQUIRE(replay.schedule);
        CHECK(replay.schedule->diverged.empty());
        CHECK(same_steps(*replay.schedule, schedule));
    }
}

} // namespace

TEST_CASE("stepped: the main thread forks while the reader holds the lock: the child hangs on "
          "the orphaned lock; its schedule replays to the same hang 20 times",
          "[stepped][engine]") {
    const RunRecord record = run_scenario(stepped_request(reader_locks_then_main_forks));
    INFO(record.verdict.explanation);
    REQUIRE(record.verdict.kind == VerdictKind::deadlocked);
    CHECK(record.verdict.reason == DeadlockReason::orphaned_lock);
    REQUIRE(record.schedule);
    const Schedule& schedule = *record.schedule;
    CHECK(schedule.diverged.empty());
    CHECK_FALSE(schedule.ran_free);
    // The story the steps tell: the reader asked for the lock (and got it) before the fork,
    // and had not let it go; the forked child then asked for its copy.
    const std::size_t lock = step_index(schedule, "reader", EventKind::lock_wait);
    const std::size_t fork = step_index(schedule, "main", EventKind::child_start);
    const std::size_t unlock = step_index(schedule, "reader", EventKind::lock_released);
    REQUIRE(fork < schedule.steps.size());
    CHECK(lock < fork);
    CHECK(fork < unlock);
    CHECK(schedule.steps[fork].object == "read");
    CHECK(schedule.steps[fork].file.find("010_file_read_under_lock.cpp") != std::string::npos);
    CHECK(schedule.steps[fork].line > 0);
    // The child's main thread (a process of its own) took steps: it is the one that waits.
    bool child_asked = false;
    for (std::size_t i = fork + 1; i < schedule.steps.size(); ++i)
        child_asked = child_asked || (schedule.steps[i].pid != schedule.steps[fork].pid &&
                                      schedule.steps[i].kind == EventKind::lock_wait &&
                                      schedule.steps[i].object == "file_lock");
    CHECK(child_asked);
    replay_twenty_times(schedule, VerdictKind::deadlocked);
}

TEST_CASE("stepped: the reader lets the lock go before the fork and stays alive: the child "
          "completes; its schedule replays to completion 20 times",
          "[stepped][engine]") {
    const RunRecord record = run_scenario(stepped_request(reader_first));
    INFO(record.verdict.explanation);
    REQUIRE(record.verdict.kind == VerdictKind::completed);
    REQUIRE(record.schedule);
    const Schedule& schedule = *record.schedule;
    CHECK(schedule.diverged.empty());
    const std::size_t unlock = step_index(schedule, "reader", EventKind::lock_released);
    const std::size_t fork = step_index(schedule, "main", EventKind::child_start);
    const std::size_t reader_exit = step_index(schedule, "reader", EventKind::thread_exit);
    REQUIRE(fork < schedule.steps.size());
    CHECK(unlock < fork);      // the lock was free at the fork ...
    CHECK(fork < reader_exit); // ... and the reader thread was still there
    replay_twenty_times(schedule, VerdictKind::completed);
}

TEST_CASE("stepped: a replay that cannot follow its schedule says where, and runs on free",
          "[stepped][engine]") {
    Schedule wrong;
    ScheduleStep step;
    step.pid = 2;
    step.tid = 2;
    step.thread = "main";
    step.kind = EventKind::exec; // main is never about to exec first
    step.line = 1;
    wrong.steps.push_back(step);
    const RunRecord record = run_scenario(stepped_request(replay_schedule(wrong)));
    REQUIRE(record.schedule);
    CHECK(record.schedule->ran_free);
    CHECK_THAT(record.schedule->diverged, Catch::Contains("step 1"));
    CHECK(record.schedule->steps.empty());
    // Unscheduled from the start, the run is the machine's race (it completes, here, as
    // measured above; either verdict is a real one).
    CHECK((record.verdict.kind == VerdictKind::completed ||
           record.verdict.kind == VerdictKind::deadlocked));
}
