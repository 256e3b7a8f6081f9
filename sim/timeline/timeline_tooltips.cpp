// The timeline's tooltips: what a bar, an event, a marker or a lane's header says when hovered.
// A copied lock's words are the fork pass's (timeline_fork_copies.cpp), a sampled bar's the
// samples' pass's (timeline_from_samples.cpp).
#include "sim/timeline/timeline_model.hpp"
#include "sim/timeline/timeline_passes.hpp"

#include "sim/verdict/verdict.hpp"

#include <fmt/format.h>

namespace forklore {

std::string describe_bar(const TimelineModel& model, const RunRecord& record,
                         const TimelineBar& bar) {
    if (bar.from_samples())
        return describe_sampled_bar(model, record, bar);
    if (bar.begin_event >= record.events.size())
        return std::string(to_string(bar.kind));
    const Event& e = record.events[bar.begin_event];
    std::string what;
    const std::string name = e.name[0] ? fmt::format("'{}'", e.name) : "(unnamed)";
    const std::string lock_kind =
        bar.what == BarSubject::file_lock
            ? std::string(static_cast<FileLockKind>(e.arg0) == FileLockKind::flock   ? "flock"
                          : static_cast<FileLockKind>(e.arg0) == FileLockKind::fcntl ? "fcntl"
                                                                                     : "OFD lock")
            : std::string(to_string(static_cast<LockKind>(e.arg0)));
    if (bar.kind == BarKind::waiting) {
        switch (bar.what) {
        case BarSubject::lock:
            what = fmt::format("waiting for lock {} ({})", name, lock_kind);
            break;
        case BarSubject::file_lock:
            what = fmt::format("waiting for file lock {} ({}, inode {})", name, lock_kind, e.arg1);
            break;
        case BarSubject::condition:
            what = fmt::format("waiting on condition variable {}", name);
            break;
        case BarSubject::join:
            what = fmt::format("waiting to join thread {}", name);
            break;
        case BarSubject::child:
            what = fmt::format("waiting for child process {}", e.object);
            break;
        case BarSubject::barrier:
            what = fmt::format("waiting at barrier {}", name);
            break;
        case BarSubject::sampled: // from the samples: described above
            break;
        }
    } else {
        what =
            fmt::format("holding {} {} ({})",
                        bar.what == BarSubject::file_lock ? "file lock" : "lock", name, lock_kind);
        if (bar.kind == BarKind::held_with_waiters)
            what += " while another thread waits for it";
    }
    std::string text =
        fmt::format("{}\nthread '{}' (tid {}) of process {}\n", what, e.thread, e.tid, e.pid);
    // A hold cut into green and yellow segments: every segment tells the whole hold.
    const std::int64_t start = e.time_ns - record.start_time_ns;
    std::int64_t end = bar.end_ns;
    if (bar.end_event < record.events.size()) {
        end = record.events[bar.end_event].time_ns - record.start_time_ns;
    } else if (auto lane = model.lane_index(e.pid, e.tid)) {
        end = model.lanes[*lane].end_ns;
    }
    if (bar.kind == BarKind::held_with_waiters)
        text += fmt::format("others waiting from {} to {}\n", ms(bar.start_ns), ms(bar.end_ns));
    if (bar.open()) {
        const bool waiting = bar.kind == BarKind::waiting;
        const char* never = !waiting ? "released"
                            : bar.what == BarSubject::lock || bar.what == BarSubject::file_lock
                                ? "acquired"
                                : "satisfied";
        text += fmt::format("from {}: never {}, still {} when {} ({} later)", ms(start), never,
                            waiting ? "waiting" : "held",
                            end >= model.end_ns ? "the run ended"
                                                : fmt::format("the thread ended at {}", ms(end)),
                            ms(end - start));
        // A wait that never ended is part of the verdict's wait-for graph: say whom it waits for
        // (for an orphaned lock, the owner that stayed in the parent).
        if (waiting)
            for (const WaitEdge& edge : record.verdict.wait_for)
                if (edge.waiter_pid == e.pid && edge.waiter_tid == e.tid &&
                    !edge.description.empty())
                    text += fmt::format("\n{}{}", edge.orphaned ? "orphaned lock: " : "",
                                        edge.description);
    } else {
        text += fmt::format("from {} to {} ({})", ms(start), ms(end), ms(end - start));
        if (bar.end_event < record.events.size())
            text += fmt::format(", ended by {}", to_string(record.events[bar.end_event].kind));
    }
    return text;
}

std::string describe_event(const RunRecord& record, std::size_t index) {
    if (index >= record.events.size())
        return "no event";
    const Event& e = record.events[index];
    std::string text =
        fmt::format("{} at {}\nthread '{}' (tid {}) of process {}", to_string(e.kind),
                    ms(e.time_ns - record.start_time_ns), e.thread, e.tid, e.pid);
    switch (e.kind) {
    case EventKind::lock_wait:
    case EventKind::lock_acquired:
    case EventKind::lock_released:
        text += fmt::format("\nlock '{}' ({}) at {:#x}", e.name,
                            to_string(static_cast<LockKind>(e.arg0)), e.object);
        break;
    case EventKind::file_lock_wait:
    case EventKind::file_lock_acquired:
    case EventKind::file_lock_released:
        text += fmt::format("\nfile lock '{}' on fd {}, inode {}", e.name, e.object, e.arg1);
        break;
    case EventKind::child_start:
        text += fmt::format("\nstarted child process {} ('{}') by {}", e.object, e.name,
                            start_method_name(e));
        break;
    case EventKind::process_exit:
        text += fmt::format("\nprocess {} {}", e.object,
                            WaitStatus::from_raw(static_cast<int>(e.arg0)).text());
        break;
    case EventKind::process_start:
        text += fmt::format("\nrole '{}', parent process {}", e.name, e.arg0);
        break;
    case EventKind::thread_start:
        text += fmt::format("\nthread '{}' started by tid {}", e.name, e.arg0);
        break;
    case EventKind::signal_sent:
        text +=
            fmt::format("\n{} sent to process {}", signal_name(static_cast<int>(e.arg0)), e.object);
        break;
    case EventKind::measurement:
        text += fmt::format("\n{} = {} {}", e.name, measurement_value(e), e.text);
        return text;
    case EventKind::child_wait:
        text += fmt::format("\nfor child process {}", e.object);
        break;
    case EventKind::exec:
        text += fmt::format("\nprogram {}", e.name);
        break;
    default:
        if (e.name[0])
            text += fmt::format("\n'{}'", e.name);
        break;
    }
    if (e.text[0])
        text += fmt::format("\n{}", e.text);
    return text;
}

std::string describe_marker(const TimelineModel& model, const RunRecord& record,
                            const TimelineMarker& marker) {
    if (marker.note < model.sampled_notes.size())
        return model.sampled_notes[marker.note];
    return describe_event(record, marker.event);
}

std::string describe_lane(const TimelineLane& lane) {
    std::string text =
        fmt::format("thread '{}' (tid {}) of process {}", lane.name, lane.tid, lane.pid);
    if (lane.from_samples)
        text += fmt::format("\n{}where no probe records it (a program nobody instrumented), "
                            "its bars are what the kernel's samples showed",
                            lane.comm.empty() || lane.comm == lane.name
                                ? std::string()
                                : fmt::format("the kernel calls it '{}'; ", lane.comm));
    switch (lane.verdict) {
    case LaneVerdict::stuck:
        text += fmt::format("\nSTUCK: {}", lane.doing.empty() ? "blocked" : lane.doing);
        text += "\nIt can never run again: everything that could wake it is itself stuck.";
        break;
    case LaneVerdict::live:
        text += fmt::format("\nlive: {}", lane.doing.empty() ? "runs" : lane.doing);
        text += "\nIt could still run (it runs, sleeps with a timeout, or a live thread can wake "
                "it), but nothing it does wakes the stuck threads.";
        break;
    case LaneVerdict::none:
        break;
    }
    return text + "\nclick to select it";
}

} // namespace forklore
