// Index of this file:
// [SECTION] layout: regions and splitters
// [SECTION] the run configuration and session updates
// [SECTION] the file bar, zoom and centre tabs
// [SECTION] what the app does for the user: select, run, show, open, save
// [SECTION] the frame
#include "gui/app.hpp"

#include "gui/app_lessons.hpp"
#include "gui/export_popup.hpp"
#include "gui/help_window.hpp"
#include "gui/record_completeness.hpp"
#include "gui/record_file.hpp"
#include "gui/ui_scale.hpp"
#include "gui/widgets.hpp"
#include "sim/lesson/challenges.hpp"
#include "sim/run/output_capture.hpp"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace forklore::gui {

namespace {

constexpr float kSplitterThickness = 6.0f;

// [SECTION] layout: regions and splitters ----------------------------------------------------

// A region's size along one axis, given the room it shares with its neighbour: `fraction` of
// `whole`, but never less than `min_size` nor so much that the neighbour gets less than
// `min_other`. When even the minimums do not fit, the room is shared in proportion. The
// fraction itself is never changed here: a window made small and large again gets its layout
// back.
float region_size(float fraction, float whole, float min_size, float min_other) {
    whole = std::max(0.0f, whole);
    if (min_size + min_other > whole)
        return whole * min_size / std::max(1.0f, min_size + min_other);
    return std::clamp(fraction * whole, min_size, whole - min_other);
}

// A bar between two regions that the mouse drags. Placed with the cursor where the bar goes.
// Only a drag changes `fraction` (size = fraction x whole, growing with the drag times `sign`).
void splitter(const char* id, bool vertical, float length, float& fraction, float size, float whole,
              float sign, float min_size, float min_other) {
    const ImVec2 extent = vertical ? ImVec2(kSplitterThickness, std::max(1.0f, length))
                                   : ImVec2(std::max(1.0f, length), kSplitterThickness);
    ImGui::InvisibleButton(id, extent);
    const bool hot = ImGui::IsItemHovered() || ImGui::IsItemActive();
    if (hot)
        ImGui::SetMouseCursor(vertical ? ImGuiMouseCursor_ResizeEW : ImGuiMouseCursor_ResizeNS);
    if (ImGui::IsItemActive() && whole > 0) {
        const ImVec2 delta = ImGui::GetIO().MouseDelta;
        const float dragged = size + sign * (vertical ? delta.x : delta.y);
        if (dragged != size)
            fraction = std::clamp(dragged, std::min(min_size, whole),
                                  std::max(min_size, whole - min_other)) /
                       whole;
    }
    const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    const ImU32 colour = ImGui::GetColorU32(hot ? ImGuiCol_SeparatorHovered : ImGuiCol_Separator);
    ImDrawList* draw = ImGui::GetWindowDrawList();
    if (vertical)
        draw->AddLine(ImVec2((a.x + b.x) / 2, a.y), ImVec2((a.x + b.x) / 2, b.y), colour);
    else
        draw->AddLine(ImVec2(a.x, (a.y + b.y) / 2), ImVec2(b.x, (a.y + b.y) / 2), colour);
}

// A bordered child region of the given size, recorded in `where`.
template <typename Draw> void region(const char* id, ImVec2 size, Region& where, Draw&& draw) {
    size = ImVec2(std::max(1.0f, size.x), std::max(1.0f, size.y));
    if (ImGui::BeginChild(id, size, true))
        draw();
    ImGui::EndChild();
    const ImVec2 min = ImGui::GetItemRectMin(), max = ImGui::GetItemRectMax();
    where = Region{min.x, min.y, max.x - min.x, max.y - min.y};
}

// [SECTION] the run configuration and session updates ----------------------------------------

// Another scenario's knobs and presets. The output limit is the user's, not the scenario's: it
// stays.
void configure_for(App& app, const Scenario& scenario) {
    std::string max_output = std::move(app.config.max_output);
    app.config = RunConfig::for_scenario(scenario);
    app.config.max_output = std::move(max_output);
}

// The record's scenario and knobs become the chosen configuration, so the lesson and the knobs
// beside a record are the ones it ran with.
void adopt_configuration(App& app, const RunRecord& record) {
    const Scenario* scenario = ScenarioRegistry::instance().find(record.scenario);
    if (!scenario)
        return;
    if (app.config.scenario != scenario->id)
        configure_for(app, *scenario);
    if (!record.variant.empty() && scenario->find_variant(record.variant))
        app.config.choose_variant(*scenario, record.variant);
    try {
        app.config.knobs =
            scenario->resolve_knobs(scenario->find_variant(record.variant), record.knobs);
    } catch (const std::invalid_argument&) {
        // A record from an older corpus may name a knob or a value the scenario no longer has:
        // the variant's preset stays, rather than knobs that could not be run.
    }
}

void take_session_updates(App& app) {
    RecordView latest = app.session.view();
    if (!latest || latest.generation == app.session_generation_seen)
        return;
    app.session_generation_seen = latest.generation;
    if (app.pinned_run)
        return; // the user is looking at an earlier run
    // A run of a scenario the user has since left stays off the screen (select_scenario).
    if (latest.record->scenario != app.config.scenario)
        return;
    app.origin = ViewOrigin::run;
    // A live update of the run on screen keeps the selection (events only grow); a new run does
    // not.
    const bool same_run = app.view &&
                          app.view.record->start_time_ns == latest.record->start_time_ns &&
                          app.view.record->scenario == latest.record->scenario;
    if (!same_run)
        app.selection.clear();
    app.view = latest;
}

// [SECTION] the file bar, zoom and centre tabs -----------------------------------------------

// Places the next item on the same line when `width` still fits, on a new line otherwise.
void same_line_if_fits(float width) {
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    const float spacing = ImGui::GetFontSize();
    if (ImGui::GetItemRectMax().x + spacing + width < right)
        ImGui::SameLine(0, spacing);
}

void draw_zoom_control(App& app) {
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("zoom");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 4.5f);
    const std::string preview = fmt::format("{:.0f}%", app.zoom * 100);
    if (ImGui::BeginCombo("##zoom", preview.c_str())) {
        for (float step : kZoomSteps)
            if (ImGui::Selectable(fmt::format("{:.0f}%", step * 100).c_str(), step == app.zoom))
                app.zoom = step;
        ImGui::EndCombo();
    }
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Text and sizes larger or smaller, e.g. 150%% for a projector "
                          "(forklore-gui --zoom 1.5 starts with it).");
}

