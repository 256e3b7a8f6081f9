// The Locks tab: every lock of the run (one row per copy: fork duplicates them), its owner and
// waiters at the end of the run, ORPHANED when the owner does not exist in the copy's process;
// then the file locks from /proc/locks. A click on a row selects the lock in every panel.
#pragma once

#include "gui/models/lock_table_model.hpp"
#include "gui/record_view.hpp"

#include <imgui.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace forklore::gui {

// Where a row was drawn in the last frame (screen coordinates): what a click there selects.
struct DrawnTableRow {
    std::size_t row = 0; // index into the model's vector (locks or file_locks)
    bool file_lock = false;
    ImVec2 min, max;
};

struct LocksPanelState {
    // The model, built once per record generation.
    ModelKey built_from;
    LockTableModel model;
    std::vector<std::size_t> order; // model.locks in the table's current sort order
    std::vector<DrawnTableRow> drawn_rows;
};

void draw_locks_panel(LocksPanelState& state, const RecordView& view, Selection& selection);

} // namespace forklore::gui
