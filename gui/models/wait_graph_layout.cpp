// The wait-for graph's shape (wait_graph_layout.hpp): which nodes and edges are on a cycle, which
// edges point back up, and where each box goes (layers from top to bottom, the live threads in
// rows below them).
//
// Index of this file:
// [SECTION] Cycles
// [SECTION] Back edges and layers
#include "gui/models/wait_graph_layout.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

namespace forklore::gui {

// ---------------------------------------------------------------------------------------------
// [SECTION] Cycles
// ---------------------------------------------------------------------------------------------

namespace {

std::vector<std::vector<std::size_t>> successors(const WaitGraphModel& model, bool skip_back) {
    std::vector<std::vector<std::size_t>> next(model.nodes.size());
    for (const auto& e : model.edges)
        if (!(skip_back && e.back))
            next[e.from].push_back(e.to);
    return next;
}

} // namespace

// A node is on a cycle when it can reach itself; an edge u -> v is when v reaches u.
void mark_cycles(WaitGraphModel& model) {
    const std::size_t n = model.nodes.size();
    auto next = successors(model, false);
    std::vector<std::vector<bool>> reaches(n, std::vector<bool>(n, false));
    for (std::size_t start = 0; start < n; ++start) {
        std::deque<std::size_t> queue(next[start].begin(), next[start].end());
        while (!queue.empty()) {
            std::size_t at = queue.front();
            queue.pop_front();
            if (reaches[start][at])
                continue;
            reaches[start][at] = true;
            for (std::size_t to : next[at])
                queue.push_back(to);
        }
    }
    for (std::size_t i = 0; i < n; ++i)
        model.nodes[i].in_cycle = reaches[i][i];
    for (auto& e : model.edges)
        e.in_cycle = e.from == e.to || reaches[e.to][e.from];
    model.has_cycle = std::any_of(model.edges.begin(), model.edges.end(),
                                  [](const WaitGraphEdge& e) { return e.in_cycle; });
}

// ---------------------------------------------------------------------------------------------
// [SECTION] Back edges and layers
// ---------------------------------------------------------------------------------------------

// The edges a depth-first walk finds pointing back to a node still on its path: removing them
// leaves a DAG that can be layered. Roots are the nodes nothing points to, in build order.
void mark_back_edges(WaitGraphModel& model) {
    const std::size_t n = model.nodes.size();
    std::vector<int> state(n, 0); // 0 unseen, 1 on the path, 2 done
    std::vector<bool> has_parent(n, false);
    for (const auto& e : model.edges)
        has_parent[e.to] = true;
    std::function<void(std::size_t)> visit = [&](std::size_t at) {
        state[at] = 1;
        for (auto& e : model.edges) {
            if (e.from != at)
                continue;
            if (state[e.to] == 1)
                e.back = true;
            else if (state[e.to] == 0)
                visit(e.to);
        }
        state[at] = 2;
    };
    for (std::size_t i = 0; i < n; ++i)
        if (!has_parent[i] && state[i] == 0)
            visit(i);
    for (std::size_t i = 0; i < n; ++i)
        if (state[i] == 0)
            visit(i);
}

namespace {

// A live thread with no edges: not part of the wait-for graph, drawn in the rows below it.
bool beside_the_graph(const WaitGraphModel& model, std::size_t node) {
    if (!model.nodes[node].live)
        return false;
    for (const auto& e : model.edges)
        if (e.from == node || e.to == node)
            return false;
    return true;
}

} // namespace

// Longest-path layering on the DAG, then each row ordered by where its parents are (fewer
// crossings) and centred.
void lay_out(WaitGraphModel& model) {
    const std::size_t n = model.nodes.size();
    std::vector<bool> beside(n);
    for (std::size_t i = 0; i < n; ++i)
        beside[i] = beside_the_graph(model, i);
    auto next = successors(model, true);
    std::vector<int> indegree(n, 0);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t to : next[i])
            ++indegree[to];
    std::deque<std::size_t> ready;
    for (std::size_t i = 0; i < n; ++i)
        if (indegree[i] == 0 && !beside[i])
            ready.push_back(i);
    int layers = 1;
    while (!ready.empty()) {
        std::size_t at = ready.front();
        ready.pop_front();
        layers = std::max(layers, model.nodes[at].layer + 1);
        for (std::size_t to : next[at]) {
            model.nodes[to].layer = std::max(model.nodes[to].layer, model.nodes[at].layer + 1);
            if (--indegree[to] == 0)
                ready.push_back(to);
        }
    }

    std::vector<std::vector<std::size_t>> rows(static_cast<std::size_t>(layers));
    std::vector<std::size_t> live_beside;
    for (std::size_t i = 0; i < n; ++i) {
        if (beside[i])
            live_beside.push_back(i);
        else
            rows[static_cast<std::size_t>(model.nodes[i].layer)].push_back(i);
    }
    std::size_t columns = 1;
    for (const auto& row : rows)
        columns = std::max(columns, row.size());

    for (auto& row : rows) {
        // The mean x of a node's parents, already placed (they are in earlier rows).
        std::vector<std::pair<float, std::size_t>> keyed;
        for (std::size_t node : row) {
            float sum = 0;
            int parents = 0;
            for (const auto& e : model.edges)
                if (e.to == node && !e.back) {
                    sum += model.nodes[e.from].x;
                    ++parents;
                }
            float key = parents ? sum / static_cast<float>(parents)
                                : static_cast<float>(columns) + static_cast<float>(node);
            keyed.emplace_back(key, node);
        }
        std::stable_sort(keyed.begin(), keyed.end());
        const float left = static_cast<float>(columns - keyed.size()) / 2.0f;
        for (std::size_t i = 0; i < keyed.size(); ++i) {
            WaitGraphNode& node = model.nodes[keyed[i].second];
            node.x = left + static_cast<float>(i) + 0.5f;
            node.y = static_cast<float>(node.layer) + 0.5f;
        }
    }
    model.width = static_cast<float>(columns);
    model.height = static_cast<float>(layers);
    if (live_beside.empty())
        return;
    // The live threads below, side by side, as many per row as the graph is wide (two at least),
    // under a band of kLiveNoteHeight for the note that says what they are.
    const std::size_t per_row = std::max<std::size_t>(columns, 2);
    model.width = static_cast<float>(per_row);
    model.live_top = model.height;
    for (std::size_t i = 0; i < live_beside.size(); ++i) {
        WaitGraphNode& node = model.nodes[live_beside[i]];
        const std::size_t row = i / per_row, column = i % per_row;
        node.layer = layers + static_cast<int>(row);
        node.x = static_cast<float>(column) + 0.5f;
        node.y = model.live_top + kLiveNoteHeight + static_cast<float>(row) + 0.5f;
    }
    // Centre the graph above when the live rows made it wider.
    const float shift = (static_cast<float>(per_row) - static_cast<float>(columns)) / 2.0f;
    for (std::size_t i = 0; i < n; ++i)
        if (!beside[i])
            model.nodes[i].x += shift;
    model.height = model.live_top + kLiveNoteHeight +
                   static_cast<float>((live_beside.size() + per_row - 1) / per_row);
}

} // namespace forklore::gui
