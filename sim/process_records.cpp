#include "sim/process_records.hpp"

#include <map>

namespace forklore {

std::vector<ProcessRecord> build_process_records(const std::vector<Event>& events,
                                                 const std::vector<Snapshot>& snapshots,
                                                 std::int64_t start_time_ns, const SandboxEnd& end) {
    std::map<pid_t, ProcessRecord> by_pid;
    auto process = [&](pid_t ns_pid) -> ProcessRecord& {
        ProcessRecord& record = by_pid[ns_pid];
        record.ns_pid = ns_pid;
        return record;
    };
    auto add_thread = [](ProcessRecord& record, pid_t tid, const std::string& name) {
        for (auto& [known_tid, known_name] : record.threads)
            if (known_tid == tid) {
                if (known_name.empty()) known_name = name;
                return;
            }
        record.threads.emplace_back(tid, name);
    };
    for (const auto& event : events) {
        const std::int64_t t = event.time_ns - start_time_ns;
        switch (event.kind) {
        case EventKind::process_start: {
            ProcessRecord& record = process(event.pid);
            record.role = event.name;
            record.parent_ns_pid = static_cast<pid_t>(event.arg0);
            if (event.text[0] && record.start_method.empty() && record.role != "main")
                record.start_method = event.text;
            if (record.start_ns == 0) record.start_ns = t;
            add_thread(record, event.tid, event.thread);
            break;
        }
        case EventKind::child_start: {
            ProcessRecord& record = process(static_cast<pid_t>(event.object));
            record.parent_ns_pid = event.pid;
            record.start_method = std::string(to_string(static_cast<StartMethod>(event.arg0)));
            if (record.role.empty()) record.role = event.name;
            if (record.start_ns == 0 || t < record.start_ns) record.start_ns = t;
            break;
        }
        case EventKind::process_exit: {
            ProcessRecord& record = process(static_cast<pid_t>(event.object));
            if (!record.wait_status) {
                record.wait_status = static_cast<int>(event.arg0);
                record.end_ns = t;
                record.exit_description = describe_wait_status(static_cast<int>(event.arg0));
            }
            break;
        }
        case EventKind::thread_start: add_thread(process(event.pid), event.tid, event.name); break;
        case EventKind::output: {
            ProcessRecord& record = process(event.pid);
            record.output += event.text;
            record.output += '\n';
            break;
        }
        default:
            if (event.pid > 0) add_thread(process(event.pid), event.tid, event.thread);
            break;
        }
    }
    // Host pids, and processes the trace never mentioned (exec'd programs, the reaper).
    for (const auto& snapshot : snapshots)
        for (const auto& seen : snapshot.processes) {
            if (seen.infrastructure && seen.ns_pid != 1) continue; // the host lives outside
            ProcessRecord& record = process(seen.ns_pid);
            record.pid = seen.pid;
            if (record.role.empty()) record.role = seen.infrastructure ? "reaper" : seen.comm;
            for (const auto& thread : seen.threads) add_thread(record, thread.ns_tid, thread.name);
        }
    // The host (outside the PID namespace, so its own pid is its host pid) and its reaper end
    // together: the host exits with the reaper's code, which is the scenario main's.
    if (end.host_pid > 0) {
        ProcessRecord& host = process(end.host_pid);
        host.pid = end.host_pid;
        host.role = "host";
        host.parent_ns_pid = 0;
        host.threads.clear();
        host.threads.emplace_back(end.host_pid, "forklore-host");
    }
    for (auto& [pid, record] : by_pid) {
        if (record.role != "host" && record.role != "reaper") continue;
        if (end.killed_by_runner) {
            record.killed_by_runner = true;
            record.exit_description = "killed by the runner when it ended the sandbox";
        } else {
            record.wait_status = end.host_status;
            record.exit_description = describe_wait_status(end.host_status);
        }
    }
    std::vector<ProcessRecord> records;
    for (auto& [pid, record] : by_pid) {
        if (!record.wait_status && record.role != "reaper" && record.role != "host")
            record.killed_by_runner = true;
        if (record.killed_by_runner && record.exit_description.empty())
            record.exit_description = "killed by the runner when it ended the sandbox";
        records.push_back(std::move(record));
    }
    return records;
}

} // namespace forklore
