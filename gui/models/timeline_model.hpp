// The timeline's model: what the Timeline tab draws, computed once per record (no ImGui).
//
// A record becomes process groups (one per sandbox process, in process-tree order), each with one
// lane per thread. A lane holds bars in one vocabulary — a lock held (green), held while another
// thread waits for the same lock (yellow), a wait (red) — and point markers for every other
// event. Arrows join the groups: a child started (labelled with its start method), an exec, an
// exit reported to the process that reaped it. Every bar, marker and arrow keeps the index of
// the event it came from, so a click selects that event in every panel.
//
// Threads the trace does not cover (an uninstrumented program: `forklore exec`, a Python
// scenario after its exec) are drawn from the kernel's samples instead (timeline_from_samples.cpp):
// running, sleeping and waiting bars, lane names, and the starts, execs and exits of the
// process history.
//
// Times are nanoseconds relative to the run's start (event.time_ns - record.start_time_ns).
// Building is O(events log events); drawing needs only the visible part, found by binary search
// (see TimelineRow).
#pragma once

#include "sim/record.hpp"

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace forklore::gui {

inline constexpr std::size_t kNoTimelineEvent = std::numeric_limits<std::size_t>::max();
inline constexpr std::size_t kNoSampledSpan = std::numeric_limits<std::size_t>::max();
inline constexpr std::size_t kNoSampledNote = std::numeric_limits<std::size_t>::max();

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
    // Index of the first bar that starts at or after t (bars.size() when none).
    std::size_t first_starting_at_or_after(std::int64_t t_ns) const;
    // The kind that took most of the time of bars [first, last): what the thread was mostly doing
    // there (the more severe kind on a tie; the first bar's kind when none lasted at all).
    // Requires first < last <= bars.size().
    BarKind dominant_kind(std::size_t first, std::size_t last) const;
    // Recomputes time_before after `bars` changed.
    void sum_times();
};

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

// A thread's part in a deadlock verdict, from the verdict's stuck and live lists.
enum class LaneVerdict : std::uint8_t {
    none,  // no deadlock verdict names it (the run did not deadlock, or the thread had ended)
    stuck, // in the stuck set: it can never run again (drawn with a STUCK badge, wait colour)
    live,  // still running beside the stuck set: it runs, sleeps, or a live thread can wake it
};
std::string_view to_string(LaneVerdict verdict); // "", "STUCK", "live"

// One thread. Its rows hold its bars; markers are sorted by time.
struct TimelineLane {
    pid_t pid = 0; // namespace ids, as in the trace
    pid_t tid = 0;
    std::string name;
    std::size_t group = 0;
    std::int64_t start_ns = 0, end_ns = 0; // when the thread is known to exist
    std::vector<TimelineRow> rows;         // at least one
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
    pid_t pid = 0;                // namespace pid (the host's own pid for the host)
    pid_t parent_pid = 0;         // 0 for the sandbox's own processes
    std::string role;             // "main", a child function's name, "forkserver", "reaper", "host"
    std::string start_method;     // how its parent made it ("" for the sandbox's own)
    std::string exit_description; // "killed by SIGABRT"; empty while unknown
    std::int64_t start_ns = 0, end_ns = 0;
    bool ended = false; // reaped (end_ns is its exit); otherwise it lived to the end of the run
    int depth = 0;      // in the process tree, for indentation
    std::size_t first_lane = 0, lane_count = 0;
};

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

struct TimelineModel {
    std::vector<TimelineGroup> groups; // process-tree order: parents before their children
    std::vector<TimelineLane> lanes;   // grouped: every group's lanes are contiguous
    std::vector<TimelineArrow> arrows;
    std::int64_t end_ns = 0;    // the end of the run (the right edge of "fit")
    std::size_t lock_holds = 0; // holds (lock and file lock), before splitting by waiters
    std::size_t waits = 0;      // waiting bars
    std::vector<SampledSpan> sampled_spans; // what bars drawn from the samples stand for
    std::vector<std::string> sampled_notes; // hover text of markers drawn from the samples

    std::optional<std::size_t> lane_index(pid_t pid, pid_t tid) const;
    std::optional<std::size_t> group_index(pid_t pid) const;
};

TimelineModel build_timeline_model(const RunRecord& record);

// What lies under a point of a lane: a marker within `tolerance_ns` of t (the nearest one), else
// the bar containing t — in `row` when given, otherwise the deepest row that has one.
struct TimelineHit {
    std::size_t event = kNoTimelineEvent;
    const TimelineBar* bar = nullptr;       // set when a bar was hit
    const TimelineMarker* marker = nullptr; // set when a marker was hit
};
std::optional<TimelineHit> hit_test(const TimelineModel& model, std::int64_t t_ns, std::size_t lane,
                                    std::int64_t tolerance_ns = 0,
                                    std::optional<std::size_t> row = std::nullopt);

// Tooltip text. A bar: what it is ("waiting for lock 'file_lock' (mutex)"), whose thread, from
// when to when, or "never acquired, still waiting when the run ended" with the verdict's words
// for that wait (an orphaned lock names its owner). An event: kind, time, thread, object, text.
std::string describe_bar(const TimelineModel& model, const RunRecord& record,
                         const TimelineBar& bar);
std::string describe_event(const RunRecord& record, std::size_t event);
// A marker's tooltip: its event's, or what the samples showed (an exec, an exit).
std::string describe_marker(const TimelineModel& model, const RunRecord& record,
                            const TimelineMarker& marker);

// Tooltip of a lane's header: the thread, what it was doing at the verdict, and why it is stuck
// (nothing that could wake it can run) or live (it can still run).
std::string describe_lane(const TimelineLane& lane);

} // namespace forklore::gui
