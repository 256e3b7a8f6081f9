// The wait-for graph's shape, computed after its nodes and edges are built (wait_graph_model.cpp):
// cycles, back edges and the layout in layout units. Private to gui/models/wait_graph_*.cpp.
#pragma once

#include "gui/models/wait_graph_model.hpp"

namespace forklore::gui {

// Sets in_cycle on every node that can reach itself and every edge u -> v where v reaches u, and
// has_cycle on the model.
void mark_cycles(WaitGraphModel& model);
// Sets back on the edges a depth-first walk finds pointing to a node still on its path: without
// them the graph is a DAG that can be layered.
void mark_back_edges(WaitGraphModel& model);
// Gives every node its layer, x and y, and the model its width, height and live_top.
void lay_out(WaitGraphModel& model);

} // namespace forklore::gui
