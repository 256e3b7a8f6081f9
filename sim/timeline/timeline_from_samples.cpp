// The timeline's second source: the kernel's samples, for the threads and processes the trace
// does not cover (a program nobody instrumented, run by `forklore exec`, or a scenario's process
// after it exec'd a Python interpreter). The pass build_timeline_model (timeline_model.cpp) runs
// once the trace's bars are built (timeline_passes.hpp says what it adds).
//
// Index of this file:
// [SECTION] What a sample shows a thread doing, in words
// [SECTION] Where the trace is silent, and what names say nothing
// [SECTION] The samples' pass (SampledPass)
// [SECTION] A sampled bar's tooltip
#include "sim/timeline/timeline_passes.hpp"

#include "sim/timeline/infrastructure.hpp"

#include "sim/record/process_records.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

namespace forklore {

namespace {

std::string basename_of(std::string_view path) {
    const auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// [SECTION] What a sample shows a thread doing, in words -------------------------------------

// What one sample shows a thread doing, as a bar: its kind and, in words, on what.
struct SampledState {
    BarKind kind = BarKind::running;
    std::string what;
    bool operator==(const SampledState&) const = default;
};

std::string futex_words(const ThreadSnapshot& thread) {
    std::string owner;
    if (thread.owner_ns_tid && *thread.owner_ns_tid > 0)
        owner = fmt::format("owner tid {}", *thread.owner_ns_tid);
    else if (thread.owner_ns_tid)
        owner = "no owner";
    else
        owner = "no owner recorded in it"; // not a mutex, or its word could not be read
    return fmt::format("futex {:#x} ({}{}{})", thread.futex_address, owner,
                       thread.futex_private ? "" : ", shared between processes",
                       thread.untimed ? "" : ", with a timeout");
}

std::string poll_words(const ThreadSnapshot& thread) {
    std::string text = "poll/select/epoll";
    if (thread.watched_known && !thread.watched_targets.empty()) {
        text += " on ";
        for (std::size_t i = 0; i < thread.watched_targets.size() && i < 4; ++i)
            text += (i ? ", " : "") + thread.watched_targets[i];
        if (thread.watched_targets.size() > 4)
            text += fmt::format(" and {} more", thread.watched_targets.size() - 4);
    }
    return text + (thread.untimed ? ", no timeout" : ", with a timeout");
}

SampledState state_of(const ThreadSnapshot& thread) {
    switch (thread.wait) {
    case WaitKind::running:
        return {BarKind::running, "running"};
    case WaitKind::futex:
        return {BarKind::waiting, futex_words(thread)};
    case WaitKind::file_lock:
        return {BarKind::waiting,
                fmt::format("file lock on inode {}{} (fd {}{})", thread.fd_inode,
                            thread.fd_device.empty() ? "" : " of device " + thread.fd_device,
                            thread.fd, thread.fd_target.empty() ? "" : ", " + thread.fd_target)};
    case WaitKind::child:
        // WNOHANG: it only looks, it does not wait.
        if (!thread.untimed)
            return {BarKind::sleeping, "checks on its children without waiting (WNOHANG)"};
        if (thread.waited_pid > 0)
            return {BarKind::waiting, fmt::format("waitpid for process {}", thread.waited_pid)};
        if (thread.waited_pid < -1)
            return {BarKind::waiting, fmt::format("waitpid for a child of process group {}",
                                                  -static_cast<std::int64_t>(thread.waited_pid))};
        return {BarKind::waiting, thread.waited_pid == 0
                                      ? "waitpid for any child of its process group"
                                      : "waitpid for any child"};
    case WaitKind::pipe:
        return {BarKind::waiting,
                fmt::format("read on {} (fd {})",
                            thread.fd_target.empty() ? std::string("an fd") : thread.fd_target,
                            thread.fd)};
    case WaitKind::poll:
        return {BarKind::waiting, poll_words(thread)};
    case WaitKind::signal:
        return {BarKind::waiting, thread.timer_may_signal
                                      ? "a signal (pause/sigsuspend), which a timer may send"
                                      : "a signal (pause/sigsuspend/sigwaitinfo)"};
    case WaitKind::stopped:
        return {BarKind::waiting, thread.state == 'T' ? "stopped by a signal: waits for SIGCONT"
                                                      : "stopped by a tracer"};
    case WaitKind::sleep:
        return {BarKind::sleeping, "sleeping (nanosleep or the like, with a timeout)"};
    case WaitKind::other:
        return {BarKind::sleeping,
                thread.syscall >= 0
                    ? fmt::format("blocked in system call {}{}", thread.syscall,
                                  thread.wchan.empty() || thread.wchan == "0"
                                      ? ""
                                      : fmt::format(" (kernel function {})", thread.wchan))
                    : std::string("blocked in a call forklore does not classify")};
    case WaitKind::zombie:
        break;
    }
    return {BarKind::sleeping, "exited"};
}

bool is_gone(const ThreadSnapshot& thread) {
    return thread.wait == WaitKind::zombie || thread.state == 'Z' || thread.state == 'X';
}

// [SECTION] Where the trace is silent, and what names say nothing ----------------------------

// Since when the samples must speak for each process (relative ns): its whole life when it
// recorded no event, the time after an exec no process_start followed, never otherwise.
std::map<pid_t, std::int64_t> uncovered_from(const TimelineModel& model, const RunRecord& record) {
    struct Coverage {
        bool traced = false;
        std::optional<std::int64_t> execed_at;
    };
    std::unordered_map<pid_t, Coverage> coverage;
    for (const Event& e : record.events) {
        Coverage& c = coverage[e.pid];
        c.traced = true;
        if (e.kind == EventKind::exec)
            c.execed_at = e.time_ns - record.start_time_ns;
        else if (e.kind == EventKind::process_start)
            c.execed_at.reset(); // the new program is instrumented too (the host again)
    }
    std::map<pid_t, std::int64_t> from;
    for (const TimelineGroup& group : model.groups) {
        if (is_sandbox_process(group.role))
            continue;
        auto c = coverage.find(group.pid);
        if (c == coverage.end() || !c->second.traced)
            from[group.pid] = std::numeric_limits<std::int64_t>::min();
        else if (c->second.execed_at)
            from[group.pid] = *c->second.execed_at;
    }
    return from;
}

// Names that say nothing about one thread: the program's (the file it runs, the name it was
// started as), which every thread of it starts with. The kernel keeps 15 bytes of a comm.
void add_program_names(std::set<std::string>& names, const std::string& exe,
                       const std::string& command) {
    for (const std::string& name :
         {basename_of(exe), basename_of(command.substr(0, command.find(' ')))})
        if (!name.empty())
            names.insert(name.substr(0, 15));
}

// [SECTION] The samples' pass (SampledPass) --------------------------------------------------

struct OpenSpan {
    SampledState state;
    WaitKind wait = WaitKind::running;
    bool untimed = false;
    std::int64_t first_ns = 0, last_ns = 0;
    int samples = 0;
};

class SampledPass {
  public:
    SampledPass(TimelineModel& model, const RunRecord& record)
        : model_(model), record_(record), from_(uncovered_from(model, record)) {}

    void run() {
        if (from_.empty())
            return;
        walk_samples();
        set_lifetimes();
        place_bars();
        name_lanes();
        draw_history();
    }

  private:
    std::int64_t relative(std::int64_t time_ns) const { return time_ns - record_.start_time_ns; }

    void walk_samples() {
        for (std::size_t lane = 0; lane < model_.lanes.size(); ++lane)
            if (from_.count(model_.lanes[lane].pid)) {
                lane_of_[{model_.lanes[lane].pid, model_.lanes[lane].tid}] = lane;
                sampled_lanes_.push_back(lane);
            }
        open_.resize(model_.lanes.size());
        bars_.resize(model_.lanes.size());
        // In time order, whatever order a record read from a file keeps them in.
        std::vector<const Snapshot*> snapshots;
        for (const Snapshot& snapshot : record_.snapshots)
            snapshots.push_back(&snapshot);
        std::stable_sort(
            snapshots.begin(), snapshots.end(),
            [](const Snapshot* a, const Snapshot* b) { return a->time_ns < b->time_ns; });
        std::vector<std::size_t> seen_in(model_.lanes.size(), snapshots.size());
        for (std::size_t s = 0; s < snapshots.size(); ++s) {
            const std::int64_t t = relative(snapshots[s]->time_ns);
            for (const ProcessSnapshot& process : snapshots[s]->processes) {
                auto from = from_.find(process.ns_pid);
                if (process.infrastructure || from == from_.end() || t < from->second)
                    continue;
                comm_[process.ns_pid] = process.comm;
                add_program_names(program_names_[process.ns_pid], process.exe, process.command);
                for (const ThreadSnapshot& thread : process.threads) {
                    auto lane = lane_of_.find({process.ns_pid, thread.ns_tid});
                    if (lane == lane_of_.end() || is_gone(thread))
                        continue;
                    seen_in[lane->second] = s;
                    thread_comm_[lane->second] = thread.name;
                    if (first_seen_.emplace(lane->second, t).second)
                        first_comm_[lane->second] = thread.name;
                    gone_.erase(lane->second);
                    observe(lane->second, thread, t);
                }
            }
            // A thread missing from a sample has ended (or its process has).
            for (std::size_t lane : sampled_lanes_)
                if (open_[lane] && seen_in[lane] != s) {
                    close(lane, t);
                    gone_.emplace(lane, t);
                }
        }
        for (std::size_t lane : sampled_lanes_)
            if (open_[lane])
                close(lane, std::nullopt);
    }

    void observe(std::size_t lane, const ThreadSnapshot& thread, std::int64_t t) {
        SampledState state = state_of(thread);
        auto& open = open_[lane];
        if (open && open->state == state) {
            open->last_ns = t;
            ++open->samples;
            return;
        }
        if (open)
            close(lane, t);
        open = OpenSpan{std::move(state), thread.wait, thread.untimed, t, t, 1};
    }

    // Ends the lane's open span at the sample that showed something else (`next`), or, when the
    // last sample still showed it, at the end of the lane.
    void close(std::size_t lane, std::optional<std::int64_t> next) {
        OpenSpan& open = *open_[lane];
        const TimelineLane& where = model_.lanes[lane];
        SampledSpan span;
        span.pid = where.pid;
        span.tid = where.tid;
        span.wait = open.wait;
        span.untimed = open.untimed;
        span.what = open.state.what;
        span.first_seen_ns = open.first_ns;
        span.last_seen_ns = open.last_ns;
        span.samples = open.samples;
        span.next_sample_ns = next;
        TimelineBar bar;
        bar.start_ns = open.first_ns;
        bar.end_ns = std::max(open.last_ns, next.value_or(where.end_ns));
        bar.kind = open.state.kind;
        bar.what = BarSubject::sampled;
        bar.sampled = model_.sampled_spans.size();
        bar.sampled_open = !next;
        model_.sampled_spans.push_back(std::move(span));
        bars_[lane].push_back(bar);
        open_[lane].reset();
    }

    // A thread that no event announced lived, as far as anyone knows, from the first sample
    // that showed it to the first that did not (its process's first thread lives as long as the
    // process, which the history says).
    void set_lifetimes() {
        for (const auto& [lane, first] : first_seen_) {
            TimelineLane& l = model_.lanes[lane];
            const bool traced = !l.markers.empty() || std::any_of(l.rows.begin(), l.rows.end(),
                                                                  [](const TimelineRow& row) {
                                                                      return !row.bars.empty();
                                                                  });
            if (l.tid == l.pid || traced)
                continue;
            l.start_ns = std::clamp(first, l.start_ns, l.end_ns);
            if (auto gone = gone_.find(lane); gone != gone_.end())
                l.end_ns = std::clamp(gone->second, l.start_ns, l.end_ns);
            for (auto& bar : bars_[lane]) // an open bar ran to the old end
                bar.end_ns = std::min(bar.end_ns, std::max(bar.start_ns, l.end_ns));
        }
    }

    // Into the first row where they overlap nothing the trace drew (the trace's bars of a
    // process that exec'd end before its exec, so row 0 nearly always).
    void place_bars() {
        for (std::size_t lane = 0; lane < bars_.size(); ++lane) {
            if (bars_[lane].empty())
                continue;
            auto& rows = model_.lanes[lane].rows;
            auto overlaps = [](const TimelineRow& row, const TimelineBar& bar) {
                const std::size_t i = row.first_ending_at_or_after(bar.start_ns + 1);
                return i < row.bars.size() && row.bars[i].start_ns < bar.end_ns;
            };
            std::size_t r = 0;
            for (; r < rows.size(); ++r)
                if (std::none_of(bars_[lane].begin(), bars_[lane].end(),
                                 [&](const TimelineBar& bar) { return overlaps(rows[r], bar); }))
                    break;
            if (r == rows.size())
                rows.emplace_back();
            TimelineRow& row = rows[r];
            for (const TimelineBar& bar : bars_[lane]) {
                row.bars.push_back(bar);
                if (bar.kind == BarKind::waiting)
                    ++model_.waits;
            }
            std::stable_sort(
                row.bars.begin(), row.bars.end(),
                [](const TimelineBar& a, const TimelineBar& b) { return a.start_ns < b.start_ns; });
            row.sum_times();
        }
    }

    // A comm that every thread of the program shares ("python3") tells nothing: the thread whose
    // tid is the pid is "main", the others "thread N"; a comm a program gave a thread (with
    // prctl or pthread_setname_np) is its name.
    void name_lanes() {
        for (std::size_t lane = 0; lane < model_.lanes.size(); ++lane) {
            TimelineLane& l = model_.lanes[lane];
            if (!from_.count(l.pid))
                continue;
            auto seen = thread_comm_.find(lane);
            const std::string comm = seen != thread_comm_.end() ? seen->second : l.name;
            // The samples' programs (a live run has no process list yet) and the record's.
            std::set<std::string> generic = program_names_[l.pid];
            if (const ProcessRecord* process = record_.find_process(l.pid)) {
                add_program_names(generic, process->program, process->command);
                for (const ExecRecord& exec : process->execs)
                    add_program_names(generic, exec.program, exec.command);
            }
            // The process's own comm is its first thread's: another thread that has it too was
            // never named.
            if (l.tid != l.pid && !comm_[l.pid].empty())
                generic.insert(comm_[l.pid].substr(0, 15));
            const bool says_nothing = comm.empty() || generic.count(comm.substr(0, 15)) > 0;
            l.from_samples = true;
            l.comm = comm;
            // A Python thread's name lives in the interpreter (threading), not in the kernel:
            // the stacks and names read at the proof of a hang carry it. (The main thread stays
            // "main": threading calls it "MainThread", which says no more.)
            const std::string* named = l.tid == l.pid ? nullptr : python_name(l.pid, l.tid);
            if (named && says_nothing)
                l.name = *named;
            else if (says_nothing)
                l.name = l.tid == l.pid ? std::string("main") : fmt::format("thread {}", l.tid);
            else
                l.name = comm;
        }
    }

    const std::string* python_name(pid_t pid, pid_t tid) const {
        for (const ThreadStack& stack : record_.stacks)
            if (stack.ns_pid == pid && stack.ns_tid == tid && stack.python &&
                !stack.python->name.empty())
                return &stack.python->name;
        // A live thread that was not unwound (not stuck, not an owner) was still named.
        if (const ProcessRecord* process = record_.find_process(pid))
            for (const auto& [named_tid, name] : process->python_threads)
                if (named_tid == tid && !name.empty())
                    return &name;
        return nullptr;
    }

    std::size_t note(std::string text) {
        model_.sampled_notes.push_back(std::move(text));
        return model_.sampled_notes.size() - 1;
    }

    void marker(std::size_t lane, std::int64_t t, MarkerKind kind, std::string text) {
        auto& markers = model_.lanes[lane].markers;
        TimelineMarker m{t, kind, kNoTimelineEvent, note(std::move(text))};
        markers.insert(std::upper_bound(markers.begin(), markers.end(), m,
                                        [](const TimelineMarker& a, const TimelineMarker& b) {
                                            return a.t_ns < b.t_ns;
                                        }),
                       m);
    }

    bool has_marker(std::size_t lane, MarkerKind kind, std::optional<std::int64_t> at) const {
        const auto& markers = model_.lanes[lane].markers;
        return std::any_of(markers.begin(), markers.end(), [&](const TimelineMarker& m) {
            return m.kind == kind && (!at || m.t_ns == *at);
        });
    }

    // The process history: who made each process and how, its execs, its exit.
    void draw_history() {
        for (std::size_t g = 0; g < model_.groups.size(); ++g) {
            auto from = from_.find(model_.groups[g].pid);
            if (from == from_.end())
                continue;
            const ProcessRecord* process = record_.find_process(model_.groups[g].pid);
            if (!process)
                continue;
            if (from->second == std::numeric_limits<std::int64_t>::min())
                draw_start(g, *process);
            draw_execs(g, *process, from->second);
            draw_exit(g, *process);
        }
    }

    std::optional<std::size_t> parent_lane(const TimelineGroup& group) const {
        auto parent = model_.group_index(group.parent_pid);
        if (group.parent_pid == 0 || !parent || is_sandbox_process(model_.groups[*parent].role))
            return std::nullopt;
        return model_.groups[*parent].first_lane;
    }

    // The parent's thread that forked: a forked child's first thread starts with the name of
    // the thread that called fork, so when exactly one thread of the parent has that name, it
    // is the one; otherwise (every thread called "python3") the parent's first thread.
    std::optional<std::size_t> forking_lane(const TimelineGroup& child) const {
        auto first = parent_lane(child);
        auto name = first_comm_.find(child.first_lane);
        if (!first || name == first_comm_.end())
            return first;
        const TimelineGroup& parent = model_.groups[model_.lanes[*first].group];
        std::optional<std::size_t> only;
        for (std::size_t l = parent.first_lane; l < parent.first_lane + parent.lane_count; ++l) {
            const TimelineLane& lane = model_.lanes[l];
            if ((lane.comm.empty() ? lane.name : lane.comm) != name->second)
                continue;
            if (only)
                return first; // two threads of that name: no telling which
            only = l;
        }
        return only ? only : first;
    }

    void draw_start(std::size_t g, const ProcessRecord& process) {
        TimelineGroup& group = model_.groups[g];
        const std::string how = how_started(process);
        if (group.start_method.empty())
            group.start_method = how;
        // A child first seen running another program has that program's name, not its
        // forking thread's.
        auto from_lane = how == "fork" ? forking_lane(group) : parent_lane(group);
        const bool drawn = std::any_of(
            model_.arrows.begin(), model_.arrows.end(), [&](const TimelineArrow& arrow) {
                return arrow.kind == ArrowKind::start && arrow.to_lane == group.first_lane;
            });
        if (!from_lane || drawn || how.empty())
            return;
        model_.arrows.push_back({ArrowKind::start, *from_lane, group.first_lane, group.start_ns,
                                 group.start_ns, how, kNoTimelineEvent});
        const std::string origin =
            how == "fork" ? "running its parent's program: a copy made by fork()"
                          : fmt::format("already running {}: made by fork and exec, or spawn",
                                        process.execs.empty() ? std::string("another program")
                                                              : process.execs.front().program);
        marker(*from_lane, group.start_ns, MarkerKind::child_start,
               fmt::format("process {} started process {} ({})\nfirst seen by the sample at {}, "
                           "{}; it began after the sample before",
                           group.parent_pid, group.pid, how, ms(group.start_ns), origin));
    }

    void draw_execs(std::size_t g, const ProcessRecord& process, std::int64_t from) {
        const TimelineGroup& group = model_.groups[g];
        for (const ExecRecord& exec : process.execs) {
            // An exec before the first sight is the start arrow's label; one the trace announced
            // has its event's marker.
            if (exec.t_ns <= group.start_ns || exec.t_ns < from ||
                has_marker(group.first_lane, MarkerKind::exec, exec.t_ns))
                continue;
            marker(group.first_lane, exec.t_ns, MarkerKind::exec,
                   fmt::format("process {} exec'd {}\n{}\nfirst seen running it by the sample at "
                               "{}; the exec happened after the sample before",
                               group.pid, exec.program,
                               exec.command.empty() ? std::string("(command line not read)")
                                                    : exec.command,
                               ms(exec.t_ns)));
        }
    }

    void draw_exit(std::size_t g, const ProcessRecord& process) {
        const TimelineGroup& group = model_.groups[g];
        if (!group.ended || has_marker(group.first_lane, MarkerKind::exit, std::nullopt))
            return;
        const std::string how =
            process.exit_description.empty() ? std::string("exited") : process.exit_description;
        marker(group.first_lane, group.end_ns, MarkerKind::exit,
               fmt::format("process {} ended: {}\nseen ended by the sample at {} (it ended after "
                           "the sample before)",
                           group.pid, how, ms(group.end_ns)));
        // An exit whose status nobody read gets no label: the marker's hover says so.
        if (auto to = parent_lane(group))
            model_.arrows.push_back(
                {ArrowKind::exit, group.first_lane, *to, group.end_ns, group.end_ns,
                 process.wait_status.known() ? exit_label(process.wait_status) : std::string(),
                 kNoTimelineEvent});
    }

    TimelineModel& model_;
    const RunRecord& record_;
    std::map<pid_t, std::int64_t> from_; // the processes the samples speak for, and from when
    std::map<std::pair<pid_t, pid_t>, std::size_t> lane_of_;
    std::vector<std::size_t> sampled_lanes_; // the lanes of those processes
    std::vector<std::optional<OpenSpan>> open_;
    std::vector<std::vector<TimelineBar>> bars_;
    std::map<pid_t, std::string> comm_;                    // a process's comm, as last seen
    std::map<pid_t, std::set<std::string>> program_names_; // the programs the samples saw it run
    std::map<std::size_t, std::string> thread_comm_;       // a lane's thread's comm, as last seen
    std::map<std::size_t, std::int64_t> first_seen_;       // a lane's first sample
    std::map<std::size_t, std::string> first_comm_;        // its thread's comm then
    std::map<std::size_t, std::int64_t> gone_;             // the sample since which it was missing
};

} // namespace

void add_sampled_activity(TimelineModel& model, const RunRecord& record) {
    SampledPass(model, record).run();
}

// [SECTION] A sampled bar's tooltip ----------------------------------------------------------

std::string describe_sampled_bar(const TimelineModel& model, const RunRecord& record,
                                 const TimelineBar& bar) {
    if (bar.sampled >= model.sampled_spans.size())
        return std::string(to_string(bar.kind));
    const SampledSpan& span = model.sampled_spans[bar.sampled];
    std::string thread = fmt::format("tid {}", span.tid);
    if (auto lane = model.lane_index(span.pid, span.tid))
        thread = fmt::format("'{}' (tid {})", model.lanes[*lane].name, span.tid);
    std::string text =
        bar.kind == BarKind::waiting ? fmt::format("waiting: {}", span.what) : span.what;
    text += fmt::format("\nthread {} of process {}\n", thread, span.pid);
    const std::string_view seen = bar.kind == BarKind::waiting   ? "blocked"
                                  : bar.kind == BarKind::running ? "running"
                                                                 : "like this";
    text += span.samples == 1
                ? fmt::format("seen {} by 1 sample, at {}", seen, ms(span.first_seen_ns))
                : fmt::format("seen {} from {} in {} samples (the last at {})", seen,
                              ms(span.first_seen_ns), span.samples, ms(span.last_seen_ns));
    if (span.next_sample_ns)
        text += fmt::format("; the sample at {} showed it otherwise", ms(*span.next_sample_ns));
    else
        text += "; still so in the last sample";
    text += "\nnot instrumented: the kernel's samples show it, every few ms (the record keeps the "
            "samples where some thread changed), so the bar's ends are within one sample";
    if (bar.kind == BarKind::waiting && bar.open())
        for (const WaitEdge& edge : record.verdict.wait_for)
            if (edge.waiter_pid == span.pid && edge.waiter_tid == span.tid &&
                !edge.description.empty())
                text +=
                    fmt::format("\n{}{}", edge.orphaned ? "orphaned lock: " : "", edge.description);
    return text;
}

} // namespace forklore
