// Where a lesson's look points (lesson_looks.hpp).
#include "gui/models/lesson_looks.hpp"

#include "gui/models/lock_table_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace forklore::gui {

namespace {

bool is_stuck(const Verdict& verdict, pid_t pid, pid_t tid) {
    return std::any_of(verdict.stuck.begin(), verdict.stuck.end(),
                       [&](const ThreadState& t) { return t.pid == pid && t.tid == tid; });
}

std::optional<LookTarget> find_lock(const std::string& name, const RunRecord& record) {
    const LockTableModel table = build_lock_table(record);
    LookTarget target;
    target.tab = LookTarget::Tab::locks;
    // The rows come worst state first: an orphaned or waited-on copy before a free one.
    if (const auto copies = table.named(name); !copies.empty()) {
        const LockRow& row = *copies.front();
        select_lock(target.selection, row);
        target.said = fmt::format(
            "lock {} in process {}: {}{}", row.label(), row.process, to_string(row.state),
            copies.size() > 1 ? fmt::format(" (one of its {} copies)", copies.size())
                              : std::string());
        return target;
    }
    for (const auto& row : table.file_locks)
        if (row.name == name) {
            select_file_lock(target.selection, row);
            target.said = fmt::format("file lock {}: {}", row.label(), to_string(row.state));
            return target;
        }
    return std::nullopt;
}

std::optional<LookTarget> find_thread(const std::string& name, const RunRecord& record) {
    // Every thread of that name (ns pid, tid): a thread a process had before it forked is
    // named in the child too when it called fork.
    std::vector<std::pair<pid_t, pid_t>> named;
    for (const auto& process : record.processes)
        for (const auto& [tid, thread] : process.threads)
            if (thread == name)
                named.emplace_back(process.ns_pid, tid);
    if (named.empty())
        for (const auto& event : record.events)
            if (field_text(event.thread) == name) {
                named.emplace_back(event.pid, event.tid);
                break;
            }
    if (named.empty())
        return std::nullopt;
    auto chosen = std::find_if(named.begin(), named.end(), [&](const auto& thread) {
        return is_stuck(record.verdict, thread.first, thread.second);
    });
    const bool stuck = chosen != named.end();
    if (!stuck)
        chosen = named.begin();
    LookTarget target;
    target.tab = LookTarget::Tab::timeline;
    target.selection.select_thread(chosen->first, chosen->second);
    target.said = fmt::format("thread '{}' (tid {}) of process {}{}", name, chosen->second,
                              chosen->first, stuck ? ", stuck" : "");
    return target;
}

std::optional<LookTarget> find_process(const std::string& name, const RunRecord& record) {
    const ProcessRecord* chosen = nullptr;
    for (const auto& process : record.processes) {
        if (to_string(process.role) != name && process.name != name)
            continue;
        if (!chosen || process.ns_pid == record.verdict.culprit_pid)
            chosen = &process;
        if (process.ns_pid == record.verdict.culprit_pid)
            break;
    }
    if (!chosen)
        return std::nullopt;
    LookTarget target;
    target.tab = LookTarget::Tab::process_tree;
    target.selection.select_thread(chosen->ns_pid, 0);
    target.said = fmt::format(
        "process {} ('{}', {}){}", chosen->ns_pid, chosen->name, to_string(chosen->role),
        chosen->ns_pid == record.verdict.culprit_pid ? ": the one the verdict is about" : "");
    return target;
}

} // namespace

std::optional<LookTarget> find_look(const lesson::Look& look, const RunRecord& record) {
    switch (look.kind) {
    case lesson::Look::Kind::lock:
        return find_lock(look.name, record);
    case lesson::Look::Kind::thread:
        return find_thread(look.name, record);
    case lesson::Look::Kind::process:
        return find_process(look.name, record);
    }
    return std::nullopt;
}

} // namespace forklore::gui
