// The timeline's model: what happened on each thread of a run, as lanes, computed once per record.
// The GUI's Timeline tab draws it; the exports (sim/export/: the SVG timeline, the Chrome trace)
// write it out. Engine knowledge (how fork copies a lock), so it lives in sim/, with no UI.
//
// A record becomes process groups (one per sandbox process, in process-tree order), each with one
// lane per thread. A lane keeps apart what its thread holds and what it waits on: the locks it
// holds are bands (green, yellow while another thread waits for the same lock) over the rows of
// its waits (red), so "holds file_lock while it waits at a barrier" is two things on one lane.
// A child made by fork starts with the copies of the locks its parent held at that instant: the
// fork arrow lists them, and the child's first lane carries each copy as a band (an orphaned one
// when its holder is a thread the child does not have). Point markers show every other event.
// Arrows join the groups: a child started (labelled with its start method), an exec, an exit
// reported to the process that reaped it. Every bar, marker and arrow keeps the index of the
// event it came from, so a click selects that event in every panel.
//
// Threads the trace does not cover (an uninstrumented program: `forklore exec`, a Python
// scenario after its exec) are drawn from the kernel's samples instead (timeline_from_samples.cpp):
// running, sleeping and waiting bars, lane names, and the starts, execs and exits of the
// process history.
//
// Times are nanoseconds relative to the run's start (event.time_ns - record.start_time_ns).
// Building is O(events log events); drawing needs only the visible part, found by binary search
// (see TimelineRow).
//
// Index of this file:
// [SECTION] Bars and rows
// [SECTION] Markers
// [SECTION] Lanes and groups: verdicts, fork's copies, rows
// [SECTION] Arrows, and what the samples showed
// [SECTION] The model and its builder
// [SECTION] Queries: hit test and tooltips
#pragma once

