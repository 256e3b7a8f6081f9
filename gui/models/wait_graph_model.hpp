// The wait-for graph of a run as boxes and arrows, ready to draw: who waits on what, and who holds
// it. Built from the verdict's WaitEdges (one per blocked thread) with no ImGui, so the tests can
// check what a student will see: the child's thread -> the lock -> the owner left in the parent.
#pragma once

#include "sim/record/record.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace forklore::gui {

// Layout units: the panel multiplies them by a pixel scale and draws nothing else from them.
// Columns are 1 unit apart, rows (layers) 1 unit apart; a box is centred at (x, y).
inline constexpr float kGraphNodeWidth = 0.88f;
inline constexpr float kGraphNodeHeight = 0.5f;
// The band above the live threads' rows, for the note that they cannot help (layout units).
inline constexpr float kLiveNoteHeight = 0.4f;

struct WaitGraphNode {
    enum class Kind {
        thread,  // a thread: a waiter, an owner, or a thread being joined
        process, // a process: a child being waited for, or the holder of a file lock or pipe
        lock,    // an in-memory object: mutex, rwlock, semaphore, barrier, condition variable
        file_lock,
        pipe,    // a pipe or socket a thread reads from
        unknown, // a wait the engine could not name (poll with no timeout)
    };
    Kind kind = Kind::unknown;
    std::string label;         // "main (tid 4) @ process 4", "mutex 'file_lock'"
    std::string detail;        // a second, shorter line: "0x55c8859faa00 in process 4", "blocked"
    std::string tooltip;       // the engine's sentences about this node, one per line
    pid_t pid = 0;             // thread/process: its namespace pid (0 when it no longer exists);
                               // lock: the process whose memory holds it; file lock: 0 (shared)
    pid_t tid = 0;             // thread: its namespace tid
    std::uint64_t address = 0; // lock: its address; file lock: the inode
    bool blocked = false;      // thread: waits in the graph
    bool exists = true;        // thread: still alive somewhere in the sandbox
    bool culprit = false;      // what the verdict is about (the orphaned lock's waiter, a cycle)
    bool in_cycle = false;
    // thread: in the verdict's live list (runs, sleeps, or a live thread can wake it). Drawn
    // greyed: a live thread of the same processes as the stuck set, shown beside it so that a
    // student sees it exists but cannot wake anyone in the graph. With no edges of its own unless
    // it also holds what a stuck thread waits for.
    bool live = false;
    int layer = 0;      // row, 0 at the top
    float x = 0, y = 0; // centre, in layout units
};

struct WaitGraphEdge {
    enum class Relation {
        waits_for, // thread -> what it waits on
        held_by,   // lock/file lock/pipe -> the thread or process that holds it
        joins,     // thread -> the thread it joins
        runs,      // process -> one of its threads (a child waited for is alive in them)
    };
    std::size_t from = 0, to = 0; // indices into WaitGraphModel::nodes
    Relation relation = Relation::waits_for;
    bool orphaned = false; // the holder does not exist in the waiter's process (fork left it)
    bool in_cycle = false;
    bool back = false; // points to an earlier layer (closes a cycle): drawn around the side
    std::optional<std::size_t> wait_index; // the WaitEdge it was built from, if any
};

std::string_view to_string(WaitGraphEdge::Relation relation); // "waits for", "held by" ...

struct WaitGraphModel {
    std::vector<WaitGraphNode> nodes;
    std::vector<WaitGraphEdge> edges;
    float width = 0, height = 0; // every box lies inside [0, width] x [0, height]
    bool has_cycle = false;
    // Where the row(s) of live threads with no edges begin, in layout units (below the wait-for
    // graph, under a note "still running beside them"); 0 when there are none.
    float live_top = 0;
    std::size_t live_count = 0; // threads marked live (with or without edges)

    bool empty() const { return nodes.empty(); }
    std::optional<std::size_t> find_thread(pid_t pid, pid_t tid) const;
    // The edges leaving / entering a node, in build order.
    std::vector<std::size_t> edges_from(std::size_t node) const;
    std::vector<std::size_t> edges_to(std::size_t node) const;
};

// Builds the graph of record.verdict.wait_for: a node per thread, object and process it names,
// the cycles and the culprit marked, and a layered layout (waiters above what they wait on, owners
// below). The verdict's live threads of the processes the graph shows are added beside it,
// greyed, in rows below (see WaitGraphNode::live). Deterministic: the same record always gives
// the same picture. Empty without edges.
WaitGraphModel build_wait_graph(const RunRecord& record);

} // namespace forklore::gui
