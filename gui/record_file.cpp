#include "gui/record_file.hpp"

#include "sim/record/user_file.hpp"

#include <exception>

namespace forklore::gui {

std::shared_ptr<const RunRecord> read_record_file(const std::string& path, std::string& error) {
    error.clear();
    try {
        return std::make_shared<const RunRecord>(load_run_record_file(path));
    } catch (const std::exception& problem) {
        // RecordError and UserFileError name the file; std::bad_alloc would not, but it is one
        // line too.
        error = problem.what();
    }
    return nullptr;
}

bool write_record_file(const RunRecord& record, const std::string& path, std::string& error) {
    error.clear();
    try {
        write_output_file(path, to_json_text(to_json(record)));
        return true;
    } catch (const std::exception& problem) {
        error = problem.what();
    }
    return false;
}

bool write_export_file(const RunRecord& record, ExportFormat format, const std::string& path,
                       std::string& error) {
    error.clear();
    try {
        write_output_file(path, export_record(record, format));
        return true;
    } catch (const std::exception& problem) {
        error = problem.what();
    }
    return false;
}

} // namespace forklore::gui
