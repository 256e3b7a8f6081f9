// The Process tree tab: the run's processes as boxes, parent to child left to right, each edge
// labelled by how the child was made, each box coloured by the process's state at the end of
// the run, the verdict's culprit outlined. A click selects the process in every panel.
#pragma once

#include "gui/models/process_tree_model.hpp"
#include "gui/record_view.hpp"

#include <imgui.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace forklore::gui {

// Where a node's box was drawn in the last frame (screen coordinates).
struct DrawnProcessNode {
    std::size_t node = 0; // index into model.nodes
    ImVec2 min, max;
};

struct ProcessTreePanelState {
    // The model, built once per record generation.
    ModelKey built_from;
    ProcessTreeModel model;
    std::vector<DrawnProcessNode> drawn_nodes;
    // The sandbox's host and reaper: hidden unless the user ticks the toggle.
    bool show_infrastructure = false;
};

void draw_process_tree_panel(ProcessTreePanelState& state, const RecordView& view,
                             Selection& selection);

} // namespace forklore::gui
