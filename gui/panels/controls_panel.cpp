// Index of this file:
// [SECTION] knobs
// [SECTION] variant presets and limits
// [SECTION] progress of a run
#include "gui/panels/controls_panel.hpp"

#include "gui/widgets.hpp"
#include "sim/run/matrix.hpp"
#include "sim/run/output_capture.hpp"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace forklore::gui {

namespace {

const ImVec4 kPassColour{0.35f, 0.75f, 0.40f, 1.0f};
const ImVec4 kFailColour{0.90f, 0.30f, 0.30f, 1.0f};

// [SECTION] knobs ----------------------------------------------------------------------------

// Places the next item on the same line when `width` still fits, on a new line otherwise, so a
// scenario with many knobs wraps instead of running off the strip.
void same_line_if_fits(float width, bool first) {
    if (first)
        return;
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    const float spacing = ImGui::GetStyle().ItemSpacing.x * 3;
    if (ImGui::GetItemRectMax().x + spacing + width < right)
        ImGui::SameLine(0, spacing);
}

// One knob as the widget its type calls for. Returns true when the value changed.
bool draw_knob(const Knob& knob, std::string& value) {
    bool changed = false;
    ImGui::PushID(knob.name.c_str());
    ImGui::BeginGroup();
    switch (knob.type) {
    case KnobType::choice: {
        ImGui::AlignTextToFramePadding();
        ImGui::TextUnformatted(knob.name.c_str());
        ImGui::SameLine();
        float width = 0;
        for (const auto& choice : knob.choices)
            width = std::max(width, ImGui::CalcTextSize(choice.c_str()).x);
        ImGui::SetNextItemWidth(width + ImGui::GetFrameHeight() +
                                ImGui::GetStyle().FramePadding.x * 2);
        if (ImGui::BeginCombo("##choice", value.c_str())) {
            for (const auto& choice : knob.choices) {
                if (ImGui::Selectable(choice.c_str(), choice == value)) {
                    changed = choice != value;
                    value = choice;
                }
            }
            ImGui::EndCombo();
        }
        break;
    }
    case KnobType::flag: {
        bool on = value == "on";
        if (ImGui::Checkbox(knob.name.c_str(), &on)) {
            value = on ? "on" : "off";
            changed = true;
        }
        break;
    }
    case KnobType::integer: {
        ImGui::AlignTextToFramePadding();
        ImGui::TextUnformatted(knob.name.c_str());
        ImGui::SameLine();
        long parsed = 0;
        std::from_chars(value.data(), value.data() + value.size(), parsed);
        int number = static_cast<int>(std::clamp(parsed, knob.min, knob.max));
        ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
        if (ImGui::InputInt("##integer", &number)) {
            number = static_cast<int>(std::clamp<long>(number, knob.min, knob.max));
            std::string text = std::to_string(number);
            changed = text != value;
            value = text;
        }
        break;
    }
    }
    help_marker(knob.help.empty() ? knob.name.c_str() : knob.help.c_str());
    ImGui::EndGroup();
    ImGui::PopID();
    return changed;
}

float knob_width(const Knob& knob) {
    float width = ImGui::CalcTextSize(knob.name.c_str()).x + ImGui::GetFontSize() * 2;
    if (knob.type == KnobType::choice) {
        for (const auto& choice : knob.choices)
            width = std::max(width, ImGui::CalcTextSize(knob.name.c_str()).x +
                                        ImGui::CalcTextSize(choice.c_str()).x +
                                        ImGui::GetFontSize() * 4);
    } else if (knob.type == KnobType::integer) {
        width += ImGui::GetFontSize() * 8;
    } else {
        width += ImGui::GetFrameHeight();
    }
    return width;
}

// [SECTION] variant presets and limits -------------------------------------------------------

void draw_variant_presets(RunConfig& config, const Scenario& scenario, const RecordView& view) {
    const std::string matching = config.matching_variant(scenario);
    const std::string recorded = recorded_variant(config, view);
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("variant");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12);
    const std::string preview = !matching.empty()   ? matching
                                : !recorded.empty() ? recorded + " (own knobs)"
                                                    : std::string("custom");
    if (ImGui::BeginCombo("##variant", preview.c_str())) {
        for (const auto& variant : scenario.variants) {
            if (ImGui::Selectable(variant.name.c_str(), variant.name == matching))
                config.choose_variant(scenario, variant.name);
            if (ImGui::IsItemHovered())
                ImGui::SetTooltip("%s\nexpected: %s", variant.summary.c_str(),
                                  variant.expected.describe().c_str());
        }
        ImGui::EndCombo();
    }
    ImGui::SameLine();
    if (const Variant* variant = scenario.find_variant(matching))
        ImGui::TextDisabled("%s", variant->summary.c_str());
    else if (!recorded.empty())
        ImGui::TextDisabled("the record on screen ran variant '%s' with knob values of its own",
                            recorded.c_str());
    else
        ImGui::TextDisabled("custom knobs: your own configuration, with no expected outcome");
}

