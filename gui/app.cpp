#include "gui/app.hpp"

#include "gui/record_file.hpp"
#include "gui/widgets.hpp"
#include "sim/output_capture.hpp"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace forklore::gui {

namespace {

constexpr float kSplitterThickness = 6.0f;

// A bar between two regions that the mouse drags: `size` (pixels) grows with the drag times
// `sign`, clamped to [min_size, max_size]. Placed with the cursor where the bar goes.
void splitter(const char* id, bool vertical, float length, float& size, float sign, float min_size,
              float max_size) {
    const ImVec2 extent = vertical ? ImVec2(kSplitterThickness, length) : ImVec2(length, kSplitterThickness);
    ImGui::InvisibleButton(id, extent);
    const bool hot = ImGui::IsItemHovered() || ImGui::IsItemActive();
    if (hot) ImGui::SetMouseCursor(vertical ? ImGuiMouseCursor_ResizeEW : ImGuiMouseCursor_ResizeNS);
    if (ImGui::IsItemActive()) {
        const ImVec2 delta = ImGui::GetIO().MouseDelta;
        size += sign * (vertical ? delta.x : delta.y);
    }
    size = std::clamp(size, min_size, std::max(min_size, max_size));
    const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    const ImU32 colour = ImGui::GetColorU32(hot ? ImGuiCol_SeparatorHovered : ImGuiCol_Separator);
    ImDrawList* draw = ImGui::GetWindowDrawList();
    if (vertical)
        draw->AddLine(ImVec2((a.x + b.x) / 2, a.y), ImVec2((a.x + b.x) / 2, b.y), colour);
    else
        draw->AddLine(ImVec2(a.x, (a.y + b.y) / 2), ImVec2(b.x, (a.y + b.y) / 2), colour);
}

// A size kept as a fraction of `whole`, dragged in pixels.
void fraction_splitter(const char* id, bool vertical, float length, float& fraction, float whole,
                       float sign, float min_size, float max_size) {
    float size = fraction * whole;
    splitter(id, vertical, length, size, sign, min_size, max_size);
    if (whole > 0) fraction = size / whole;
}

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
    if (!scenario) return;
    if (app.config.scenario != scenario->id) configure_for(app, *scenario);
    if (!record.variant.empty() && scenario->find_variant(record.variant))
        app.config.choose_variant(*scenario, record.variant);
    try {
        app.config.knobs = scenario->resolve_knobs(scenario->find_variant(record.variant), record.knobs);
    } catch (const std::invalid_argument&) {
        // A record from an older corpus may name a knob or a value the scenario no longer has:
        // the variant's preset stays, rather than knobs that could not be run.
    }
}

void take_session_updates(App& app) {
    RecordView latest = app.session.view();
    if (!latest || latest.generation == app.session_generation_seen) return;
    app.session_generation_seen = latest.generation;
    // A live update of the run on screen keeps the selection (events only grow); a new run does not.
    const bool same_run = app.view && app.view.record->start_time_ns == latest.record->start_time_ns &&
                          app.view.record->scenario == latest.record->scenario;
    if (!same_run) app.selection.clear();
    app.view = latest;
}

