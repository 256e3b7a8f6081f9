// The Process tab's model: the run's processes as a tree (parent -> child, labelled by how the
// child was made), each with its state at the end of the run and its part in the verdict, laid
// out top-down (depth = level, leaves side by side). Plain data, no ImGui; built once per record.
#pragma once

#include "sim/record/record.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace forklore::gui {

enum class ProcessState {
    running,          // a live run: not ended yet, not blocked
    blocked,          // every thread waits with no timeout (a live run's last sample, or an old
                      // record's wait-for graph with no stuck set)
    stuck,            // every thread of it is in the verdict's stuck set: none can ever run again
    partly_stuck,     // some threads stuck, others still running beside them (a partial deadlock)
    exited,           // exited on its own (exit_code)
    killed_by_signal, // died by a signal (signal)
    killed_by_runner, // still alive when the runner ended the sandbox
};
std::string_view to_string(ProcessState state);

struct ProcessThread {
    pid_t tid = 0; // namespace tid
    std::string name;
    std::string wait;   // what the verdict says it waits for or does; empty when it does not
    bool stuck = false; // in the verdict's stuck set
    bool live = false;  // in the verdict's live list: runs beside the stuck set
};

struct ProcessNode {
    pid_t pid = 0;      // namespace pid (the host's own pid for the host, which lives outside)
    pid_t host_pid = 0; // 0 when only the trace knows the process
    pid_t parent = 0;   // namespace pid of the parent; 0 for a root
    ProcessRole role = ProcessRole::child;
    std::string name;         // "main", the child function's name, "forkserver", "reaper", "host"
    std::string start_method; // as recorded ("" for the sandbox's own processes)
    std::string made_how;     // how_started(): the start method, or what the samples show
                              // ("fork", "exec python3.11"); "" when nothing says
    std::string edge_label;   // on the edge from its parent: the start method, "sandbox", the
                              // samples' "fork" / "exec PROGRAM", else "child of"
    bool infrastructure = false; // the sandbox's host or reaper, not scenario code
    ProcessState state = ProcessState::running;
    int exit_code = 0;             // exited
    bool exit_status_known = true; // exited: false when it ended unseen (no status was read)
    int signal = 0;                // killed_by_signal
    std::string state_text;        // "exited with code 0", "blocked, then killed by the runner" ...
    std::string state_label; // short, for a box: "blocked", "exited, code 0", "killed by SIGABRT"
    bool blocked = false;    // some thread of it is in the verdict's wait-for graph
    bool culprit = false;    // the process the verdict is about
    int stuck_threads = 0;   // its threads in the verdict's stuck set
    int live_threads = 0;    // its threads in the verdict's live list
    std::vector<std::string> verdict_lines; // the wait-for edges of its threads
    std::vector<ProcessThread> threads;
    std::int64_t start_ns = 0, end_ns = 0; // relative to the run's start; end 0 when not ended

    // Layout: depth = level from the top; slot = place from the left, in box widths (leaves take
    // 0, 1, 2 ...; a parent is centred over its first and last child).
    int depth = 0;
    float slot = 0;
    std::optional<std::size_t> parent_index;
    std::vector<std::size_t> children;

    std::string title() const; // "process 4 'read'", "host (machine pid 5660)"
};

struct ProcessTreeModel {
    std::vector<ProcessNode> nodes; // depth-first order: a parent before its children
    int levels = 0;                 // deepest depth + 1
    int slots = 0;                  // leaves side by side: the tree's width in boxes
    std::string verdict_summary;    // "deadlocked (orphaned_lock); culprit: process 4"

    const ProcessNode* find(pid_t pid) const;
    std::size_t index_of(pid_t pid) const; // nodes.size() when absent
};

// Whether the tree holds the sandbox's own processes (the host and the reaper) or only the
// scenario's, whose first process is then a root.
enum class Infrastructure { shown, hidden };

// `live`: the record is still growing: processes with no exit status are running.
ProcessTreeModel build_process_tree(const RunRecord& record, bool live = false,
                                    Infrastructure infrastructure = Infrastructure::shown);

} // namespace forklore::gui
