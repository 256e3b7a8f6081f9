#include "gui/models/step_control.hpp"

#include <fmt/format.h>

namespace forklore::gui {

namespace {

bool is_lock_operation(EventKind kind) {
    switch (kind) {
    case EventKind::lock_wait:
    case EventKind::lock_released:
    case EventKind::file_lock_wait:
    case EventKind::file_lock_released:
        return true;
    default:
        return false;
    }
}

} // namespace

Scheduler StepControl::scheduler(std::vector<ScheduleStep> prefix) {
    std::weak_ptr<StepControl> weak = weak_from_this();
    return [weak, prefix = std::move(prefix)](const StepState& state) {
        const auto self = weak.lock();
        if (!self)
            return StepChoice::run_free(); // the GUI let go of this run
        return self->answer(state, prefix);
    };
}

StepChoice StepControl::answer(const StepState& state, const std::vector<ScheduleStep>& prefix) {
    std::lock_guard<std::mutex> guard(mutex_);
    if (state.steps_taken == 0) { // a new run
        chosen_.clear();
        diverged_.clear();
    }
    auto grant = [&](const StepView& view) {
        chosen_.push_back(step_of(view, state.partial));
        prompt_.reset();
        return StepChoice::grant(view.slot);
    };
    if (state.steps_taken < prefix.size()) {
        const ScheduleStep& wanted = prefix[state.steps_taken];
        for (std::size_t index : state.runnable) {
            const StepView& view = state.slots[index];
            if (view.pid == wanted.pid && view.tid == wanted.tid && view.kind == wanted.kind)
                return grant(view);
        }
        if (!patience_.give_up(state))
            return StepChoice::later();
        diverged_ = fmt::format("step {}: {} was not waiting to do that again",
                                state.steps_taken + 1, describe_step(wanted));
        // Stop replaying: the student goes on from here.
    }
    if (running_to_lock_) {
        const int slot = *running_to_lock_;
        for (std::size_t index : state.runnable) {
            const StepView& view = state.slots[index];
            if (view.slot != slot)
                continue;
            if (first_of_run_ || !is_lock_operation(view.kind)) {
                first_of_run_ = false;
                return grant(view);
            }
        }
        running_to_lock_.reset(); // about to lock or unlock, blocked, or gone: the student's turn
    }
    if (pending_free_) {
        pending_free_ = false;
        prompt_.reset();
        return StepChoice::run_free();
    }
    if (pending_slot_) {
        const int slot = *pending_slot_;
        pending_slot_.reset();
        for (std::size_t index : state.runnable)
            if (state.slots[index].slot == slot)
                return grant(state.slots[index]);
    }
    StepPrompt prompt;
    prompt.step = state.steps_taken + 1;
    for (std::size_t index : state.runnable)
        prompt.waiting.push_back(
            {state.slots[index].slot, step_of(state.slots[index], state.partial)});
    for (const auto& view : state.slots)
        if (!view.waiting) {
            ScheduleStep who;
            who.pid = view.pid;
            who.tid = view.tid;
            who.thread = view.thread;
            prompt.others.push_back(
                {who, view.left ? "gone" : "blocked in the kernel, or running"});
        }
    prompt_ = std::move(prompt);
    return StepChoice::later();
}

std::optional<StepPrompt> StepControl::prompt() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return prompt_;
}

std::vector<ScheduleStep> StepControl::chosen() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return chosen_;
}

std::string StepControl::diverged() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return diverged_;
}

void StepControl::choose(int slot) {
    std::lock_guard<std::mutex> guard(mutex_);
    pending_slot_ = slot;
    prompt_.reset(); // answered: the panel waits for the next prompt
}

void StepControl::run_to_next_lock(int slot) {
    std::lock_guard<std::mutex> guard(mutex_);
    running_to_lock_ = slot;
    first_of_run_ = true;
    prompt_.reset();
}

void StepControl::run_free() {
    std::lock_guard<std::mutex> guard(mutex_);
    pending_free_ = true;
    prompt_.reset();
}

} // namespace forklore::gui
