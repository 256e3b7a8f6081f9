// Index of this file:
// [SECTION] nodes and the model
// [SECTION] a process's state and what the verdict says of it
// [SECTION] building the tree
#include "gui/models/process_tree_model.hpp"

#include "sim/record/process_records.hpp"
#include "sim/verdict/verdict.hpp"

#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace forklore::gui {

// [SECTION] nodes and the model --------------------------------------------------------------

std::string_view to_string(ProcessState state) {
    switch (state) {
    case ProcessState::running:
        return "running";
    case ProcessState::blocked:
        return "blocked";
    case ProcessState::stuck:
        return "stuck";
    case ProcessState::partly_stuck:
        return "partly stuck";
    case ProcessState::exited:
        return "exited";
    case ProcessState::killed_by_signal:
        return "killed by a signal";
    case ProcessState::killed_by_runner:
        return "killed by the runner";
    }
    return "running";
}

std::string ProcessNode::title() const {
    if (role == ProcessRole::host)
        return fmt::format("host (machine pid {})", pid); // outside the sandbox's namespace
    if (name.empty())
        return fmt::format("process {}", pid);
    return fmt::format("process {} '{}'", pid, name);
}

const ProcessNode* ProcessTreeModel::find(pid_t pid) const {
    std::size_t index = index_of(pid);
    return index < nodes.size() ? &nodes[index] : nullptr;
}

std::size_t ProcessTreeModel::index_of(pid_t pid) const {
    for (std::size_t i = 0; i < nodes.size(); ++i)
        if (nodes[i].pid == pid)
            return i;
    return nodes.size();
}

