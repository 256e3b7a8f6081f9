#include "gui/run_history.hpp"

#include "sim/run/matrix.hpp"

#include <algorithm>
#include <map>

namespace forklore::gui {

std::string_view to_string(RunFilter filter) {
    switch (filter) {
    case RunFilter::all:
        return "all";
    case RunFilter::hung:
        return "hung";
    case RunFilter::completed:
        return "completed";
    }
    return "all";
}

bool RunEntry::matches(RunFilter filter) const {
    switch (filter) {
    case RunFilter::all:
        return true;
    case RunFilter::hung:
        return hung;
    case RunFilter::completed:
        return kind == VerdictKind::completed;
    }
    return true;
}

std::size_t approximate_record_bytes(const RunRecord& record) {
    std::size_t bytes = sizeof(RunRecord) + record.events.capacity() * sizeof(Event) +
                        record.stdout_text.size() + record.stderr_text.size() +
                        record.verdict.explanation.size();
    for (const Snapshot& snapshot : record.snapshots) {
        bytes += sizeof(Snapshot) + snapshot.file_locks.size() * sizeof(FileLockEntry);
        for (const ProcessSnapshot& process : snapshot.processes)
            bytes += sizeof(ProcessSnapshot) + process.comm.size() + process.exe.size() +
                     process.command.size() + process.threads.size() * sizeof(ThreadSnapshot) +
                     process.channel_ends.size() * sizeof(OpenChannelEnd);
    }
    for (const ProcessRecord& process : record.processes)
        bytes += sizeof(ProcessRecord) + process.output.size() + process.command.size();
    for (const ThreadStack& stack : record.stacks)
        bytes += sizeof(ThreadStack) + stack.frames.size() * sizeof(StackFrame);
    return bytes;
}

void RunHistory::clear() {
    entries_.clear();
    kept_bytes_ = 0;
}

const RunEntry& RunHistory::add(std::shared_ptr<const RunRecord> record, std::uint64_t generation,
                                bool stopped) {
    RunEntry entry;
    entry.number = static_cast<int>(entries_.size()) + 1;
    entry.generation = generation;
    entry.stopped = stopped;
    if (record) {
        entry.kind = record->verdict.kind;
        entry.outcome = stopped ? "stopped" : outcome_label(record->verdict);
        // A run the user stopped has no outcome (its verdict is `stopped`): nothing hung.
        entry.hung = is_hang(record->verdict.kind) && !stopped;
        entry.bytes = approximate_record_bytes(*record);
        kept_bytes_ += entry.bytes;
    }
    entry.record = std::move(record);
    entries_.push_back(std::move(entry));
    enforce_budget();
    return entries_.back();
}

void RunHistory::enforce_budget() {
    if (kept_bytes_ <= budget_bytes_)
        return;
    std::map<std::string, int> kept_per_outcome;
    for (const RunEntry& entry : entries_)
        if (entry.kept())
            ++kept_per_outcome[entry.outcome];
    // Oldest first; the newest run (on screen) and each outcome's last example stay.
    for (std::size_t i = 0; i + 1 < entries_.size() && kept_bytes_ > budget_bytes_; ++i) {
        RunEntry& entry = entries_[i];
        if (!entry.kept() || kept_per_outcome[entry.outcome] <= 1)
            continue;
        --kept_per_outcome[entry.outcome];
        kept_bytes_ -= entry.bytes;
        entry.record.reset();
    }
}

const RunEntry* RunHistory::find(int number) const {
    if (number < 1 || number > static_cast<int>(entries_.size()))
        return nullptr;
    return &entries_[static_cast<std::size_t>(number - 1)];
}

int RunHistory::dropped_count() const {
    return static_cast<int>(std::count_if(entries_.begin(), entries_.end(),
                                          [](const RunEntry& entry) { return !entry.kept(); }));
}

std::optional<int> step_runs(const std::vector<RunEntry>& runs, int number, int direction,
                             RunFilter filter) {
    const int count = static_cast<int>(runs.size());
    for (int n = number + (direction < 0 ? -1 : 1); n >= 1 && n <= count;
         n += direction < 0 ? -1 : 1) {
        const RunEntry& entry = runs[static_cast<std::size_t>(n - 1)];
        if (entry.kept() && entry.matches(filter))
            return n;
    }
    return std::nullopt;
}

std::optional<int> RunHistory::latest(RunFilter filter) const {
    return step(static_cast<int>(entries_.size()) + 1, -1, filter);
}

} // namespace forklore::gui
