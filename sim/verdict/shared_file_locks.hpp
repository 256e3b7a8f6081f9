// The hazard of a file lock that belongs to an open file description (flock, OFD locks): a
// child that inherited the fd shares the description, so its lock call succeeds at once while
// the parent holds the lock, and its unlock releases the parent's lock too. Found from the
// file-lock events (an exclusive lock granted to a second process while the first still held it
// can only be one shared description), confirmed by /proc/locks where a sample read it.
#pragma once

#include "sim/observe/snapshot.hpp"
#include "sim/protocol/events.hpp"
#include "sim/verdict/verdict.hpp"

#include <cstdint>
#include <vector>

namespace forklore {

// Appends a "shared_file_lock" warning for each release by one sharer while another still
// believed it held the lock. The probes take file locks exclusively (probe::FileLock::lock's
// default, the only mode the corpus uses; the events do not record the mode). Times count from
// `run_start_ns`.
void shared_file_lock_warnings(const std::vector<Event>& events,
                               const std::vector<Snapshot>& snapshots, std::int64_t run_start_ns,
                               std::vector<VerdictWarning>& warnings);

} // namespace forklore
