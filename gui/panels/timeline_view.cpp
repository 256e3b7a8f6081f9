// The Timeline tab's model and view (timeline_view.hpp).
#include "gui/panels/timeline_view.hpp"

#include "gui/panels/timeline_drawing.hpp"
#include "sim/timeline/infrastructure.hpp"

#include <imgui.h>

#include <algorithm>
#include <chrono>

namespace forklore::gui::timeline_view {

using namespace timeline_drawing;

constexpr double kMinNsPerPx = 0.05; // a few pixels per nanosecond: the clock's resolution
constexpr double kLiveRebuildSeconds = 0.2;

void layout(TimelinePanelState& state) {
    const TimelineModel& model = state.model;
    state.lane_top.assign(model.lanes.size(), 0);
    state.group_top.assign(model.groups.size(), 0);
    float y = 0;
    for (std::size_t g = 0; g < model.groups.size(); ++g) {
        state.group_top[g] = y;
        y += header_height();
        const TimelineGroup& group = model.groups[g];
        for (std::size_t l = group.first_lane; l < group.first_lane + group.lane_count; ++l) {
            state.lane_top[l] = y;
            y += lane_height(model.lanes[l]);
        }
    }
    state.content_height = y;
}

void rebuild_if_needed(TimelinePanelState& state, const RecordView& view) {
    const RunRecord& record = *view.get();
    const double now = ImGui::GetTime();
    const int options = state.show_infrastructure ? 1 : 0;
    if (state.built_from.matches(view, options))
        return;
    const bool filter_changed = state.built_from.built() && state.built_from.options() != options;
    // A live record changes after every sample; analysing 100k events each time would stall
    // the frames, so a live view is refreshed a few times a second.
    if (state.built_from.built() && view.live && !filter_changed &&
        state.run_start_ns == record.start_time_ns && now - state.built_at < kLiveRebuildSeconds)
        return;
    const auto started = std::chrono::steady_clock::now();
    state.model = build_timeline_model(record);
    state.infrastructure_groups = infrastructure_groups(state.model);
    if (!state.show_infrastructure)
        state.model = without_infrastructure(state.model);
    state.build_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    if (!state.built_from.built() || state.run_start_ns != record.start_time_ns) {
        state.user_moved = false; // a new run: show all of it
        state.ns_per_px = 0;
    }
    state.built_from.remember(view, options);
    state.run_start_ns = record.start_time_ns;
    state.built_at = now;
    layout(state);
}

static double max_ns_per_px(const TimelinePanelState& state, float plot_width) {
    return std::max(1.0, static_cast<double>(state.model.end_ns)) * 4 / plot_width;
}

void fit(TimelinePanelState& state, float plot_width) {
    const TimelineModel& model = state.model;
    const double span =
        std::max(1.0, static_cast<double>(model.story_end_ns - model.story_start_ns));
    state.ns_per_px = span * 1.12 / plot_width;
    state.view_start_ns = static_cast<double>(model.story_start_ns) - span * 0.04;
}

void show_whole_run(TimelinePanelState& state, float plot_width) {
    state.ns_per_px = std::max(1.0, static_cast<double>(state.model.end_ns)) * 1.02 / plot_width;
    state.view_start_ns = 0;
    state.user_moved = true;
}

void clamp_view(TimelinePanelState& state, float plot_width) {
    state.ns_per_px = std::clamp(state.ns_per_px, kMinNsPerPx, max_ns_per_px(state, plot_width));
    const double visible = state.ns_per_px * plot_width;
    state.view_start_ns =
        std::clamp(state.view_start_ns, -visible / 2,
                   std::max(0.0, static_cast<double>(state.model.end_ns) - visible / 2));
}

void zoom_at(TimelinePanelState& state, float plot_width, float anchor_px, double factor) {
    const double anchor_ns = state.view_start_ns + anchor_px * state.ns_per_px;
    state.ns_per_px *= factor;
    clamp_view(state, plot_width);
    state.view_start_ns = anchor_ns - anchor_px * state.ns_per_px;
    clamp_view(state, plot_width);
    state.user_moved = true;
}

} // namespace forklore::gui::timeline_view
