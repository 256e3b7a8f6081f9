// The Source panel: the code of the scenario on screen, with line numbers, each thread's current
// line marked with its name, the selected event's line highlighted (and scrolled to), and the
// events of a clicked line, any of which can be selected in every panel.
#pragma once

#include "gui/models/source_model.hpp"
#include "gui/record_view.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace forklore::gui {

struct SourcePanelState {
    SourceModel model;
    std::string chosen_file;        // the file the user picked; "" follows the selection
    std::uint32_t clicked_line = 0; // the line whose events are listed under the code
    // The selected event when the panel was last drawn: a selection made in another panel
    // brings its file up.
    std::optional<std::size_t> shown_event;
    // The line last brought into view (SourceModel::focus_line) and its file: the code scrolls
    // to the focus when it moves, once, and never while the user reads elsewhere.
    std::uint32_t scrolled_to = 0;
    std::string scrolled_in;
};

void draw_source_panel(SourcePanelState& state, const RecordView& view, Selection& selection);

// What a click on `line` selects: the first event recorded at it after the selected one, or the
// line's first event (so that clicking again steps through a line run many times). Nothing when
// no event was recorded there.
std::optional<std::size_t> event_for_line_click(const SourceModel& model, std::uint32_t line,
                                                const Selection& selection);

} // namespace forklore::gui