void draw_file_bar(App& app) {
    ImGui::TextUnformatted("forklore");
    help_marker("Open and Save run records as JSON, so a class can look at the same run: type a "
                "path and press Open to show a saved run in every panel (the scenario and knobs "
                "it ran with are chosen on the left), or Save to write the run on screen; Export "
                "writes it as an SVG timeline, a Chrome trace or a Markdown report. Files "
                "are written whole or not at all, over a new name or a regular file only (never "
                "over a device, a FIFO or a symbolic link). A record opens only from a regular "
                "file within the bounds the README lists (128 MiB, 262,144 events, 32 levels of "
                "nesting, ...). Help (top right) says what every panel shows.");
    ImGui::SameLine(0, ImGui::GetFontSize() * 2);
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("record file");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 18);
    const bool entered =
        ImGui::InputText("##path", &app.file_path, ImGuiInputTextFlags_EnterReturnsTrue);
    ImGui::SameLine();
    if (ImGui::Button("Open") || entered)
        open_record(app, app.file_path);
    ImGui::SameLine();
    ImGui::BeginDisabled(!app.view || app.view.live);
    if (ImGui::Button("Save"))
        save_record(app, app.file_path);
    ImGui::EndDisabled();
    ImGui::SameLine();
    draw_export_button(app);
    ImGui::SameLine(0, ImGui::GetFontSize() * 2);
    draw_zoom_control(app);
    ImGui::SameLine();
    if (ImGui::Button(app.show_help ? "Help (open)" : "Help"))
        app.show_help = !app.show_help;
    if (const RunRecord* record = app.view.get()) {
        // A session's run says which one it is: "run 7 of 40".
        const std::string run =
            run_label(app.view, app.session.progress().repeat, static_cast<int>(app.runs.size()));
        const std::string on_screen = fmt::format(
            "on screen: {}{}{}{}, {} events", record->scenario, record->variant.empty() ? "" : ":",
            record->variant, run.empty() ? (app.view.live ? " (running)" : "") : ", " + run,
            record->events.size());
        same_line_if_fits(ImGui::CalcTextSize(on_screen.c_str()).x);
        ImGui::TextDisabled("%s", on_screen.c_str());
    }
    // The last Open, Save or Export result on a line of its own, wrapped: a path can be long.
    if (!app.file_message.empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text,
                              app.file_error     ? verdict_colour(VerdictKind::deadlocked)
                              : app.file_warning ? ImGui::ColorConvertU32ToFloat4(palette::warning)
                                                 : ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
        wrapped_text(app.file_message);
        ImGui::PopStyleColor();
    }
}

