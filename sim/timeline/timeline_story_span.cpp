// The span the default view frames. A run's first ~100 ms are the sandbox's setup (namespaces,
// cgroups, the reaper): only the host is there. After the program's last event, a hung run waits
// only for the verdict's proof. Fitting all of that made a lock held for a millisecond at the fork
// one pixel wide (issue 11, defect 6); the program's own events are what a student reads.
#include "sim/timeline/timeline_passes.hpp"

#include "sim/timeline/infrastructure.hpp"

#include <algorithm>
#include <unordered_set>

namespace forklore {

namespace {

// Events that show the program doing something, beyond being started, printing or ending.
bool activity(EventKind kind) {
    switch (kind) {
    case EventKind::process_start:
    case EventKind::exec:
    case EventKind::output:
    case EventKind::note:
    case EventKind::process_exit:
    case EventKind::measurement:
        return false;
    default:
        return true;
    }
}

} // namespace

void frame_story(TimelineModel& model, const RunRecord& record) {
    model.story_start_ns = 0;
    model.story_end_ns = model.end_ns;
    std::unordered_set<pid_t> program;
    std::optional<std::int64_t> start;
    for (const TimelineGroup& group : model.groups)
        if (!is_sandbox_process(group.role)) {
            program.insert(group.pid);
            start = std::min(start.value_or(group.start_ns), group.start_ns);
        }
    if (!start)
        return;
    std::optional<std::int64_t> first, last;
    bool active = false;
    for (const Event& e : record.events) {
        // A process's end is the program's, whoever reaped it (the reaper records most).
        const bool own = program.count(e.pid) != 0;
        const bool about =
            e.kind == EventKind::process_exit && program.count(static_cast<pid_t>(e.object)) != 0;
        if (!own && !about)
            continue;
        const std::int64_t t = e.time_ns - record.start_time_ns;
        first = std::min(first.value_or(t), t);
        last = std::max(last.value_or(t), t);
        active = active || (own && activity(e.kind));
    }
    model.story_start_ns = std::min(*start, first.value_or(*start));
    // A program that recorded nothing of its own (an uninstrumented one: its lanes come from the
    // samples) is framed to the end of the run.
    if (active && last && *last > model.story_start_ns)
        model.story_end_ns = *last;
    model.story_end_ns = std::clamp(model.story_end_ns, model.story_start_ns, model.end_ns);
    if (model.story_end_ns <= model.story_start_ns) {
        model.story_start_ns = 0;
        model.story_end_ns = model.end_ns;
    }
}

} // namespace forklore