namespace {

// [SECTION] a process's state and what the verdict says of it --------------------------------

bool is_infrastructure(const ProcessRecord& process) {
    return is_sandbox_process(process.role);
}

// A live run's last sample: the processes whose every live thread waits with no timeout.
std::set<pid_t> blocked_in_last_sample(const RunRecord& record) {
    std::set<pid_t> blocked;
    const Snapshot* last = nullptr;
    for (const auto& snapshot : record.snapshots)
        if (!last || snapshot.time_ns >= last->time_ns)
            last = &snapshot;
    if (!last)
        return blocked;
    for (const auto& process : last->processes) {
        if (process.infrastructure)
            continue;
        int waiting = 0, live = 0;
        for (const auto& thread : process.threads) {
            if (thread.wait == WaitKind::zombie || thread.state == 'Z')
                continue;
            ++live;
            if (is_untimed_block(thread))
                ++waiting;
        }
        if (live > 0 && waiting == live)
            blocked.insert(process.ns_pid);
    }
    return blocked;
}

std::string short_label(const ProcessNode& node) {
    switch (node.state) {
    case ProcessState::running:
        return "running";
    case ProcessState::blocked:
        return "blocked";
    case ProcessState::stuck:
        return "stuck";
    case ProcessState::partly_stuck:
        return "partly stuck";
    case ProcessState::exited:
        return node.exit_status_known ? fmt::format("exited, code {}", node.exit_code)
                                      : std::string("exited, status unknown");
    case ProcessState::killed_by_signal:
        return "killed by " + signal_name(node.signal);
    case ProcessState::killed_by_runner:
        return node.live_threads > 0 ? "live, then killed" : "killed by the runner";
    }
    return "running";
}

void decide_state(ProcessNode& node, const ProcessRecord& process, bool live, bool blocked_now) {
    if (const WaitStatus status = process.wait_status; status.known()) {
        if (status.killed()) {
            node.state = ProcessState::killed_by_signal;
            node.signal = status.fatal_signal();
        } else {
            node.state = ProcessState::exited;
            node.exit_code = status.exited() ? status.exit_code() : 0;
        }
        node.state_text =
            process.exit_description.empty() ? status.text() : process.exit_description;
        return;
    }
    // Ended with no status anyone read: a program nobody instrumented reaped it between two
    // samples, or the sandbox ended on its own after the last one. Ended all the same.
    if (process.end_ns > 0 && !process.killed_by_runner) {
        node.state = ProcessState::exited;
        node.exit_status_known = false;
        node.state_text =
            process.exit_description.empty() ? "exited (status unknown)" : process.exit_description;
        return;
    }
    if (live) {
        // A growing record: no exit status yet means it has not ended, whatever the record's
        // provisional "killed by the runner" says.
        node.state = blocked_now || node.blocked ? ProcessState::blocked : ProcessState::running;
        node.state_text = node.state == ProcessState::blocked
                              ? "blocked: every thread waits with no timeout"
                              : "running";
        return;
    }
    // A deadlock's stuck set says which threads can never run again, whatever the others do.
    if (node.stuck_threads > 0) {
        const bool all = node.live_threads == 0;
        node.state = all ? ProcessState::stuck : ProcessState::partly_stuck;
        node.state_text =
            all ? "stuck: none of its threads can ever run again"
                : fmt::format("partly stuck: {} of its threads can never run again, {} still "
                              "ran beside them",
                              node.stuck_threads, node.live_threads);
        if (process.killed_by_runner)
            node.state_text += "; killed with the sandbox";
        return;
    }
    if (process.killed_by_runner) {
        if (node.blocked) {
            node.state = ProcessState::blocked;
            node.state_text = "blocked, then killed by the runner";
        } else if (node.live_threads > 0) {
            // Beside a deadlock elsewhere: it still ran, and could not wake the stuck threads.
            node.state = ProcessState::killed_by_runner;
            node.state_text =
                "still running beside the stuck threads, then killed with the sandbox";
        } else {
            node.state = ProcessState::killed_by_runner;
            node.state_text = process.exit_description.empty()
                                  ? "killed by the runner when it ended the sandbox"
                                  : process.exit_description;
        }
        return;
    }
    node.state = node.blocked ? ProcessState::blocked : ProcessState::running;
    node.state_text = node.blocked ? "blocked" : "no exit recorded";
}

// The edges of the wait-for graph that concern the process: its own threads' waits, and what
// threads of other processes wait for that it holds.
void attach_verdict(ProcessNode& node, const Verdict& verdict) {
    for (const WaitEdge& edge : verdict.wait_for) {
        if (edge.waiter_pid == node.pid) {
            node.blocked = true;
            node.verdict_lines.push_back(edge.description);
            for (auto& thread : node.threads)
                if (thread.tid == edge.waiter_tid)
                    thread.wait = edge.description;
        } else if (edge.owner_pid == node.pid && edge.owner_exists) {
            node.verdict_lines.push_back("waited for by another process: " + edge.description);
        }
    }
}

// The verdict's stuck set and the live threads beside it: what each of the process's threads
// did when the deadlock was proven.
void attach_stuck_set(ProcessNode& node, const Verdict& verdict) {
    auto apply = [&](const std::vector<ThreadState>& list, bool stuck) {
        for (const ThreadState& state : list) {
            if (state.pid != node.pid)
                continue;
            auto thread = std::find_if(node.threads.begin(), node.threads.end(),
                                       [&](const ProcessThread& t) { return t.tid == state.tid; });
            if (thread == node.threads.end()) {
                node.threads.push_back({state.tid, state.name, ""});
                thread = node.threads.end() - 1;
            }
            if (thread->stuck || thread->live)
                continue; // listed twice: the first list (stuck) wins
            thread->stuck = stuck;
            thread->live = !stuck;
            if (thread->wait.empty())
                thread->wait = state.wait;
            ++(stuck ? node.stuck_threads : node.live_threads);
        }
    };
    apply(verdict.stuck, true);
    apply(verdict.live, false);
}

// [SECTION] building the tree ----------------------------------------------------------------

struct TreeBuilder {
    ProcessTreeModel& model;
    std::vector<std::vector<std::size_t>> children; // by index into `model.nodes` before ordering
    std::vector<ProcessNode> unordered;
    std::vector<bool> placed;
    int next_slot = 0;

    // Depth-first: a leaf takes the next slot, a parent sits over the middle of its children.
    std::size_t place(std::size_t index, int depth, std::optional<std::size_t> parent) {
        placed[index] = true;
        std::size_t at = model.nodes.size();
        model.nodes.push_back(unordered[index]);
        model.nodes[at].depth = depth;
        model.nodes[at].parent_index = parent;
        model.levels = std::max(model.levels, depth + 1);
        std::optional<float> first_child, last_child;
        for (std::size_t child : children[index]) {
            if (placed[child])
                continue; // a malformed record's loop
            std::size_t child_at = place(child, depth + 1, at);
            model.nodes[at].children.push_back(child_at);
            if (!first_child)
                first_child = model.nodes[child_at].slot;
            last_child = model.nodes[child_at].slot;
        }
        model.nodes[at].slot =
            first_child ? (*first_child + *last_child) / 2.0f : static_cast<float>(next_slot++);
        return at;
    }
};

} // namespace