// "expected: X" beside "actual: Y" for the record on screen (or the repeat summary), with
// whether they agree.
void draw_expected_and_actual(const RunConfig& config, const Scenario& scenario,
                              const RunProgress& progress, const RecordView& view) {
    const Variant* chosen = scenario.find_variant(config.matching_variant(scenario));
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("expected:");
    ImGui::SameLine();
    if (chosen)
        ImGui::TextUnformatted(chosen->expected.describe().c_str());
    else if (!recorded_variant(config, view).empty())
        ImGui::TextUnformatted(view.record->expected ? view.record->expected->describe().c_str()
                                                     : "(the record names none)");
    else
        ImGui::TextUnformatted("(custom knobs)");

    const bool repeated =
        progress.scenario == config.scenario && progress.repeat > 1 && progress.completed > 0;
    if (repeated) {
        ImGui::SameLine(0, ImGui::GetFontSize() * 2);
        ImGui::TextDisabled("actual over %d runs:", progress.completed);
        for (const auto& [label, count] : progress.outcome_counts) {
            ImGui::SameLine();
            ImGui::Text("%s %d", label.c_str(), count);
        }
        if (!progress.expected || progress.running)
            return;
        bool agrees = false;
        if (progress.expected->racy)
            agrees = progress.hang_rate() >= progress.expected->min_hang_rate &&
                     progress.hang_rate() <= progress.expected->max_hang_rate;
        else
            agrees = progress.as_expected == progress.completed;
        ImGui::SameLine();
        ImGui::TextColored(agrees ? kPassColour : kFailColour,
                           agrees ? "as expected" : "NOT as expected");
        return;
    }
    const RunRecord* record = view.get();
    if (!record || view.live || record->scenario != config.scenario)
        return;
    ImGui::SameLine(0, ImGui::GetFontSize() * 2);
    ImGui::TextDisabled(record->variant.empty() ? "actual (custom knobs):" : "actual (%s):",
                        record->variant.c_str());
    ImGui::SameLine();
    ImGui::TextColored(verdict_colour(record->verdict.kind), "%s",
                       outcome_label(record->verdict).c_str());
    if (!has_outcome(record->verdict.kind)) {
        // Stopped by the user: nothing was proven, so there is nothing to compare.
        ImGui::SameLine();
        ImGui::TextDisabled("(no outcome: not compared with the expectation)");
        return;
    }
    if (record->expected && !record->expected->racy) {
        const bool agrees = matches(*record->expected, record->verdict);
        ImGui::SameLine();
        ImGui::TextColored(agrees ? kPassColour : kFailColour,
                           agrees ? "as expected" : "NOT as expected");
    }
}

// The output limit: a number of bytes with K, M or G, empty for none. Told in red when it is not
// one (Run then refuses to start).
void draw_max_output(RunConfig& config) {
    ImGui::SameLine(0, ImGui::GetFontSize());
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("max output");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5);
    ImGui::InputTextWithHint("##max-output", "none", &config.max_output);
    help_marker("Bytes of stdout + stderr after which the run is stopped and ends as 'limit': "
                "4096, 512K, 1M or 2G. Empty or 0: no limit. Without a limit output never stops "
                "a program: the first and last 512 KiB of each stream are kept and the bytes "
                "dropped in between are counted (see the Output panel). Same as "
                "'forklore run --max-output BYTES'.");
    if (!config.max_output.empty() && !parse_byte_size(config.max_output)) {
        ImGui::SameLine();
        ImGui::TextColored(kFailColour, "not a number of bytes");
    }
}

} // namespace

// [SECTION] progress of a run ----------------------------------------------------------------

std::string recorded_variant(const RunConfig& config, const RecordView& view) {
    const RunRecord* record = view.get();
    if (!record || view.live || record->variant.empty() || record->scenario != config.scenario ||
        record->knobs != config.knobs)
        return {};
    const Scenario* scenario = config.find();
    if (!scenario || !scenario->find_variant(record->variant) ||
        !config.matching_variant(*scenario).empty())
        return {};
    return record->variant;
}

