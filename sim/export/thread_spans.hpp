// What the exports say of each thread: its label, and what it did as spans of time (a lock
// held, a wait, a lock a forked child was born holding, a state the kernel's samples showed),
// read off the timeline's model (sim/timeline/timeline_model.hpp) so that the SVG, the Chrome
// trace and the GUI show the same holds and waits. The model is the sandbox's program only: the
// host and the reaper are the sandbox's own machinery, not the lesson (as the GUI shows it by
// default).
#pragma once

#include "sim/record/record.hpp"
#include "sim/timeline/timeline_model.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace forklore {

// The timeline model the exports draw: build_timeline_model without the sandbox's own processes.
TimelineModel export_timeline(const RunRecord& record);

// "process 2 (main)", "process 3 (child 'worker')": its pid in the sandbox and its role (with its
// name when that says more).
std::string process_label(const TimelineGroup& group);
// "thread reader (tid 3)", "thread (tid 3)" when unnamed.
std::string lane_thread_label(const TimelineLane& lane);
// "process 2 (main) · thread reader (tid 3)"
std::string lane_label(const TimelineModel& model, const TimelineLane& lane);

// Where event `event` was recorded: "scenarios/010_file_read_under_lock.cpp:57"; "" when the
// record does not say (an engine's own event, an old record).
std::string source_location(const RunRecord& record, std::size_t event);

// What a bar of the model is about, in a few words: the lock's name ("file_lock"), else what
// identifies it ("0x7f1234", "inode 42"); for a bar drawn from the samples, what they showed.
std::string bar_object(const TimelineModel& model, const RunRecord& record, const TimelineBar& bar);
// A bar as a short label: "holds file_lock", "waits for file_lock", "waits at barrier start",
// "running", "blocked in futex 0x... (owner tid 3)".
std::string bar_name(const TimelineModel& model, const RunRecord& record, const TimelineBar& bar);

enum class SpanKind : std::uint8_t {
    hold,    // a lock or file lock the thread held (one span, whatever its waiters did)
    wait,    // the thread blocked: on a lock, a file lock, a condition, a join, a child, a barrier
    copy,    // a lock fork() copied into the child held: on the child's first thread
    sampled, // what the kernel's samples showed a thread the trace does not cover doing
};

// One span of a thread's time, for the exports.
struct ThreadSpan {
    SpanKind kind = SpanKind::wait;
    BarSubject what = BarSubject::lock;
    BarKind bar = BarKind::waiting;        // sampled spans: running, sleeping or waiting
    std::int64_t start_ns = 0, end_ns = 0; // relative to the run's start
    // It never ended: held or waited on until its thread or the run ended.
    bool open = false;
    bool had_waiters = false; // holds: another thread waited for the lock meanwhile
    bool orphaned = false;    // copies: nobody in the child can ever unlock it
    std::string object;       // "file_lock", "0x7f1234", "inode 42", "futex 0x... (owner tid 3)"
    std::string name;         // "holds file_lock", "waits for file_lock", "holds copy of file_lock"
    std::string detail;       // a sentence: the GUI's tooltip for the same bar or copy
    std::size_t begin_event = kNoTimelineEvent; // the wait, the acquisition, or the fork
    std::size_t end_event = kNoTimelineEvent;   // what ended it; none while open
};

// Every span of `lane`, holds first (a hold the model cut into segments by its waiters is one
// span), then copies, waits and sampled states; each group in time order.
std::vector<ThreadSpan> thread_spans(const TimelineModel& model, const RunRecord& record,
                                     const TimelineLane& lane);

} // namespace forklore
