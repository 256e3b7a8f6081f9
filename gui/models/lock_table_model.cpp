// The Locks tab's rows: the lock replay (sim/record/lock_replay.cpp), ordered for the table.
#include "gui/models/lock_table_model.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

namespace forklore::gui {

const LockRow* LockTableModel::find(pid_t process, std::uint64_t address) const {
    for (const auto& row : locks)
        if (row.process == process && row.address == address)
            return &row;
    return nullptr;
}

std::vector<const LockRow*> LockTableModel::named(std::string_view name) const {
    std::vector<const LockRow*> found;
    for (const auto& row : locks)
        if (row.name == name)
            found.push_back(&row);
    return found;
}

int LockTableModel::orphaned_count() const {
    return static_cast<int>(
        std::count_if(locks.begin(), locks.end(), [](const LockRow& row) { return row.orphaned; }));
}

void select_lock(Selection& selection, const LockRow& row) {
    selection.clear();
    selection.object = row.address;
    if (const LockHolder* owner = row.owner(); owner && has_owner(row.kind)) {
        selection.pid = owner->thread.pid ? owner->thread.pid : row.process;
        selection.tid = owner->thread.tid;
        if (owner->event != kNoEvent)
            selection.event = owner->event;
    } else {
        selection.pid = row.process;
    }
}

void select_file_lock(Selection& selection, const FileLockRow& row) {
    selection.clear();
    selection.object = row.inode;
    if (!row.holders.empty() && row.holders.front().pid != 0) {
        selection.pid = row.holders.front().pid;
    } else if (!row.trace_holders.empty()) {
        selection.pid = row.trace_holders.front().thread.pid;
        selection.tid = row.trace_holders.front().thread.tid;
    }
}

LockTableModel build_lock_table(const RunRecord& record, bool live) {
    LockReplay replay = replay_locks(record, live);
    LockTableModel model;
    model.locks = std::move(replay.locks);
    model.file_locks = std::move(replay.file_locks);
    model.file_locks_seen_ns = replay.file_locks_seen_ns;
    model.file_locks_note = std::move(replay.file_locks_note);
    // The worst first: an orphaned copy heads the table.
    std::sort(model.locks.begin(), model.locks.end(), [](const LockRow& a, const LockRow& b) {
        return std::tie(a.state, a.process, a.name, a.address) <
               std::tie(b.state, b.process, b.name, b.address);
    });
    std::sort(model.file_locks.begin(), model.file_locks.end(),
              [](const FileLockRow& a, const FileLockRow& b) {
                  return std::tie(a.state, a.inode) < std::tie(b.state, b.inode);
              });
    return model;
}

} // namespace forklore::gui
