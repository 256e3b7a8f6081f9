#include "gui/models/timeline_model.hpp"
#include "gui/models/timeline_passes.hpp"

#include "gui/models/timeline_from_samples.hpp"

#include "sim/protocol/start_method.hpp"
#include "sim/verdict/verdict.hpp"

#include <fmt/format.h>

#include <sys/wait.h>

#include <algorithm>
#include <functional>
#include <map>
#include <queue>
#include <set>
#include <unordered_map>

namespace forklore::gui {

std::string_view to_string(BarKind kind) {
    switch (kind) {
    case BarKind::running:
        return "running";
    case BarKind::sleeping:
        return "sleeping";
    case BarKind::held:
        return "held";
    case BarKind::held_with_waiters:
        return "held with waiters";
    case BarKind::waiting:
        return "waiting";
    }
    return "?";
}

std::string_view to_string(BarSubject kind) {
    switch (kind) {
    case BarSubject::lock:
        return "lock";
    case BarSubject::file_lock:
        return "file lock";
    case BarSubject::condition:
        return "condition variable";
    case BarSubject::join:
        return "join";
    case BarSubject::child:
        return "child process";
    case BarSubject::barrier:
        return "barrier";
    case BarSubject::sampled:
        return "sampled state";
    }
    return "?";
}

std::string_view to_string(MarkerKind kind) {
    switch (kind) {
    case MarkerKind::process_start:
        return "process start";
    case MarkerKind::thread_start:
        return "thread start";
    case MarkerKind::thread_exit:
        return "thread exit";
    case MarkerKind::child_start:
        return "child start";
    case MarkerKind::exec:
        return "exec";
    case MarkerKind::exit:
        return "process exit";
    case MarkerKind::signal:
        return "signal";
    case MarkerKind::output:
        return "output";
    case MarkerKind::note:
        return "note";
    case MarkerKind::measurement:
        return "measurement";
    case MarkerKind::cond_signal:
        return "condition signal";
    case MarkerKind::other:
        return "event";
    }
    return "?";
}

// --- TimelineRow ---------------------------------------------------------------------------

std::size_t TimelineRow::first_ending_at_or_after(std::int64_t t_ns) const {
    auto it =
        std::lower_bound(bars.begin(), bars.end(), t_ns,
                         [](const TimelineBar& bar, std::int64_t t) { return bar.end_ns < t; });
    return static_cast<std::size_t>(it - bars.begin());
}

std::size_t TimelineRow::first_starting_at_or_after(std::int64_t t_ns) const {
    auto it =
        std::lower_bound(bars.begin(), bars.end(), t_ns,
                         [](const TimelineBar& bar, std::int64_t t) { return bar.start_ns < t; });
    return static_cast<std::size_t>(it - bars.begin());
}

BarKind TimelineRow::dominant_kind(std::size_t first, std::size_t last) const {
    BarKind best = bars[first].kind;
    std::int64_t best_time = 0;
    for (std::size_t k = 0; k < time_before.size(); ++k) {
        const std::int64_t time = time_before[k][last] - time_before[k][first];
        if (time > 0 && time >= best_time) {
            best = static_cast<BarKind>(k);
            best_time = time;
        }
    }
    return best;
}

void TimelineRow::sum_times() {
    for (auto& sums : time_before)
        sums.assign(bars.size() + 1, 0);
    for (std::size_t i = 0; i < bars.size(); ++i)
        for (std::size_t k = 0; k < time_before.size(); ++k)
            time_before[k][i + 1] =
                time_before[k][i] + (static_cast<std::size_t>(bars[i].kind) == k
                                         ? bars[i].end_ns - bars[i].start_ns
                                         : 0);
}

std::optional<std::size_t> TimelineModel::lane_index(pid_t pid, pid_t tid) const {
    for (std::size_t i = 0; i < lanes.size(); ++i)
        if (lanes[i].pid == pid && lanes[i].tid == tid)
            return i;
    return std::nullopt;
}

std::optional<std::size_t> TimelineModel::group_index(pid_t pid) const {
    for (std::size_t i = 0; i < groups.size(); ++i)
        if (groups[i].pid == pid)
            return i;
    return std::nullopt;
}

std::string_view to_string(LaneVerdict verdict) {
    switch (verdict) {
    case LaneVerdict::none:
        return "";
    case LaneVerdict::stuck:
        return "STUCK";
    case LaneVerdict::live:
        return "live";
    }
    return "";
}

std::string ms(std::int64_t ns) {
    return fmt::format("{:.3f} ms", static_cast<double>(ns) / 1e6);
}

std::string exit_label(int status) {
    if (WIFEXITED(status))
        return fmt::format("exit {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return signal_name(WTERMSIG(status));
    return "ended";
}

namespace {

std::uint64_t thread_key(pid_t pid, pid_t tid) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(pid)) << 32) |
           static_cast<std::uint32_t>(tid);
}

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
    std::size_t operator()(const LockId& key) const {
        return std::hash<std::uint64_t>()(key.id * 4 + static_cast<std::uint64_t>(key.what)) ^
               (static_cast<std::size_t>(key.pid) << 1);
    }
};