#include "sim/record/record.hpp"

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace forklore {

inline constexpr std::size_t kNoTimelineEvent = std::numeric_limits<std::size_t>::max();
inline constexpr std::size_t kNoSampledSpan = std::numeric_limits<std::size_t>::max();
inline constexpr std::size_t kNoSampledNote = std::numeric_limits<std::size_t>::max();

// [SECTION] Bars and rows -------------------------------------------------------------------------

// Ordered by severity (a tie between kinds is resolved towards the more severe).
enum class BarKind : std::uint8_t {
    running,           // on a CPU or runnable, as the kernel's samples showed it
    sleeping,          // asleep with a timeout or in a call forklore does not classify (samples)
    held,              // a lock held, nobody waiting for it (green)
    held_with_waiters, // a lock held while another thread waits for it (yellow)
    waiting,           // a thread blocked (red)
};

// What a bar is about: which kind of lock is held, or what a waiting thread waits for.
enum class BarSubject : std::uint8_t {
    lock,      // a mutex, rwlock, semaphore or spin lock (lock_* events)
    file_lock, // flock / fcntl / OFD lock (file_lock_* events)
    condition, // a condition variable (cond_wait .. cond_woken)
    join,      // a thread being joined (join_wait .. join_done)
    child,     // a child process (child_wait .. its process_exit)
    barrier,   // a barrier (barrier_wait .. barrier_passed)
    sampled,   // what the kernel's samples showed a thread doing (TimelineModel::sampled_spans)
};
inline constexpr std::size_t kBarKinds = 5;
static_assert(static_cast<std::size_t>(BarKind::waiting) + 1 == kBarKinds);

std::string_view to_string(BarKind kind);
std::string_view to_string(BarSubject kind);

// One bar on a lane. A hold that had waiters for part of its time is cut into segments (green,
// yellow, green ...) that all keep the hold's events.
struct TimelineBar {
    std::int64_t start_ns = 0;
    std::int64_t end_ns = 0;
    BarKind kind = BarKind::held;
    BarSubject what = BarSubject::lock;
    std::size_t begin_event = kNoTimelineEvent; // the wait, or the acquire that started the hold
    std::size_t end_event =
        kNoTimelineEvent; // the acquire/done/release that ended it; kNoTimelineEvent when
                          // it never ended (ran to the thread's or the run's end)
    // Drawn from the samples (a thread the trace does not cover): its TimelineModel::sampled_spans
    // entry; such a bar has no events, and is open when the last sample still showed it.
    std::size_t sampled = kNoSampledSpan;
    bool sampled_open = false;
    bool from_samples() const { return sampled != kNoSampledSpan; }
    bool open() const { return from_samples() ? sampled_open : end_event == kNoTimelineEvent; }
};

// One row of a lane: bars that never overlap, sorted by time, so both starts and ends increase
// and the visible ones are found by binary search. Bars that overlap on one thread (a wait while
// holding a lock, nested locks) go to rows below.
struct TimelineRow {
    std::vector<TimelineBar> bars;
    // time_before[k][i] = the total time of the bars of kind k among bars [0, i), so that the
    // colour of thousands of bars that fall into one pixel is found in O(1).
    std::array<std::vector<std::int64_t>, kBarKinds> time_before;

    // Index of the first bar that ends at or after t (bars.size() when none).
    std::size_t first_ending_at_or_after(std::int64_t t_ns) const;
    // Index of the first bar at or after `from` that starts at or after t (bars.size() when none).
    // It gallops from `from`, so a walk across the visible pixel columns costs the log of the
    // bars per column, not of the whole row.
    std::size_t first_starting_at_or_after(std::int64_t t_ns, std::size_t from = 0) const;
    // The kind that took most of the time of bars [first, last): what the thread was mostly doing
    // there (the more severe kind on a tie; the first bar's kind when none lasted at all).
    // Requires first < last <= bars.size().
    BarKind dominant_kind(std::size_t first, std::size_t last) const;
    // Recomputes time_before after `bars` changed.
    void sum_times();
};

// [SECTION] Markers -------------------------------------------------------------------------------

enum class MarkerKind : std::uint8_t {
    process_start, // scenario code began in this process (or again, after exec)
    thread_start,
    thread_exit,
    child_start, // this thread started a child process (an arrow leaves here)
    exec,        // this process is about to exec
    exit,        // this process ended (on its first lane; the event is the reaper's)
    signal,      // a signal sent on purpose
    output,      // text the scenario printed
    note,        // a step the scenario announces
    measurement, // a figure the run measured
    cond_signal, // a condition variable signalled or broadcast
    other,       // anything else not shown as a bar (an unmatched release, a lone end event)
};
std::string_view to_string(MarkerKind kind);

struct TimelineMarker {
    std::int64_t t_ns = 0;
    MarkerKind kind = MarkerKind::other;
    std::size_t event = kNoTimelineEvent;
    // A marker the samples drew (an exec or an exit nobody recorded): its hover text, in
    // TimelineModel::sampled_notes.
    std::size_t note = kNoSampledNote;
};

// [SECTION] Lanes and groups: verdicts, fork's copies, rows ---------------------------------------

// A thread's part in a deadlock verdict, from the verdict's stuck and live lists.
enum class LaneVerdict : std::uint8_t {
    none,  // no deadlock verdict names it (the run did not deadlock, or the thread had ended)
    stuck, // in the stuck set: it can never run again (drawn with a STUCK badge, wait colour)
    live,  // still running beside the stuck set: it runs, sleeps, or a live thread can wake it
};
std::string_view to_string(LaneVerdict verdict); // "", "STUCK", "live"

// A lock a process was born holding: fork() copied its parent's memory, the lock in the state it
// had at that instant, but only the thread that called fork. Found from the trace: the holds of
// the parent's threads still open at the fork (and a lock the child releases without having taken
// it, the trace of an atfork handler), never from what the scenario expects.
struct CopiedLock {
    std::string name;          // the lock's name in the trace ("" when unnamed)
    std::uint64_t address = 0; // the copy lives at the same address in the child
    pid_t holder_tid = 0;      // the parent's thread that held it at the fork
    std::string holder_name;
    // Nobody in the child can ever unlock the copy: its holder is not the thread that called
    // fork, so it does not exist there; or it is, but the lock checks its owner (a recursive
    // mutex) and the child's thread has a new id.
    bool orphaned = false;
    bool held_by_forker = false;                   // the holder is the thread that called fork
    std::size_t acquired_event = kNoTimelineEvent; // the holder's lock_acquired, in the parent
};

// "file_lock (held by reader)"; the address when the lock has no name.
std::string copied_lock_label(const CopiedLock& lock);

// A copy on the child's first lane (the copy of the thread that forked), from the child's start
// until the child releases it, execs (its memory is replaced) or ends.
struct CopyBand {
    CopiedLock lock;
    std::int64_t start_ns = 0, end_ns = 0;
    std::size_t fork_event = kNoTimelineEvent; // the child_start that made the child
    std::size_t end_event = kNoTimelineEvent;  // the release or exec; none: held to the end
};

// "file_lock (copy; its holder 'reader' is not in this process)", or for the forking thread's own
// lock "file_lock (copy; held by this thread, which called fork)".
std::string copy_band_label(const CopyBand& band);

// A lane's rows, top to bottom: the copies it was born holding (one row each), the thread's own
// holds (bands), then what it waits on (bars).
enum class LaneRowKind : std::uint8_t { copy, hold, wait };
struct LaneRow {
    LaneRowKind kind = LaneRowKind::wait;
    std::size_t index = 0;
    bool operator==(const LaneRow&) const = default;
};

// One thread. Markers are sorted by time.
struct TimelineLane {
    pid_t pid = 0; // namespace ids, as in the trace
    pid_t tid = 0;
    std::string name;
    std::size_t group = 0;
    std::int64_t start_ns = 0, end_ns = 0; // when the thread is known to exist
    std::vector<TimelineRow> rows;         // what it waits on (red bars); at least one row
    std::vector<TimelineRow> hold_rows;    // the locks it holds (green/yellow bands); maybe none
    std::vector<CopyBand> copies;          // locks a forked child was born holding (first lane)
    std::vector<TimelineMarker> markers;
    LaneVerdict verdict = LaneVerdict::none;
    std::string doing; // the verdict's words for what it did then: "waits on the private futex
                       // at 0x...", "runs", "sleeps"; empty when the verdict does not name it
    // A stuck thread's final wait, drawn hatched: its open waiting bar (row `stuck_row`) or, when
    // the trace has none (an uninstrumented program), the time the samples show it blocked
    // without a timeout up to the end of the lane. Unset for other lanes and when nothing shows.
    std::optional<std::int64_t> stuck_from_ns;
    std::size_t stuck_row = 0;
    // A thread the trace does not cover (an uninstrumented program): its bars come from the
    // samples, and `comm` is the kernel's name for it when the lane's name says more
    // ("main", "thread 4") than a comm every thread shares ("python3").
    bool from_samples = false;
    std::string comm;
};

// One process: a header row and its lanes [first_lane, first_lane + lane_count).
struct TimelineGroup {
    pid_t pid = 0;        // namespace pid (the host's own pid for the host)
    pid_t parent_pid = 0; // 0 for the sandbox's own processes
    ProcessRole role = ProcessRole::child;
    std::string name;             // "main", a child function's name, "forkserver", "reaper", "host"
    std::string start_method;     // how its parent made it, as a label ("" for the sandbox's own)
    std::string exit_description; // "killed by SIGABRT"; empty while unknown
    std::int64_t start_ns = 0, end_ns = 0;
    bool ended = false; // reaped (end_ns is its exit); otherwise it lived to the end of the run
    int depth = 0;      // in the process tree, for indentation
    std::size_t first_lane = 0, lane_count = 0;
};

// [SECTION] Arrows, and what the samples showed ---------------------------------------------------

enum class ArrowKind : std::uint8_t {
    start, // a parent started a child: from the child_start event to the child's first lane
    exec,  // a process replaced its program: from the exec event to its next process_start
    exit,  // a process ended: from its first lane to the thread that reaped it
};

struct TimelineArrow {
    ArrowKind kind = ArrowKind::start;
    std::size_t from_lane = 0, to_lane = 0;
    std::int64_t from_ns = 0, to_ns = 0;
    std::string label; // "fork", "spawn", "exec forklore-host", "exit 0", "SIGABRT"
    std::size_t event = kNoTimelineEvent;
    // A start that copied the parent's memory (fork, a fork server's fork): the locks held in
    // the parent at that instant, carried across into the child. Empty for spawn and fork_exec
    // (a fresh program copies nothing), and for a fork while nothing was held.
    std::vector<CopiedLock> copies{};
};

// One stretch of consecutive samples that showed a thread in the same state, for a thread the
// trace does not cover. Samples are discrete: the state began at most one sampling interval
// before `first_seen_ns` and lasted until `next_sample_ns` at most.
struct SampledSpan {
    pid_t pid = 0, tid = 0; // namespace ids
    WaitKind wait = WaitKind::running;
    bool untimed = false;
    std::string what; // "futex 0x7f12a0 (owner tid 3)", "read on pipe:[1234] (fd 4)", "running"
    std::int64_t first_seen_ns = 0, last_seen_ns = 0;
    int samples = 0; // recorded samples that showed it (a record keeps the samples that changed)
    // The first sample that showed the thread doing something else, or gone; unset when the
    // last sample still showed it.
    std::optional<std::int64_t> next_sample_ns;
};

// "copies file_lock (held by reader)", "" when the arrow carries no lock.
std::string copies_label(const TimelineArrow& arrow);

// [SECTION] The model and its builder -------------------------------------------------------------

struct TimelineModel {
    std::vector<TimelineGroup> groups; // process-tree order: parents before their children
    std::vector<TimelineLane> lanes;   // grouped: every group's lanes are contiguous
    std::vector<TimelineArrow> arrows;
    std::int64_t end_ns = 0;    // the end of the run (the right edge of "fit")
    std::size_t lock_holds = 0; // holds (lock and file lock), before splitting by waiters
    std::size_t waits = 0;      // waiting bars
    std::vector<SampledSpan> sampled_spans; // what bars drawn from the samples stand for
    std::vector<std::string> sampled_notes; // hover text of markers drawn from the samples

    // What the default view frames: from the program's first process to its last event (the
    // sandbox's setup before it holds nothing of the program's; a wait that never ended runs on
    // past the right edge). The whole run when the program recorded no activity of its own.
    std::int64_t story_start_ns = 0, story_end_ns = 0;

    std::optional<std::size_t> lane_index(pid_t pid, pid_t tid) const;
    std::optional<std::size_t> group_index(pid_t pid) const;
};

TimelineModel build_timeline_model(const RunRecord& record);

// [SECTION] Queries: hit test and tooltips --------------------------------------------------------

// What lies under a point of a lane: a marker within `tolerance_ns` of t (the nearest one), else
// the bar, band or copy containing t — in `row` when given, otherwise the lowest row that has
// one (a wait before a hold before a copy).
struct TimelineHit {
    std::size_t event = kNoTimelineEvent;
    const TimelineBar* bar = nullptr;       // set when a wait bar or a hold band was hit
    const TimelineMarker* marker = nullptr; // set when a marker was hit
    const CopyBand* copy = nullptr;         // set when a copied lock was hit (event: the fork)
};
std::optional<TimelineHit> hit_test(const TimelineModel& model, std::int64_t t_ns, std::size_t lane,
                                    std::int64_t tolerance_ns = 0,
                                    std::optional<LaneRow> row = std::nullopt);

// Tooltip text. A bar: what it is ("waiting for lock 'file_lock' (mutex)"), whose thread, from
// when to when, or "never acquired, still waiting when the run ended" with the verdict's words
// for that wait (an orphaned lock names its owner). An event: kind, time, thread, object, text.
std::string describe_bar(const TimelineModel& model, const RunRecord& record,
                         const TimelineBar& bar);
std::string describe_event(const RunRecord& record, std::size_t event);
// A marker's tooltip: its event's, or what the samples showed (an exec, an exit).
std::string describe_marker(const TimelineModel& model, const RunRecord& record,
                            const TimelineMarker& marker);

// A copied lock: what fork copied, from whom, and why nobody in the child can unlock it.
std::string describe_copy(const TimelineModel& model, const RunRecord& record,
                          const CopyBand& band);

// Tooltip of a lane's header: the thread, what it was doing at the verdict, and why it is stuck
// (nothing that could wake it can run) or live (it can still run).
std::string describe_lane(const TimelineLane& lane);

} // namespace forklore
