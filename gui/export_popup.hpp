// Export, next to Save: the record on screen as an SVG timeline (a slide), a Chrome trace
// (ui.perfetto.dev, chrome://tracing) or a Markdown report (a handout). The formats are the
// engine's (sim/export); the GUI only asks where to write them.
#pragma once

#include "gui/app.hpp"
#include "sim/export/export.hpp"

#include <string>

namespace forklore::gui {

// Writes the record on screen in `format` to `path` (whole or not at all, as Save writes), and
// says how it went in app.file_message. False when no finished record is on screen or the file
// cannot be written.
bool export_view(App& app, ExportFormat format, const std::string& path);

// The Export button and its popup: for each format a path (beside the record file by default:
// run.json -> run.svg, run.trace.json, run.md) and a button that writes it.
void draw_export_button(App& app);

} // namespace forklore::gui
