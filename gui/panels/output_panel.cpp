// The Output panel (output_panel.hpp): what the run wrote, and its event log.
//
// Index of this file:
// [SECTION] captured text: stdout, stderr, per process
// [SECTION] the event log: filter controls, the clipped table
// [SECTION] the panel
#include "gui/panels/output_panel.hpp"

#include "gui/widgets.hpp"
#include "sim/run/output_capture.hpp"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <string_view>

namespace forklore::gui {

namespace {

// ---------------------------------------------------------------------------------------------
// [SECTION] captured text: stdout, stderr, per process
// ---------------------------------------------------------------------------------------------

// Long text in a scrolling region: ImGui only lays out the visible lines of unwrapped text, so a
// megabyte of output stays cheap to draw.
// A stream that dropped output says how much, as the CLI does. Records from before head-and-tail
// capture count nothing: they only know that the output limit cut the run short.
void draw_text_region(const char* id, const char* stream, const std::string& text,
                      std::uint64_t written, std::uint64_t dropped, bool old_limit_reached) {
    if (ImGui::SmallButton(fmt::format("Copy##{}", id).c_str()))
        ImGui::SetClipboardText(text.c_str());
    ImGui::SameLine();
    ImGui::TextDisabled("%zu bytes", text.size());
    if (dropped > 0) {
        ImGui::SameLine();
        ImGui::TextColored(verdict_colour(VerdictKind::limit), "%s",
                           describe_dropped_output(stream, written, dropped).c_str());
    } else if (old_limit_reached) {
        ImGui::SameLine();
        ImGui::TextColored(verdict_colour(VerdictKind::limit),
                           "(truncated: the sandbox's output limit was reached)");
    }
    if (ImGui::BeginChild(id, ImVec2(0, 0), true, ImGuiWindowFlags_HorizontalScrollbar)) {
        if (text.empty())
            ImGui::TextDisabled("(nothing written)");
        else
            ImGui::TextUnformatted(text.data(), text.data() + text.size());
    }
    ImGui::EndChild();
}

std::string process_name(const RunRecord& record, pid_t pid) {
    const ProcessRecord* process = record.find_process(pid);
    if (!process || process->name.empty())
        return fmt::format("process {}", pid);
    return fmt::format("process {} ({})", pid, process->name);
}

void draw_process_output(OutputPanelState& state, const RunRecord& record) {
    if (record.processes.empty()) {
        ImGui::TextDisabled("No process recorded.");
        return;
    }
    const ProcessRecord* shown = record.find_process(state.output_pid);
    if (!shown) {
        auto wrote = std::find_if(record.processes.begin(), record.processes.end(),
                                  [](const ProcessRecord& p) { return !p.output.empty(); });
        shown = wrote != record.processes.end() ? &*wrote : &record.processes.front();
    }
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 18);
    const std::string preview = process_name(record, shown->ns_pid);
    if (ImGui::BeginCombo("##process-output", preview.c_str())) {
        for (const auto& process : record.processes) {
            std::string label =
                fmt::format("{}: {} bytes##{}", process_name(record, process.ns_pid),
                            process.output.size(), process.ns_pid);
            if (ImGui::Selectable(label.c_str(), &process == shown))
                state.output_pid = process.ns_pid;
        }
        ImGui::EndCombo();
    }
    help_marker("What each process wrote through the scenario's print probes (its output "
                "events), kept per process. The stdout and stderr tabs show what the sandbox wrote "
                "to them, as captured.");
    if (!shown->exit_description.empty()) {
        ImGui::SameLine();
        ImGui::TextDisabled("%s", shown->exit_description.c_str());
    }
    draw_text_region("##process-text", "output", shown->output, 0, 0, false);
}

// ---------------------------------------------------------------------------------------------
// [SECTION] the event log: filter controls, the clipped table
// ---------------------------------------------------------------------------------------------

// Waits are red and acquisitions green, as on the timeline.
ImU32 kind_colour(EventKind kind) {
    if (begins_a_wait(kind))
        return palette::waiting;
    switch (kind) {
    case EventKind::lock_acquired:
    case EventKind::file_lock_acquired:
        return palette::held;
    default:
        return ImGui::GetColorU32(ImGuiCol_Text);
    }
}

void draw_kind_checkboxes(OutputPanelState& state) {
    if (ImGui::Button("Kinds..."))
        ImGui::OpenPopup("##event-kinds");
    if (!ImGui::BeginPopup("##event-kinds"))
        return;
    if (ImGui::SmallButton("all"))
        state.filter.kinds = EventFilter::all_kinds();
    ImGui::SameLine();
    if (ImGui::SmallButton("none"))
        state.filter.kinds.fill(false);
    const auto& counts = state.log.kind_counts();
    for (std::size_t kind = 0; kind < kEventKindCount; ++kind) {
        std::string label = fmt::format("{} ({})", kEventKindNames[kind], counts[kind]);
        bool shown = state.filter.kinds[kind];
        if (ImGui::Checkbox(label.c_str(), &shown))
            state.filter.kinds[kind] = shown;
    }
    ImGui::EndPopup();
}

void draw_process_filter(OutputPanelState& state, const RunRecord& record) {
    const std::string preview =
        state.filter.pid ? process_name(record, *state.filter.pid) : std::string("all processes");
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12);
    if (!ImGui::BeginCombo("##event-process", preview.c_str()))
        return;
    if (ImGui::Selectable("all processes", !state.filter.pid))
        state.filter.pid.reset();
    for (pid_t pid : state.log.processes()) {
        std::string label = fmt::format("{}##{}", process_name(record, pid), pid);
        if (ImGui::Selectable(label.c_str(), state.filter.pid == pid))
            state.filter.pid = pid;
    }
    ImGui::EndCombo();
}