// A tab's flags this frame: selected when the app was asked to bring it to the front.
ImGuiTabItemFlags tab_flags(App& app, CentreTab tab) {
    return app.show_tab == tab ? ImGuiTabItemFlags_SetSelected : ImGuiTabItemFlags_None;
}

void draw_centre_tabs(App& app) {
    if (!ImGui::BeginTabBar("##centre"))
        return;
    if (ImGui::BeginTabItem("Timeline", nullptr, tab_flags(app, CentreTab::timeline))) {
        if (ImGui::BeginChild("##timeline"))
            draw_timeline_panel(app.timeline, app.view, app.selection);
        ImGui::EndChild();
        ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("Process tree", nullptr, tab_flags(app, CentreTab::process_tree))) {
        if (ImGui::BeginChild("##process-tree"))
            draw_process_tree_panel(app.process_tree, app.view, app.selection);
        ImGui::EndChild();
        ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("Locks", nullptr, tab_flags(app, CentreTab::locks))) {
        if (ImGui::BeginChild("##locks"))
            draw_locks_panel(app.locks, app.view, app.selection);
        ImGui::EndChild();
        ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("Matrix", nullptr, tab_flags(app, CentreTab::matrix))) {
        if (ImGui::BeginChild("##matrix"))
            draw_matrix_panel(app.matrix, app.view, app.selection);
        ImGui::EndChild();
        ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("Scheduler", nullptr, tab_flags(app, CentreTab::scheduler))) {
        if (ImGui::BeginChild("##scheduler"))
            draw_scheduler_panel(app.scheduler, app.session.progress(), app.view);
        ImGui::EndChild();
        ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
    app.show_tab.reset();
}

void carry_out_requests(App& app) {
    if (!app.browser.requested.empty())
        select_scenario(app, app.browser.requested);
    switch (app.controls.request) {
    case ControlsPanelState::Request::run:
        start_run(app, 1);
        break;
    case ControlsPanelState::Request::repeat:
        start_run(app, app.config.repeat);
        break;
    case ControlsPanelState::Request::stop:
        app.session.stop();
        break;
    case ControlsPanelState::Request::none:
        break;
    }
    switch (std::exchange(app.scheduler.request, SchedulerPanelState::Request::none)) {
    case SchedulerPanelState::Request::play:
        start_stepped_run(app);
        break;
    case SchedulerPanelState::Request::undo:
        start_stepped_run(app, std::exchange(app.scheduler.replay, {}));
        break;
    case SchedulerPanelState::Request::none:
        break;
    }
    if (app.matrix.open_request) {
        show_record(app, *app.matrix.open_request);
        app.origin = ViewOrigin::matrix;
    }
    if (app.run_browser.show_run)
        show_run(app, *app.run_browser.show_run);
    if (app.run_browser.follow_latest)
        follow_latest_run(app);
    carry_out_lesson_requests(app);
}

// One toggle for the sandbox's host and reaper in the Timeline and the Process tree: a change in
// either panel applies to both.
void share_infrastructure_toggle(App& app) {
    if (app.timeline.show_infrastructure != app.show_infrastructure)
        app.show_infrastructure = app.timeline.show_infrastructure;
    else if (app.process_tree.show_infrastructure != app.show_infrastructure)
        app.show_infrastructure = app.process_tree.show_infrastructure;
    app.timeline.show_infrastructure = app.show_infrastructure;
    app.process_tree.show_infrastructure = app.show_infrastructure;
}

// What the controls say beside "Run" when the record on screen was not started there.
std::string origin_note(const App& app) {
    if (!app.view || app.view.record->scenario != app.config.scenario)
        return {};
    switch (app.origin) {
    case ViewOrigin::matrix:
        return "on screen: its last run in the Matrix";
    case ViewOrigin::file:
        return "on screen: a run record opened from a file";
    default:
        return {};
    }
}

// The Source panel's region (the bottom row, right of the output): always in view beside the
// timeline, so a selected bar's line is seen without changing tabs.
void draw_source_region(App& app) {
    draw_source_panel(app.source, app.view, app.selection);
}

} // namespace

