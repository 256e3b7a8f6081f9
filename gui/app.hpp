// The application: what the user has chosen, the run in the background, the record on screen, the
// selection every panel shares, and each panel's own state. draw_app lays the panels out in one
// full-screen window (no docking): the file bar on top, on the left the browser and the lessons
// (two tabs; gui/app_lessons.hpp), the controls above the centre tabs (Timeline, Process tree,
// Locks, Matrix), the output and the source side by side under the tabs, and the verdict on the
// right, the whole height below the controls. Every boundary is a splitter.
#pragma once

#include "gui/panels/browser_panel.hpp"
#include "gui/panels/controls_panel.hpp"
#include "gui/panels/lessons_panel.hpp"
#include "gui/panels/locks_panel.hpp"
#include "gui/panels/matrix_panel.hpp"
#include "gui/panels/output_panel.hpp"
#include "gui/panels/process_tree_panel.hpp"
#include "gui/panels/run_browser_panel.hpp"
#include "gui/panels/scheduler_panel.hpp"
#include "gui/panels/source_panel.hpp"
#include "gui/panels/timeline_panel.hpp"
#include "gui/panels/verdict_panel.hpp"
#include "gui/record_view.hpp"
#include "gui/run_config.hpp"
#include "gui/run_session.hpp"
#include "sim/export/export.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace forklore::gui {

// The proportions of the layout, changed only by dragging the splitters between the regions.
// A small window shows each region at its minimum size without changing these: a larger window
// gets the same proportions back.
struct Layout {
    float left = 0.17f;   // browser width, of the window
    float lessons = 0.3f; // the same column's width with the Lessons tab in front: text needs room
    float right = 0.36f;  // verdict width, of the region right of the browser
    float top = 0.0f;     // controls height, of the region right of the browser (0: fitted to its
                          // content, as measured in the last frame)
    float bottom = 0.35f; // the bottom row's height (output and source), of the centre column
    float source = 0.58f; // the Source panel's width, of the bottom row (code needs the room)
    float controls_content = 0; // the controls' content height in the last frame, in pixels
};

// Where each region was drawn in the last frame (screen pixels), for the tests and for anyone
// who needs to know what is visible.
struct Region {
    float x = 0, y = 0, width = 0, height = 0;
};
struct LayoutRegions {
    Region browser, controls, centre, verdict, output, source;
};

// Where the record on screen came from, said beside the controls so that a record from the
// Matrix or a file is never taken for "not run yet".
enum class ViewOrigin { none, run, file, matrix };

enum class CentreTab { timeline, process_tree, locks, matrix, scheduler };
// The left column's tabs.
enum class LeftTab { scenarios, lessons };

struct App {
    RunConfig config;
    RunSession session;
    RecordView view; // the record on screen: a run's, an opened file's or a matrix cell's
    Selection selection;
    std::uint64_t session_generation_seen = 0;

    BrowserPanelState browser;
    LessonsPanelState lessons;
    LeftTab left_tab = LeftTab::scenarios;   // in front in the last frame
    std::optional<LeftTab> show_left_tab;    // set to bring a left tab to the front
    std::uint64_t lesson_run_generation = 0; // the record on screen when a lesson's run started
    // A lesson's play step: the last finished stepped run given to the lesson.
    std::uint64_t lesson_play_generation = 0;
    ControlsPanelState controls;
    RunBrowserState run_browser;
    // The run of the session the user chose to look at: it stays on screen while a Repeat goes
    // on. Unset: the newest run is shown.
    std::optional<int> pinned_run;
    // The session's runs as last copied, and the version they were copied at.
    std::vector<RunEntry> runs;
    std::uint64_t runs_version = 0;
    TimelinePanelState timeline;
    SourcePanelState source;
    ProcessTreePanelState process_tree;
    LocksPanelState locks;
    MatrixPanelState matrix;
    SchedulerPanelState scheduler;
    VerdictPanelState verdict;
    OutputPanelState output;
    Layout layout;
    LayoutRegions regions;
    std::optional<CentreTab> show_tab; // set to bring a centre tab to the front at the next frame
    ViewOrigin origin = ViewOrigin::none;
    // The sandbox's host and reaper, in the Timeline and the Process tree: one toggle for both.
    bool show_infrastructure = false;
    float zoom = 1.0f;      // fonts and sizes (gui/ui_scale.hpp); the window applies it
    bool show_help = false; // the Help window

    std::string file_path = "run.json"; // the Open/Save path box
    std::string file_message;           // the last open/save/export result, one line
    // Export's paths, one per format (ExportFormat), set beside file_path when its popup opens.
    std::array<std::string, kExportFormatNames.size()> export_paths;
    bool file_error = false;
    bool file_warning = false; // opened, but the record is incomplete

    App(); // chooses the first scenario of the corpus
};

// Chooses a scenario (its first variant's knobs). False for an unknown id. A record on screen of
// another scenario is taken off: the panels never show one scenario's run beside another's
// lesson and knobs.
bool select_scenario(App& app, const std::string& id);
// Chooses a variant of the selected scenario. False for an unknown name.
bool select_variant(App& app, const std::string& variant);
// Starts the chosen configuration: `repeat` runs of it. Returns "" or why it cannot start.
std::string start_run(App& app, int repeat = 1);
// Starts the Scheduler tab's challenge as a stepped run, replaying `replay` first (Undo).
std::string start_stepped_run(App& app, std::vector<ScheduleStep> replay = {});
// Shows run `number` of the session's last Run/Repeat, and keeps it on screen while more runs
// finish. False when there is no such run or its record was dropped for memory.
bool show_run(App& app, int number);
// Back to the session's newest run (and the ones still to come).
void follow_latest_run(App& app);
// Puts a record on screen (and selects its scenario and knobs, when the corpus has them).
void show_record(App& app, const RecordView& view);
// Reads a run record from a JSON file and shows it. On any error (missing file, not JSON, not a
// run record) the record on screen stays and the one-line reason is in app.file_message.
bool open_record(App& app, const std::string& path);
// Writes the record on screen as JSON, atomically (a temporary file renamed over the path).
bool save_record(App& app, const std::string& path);

// One frame of the whole application, inside one full-screen window (and the Help window when it
// is open).
void draw_app(App& app);

} // namespace forklore::gui
