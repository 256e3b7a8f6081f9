// The Verdict panel's wait-for graph, drawn with ImDrawList: boxes for threads, locks and
// processes, arrows for "waits for" and "held by", coloured in the house vocabulary, with a
// tooltip and a click that selects on each box. Private to gui/panels/verdict_panel.cpp.
#pragma once

#include "gui/models/wait_graph_model.hpp"
#include "gui/panels/verdict_panel.hpp"
#include "gui/record_view.hpp"

namespace forklore::gui {

// Draws `graph` as tall as the panel allows (it scrolls sideways only when far too narrow), then
// its legend; records where it drew in `state` (graph_min, graph_max, graph_scrolls).
void draw_wait_graph(VerdictPanelState& state, const WaitGraphModel& graph, Selection& selection);

} // namespace forklore::gui