// [SECTION] what the app does for the user: select, run, show, open, save --------------------

App::App() {
    for (const auto& scenario : ScenarioRegistry::instance().all()) {
        if (scenario.hidden)
            continue;
        config = RunConfig::for_scenario(scenario);
        break;
    }
}

bool select_scenario(App& app, const std::string& id) {
    const Scenario* scenario = ScenarioRegistry::instance().find(id);
    if (!scenario)
        return false;
    if (app.config.scenario != id)
        configure_for(app, *scenario);
    if (app.view && app.view.record->scenario != id) {
        app.view = RecordView{};
        app.selection.clear();
        app.origin = ViewOrigin::none;
    }
    return true;
}

bool select_variant(App& app, const std::string& variant) {
    const Scenario* scenario = app.config.find();
    if (!scenario || !scenario->find_variant(variant))
        return false;
    app.config.choose_variant(*scenario, variant);
    return true;
}

std::string start_run(App& app, int repeat) {
    const Scenario* scenario = app.config.find();
    if (!scenario)
        return "choose a scenario first";
    // The knobs of a preset run as that variant (with its expected outcome); the user's own knobs
    // run as they are, with no variant name and no expectation.
    const std::string variant = app.config.matching_variant(*scenario);
    const KnobValues overrides = variant.empty() ? app.config.knobs : KnobValues{};
    RunOptions options;
    if (!app.config.max_output.empty()) {
        options.max_output = parse_byte_size(app.config.max_output);
        if (!options.max_output)
            return fmt::format("max output: '{}' is not a number of bytes (4096, 512K, 1M, 2G)",
                               app.config.max_output);
    }
    app.pinned_run.reset();
    app.scheduler.stepping = false;
    return app.session.start(scenario->id, variant, overrides, repeat, options);
}

std::string start_stepped_run(App& app, std::vector<ScheduleStep> replay) {
    const auto& list = challenges();
    if (app.scheduler.challenge < 0 || app.scheduler.challenge >= static_cast<int>(list.size()))
        return "no such challenge";
    const Challenge& challenge = list[app.scheduler.challenge];
    if (!select_scenario(app, challenge.scenario))
        return fmt::format("unknown scenario '{}'", challenge.scenario);
    for (const auto& [knob, value] : challenge.knobs)
        app.config.knobs[knob] = value;
    auto control = std::make_shared<StepControl>();
    RunOptions options;
    // A student thinks between steps: the scenario's deadline of a few seconds would end the run.
    options.timeout_seconds = 3600;
    options.scheduler = control->scheduler(std::move(replay));
    app.scheduler.control = std::move(control);
    app.scheduler.stepping = true;
    app.pinned_run.reset();
    return app.session.start(challenge.scenario, "", app.config.knobs, 1, options);
}

bool show_run(App& app, int number) {
    RecordView view = app.session.run_view(number);
    if (!view)
        return false;
    if (!app.view || app.view.generation != view.generation)
        app.selection.clear();
    app.view = view;
    app.origin = ViewOrigin::run;
    app.pinned_run = number;
    return true;
}

