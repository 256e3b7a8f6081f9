// The finished runs of one Run or Repeat, kept so that the user can step through them: every
// run's number and outcome (a few bytes each, all kept), and the records themselves within a
// memory budget. A 40-run repeat keeps all 40 records; a 1000-run repeat of a large scenario
// keeps as many as the budget holds and says which were dropped. Plain data, no ImGui; not
// thread-safe (RunSession guards it with its mutex).
#pragma once

#include "sim/protocol/verdict_kind.hpp"
#include "sim/record/record.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace forklore::gui {

// Which runs the browser steps through.
enum class RunFilter { all, hung, completed };
std::string_view to_string(RunFilter filter); // "all", "hung", "completed"

// One finished run.
struct RunEntry {
    int number = 0; // 1-based, in the order the runs were made
    VerdictKind kind = VerdictKind::completed;
    std::string outcome;          // outcome_label: "deadlocked(orphaned_lock)", "completed"
    bool hung = false;            // deadlocked or timed out, and not stopped by the user
    bool stopped = false;         // the user pressed Stop during this run: it proves nothing
    std::uint64_t generation = 0; // the RecordView generation it was published with
    std::size_t bytes = 0;        // the record's estimated size in memory
    std::shared_ptr<const RunRecord> record; // null once dropped to stay within the budget

    bool kept() const { return record != nullptr; }
    bool matches(RunFilter filter) const;
};

// The next (direction +1) or previous (-1) run after `number` in `runs` that passes the filter
// and whose record is kept; nothing at the end. From number 0 (none on screen), +1 is the first.
std::optional<int> step_runs(const std::vector<RunEntry>& runs, int number, int direction,
                             RunFilter filter);

// A record's approximate size in memory: its events, samples, output and stacks.
std::size_t approximate_record_bytes(const RunRecord& record);

class RunHistory {
  public:
    // 256 MiB: about 1,300 records of 1,000 events, or 40 records of the largest trace
    // (262,144 events of 200 bytes is 52 MiB: four of those).
    static constexpr std::size_t kDefaultBudgetBytes = std::size_t{256} << 20;

    explicit RunHistory(std::size_t budget_bytes = kDefaultBudgetBytes)
        : budget_bytes_(budget_bytes) {}

    void clear();
    // Adds a finished run as the next number. Over the budget, the oldest records are dropped
    // first, except the last kept example of each outcome and this newest run, so that every
    // outcome that happened can still be looked at.
    const RunEntry& add(std::shared_ptr<const RunRecord> record, std::uint64_t generation,
                        bool stopped = false);

    const std::vector<RunEntry>& entries() const { return entries_; }
    const RunEntry* find(int number) const;
    std::size_t kept_bytes() const { return kept_bytes_; }
    std::size_t budget_bytes() const { return budget_bytes_; }
    int dropped_count() const;

    // step_runs over this history's runs.
    std::optional<int> step(int number, int direction, RunFilter filter) const {
        return step_runs(entries_, number, direction, filter);
    }
    // The latest kept run that passes the filter.
    std::optional<int> latest(RunFilter filter) const;

  private:
    void enforce_budget();

    std::vector<RunEntry> entries_;
    std::size_t kept_bytes_ = 0;
    std::size_t budget_bytes_;
};

} // namespace forklore::gui
