// The Locks tab (locks_panel.hpp): the locks table, the file-locks table, their cells and tooltips.
//
// Index of this file:
// [SECTION] cells and tooltips
// [SECTION] the locks table
// [SECTION] the file-locks table
// [SECTION] the panel
#include "gui/panels/locks_panel.hpp"

#include "gui/widgets.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <tuple>

namespace forklore::gui {

namespace {

constexpr const char* kHelp =
    "Every lock of the run, one row per copy. fork() copies the parent's memory, so after a fork "
    "the same address is one lock in the parent and an independent copy in the child, in the "
    "state it had at that instant.\n\n"
    "Owner: the thread holding it at the end of the run, @ the process that thread lives in "
    "(read from the lock word by the kernel when the run hung, else from the trace).\n"
    "State: green held, yellow held with waiters, red waited on; ORPHANED (red) when the owner "
    "does not exist in the process of this copy - typically a thread of the parent that held "
    "the lock when fork() was called: nobody can ever unlock that copy.\n"
    "Semaphores, condition variables and barriers have no owner: the table says so instead of "
    "guessing.\n\n"
    "Hover a row for the whole story; click it to select the lock in every panel. Below: file "
    "locks as /proc/locks showed them (flock and OFD locks belong to an open file description, "
    "fcntl locks to a process).";

// ---------------------------------------------------------------------------------------------
// [SECTION] cells and tooltips
// ---------------------------------------------------------------------------------------------

ImVec4 state_colour(LockState state) {
    switch (state) {
    case LockState::orphaned:
    case LockState::waited:
        return ImGui::ColorConvertU32ToFloat4(palette::waiting);
    case LockState::held_with_waiters:
        return ImGui::ColorConvertU32ToFloat4(palette::held_with_waiters);
    case LockState::held:
        return ImGui::ColorConvertU32ToFloat4(palette::held);
    case LockState::free:
        break;
    }
    return ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled);
}

double ms(std::int64_t ns) {
    return static_cast<double>(ns) / 1e6;
}

// Cells are short ("'reader' (3) @ 2"); the row's tooltip says it all in words.
std::string thread_cell(const ThreadRef& thread) {
    std::string text = thread.name.empty() ? fmt::format("({})", thread.tid)
                                           : fmt::format("'{}' ({})", thread.name, thread.tid);
    if (thread.pid)
        text += fmt::format(" @ {}", thread.pid);
    return text;
}

std::string owner_cell(const LockRow& row) {
    if (!has_owner(row.kind))
        return row.kind == SyncKind::futex ? "unknown" : "no owner";
    if (row.holders.empty())
        return "-";
    std::string text = row.holders.front().reader ? "read: " : "";
    for (std::size_t i = 0; i < row.holders.size(); ++i) {
        if (i > 0)
            text += ", ";
        text += thread_cell(row.holders[i].thread);
    }
    return text;
}

std::string waiter_text(const LockWaiter& waiter) {
    std::string text = thread_label(waiter.thread);
    if (waiter.thread.pid)
        text += fmt::format(" @ {}", waiter.thread.pid);
    if (waiter.since_ns != kUnknownTime)
        text += fmt::format(" since {:.1f} ms", ms(waiter.since_ns));
    return text;
}

std::string waiters_cell(const std::vector<LockWaiter>& waiters) {
    if (waiters.empty())
        return "-";
    std::string text = thread_cell(waiters.front().thread);
    if (waiters.size() > 1)
        text += fmt::format(" +{} more", waiters.size() - 1);
    return text;
}

std::string history_cell(const LockRow& row) {
    const LockHistory& history = row.history;
    switch (row.kind) {
    case SyncKind::condition_variable:
        return fmt::format("{} waits, {} signals", history.waits, history.signals);
    case SyncKind::barrier:
        return fmt::format("{} waits, {} passed", history.waits, history.acquisitions);
    case SyncKind::semaphore:
        return fmt::format("{} taken, {} posted", history.acquisitions, history.releases);
    default:
        break;
    }
    std::string text = fmt::format("{} taken, {} released", history.acquisitions, history.releases);
    if (history.last_taker)
        text += ", last by " + thread_label(*history.last_taker);
    return text;
}

std::string process_cell(const LockRow& row) {
    if (row.copied_from)
        return fmt::format("{} (copy of {})", row.process, row.copied_from);
    return std::to_string(row.process);
}

void history_lines(const LockHistory& history) {
    ImGui::Text("History: %d waits, %d taken, %d released", history.waits, history.acquisitions,
                history.releases);
    if (history.longest_wait_ns > 0)
        ImGui::Text("Longest wait: %.2f ms", ms(history.longest_wait_ns));
    if (history.last_taker)
        ImGui::Text("Last taken by %s at %.1f ms", thread_label(*history.last_taker).c_str(),
                    ms(history.last_taken_ns));
    if (history.first_ns != kUnknownTime)
        ImGui::Text("First and latest event: %.1f ms, %.1f ms", ms(history.first_ns),
                    ms(history.last_ns));
}

void lock_tooltip(const LockRow& row) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 36.0f);
    ImGui::Text("%s %s at %#llx in process %d", std::string(to_string(row.kind)).c_str(),
                row.label().c_str(), static_cast<unsigned long long>(row.address), row.process);
    ImGui::PushStyleColor(ImGuiCol_Text, state_colour(row.state));
    ImGui::TextWrapped("%s: %s", std::string(to_string(row.state)).c_str(), row.state_text.c_str());
    ImGui::PopStyleColor();
    ImGui::Separator();
    ImGui::TextWrapped("Owner: %s%s", row.owner_text.c_str(),
                       row.owner_from_kernel ? " (read from the lock word)" : "");
    for (const auto& waiter : row.waiters)
        ImGui::BulletText("waits: %s%s%s", waiter_text(waiter).c_str(),
                          waiter.seen_by_kernel ? " (seen blocked by the kernel)" : "",
                          waiter.destroying ? " (destroying it)" : "");
    if (!row.verdict_text.empty()) {
        ImGui::Separator();
        ImGui::TextWrapped("Verdict: %s", row.verdict_text.c_str());
    }
    ImGui::Separator();
    history_lines(row.history);
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
}

