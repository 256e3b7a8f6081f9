// Export, next to Save (gui/export_popup.hpp): the record on screen written as the engine's
// exports (sim/export), each to its own path, with the result on the file bar's message line.
#include "gui/app.hpp"
#include "gui/export_popup.hpp"
#include "sim/export/export.hpp"
#include "tests/gui/app_harness.hpp"
#include "tests/gui/headless.hpp"
#include "tests/gui/records.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace forklore;
using namespace forklore::gui;
using namespace forklore::gui::test;

namespace {

std::string file_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace

TEST_CASE("app: Export writes the run on screen in each format", "[gui][app][file][export]") {
    TemporaryDirectory directory;
    App app;
    CHECK_FALSE(export_view(app, ExportFormat::svg, directory.file("nothing.svg")));
    CHECK(app.file_error);
    CHECK_FALSE(std::filesystem::exists(directory.file("nothing.svg")));

    auto record = recorded(test::kOrphanedLock);
    show_record(app, view_of(record));
    for (std::size_t i = 0; i < kExportFormatNames.size(); ++i) {
        const auto format = static_cast<ExportFormat>(i);
        const std::string path = default_export_path(directory.file("run.json"), format);
        INFO(path);
        REQUIRE(export_view(app, format, path));
        CHECK_FALSE(app.file_error);
        CHECK(app.file_message.find(std::string(export_description(format))) != std::string::npos);
        CHECK(app.file_message.find(path) != std::string::npos);
        // The engine's export, byte for byte: the GUI adds nothing of its own.
        CHECK(file_text(path) == export_record(*record, format));
    }
    CHECK(std::filesystem::exists(directory.file("run.svg")));
    CHECK(std::filesystem::exists(directory.file("run.trace.json")));
    CHECK(std::filesystem::exists(directory.file("run.md")));

    CHECK_FALSE(export_view(app, ExportFormat::markdown, directory.file("no/such/dir/run.md")));
    CHECK(app.file_error);
    CHECK(app.file_message.find('\n') == std::string::npos);

    HeadlessImGui imgui;
    CHECK(draw_frames(imgui, app) > 0); // the file bar with its Export button
}