std::string describe_progress(const RunProgress& progress) {
    if (!progress.error.empty())
        return progress.error;
    if (progress.repeat == 0)
        return "Not run yet.";
    std::string text;
    if (progress.running) {
        text = progress.repeat > 1
                   ? fmt::format("run {} of {}, running for {:.0f} ms", progress.completed + 1,
                                 progress.repeat, progress.elapsed_ms)
                   : fmt::format("running for {:.0f} ms", progress.elapsed_ms);
    } else if (progress.repeat > 1) {
        text = fmt::format("{} of {} runs done", progress.completed, progress.repeat);
        if (progress.stopped_after_ms > 0)
            text += fmt::format(" (then stopped by the user after {:.1f} s: that run has no "
                                "outcome and is not counted)",
                                progress.stopped_after_ms / 1000);
        else if (progress.stopped)
            text += " (stopped)";
    } else if (progress.stopped_after_ms > 0) {
        text = fmt::format("stopped by the user after {:.1f} s: no verdict",
                           progress.stopped_after_ms / 1000);
    } else {
        text = progress.stopped ? "stopped" : "done";
        if (progress.completed)
            text += fmt::format(", verdict in {:.0f} ms", progress.mean_verdict_ms);
    }
    if (progress.repeat > 1 && progress.completed > 0) {
        text += fmt::format(" | hang rate {:.0f}% ({} of {}) [{:.0f}%, {:.0f}%] (95% Wilson)",
                            progress.hang_rate() * 100, progress.hangs, progress.completed,
                            progress.hang_rate_interval.low * 100,
                            progress.hang_rate_interval.high * 100);
        text += fmt::format(" | mean verdict {:.0f} ms", progress.mean_verdict_ms);
    }
    return text;
}

void draw_controls_panel(ControlsPanelState& state, RunConfig& config, const RunProgress& progress,
                         const RecordView& view) {
    state.request = ControlsPanelState::Request::none;
    const Scenario* scenario = config.find();
    ImGui::TextUnformatted("Run");
    help_marker("Turn the knobs of the chosen scenario, or pick a variant preset (a named set of "
                "knob values with the outcome it is expected to have; editing a knob makes it "
                "'custom'). Run starts the scenario for real in a sandbox; the panels update while "
                "it runs. Repeat N runs it N times and counts the outcomes: the hang rate comes "
                "with its 95% Wilson interval. Stop kills the sandbox. After a run, the expected "
                "outcome of the variant is shown beside the actual one.");
    if (!scenario) {
        ImGui::SameLine();
        ImGui::TextDisabled("Choose a scenario on the left.");
        return;
    }
    ImGui::SameLine();
    ImGui::Text("%03d %s: %s", scenario->number, scenario->id.c_str(), scenario->title.c_str());

    draw_variant_presets(config, *scenario, view);

    bool first = true;
    bool edited = false;
    for (const auto& knob : scenario->knobs) {
        same_line_if_fits(knob_width(knob), first);
        first = false;
        edited |= draw_knob(knob, config.knobs[knob.name]);
    }
    // A knob edited back to a preset's values is that preset again (with its expectation).
    if (edited) {
        if (std::string matching = config.matching_variant(*scenario); !matching.empty())
            config.variant = matching;
    }

    const bool running = progress.running;
    ImGui::BeginDisabled(running);
    if (ImGui::Button("Run"))
        state.request = ControlsPanelState::Request::run;
    ImGui::SameLine();
    if (ImGui::Button("Repeat"))
        state.request = ControlsPanelState::Request::repeat;
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    ImGui::InputInt("##repeat", &config.repeat);
    config.repeat = std::clamp(config.repeat, 1, 10000);
    draw_max_output(config);
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::BeginDisabled(!running);
    if (ImGui::Button("Stop"))
        state.request = ControlsPanelState::Request::stop;
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (progress.scenario == config.scenario || running) {
        const std::string status = describe_progress(progress);
        if (!progress.error.empty())
            ImGui::TextColored(kFailColour, "%s", status.c_str());
        else
            ImGui::TextUnformatted(status.c_str());
    } else if (!state.view_origin.empty()) {
        ImGui::TextDisabled("%s", state.view_origin.c_str());
    } else {
        ImGui::TextDisabled("Not run yet.");
    }

    draw_expected_and_actual(config, *scenario, progress, view);
}

} // namespace forklore::gui