void draw_file_bar(App& app) {
    ImGui::TextUnformatted("forklore");
    help_marker("Open and Save run records as JSON, so a class can look at the same run: type a "
                "path and press Open to show a saved run in every panel (the scenario and knobs "
                "it ran with are chosen on the left), or Save to write the run on screen. Files "
                "are written whole or not at all, over a new name or a regular file only (never "
                "over a device, a FIFO or a symbolic link). A record opens only from a regular "
                "file within the bounds the README lists (128 MiB, 262,144 events, 32 levels of "
                "nesting, ...).");
    ImGui::SameLine(0, ImGui::GetFontSize() * 2);
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("record file");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 22);
    const bool entered = ImGui::InputText("##path", &app.file_path, ImGuiInputTextFlags_EnterReturnsTrue);
    ImGui::SameLine();
    if (ImGui::Button("Open") || entered) open_record(app, app.file_path);
    ImGui::SameLine();
    ImGui::BeginDisabled(!app.view || app.view.live);
    if (ImGui::Button("Save")) save_record(app, app.file_path);
    ImGui::EndDisabled();
    if (!app.file_message.empty()) {
        ImGui::SameLine();
        if (app.file_error)
            ImGui::TextColored(verdict_colour(VerdictKind::deadlocked), "%s", app.file_message.c_str());
        else
            ImGui::TextDisabled("%s", app.file_message.c_str());
    }
    if (const RunRecord* record = app.view.get()) {
        ImGui::SameLine(0, ImGui::GetFontSize() * 2);
        ImGui::TextDisabled("on screen: %s%s%s%s, %zu events", record->scenario.c_str(),
                            record->variant.empty() ? "" : ":", record->variant.c_str(),
                            app.view.live ? " (running)" : "", record->events.size());
    }
}

// A tab's flags this frame: selected when the app was asked to bring it to the front.
ImGuiTabItemFlags tab_flags(App& app, CentreTab tab) {
    return app.show_tab == tab ? ImGuiTabItemFlags_SetSelected : ImGuiTabItemFlags_None;
}

void draw_centre_tabs(App& app) {
    if (!ImGui::BeginTabBar("##centre")) return;
    if (ImGui::BeginTabItem("Timeline", nullptr, tab_flags(app, CentreTab::timeline))) {
        if (ImGui::BeginChild("##timeline")) draw_timeline_panel(app.timeline, app.view, app.selection);
        ImGui::EndChild();
        ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("Source", nullptr, tab_flags(app, CentreTab::source))) {
        if (ImGui::BeginChild("##source")) draw_source_panel(app.source, app.view, app.selection);
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
        if (ImGui::BeginChild("##locks")) draw_locks_panel(app.locks, app.view, app.selection);
        ImGui::EndChild();
        ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("Matrix", nullptr, tab_flags(app, CentreTab::matrix))) {
        if (ImGui::BeginChild("##matrix")) draw_matrix_panel(app.matrix, app.view, app.selection);
        ImGui::EndChild();
        ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
    app.show_tab.reset();
}

void carry_out_requests(App& app) {
    if (!app.browser.requested.empty()) select_scenario(app, app.browser.requested);
    switch (app.controls.request) {
    case ControlsPanelState::Request::run: start_run(app, 1); break;
    case ControlsPanelState::Request::repeat: start_run(app, app.config.repeat); break;
    case ControlsPanelState::Request::stop: app.session.stop(); break;
    case ControlsPanelState::Request::none: break;
    }
    if (app.matrix.open_request) show_record(app, *app.matrix.open_request);
}

} // namespace

App::App() {
    for (const auto& scenario : ScenarioRegistry::instance().all()) {
        if (scenario.hidden) continue;
        config = RunConfig::for_scenario(scenario);
        break;
    }
}

bool select_scenario(App& app, const std::string& id) {
    const Scenario* scenario = ScenarioRegistry::instance().find(id);
    if (!scenario) return false;
    if (app.config.scenario != id) configure_for(app, *scenario);
    return true;
}

bool select_variant(App& app, const std::string& variant) {
    const Scenario* scenario = app.config.find();
    if (!scenario || !scenario->find_variant(variant)) return false;
    app.config.choose_variant(*scenario, variant);
    return true;
}

std::string start_run(App& app, int repeat) {
    const Scenario* scenario = app.config.find();
    if (!scenario) return "choose a scenario first";
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
    return app.session.start(scenario->id, variant, overrides, repeat, options);
}

void show_record(App& app, const RecordView& view) {
    if (!view) return;
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
        return false;
    }
    show_record(app, RecordView{record, next_record_generation(), false});
    app.file_message = fmt::format("opened {}", path);
    app.file_error = false;
    return true;
}

