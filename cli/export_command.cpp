// `forklore export RECORD.json --format svg|chrome|markdown [--out FILE]`: a saved run as a
// teacher takes it away (sim/export/export.hpp says what each format holds). Reads the record as
// the GUI's Open does (load_run_record_file: a regular file within RecordLimits); a record that
// cannot be read, like a bad option, is one line on stderr and exit code 2.
#include "command.hpp"

#include "sim/export/export.hpp"
#include "sim/record/user_file.hpp"

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <vector>

namespace forklore::cli {

namespace {

struct ExportOptions {
    std::string record;
    std::string format; // one of kExportFormatNames (CLI11 checked it)
    std::string out;
};

int command_export(const ExportOptions& options) {
    check_output_file(options.out);
    RunRecord record;
    try {
        record = load_run_record_file(options.record);
    } catch (const RecordError& error) {
        throw UsageError(error.what());
    } catch (const UserFileError& error) {
        throw UsageError(error.what());
    }
    const std::optional<ExportFormat> format = export_format_from_name(options.format);
    if (!format)
        throw UsageError(fmt::format("unknown format '{}'", options.format));
    const std::string text = export_record(record, *format);
    if (options.out.empty())
        fmt::print("{}", text);
    else
        write_output_file(options.out, text);
    return 0;
}

} // namespace

Command add_export_command(CLI::App& app) {
    auto options = std::make_shared<ExportOptions>();
    auto* command = app.add_subcommand(
        "export", "write a saved run record as an SVG timeline, a Chrome trace or a Markdown "
                  "report");
    command->add_option("record", options->record, "a run record (forklore run ... --out FILE)")
        ->required()
        ->check(kFileName);
    std::vector<std::string> formats(kExportFormatNames.begin(), kExportFormatNames.end());
    command->add_option("--format", options->format, "svg, chrome or markdown")
        ->required()
        ->check(CLI::IsMember(formats));
    command->add_option("--out", options->out, "write to FILE instead of stdout")->check(kFileName);
    command->footer(
        "Formats:\n"
        "  svg       the run's timeline as one picture for a slide: a lane per thread, lock\n"
        "            holds and waits, forks as arrows, the verdict as its title\n"
        "  chrome    the Chrome trace event format: open it in ui.perfetto.dev or\n"
        "            chrome://tracing (holds and waits as slices, forks as flows)\n"
        "  markdown  a report: verdict and explanation, processes, stuck threads and their\n"
        "            stacks, locks, output\n"
        "Example: forklore run file-read-under-lock --variant fork --out run.json\n"
        "         forklore export run.json --format svg --out run.svg");
    return {command, [options] { return command_export(*options); }};
}

} // namespace forklore::cli
