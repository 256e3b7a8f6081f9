// [SECTION] the header: file, help, what cannot be shown
// [SECTION] the code: line numbers, thread marks, the highlighted line
// [SECTION] the events of the clicked line
// [SECTION] the panel
#include "gui/panels/source_panel.hpp"

#include "gui/models/event_log_model.hpp"
#include "gui/widgets.hpp"

#include <imgui.h>

#include <fmt/format.h>

#include <algorithm>
#include <string>

namespace forklore::gui {

namespace {

constexpr ImU32 kMarkColour = IM_COL32(150, 200, 255, 255); // a thread that is not waiting
constexpr ImU32 kHighlight = IM_COL32(80, 160, 255, 70);    // the selected event's line

// ---------------------------------------------------------------------------------------------
// [SECTION] the header: file, help, what cannot be shown
// ---------------------------------------------------------------------------------------------

void draw_header(SourcePanelState& state) {
    const SourceModel& model = state.model;
    if (model.files().size() > 1) {
        ImGui::SetNextItemWidth(ImGui::GetFontSize() * 22);
        if (ImGui::BeginCombo("##source-file", model.file().c_str())) {
            for (const auto& choice : model.files()) {
                std::string label = choice.event_count ? fmt::format("{}  ({} events)", choice.path,
                                                                     choice.event_count)
                                                       : choice.path;
                if (ImGui::Selectable(label.c_str(), choice.path == model.file())) {
                    state.chosen_file = choice.path;
                    state.clicked_line = 0;
                }
            }
            ImGui::EndCombo();
        }
    } else {
        ImGui::TextUnformatted(model.file().c_str());
    }
    ImGui::SameLine();
    help_marker("The scenario's code, as this build of forklore embeds it. Every probe records the "
                "line it was called from: a thread's name marks the line of its last event (up "
                "to the selected event, or at the end of the run), in red when that event is a "
                "wait. Selecting an event or a bar anywhere highlights its line. Click a line to "
                "list its events and select one (click again for the next).");
    if (!model.remark().empty())
        wrapped_text(model.remark());
    if (!model.selection_note().empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
        wrapped_text(model.selection_note());
        ImGui::PopStyleColor();
    }
}

// ---------------------------------------------------------------------------------------------
// [SECTION] the code: line numbers, thread marks, the highlighted line
// ---------------------------------------------------------------------------------------------

void draw_marks(const RunRecord& record, const std::vector<const ThreadMark*>& marks) {
    bool first = true;
    for (const ThreadMark* mark : marks) {
        if (!first)
            ImGui::SameLine(0, ImGui::GetFontSize() * 0.4f);
        first = false;
        const bool waiting = mark->waiting;
        ImGui::PushStyleColor(ImGuiCol_Text, waiting ? palette::waiting : kMarkColour);
        ImGui::TextUnformatted(mark->label.c_str());
        ImGui::PopStyleColor();
        if (!ImGui::IsItemHovered())
            continue;
        if (mark->event == kNoMarkEvent) // a Python thread, placed by its frames
            ImGui::SetTooltip("%s: its Python frame in %s is at this line%s", mark->label.c_str(),
                              mark->python_function.c_str(),
                              waiting ? " (stuck: the hang was proven with it here)" : "");
        else
            ImGui::SetTooltip("%s: last event here is %s%s", mark->label.c_str(),
                              std::string(to_string(record.events[mark->event].kind)).c_str(),
                              waiting ? " (waiting)" : "");
    }
}

void draw_code(SourcePanelState& state, const RunRecord& record, Selection& selection,
               float height) {
    const SourceModel& model = state.model;
    const auto& lines = model.lines();
    // The marks column is as wide as the widest line's marks.
    float marks_width = ImGui::CalcTextSize("threads").x;
    for (const auto& [line, marks] : model.marks()) {
        float width = 0;
        for (const auto& mark : marks)
            width += ImGui::CalcTextSize(mark.label.c_str()).x + ImGui::GetFontSize() * 0.4f;
        marks_width = std::max(marks_width, width);
    }
    const ImGuiTableFlags flags = ImGuiTableFlags_ScrollY | ImGuiTableFlags_ScrollX |
                                  ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit;
    if (!ImGui::BeginTable("##source-code", 3, flags, ImVec2(0, height)))
        return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("line");
    ImGui::TableSetupColumn("threads", ImGuiTableColumnFlags_WidthFixed, marks_width);
    ImGui::TableSetupColumn("code");
    ImGui::TableHeadersRow();

    const float row_height = ImGui::GetTextLineHeight() + 2 * ImGui::GetStyle().CellPadding.y;
    const std::uint32_t focus = model.focus_line();
    if (focus > 0 && (focus != state.scrolled_to || model.file() != state.scrolled_in)) {
        // Centre the line: rows are one text line each, so its place is known without drawing.
        const float visible = ImGui::GetWindowHeight() - row_height;
        ImGui::SetScrollY(
            std::max(0.0f, (static_cast<float>(focus) - 1) * row_height - visible / 2));
    }
    state.scrolled_to = focus;
    state.scrolled_in = model.file();

    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(lines.size()), row_height);
    while (clipper.Step()) {
        for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row) {
            const auto line = static_cast<std::uint32_t>(row + 1);
            ImGui::TableNextRow();
            if (line == model.highlighted_line())
                ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, kHighlight);
            ImGui::TableNextColumn();
            ImGui::PushID(row);
            const std::string number = std::to_string(line);
            const bool has_events = !model.events_on(line).empty();
            if (!has_events)
                ImGui::PushStyleColor(ImGuiCol_Text,
                                      ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
            if (ImGui::Selectable(number.c_str(), state.clicked_line == line,
                                  ImGuiSelectableFlags_SpanAllColumns)) {
                state.clicked_line = line;
                if (auto index = event_for_line_click(model, line, selection)) {
                    selection.select_event(record, *index);
                    state.shown_event = selection.event; // chosen here: no scrolling to it
                    state.scrolled_to = line;
                }
            }
            if (!has_events)
                ImGui::PopStyleColor();
            ImGui::PopID();
            ImGui::TableNextColumn();
            draw_marks(record, model.marks_on(line));
            ImGui::TableNextColumn();
            const std::string_view text = lines[static_cast<std::size_t>(row)];
            ImGui::TextUnformatted(text.data(), text.data() + text.size());
        }
    }
    ImGui::EndTable();
}

