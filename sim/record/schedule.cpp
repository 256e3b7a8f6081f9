// The schedule of a stepped run (schedule.hpp): its words, its JSON, its file.
#include "sim/record/schedule.hpp"

#include "sim/protocol/text.hpp"
#include "sim/record/json_fields.hpp"
#include "sim/record/record.hpp"
#include "sim/record/user_file.hpp"

#include <fmt/format.h>

namespace forklore {

using nlohmann::json;
using namespace record_reading;

std::string_view step_verb(EventKind kind) {
    switch (kind) {
    case EventKind::process_start:
        return "begin";
    case EventKind::thread_start:
        return "start";
    case EventKind::thread_exit:
        return "exit";
    case EventKind::lock_wait:
        return "lock";
    case EventKind::lock_released:
        return "unlock";
    case EventKind::file_lock_wait:
        return "lock file";
    case EventKind::file_lock_released:
        return "unlock file";
    case EventKind::child_start:
        return "start child";
    case EventKind::exec:
        return "exec";
    case EventKind::signal_sent:
        return "send a signal to";
    case EventKind::output:
        return "print to";
    case EventKind::barrier_wait:
        return "wait at barrier";
    case EventKind::cond_wait:
        return "wait on condition";
    case EventKind::cond_signal:
        return "signal condition";
    case EventKind::child_wait:
        return "wait for child";
    case EventKind::join_wait:
        return "join";
    default:
        return to_string(kind);
    }
}

std::string describe_operation(const ScheduleStep& step) {
    return fmt::format("{}{}", step_verb(step.kind), step.object.empty() ? "" : " " + step.object);
}

std::string step_location(const ScheduleStep& step) {
    if (step.file.empty())
        return {};
    const auto slash = step.file.rfind('/');
    return fmt::format(
        "{}:{}", slash == std::string::npos ? step.file : step.file.substr(slash + 1), step.line);
}

std::string describe_step(const ScheduleStep& step) {
    const std::string location = step_location(step);
    const std::string where = location.empty() ? "" : " (" + location + ")";
    return fmt::format("{} (pid {}, tid {}): {}{}", step.thread, step.pid, step.tid,
                       describe_operation(step), where);
}

json schedule_to_json(const Schedule& schedule) {
    json steps = json::array();
    for (const auto& step : schedule.steps)
        steps.push_back({{"pid", step.pid},
                         {"tid", step.tid},
                         {"thread", step.thread},
                         {"kind", to_string(step.kind)},
                         {"object", step.object},
                         {"file", step.file},
                         {"line", step.line}});
    json j = {{"steps", std::move(steps)}, {"ran_free", schedule.ran_free}};
    if (!schedule.diverged.empty())
        j["diverged"] = schedule.diverged;
    if (!schedule.unsettled.empty())
        j["unsettled"] = schedule.unsettled;
    return j;
}

Schedule schedule_from_json(const json& j) {
    try {
        require_object(j);
        Schedule schedule;
        if (!list(j, "steps"))
            fail("steps", "is missing (the thread chosen at each step)");
        schedule.steps = list_of(j, "steps", [](const json& s) {
            require_object(s);
            ScheduleStep step;
            step.pid = whole<pid_t>(s, "pid", 0);
            step.tid = whole<pid_t>(s, "tid", 0);
            if (step.pid <= 0 || step.tid <= 0)
                fail("tid", "a step names its thread by pid and tid, both above 0");
            step.thread = text(s, "thread");
            step.kind = named<EventKind>(kEventKindNames, s, "kind", "event kind");
            step.object = text(s, "object");
            step.file = text(s, "file");
            step.line = whole<std::uint32_t>(s, "line", 0);
            return step;
        });
        schedule.ran_free = flag(j, "ran_free", false);
        schedule.diverged = text(j, "diverged");
        if (j.contains("unsettled"))
            schedule.unsettled = list_of(j, "unsettled", [](const json& name) {
                if (!name.is_string())
                    fail("", "is a thread's name, a string");
                return name.get<std::string>();
            });
        return schedule;
    } catch (const FieldError& error) {
        throw RecordError(fmt::format("schedule: {}: {}", error.path, error.problem));
    }
}

Schedule load_schedule_file(const std::string& path) {
    // A schedule is a few KiB; a run record holding one may be large: its events and snapshots
    // are skipped while parsing, never held.
    const std::string content = read_regular_file(path, RecordLimits{}.max_bytes, "a schedule");
    const json::parser_callback_t skip_bulk = [](int depth, json::parse_event_t event,
                                                 json& parsed) {
        return !(depth == 1 && event == json::parse_event_t::key &&
                 (parsed == "events" || parsed == "snapshots" || parsed == "stacks"));
    };
    json j = json::parse(content, skip_bulk, false);
    if (j.is_discarded())
        throw RecordError(
            fmt::format("{}: not JSON: neither a schedule nor a run record", printable(path)));
    try {
        if (j.is_object() && !j.contains("steps") && j.contains("scenario")) {
            const json* schedule = object_member(j, "schedule");
            if (!schedule)
                throw RecordError(
                    "a run record without a schedule (only a stepped run writes one)");
            return schedule_from_json(*schedule);
        }
        return schedule_from_json(j);
    } catch (const FieldError& error) {
        throw RecordError(fmt::format("{}: {}: {}", printable(path), error.path, error.problem));
    } catch (const RecordError& error) {
        throw RecordError(fmt::format("{}: {}", printable(path), error.what()));
    }
}

} // namespace forklore
