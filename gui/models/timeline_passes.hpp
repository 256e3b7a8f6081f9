// The passes of build_timeline_model that run over the finished lanes, one file each. Internal to
// the timeline model (gui/models/timeline_*.cpp); panels use timeline_model.hpp.
#pragma once

#include "gui/models/timeline_model.hpp"

namespace forklore::gui {

// The fork pass (timeline_fork_copies.cpp): for every child made by copying its parent's memory,
// the locks the parent's threads held at that instant go onto the start arrow and, as copy
// bands, onto the child's first lane. Needs the lanes' hold bands and the start arrows.
void add_fork_copies(TimelineModel& model, const RunRecord& record);

// The default view's span (timeline_story_span.cpp): model.story_start_ns .. story_end_ns.
void frame_story(TimelineModel& model, const RunRecord& record);

} // namespace forklore::gui