LockId lock_id(const Event& e) {
    switch (e.kind) {
    case EventKind::file_lock_wait:
    case EventKind::file_lock_acquired:
    case EventKind::file_lock_released:
        return {BarSubject::file_lock, 0,
                e.arg1 != 0 ? static_cast<std::uint64_t>(e.arg1) : e.object};
    default:
        return {BarSubject::lock, e.pid, e.object};
    }
}

// A bar before holds are split by their waiters and before it has a row.
struct LogicalBar {
    TimelineBar bar;
    LockId lock;                   // holds and lock waits: the lock
    bool counts_as_waiter = false; // a lock wait that makes the lock's holder yellow
};

struct PendingWait {
    BarSubject what = BarSubject::lock;
    std::uint64_t object = 0;
    LockId lock;
    bool counts_as_waiter = false;
    std::size_t event = kNoTimelineEvent;
    std::int64_t start_ns = 0;
};

struct OpenHold {
    LockId lock;
    int count = 0; // recursive mutexes are taken several times by one thread
    std::size_t event = kNoTimelineEvent;
    std::int64_t start_ns = 0;
};

struct LaneWork {
    std::optional<PendingWait> wait;
    std::vector<OpenHold> holds;
    std::vector<LogicalBar> bars;
};

struct GroupWork {
    pid_t pid = 0, parent = 0;
    std::string role, start_method, exit_description;
    std::optional<std::int64_t> start_ns, end_ns;
    std::optional<std::int64_t> first_own_event_ns;     // the first event the process recorded
    std::vector<std::pair<pid_t, std::string>> threads; // in order of appearance
    std::unordered_map<pid_t, std::int64_t> thread_start_ns, thread_exit_ns;

    void add_thread(pid_t tid, const char* name) {
        for (auto& [known, known_name] : threads)
            if (known == tid) {
                if (known_name.empty())
                    known_name = name;
                return;
            }
        threads.emplace_back(tid, name);
    }
};

void lower_to(std::optional<std::int64_t>& slot, std::int64_t t) {
    if (!slot || t < *slot)
        slot = t;
}

std::string start_method_name(std::int64_t code) {
    if (code >= 0 && code < static_cast<std::int64_t>(kStartMethodNames.size()))
        return std::string(to_string(static_cast<StartMethod>(code)));
    return "started";
}

// The end of the run: the last thing anyone saw (an event, a sample, a process end, the verdict).
std::int64_t run_end_ns(const RunRecord& record) {
    std::int64_t end = 0;
    for (const auto& e : record.events)
        end = std::max(end, e.time_ns - record.start_time_ns);
    if (!record.snapshots.empty())
        end = std::max(end, record.snapshots.back().time_ns - record.start_time_ns);
    for (const auto& p : record.processes)
        end = std::max(end, p.end_ns);
    end = std::max(end, static_cast<std::int64_t>(record.timings.verdict_ms * 1e6));
    return end;
}

