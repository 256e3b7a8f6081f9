// A flock or OFD lock that two processes held at once through one open file description, and
// released for both by one of them: from the file-lock events (and /proc/locks where a sample
// read it). See shared_file_locks.hpp.
#include "sim/verdict/shared_file_locks.hpp"

#include "sim/verdict/explain.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <map>
#include <optional>

namespace forklore {

namespace {

bool is_description_lock(const Event& e) {
    auto kind = static_cast<FileLockKind>(e.arg0);
    return kind == FileLockKind::flock || kind == FileLockKind::ofd;
}

bool is_file_lock_event(const Event& e) {
    return e.kind == EventKind::file_lock_wait || e.kind == EventKind::file_lock_acquired ||
           e.kind == EventKind::file_lock_released;
}

// A process's hold of a file lock, as the trace says it believed.
struct FileHold {
    pid_t pid = 0;
    int fd = -1;
    std::int64_t since_ns = 0;
};

// True when a detailed sample between `from` and `to` read /proc/locks and found no lock held on
// `inode`: the kernel's own word that the lock was gone. Its time when found.
std::optional<std::int64_t> kernel_saw_no_lock(const std::vector<Snapshot>& snapshots,
                                               std::uint64_t inode, std::int64_t from,
                                               std::int64_t to) {
    for (const auto& snapshot : snapshots) {
        if (!snapshot.detailed || snapshot.time_ns <= from || snapshot.time_ns >= to)
            continue;
        bool held =
            std::any_of(snapshot.file_locks.begin(), snapshot.file_locks.end(),
                        [&](const FileLockEntry& l) { return l.inode == inode && !l.waiting; });
        if (!held)
            return snapshot.time_ns;
    }
    return std::nullopt;
}

} // namespace

void shared_file_lock_warnings(const std::vector<Event>& events,
                               const std::vector<Snapshot>& snapshots, std::int64_t run_start_ns,
                               std::vector<VerdictWarning>& warnings) {
    // inode -> the processes that believe they hold it now (their latest event is an acquisition)
    std::map<std::uint64_t, std::vector<FileHold>> holds;
    // Pairs found sharing: (inode, first holder, second holder) -> the second's acquisition.
    struct Sharing {
        std::uint64_t inode;
        FileHold first, second;
        std::string name, kind;
        const Event* acquired = nullptr;
    };
    std::vector<Sharing> sharings;
    for (const auto& e : events) {
        if (!is_file_lock_event(e) || !is_description_lock(e) ||
            e.kind == EventKind::file_lock_wait)
            continue;
        const auto inode = static_cast<std::uint64_t>(e.arg1);
        auto& held = holds[inode];
        auto own = std::find_if(held.begin(), held.end(),
                                [&](const FileHold& h) { return h.pid == e.pid; });
        if (e.kind == EventKind::file_lock_acquired) {
            if (own != held.end())
                continue; // taken again through the same process
            // Another process believes it holds this lock, and the kernel granted it here too:
            // an exclusive flock or OFD lock excludes every other open file description, so both
            // hold it through one description they share (an fd inherited across fork or exec).
            for (const auto& other : held)
                sharings.push_back({inode,
                                    other,
                                    {e.pid, static_cast<int>(e.object), e.time_ns},
                                    std::string(field_text(e.name)),
                                    static_cast<FileLockKind>(e.arg0) == FileLockKind::flock
                                        ? "flock"
                                        : "OFD lock",
                                    &e});
            held.push_back({e.pid, static_cast<int>(e.object), e.time_ns});
            continue;
        }
        // A release by one sharer releases the description's lock for every sharer.
        if (own == held.end())
            continue;
        const FileHold releaser = *own;
        held.erase(own);
        for (const auto& sharing : sharings) {
            if (sharing.inode != inode)
                continue;
            const bool first_releases = sharing.first.pid == releaser.pid;
            const bool second_releases = sharing.second.pid == releaser.pid;
            if (!first_releases && !second_releases)
                continue;
            const FileHold& other = first_releases ? sharing.second : sharing.first;
            auto still = std::find_if(held.begin(), held.end(),
                                      [&](const FileHold& h) { return h.pid == other.pid; });
            if (still == held.end())
                continue;
            // When did the other believe it released it? Its next release event, if any.
            const Event* other_release = nullptr;
            for (const auto& later : events)
                if (later.time_ns > e.time_ns && later.pid == other.pid &&
                    later.kind == EventKind::file_lock_released &&
                    static_cast<std::uint64_t>(later.arg1) == inode) {
                    other_release = &later;
                    break;
                }
            std::string lock =
                sharing.name.empty()
                    ? fmt::format("the {} on inode {}", sharing.kind, inode)
                    : fmt::format("{} '{}' (inode {})", sharing.kind, sharing.name, inode);
            std::string text = fmt::format(
                "{}'s lock call on {} through fd {} returned at once at {} although {} held it "
                "through fd {} since {}: both held it through one open file description they "
                "share (an fd inherited across fork, exec or spawn), so it excluded neither from "
                "the other. Then {} unlocked it through fd {} at {}, which released the lock of {} "
                "too, while {} believed it still held it",
                capitalized(process_label(events, sharing.second.pid)), lock, sharing.second.fd,
                time_in_run(run_start_ns, sharing.acquired->time_ns),
                process_label(events, sharing.first.pid), sharing.first.fd,
                time_in_run(run_start_ns, sharing.first.since_ns),
                process_label(events, releaser.pid), static_cast<int>(e.object),
                time_in_run(run_start_ns, e.time_ns), process_label(events, other.pid),
                process_label(events, other.pid));
            if (other_release)
                text += fmt::format(" (it released it only at {})",
                                    time_in_run(run_start_ns, other_release->time_ns));
            text += ".";
            std::int64_t until = other_release ? other_release->time_ns : INT64_MAX;
            if (auto seen = kernel_saw_no_lock(snapshots, inode, e.time_ns, until))
                text += fmt::format(" The kernel's /proc/locks at {} listed no lock on the file.",
                                    time_in_run(run_start_ns, *seen));
            text += " Nothing hung, but the lock protected nothing in between.";
            warnings.push_back({"shared_file_lock", std::move(text), other.pid});
        }
    }
}

} // namespace forklore