void follow_latest_run(App& app) {
    app.pinned_run.reset();
    RecordView latest = app.session.view();
    if (!latest)
        return;
    if (!app.view || app.view.generation != latest.generation)
        app.selection.clear();
    app.view = latest;
    app.origin = ViewOrigin::run;
    app.session_generation_seen = latest.generation;
}

void show_record(App& app, const RecordView& view) {
    if (!view)
        return;
    app.view = view;
    app.selection.clear();
    adopt_configuration(app, *view.record);
}

bool open_record(App& app, const std::string& path) {
    std::string error;
    auto record = read_record_file(path, error);
    if (!record) {
        app.file_message = error;
        app.file_error = true;
        app.file_warning = false;
        return false;
    }
    show_record(app, RecordView{record, next_record_generation(), false});
    app.origin = ViewOrigin::file;
    app.file_message = fmt::format("opened {}", path);
    app.file_error = false;
    app.file_warning = false;
    if (const std::string incomplete = describe_incomplete_record(*record); !incomplete.empty()) {
        app.file_message += " - " + incomplete;
        app.file_warning = true;
    }
    return true;
}

bool save_record(App& app, const std::string& path) {
    if (!app.view || app.view.live) {
        app.file_message = "nothing to save yet: run a scenario or open a record first";
        app.file_error = true;
        app.file_warning = false;
        return false;
    }
    std::string error;
    if (!write_record_file(*app.view.record, path, error)) {
        app.file_message = error;
        app.file_error = true;
        app.file_warning = false;
        return false;
    }
    app.file_message = fmt::format("saved {}", path);
    app.file_error = false;
    app.file_warning = false;
    return true;
}

// [SECTION] the frame ------------------------------------------------------------------------