// ---------------------------------------------------------------------------------------------
// [SECTION] the locks table
// ---------------------------------------------------------------------------------------------

// State second: ORPHANED must show without scrolling sideways.
enum LockColumn { kLock, kState, kOwner, kWaiters, kProcess, kKind, kHistory, kLockColumns };

void sort_locks(LocksPanelState& state, const ImGuiTableSortSpecs* specs) {
    const auto& locks = state.model.locks;
    auto compare = [&](std::size_t a_index, std::size_t b_index) {
        const LockRow& a = locks[a_index];
        const LockRow& b = locks[b_index];
        for (int i = 0; specs && i < specs->SpecsCount; ++i) {
            const ImGuiTableColumnSortSpecs& spec = specs->Specs[i];
            int order = 0;
            switch (spec.ColumnIndex) {
            case kLock:
                order = a.label().compare(b.label());
                break;
            case kProcess:
                order = (a.process > b.process) - (a.process < b.process);
                break;
            case kKind:
                order = static_cast<int>(a.kind) - static_cast<int>(b.kind);
                break;
            case kOwner:
                order = a.owner_text.compare(b.owner_text);
                break;
            case kWaiters:
                order = static_cast<int>(a.waiters.size()) - static_cast<int>(b.waiters.size());
                break;
            case kState:
                order = static_cast<int>(a.state) - static_cast<int>(b.state);
                break;
            case kHistory:
                order = a.history.acquisitions - b.history.acquisitions;
                break;
            default:
                break;
            }
            if (order != 0)
                return spec.SortDirection == ImGuiSortDirection_Descending ? order > 0 : order < 0;
        }
        return std::tie(a.state, a.process, a.address) < std::tie(b.state, b.process, b.address);
    };
    state.order.resize(locks.size());
    for (std::size_t i = 0; i < locks.size(); ++i)
        state.order[i] = i;
    std::stable_sort(state.order.begin(), state.order.end(), compare);
}