// Pass one: the processes and their threads, from the record's process list (complete runs)
// and the events (a live run has no process list yet).
std::map<pid_t, GroupWork> collect_groups(const RunRecord& record) {
    std::map<pid_t, GroupWork> groups;
    auto group = [&](pid_t pid) -> GroupWork& {
        GroupWork& g = groups[pid];
        g.pid = pid;
        return g;
    };
    for (const auto& p : record.processes) {
        GroupWork& g = group(p.ns_pid);
        g.parent = p.parent_ns_pid;
        g.role = p.role;
        g.start_method = p.start_method;
        g.exit_description = p.exit_description;
        g.start_ns = p.start_ns; // the host and its reaper start with the run (0)
        if (p.end_ns > 0)
            g.end_ns = p.end_ns;
        for (const auto& [tid, name] : p.threads)
            g.add_thread(tid, name.c_str());
    }
    const std::int64_t origin = record.start_time_ns;
    for (const auto& e : record.events) {
        const std::int64_t t = e.time_ns - origin;
        GroupWork& g = group(e.pid);
        lower_to(g.start_ns, t);
        lower_to(g.first_own_event_ns, t);
        g.add_thread(e.tid, e.kind == EventKind::thread_start ? e.name : e.thread);
        switch (e.kind) {
        case EventKind::process_start:
            if (g.role.empty())
                g.role = e.name;
            if (g.parent == 0)
                g.parent = static_cast<pid_t>(e.arg0);
            if (g.start_method.empty() && e.text[0] && g.role != "main")
                g.start_method = e.text;
            break;
        case EventKind::thread_start:
            g.thread_start_ns.emplace(e.tid, t);
            break;
        case EventKind::thread_exit:
            g.thread_exit_ns[e.tid] = t;
            break;
        case EventKind::child_start: {
            GroupWork& child = group(static_cast<pid_t>(e.object));
            child.parent = e.pid;
            if (child.start_method.empty())
                child.start_method = start_method_name(e.arg0);
            if (child.role.empty())
                child.role = e.name;
            lower_to(child.start_ns, t);
            break;
        }
        case EventKind::process_exit: {
            GroupWork& child = group(static_cast<pid_t>(e.object));
            if (!child.end_ns)
                child.end_ns = t;
            if (child.exit_description.empty())
                child.exit_description = describe_wait_status(static_cast<int>(e.arg0));
            break;
        }
        default:
            break;
        }
    }
    return groups;
}

// Parents before children; the host first, then by start time.
std::vector<std::pair<pid_t, int>> tree_order(const std::map<pid_t, GroupWork>& groups) {
    auto before = [&](pid_t a, pid_t b) {
        const GroupWork& ga = groups.at(a);
        const GroupWork& gb = groups.at(b);
        auto key = [](const GroupWork& g) {
            return std::tuple(g.role == "host" ? 0 : 1, g.start_ns.value_or(0), g.pid);
        };
        return key(ga) < key(gb);
    };
    std::map<pid_t, std::vector<pid_t>> children;
    std::vector<pid_t> roots;
    for (const auto& [pid, g] : groups) {
        if (g.parent != 0 && g.parent != pid && groups.count(g.parent))
            children[g.parent].push_back(pid);
        else
            roots.push_back(pid);
    }
    std::vector<std::pair<pid_t, int>> order;
    std::set<pid_t> placed;
    std::function<void(pid_t, int)> visit = [&](pid_t pid, int depth) {
        if (!placed.insert(pid).second)
            return;
        order.emplace_back(pid, depth);
        auto& list = children[pid];
        std::sort(list.begin(), list.end(), before);
        for (pid_t child : list)
            visit(child, depth + 1);
    };
    std::sort(roots.begin(), roots.end(), before);
    for (pid_t root : roots)
        visit(root, 0);
    // A parent loop (never expected) would leave processes out: they become roots.
    for (const auto& [pid, g] : groups)
        if (!placed.count(pid))
            visit(pid, 0);
    return order;
}

// Rows: overlapping bars of one thread (a wait while holding, nested holds) are stacked; each bar
// takes the lowest free row. Bars sorted by start, longer first, so an outer hold stays above the
// holds nested in it.
std::vector<std::size_t> assign_rows(std::vector<LogicalBar>& bars, std::size_t& row_count) {
    std::sort(bars.begin(), bars.end(), [](const LogicalBar& a, const LogicalBar& b) {
        if (a.bar.start_ns != b.bar.start_ns)
            return a.bar.start_ns < b.bar.start_ns;
        return a.bar.end_ns > b.bar.end_ns;
    });
    using Busy = std::pair<std::int64_t, std::size_t>; // end, row
    std::priority_queue<Busy, std::vector<Busy>, std::greater<>> busy;
    std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> free_rows;
    std::vector<std::size_t> rows(bars.size());
    row_count = 0;
    for (std::size_t i = 0; i < bars.size(); ++i) {
        while (!busy.empty() && busy.top().first <= bars[i].bar.start_ns) {
            free_rows.push(busy.top().second);
            busy.pop();
        }
        std::size_t row;
        if (!free_rows.empty()) {
            row = free_rows.top();
            free_rows.pop();
        } else {
            row = row_count++;
        }
        rows[i] = row;
        busy.emplace(bars[i].bar.end_ns, row);
    }
    return rows;
}

