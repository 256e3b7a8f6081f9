// The passes of build_timeline_model (timeline_model.cpp), in the order it runs them, the file
// each lives in, and what they hand on to each other. Internal to the timeline model
// (sim/timeline/timeline_*.cpp); the GUI's panels and the exports use timeline_model.hpp.
//
// Index of this file:
// [SECTION] What several passes use
// [SECTION] Pass one: groups and lanes (timeline_lanes.cpp)
// [SECTION] Passes two and three: the trace's bars, markers and arrows (timeline_from_trace.cpp)
// [SECTION] Passes four and five: yellow, and rows (timeline_rows.cpp)
// [SECTION] The passes over the finished lanes
#pragma once

#include "sim/protocol/start_method.hpp"
#include "sim/timeline/timeline_model.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace forklore {

// [SECTION] What several passes use ---------------------------------------------------------

std::string ms(std::int64_t ns);           // "12.345 ms"
std::string exit_label(WaitStatus status); // "exit 0", "SIGKILL"

// The start method a child_start event names (its arg0); nothing for a number no method has.
std::optional<StartMethod> recorded_start_method(const Event& child_start);
// Its name ("fork", "spawn" ...), or "started" for a number no method has.
std::string start_method_name(const Event& child_start);

// [SECTION] Pass one: groups and lanes (timeline_lanes.cpp) ---------------------------------

// Where pass one put each thread and process of the trace, for the passes that read the events.
struct LaneIndex {
    std::unordered_map<std::uint64_t, std::size_t> lane_of; // by thread_key(pid, tid)
    std::unordered_map<pid_t, std::size_t> group_of;        // by pid
    std::unordered_map<pid_t, std::int64_t>
        first_own_event_ns; // the first event a process recorded

    static std::uint64_t thread_key(pid_t pid, pid_t tid);
    std::size_t lane(pid_t pid, pid_t tid) const; // every thread of the trace has one
};

// The processes and their threads, from the record's process list (complete runs) and the events
// (a live run has no process list yet): one group per process in process-tree order (parents
// before their children, the host first, then by start time), one lane per thread (the process's
// first thread leads), each with the times it is known to exist.
LaneIndex add_groups_and_lanes(TimelineModel& model, const RunRecord& record);

// [SECTION] Passes two and three: the trace's bars, markers and arrows (timeline_from_trace.cpp)

// What identifies a lock across threads. An in-memory lock is its address in one process: a
// forked child (or a fork server's child) has its own copy at the same address, and waiting on
// that copy is not waiting for the parent's holder (the verdict explains an orphaned copy). A
// file lock is its inode, shared by every process that opens the file.
struct LockId {
    BarSubject what = BarSubject::lock;
    pid_t pid = 0; // 0 for file locks
    std::uint64_t id = 0;
    bool operator==(const LockId&) const = default;
};
struct LockIdHash {
    std::size_t operator()(const LockId& key) const;
};

// A bar before holds are split by their waiters and before it has a row.
struct LogicalBar {
    TimelineBar bar;
    LockId lock;                   // holds and lock waits: the lock
    bool counts_as_waiter = false; // a lock wait that makes the lock's holder yellow
};

// A wait begun and not yet ended.
struct PendingWait {
    BarSubject what = BarSubject::lock;
    std::uint64_t object = 0;
    LockId lock;
    bool counts_as_waiter = false;
    std::size_t event = kNoTimelineEvent;
    std::int64_t start_ns = 0;
};

// A lock taken and not yet released.
struct OpenHold {
    LockId lock;
    int count = 0; // recursive mutexes are taken several times by one thread
    std::size_t event = kNoTimelineEvent;
    std::int64_t start_ns = 0;
};

// One lane's bars while the events are read: what is still open, and what has ended.
struct LaneWork {
    std::optional<PendingWait> wait;
    std::vector<OpenHold> holds;
    std::vector<LogicalBar> bars;
};

// Pass two: bars, markers and arrows, one event at a time in recording order (each thread's
// events are in program order). Markers and arrows go into the model; a lane's bars stay in its
// LaneWork (one per lane) until passes four and five give them rows.
std::vector<LaneWork> read_trace(TimelineModel& model, const RunRecord& record,
                                 const LaneIndex& index);

// Pass three: what never ended runs to the end of its thread (its process's end, or the run's).
void end_what_never_ended(TimelineModel& model, std::vector<LaneWork>& work);

// [SECTION] Passes four and five: yellow, and rows (timeline_rows.cpp) -----------------------

using Spans = std::vector<std::pair<std::int64_t, std::int64_t>>; // sorted, disjoint
using WaitedSpans = std::unordered_map<LockId, Spans, LockIdHash>;

// Pass four, yellow: for each lock, the union of the times some thread waited for it.
WaitedSpans waited_spans(const std::vector<LaneWork>& work);

// Pass five, rows: what a thread holds (bands, cut green and yellow by `waited`) apart from what
// it waits on (bars), each stacked where they overlap (nested holds; a wait ended by another
// wait's start); every row sorted for binary search, and each lane's markers by time.
void stack_rows(TimelineModel& model, std::vector<LaneWork>& work, const WaitedSpans& waited);

// [SECTION] The passes over the finished lanes ------------------------------------------------

// The samples' pass (timeline_from_samples.cpp), for the threads and processes the trace does not
// cover (a program nobody instrumented, run by `forklore exec`, or a scenario's process after it
// exec'd a Python interpreter): for each such thread, bars of what consecutive samples showed it
// doing (waiting, and on what; running; sleeping), a lane name that tells threads apart; for each
// such process, the arrow from the parent that made it, markers for its execs, and its exit with
// the status the samples saw. A process is covered by the trace from its first event, up to an
// exec that no process_start followed (a program that records nothing replaced the instrumented
// one). The sandbox's own processes (host, reaper) get nothing. Runs before the verdicts' pass,
// whose hatch starts at a stuck thread's last open wait.
void add_sampled_activity(TimelineModel& model, const RunRecord& record);

// The tooltip of a bar drawn from the samples (timeline_from_samples.cpp): the state and what
// the thread waits on, the thread, the samples that showed it and since when, and the verdict's
// words for a final wait.
std::string describe_sampled_bar(const TimelineModel& model, const RunRecord& record,
                                 const TimelineBar& bar);

// The fork pass (timeline_fork_copies.cpp): for every child made by copying its parent's memory,
// the locks the parent's threads held at that instant go onto the start arrow and, as copy
// bands, onto the child's first lane. Needs the lanes' hold bands and the start arrows.
void add_fork_copies(TimelineModel& model, const RunRecord& record);

// The default view's span (timeline_story_span.cpp): model.story_start_ns .. story_end_ns.
void frame_story(TimelineModel& model, const RunRecord& record);

// The verdicts' pass (timeline_lane_verdicts.cpp): the verdict's stuck and live lists onto the
// lanes, and a stuck lane's final wait for the hatch.
void mark_lane_verdicts(TimelineModel& model, const RunRecord& record);

} // namespace forklore
