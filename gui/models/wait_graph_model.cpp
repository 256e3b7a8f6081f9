// The wait-for graph model (wait_graph_model.hpp): one node per thread, object and process the
// verdict's waits name, one edge per "waits for" and "held by", then the culprits and each box's
// detail. Cycles and the layout are computed in wait_graph_layout.cpp.
//
// Index of this file:
// [SECTION] Relations and lookups
// [SECTION] Nodes and edges from the verdict's waits
// [SECTION] Culprits and details
// [SECTION] The whole build
#include "gui/models/wait_graph_model.hpp"

#include "gui/models/wait_graph_layout.hpp"
#include "sim/verdict/trace_lookups.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <tuple>

namespace forklore::gui {

// ---------------------------------------------------------------------------------------------
// [SECTION] Relations and lookups
// ---------------------------------------------------------------------------------------------

std::string_view to_string(WaitGraphEdge::Relation relation) {
    switch (relation) {
    case WaitGraphEdge::Relation::waits_for:
        return "waits for";
    case WaitGraphEdge::Relation::held_by:
        return "held by";
    case WaitGraphEdge::Relation::joins:
        return "joins";
    case WaitGraphEdge::Relation::runs:
        return "runs";
    }
    return "";
}

std::optional<std::size_t> WaitGraphModel::find_thread(pid_t pid, pid_t tid) const {
    for (std::size_t i = 0; i < nodes.size(); ++i)
        if (nodes[i].kind == WaitGraphNode::Kind::thread && nodes[i].pid == pid &&
            nodes[i].tid == tid)
            return i;
    return std::nullopt;
}

std::vector<std::size_t> WaitGraphModel::edges_from(std::size_t node) const {
    std::vector<std::size_t> found;
    for (std::size_t i = 0; i < edges.size(); ++i)
        if (edges[i].from == node)
            found.push_back(i);
    return found;
}

std::vector<std::size_t> WaitGraphModel::edges_to(std::size_t node) const {
    std::vector<std::size_t> found;
    for (std::size_t i = 0; i < edges.size(); ++i)
        if (edges[i].to == node)
            found.push_back(i);
    return found;
}

namespace {

using Kind = WaitGraphNode::Kind;
using Relation = WaitGraphEdge::Relation;

void add_line(std::string& text, const std::string& line) {
    if (line.empty() || text.find(line) != std::string::npos)
        return;
    if (!text.empty())
        text += '\n';
    text += line;
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Nodes and edges from the verdict's waits
// ---------------------------------------------------------------------------------------------

// Builds nodes and edges from the WaitEdges, one node per distinct thread, object and process.
class GraphBuilder {
  public:
    explicit GraphBuilder(const RunRecord& record) : record_(record) {}

    WaitGraphModel build() {
        const auto& waits = record_.verdict.wait_for;
        for (std::size_t i = 0; i < waits.size(); ++i)
            add_wait(waits[i], i);
        connect_processes_to_their_threads();
        if (!model_.nodes.empty())
            add_live_threads();
        return std::move(model_);
    }

  private:
    using Key = std::tuple<int, pid_t, std::uint64_t>;

    std::size_t node(const Key& key, const std::function<WaitGraphNode()>& make) {
        auto [it, inserted] = index_.try_emplace(key, model_.nodes.size());
        if (inserted)
            model_.nodes.push_back(make());
        return it->second;
    }

    std::size_t thread_node(pid_t pid, pid_t tid, const std::string& name, bool exists) {
        std::size_t at =
            node({static_cast<int>(Kind::thread), pid, static_cast<std::uint64_t>(tid)}, [&] {
                WaitGraphNode n;
                n.kind = Kind::thread;
                n.pid = pid;
                n.tid = tid;
                n.exists = exists;
                return n;
            });
        WaitGraphNode& n = model_.nodes[at];
        if (n.label.empty() || (!name.empty() && n.label.front() == '('))
            n.label = thread_label(name, pid, tid);
        return at;
    }

    static std::string thread_label(const std::string& name, pid_t pid, pid_t tid) {
        std::string who =
            name.empty() ? fmt::format("(tid {})", tid) : fmt::format("{} (tid {})", name, tid);
        return pid > 0 ? fmt::format("{} @ process {}", who, pid) : who;
    }

    std::size_t process_node(pid_t pid) {
        return node({static_cast<int>(Kind::process), pid, 0}, [&] {
            WaitGraphNode n;
            n.kind = Kind::process;
            n.pid = pid;
            const ProcessRecord* process = record_.find_process(pid);
            n.label = process && !process->name.empty()
                          ? fmt::format("process {} ({})", pid, process->name)
                          : fmt::format("process {}", pid);
            if (process) {
                n.detail = !process->start_method
                               ? std::string("process")
                               : fmt::format("child made by {}", to_string(*process->start_method));
                add_line(n.tooltip, n.label);
                if (process->start_method)
                    add_line(n.tooltip, fmt::format("made by {} from process {}",
                                                    to_string(*process->start_method),
                                                    process->parent_ns_pid));
                if (!process->exit_description.empty())
                    add_line(n.tooltip, "at the end: " + process->exit_description);
            } else {
                n.detail = "process";
            }
            return n;
        });
    }

    // An in-memory lock lives in one process's memory: after fork() the child's copy at the same
    // address is a different object, so the key includes the process.
    std::size_t lock_node(const WaitEdge& wait) {
        return node({static_cast<int>(Kind::lock), wait.waiter_pid, wait.address}, [&] {
            WaitGraphNode n;
            n.kind = Kind::lock;
            n.pid = wait.waiter_pid;
            n.address = wait.address;
            std::string what = wait.object_kind.empty() ? std::string("lock") : wait.object_kind;
            n.label = wait.lock_name.empty() ? what : fmt::format("{} '{}'", what, wait.lock_name);
            n.detail = fmt::format("{:#x} in process {}", wait.address, wait.waiter_pid);
            // The object's own address, as its events name it; the word the thread sleeps on
            // inside it is a detail.
            if (wait.futex_address && wait.futex_address != wait.address)
                add_line(n.tooltip,
                         fmt::format("its waiters sleep on the futex word at {:#x}, "
                                     "{} bytes into it",
                                     wait.futex_address, wait.futex_address - wait.address));
            return n;
        });
    }

    std::size_t file_lock_node(const WaitEdge& wait) {
        // Unknown inode: nothing says two such waits are on the same file, keep them apart.
        Key key = wait.address ? Key{static_cast<int>(Kind::file_lock), 0, wait.address}
                               : Key{static_cast<int>(Kind::file_lock), wait.waiter_pid,
                                     static_cast<std::uint64_t>(wait.waiter_tid)};
        return node(key, [&] {
            WaitGraphNode n;
            n.kind = Kind::file_lock;
            n.address = wait.address;
            n.label = wait.lock_name.empty() ? std::string("file lock")
                                             : fmt::format("file lock '{}'", wait.lock_name);
            n.detail =
                wait.address ? fmt::format("inode {}", wait.address) : std::string("inode unknown");
            // A flock or OFD lock belongs to an open file description: which fds hold it says
            // which description, and why a process can be both its holder and its waiter.
            std::vector<int> fds;
            for (const auto& holding : wait.holding_fds) {
                if (holding.fd < 0)
                    continue;
                add_line(n.tooltip,
                         fmt::format("held through fd {} of process {}", holding.fd, holding.pid));
                if (std::find(fds.begin(), fds.end(), holding.fd) == fds.end())
                    fds.push_back(holding.fd);
            }
            if (!fds.empty())
                n.detail += fmt::format(", held by fd {}", fmt::join(fds, ", "));
            return n;
        });
    }

    // What a pipe read waits on is only known by its description: one node per reader.
    std::size_t own_node(const WaitEdge& wait, Kind kind, std::string label, std::string detail) {
        Key key{static_cast<int>(kind), wait.waiter_pid,
                static_cast<std::uint64_t>(wait.waiter_tid)};
        return node(key, [&] {
            WaitGraphNode n;
            n.kind = kind;
            n.pid = wait.waiter_pid;
            n.label = std::move(label);
            n.detail = std::move(detail);
            return n;
        });
    }

    void edge(std::size_t from, std::size_t to, Relation relation, bool orphaned,
              std::optional<std::size_t> wait_index) {
        for (const auto& existing : model_.edges)
            if (existing.from == from && existing.to == to && existing.relation == relation)
                return;
        WaitGraphEdge e;
        e.from = from;
        e.to = to;
        e.relation = relation;
        e.orphaned = orphaned;
        e.wait_index = wait_index;
        model_.edges.push_back(e);
    }

    // The thread a join waits for: the waiter's latest join_wait with no join_done after it.
    const Event* pending_join(const WaitEdge& wait) const {
        for (auto it = record_.events.rbegin(); it != record_.events.rend(); ++it) {
            if (it->pid != wait.waiter_pid || it->tid != wait.waiter_tid)
                continue;
            if (it->kind == EventKind::join_done)
                return nullptr;
            if (it->kind == EventKind::join_wait)
                return &*it;
        }
        return nullptr;
    }

    // The tid of the thread a join waits for, 0 when unknown. A join_wait recorded before the
    // new thread published its tid says 0: its name, unique in the waiter's process, still tells.
    pid_t joined_thread(const WaitEdge& wait) {
        const Event* join = pending_join(wait);
        if (!join)
            return 0;
        joined_name_ = std::string(field_text(join->name));
        if (join->object > 0)
            return static_cast<pid_t>(join->object);
        const ProcessRecord* process = record_.find_process(wait.waiter_pid);
        if (!process || joined_name_.empty())
            return 0;
        pid_t found = 0;
        for (const auto& [tid, name] : process->threads) {
            if (name != joined_name_)
                continue;
            if (found)
                return 0; // two threads of that name: no guess
            found = tid;
        }
        return found;
    }

    // The process a thread belongs to, from the processes the run saw; 0 when none had it.
    pid_t process_of_thread(pid_t tid) const {
        for (const auto& process : record_.processes)
            for (const auto& [thread_id, name] : process.threads)
                if (thread_id == tid)
                    return process.ns_pid;
        return 0;
    }

    // The node a holder is: its thread when the lock names one, else its process.
    void add_holder(std::size_t object, const WaitEdge& wait, std::size_t index) {
        std::optional<std::size_t> holder;
        if (wait.owner_tid > 0) {
            pid_t pid = wait.owner_exists ? wait.owner_pid : 0;
            holder = thread_node(pid, wait.owner_tid, wait.owner_thread, wait.owner_exists);
            WaitGraphNode& owner = model_.nodes[*holder];
            if (!wait.owner_exists)
                owner.detail = "no longer exists";
            add_line(owner.tooltip, fmt::format("holds {}", model_.nodes[object].label));
            if (wait.orphaned)
                add_line(owner.tooltip,
                         fmt::format(
                             "not in process {}, whose thread waits for it: {} "
                             "copied the lock but not this thread",
                             wait.waiter_pid,
                             copy_call_that_made(child_start_of(record_.events, wait.waiter_pid))));
        } else if (wait.owner_pid > 0) {
            holder = process_node(wait.owner_pid);
        }
        if (holder)
            edge(object, *holder, Relation::held_by, wait.orphaned, index);
    }

    void add_wait(const WaitEdge& wait, std::size_t index) {
        std::size_t waiter =
            thread_node(wait.waiter_pid, wait.waiter_tid, wait.waiter_thread, true);
        model_.nodes[waiter].blocked = true;
        add_line(model_.nodes[waiter].tooltip, wait.description);

        std::size_t object = 0;
        Relation relation = Relation::waits_for;
        switch (wait.kind) {
        case WaitEdge::Kind::lock:
            if (pid_t joined = wait.object_kind == "thread" ? joined_thread(wait) : 0; joined > 0) {
                pid_t pid = process_of_thread(joined);
                object = thread_node(pid, joined, joined_name_, pid > 0);
                relation = Relation::joins;
            } else {
                object = lock_node(wait);
                add_holder(object, wait, index);
            }
            break;
        case WaitEdge::Kind::file_lock:
            object = file_lock_node(wait);
            if (wait.waiter_fd >= 0)
                add_line(model_.nodes[object].tooltip,
                         fmt::format("process {} waits for it through fd {}", wait.waiter_pid,
                                     wait.waiter_fd));
            add_holder(object, wait, index);
            break;
        case WaitEdge::Kind::pipe:
            object =
                own_node(wait, Kind::pipe, "pipe or socket",
                         wait.owner_pid ? fmt::format("other end in process {}", wait.owner_pid)
                                        : std::string("no writer left"));
            add_holder(object, wait, index);
            break;
        case WaitEdge::Kind::child:
            object = wait.owner_pid > 0
                         ? process_node(wait.owner_pid)
                         : own_node(wait, Kind::process, "any child", "none is running");
            break;
        case WaitEdge::Kind::unknown:
            object = own_node(wait, Kind::unknown, "unknown wait", "poll() without timeout");
            break;
        case WaitEdge::Kind::signal:
            object = own_node(wait, Kind::unknown, "a signal", "no live thread sends one");
            break;
        }
        add_line(model_.nodes[object].tooltip, wait.description);
        edge(waiter, object, relation, wait.orphaned, index);
    }

    // A process waited for (or holding a file lock) is stuck because its threads are: draw the
    // threads it runs under it, so the chain of waits reads from top to bottom.
    void connect_processes_to_their_threads() {
        const std::size_t count = model_.nodes.size();
        for (std::size_t p = 0; p < count; ++p) {
            if (model_.nodes[p].kind != Kind::process || model_.nodes[p].pid <= 0)
                continue;
            for (std::size_t t = 0; t < count; ++t)
                if (model_.nodes[t].kind == Kind::thread &&
                    model_.nodes[t].pid == model_.nodes[p].pid)
                    edge(p, t, Relation::runs, false, std::nullopt);
        }
    }

    // The verdict's live threads of the processes already in the graph: a thread the graph names
    // (an owner that still runs) is marked; any other gets its own greyed node with no edges.
    void add_live_threads() {
        std::vector<pid_t> shown;
        for (const auto& n : model_.nodes)
            if (n.pid > 0)
                shown.push_back(n.pid);
        for (const ThreadState& thread : record_.verdict.live) {
            if (std::find(shown.begin(), shown.end(), thread.pid) == shown.end())
                continue;
            std::size_t at = thread_node(thread.pid, thread.tid, thread.name, true);
            WaitGraphNode& n = model_.nodes[at];
            if (n.blocked)
                continue; // stuck after all: a wait in the graph says more
            n.live = true;
            ++model_.live_count;
            add_line(n.tooltip,
                     fmt::format("live: {}", thread.wait.empty() ? "runs" : thread.wait));
            add_line(n.tooltip,
                     "It still runs beside the stuck threads (it runs, sleeps with a timeout, or a "
                     "live thread can wake it), but nothing it does wakes any of them.");
            n.detail = fmt::format("live: {}", thread.wait.empty() ? "runs" : thread.wait);
        }
    }

    const RunRecord& record_;
    WaitGraphModel model_;
    std::map<Key, std::size_t> index_;
    std::string joined_name_; // the name joined_thread() found
};

// ---------------------------------------------------------------------------------------------
// [SECTION] Culprits and details
// ---------------------------------------------------------------------------------------------

void mark_culprits(WaitGraphModel& model, const Verdict& verdict) {
    bool any = false;
    if (verdict.reason == DeadlockReason::orphaned_lock) {
        for (const auto& e : model.edges)
            if (e.orphaned && e.relation != Relation::held_by) {
                model.nodes[e.from].culprit = true;
                any = true;
            }
    } else if (verdict.reason == DeadlockReason::cycle) {
        for (auto& n : model.nodes) {
            n.culprit = n.in_cycle;
            any = any || n.culprit;
        }
    }
    if (any || verdict.culprit_pid == 0)
        return;
    for (auto& n : model.nodes)
        if (n.kind == Kind::thread && n.blocked && n.pid == verdict.culprit_pid) {
            n.culprit = true;
            any = true;
        }
    if (any)
        return;
    for (auto& n : model.nodes)
        if (n.kind == Kind::process && n.pid == verdict.culprit_pid)
            n.culprit = true;
}

void fill_thread_details(WaitGraphModel& model) {
    for (auto& n : model.nodes) {
        if (n.kind != Kind::thread || !n.detail.empty())
            continue;
        if (n.blocked)
            n.detail = "blocked";
        else if (n.live)
            n.detail = "live";
        else if (!n.exists)
            n.detail = "no longer exists";
        else
            n.detail = "not blocked";
        if (n.culprit)
            n.detail += " (the verdict's culprit)";
    }
}

} // namespace

// ---------------------------------------------------------------------------------------------
// [SECTION] The whole build
// ---------------------------------------------------------------------------------------------

WaitGraphModel build_wait_graph(const RunRecord& record) {
    WaitGraphModel model = GraphBuilder(record).build();
    if (model.empty())
        return model;
    mark_cycles(model);
    mark_culprits(model, record.verdict);
    mark_back_edges(model);
    lay_out(model);
    fill_thread_details(model);
    return model;
}

} // namespace forklore::gui