void lock_row(LocksPanelState& state, std::size_t index, Selection& selection) {
    const LockRow& row = state.model.locks[index];
    ImGui::TableNextRow();
    ImGui::TableSetColumnIndex(kLock);
    ImGui::PushID(static_cast<int>(index));
    bool selected = selection.object != 0 && selection.object == row.address;
    std::string label = row.label();
    if (ImGui::Selectable(label.c_str(), selected,
                          ImGuiSelectableFlags_SpanAllColumns |
                              ImGuiSelectableFlags_AllowItemOverlap))
        select_lock(selection, row);
    state.drawn_rows.push_back({index, false, ImGui::GetItemRectMin(), ImGui::GetItemRectMax()});
    if (ImGui::IsItemHovered())
        lock_tooltip(row);
    ImGui::PopID();

    ImGui::TableSetColumnIndex(kProcess);
    ImGui::TextUnformatted(process_cell(row).c_str());
    ImGui::TableSetColumnIndex(kKind);
    ImGui::TextUnformatted(std::string(to_string(row.kind)).c_str());
    ImGui::TableSetColumnIndex(kOwner);
    if (has_owner(row.kind))
        ImGui::TextUnformatted(owner_cell(row).c_str());
    else
        ImGui::TextDisabled("%s", owner_cell(row).c_str());
    ImGui::TableSetColumnIndex(kWaiters);
    ImGui::TextUnformatted(waiters_cell(row.waiters).c_str());
    ImGui::TableSetColumnIndex(kState);
    ImGui::TextColored(state_colour(row.state), "%s", std::string(to_string(row.state)).c_str());
    if (ImGui::IsItemHovered()) {
        // The state's reason on its own, in a sentence: why ORPHANED, who waits for what.
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 36.0f);
        ImGui::TextUnformatted(row.state_text.c_str());
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
    }
    ImGui::TableSetColumnIndex(kHistory);
    ImGui::TextUnformatted(history_cell(row).c_str());
}

void locks_table(LocksPanelState& state, Selection& selection, float height) {
    // Columns as wide as their contents, the table scrolls sideways: the centre region is narrow.
    constexpr ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg |
                                      ImGuiTableFlags_Resizable | ImGuiTableFlags_Sortable |
                                      ImGuiTableFlags_ScrollX | ImGuiTableFlags_ScrollY |
                                      ImGuiTableFlags_SizingFixedFit;
    if (!ImGui::BeginTable("locks", kLockColumns, flags, ImVec2(0, height)))
        return;
    ImGui::TableSetupScrollFreeze(1, 1);
    ImGui::TableSetupColumn("Lock"); // in LockColumn order
    ImGui::TableSetupColumn("State", ImGuiTableColumnFlags_DefaultSort);
    ImGui::TableSetupColumn("Owner @ process");
    ImGui::TableSetupColumn("Waiters @ process");
    ImGui::TableSetupColumn("Process");
    ImGui::TableSetupColumn("Kind");
    ImGui::TableSetupColumn("History");
    ImGui::TableHeadersRow();
    if (ImGuiTableSortSpecs* specs = ImGui::TableGetSortSpecs()) {
        if (specs->SpecsDirty || state.order.size() != state.model.locks.size()) {
            sort_locks(state, specs);
            specs->SpecsDirty = false;
        }
    } else if (state.order.size() != state.model.locks.size()) {
        sort_locks(state, nullptr);
    }
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(state.order.size()));
    while (clipper.Step())
        for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i)
            lock_row(state, state.order[static_cast<std::size_t>(i)], selection);
    ImGui::EndTable();
}

// ---------------------------------------------------------------------------------------------
// [SECTION] the file-locks table
// ---------------------------------------------------------------------------------------------

std::string party_cell(const std::vector<FileLockParty>& parties) {
    std::string text;
    for (const auto& party : parties) {
        if (!text.empty())
            text += ", ";
        if (party.pid)
            text += fmt::format("process {}", party.pid);
        else if (party.host_pid == -1)
            text += "a file description (OFD)";
        else
            text += fmt::format("host pid {}", party.host_pid);
        if (party.fd >= 0)
            text += fmt::format(" fd {}", party.fd);
        text += fmt::format(" {} {}", party.type, party.write ? "WRITE" : "READ");
    }
    return text;
}

std::string file_holders_cell(const FileLockRow& row) {
    if (!row.holders.empty())
        return party_cell(row.holders);
    std::string text;
    for (const auto& holder : row.trace_holders) {
        if (!text.empty())
            text += ", ";
        text += thread_cell(holder.thread) + " (trace)";
    }
    return text.empty() ? "-" : text;
}

std::string file_waiters_cell(const FileLockRow& row) {
    if (!row.waiters.empty())
        return party_cell(row.waiters);
    return waiters_cell(row.trace_waiters);
}

void file_lock_tooltip(const FileLockRow& row) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 36.0f);
    ImGui::Text("file lock %s%s%s", row.label().c_str(), row.device.empty() ? "" : " on device ",
                row.device.c_str());
    ImGui::PushStyleColor(ImGuiCol_Text, state_colour(row.state));
    ImGui::TextWrapped("%s", row.state_text.c_str());
    ImGui::PopStyleColor();
    for (const auto& waiter : row.trace_waiters)
        ImGui::BulletText("by the trace, waits: %s", waiter_text(waiter).c_str());
    if (!row.verdict_text.empty()) {
        ImGui::Separator();
        ImGui::TextWrapped("Verdict: %s", row.verdict_text.c_str());
    }
    ImGui::Separator();
    history_lines(row.history);
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
}