using Spans = std::vector<std::pair<std::int64_t, std::int64_t>>; // sorted, disjoint

// Cuts a hold into green and yellow segments: yellow where `waiting` (the union of the waits on
// its lock by other threads) overlaps it.
void split_hold(const TimelineBar& hold, const Spans* waiting, std::vector<TimelineBar>& out) {
    if (!waiting || hold.end_ns <= hold.start_ns) {
        out.push_back(hold);
        return;
    }
    auto it = std::lower_bound(waiting->begin(), waiting->end(), hold.start_ns,
                               [](const auto& span, std::int64_t t) { return span.second <= t; });
    std::int64_t cursor = hold.start_ns;
    auto piece = [&](std::int64_t from, std::int64_t to, BarKind kind) {
        if (to <= from)
            return;
        TimelineBar segment = hold;
        segment.start_ns = from;
        segment.end_ns = to;
        segment.kind = kind;
        out.push_back(segment);
    };
    for (; it != waiting->end() && it->first < hold.end_ns; ++it) {
        const std::int64_t from = std::max(cursor, it->first);
        const std::int64_t to = std::min(hold.end_ns, it->second);
        piece(cursor, from, BarKind::held);
        piece(from, to, BarKind::held_with_waiters);
        cursor = std::max(cursor, to);
    }
    piece(cursor, hold.end_ns, BarKind::held);
}

MarkerKind marker_kind(EventKind kind) {
    switch (kind) {
    case EventKind::process_start:
        return MarkerKind::process_start;
    case EventKind::thread_start:
        return MarkerKind::thread_start;
    case EventKind::thread_exit:
        return MarkerKind::thread_exit;
    case EventKind::child_start:
        return MarkerKind::child_start;
    case EventKind::exec:
        return MarkerKind::exec;
    case EventKind::process_exit:
        return MarkerKind::exit;
    case EventKind::signal_sent:
        return MarkerKind::signal;
    case EventKind::output:
        return MarkerKind::output;
    case EventKind::note:
        return MarkerKind::note;
    case EventKind::measurement:
        return MarkerKind::measurement;
    case EventKind::cond_signal:
        return MarkerKind::cond_signal;
    default:
        return MarkerKind::other;
    }
}

// Since when the samples show a thread blocked with no timeout, without a break up to the last
// sample; unset when the last sample shows it otherwise (or never saw it).
std::optional<std::int64_t> untimed_since_ns(const RunRecord& record, pid_t pid, pid_t tid) {
    std::optional<std::int64_t> since;
    for (const Snapshot& snapshot : record.snapshots) {
        for (const auto& process : snapshot.processes) {
            if (process.ns_pid != pid)
                continue;
            for (const auto& thread : process.threads) {
                if (thread.ns_tid != tid)
                    continue;
                if (!thread.untimed)
                    since.reset();
                else if (!since)
                    since = snapshot.time_ns - record.start_time_ns;
            }
        }
    }
    return since;
}

// The verdict's stuck and live lists, onto the lanes; a stuck lane's final wait for the hatch.
void mark_lane_verdicts(TimelineModel& model, const RunRecord& record) {
    auto apply = [&](const std::vector<ThreadState>& threads, LaneVerdict verdict) {
        for (const ThreadState& thread : threads) {
            auto index = model.lane_index(thread.pid, thread.tid);
            if (!index)
                continue;
            TimelineLane& lane = model.lanes[*index];
            lane.verdict = verdict;
            lane.doing = thread.wait;
        }
    };
    apply(record.verdict.live, LaneVerdict::live);
    apply(record.verdict.stuck, LaneVerdict::stuck); // a thread in both lists is stuck
    for (TimelineLane& lane : model.lanes) {
        if (lane.verdict != LaneVerdict::stuck)
            continue;
        // The latest wait that never ended, on any row.
        for (std::size_t r = 0; r < lane.rows.size(); ++r)
            for (const TimelineBar& bar : lane.rows[r].bars)
                if (bar.kind == BarKind::waiting && bar.open() &&
                    (!lane.stuck_from_ns || bar.start_ns > *lane.stuck_from_ns)) {
                    lane.stuck_from_ns = bar.start_ns;
                    lane.stuck_row = r;
                }
        if (!lane.stuck_from_ns) {
            lane.stuck_from_ns = untimed_since_ns(record, lane.pid, lane.tid);
            lane.stuck_row = 0;
        }
        if (lane.stuck_from_ns)
            lane.stuck_from_ns = std::min(*lane.stuck_from_ns, lane.end_ns);
    }
}

} // namespace

