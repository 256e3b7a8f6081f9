// The Verdict panel (right column): how the run ended and why — the verdict in its colour, the
// expected outcome beside it, the explanation, the stuck set and the threads still running beside
// it (and what was left running), the wait-for graph as boxes and arrows, the stacks of the
// blocked threads, and what the run measured.
#pragma once

#include "gui/models/wait_graph_model.hpp"
#include "gui/record_view.hpp"

#include <imgui.h>

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace forklore::gui {

struct VerdictPanelState {
    // The model, built once per record generation.
    ModelKey built_from;
    WaitGraphModel graph;
    std::vector<Measurement> measurements;
    // The thread selected when the stacks were last drawn: a change (from any panel) opens and
    // shows that thread's stack once, and leaves the user free to fold it again.
    pid_t shown_pid = 0, shown_tid = 0;

    // Where the wait-for graph and its legend were drawn in the last frame (screen pixels), and
    // whether the graph needed a sideways scrollbar: for the tests of the layout.
    bool graph_drawn = false;
    bool graph_scrolls = false;
    ImVec2 graph_min{0, 0}, graph_max{0, 0}; // the graph's box, legend included
};

void draw_verdict_panel(VerdictPanelState& state, const RecordView& view, Selection& selection);

// The one-line verdict: "deadlocked / orphaned_lock", "crashed / SIGABRT", "failed / exit code 3".
std::string verdict_headline(const Verdict& verdict);

// Expected versus actual, when the record says what was expected:
// "expected deadlocked(orphaned_lock) - as expected" / "... - MISMATCH"; a racy expectation is a
// rate over many runs, which one run cannot confirm; a run stopped by the user is not compared.
// Empty text when nothing was expected.
struct ExpectationLine {
    std::string text;
    bool mismatch = false;
};
ExpectationLine expectation_line(const RunRecord& record);

// One line of the stuck and live lists: "process 4 thread 'main' (tid 4): waits on ...".
std::string thread_state_line(const ThreadState& thread);

} // namespace forklore::gui
