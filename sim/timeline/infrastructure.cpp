#include "sim/timeline/infrastructure.hpp"

#include <vector>

namespace forklore {

std::size_t infrastructure_groups(const TimelineModel& model) {
    std::size_t count = 0;
    for (const auto& group : model.groups)
        if (is_sandbox_process(group.role))
            ++count;
    return count;
}

TimelineModel without_infrastructure(const TimelineModel& model) {
    // Everything that does not name a lane or a group (the run's end, the framed story, the
    // sampled spans ...) stays as it is; groups, lanes and arrows are renumbered below.
    TimelineModel kept = model;
    kept.groups.clear();
    kept.lanes.clear();
    kept.arrows.clear();

    constexpr std::size_t kHidden = static_cast<std::size_t>(-1);
    std::vector<std::size_t> lane_to(model.lanes.size(), kHidden);
    // Groups come in tree order (a parent, then its subtree at greater depths): the open
    // ancestors of a group are a stack, and its new depth is its depth less the hidden ones.
    struct Ancestor {
        int depth;
        bool hidden;
    };
    std::vector<Ancestor> ancestors;
    for (const TimelineGroup& group : model.groups) {
        while (!ancestors.empty() && ancestors.back().depth >= group.depth)
            ancestors.pop_back();
        int hidden_above = 0;
        for (const auto& ancestor : ancestors)
            hidden_above += ancestor.hidden ? 1 : 0;
        const bool hidden = is_sandbox_process(group.role);
        ancestors.push_back({group.depth, hidden});
        if (hidden)
            continue;

        TimelineGroup copy = group;
        copy.depth = group.depth - hidden_above;
        copy.first_lane = kept.lanes.size();
        const std::size_t group_index = kept.groups.size();
        for (std::size_t l = group.first_lane; l < group.first_lane + group.lane_count; ++l) {
            if (l >= model.lanes.size())
                break; // a malformed model: keep what exists
            lane_to[l] = kept.lanes.size();
            TimelineLane lane = model.lanes[l];
            lane.group = group_index;
            kept.lanes.push_back(std::move(lane));
        }
        copy.lane_count = kept.lanes.size() - copy.first_lane;
        kept.groups.push_back(std::move(copy));
    }
    for (const TimelineArrow& arrow : model.arrows) {
        if (arrow.from_lane >= lane_to.size() || arrow.to_lane >= lane_to.size())
            continue;
        if (lane_to[arrow.from_lane] == kHidden || lane_to[arrow.to_lane] == kHidden)
            continue;
        TimelineArrow copy = arrow;
        copy.from_lane = lane_to[arrow.from_lane];
        copy.to_lane = lane_to[arrow.to_lane];
        kept.arrows.push_back(std::move(copy));
    }
    return kept;
}

} // namespace forklore
