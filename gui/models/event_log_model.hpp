// The event log as a filtered list: which events of a record the Output panel's table shows, and
// the text of each cell. No ImGui: the tests check the filter on real records.
#pragma once

#include "sim/record/record.hpp"

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace forklore::gui {

inline constexpr std::size_t kEventKindCount = kEventKindNames.size();

// What the user asked to see. Every part must match for an event to be shown.
struct EventFilter {
    // Case-insensitive text searched in the kind's name, the thread's name, the object's name and
    // the event's text. Empty: every event.
    std::string text;
    // Kinds shown, indexed by EventKind; all on by default.
    std::array<bool, kEventKindCount> kinds = all_kinds();
    std::optional<pid_t> pid; // only this process (namespace pid, as the events record it)

    static std::array<bool, kEventKindCount> all_kinds() {
        std::array<bool, kEventKindCount> all{};
        all.fill(true);
        return all;
    }
    void show_only(EventKind kind) {
        kinds.fill(false);
        kinds[static_cast<std::size_t>(kind)] = true;
    }
    bool operator==(const EventFilter&) const = default;
};

bool event_matches(const Event& event, const EventFilter& filter);

// The events that pass the filter, in recording order. update() is O(events) and does the work
// only when the record, its generation or the filter changed, so it can be called every frame.
class EventLogModel {
  public:
    // Returns true when the rows were recomputed.
    bool update(const RunRecord& record, std::uint64_t generation, const EventFilter& filter);

    const std::vector<std::size_t>& rows() const { return rows_; } // indices into record.events
    // The row showing event `index`, when the filter keeps it (binary search: rows are sorted).
    std::optional<std::size_t> row_of(std::size_t event_index) const;
    // The processes the events come from, ascending: the choices of the process filter.
    const std::vector<pid_t>& processes() const { return processes_; }
    // How many events of each kind the record has (before filtering).
    const std::array<std::size_t, kEventKindCount>& kind_counts() const { return kind_counts_; }
    std::size_t total() const { return total_; }

  private:
    const RunRecord* record_ = nullptr;
    std::uint64_t generation_ = 0;
    std::size_t total_ = 0;
    std::optional<EventFilter> filter_;
    std::vector<std::size_t> rows_;
    std::vector<pid_t> processes_;
    std::array<std::size_t, kEventKindCount> kind_counts_{};
};

// ---- the text of each column of the table ----

// Milliseconds since the run started.
double event_time_ms(const RunRecord& record, const Event& event);
// What the event is about: "file_lock @0x55c8859faa00", "child 4 'read'", "fd 1 (stdio)".
std::string event_object_text(const Event& event);
// Its arguments in words: "mutex", "fork", "killed by SIGABRT", "2.5 ms".
std::string event_args_text(const Event& event);

} // namespace forklore::gui
