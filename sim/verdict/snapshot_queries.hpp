// Questions about one snapshot that the verdict engine asks in several places: which threads and
// processes are live, where a thread lives now. Internal to sim/verdict (verdict.cpp,
// wait_for_graph.cpp). Ids named ns_* are namespace ids, the others host ids.
#pragma once

#include "sim/observe/snapshot.hpp"

#include <sys/types.h>

#include <algorithm>

namespace forklore {

inline bool is_live(const ThreadSnapshot& thread) {
    return thread.wait != WaitKind::zombie && thread.state != 'Z' && thread.state != 'X';
}

// Calls visit(process, thread) for every live thread of scenario code. The sandbox's own host
// and reaper always sit in wait4 and are not what is studied.
template <typename Visit> void for_each_scenario_thread(const Snapshot& snapshot, Visit&& visit) {
    for (const auto& process : snapshot.processes) {
        if (process.infrastructure)
            continue;
        for (const auto& thread : process.threads)
            if (is_live(thread))
                visit(process, thread);
    }
}

inline bool is_live(const ProcessSnapshot& process) {
    return std::any_of(process.threads.begin(), process.threads.end(),
                       [](const ThreadSnapshot& thread) { return is_live(thread); });
}

inline bool has_live_thread(const ProcessSnapshot& process, pid_t ns_tid) {
    return std::any_of(process.threads.begin(), process.threads.end(),
                       [&](const ThreadSnapshot& t) { return t.ns_tid == ns_tid && is_live(t); });
}

struct ThreadLocation {
    const ProcessSnapshot* process = nullptr;
    const ThreadSnapshot* thread = nullptr;
};

inline ThreadLocation find_live_thread(const Snapshot& snapshot, pid_t ns_tid) {
    for (const auto& process : snapshot.processes)
        for (const auto& thread : process.threads)
            if (thread.ns_tid == ns_tid && is_live(thread))
                return {&process, &thread};
    return {};
}

inline const ProcessSnapshot* find_live_process(const Snapshot& snapshot, pid_t ns_pid) {
    for (const auto& process : snapshot.processes)
        if (process.ns_pid == ns_pid && is_live(process))
            return &process;
    return nullptr;
}

inline pid_t ns_pid_of_host_pid(const Snapshot& snapshot, pid_t host_pid) {
    const ProcessSnapshot* process = snapshot.find_process(host_pid);
    return process ? process->ns_pid : 0;
}

} // namespace forklore
