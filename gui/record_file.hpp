// Run records on disk, for Open and Save: so a class can look at the same run; and the exports
// of the record on screen, for a slide, Perfetto or a handout.
#pragma once

#include "sim/export/export.hpp"
#include "sim/record/record.hpp"

#include <memory>
#include <string>

namespace forklore::gui {

// Reads a run record (versioned JSON) with load_run_record_file: a regular file within the bounds
// of RecordLimits. Never throws: on a missing file, a file of another kind, bad JSON, a JSON that
// is not a run record or one past a bound it returns null and sets `error` to one line naming
// the file.
std::shared_ptr<const RunRecord> read_record_file(const std::string& path, std::string& error);

// Writes the record as JSON with write_output_file: only over a new name or a regular file,
// through a temporary file in the same directory renamed over the path, so a reader never sees
// half a record and a failed write leaves the old file. Returns false with a one-line `error`
// on failure.
bool write_record_file(const RunRecord& record, const std::string& path, std::string& error);

// Writes the record as an SVG timeline, a Chrome trace or a Markdown report (sim/export), the
// same way: whole or not at all. Returns false with a one-line `error` on failure.
bool write_export_file(const RunRecord& record, ExportFormat format, const std::string& path,
                       std::string& error);

} // namespace forklore::gui