bool save_record(App& app, const std::string& path) {
    if (!app.view || app.view.live) {
        app.file_message = "nothing to save yet: run a scenario or open a record first";
        app.file_error = true;
        return false;
    }
    std::string error;
    if (!write_record_file(*app.view.record, path, error)) {
        app.file_message = error;
        app.file_error = true;
        return false;
    }
    app.file_message = fmt::format("saved {}", path);
    app.file_error = false;
    return true;
}

void draw_app(App& app) {
    take_session_updates(app);

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
    Layout& layout = app.layout;

    // Left column: the browser.
    const float left_width = std::clamp(layout.left * whole.x, 120.0f, whole.x * 0.5f);
    if (ImGui::BeginChild("##browser", ImVec2(left_width, whole.y), true))
        draw_browser_panel(app.browser, app.config.scenario);
    ImGui::EndChild();
    ImGui::SameLine(0, 0);
    fraction_splitter("##split-left", true, whole.y, layout.left, whole.x, 1.0f, 120.0f, whole.x * 0.5f);
    ImGui::SameLine(0, 0);

    ImGui::BeginGroup();
    const float main_width = whole.x - left_width - kSplitterThickness;
    const float main_height = whole.y;
    // Top strip: the controls, five lines high unless the user dragged it.
    if (layout.top <= 0) layout.top = ImGui::GetFrameHeightWithSpacing() * 5 + ImGui::GetStyle().WindowPadding.y * 2;
    if (ImGui::BeginChild("##controls", ImVec2(main_width, layout.top), true))
        draw_controls_panel(app.controls, app.config, app.session.progress(), app.view);
    ImGui::EndChild();
    ImGui::SetCursorPosY(ImGui::GetCursorPosY() - ImGui::GetStyle().ItemSpacing.y);
    splitter("##split-top", false, main_width, layout.top, 1.0f, ImGui::GetFrameHeight() * 3, main_height * 0.5f);

    const float below = std::max(0.0f, main_height - layout.top - kSplitterThickness);
    const float bottom_height = std::clamp(layout.bottom * below, 60.0f, below * 0.7f);
    const float middle_height = std::max(60.0f, below - bottom_height - kSplitterThickness);
    const float right_width = std::clamp(layout.right * main_width, 160.0f, main_width * 0.6f);
    const float centre_width = std::max(100.0f, main_width - right_width - kSplitterThickness);

    ImGui::SetCursorPosY(ImGui::GetCursorPosY() - ImGui::GetStyle().ItemSpacing.y);
    if (ImGui::BeginChild("##centre", ImVec2(centre_width, middle_height), true)) draw_centre_tabs(app);
    ImGui::EndChild();
    ImGui::SameLine(0, 0);
    fraction_splitter("##split-right", true, middle_height, layout.right, main_width, -1.0f, 160.0f,
                      main_width * 0.6f);
    ImGui::SameLine(0, 0);
    if (ImGui::BeginChild("##verdict", ImVec2(right_width, middle_height), true))
        draw_verdict_panel(app.verdict, app.view, app.selection);
    ImGui::EndChild();

    ImGui::SetCursorPosY(ImGui::GetCursorPosY() - ImGui::GetStyle().ItemSpacing.y);
    fraction_splitter("##split-bottom", false, main_width, layout.bottom, below, -1.0f, 60.0f, below * 0.7f);
    ImGui::SetCursorPosY(ImGui::GetCursorPosY() - ImGui::GetStyle().ItemSpacing.y);
    if (ImGui::BeginChild("##output", ImVec2(main_width, 0), true))
        draw_output_panel(app.output, app.view, app.selection);
    ImGui::EndChild();
    ImGui::EndGroup();

    ImGui::End();
    carry_out_requests(app);
}

} // namespace forklore::gui
