// The phrases every verdict sentence is built from. See phrases.hpp.
#include "sim/verdict/phrases.hpp"

#include "sim/verdict/trace_lookups.hpp"

#include <fmt/format.h>

#include <cctype>

namespace forklore {

std::string process_label(const std::vector<Event>& events, pid_t pid) {
    const Event* start = latest_event(
        events, [&](const Event& e) { return e.kind == EventKind::process_start && e.pid == pid; });
    std::string_view role = start ? field_text(start->name) : std::string_view();
    if (const Event* made = child_start_of(events, pid)) {
        std::string_view function = field_text(made->name);
        if (function.empty())
            function = role;
        if (!function.empty())
            return fmt::format("process {} (child '{}')", pid, function);
    }
    if (!role.empty())
        return fmt::format("process {} ('{}')", pid, role);
    return fmt::format("process {}", pid);
}

std::string thread_phrase(std::string_view name, pid_t tid) {
    if (name.empty())
        return fmt::format("thread (tid {})", tid);
    return fmt::format("thread '{}' (tid {})", name, tid);
}

std::string waiter_phrase(const WaitEdge& edge) {
    return fmt::format("{} of process {}", thread_phrase(edge.waiter_thread, edge.waiter_tid),
                       edge.waiter_pid);
}

std::string lock_label(const WaitEdge& edge) {
    if (edge.lock_name.empty() && !edge.known_as.empty())
        return fmt::format("{} (a {} at {:#x})", edge.known_as,
                           edge.object_kind.empty() ? "lock" : edge.object_kind, edge.address);
    if (edge.lock_name.empty())
        return fmt::format("the {} at {:#x}", edge.object_kind.empty() ? "lock" : edge.object_kind,
                           edge.address);
    return fmt::format("lock '{}'", edge.lock_name);
}

std::string pid_list(const std::vector<pid_t>& pids) {
    if (pids.size() <= 1)
        return fmt::format("{}", fmt::join(pids, ""));
    std::vector<pid_t> all_but_last(pids.begin(), pids.end() - 1);
    return fmt::format("{} and {}", fmt::join(all_but_last, ", "), pids.back());
}

std::string capitalized(std::string text) {
    if (!text.empty())
        text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
    return text;
}

std::string time_in_run(std::int64_t run_start_ns, std::int64_t time_ns) {
    return fmt::format("{:.1f} ms", static_cast<double>(time_ns - run_start_ns) / 1e6);
}

} // namespace forklore
