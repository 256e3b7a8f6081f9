// A stepped run's side of the runner (stepping.hpp) and the schedulers anyone can use
// (scheduler.hpp): replaying a schedule, playing threads by name.
//
// When is a step over? The thread let go runs up to its next scheduling point, but what it did
// on the way may have started others: a thread it created runs to its own first point, a child
// it forked to its first, and a lock it released wakes a thread blocked in the kernel, which
// takes the lock and runs to its next point. So the runner waits until, for two samples in a row,
// no thread of the sandbox is running (each is stopped at a point, blocked in the kernel, or
// gone), and until the thread let go has woken up for its turn: between the grant and the moment
// the kernel runs it, it still sleeps on the board, as a thread blocked in the kernel would. A
// thread that never stops running (a spinner) holds the scheduler up for kSettleBoundNs at most.
#include "sim/run/stepping.hpp"

#include "sim/record/record.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

namespace forklore {

namespace {

constexpr std::int64_t kSettleBoundNs = 300'000'000;

const StepView* view_of_slot(const std::vector<StepView>& views, int slot) {
    for (const auto& view : views)
        if (view.slot == slot)
            return &view;
    return nullptr;
}

} // namespace

ScheduleStep step_of(const StepView& view, const RunRecord& partial) {
    ScheduleStep step;
    step.pid = view.pid;
    step.tid = view.tid;
    step.thread = view.thread;
    step.kind = view.kind;
    step.object = view.name;
    if (auto file = partial.source_files.find(view.file); file != partial.source_files.end())
        step.file = file->second;
    step.line = view.line;
    return step;
}

bool ReplayPatience::give_up(const StepState& state) {
    if (state.partial.start_time_ns != run_ || state.steps_taken != step_) {
        run_ = state.partial.start_time_ns;
        step_ = state.steps_taken;
        tries_ = 0;
    }
    return ++tries_ > kTries;
}

Scheduler replay_schedule(Schedule schedule) {
    // The index is the run's count of steps taken, and the patience starts afresh with each
    // run: the same scheduler replays the schedule again in every run it is given (--repeat).
    auto steps = std::make_shared<const std::vector<ScheduleStep>>(std::move(schedule.steps));
    auto patience = std::make_shared<ReplayPatience>();
    return [steps, patience](const StepState& state) {
        const std::size_t next = state.steps_taken;
        if (next >= steps->size())
            return StepChoice::run_free();
        const ScheduleStep& wanted = (*steps)[next];
        for (std::size_t index : state.runnable) {
            const StepView& view = state.slots[index];
            if (view.pid != wanted.pid || view.tid != wanted.tid)
                continue;
            if ((view.kind != wanted.kind || view.line != wanted.line) &&
                patience->give_up(state)) {
                ScheduleStep found = step_of(view, state.partial);
                return StepChoice::run_free(
                    fmt::format("step {}: the schedule lets go {}, but that thread is about to "
                                "do {} instead",
                                next + 1, describe_step(wanted), describe_step(found)));
            }
            if (view.kind != wanted.kind || view.line != wanted.line)
                return StepChoice::later();
            return StepChoice::grant(view.slot);
        }
        if (!patience->give_up(state))
            return StepChoice::later();
        return StepChoice::run_free(fmt::format(
            "step {}: the schedule lets go {}, but that thread is not waiting for a turn", next + 1,
            describe_step(wanted)));
    };
}

bool play_token_matches(std::string_view token, std::string_view thread, pid_t pid) {
    const auto at = token.rfind('@');
    if (at == std::string_view::npos)
        return token == thread;
    return token.substr(0, at) == thread && token.substr(at + 1) == std::to_string(pid);
}

Scheduler play_threads(std::vector<std::string> threads) {
    auto names = std::make_shared<const std::vector<std::string>>(std::move(threads));
    auto patience = std::make_shared<ReplayPatience>();
    return [names, patience](const StepState& state) {
        if (state.runnable.empty())
            return StepChoice::later();
        const std::size_t next = state.steps_taken;
        if (next >= names->size()) // then whoever came first, as a student clicking down the list
            return StepChoice::grant(state.slots[state.runnable.front()].slot);
        for (std::size_t index : state.runnable)
            if (play_token_matches((*names)[next], state.slots[index].thread,
                                   state.slots[index].pid))
                return StepChoice::grant(state.slots[index].slot);
        if (!patience->give_up(state))
            return StepChoice::later();
        return StepChoice::run_free(fmt::format(
            "step {}: the play lets go thread '{}', but no thread of that name waits for a turn",
            next + 1, (*names)[next]));
    };
}

namespace runner {

Stepper::Stepper(ScheduleBoard board, Scheduler scheduler)
    : board_(std::move(board)), scheduler_(std::move(scheduler)) {}

void Stepper::excuse_waits_for_turn(Snapshot& snapshot) const {
    if (!active())
        return;
    const std::vector<StepView> views = board_.slots();
    for (auto& process : snapshot.processes) {
        if (process.infrastructure)
            continue;
        for (auto& thread : process.threads)
            for (const auto& view : views)
                if (view.pid == process.ns_pid && view.tid == thread.ns_tid &&
                    (view.waiting || !view.awake)) {
                    thread.wait = WaitKind::other;
                    thread.untimed = false;
                }
    }
}

bool Stepper::settled(const Snapshot& snapshot, const std::vector<StepView>& views,
                      std::int64_t now_ns) {
    bool running = false;
    for (const auto& process : snapshot.processes)
        if (!process.infrastructure)
            for (const auto& thread : process.threads)
                // 'D' (uninterruptible: a page fault, a disk read) is always short: the thread
                // is on its way, not blocked for good.
                running = running || thread.state == 'R' || thread.state == 'D';
    quiet_samples_ = running ? 0 : quiet_samples_ + 1;
    const bool bound_passed = now_ns - last_grant_ns_ >= kSettleBoundNs;
    if (bound_passed && running)
        for (const auto& process : snapshot.processes)
            if (!process.infrastructure)
                for (const auto& thread : process.threads)
                    if ((thread.state == 'R' || thread.state == 'D') &&
                        std::find(schedule_.unsettled.begin(), schedule_.unsettled.end(),
                                  thread.name) == schedule_.unsettled.end())
                        schedule_.unsettled.push_back(thread.name);
    if (in_flight_) {
        const StepView* view = view_of_slot(views, *in_flight_);
        const bool over =
            !view || view->waiting || view->left || (view->awake && quiet_samples_ >= 2);
        if (!over && !bound_passed)
            return false;
        in_flight_.reset();
    }
    return quiet_samples_ >= 2 || bound_passed;
}

void Stepper::after_sample(const Snapshot& snapshot, const RunRecord& partial,
                           std::int64_t now_ns) {
    if (!active() || free_ || !scheduler_)
        return;
    if (last_grant_ns_ == 0)
        last_grant_ns_ = now_ns;
    const std::vector<StepView> views = board_.slots();
    if (!settled(snapshot, views, now_ns))
        return;
    StepState state{views, {}, partial, schedule_.steps.size()};
    for (std::size_t i = 0; i < views.size(); ++i)
        if (views[i].waiting)
            state.runnable.push_back(i);
    if (state.runnable.empty())
        return; // everyone blocked, asleep or gone: the sandbox goes on (or the detector proves)
    StepChoice choice = scheduler_(state);
    switch (choice.kind) {
    case StepChoice::Kind::later:
        return;
    case StepChoice::Kind::run_free:
        release();
        schedule_.ran_free = true;
        schedule_.diverged = std::move(choice.reason);
        return;
    case StepChoice::Kind::grant: {
        const StepView* view = view_of_slot(views, choice.slot);
        if (!view || !view->waiting || !board_.grant(choice.slot)) {
            release();
            schedule_.ran_free = true;
            schedule_.diverged = fmt::format("step {}: the scheduler chose board slot {}, which "
                                             "was not waiting for a turn",
                                             schedule_.steps.size() + 1, choice.slot);
            return;
        }
        schedule_.steps.push_back(step_of(*view, partial));
        in_flight_ = choice.slot;
        last_grant_ns_ = now_ns;
        quiet_samples_ = 0;
        return;
    }
    }
}

void Stepper::release() {
    if (!active() || free_)
        return;
    board_.release_all();
    free_ = true;
}

} // namespace runner
} // namespace forklore