TimelineModel build_timeline_model(const RunRecord& record) {
    TimelineModel model;
    model.end_ns = run_end_ns(record);
    const std::int64_t origin = record.start_time_ns;

    // Groups and lanes, in process-tree order.
    std::map<pid_t, GroupWork> groups = collect_groups(record);
    std::unordered_map<std::uint64_t, std::size_t> lane_of;
    std::unordered_map<pid_t, std::size_t> group_of;
    for (const auto& [pid, depth] : tree_order(groups)) {
        GroupWork& work = groups.at(pid);
        TimelineGroup group;
        group.pid = pid;
        group.parent_pid = work.parent;
        group.role = work.role.empty() ? "process" : work.role;
        group.start_method = work.start_method;
        group.exit_description = work.exit_description;
        group.start_ns = work.start_ns.value_or(0);
        group.ended = work.end_ns.has_value();
        group.end_ns = std::max(group.start_ns, work.end_ns.value_or(model.end_ns));
        group.depth = depth;
        group.first_lane = model.lanes.size();
        // The process's first thread (tid == pid) leads; a process seen only through its parent
        // still gets a lane so that its start and exit can be drawn.
        auto& threads = work.threads;
        // An init-capture: clang before 16 (the fuzz build) cannot capture a structured binding.
        std::stable_partition(threads.begin(), threads.end(),
                              [leader = pid](const auto& thread) { return thread.first == leader; });
        if (threads.empty())
            threads.emplace_back(pid, "");
        for (const auto& [tid, name] : threads) {
            TimelineLane lane;
            lane.pid = pid;
            lane.tid = tid;
            lane.name = name;
            lane.group = model.groups.size();
            auto started = work.thread_start_ns.find(tid);
            lane.start_ns =
                started != work.thread_start_ns.end() ? started->second : group.start_ns;
            auto exited = work.thread_exit_ns.find(tid);
            lane.end_ns = exited != work.thread_exit_ns.end() ? exited->second : group.end_ns;
            lane.end_ns = std::max(lane.start_ns, lane.end_ns);
            lane_of.emplace(thread_key(pid, tid), model.lanes.size());
            model.lanes.push_back(std::move(lane));
        }
        group.lane_count = model.lanes.size() - group.first_lane;
        group_of.emplace(pid, model.groups.size());
        model.groups.push_back(std::move(group));
    }

    // Pass two: bars, markers and arrows, one event at a time in recording order (each thread's
    // events are in program order).
    std::vector<LaneWork> work(model.lanes.size());
    std::unordered_map<pid_t, std::pair<std::size_t, std::size_t>> pending_exec; // lane, event
    auto marker = [&](std::size_t lane, std::int64_t t, MarkerKind kind, std::size_t index) {
        model.lanes[lane].markers.push_back({t, kind, index});
    };
    auto close_wait = [&](std::size_t lane, std::int64_t t, std::size_t end_event) {
        PendingWait& wait = *work[lane].wait;
        LogicalBar bar;
        bar.bar.start_ns = wait.start_ns;
        bar.bar.end_ns = std::max(wait.start_ns, t);
        bar.bar.kind = BarKind::waiting;
        bar.bar.what = wait.what;
        bar.bar.begin_event = wait.event;
        bar.bar.end_event = end_event;
        bar.lock = wait.lock;
        bar.counts_as_waiter = wait.counts_as_waiter;
        work[lane].bars.push_back(bar);
        work[lane].wait.reset();
    };
    auto begin_wait = [&](std::size_t lane, std::int64_t t, std::size_t index, BarSubject what,
                          std::uint64_t object, LockId lock) {
        // A thread blocks on one thing at a time: a wait still open lost its end event.
        if (work[lane].wait)
            close_wait(lane, t, index);
        PendingWait wait{what, object, lock, false, index, t};
        if (what == BarSubject::lock || what == BarSubject::file_lock) {
            // Waiting again on a lock it holds (a recursive mutex) makes nobody else wait.
            wait.counts_as_waiter =
                std::none_of(work[lane].holds.begin(), work[lane].holds.end(),
                             [&](const OpenHold& hold) { return hold.lock == lock; });
        }
        work[lane].wait = wait;
    };
    // Ends the thread's wait when it is for `what` (and `object`, when `exact`).
    auto end_wait = [&](std::size_t lane, std::int64_t t, std::size_t index, BarSubject what,
                        std::uint64_t object, bool exact) {
        auto& wait = work[lane].wait;
        if (!wait || wait->what != what || (exact && wait->object != object))
            return false;
        close_wait(lane, t, index);
        return true;
    };
    auto push_hold = [&](std::size_t lane, const OpenHold& hold, std::int64_t t,
                         std::size_t end_event) {
        LogicalBar bar;
        bar.bar.start_ns = hold.start_ns;
        bar.bar.end_ns = std::max(hold.start_ns, t);
        bar.bar.kind = BarKind::held;
        bar.bar.what = hold.lock.what;
        bar.bar.begin_event = hold.event;
        bar.bar.end_event = end_event;
        bar.lock = hold.lock;
        work[lane].bars.push_back(bar);
        ++model.lock_holds;
    };
    auto acquire = [&](std::size_t lane, std::int64_t t, std::size_t index, LockId lock) {
        for (auto& hold : work[lane].holds)
            if (hold.lock == lock) {
                ++hold.count;
                return;
            }
        work[lane].holds.push_back({lock, 1, index, t});
    };
    // A release ends the thread's own hold; a release by a thread that holds nothing (a semaphore
    // posted by another thread) ends the oldest hold of that lock in the same process.
    auto release = [&](std::size_t lane, std::int64_t t, std::size_t index, LockId lock) {
        auto take = [&](std::size_t holder) {
            auto& holds = work[holder].holds;
            for (auto it = holds.begin(); it != holds.end(); ++it)
                if (it->lock == lock) {
                    if (--it->count == 0) {
                        push_hold(holder, *it, t, index);
                        holds.erase(it);
                    }
                    return true;
                }
            return false;
        };
        if (take(lane))
            return true;
        const TimelineGroup& group = model.groups[model.lanes[lane].group];
        std::optional<std::size_t> oldest;
        std::int64_t oldest_start = 0;
        for (std::size_t other = group.first_lane; other < group.first_lane + group.lane_count;
             ++other)
            for (const auto& hold : work[other].holds)
                if (hold.lock == lock && (!oldest || hold.start_ns < oldest_start)) {
                    oldest = other;
                    oldest_start = hold.start_ns;
                }
        return oldest && take(*oldest);
    };

    for (std::size_t index = 0; index < record.events.size(); ++index) {
        const Event& e = record.events[index];
        const std::int64_t t = e.time_ns - origin;
        const std::size_t lane = lane_of.at(thread_key(e.pid, e.tid));
        bool shown = false; // drawn as (part of) a bar
        switch (e.kind) {
        case EventKind::lock_wait:
        case EventKind::file_lock_wait:
            begin_wait(lane, t, index,
                       e.kind == EventKind::lock_wait ? BarSubject::lock : BarSubject::file_lock,
                       lock_id(e).id, lock_id(e));
            shown = true;
            break;
        case EventKind::lock_acquired:
        case EventKind::file_lock_acquired: {
            const LockId lock = lock_id(e);
            end_wait(lane, t, index, lock.what, lock.id, true);
            acquire(lane, t, index, lock);
            shown = true;
            break;
        }
        case EventKind::lock_released:
        case EventKind::file_lock_released:
            shown = release(lane, t, index, lock_id(e));
            break;
        case EventKind::cond_wait:
            begin_wait(lane, t, index, BarSubject::condition, e.object, {});
            shown = true;
            break;
        case EventKind::cond_woken:
            shown = end_wait(lane, t, index, BarSubject::condition, e.object, true);
            break;
        case EventKind::barrier_wait:
            begin_wait(lane, t, index, BarSubject::barrier, e.object, {});
            shown = true;
            break;
        case EventKind::barrier_passed:
            shown = end_wait(lane, t, index, BarSubject::barrier, e.object, true);
            break;
        case EventKind::join_wait:
            begin_wait(lane, t, index, BarSubject::join, e.object, {});
            shown = true;
            break;
        case EventKind::join_done:
            // The join_wait may predate the thread's tid (object 0): any join ends it.
            shown = end_wait(lane, t, index, BarSubject::join, e.object, false);
            break;
        case EventKind::child_wait:
            begin_wait(lane, t, index, BarSubject::child, e.object, {});
            shown = true;
            break;
        case EventKind::process_exit: {
            const auto& wait = work[lane].wait;
            if (wait && wait->what == BarSubject::child &&
                (wait->object == e.object || static_cast<std::int64_t>(wait->object) <= 0))
                close_wait(lane, t, index);
            // The exit is drawn on the process that ended, with an arrow to its reaper.
            auto exited = group_of.find(static_cast<pid_t>(e.object));
            if (exited != group_of.end()) {
                const std::size_t exited_lane = model.groups[exited->second].first_lane;
                marker(exited_lane, t, MarkerKind::exit, index);
                model.arrows.push_back({ArrowKind::exit, exited_lane, lane, t, t,
                                        exit_label(static_cast<int>(e.arg0)), index});
                shown = true;
            }
            break;
        }
        case EventKind::child_start: {
            auto child = group_of.find(static_cast<pid_t>(e.object));
            if (child != group_of.end()) {
                // child_start is recorded once the start returns, and a forked child may run
                // first: then the arrow is drawn when the child began, the fork was no later.
                const GroupWork& child_work = groups.at(static_cast<pid_t>(e.object));
                const std::int64_t arrival = child_work.first_own_event_ns.value_or(t);
                model.arrows.push_back(
                    {ArrowKind::start, lane, model.groups[child->second].first_lane,
                     std::min(t, arrival), arrival, start_method_name(e.arg0), index});
            }
            break;
        }
        case EventKind::exec:
            pending_exec[e.pid] = {lane, index};
            break;
        case EventKind::process_start: {
            auto exec = pending_exec.find(e.pid);
            if (exec != pending_exec.end()) {
                const Event& exec_event = record.events[exec->second.second];
                model.arrows.push_back(
                    {ArrowKind::exec, exec->second.first, lane, exec_event.time_ns - origin, t,
                     fmt::format("exec {}", exec_event.name), exec->second.second});
                pending_exec.erase(exec);
            }
            break;
        }
        default:
            break;
        }
        if (!shown)
            marker(lane, t, marker_kind(e.kind), index);
    }

    // What never ended runs to the end of its thread (its process's end, or the run's).
    for (std::size_t lane = 0; lane < work.size(); ++lane) {
        const std::int64_t end = model.lanes[lane].end_ns;
        if (work[lane].wait)
            close_wait(lane, end, kNoTimelineEvent);
        for (const auto& hold : work[lane].holds)
            push_hold(lane, hold, end, kNoTimelineEvent);
        work[lane].holds.clear();
    }

    // Yellow: for each lock, the union of the times some thread waited for it.
    std::unordered_map<LockId, Spans, LockIdHash> waited;
    for (const auto& lane : work)
        for (const auto& bar : lane.bars)
            if (bar.bar.kind == BarKind::waiting && bar.counts_as_waiter)
                waited[bar.lock].emplace_back(bar.bar.start_ns, bar.bar.end_ns);
    for (auto& [lock, spans] : waited) {
        std::sort(spans.begin(), spans.end());
        Spans merged;
        for (const auto& span : spans) {
            if (!merged.empty() && span.first <= merged.back().second)
                merged.back().second = std::max(merged.back().second, span.second);
            else
                merged.push_back(span);
        }
        spans = std::move(merged);
    }

    // Rows: what a thread holds (bands) apart from what it waits on (bars), each stacked where
    // they overlap (nested holds; a wait ended by another wait's start).
    auto sorted_rows = [](std::vector<TimelineRow>& rows) {
        for (auto& row : rows) {
            // Bars of a row never overlap; sorted by start, their ends increase too.
            std::stable_sort(
                row.bars.begin(), row.bars.end(),
                [](const TimelineBar& a, const TimelineBar& b) { return a.start_ns < b.start_ns; });
            row.sum_times();
        }
    };
    for (std::size_t lane = 0; lane < work.size(); ++lane) {
        std::vector<LogicalBar> waits, holds;
        for (auto& bar : work[lane].bars)
            (bar.bar.kind == BarKind::waiting ? waits : holds).push_back(std::move(bar));
        std::size_t row_count = 0;
        const std::vector<std::size_t> wait_rows = assign_rows(waits, row_count);
        auto& out = model.lanes[lane].rows;
        out.assign(std::max<std::size_t>(row_count, 1), TimelineRow{});
        for (std::size_t i = 0; i < waits.size(); ++i) {
            ++model.waits;
            out[wait_rows[i]].bars.push_back(waits[i].bar);
        }
        const std::vector<std::size_t> hold_rows = assign_rows(holds, row_count);
        auto& bands = model.lanes[lane].hold_rows;
        bands.assign(row_count, TimelineRow{});
        for (std::size_t i = 0; i < holds.size(); ++i) {
            auto found = waited.find(holds[i].lock);
            split_hold(holds[i].bar, found == waited.end() ? nullptr : &found->second,
                       bands[hold_rows[i]].bars);
        }
        sorted_rows(out);
        sorted_rows(bands);
        std::stable_sort(
            model.lanes[lane].markers.begin(), model.lanes[lane].markers.end(),
            [](const TimelineMarker& a, const TimelineMarker& b) { return a.t_ns < b.t_ns; });
    }
    // Threads the trace does not cover, from the samples; before the verdicts, whose hatch
    // starts at a stuck thread's last open wait.
    add_sampled_activity(model, record);
    add_fork_copies(model, record);
    frame_story(model, record);
    mark_lane_verdicts(model, record);
    return model;
}

