// The runner: one run of a scenario variant, from the request to the record (runner.hpp). This
// file holds the run's course and its sampling loop, where the verdict is decided; starting the
// sandbox is spawn_host.cpp, its limits run_limits.cpp, ending it run_end.cpp.
//
// Index of this file:
// [SECTION] Samples: what is kept of them
// [SECTION] A deadlock proven: stacks and the explanation
// [SECTION] The sampling loop
// [SECTION] One run, from start to record
#include "sim/run/runner.hpp"

#include "sim/observe/observer.hpp"
#include "sim/observe/stacks.hpp"
#include "sim/run/sandbox_run.hpp"
#include "sim/sandbox/host.hpp"
#include "sim/verdict/stuck_set.hpp"
#include "sim/verdict/thread_names.hpp"
#include "sim/verdict/verdict.hpp"

#include <gnu/libc-version.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace forklore {
namespace runner {

std::int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

double ms_between(std::int64_t from, std::int64_t to) {
    return static_cast<double>(to - from) / 1e6;
}

namespace {

//-----------------------------------------------------------------------------
// [SECTION] Samples: what is kept of them
//-----------------------------------------------------------------------------

// A short signature of what every thread is doing: snapshots are kept when it changes. An exec
// changes a thread's name (and the program's image), not always its state: it counts too.
std::string activity_signature(const Snapshot& snapshot) {
    std::string signature;
    for (const auto& process : snapshot.processes) {
        signature += fmt::format("{}@{:x}:", process.pid, process.image);
        for (const auto& thread : process.threads)
            signature += fmt::format("{}:{}{}{};", thread.tid, thread.state,
                                     static_cast<int>(thread.wait), thread.name);
    }
    return signature;
}

// Processes and threads of the scenario (the sandbox's own, host and reaper, not counted).
std::size_t scenario_task_count(const Snapshot& snapshot) {
    std::size_t count = 0;
    for (const auto& process : snapshot.processes)
        if (!process.infrastructure)
            count += std::max<std::size_t>(1, process.threads.size());
    return count;
}

// A thread blocked writing to the captured stdout/stderr waits for the runner, which is outside
// the sandbox and drains them every sample: that is back-pressure, never a hang.
void excuse_writes_to_runner(Snapshot& snapshot, const std::string& stdout_target,
                             const std::string& stderr_target) {
    for (auto& process : snapshot.processes)
        for (auto& thread : process.threads)
            if (thread.wait == WaitKind::pipe && !thread.fd_target.empty() &&
                (thread.fd_target == stdout_target || thread.fd_target == stderr_target)) {
                thread.wait = WaitKind::other;
                thread.untimed = false;
            }
}

} // namespace

// Takes a sample, cheap or detailed, and keeps what the record needs of it.
Snapshot SandboxRun::take_sample(Observer& observer, bool detailed) {
    std::int64_t before = now_ns();
    Snapshot snapshot = observer.sample(detailed);
    excuse_writes_to_runner(snapshot, stdout_target_, stderr_target_);
    stepper_.excuse_waits_for_turn(snapshot);
    sample_total_us_ += static_cast<double>(now_ns() - before) / 1e3;
    ++record_.timings.samples;
    for (const auto& process : snapshot.processes)
        seen_pids_.insert(process.pid);
    history_.observe(snapshot);
    keep_snapshot(snapshot);
    return snapshot;
}

void SandboxRun::keep_snapshot(const Snapshot& snapshot) {
    constexpr std::size_t kMaxSnapshots = 400;
    std::string signature = activity_signature(snapshot);
    if (signature == last_signature_ || record_.snapshots.size() >= kMaxSnapshots)
        return;
    last_signature_ = std::move(signature);
    record_.snapshots.push_back(snapshot);
}

void SandboxRun::keep_as_last(const Snapshot& snapshot) {
    if (record_.snapshots.empty() || record_.snapshots.back().time_ns != snapshot.time_ns)
        record_.snapshots.push_back(snapshot);
}

void SandboxRun::read_source_files() {
    for (auto& [id, path] : channel_.source_files())
        record_.source_files.try_emplace(id, std::move(path));
}

//-----------------------------------------------------------------------------
// [SECTION] A deadlock proven: stacks and the explanation
//-----------------------------------------------------------------------------

// Stacks of the given threads (host tids), or of every live scenario thread when none is given.
void SandboxRun::capture_stacks_of(const Snapshot& snapshot, const std::vector<pid_t>& tids) {
    if (!request_.capture_stacks)
        return;
    // Bounded: a sandbox of hundreds of busy processes (a bomb at its deadline) would take
    // minutes to unwind, and a reader wants the first few stacks anyway.
    constexpr std::size_t kMaxStacks = 32;
    constexpr std::int64_t kBudgetNs = 2'000'000'000;
    const std::int64_t give_up = now_ns() + kBudgetNs;
    for (const auto& process : snapshot.processes) {
        if (record_.stacks.size() >= kMaxStacks || now_ns() >= give_up)
            return;
        if (process.infrastructure)
            continue;
        std::vector<pid_t> wanted;
        for (const auto& thread : process.threads) {
            // A zombie has no memory map left to unwind: its exit is in the trace instead.
            if (thread.state == 'Z' || thread.state == 'X')
                continue;
            if (tids.empty() || std::find(tids.begin(), tids.end(), thread.tid) != tids.end())
                wanted.push_back(thread.tid);
        }
        if (wanted.empty()) {
            // No stack wanted here, but a live Python process's threads still get their
            // threading names in the verdict's sentences.
            keep_python_thread_names(process, python_thread_names(process));
            continue;
        }
        std::vector<ThreadStack> stacks = capture_stacks(process.pid, wanted);
        for (auto& stack : stacks) {
            stack.ns_pid = process.ns_pid;
            for (const auto& thread : process.threads)
                if (thread.tid == stack.tid) {
                    stack.ns_tid = thread.ns_tid;
                    if (stack.thread_name.empty())
                        stack.thread_name = thread.name;
                }
        }
        // A CPython process: its Python frames beside, and its threads' threading names.
        keep_python_thread_names(process, add_python_stacks(process, stacks));
        for (auto& stack : stacks)
            record_.stacks.push_back(std::move(stack));
    }
}

void SandboxRun::keep_python_thread_names(const ProcessSnapshot& process, ThreadNameList names) {
    for (auto& [tid, name] : names)
        for (const auto& thread : process.threads)
            if (thread.tid == tid)
                python_thread_names_.push_back({tid, process.ns_pid, thread.ns_tid, name});
}

void SandboxRun::decide_deadlock(const Snapshot& detailed) {
    record_.timings.verdict_ms = ms_between(start_ns_, now_ns());
    decided_ = true;
    // Stacks first: for a program that records no events they are what names a futex's object
    // (a semaphore, a Python lock) in the explanation. Only the stuck threads and the owners
    // their locks name: the live ones are not what went wrong, and each stack costs time.
    StuckSet stuck = find_stuck_threads(detailed);
    std::vector<pid_t> tids;
    for (const auto& member : stuck.stuck) {
        tids.push_back(member.thread->tid);
        if (member.thread->owner_tid)
            tids.push_back(member.thread->owner_tid);
    }
    capture_stacks_of(detailed, tids);
    // The live threads of a Python process are named by threading too, not 'thread N'.
    ThreadNameList by_host_tid;
    for (const auto& named : python_thread_names_)
        by_host_tid.emplace_back(named.tid, named.name);
    record_.verdict = explain_deadlock(with_python_thread_names(detailed, by_host_tid),
                                       record_.events, start_ns_, record_.stacks);
}

//-----------------------------------------------------------------------------
// [SECTION] The sampling loop
//-----------------------------------------------------------------------------

// When the scenario's first process has been reaped (the reaper marks its process_exit), the
// run is over: what it left running is named, then killed with the sandbox.
bool SandboxRun::first_process_ended() {
    for (; first_exit_scan_ < record_.events.size(); ++first_exit_scan_) {
        const Event& event = record_.events[first_exit_scan_];
        if (event.kind == EventKind::process_exit && event.arg1 == kFirstProcessExit)
            return true;
    }
    return false;
}

void SandboxRun::note_left_running(const Snapshot& snapshot) {
    for (const auto& process : snapshot.processes) {
        if (process.infrastructure || process.state == 'Z' || process.state == 'X')
            continue;
        LeftRunning left;
        left.pid = process.ns_pid;
        left.command = process.command.empty() ? process.comm : process.command;
        for (const auto& thread : process.threads)
            if (thread.state != 'Z' && thread.state != 'X')
                left.threads.push_back(
                    {process.ns_pid, thread.ns_tid, thread.name, describe_activity(thread)});
        record_.left_running.push_back(std::move(left));
    }
}

void SandboxRun::loop() {
    Observer observer(host_pid_);
    DeadlockDetector detector(request_.detector);
    const std::int64_t deadline =
        start_ns_ + static_cast<std::int64_t>(request_.timeout_seconds * 1e9);
    // Waits whose wakers only a detailed sample names (fds, file locks, shared mappings) are
    // looked at this often while nothing else is suspect.
    constexpr std::int64_t kDetailEvery = 10'000'000;
    std::int64_t last_detail_ns = 0;
    constexpr std::int64_t kLeftoverGraceNs = 200'000'000;
    std::int64_t first_ended_ns = 0;
    bool first_event_seen = false;
    for (;;) {
        stdout_.drain();
        stderr_.drain();
        if (channel_.read(cursor_, record_.events) > 0)
            read_source_files();
        if (!first_event_seen && !record_.events.empty()) {
            first_event_seen = true;
            record_.timings.setup_ms = ms_between(start_ns_, record_.events.front().time_ns);
        }
        // Before the exit is looked at: a program that writes past the limit and exits within
        // one turn of this loop (a busy machine) has passed it all the same.
        if (output_limit_reached())
            return;
        if (kernel_limit_reached())
            return;
        if (waitpid(host_pid_, &host_status_, WNOHANG) == host_pid_) {
            host_exited_ = true;
            return;
        }
        // The run ends with the scenario's first process. What it leaves behind gets a moment
        // to end on its own (a fork server or a resource tracker leaves when its parent's socket
        // closes); what is still there then (a daemon, a worker nobody waited for) is named and
        // killed with the sandbox.
        if (first_ended_ns == 0 && first_process_ended())
            first_ended_ns = now_ns();
        if (first_ended_ns != 0 && now_ns() - first_ended_ns >= kLeftoverGraceNs) {
            note_left_running(take_sample(observer, true));
            return;
        }
        // While a stuck set is being confirmed every sample is detailed, so that all the
        // samples of one window judge the waits alike.
        bool window_open = detector.quiet_since_ns() != 0;
        Snapshot snapshot = take_sample(observer, window_open);
        // Once the first process has ended, what is left can no longer decide the verdict.
        StuckSet stuck = first_ended_ns == 0 ? find_stuck_threads(snapshot) : StuckSet{};
        bool proven = detector.observe(snapshot, stuck, record_.events);
        bool detail_due = stuck.needs_detail && snapshot.time_ns - last_detail_ns >= kDetailEvery;
        if (!proven && !snapshot.detailed && (!stuck.empty() || detail_due)) {
            // Suspect on a cheap sample: look closer at once (owners, fds, file locks).
            channel_.read(cursor_, record_.events);
            snapshot = take_sample(observer, true);
            stuck = find_stuck_threads(snapshot);
            proven = detector.observe(snapshot, stuck, record_.events);
        }
        if (snapshot.detailed)
            last_detail_ns = snapshot.time_ns;
        last_snapshot_ = snapshot;
        // Without a cgroup the tasks are counted here: a fork bomb can outrun a sample.
        if (!cgroup_.enforces_tasks() && request_.limits.max_tasks > 0 &&
            scenario_task_count(snapshot) > static_cast<std::size_t>(request_.limits.max_tasks)) {
            stop_with(VerdictKind::limit,
                      fmt::format("Limit: the sandbox had {} processes and threads, more than its "
                                  "limit of {} (counted in a sample: this system gave the run no "
                                  "cgroup, so the kernel did not enforce it).",
                                  scenario_task_count(snapshot), request_.limits.max_tasks));
            record_.verdict.limit = "tasks";
            return;
        }
        if (proven && snapshot.detailed) {
            record_.timings.quiet_window_ms =
                ms_between(detector.quiet_since_ns(), snapshot.time_ns);
            keep_as_last(snapshot);
            decide_deadlock(snapshot);
            return;
        }
        if (request_.cancel && request_.cancel->load()) {
            // Not a hang and not an outcome: the run was cut short, nothing was proven.
            stop_with(VerdictKind::stopped,
                      fmt::format("Stopped by the user after {:.1f} s, before a verdict was "
                                  "proven: this run has no outcome, and counts in no hang rate.",
                                  static_cast<double>(now_ns() - start_ns_) / 1e9));
            return;
        }
        if (now_ns() >= deadline) {
            Snapshot detailed = take_sample(observer, true);
            keep_as_last(detailed);
            last_snapshot_ = detailed;
            stop_with(VerdictKind::timed_out, explain_timeout(detailed, record_.events, start_ns_,
                                                              request_.timeout_seconds));
            capture_stacks_of(detailed, {});
            return;
        }
        stepper_.after_sample(snapshot, record_, now_ns());
        if (request_.on_progress)
            request_.on_progress(record_);
        // Sleep until the next sample, waking early only when the host exits. Not when output
        // arrives: a runner that woke (and sampled /proc) at every write would take a CPU from
        // a program that prints all the time, at the moments it prints, and change the very
        // interleavings a racy run measures (a printer thread's hang rate fell from 20 of 20 to
        // 12..16 of 20 outside forklore when its stderr went to `cat`, which wakes at every
        // write, instead of to a reader that drains every 20 ms). The pipes hold 1 MiB each and
        // are drained every sample: a writer faster than that waits for the runner, which is
        // back-pressure, never a hang.
        pollfd host_exit{host_pidfd_, POLLIN, 0};
        poll(&host_exit, 1, std::max(1, request_.sample_interval_us / 1000));
    }
}

//-----------------------------------------------------------------------------
// [SECTION] One run, from start to record
//-----------------------------------------------------------------------------

namespace {

std::string host_description() {
    utsname name{};
    uname(&name);
    return fmt::format("{} {} {}, glibc {}", name.sysname, name.release, name.machine,
                       gnu_get_libc_version());
}

} // namespace

// Ends the run with a verdict of the runner's own (a setup error, a limit, a stop, a timeout).
void SandboxRun::stop_with(VerdictKind kind, std::string explanation) {
    record_.verdict = Verdict{};
    record_.verdict.kind = kind;
    record_.verdict.explanation = std::move(explanation);
    record_.timings.verdict_ms = ms_between(start_ns_, now_ns());
    decided_ = true;
}

RunRecord SandboxRun::run() {
    start_ns_ = now_ns();
    record_.start_time_ns = start_ns_;
    record_.scenario = request_.scenario ? request_.scenario->id : "";
    record_.variant = request_.variant;
    record_.knobs = request_.knobs;
    record_.expected = request_.expected;
    record_.limits = request_.limits;
    record_.host = host_description();
    if (!request_.scenario) {
        stop_with(VerdictKind::setup_error, "no scenario given");
        return record_;
    }
    // Orphans of the sandbox come to us rather than to init, so nothing escapes reaping.
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    try {
        channel_ = Channel::create(request_.channel_capacity);
    } catch (const std::exception& error) {
        stop_with(VerdictKind::setup_error, std::string("event channel: ") + error.what());
        return record_;
    }
    if (request_.scheduler) {
        try {
            stepper_ = Stepper(ScheduleBoard::create(), request_.scheduler);
        } catch (const std::exception& error) {
            stop_with(VerdictKind::setup_error, std::string("schedule board: ") + error.what());
            return record_;
        }
    }
    std::string host_path = request_.host_path.empty() ? default_host_path() : request_.host_path;
    if (start(host_path)) {
        if (cgroup_.active()) {
            watching_ = true;
            limit_watcher_ = std::thread([this] { watch_limits(); });
        }
        loop();
    }
    kill_and_reap();
    finish_record();
    return std::move(record_);
}

} // namespace runner

std::string default_host_path() {
    std::string self = own_executable_path();
    auto slash = self.rfind('/');
    return (slash == std::string::npos ? std::string(".") : self.substr(0, slash)) +
           "/forklore-host";
}

RunRequest make_request(const Scenario& scenario, const std::string& variant,
                        const KnobValues& overrides) {
    RunRequest request;
    request.scenario = &scenario;
    request.timeout_seconds = scenario.timeout_seconds;
    request.limits = scenario.limits;
    const Variant* chosen = nullptr;
    if (!variant.empty()) {
        chosen = scenario.find_variant(variant);
        if (!chosen) {
            std::vector<std::string> names;
            for (const auto& v : scenario.variants)
                names.push_back(v.name);
            throw std::invalid_argument(
                fmt::format("scenario '{}' has no variant '{}' (variants: {})", scenario.id,
                            variant, fmt::join(names, ", ")));
        }
        request.variant = variant;
        if (overrides.empty())
            request.expected = chosen->expected;
    }
    request.knobs = scenario.resolve_knobs(chosen, overrides);
    return request;
}

RunRecord run_scenario(const RunRequest& request) {
    runner::SandboxRun run(request);
    return run.run();
}

} // namespace forklore