void file_locks_table(LocksPanelState& state, Selection& selection, float height) {
    const auto& files = state.model.file_locks;
    ImGui::TextUnformatted("File locks");
    ImGui::SameLine();
    ImGui::TextDisabled("(%s)", state.model.file_locks_note.c_str());
    if (files.empty()) {
        ImGui::TextDisabled("No file locks in this run.");
        return;
    }
    constexpr ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg |
                                      ImGuiTableFlags_Resizable | ImGuiTableFlags_ScrollX |
                                      ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingFixedFit;
    if (!ImGui::BeginTable("file locks", 6, flags, ImVec2(0, height)))
        return;
    ImGui::TableSetupScrollFreeze(1, 1);
    ImGui::TableSetupColumn("File lock");
    ImGui::TableSetupColumn("State");
    ImGui::TableSetupColumn("Holders");
    ImGui::TableSetupColumn("Waiters");
    ImGui::TableSetupColumn("Kind");
    ImGui::TableSetupColumn("History");
    ImGui::TableHeadersRow();
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(files.size()));
    while (clipper.Step()) {
        for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
            const FileLockRow& row = files[static_cast<std::size_t>(i)];
            ImGui::TableNextRow();
            ImGui::TableSetColumnIndex(0);
            ImGui::PushID(i);
            bool selected = selection.object != 0 && selection.object == row.inode;
            if (ImGui::Selectable(row.label().c_str(), selected,
                                  ImGuiSelectableFlags_SpanAllColumns |
                                      ImGuiSelectableFlags_AllowItemOverlap))
                select_file_lock(selection, row);
            state.drawn_rows.push_back({static_cast<std::size_t>(i), true, ImGui::GetItemRectMin(),
                                        ImGui::GetItemRectMax()});
            if (ImGui::IsItemHovered())
                file_lock_tooltip(row);
            ImGui::PopID();
            ImGui::TableSetColumnIndex(1);
            ImGui::TextColored(state_colour(row.state), "%s",
                               std::string(to_string(row.state)).c_str());
            ImGui::TableSetColumnIndex(2);
            ImGui::TextUnformatted(file_holders_cell(row).c_str());
            ImGui::TableSetColumnIndex(3);
            ImGui::TextUnformatted(file_waiters_cell(row).c_str());
            ImGui::TableSetColumnIndex(4);
            ImGui::TextUnformatted(row.kind.c_str());
            ImGui::TableSetColumnIndex(5);
            ImGui::Text("%d taken, %d released", row.history.acquisitions, row.history.releases);
        }
    }
    ImGui::EndTable();
}

} // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] the panel
// ---------------------------------------------------------------------------------------------

void draw_locks_panel(LocksPanelState& state, const RecordView& view, Selection& selection) {
    ImGui::TextUnformatted("Locks");
    help_marker(kHelp);
    if (!view) {
        ImGui::TextDisabled("No run yet.");
        return;
    }
    if (!state.built_from.matches(view)) {
        state.model = build_lock_table(*view.record, view.live);
        state.built_from.remember(view);
        state.order.clear(); // re-sorted by the table's current sort at the next draw
    }
    state.drawn_rows.clear();
    const LockTableModel& model = state.model;
    int orphaned = model.orphaned_count();
    ImGui::SameLine();
    ImGui::TextDisabled("%zu locks and waits, %zu file locks%s", model.locks.size(),
                        model.file_locks.size(), view.live ? " (run in progress)" : "");
    if (orphaned > 0) {
        ImGui::SameLine();
        ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(palette::waiting), "%d ORPHANED",
                           orphaned);
    }

    const float line = ImGui::GetFrameHeightWithSpacing();
    const float available = ImGui::GetContentRegionAvail().y;
    // The file-locks table gets what its rows need, up to a third; the locks table the rest.
    float file_rows = static_cast<float>(std::max<std::size_t>(model.file_locks.size(), 1));
    float file_height = model.file_locks.empty()
                            ? line * 2.0f
                            : std::min(line * (file_rows + 2.5f), available / 3.0f);
    float locks_height = std::max(available - file_height - line, line * 4.0f);
    if (model.locks.empty())
        ImGui::TextDisabled("No lock, condition variable or barrier was used in this run.");
    else
        locks_table(state, selection, locks_height);
    file_locks_table(state, selection, std::max(file_height - line, line * 3.0f));
}

} // namespace forklore::gui
