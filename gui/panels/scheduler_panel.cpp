#include "gui/panels/scheduler_panel.hpp"

#include "gui/widgets.hpp"
#include "sim/lesson/challenges.hpp"

#include <imgui.h>

#include <fmt/format.h>

namespace forklore::gui {

namespace {

void draw_challenge_choice(SchedulerPanelState& state, bool running) {
    const auto& list = challenges();
    if (list.empty())
        return;
    state.challenge = std::clamp(state.challenge, 0, static_cast<int>(list.size()) - 1);
    const Challenge& current = list[state.challenge];
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 20);
    if (ImGui::BeginCombo("Challenge", current.title.c_str())) {
        for (int i = 0; i < static_cast<int>(list.size()); ++i)
            if (ImGui::Selectable(fmt::format("{}. {}", i + 1, list[i].title).c_str(),
                                  i == state.challenge))
                state.challenge = i;
        ImGui::EndCombo();
    }
    ImGui::SameLine();
    if (running)
        ImGui::BeginDisabled();
    if (ImGui::Button(state.control ? "Play again" : "Play"))
        state.request = SchedulerPanelState::Request::play;
    if (running)
        ImGui::EndDisabled();
    ImGui::TextDisabled("%s (%s)", current.scenario.c_str(), current.id.c_str());
    wrapped_text("Goal: " + current.goal);
    if (ImGui::TreeNode("Hint")) {
        wrapped_text(current.hint);
        ImGui::TreePop();
    }
}

void draw_prompt(SchedulerPanelState& state, const StepPrompt& prompt) {
    ImGui::Text("Step %zu: who goes next?", prompt.step);
    if (ImGui::BeginTable("##waiting", 5,
                          ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit |
                              ImGuiTableFlags_BordersInnerH)) {
        ImGui::TableSetupColumn("");
        ImGui::TableSetupColumn("");
        ImGui::TableSetupColumn("thread");
        // What a thread is about to do can be a long note: it wraps, so that the line column
        // stays in view at any width.
        ImGui::TableSetupColumn("about to", ImGuiTableColumnFlags_WidthStretch);
        ImGui::TableSetupColumn("line", ImGuiTableColumnFlags_WidthFixed);
        ImGui::TableHeadersRow();
        for (const auto& thread : prompt.waiting) {
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::PushID(thread.slot);
            if (ImGui::SmallButton("Step"))
                state.control->choose(thread.slot);
            ImGui::TableNextColumn();
            if (ImGui::SmallButton("To next lock"))
                state.control->run_to_next_lock(thread.slot);
            if (ImGui::IsItemHovered())
                ImGui::SetTooltip("Steps this thread until it is about to lock or unlock "
                                  "something, blocks, or ends");
            ImGui::PopID();
            ImGui::TableNextColumn();
            ImGui::Text("%s (pid %d, tid %d)", thread.next.thread.c_str(), thread.next.pid,
                        thread.next.tid);
            ImGui::TableNextColumn();
            ImGui::TextWrapped("%s", describe_operation(thread.next).c_str());
            ImGui::TableNextColumn();
            ImGui::TextDisabled("%s", step_location(thread.next).c_str());
        }
        for (const auto& other : prompt.others) {
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::TableNextColumn();
            ImGui::TableNextColumn();
            ImGui::TextDisabled("%s (pid %d, tid %d)", other.who.thread.c_str(), other.who.pid,
                                other.who.tid);
            ImGui::TableNextColumn();
            ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
            ImGui::TextWrapped("%s", other.state.c_str());
            ImGui::PopStyleColor();
            ImGui::TableNextColumn();
        }
        ImGui::EndTable();
    }
    if (ImGui::Button("Let the rest run free"))
        state.control->run_free();
}

void draw_steps_so_far(SchedulerPanelState& state, bool running) {
    const std::vector<ScheduleStep> chosen = state.control->chosen();
    ImGui::Text("Steps so far: %zu", chosen.size());
    ImGui::SameLine();
    if (running || chosen.empty())
        ImGui::BeginDisabled();
    if (ImGui::SmallButton("Undo the last step")) {
        state.replay.assign(chosen.begin(), chosen.end() - 1);
        state.request = SchedulerPanelState::Request::undo;
    }
    if (running || chosen.empty())
        ImGui::EndDisabled();
    if (const std::string diverged = state.control->diverged(); !diverged.empty())
        wrapped_text("The replay could not follow: " + diverged);
    for (std::size_t i = chosen.size(); i-- > 0;) // newest first
        ImGui::TextDisabled("%3zu. %s (pid %d, tid %d): %s  %s", i + 1, chosen[i].thread.c_str(),
                            chosen[i].pid, chosen[i].tid, describe_operation(chosen[i]).c_str(),
                            step_location(chosen[i]).c_str());
}

} // namespace

std::string challenge_outcome(const SchedulerPanelState& state, const RecordView& view) {
    const auto& list = challenges();
    if (!view || view.live || state.challenge < 0 ||
        state.challenge >= static_cast<int>(list.size()))
        return "no finished run";
    return challenge_missed(list[state.challenge], *view.get());
}

void draw_scheduler_panel(SchedulerPanelState& state, const RunProgress& progress,
                          const RecordView& view) {
    const bool running = state.stepping && progress.running;
    draw_challenge_choice(state, running);
    ImGui::Separator();
    if (!state.control) {
        wrapped_text("Press Play: the scenario starts in a fresh sandbox, and every thread stops "
                     "at its first scheduling point. You choose who takes each step.");
        return;
    }
    if (running) {
        if (const auto prompt = state.control->prompt())
            draw_prompt(state, *prompt);
        else
            ImGui::TextDisabled("The threads are taking the step...");
    } else if (state.stepping && view && !view.live) {
        const std::string missed = challenge_outcome(state, view);
        const Challenge& challenge = challenges()[state.challenge];
        if (missed.empty()) {
            ImGui::TextColored(ImVec4(0.3f, 0.8f, 0.3f, 1), "Victory!");
            wrapped_text(challenge.lesson);
        } else {
            ImGui::TextColored(ImVec4(0.9f, 0.6f, 0.2f, 1), "Not yet: %s.", missed.c_str());
            wrapped_text("Undo steps, or play again.");
        }
    }
    ImGui::Separator();
    draw_steps_so_far(state, running);
}

} // namespace forklore::gui