std::optional<TimelineHit> hit_test(const TimelineModel& model, std::int64_t t_ns,
                                    std::size_t lane_index, std::int64_t tolerance_ns,
                                    std::optional<LaneRow> row) {
    if (lane_index >= model.lanes.size())
        return std::nullopt;
    const TimelineLane& lane = model.lanes[lane_index];
    if (tolerance_ns > 0 && !lane.markers.empty()) {
        auto it = std::lower_bound(
            lane.markers.begin(), lane.markers.end(), t_ns,
            [](const TimelineMarker& marker, std::int64_t t) { return marker.t_ns < t; });
        const TimelineMarker* best = nullptr;
        auto consider = [&](const TimelineMarker& marker) {
            const std::int64_t distance = std::llabs(marker.t_ns - t_ns);
            if (distance <= tolerance_ns && (!best || distance < std::llabs(best->t_ns - t_ns)))
                best = &marker;
        };
        if (it != lane.markers.end())
            consider(*it);
        if (it != lane.markers.begin())
            consider(*(it - 1));
        if (best)
            return TimelineHit{best->event, nullptr, best};
    }
    auto bar_in = [&](const TimelineRow& r) -> const TimelineBar* {
        const std::size_t i = r.first_ending_at_or_after(t_ns - tolerance_ns);
        if (i < r.bars.size() && r.bars[i].start_ns <= t_ns + tolerance_ns)
            return &r.bars[i];
        return nullptr;
    };
    auto in_row = [&](LaneRow where) -> std::optional<TimelineHit> {
        switch (where.kind) {
        case LaneRowKind::copy:
            if (where.index < lane.copies.size()) {
                const CopyBand& copy = lane.copies[where.index];
                if (copy.start_ns <= t_ns + tolerance_ns && t_ns - tolerance_ns <= copy.end_ns)
                    return TimelineHit{copy.fork_event, nullptr, nullptr, &copy};
            }
            return std::nullopt;
        case LaneRowKind::hold:
        case LaneRowKind::wait: {
            const auto& rows = where.kind == LaneRowKind::hold ? lane.hold_rows : lane.rows;
            if (where.index < rows.size())
                if (const TimelineBar* bar = bar_in(rows[where.index]))
                    return TimelineHit{bar->begin_event, bar, nullptr, nullptr};
            return std::nullopt;
        }
        }
        return std::nullopt;
    };
    if (row)
        return in_row(*row);
    for (std::size_t r = lane.rows.size(); r-- > 0;)
        if (auto hit = in_row({LaneRowKind::wait, r}))
            return hit;
    for (std::size_t r = lane.hold_rows.size(); r-- > 0;)
        if (auto hit = in_row({LaneRowKind::hold, r}))
            return hit;
    for (std::size_t r = lane.copies.size(); r-- > 0;)
        if (auto hit = in_row({LaneRowKind::copy, r}))
            return hit;
    return std::nullopt;
}

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
                            start_method_name(e.arg0));
        break;
    case EventKind::process_exit:
        text += fmt::format("\nprocess {} {}", e.object,
                            describe_wait_status(static_cast<int>(e.arg0)));
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

} // namespace forklore::gui
