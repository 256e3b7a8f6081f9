// The Locks tab's model: the fork-aware lock replay of a run (sim/record/lock_replay.hpp) as the
// table's rows, worst state first. Every lock, condition variable, barrier and file lock, who
// holds it at the end, who waits on it, and whether its owner is missing from the waiter's process
// (an "orphaned" lock) are the replay's; this model only orders them and finds them. Plain data,
// no ImGui, valid on its own after the record.
//
// One lock, several rows: fork() copies the parent's memory, so after a fork the same address
// names one lock in the parent and an independent COPY in the child, in the state it had at
// that instant. A row is therefore one copy: (process whose memory it lives in, address).
#pragma once

#include "gui/record_view.hpp"
#include "sim/record/lock_replay.hpp"
#include "sim/record/record.hpp"

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace forklore::gui {

using LockRow = LockCopy;             // a row of the locks table: one copy of an object
using FileLockRow = ReplayedFileLock; // a row of the file locks table: one file

struct LockTableModel {
    std::vector<LockRow> locks;          // worst state first, then by process and address
    std::vector<FileLockRow> file_locks; // worst state first, then by inode
    // The sample /proc/locks was read in (relative time), and what that means for this run.
    std::int64_t file_locks_seen_ns = kUnknownTime;
    std::string file_locks_note;

    const LockRow* find(pid_t process, std::uint64_t address) const;
    // Every copy of the object named `name`, in any process.
    std::vector<const LockRow*> named(std::string_view name) const;
    int orphaned_count() const;
};

// `live`: the record is still growing, so the last sample shows the present and processes with
// no exit status are running, not "killed by the runner".
LockTableModel build_lock_table(const RunRecord& record, bool live = false);

// What clicking a lock selects (here, not in the panel, so that a lesson's `look: lock NAME`
// selects it as a click does): the lock's address as the object, its owner's thread and process
// (the copy's process when nobody owns it), and the event where the owner took it.
void select_lock(Selection& selection, const LockRow& row);
// A file lock: its inode, and the first holding process.
void select_file_lock(Selection& selection, const FileLockRow& row);

} // namespace forklore::gui
