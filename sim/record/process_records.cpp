// The processes of a run (process_records.hpp): the history the samples saw, and one record a
// process built from the trace and that history.
//
// Index of this file:
// [SECTION] What the samples saw: the process history
// [SECTION] Records: every process of the run, from the trace and the samples
#include "sim/record/process_records.hpp"

#include <algorithm>
#include <map>
#include <unordered_set>

namespace forklore {

// [SECTION] What the samples saw: the process history ---------------------------------------------

namespace {

bool is_zombie(const ProcessSnapshot& process) {
    return process.state == 'Z' || process.state == 'X';
}

// An exec shows as a new stack address; where the kernel hides it (0), as a new executable.
bool execed(std::uint64_t known_image, std::uint64_t image, const std::string& known_exe,
            const std::string& exe) {
    if (known_image != 0 && image != 0)
        return known_image != image;
    return !exe.empty() && !known_exe.empty() && exe != known_exe;
}

} // namespace

void ProcessHistory::observe(const Snapshot& snapshot) {
    std::unordered_set<pid_t> present;
    for (const auto& seen : snapshot.processes) {
        present.insert(seen.pid);
        auto known = live_.find(seen.pid);
        // A pid the kernel gave to a new process since the last sample is a new entry.
        if (known != live_.end() && seen.start_time != 0 && known->second.start_time != 0 &&
            seen.start_time != known->second.start_time) {
            Process& old = processes_[known->second.index];
            if (!old.gone_ns)
                old.gone_ns = snapshot.time_ns;
            live_.erase(known);
            known = live_.end();
        }
        if (known == live_.end()) {
            Process process;
            process.pid = seen.pid;
            process.ns_pid = seen.ns_pid;
            process.infrastructure = seen.infrastructure;
            process.first_seen_ns = snapshot.time_ns;
            process.parent_pid = seen.ppid;
            if (const ProcessSnapshot* parent = snapshot.find_process(seen.ppid))
                process.parent_ns_pid = parent->ns_pid;
            processes_.push_back(std::move(process));
            known =
                live_.emplace(seen.pid, Identity{processes_.size() - 1, seen.start_time, 0}).first;
        }
        Process& process = processes_[known->second.index];
        process.comm = seen.comm;
        process.last_seen_ns = snapshot.time_ns;
        if (is_zombie(seen)) {
            if (!process.zombie_ns) {
                process.zombie_ns = snapshot.time_ns;
                process.zombie_status = seen.exit_code;
            }
        } else if (!seen.exe.empty()) {
            Identity& identity = known->second;
            auto& programs = process.programs;
            bool exec = !programs.empty() &&
                        execed(identity.image, seen.image, programs.back().exe, seen.exe);
            // A sample that lands inside execve sees the new program with a stack address the
            // kernel has not finished placing: the next sample shows it moved. One exec, not two.
            bool same_exec_seen_midway = exec && programs.size() > 1 &&
                                         programs.back().seen_ns == programs.back().last_seen_ns &&
                                         programs.back().exe == seen.exe;
            if (programs.empty()) {
                const ProcessSnapshot* parent = snapshot.find_process(process.parent_pid);
                process.execed_before_seen =
                    parent && !parent->exe.empty() && parent->exe != seen.exe;
            }
            if (programs.empty() || (exec && !same_exec_seen_midway))
                programs.push_back({snapshot.time_ns, snapshot.time_ns, seen.exe, seen.command});
            // The same program: an exec racing the sample may have shown its new name first.
            programs.back().exe = seen.exe;
            if (!seen.command.empty())
                programs.back().command = seen.command;
            programs.back().last_seen_ns = snapshot.time_ns;
            if (seen.image != 0)
                identity.image = seen.image;
        }
        for (const auto& thread : seen.threads) {
            if (thread.state == 'Z' || thread.state == 'X')
                continue;
            auto it = std::find_if(process.threads.begin(), process.threads.end(),
                                   [&](const auto& t) { return t.first == thread.ns_tid; });
            if (it == process.threads.end())
                process.threads.emplace_back(thread.ns_tid, thread.name);
            else
                it->second = thread.name; // an exec renames the main thread
        }
    }
    for (auto it = live_.begin(); it != live_.end();) {
        if (present.count(it->first)) {
            ++it;
            continue;
        }
        Process& process = processes_[it->second.index];
        if (!process.gone_ns)
            process.gone_ns = snapshot.time_ns;
        it = live_.erase(it);
    }
}

// [SECTION] Records: every process of the run, from the trace and the samples ---------------------

namespace {

std::string basename_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The execs of one process: the trace's (exact times, the name exec was given) merged with the
// samples' (the program /proc showed after it). Each program change a sample saw is matched
// with the latest unmatched exec event before it; what stays unmatched on either side is kept.
std::vector<ExecRecord> merge_execs(std::vector<ExecRecord> traced,
                                    const std::vector<ExecRecord>& sampled) {
    std::vector<bool> matched(traced.size(), false);
    std::vector<ExecRecord> result;
    for (const auto& seen : sampled) {
        std::optional<std::size_t> match;
        for (std::size_t i = 0; i < traced.size(); ++i)
            if (!matched[i] && traced[i].t_ns <= seen.t_ns)
                match = i;
        if (match) {
            matched[*match] = true;
            traced[*match].program = seen.program;
            traced[*match].command = seen.command;
        } else {
            result.push_back(seen);
        }
    }
    for (auto& exec : traced)
        result.push_back(std::move(exec));
    std::stable_sort(result.begin(), result.end(),
                     [](const ExecRecord& a, const ExecRecord& b) { return a.t_ns < b.t_ns; });
    return result;
}

} // namespace

std::vector<ProcessRecord> build_process_records(const std::vector<Event>& events,
                                                 const ProcessHistory& history,
                                                 std::int64_t start_time_ns,
                                                 const SandboxEnd& end) {
    std::map<pid_t, ProcessRecord> by_pid;
    std::map<pid_t, std::vector<ExecRecord>> traced_execs;
    auto process = [&](pid_t ns_pid) -> ProcessRecord& {
        ProcessRecord& record = by_pid[ns_pid];
        record.ns_pid = ns_pid;
        return record;
    };
    auto add_thread = [](ProcessRecord& record, pid_t tid, const std::string& name) {
        for (auto& [known_tid, known_name] : record.threads)
            if (known_tid == tid) {
                if (known_name.empty())
                    known_name = name;
                return;
            }
        record.threads.emplace_back(tid, name);
    };
    for (const auto& event : events) {
        const std::int64_t t = event.time_ns - start_time_ns;
        switch (event.kind) {
        case EventKind::process_start: {
            ProcessRecord& record = process(event.pid);
            record.name = event.name;
            record.role = role_from_name(record.name);
            record.parent_ns_pid = static_cast<pid_t>(event.arg0);
            // The main process's text is its scenario's id; any other's, how it was made.
            if (record.role != ProcessRole::main && !record.start_method)
                record.start_method = start_method_from_string(field_text(event.text));
            if (record.start_ns == 0)
                record.start_ns = t;
            add_thread(record, event.tid, event.thread);
            break;
        }
        case EventKind::child_start: {
            ProcessRecord& record = process(static_cast<pid_t>(event.object));
            record.parent_ns_pid = event.pid;
            record.start_method = static_cast<StartMethod>(event.arg0);
            if (record.name.empty()) {
                record.name = event.name;
                record.role = role_from_name(record.name);
            }
            if (record.start_ns == 0 || t < record.start_ns)
                record.start_ns = t;
            break;
        }
        case EventKind::process_exit: {
            // The reaper records every exit it collects, in its own name: a run that ends
            // between two samples still knows it was there.
            if (field_text(event.name) == to_string(ProcessRole::reaper)) {
                ProcessRecord& reaper = process(event.pid);
                reaper.name = to_string(ProcessRole::reaper);
                reaper.role = ProcessRole::reaper;
                add_thread(reaper, event.tid, event.thread);
            }
            ProcessRecord& record = process(static_cast<pid_t>(event.object));
            if (!record.wait_status.known()) {
                record.wait_status = WaitStatus::from_raw(static_cast<int>(event.arg0));
                record.end_ns = t;
                record.exit_description = WaitStatus::from_raw(static_cast<int>(event.arg0)).text();
            }
            break;
        }
        case EventKind::exec:
            add_thread(process(event.pid), event.tid, event.thread);
            traced_execs[event.pid].push_back({t, event.name, event.text});
            break;
        case EventKind::thread_start:
            add_thread(process(event.pid), event.tid, event.name);
            break;
        case EventKind::output: {
            ProcessRecord& record = process(event.pid);
            record.output += event.text;
            record.output += '\n';
            break;
        }
        default:
            if (event.pid > 0)
                add_thread(process(event.pid), event.tid, event.thread);
            break;
        }
    }
    // What the samples saw: host pids, and whatever the trace never mentioned (uninstrumented
    // programs, the reaper).
    std::map<pid_t, std::vector<ExecRecord>> sampled_execs;
    std::map<pid_t, const ProcessHistory::Process*> sampled;
    std::unordered_set<pid_t> ended_unrecorded; // exited, reaped by a parent that recorded nothing
    for (const auto& seen : history.processes()) {
        if (seen.infrastructure && seen.ns_pid != 1)
            continue; // the host lives outside
        ProcessRecord& record = process(seen.ns_pid);
        sampled[seen.ns_pid] = &seen;
        record.pid = seen.pid;
        if (record.name.empty()) {
            record.role = seen.infrastructure ? ProcessRole::reaper : ProcessRole::child;
            record.name =
                seen.infrastructure ? std::string(to_string(ProcessRole::reaper)) : seen.comm;
        }
        if (record.parent_ns_pid == 0)
            record.parent_ns_pid = seen.parent_ns_pid;
        const std::int64_t first_seen = seen.first_seen_ns - start_time_ns;
        if (record.start_ns == 0)
            record.start_ns = first_seen; // the trace is more exact
        for (const auto& [tid, name] : seen.threads)
            add_thread(record, tid, name);
        if (!seen.programs.empty()) {
            record.program = seen.programs.back().exe;
            record.command = seen.programs.back().command;
            for (std::size_t i = seen.execed_before_seen ? 0 : 1; i < seen.programs.size(); ++i)
                sampled_execs[seen.ns_pid].push_back({seen.programs[i].seen_ns - start_time_ns,
                                                      seen.programs[i].exe,
                                                      seen.programs[i].command});
        }
        if (!record.wait_status.known() && !seen.infrastructure) {
            if (seen.zombie_status) {
                record.wait_status = WaitStatus::from_raw(*seen.zombie_status);
                record.end_ns = seen.zombie_ns - start_time_ns;
                record.exit_description = WaitStatus::from_raw(*seen.zombie_status).text();
            } else if (seen.gone_ns) {
                record.end_ns = seen.gone_ns - start_time_ns;
                ended_unrecorded.insert(seen.ns_pid);
            }
        }
    }
    for (auto& [pid, record] : by_pid) {
        const auto& traced = traced_execs[pid];
        const auto& seen_execs = sampled_execs[pid];
        if (!traced.empty() || !seen_execs.empty())
            record.execs = merge_execs(traced, seen_execs);
        // After an exec the names the trace gave its threads are gone: /proc's are the truth.
        if (!record.execs.empty() && sampled.count(pid))
            for (const auto& [tid, name] : sampled[pid]->threads)
                for (auto& [known_tid, known_name] : record.threads)
                    if (known_tid == tid)
                        known_name = name;
        if (record.program.empty() && !record.execs.empty())
            record.program = record.execs.back().program;
        if (!record.name.empty() || record.program.empty())
            continue;
        record.name = basename_of(record.program); // a child the trace did not name
    }
    // The host (outside the PID namespace, so its own pid is its host pid) and its reaper end
    // together: the host exits with the reaper's code, which is the scenario main's.
    if (end.host_pid > 0) {
        ProcessRecord& host = process(end.host_pid);
        host.pid = end.host_pid;
        host.role = ProcessRole::host;
        host.name = to_string(ProcessRole::host);
        host.parent_ns_pid = 0;
        host.threads.clear();
        host.threads.emplace_back(end.host_pid, "forklore-host");
        host.program.clear();
        host.command.clear();
    }
    for (auto& [pid, record] : by_pid) {
        if (!is_sandbox_process(record.role))
            continue;
        if (end.killed_by_runner) {
            record.killed_by_runner = true;
            record.exit_description = "killed by the runner when it ended the sandbox";
        } else {
            record.wait_status = WaitStatus::from_raw(end.host_status);
            record.exit_description = WaitStatus::from_raw(end.host_status).text();
        }
    }
    std::vector<ProcessRecord> records;
    for (auto& [pid, record] : by_pid) {
        if (!record.wait_status.known() && !is_sandbox_process(record.role)) {
            if (ended_unrecorded.count(pid)) {
                // A program nobody instrumented reaped it between two samples.
                record.exit_description = "exited; its parent reaped it unseen (status unknown)";
            } else if (end.killed_by_runner) {
                record.killed_by_runner = true;
            } else {
                // The sandbox ended on its own after the last sample: it exited by itself.
                record.exit_description = "exited after the last sample (status unknown)";
            }
        }
        if (record.killed_by_runner && record.exit_description.empty())
            record.exit_description = "killed by the runner when it ended the sandbox";
        records.push_back(std::move(record));
    }
    return records;
}

std::string how_started(const ProcessRecord& process) {
    if (process.start_method)
        return std::string(to_string(*process.start_method));
    if (process.parent_ns_pid == 0 || process.pid == 0)
        return "";
    // build_process_records lists an exec at the first sight of a process whose program was
    // not its parent's (ProcessHistory::Process::execed_before_seen).
    for (const auto& exec : process.execs)
        if (exec.t_ns <= process.start_ns)
            return "exec " + basename_of(exec.program);
    return "fork";
}

std::vector<ProcessRecord> build_process_records(const std::vector<Event>& events,
                                                 const std::vector<Snapshot>& snapshots,
                                                 std::int64_t start_time_ns,
                                                 const SandboxEnd& end) {
    ProcessHistory history;
    for (const auto& snapshot : snapshots)
        history.observe(snapshot);
    return build_process_records(events, history, start_time_ns, end);
}

} // namespace forklore
