// The application: what the user has chosen, the run in the background, the record on screen, the
// selection every panel shares, and each panel's own state. draw_app lays the panels out in one
// full-screen window (no docking): browser left, controls on top, tabs in the centre (Timeline,
// Process tree, Locks, Matrix), the verdict on the right, the output at the bottom.
#pragma once

#include "gui/panels/browser_panel.hpp"
#include "gui/panels/controls_panel.hpp"
#include "gui/panels/locks_panel.hpp"
#include "gui/panels/matrix_panel.hpp"
#include "gui/panels/output_panel.hpp"
#include "gui/panels/process_tree_panel.hpp"
#include "gui/panels/source_panel.hpp"
#include "gui/panels/timeline_panel.hpp"
#include "gui/panels/verdict_panel.hpp"
#include "gui/record_view.hpp"
#include "gui/run_config.hpp"
#include "gui/run_session.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace forklore::gui {

// The proportions of the layout, changed by dragging the splitters between the regions.
struct Layout {
    float left = 0.21f;   // browser width, of the window
    float right = 0.30f;  // verdict width, of the region right of the browser
    float top = 0.0f;     // controls height in pixels (0: fitted to five lines)
    float bottom = 0.26f; // output height, of the region below the controls
};

enum class CentreTab { timeline, source, process_tree, locks, matrix };

struct App {
    RunConfig config;
    RunSession session;
    RecordView view;            // the record on screen: a run's, an opened file's or a matrix cell's
    Selection selection;
    std::uint64_t session_generation_seen = 0;

    BrowserPanelState browser;
    ControlsPanelState controls;
    TimelinePanelState timeline;
    SourcePanelState source;
    ProcessTreePanelState process_tree;
    LocksPanelState locks;
    MatrixPanelState matrix;
    VerdictPanelState verdict;
    OutputPanelState output;
    Layout layout;
    std::optional<CentreTab> show_tab; // set to bring a centre tab to the front at the next frame

    std::string file_path = "run.json"; // the Open/Save path box
    std::string file_message;           // the last open/save result, one line
    bool file_error = false;

    App(); // chooses the first scenario of the corpus
};

// Chooses a scenario (its first variant's knobs). False for an unknown id.
bool select_scenario(App& app, const std::string& id);
// Chooses a variant of the selected scenario. False for an unknown name.
bool select_variant(App& app, const std::string& variant);
// Starts the chosen configuration: `repeat` runs of it. Returns "" or why it cannot start.
std::string start_run(App& app, int repeat = 1);
// Puts a record on screen (and selects its scenario and knobs, when the corpus has them).
void show_record(App& app, const RecordView& view);
// Reads a run record from a JSON file and shows it. On any error (missing file, not JSON, not a
// run record) the record on screen stays and the one-line reason is in app.file_message.
bool open_record(App& app, const std::string& path);
// Writes the record on screen as JSON, atomically (a temporary file renamed over the path).
bool save_record(App& app, const std::string& path);

// One frame of the whole application, inside one full-screen window.
void draw_app(App& app);

} // namespace forklore::gui