// ---------------------------------------------------------------------------------------------
// [SECTION] the events of the clicked line
// ---------------------------------------------------------------------------------------------

void draw_line_events(SourcePanelState& state, const RunRecord& record, Selection& selection) {
    const std::vector<std::size_t> events = state.model.events_on(state.clicked_line);
    if (events.empty()) {
        ImGui::TextDisabled("Line %u: no event was recorded here.", state.clicked_line);
        return;
    }
    ImGui::TextDisabled("Line %u: %zu event%s", state.clicked_line, events.size(),
                        events.size() == 1 ? "" : "s");
    if (!ImGui::BeginChild("##line-events")) {
        ImGui::EndChild();
        return;
    }
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(events.size()));
    while (clipper.Step()) {
        for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row) {
            const std::size_t index = events[static_cast<std::size_t>(row)];
            const Event& event = record.events[index];
            const std::string label =
                fmt::format("{:9.3f} ms  {} ({})  {}  {}##{}", event_time_ms(record, event),
                            field_text(event.thread), event.pid, to_string(event.kind),
                            event_object_text(event), index);
            if (ImGui::Selectable(label.c_str(), selection.is_event(index))) {
                selection.select_event(record, index);
                state.shown_event = selection.event;
                state.scrolled_to = state.clicked_line; // its line is in view already
            }
        }
    }
    ImGui::EndChild();
}

} // namespace

std::optional<std::size_t> event_for_line_click(const SourceModel& model, std::uint32_t line,
                                                const Selection& selection) {
    const std::vector<std::size_t> events = model.events_on(line);
    if (events.empty())
        return std::nullopt;
    if (selection.event) {
        auto after = std::upper_bound(events.begin(), events.end(), *selection.event);
        if (after != events.end())
            return *after;
    }
    return events.front();
}

// ---------------------------------------------------------------------------------------------
// [SECTION] the panel
// ---------------------------------------------------------------------------------------------

void draw_source_panel(SourcePanelState& state, const RecordView& view, Selection& selection) {
    if (!view) {
        ImGui::TextDisabled("No run yet: run a scenario or open a record to see its code.");
        return;
    }
    const RunRecord& record = *view.record;
    // A selection made in another panel brings its file up (and the code scrolls to its line).
    if (selection.event != state.shown_event) {
        state.shown_event = selection.event;
        state.chosen_file.clear();
    }
    state.model.update(record, view.generation, selection.event, state.chosen_file);
    if (!state.model.unavailable().empty()) {
        wrapped_text(state.model.unavailable());
        return;
    }
    draw_header(state);
    if (state.model.lines().empty())
        return;
    const float events_height =
        state.clicked_line ? ImGui::GetTextLineHeightWithSpacing() * 6.5f : 0.0f;
    const float code_height = std::max(ImGui::GetTextLineHeightWithSpacing() * 4,
                                       ImGui::GetContentRegionAvail().y - events_height);
    draw_code(state, record, selection, code_height);
    if (state.clicked_line)
        draw_line_events(state, record, selection);
}

} // namespace forklore::gui