void draw_filter_line(OutputPanelState& state, const RunRecord& record) {
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 20);
    ImGui::InputTextWithHint("##event-filter", "filter: kind, thread, name, text",
                             &state.filter.text);
    ImGui::SameLine();
    draw_process_filter(state, record);
    ImGui::SameLine();
    draw_kind_checkboxes(state);
    ImGui::SameLine();
    ImGui::TextDisabled("%zu of %zu events", state.log.rows().size(), state.log.total());
    if (record.dropped_events || record.torn_events) {
        ImGui::SameLine();
        std::string lost;
        if (record.dropped_events)
            lost = fmt::format("{} dropped: the event ring was full", record.dropped_events);
        if (record.torn_events)
            lost += fmt::format("{}{} torn", lost.empty() ? "" : ", ", record.torn_events);
        ImGui::TextColored(verdict_colour(VerdictKind::failed), "%s", lost.c_str());
        if (ImGui::IsItemHovered()) {
            ImGui::BeginTooltip();
            ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30.0f);
            ImGui::TextUnformatted(describe_lost_events(record).c_str());
            ImGui::PopTextWrapPos();
            ImGui::EndTooltip();
        }
    }
}

void draw_event_row(const RunRecord& record, std::size_t index, Selection& selection,
                    OutputPanelState& state) {
    const Event& event = record.events[index];
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::PushID(static_cast<int>(index));
    const std::string time = fmt::format("{:.3f}", event_time_ms(record, event));
    // One selectable spanning the row: a click anywhere on it selects the event.
    if (ImGui::Selectable(time.c_str(), selection.is_event(index),
                          ImGuiSelectableFlags_SpanAllColumns)) {
        selection.select_event(record, index);
        state.shown_event = index; // chosen here: no scrolling to it
    }
    ImGui::PopID();
    ImGui::TableNextColumn();
    ImGui::Text("%d", event.pid);
    ImGui::TableNextColumn();
    const std::string_view thread = field_text(event.thread);
    ImGui::Text("%.*s (%d)", static_cast<int>(thread.size()), thread.data(), event.tid);
    ImGui::TableNextColumn();
    const std::string_view kind = to_string(event.kind);
    ImGui::PushStyleColor(ImGuiCol_Text, kind_colour(event.kind));
    ImGui::TextUnformatted(kind.data(), kind.data() + kind.size());
    ImGui::PopStyleColor();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(event_object_text(event).c_str());
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(event_args_text(event).c_str());
    ImGui::TableNextColumn();
    const std::string_view text = field_text(event.text);
    ImGui::TextUnformatted(text.data(), text.data() + text.size());
}

