// Ending a run: killing and reaping every process of the sandbox (whatever escaped its process
// group too), then the record: the rest of the output and the trace, the verdict of a run that
// ended on its own, and the process tree.
#include "sim/run/sandbox_run.hpp"

#include "sim/sandbox/host.hpp"
#include "sim/verdict/completion.hpp"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <fstream>

namespace forklore::runner {

namespace {

// True while `pid` is still a member of the sandbox's process group: a pid seen earlier may have
// been reused by an unrelated process since, which must never be killed.
bool in_process_group(pid_t pid, pid_t group) {
    return getpgid(pid) == group;
}

// Children of this process (of any of its threads) that are members of `group`: processes of the
// sandbox reparented to the runner, which is their subreaper, including those that lived too
// briefly for any sample to see them.
std::vector<pid_t> adopted_members_of(pid_t group) {
    std::vector<pid_t> members;
    DIR* tasks = opendir("/proc/self/task");
    if (!tasks)
        return members;
    while (dirent* task = readdir(tasks)) {
        if (task->d_name[0] == '.')
            continue;
        std::ifstream children(std::string("/proc/self/task/") + task->d_name + "/children");
        for (pid_t pid = 0; children >> pid;)
            if (getpgid(pid) == group)
                members.push_back(pid);
    }
    closedir(tasks);
    return members;
}

// " When the program's first process ended, process 5 (daemon --forever), which sleeps, was
// still running: it was killed with the sandbox."
std::string left_running_sentence(const std::vector<LeftRunning>& left) {
    if (left.empty())
        return {};
    std::vector<std::string> named;
    for (const auto& process : left) {
        std::vector<std::string> doing;
        for (const auto& thread : process.threads)
            doing.push_back(thread.wait);
        std::sort(doing.begin(), doing.end());
        doing.erase(std::unique(doing.begin(), doing.end()), doing.end());
        named.push_back(fmt::format("process {} ({}), which {},", process.pid, process.command,
                                    fmt::join(doing, " and ")));
    }
    return fmt::format(" When the first process ended, {} {} still running: {} killed with the "
                       "sandbox.",
                       fmt::join(named, "; "), left.size() == 1 ? "was" : "were",
                       left.size() == 1 ? "it was" : "they were");
}

// Which processes the OOM killer ended: those reaped by SIGKILL before the runner killed the
// sandbox (" The killed process: 2 (./memory_bomb).").
std::string oom_victims(const RunRecord& record) {
    std::vector<std::string> victims;
    for (const auto& process : record.processes)
        if (process.wait_status.fatal_signal() == SIGKILL && !process.killed_by_runner)
            victims.push_back(
                fmt::format("{} ({})", process.ns_pid,
                            process.command.empty() ? process.name : process.command));
    if (victims.empty())
        return {};
    return fmt::format(" Killed by the OOM killer: process{} {}.", victims.size() == 1 ? "" : "es",
                       fmt::join(victims, ", "));
}

} // namespace

void SandboxRun::kill_and_reap() {
    stop_watching();
    if (host_pid_ <= 0)
        return;
    if (!host_exited_) {
        killed_sandbox_ = true;
        // The whole process group first, then every member a sample saw (again, in case the
        // group kill raced a fork). Killing pid 1 of the namespace also kills the rest.
        kill(-host_pid_, SIGKILL);
        for (pid_t pid : seen_pids_)
            if (pid != host_pid_ && in_process_group(pid, host_pid_))
                kill(pid, SIGKILL);
        while (waitpid(host_pid_, &host_status_, 0) < 0 && errno == EINTR) {
        }
        host_exited_ = true;
    }
    // Without a PID namespace the host's death leaves the rest of the sandbox alive or as zombies,
    // reparented to the runner (a child subreaper). Kill the group until it is empty and reap
    // each member that comes to us. The group id cannot be reused while a member exists, so
    // the signal reaches only the sandbox. Bounded: a member stuck in the kernel must not hang
    // the runner forever.
    const std::int64_t give_up = now_ns() + 5'000'000'000;
    while (kill(-host_pid_, 0) == 0 && now_ns() < give_up) {
        kill(-host_pid_, SIGKILL);
        auto adopted = adopted_members_of(host_pid_);
        for (pid_t pid : adopted)
            while (waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
            }
        // A member whose parent is still dying comes to us a moment later.
        if (adopted.empty())
            usleep(500);
    }
    // Whatever left the process group (setsid, a double fork) is still in the cgroup: killed
    // there, and reaped here when it was adopted by the runner.
    if (cgroup_.active()) {
        auto members = cgroup_.kill_all();
        if (!members.empty())
            killed_sandbox_ = true;
        // A member leaves the cgroup a moment before it becomes a zombie: wait for it briefly
        // (ECHILD at once for those whose parent is not the runner).
        const std::int64_t reap_until = now_ns() + 100'000'000;
        for (pid_t pid : members)
            for (;;) {
                pid_t got = waitpid(pid, nullptr, __WALL | WNOHANG);
                if (got < 0 && errno == EINTR)
                    continue;
                if (got != 0 || now_ns() >= reap_until)
                    break;
                usleep(200);
            }
        for (pid_t pid : adopted_members_of(host_pid_))
            while (waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
            }
        // The counters of the whole run, then the cgroups go.
        if (!decided_)
            kernel_limit_reached();
        else
            counters_ = cgroup_.read();
        record_.cgroup_counters = counters_;
        cgroup_.remove();
    }
    if (host_pidfd_ >= 0)
        close(host_pidfd_);
    host_pidfd_ = -1;
}

void SandboxRun::finish_record() {
    if (stepper_.active())
        record_.schedule = stepper_.take_schedule();
    // Every writer is dead now; read the pipes to their end (bounded: a stray writer outside
    // our reach must not hang the runner).
    for (int round = 0; round < 100 && (stdout_.open || stderr_.open); ++round) {
        stdout_.drain();
        stderr_.drain();
        if (stdout_.open || stderr_.open) {
            pollfd fds[2] = {{stdout_.open ? stdout_.read_fd : -1, POLLIN, 0},
                             {stderr_.open ? stderr_.read_fd : -1, POLLIN, 0}};
            poll(fds, 2, 10);
        }
    }
    store_output(stdout_.capture(), stderr_.capture(), record_);
    channel_.read(cursor_, record_.events, true, &record_.torn_events);
    read_source_files();
    record_.dropped_events = channel_.dropped();
    for (const auto& event : record_.events)
        if (event.kind == EventKind::note && field_text(event.name) == "sandbox" &&
            field_text(event.text).starts_with("sandbox: "))
            record_.sandbox = Containment::from_bits(event.object).describe();

    if (!decided_) {
        bool setup_failed = WaitStatus::from_raw(host_status_).exit_code() == kHostSetupErrorCode &&
                            record_.stderr_text.find("forklore-host: setup:") != std::string::npos;
        if (setup_failed) {
            std::string message = record_.stderr_text;
            auto at = message.find("forklore-host: setup:");
            message = message.substr(at);
            if (auto newline = message.find('\n'); newline != std::string::npos)
                message.resize(newline);
            stop_with(VerdictKind::setup_error, "Setup error: " + message);
        } else if (output_limit_reached()) {
            // The last of the output arrived with the exit: the limit holds however late the
            // runner read it, so the verdict does not depend on the machine's load.
        } else {
            record_.verdict = judge_exits(record_.events, host_status_);
            record_.verdict.explanation += left_running_sentence(record_.left_running);
            // Why it did not hang, and what could have: as carefully as a hang is explained.
            add_completion_story(record_.verdict, record_.events, record_.snapshots, start_ns_);
            record_.timings.verdict_ms = ms_between(start_ns_, now_ns());
        }
    }
    if (!last_snapshot_.processes.empty())
        keep_as_last(last_snapshot_);
    record_.processes = build_process_records(record_.events, history_, start_ns_,
                                              {host_pid_, host_status_, killed_sandbox_});
    for (const auto& named : python_thread_names_)
        for (ProcessRecord& process : record_.processes)
            if (process.ns_pid == named.ns_pid)
                process.python_threads.emplace_back(named.ns_tid, named.name);
    if (record_.verdict.limit == "memory")
        record_.verdict.explanation += oom_victims(record_);
    if (!workdir_.empty())
        remove_tree(workdir_);
    record_.timings.total_ms = ms_between(start_ns_, now_ns());
    if (record_.timings.samples > 0)
        record_.timings.sample_mean_us = sample_total_us_ / record_.timings.samples;
}

} // namespace forklore::runner
