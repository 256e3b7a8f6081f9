// The Output panel (bottom): what the run wrote — the whole stdout and stderr the sandbox
// captured, each process's own output — and the event log, a filterable table of every event.
#pragma once

#include "gui/models/event_log_model.hpp"
#include "gui/record_view.hpp"

#include <sys/types.h>

#include <cstddef>
#include <optional>

namespace forklore::gui {

struct OutputPanelState {
    EventFilter filter;   // the event log's filter (text box, kind checkboxes, process)
    EventLogModel log;    // rebuilt only when the record's generation or the filter changes
    pid_t output_pid = 0; // the process whose output the "Per process" tab shows; 0: the first
                          // one that wrote something
    // The selected event when the log was last drawn: when another panel selects an event, the
    // log scrolls to it once.
    std::optional<std::size_t> shown_event;
};

void draw_output_panel(OutputPanelState& state, const RecordView& view, Selection& selection);

} // namespace forklore::gui
