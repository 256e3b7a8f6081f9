// Pass one of the timeline's model: the processes and their threads, as groups and lanes in
// process-tree order (timeline_passes.hpp says what the passes after it need of them).
#include "sim/timeline/timeline_passes.hpp"

#include "sim/verdict/verdict.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <tuple>

namespace forklore {

namespace {

// What the record says of one process, before it has a group.
struct GroupWork {
    pid_t pid = 0, parent = 0;
    std::string name, start_method, exit_description;
    ProcessRole role = ProcessRole::child;
    std::optional<std::int64_t> start_ns, end_ns;
    std::optional<std::int64_t> first_own_event_ns;     // the first event the process recorded
    std::vector<std::pair<pid_t, std::string>> threads; // in order of appearance
    std::unordered_map<pid_t, std::int64_t> thread_start_ns, thread_exit_ns;

    void add_thread(pid_t tid, std::string_view thread_name) {
        for (auto& [known, known_name] : threads)
            if (known == tid) {
                if (known_name.empty())
                    known_name = thread_name;
                return;
            }
        threads.emplace_back(tid, thread_name);
    }
};

void lower_to(std::optional<std::int64_t>& slot, std::int64_t t) {
    if (!slot || t < *slot)
        slot = t;
}

// The processes and their threads, from the record's process list (complete runs) and the events
// (a live run has no process list yet).
std::map<pid_t, GroupWork> collect_groups(const RunRecord& record) {
    std::map<pid_t, GroupWork> groups;
    auto group = [&](pid_t pid) -> GroupWork& {
        GroupWork& g = groups[pid];
        g.pid = pid;
        return g;
    };
    for (const auto& p : record.processes) {
        GroupWork& g = group(p.ns_pid);
        g.parent = p.parent_ns_pid;
        g.name = p.name;
        g.role = p.role;
        g.start_method = p.start_method ? std::string(to_string(*p.start_method)) : "";
        g.exit_description = p.exit_description;
        g.start_ns = p.start_ns; // the host and its reaper start with the run (0)
        if (p.end_ns > 0)
            g.end_ns = p.end_ns;
        for (const auto& [tid, name] : p.threads)
            g.add_thread(tid, name);
    }
    const std::int64_t origin = record.start_time_ns;
    for (const auto& e : record.events) {
        const std::int64_t t = e.time_ns - origin;
        GroupWork& g = group(e.pid);
        lower_to(g.start_ns, t);
        lower_to(g.first_own_event_ns, t);
        g.add_thread(e.tid,
                     e.kind == EventKind::thread_start ? field_text(e.name) : field_text(e.thread));
        switch (e.kind) {
        case EventKind::process_start:
            if (g.name.empty()) {
                g.name = field_text(e.name);
                g.role = role_from_name(g.name);
            }
            if (g.parent == 0)
                g.parent = static_cast<pid_t>(e.arg0);
            if (g.start_method.empty() && e.text[0] && g.role != ProcessRole::main)
                g.start_method = field_text(e.text);
            break;
        case EventKind::thread_start:
            g.thread_start_ns.emplace(e.tid, t);
            break;
        case EventKind::thread_exit:
            g.thread_exit_ns[e.tid] = t;
            break;
        case EventKind::child_start: {
            GroupWork& child = group(static_cast<pid_t>(e.object));
            child.parent = e.pid;
            if (child.start_method.empty())
                child.start_method = start_method_name(e);
            if (child.name.empty()) {
                child.name = field_text(e.name);
                child.role = role_from_name(child.name);
            }
            lower_to(child.start_ns, t);
            break;
        }
        case EventKind::process_exit: {
            GroupWork& child = group(static_cast<pid_t>(e.object));
            if (!child.end_ns)
                child.end_ns = t;
            if (child.exit_description.empty())
                child.exit_description = WaitStatus::from_raw(static_cast<int>(e.arg0)).text();
            break;
        }
        default:
            break;
        }
    }
    return groups;
}

// Parents before children; the host first, then by start time.
std::vector<std::pair<pid_t, int>> tree_order(const std::map<pid_t, GroupWork>& groups) {
    auto before = [&](pid_t a, pid_t b) {
        const GroupWork& ga = groups.at(a);
        const GroupWork& gb = groups.at(b);
        auto key = [](const GroupWork& g) {
            return std::tuple(g.role == ProcessRole::host ? 0 : 1, g.start_ns.value_or(0), g.pid);
        };
        return key(ga) < key(gb);
    };
    std::map<pid_t, std::vector<pid_t>> children;
    std::vector<pid_t> roots;
    for (const auto& [pid, g] : groups) {
        if (g.parent != 0 && g.parent != pid && groups.count(g.parent))
            children[g.parent].push_back(pid);
        else
            roots.push_back(pid);
    }
    std::vector<std::pair<pid_t, int>> order;
    std::set<pid_t> placed;
    std::function<void(pid_t, int)> visit = [&](pid_t pid, int depth) {
        if (!placed.insert(pid).second)
            return;
        order.emplace_back(pid, depth);
        auto& list = children[pid];
        std::sort(list.begin(), list.end(), before);
        for (pid_t child : list)
            visit(child, depth + 1);
    };
    std::sort(roots.begin(), roots.end(), before);
    for (pid_t root : roots)
        visit(root, 0);
    // A parent loop (never expected) would leave processes out: they become roots.
    for (const auto& [pid, g] : groups)
        if (!placed.count(pid))
            visit(pid, 0);
    return order;
}

TimelineGroup group_of(GroupWork& work, int depth, const TimelineModel& model) {
    TimelineGroup group;
    group.pid = work.pid;
    group.parent_pid = work.parent;
    group.name = work.name.empty() ? "process" : work.name;
    group.role = work.role;
    group.start_method = work.start_method;
    group.exit_description = work.exit_description;
    group.start_ns = work.start_ns.value_or(0);
    group.ended = work.end_ns.has_value();
    group.end_ns = std::max(group.start_ns, work.end_ns.value_or(model.end_ns));
    group.depth = depth;
    group.first_lane = model.lanes.size();
    return group;
}

// The group's lanes: the process's first thread (tid == pid) leads; a process seen only through
// its parent still gets a lane so that its start and exit can be drawn.
void add_lanes(TimelineModel& model, LaneIndex& index, GroupWork& work, TimelineGroup& group) {
    const pid_t pid = work.pid;
    auto& threads = work.threads;
    std::stable_partition(threads.begin(), threads.end(),
                          [pid](const auto& thread) { return thread.first == pid; });
    if (threads.empty())
        threads.emplace_back(pid, "");
    for (const auto& [tid, name] : threads) {
        TimelineLane lane;
        lane.pid = pid;
        lane.tid = tid;
        lane.name = name;
        lane.group = model.groups.size();
        auto started = work.thread_start_ns.find(tid);
        lane.start_ns = started != work.thread_start_ns.end() ? started->second : group.start_ns;
        auto exited = work.thread_exit_ns.find(tid);
        lane.end_ns = exited != work.thread_exit_ns.end() ? exited->second : group.end_ns;
        lane.end_ns = std::max(lane.start_ns, lane.end_ns);
        index.lane_of.emplace(LaneIndex::thread_key(pid, tid), model.lanes.size());
        model.lanes.push_back(std::move(lane));
    }
    group.lane_count = model.lanes.size() - group.first_lane;
}

} // namespace

std::uint64_t LaneIndex::thread_key(pid_t pid, pid_t tid) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(pid)) << 32) |
           static_cast<std::uint32_t>(tid);
}

std::size_t LaneIndex::lane(pid_t pid, pid_t tid) const {
    return lane_of.at(thread_key(pid, tid));
}

LaneIndex add_groups_and_lanes(TimelineModel& model, const RunRecord& record) {
    LaneIndex index;
    std::map<pid_t, GroupWork> groups = collect_groups(record);
    for (const auto& [pid, depth] : tree_order(groups)) {
        GroupWork& work = groups.at(pid);
        TimelineGroup group = group_of(work, depth, model);
        add_lanes(model, index, work, group);
        index.group_of.emplace(pid, model.groups.size());
        if (work.first_own_event_ns)
            index.first_own_event_ns.emplace(pid, *work.first_own_event_ns);
        model.groups.push_back(std::move(group));
    }
    return index;
}

} // namespace forklore