ProcessTreeModel build_process_tree(const RunRecord& record, bool live,
                                    Infrastructure infrastructure) {
    ProcessTreeModel model;
    const Verdict& verdict = record.verdict;
    std::set<pid_t> blocked_now;
    if (live)
        blocked_now = blocked_in_last_sample(record);

    TreeBuilder builder{model, {}, {}, {}, 0};
    const ProcessRecord* host = nullptr;
    for (const auto& process : record.processes)
        if (process.role == ProcessRole::host)
            host = &process;
    for (const auto& process : record.processes) {
        if (infrastructure == Infrastructure::hidden && is_infrastructure(process))
            continue;
        ProcessNode node;
        node.pid = process.ns_pid;
        node.host_pid = process.pid;
        node.parent = process.parent_ns_pid;
        node.role = process.role;
        node.name = process.name;
        node.start_method =
            process.start_method ? std::string(to_string(*process.start_method)) : "";
        node.made_how = how_started(process);
        node.infrastructure = is_infrastructure(process);
        // The host forks the reaper, pid 1 of the sandbox's PID namespace: the record gives the
        // reaper no parent because the host's pid is not a namespace pid.
        if (process.role == ProcessRole::reaper && node.parent == 0 && host)
            node.parent = host->ns_pid;
        node.start_ns = process.start_ns;
        node.end_ns = process.end_ns;
        for (const auto& [tid, name] : process.threads)
            node.threads.push_back({tid, name, ""});
        attach_verdict(node, verdict);
        if (!live)
            attach_stuck_set(node, verdict);
        node.culprit =
            !node.infrastructure && verdict.culprit_pid != 0 && verdict.culprit_pid == node.pid;
        decide_state(node, process, live, blocked_now.count(node.pid) > 0);
        node.state_label = short_label(node);
        builder.unordered.push_back(std::move(node));
    }

    std::map<pid_t, std::size_t> by_pid;
    for (std::size_t i = 0; i < builder.unordered.size(); ++i)
        by_pid.emplace(builder.unordered[i].pid, i);
    builder.children.resize(builder.unordered.size());
    builder.placed.assign(builder.unordered.size(), false);
    std::vector<std::size_t> roots;
    for (std::size_t i = 0; i < builder.unordered.size(); ++i) {
        ProcessNode& node = builder.unordered[i];
        auto parent = by_pid.find(node.parent);
        if (node.parent == 0 || parent == by_pid.end() || parent->second == i) {
            roots.push_back(i);
            continue;
        }
        builder.children[parent->second].push_back(i);
        const ProcessNode& parent_node = builder.unordered[parent->second];
        // The sandbox's own forks (host -> reaper -> main) are not a scenario's start method.
        // Otherwise the trace's start method, or what the process history shows of it ("fork":
        // it ran its parent's program; "exec python3.11": another one when first seen).
        if (!node.start_method.empty())
            node.edge_label = node.start_method;
        else if (parent_node.infrastructure)
            node.edge_label = "sandbox";
        else
            node.edge_label = node.made_how.empty() ? "child of" : node.made_how;
    }
    auto earlier = [&](std::size_t a, std::size_t b) {
        const ProcessNode& x = builder.unordered[a];
        const ProcessNode& y = builder.unordered[b];
        // The host first, then by start time: the order the student saw them appear.
        return std::make_tuple(x.role != ProcessRole::host, x.start_ns, x.pid) <
               std::make_tuple(y.role != ProcessRole::host, y.start_ns, y.pid);
    };
    for (auto& list : builder.children)
        std::sort(list.begin(), list.end(), earlier);
    std::sort(roots.begin(), roots.end(), earlier);
    for (std::size_t root : roots)
        builder.place(root, 0, std::nullopt);
    // Whatever a parent loop kept unreachable still gets drawn, as a root.
    for (std::size_t i = 0; i < builder.unordered.size(); ++i)
        if (!builder.placed[i])
            builder.place(i, 0, std::nullopt);
    model.slots = builder.next_slot;

    if (live) {
        model.verdict_summary = "the run is still going: no verdict yet";
        return model;
    }
    model.verdict_summary = std::string(to_string(verdict.kind));
    if (verdict.reason)
        model.verdict_summary += fmt::format(" ({})", to_string(*verdict.reason));
    if (verdict.culprit_pid != 0)
        model.verdict_summary += fmt::format("; culprit: process {}", verdict.culprit_pid);
    return model;
}

} // namespace forklore::gui