void draw_app(App& app) {
    take_session_updates(app);
    take_lesson_run(app);
    take_lesson_play(app);
    app.lessons.session.add_time(ImGui::GetIO().DeltaTime);
    // The session's runs, copied only when another one has finished.
    if (const std::uint64_t version = app.session.runs_version(); version != app.runs_version) {
        app.runs = app.session.runs();
        app.runs_version = version;
    }

    const ImGuiIO& io = ImGui::GetIO();
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(io.DisplaySize);
    const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                   ImGuiWindowFlags_NoSavedSettings |
                                   ImGuiWindowFlags_NoBringToFrontOnFocus;
    ImGui::PushStyleVar(ImGuiStyleVar_WindowRounding, 0.0f);
    ImGui::Begin("forklore", nullptr, flags);
    ImGui::PopStyleVar();

    draw_file_bar(app);

    const ImVec2 whole = ImGui::GetContentRegionAvail();
    const float font = ImGui::GetFontSize();
    const float spacing_y = ImGui::GetStyle().ItemSpacing.y;
    Layout& layout = app.layout;

    // Left column: the browser, or a lesson (wider: its text is read, not scanned).
    const bool lessons = app.left_tab == LeftTab::lessons;
    float& left = lessons ? layout.lessons : layout.left;
    const float min_browser = font * (lessons ? 16 : 9), min_main = font * 30;
    const float left_width = region_size(left, whole.x, min_browser, min_main + kSplitterThickness);
    region("##browser", ImVec2(left_width, whole.y), app.regions.browser,
           [&] { draw_left_column(app); });
    ImGui::SameLine(0, 0);
    splitter("##split-left", true, whole.y, left, left_width, whole.x, 1.0f, min_browser,
             min_main + kSplitterThickness);
    ImGui::SameLine(0, 0);

    ImGui::BeginGroup();
    const float main_width = std::max(1.0f, whole.x - left_width - kSplitterThickness);
    const float main_height = whole.y;
    const RunProgress progress = app.session.progress();
    const std::vector<RunEntry>& runs = app.runs; // refreshed at the top of the frame
    const bool browsing = progress.repeat > 1 || runs.size() > 1;
    // Top strip: the controls, as tall as their content (measured last frame) unless dragged.
    const float fitted = layout.controls_content > 0 ? layout.controls_content
                                                     : ImGui::GetFrameHeightWithSpacing() * 5;
    const float fitted_fraction =
        (fitted + ImGui::GetStyle().WindowPadding.y * 2) / std::max(1.0f, main_height);
    const float min_controls = ImGui::GetFrameHeightWithSpacing() * 3, min_below = font * 16;
    const float top_height = region_size(layout.top > 0 ? layout.top : fitted_fraction, main_height,
                                         min_controls, min_below);
    region("##controls", ImVec2(main_width, top_height), app.regions.controls, [&] {
        app.controls.view_origin = origin_note(app);
        draw_controls_panel(app.controls, app.config, progress, app.view);
        // A Repeat's runs, to step through them.
        if (browsing)
            draw_run_browser(app.run_browser, runs, progress.repeat, app.view,
                             app.pinned_run.has_value(), app.session.history_budget_bytes());
        layout.controls_content = ImGui::GetCursorPosY() - ImGui::GetStyle().WindowPadding.y;
    });
    ImGui::SetCursorPosY(ImGui::GetCursorPosY() - spacing_y);
    {
        float top = layout.top > 0 ? layout.top : fitted_fraction;
        splitter("##split-top", false, main_width, top, top_height, main_height, 1.0f, min_controls,
                 min_below);
        if (top != (layout.top > 0 ? layout.top : fitted_fraction))
            layout.top = top; // dragged
    }

    // Below the controls: the centre column (the tabs over the output and the source) and the
    // verdict column on the right, the whole height, so that the wait-for graph has room.
    const float below = std::max(1.0f, main_height - top_height - kSplitterThickness - spacing_y);
    const float min_verdict = font * 16, min_centre = font * 24;
    const float right_width =
        region_size(layout.right, main_width, min_verdict, min_centre + kSplitterThickness);
    const float centre_width = std::max(1.0f, main_width - right_width - kSplitterThickness);
    const float min_bottom = font * 7, min_middle = font * 12;
    const float bottom_height =
        region_size(layout.bottom, below, min_bottom, min_middle + kSplitterThickness);
    const float middle_height = std::max(1.0f, below - bottom_height - kSplitterThickness);

    ImGui::SetCursorPosY(ImGui::GetCursorPosY() - spacing_y);
    ImGui::BeginGroup();
    region("##centre", ImVec2(centre_width, middle_height), app.regions.centre,
           [&] { draw_centre_tabs(app); });
    share_infrastructure_toggle(app);
    ImGui::SetCursorPosY(ImGui::GetCursorPosY() - spacing_y);
    splitter("##split-bottom", false, centre_width, layout.bottom, bottom_height, below, -1.0f,
             min_bottom, min_middle + kSplitterThickness);
    ImGui::SetCursorPosY(ImGui::GetCursorPosY() - spacing_y);
    // The bottom row: the output, and the source beside it.
    const float min_source = font * 16, min_output = font * 16;
    const float source_width =
        region_size(layout.source, centre_width, min_source, min_output + kSplitterThickness);
    const float output_width = std::max(1.0f, centre_width - source_width - kSplitterThickness);
    region("##output", ImVec2(output_width, bottom_height), app.regions.output,
           [&] { draw_output_panel(app.output, app.view, app.selection); });
    ImGui::SameLine(0, 0);
    splitter("##split-source", true, bottom_height, layout.source, source_width, centre_width,
             -1.0f, min_source, min_output + kSplitterThickness);
    ImGui::SameLine(0, 0);
    region("##source", ImVec2(source_width, bottom_height), app.regions.source,
           [&] { draw_source_region(app); });
    ImGui::EndGroup();

    ImGui::SameLine(0, 0);
    splitter("##split-right", true, below, layout.right, right_width, main_width, -1.0f,
             min_verdict, min_centre + kSplitterThickness);
    ImGui::SameLine(0, 0);
    region("##verdict", ImVec2(right_width, below), app.regions.verdict,
           [&] { draw_verdict_panel(app.verdict, app.view, app.selection); });
    ImGui::EndGroup();

    ImGui::End();
    if (app.show_help)
        draw_help_window(app.show_help);
    carry_out_requests(app);
}

} // namespace forklore::gui
