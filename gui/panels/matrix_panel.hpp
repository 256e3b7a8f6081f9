// The Matrix tab: the corpus run as a scenario x variant grid, each cell coloured by the verdict
// it ended with, expected versus actual, pass or fail, hang rates for racy variants. A click on a
// finished cell opens its last run in the other panels.
#pragma once

#include "gui/matrix_session.hpp"
#include "gui/record_view.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace forklore::gui {

struct MatrixPanelState {
    std::string filter = "*";  // glob on "scenario:variant" or the scenario id
    int repeat = 1;            // runs of each deterministic variant
    bool all_variants = false; // racy and slow variants too (as `forklore matrix --all`)
    bool include_hidden = false;
    SkippedVariants skipped; // what the last start left out as racy or slow
    MatrixSession session;

    // The session's cells as of `version_seen`, regrouped into rows (one per scenario).
    std::vector<MatrixEntry> entries;
    std::vector<std::vector<std::size_t>> rows; // indices into entries
    std::uint64_t version_seen = ~std::uint64_t{0};
    std::string opened; // "scenario:variant" of the cell last clicked
    std::string error;  // the matrix could not start (one line)

    // Set for one frame when the user clicks a finished cell: the app shows this record.
    std::optional<RecordView> open_request;

    // The last frame's grid, in screen pixels: how many cells were drawn and the right edge of
    // the rightmost one, beside the right edge of the panel's visible area (for the tests).
    std::size_t cells_drawn = 0;
    float cells_right = 0, area_right = 0;
};

// "completed", "deadlocked(orphaned_lock) 2, completed 1", "hang 40% [25%, 57%]". Exposed for
// the tests.
std::string describe_cell_actual(const MatrixCell& cell);
// "  !" when a run of the cell showed a hazard that did not bite (Verdict::warnings), else "".
std::string cell_warning_mark(const MatrixEntry& entry);

void draw_matrix_panel(MatrixPanelState& state, const RecordView& view, Selection& selection);

} // namespace forklore::gui