void draw_event_table(OutputPanelState& state, const RecordView& view, Selection& selection) {
    const RunRecord& record = *view.record;
    const auto& rows = state.log.rows();
    // A selection made elsewhere (the timeline, the locks table) scrolls the log to it once.
    std::optional<int> scroll_to;
    if (selection.event != state.shown_event) {
        state.shown_event = selection.event;
        if (selection.event)
            if (auto row = state.log.row_of(*selection.event))
                scroll_to = static_cast<int>(*row);
    }
    const ImGuiTableFlags flags = ImGuiTableFlags_ScrollY | ImGuiTableFlags_RowBg |
                                  ImGuiTableFlags_BordersOuter | ImGuiTableFlags_BordersV |
                                  ImGuiTableFlags_Resizable | ImGuiTableFlags_Hideable |
                                  ImGuiTableFlags_SizingFixedFit;
    const float min_height = ImGui::GetTextLineHeightWithSpacing() * 5;
    const ImVec2 size(0, std::max(ImGui::GetContentRegionAvail().y, min_height));
    if (!ImGui::BeginTable("##event-log", 7, flags, size))
        return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("ms");
    ImGui::TableSetupColumn("process");
    ImGui::TableSetupColumn("thread");
    ImGui::TableSetupColumn("kind");
    ImGui::TableSetupColumn("object / name");
    ImGui::TableSetupColumn("args");
    ImGui::TableSetupColumn("text", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableHeadersRow();

    // While a run is live, a log scrolled to its end follows the new events.
    const bool follow = view.live && ImGui::GetScrollY() >= ImGui::GetScrollMaxY();
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(rows.size()));
    if (scroll_to)
        clipper.ForceDisplayRangeByIndices(*scroll_to, *scroll_to + 1);
    while (clipper.Step()) {
        for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row) {
            draw_event_row(record, rows[static_cast<std::size_t>(row)], selection, state);
            if (scroll_to && row == *scroll_to)
                ImGui::SetScrollHereY(0.5f);
        }
    }
    if (follow && !scroll_to)
        ImGui::SetScrollHereY(1.0f);
    ImGui::EndTable();
}

void draw_event_log(OutputPanelState& state, const RecordView& view, Selection& selection) {
    const RunRecord& record = *view.record;
    state.log.update(record, view.generation, state.filter); // the process and kind lists
    draw_filter_line(state, record);
    state.log.update(record, view.generation, state.filter); // what the controls just changed
    if (state.log.rows().empty()) {
        ImGui::TextDisabled(record.events.empty() ? "No events recorded." : "No event matches.");
        return;
    }
    draw_event_table(state, view, selection);
}

} // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] the panel
// ---------------------------------------------------------------------------------------------

void draw_output_panel(OutputPanelState& state, const RecordView& view, Selection& selection) {
    ImGui::TextUnformatted("Output");
    help_marker("What the run wrote and what it did. 'Event log': every recorded event in order "
                "(time since the run started, process, thread, kind, the lock or object, its "
                "arguments, its text); filter by text, process or kind; click a row to select "
                "the event in every panel. 'stdout' and 'stderr': what the sandbox wrote; of a "
                "long stream the first and the last 512 KiB are kept, a line in the text marks "
                "where the rest was dropped, and the bytes written and dropped are counted above "
                "it. 'Per process': what each process printed.");
    if (!view) {
        ImGui::TextDisabled("No run yet.");
        return;
    }
    const RunRecord& record = *view.record;
    const bool old_limit_reached =
        record.output_truncated && record.stdout_bytes == 0 && record.stderr_bytes == 0;
    // The tabs on the title's line: in a short bottom row every line is a row of the log.
    ImGui::SameLine(0, ImGui::GetFontSize());
    if (!ImGui::BeginTabBar("##output-tabs"))
        return;
    if (ImGui::BeginTabItem("Event log")) {
        draw_event_log(state, view, selection);
        ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("stdout")) {
        draw_text_region("##stdout", "stdout", record.stdout_text, record.stdout_bytes,
                         record.stdout_dropped, old_limit_reached);
        ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("stderr")) {
        draw_text_region("##stderr", "stderr", record.stderr_text, record.stderr_bytes,
                         record.stderr_dropped, old_limit_reached);
        ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("Per process")) {
        draw_process_output(state, record);
        ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
}

} // namespace forklore::gui
