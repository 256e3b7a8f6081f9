// A run record as a teacher takes it away: three formats, one entry point for the CLI
// (`forklore export RECORD --format F`) and the GUI (Export next to Save).
//
//   svg       svg_timeline.hpp     the run's timeline as one picture, for a slide
//   chrome    chrome_trace.hpp     the Chrome trace event format: ui.perfetto.dev, chrome://tracing
//   markdown  markdown_report.hpp  the verdict, why, the processes and the stuck threads, as text
//
// Each is a pure function of the record (no I/O; the caller writes the text where it wants).
#pragma once

#include "sim/record/record.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace forklore {

enum class ExportFormat { svg, chrome, markdown };
inline constexpr std::array<std::string_view, 3> kExportFormatNames = {"svg", "chrome", "markdown"};
static_assert(kExportFormatNames.size() == static_cast<std::size_t>(ExportFormat::markdown) + 1);

std::string_view to_string(ExportFormat format); // "svg", "chrome", "markdown"
std::optional<ExportFormat> export_format_from_name(std::string_view name);
// What a file of this format is called: ".svg", ".trace.json", ".md".
std::string_view export_extension(ExportFormat format);
// In words, for a button or a message: "SVG timeline", "Chrome trace", "Markdown report".
std::string_view export_description(ExportFormat format);

// The whole export as text (UTF-8; the SVG and the trace end with a newline).
std::string export_record(const RunRecord& record, ExportFormat format);

// Where to write an export of the record file at `record_path` when the user names no file:
// beside it, with the format's extension instead of ".json" ("run.json" -> "run.svg",
// "run.trace.json", "run.md"); "forklore-run" + extension when there is no path.
std::string default_export_path(const std::string& record_path, ExportFormat format);

// Words all three formats use.
// "file-read-under-lock:fork", or the scenario alone when run with knobs only.
std::string run_name(const RunRecord& record);
// "deadlocked (orphaned lock)", "completed", "crashed (SIGSEGV)", "failed (exit code 3)".
std::string verdict_label(const Verdict& verdict);

} // namespace forklore
