// The export formats and what they share (export.hpp).
#include "sim/export/export.hpp"

#include "sim/export/chrome_trace.hpp"
#include "sim/export/markdown_report.hpp"
#include "sim/export/svg_timeline.hpp"

#include <fmt/format.h>

namespace forklore {

std::string_view to_string(ExportFormat format) {
    return kExportFormatNames[static_cast<std::size_t>(format)];
}

std::optional<ExportFormat> export_format_from_name(std::string_view name) {
    for (std::size_t i = 0; i < kExportFormatNames.size(); ++i)
        if (kExportFormatNames[i] == name)
            return static_cast<ExportFormat>(i);
    return std::nullopt;
}

std::string_view export_extension(ExportFormat format) {
    switch (format) {
    case ExportFormat::svg:
        return ".svg";
    case ExportFormat::chrome:
        return ".trace.json"; // a .json beside the record must not replace it
    case ExportFormat::markdown:
        return ".md";
    }
    return "";
}

std::string_view export_description(ExportFormat format) {
    switch (format) {
    case ExportFormat::svg:
        return "SVG timeline";
    case ExportFormat::chrome:
        return "Chrome trace";
    case ExportFormat::markdown:
        return "Markdown report";
    }
    return "";
}

std::string export_record(const RunRecord& record, ExportFormat format) {
    switch (format) {
    case ExportFormat::svg:
        return svg_timeline(record);
    case ExportFormat::chrome:
        return chrome_trace_text(record);
    case ExportFormat::markdown:
        return markdown_report(record);
    }
    return "";
}

std::string default_export_path(const std::string& record_path, ExportFormat format) {
    std::string stem = record_path;
    const std::size_t slash = stem.rfind('/');
    const std::size_t name_start = slash == std::string::npos ? 0 : slash + 1;
    if (stem.size() > name_start + 5 && stem.compare(stem.size() - 5, 5, ".json") == 0)
        stem.resize(stem.size() - 5);
    if (stem.size() <= name_start)
        stem += "forklore-run";
    return stem + std::string(export_extension(format));
}

std::string run_name(const RunRecord& record) {
    return record.variant.empty() ? record.scenario : record.scenario + ":" + record.variant;
}

std::string verdict_label(const Verdict& verdict) {
    std::string label(to_string(verdict.kind));
    if (verdict.reason) {
        std::string reason(to_string(*verdict.reason));
        for (char& c : reason)
            if (c == '_')
                c = ' ';
        label += " (" + reason + ")";
    } else if (verdict.kind == VerdictKind::crashed && verdict.signal != 0) {
        label += " (" + signal_name(verdict.signal) + ")";
    } else if (verdict.kind == VerdictKind::failed) {
        label += fmt::format(" (exit code {})", verdict.exit_code);
    } else if (verdict.kind == VerdictKind::limit && !verdict.limit.empty()) {
        label += " (" + verdict.limit + ")";
    }
    return label;
}

} // namespace forklore
