#include "gui/models/source_model.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace forklore::gui {

namespace {

// The scenario that runs a program given on the command line (`forklore exec`, scenario 990):
// its own file only execs the program, whose source forklore does not have.
constexpr std::string_view kExecScenario = "exec";

std::string fixed(const char* text, std::size_t size) {
    return std::string(text, std::find(text, text + size, '\0'));
}

} // namespace

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        std::size_t end = text.find('\n');
        if (end == std::string_view::npos) {
            lines.push_back(text);
            break;
        }
        lines.push_back(text.substr(0, end));
        text.remove_prefix(end + 1);
    }
    return lines;
}

void SourceModel::update(const RunRecord& record, std::uint64_t generation,
                         std::optional<std::size_t> selected_event, const std::string& wanted,
                         const ScenarioRegistry& registry) {
    if (selected_event && *selected_event >= record.events.size())
        selected_event.reset();
    const bool record_changed = record_ != &record || generation_ != generation;
    if (record_changed) {
        record_ = &record;
        generation_ = generation;
        rebuild_files(record, registry);
    }
    const bool selection_changed = !selected_.has_value() || *selected_ != selected_event;
    if (!record_changed && !selection_changed && wanted_ == wanted)
        return;
    selected_ = selected_event;
    wanted_ = wanted;
    // A new selection in another file brings that file up (unless the user chose one since).
    if (record_changed || selection_changed || file_.empty() || !wanted.empty())
        choose_file(record, selected_event, wanted, registry);
    rebuild_marks(record, selected_event);
}

void SourceModel::rebuild_files(const RunRecord& record, const ScenarioRegistry& registry) {
    files_.clear();
    main_file_.clear();
    python_ = false;
    unavailable_.clear();
    auto add = [&](const std::string& path) -> SourceFileChoice& {
        for (auto& choice : files_)
            if (choice.path == path)
                return choice;
        files_.push_back({path, source_file_id(path), registry.source_text(path).has_value(), 0});
        return files_.back();
    };
    const Scenario* scenario = registry.find(record.scenario);
    if (record.scenario == kExecScenario) {
        unavailable_ = "No source: this run is a program started by `forklore exec`, which "
                       "forklore does not have the code of.";
        return;
    }
    if (scenario) {
        for (const auto& path : scenario->sources)
            add(path);
        // A Python scenario is its program: show the script first.
        for (const auto& path : scenario->sources)
            if (is_python_source(path)) {
                main_file_ = path;
                python_ = true;
            }
        if (main_file_.empty() && !scenario->sources.empty())
            main_file_ = scenario->sources.front();
    }
    for (const auto& event : record.events)
        if (const std::string* path = record.source_file(event))
            ++add(*path).event_count;
    if (main_file_.empty() && !files_.empty())
        main_file_ = files_.front().path;
    if (files_.empty())
        unavailable_ = scenario ? "No source: this run recorded no event with a location (a "
                                  "record of an older forklore, before events had lines)."
                                : fmt::format("No source: scenario '{}' is not part of this "
                                              "build, and its events name no file.",
                                              record.scenario);
}

void SourceModel::choose_file(const RunRecord& record, std::optional<std::size_t> selected_event,
                              const std::string& wanted, const ScenarioRegistry& registry) {
    std::string path = main_file_;
    if (selected_event)
        if (const std::string* selected_path = record.source_file(record.events[*selected_event]))
            path = *selected_path;
    if (!wanted.empty() && std::any_of(files_.begin(), files_.end(),
                                       [&](const auto& choice) { return choice.path == wanted; }))
        path = wanted;
    file_ = path;
    file_id_ = path.empty() ? 0 : source_file_id(path);
    lines_.clear();
    remark_.clear();
    if (path.empty())
        return;
    if (auto text = registry.source_text(path))
        lines_ = split_lines(*text);
    else
        remark_ = fmt::format("{} is not embedded in this build of forklore: its lines cannot be "
                              "shown.",
                              path);
    if (!python_ || !is_python_source(path))
        return;
    const bool has_frames =
        std::any_of(record.stacks.begin(), record.stacks.end(), [](const ThreadStack& stack) {
            return stack.python && !stack.python->frames.empty();
        });
    remark_ = has_frames ? "A Python program runs uninstrumented: its threads are marked where "
                           "their Python frames were when the hang was proven."
                         : "A Python program runs uninstrumented: its lines are marked only in a "
                           "proven hang, from the Python frames read then.";
}

void SourceModel::rebuild_marks(const RunRecord& record,
                                std::optional<std::size_t> selected_event) {
    marks_.clear();
    events_by_line_.clear();
    highlighted_ = 0;
    selection_note_.clear();
    if (file_.empty())
        return;
    // Each thread's last located event, up to the selected one.
    std::map<std::pair<pid_t, pid_t>, std::size_t> last;
    const std::size_t end = selected_event ? *selected_event + 1 : record.events.size();
    for (std::size_t i = 0; i < record.events.size(); ++i) {
        const Event& event = record.events[i];
        if (event.file == 0)
            continue;
        if (event.file == file_id_)
            events_by_line_[event.line].push_back(i);
        if (i < end)
            last[{event.pid, event.tid}] = i;
    }
    for (const auto& [thread, index] : last) {
        const Event& event = record.events[index];
        if (event.file != file_id_)
            continue;
        marks_[event.line].push_back(
            {thread.first,
             thread.second,
             fmt::format("{} ({})", fixed(event.thread, sizeof event.thread), thread.first),
             index,
             begins_a_wait(event.kind),
             {}});
    }
    if (python_ && is_python_source(file_))
        add_python_marks(record);
    if (!selected_event)
        return;
    const Event& selected = record.events[*selected_event];
    if (selected.file == file_id_ && selected.line > 0) {
        highlighted_ = selected.line;
    } else if (const std::string* path = record.source_file(selected)) {
        selection_note_ =
            fmt::format("The selected event was recorded at {}:{}.", *path, selected.line);
    } else {
        selection_note_ = fmt::format("The selected {} has no line: forklore recorded it itself, "
                                      "not the scenario's code.",
                                      to_string(selected.kind));
    }
}

// A Python program records no events: its threads' lines are those of the Python frames read at
// the proof of a hang (ThreadStack::python). The interpreter names the script by the path it ran
// it from (a copy in the sandbox), so the file shown is matched by its name. Each thread is
// marked at the innermost frame in that file: the line of the script it is at, even when it
// waits deeper, inside the standard library.
void SourceModel::add_python_marks(const RunRecord& record) {
    const auto base = [](std::string_view path) {
        const auto slash = path.rfind('/');
        return slash == std::string_view::npos ? path : path.substr(slash + 1);
    };
    const std::string_view shown = base(file_);
    for (const ThreadStack& stack : record.stacks) {
        if (!stack.python || stack.python->without_thread)
            continue;
        const auto& frames = stack.python->frames;
        const auto frame = std::find_if(frames.begin(), frames.end(), [&](const PythonFrame& f) {
            return f.line > 0 && base(f.file) == shown;
        });
        if (frame == frames.end())
            continue;
        const bool stuck = std::any_of(
            record.verdict.stuck.begin(), record.verdict.stuck.end(),
            [&](const ThreadState& t) { return t.pid == stack.ns_pid && t.tid == stack.ns_tid; });
        const std::string& name =
            stack.python->name.empty() ? stack.thread_name : stack.python->name;
        marks_[static_cast<std::uint32_t>(frame->line)].push_back(
            {stack.ns_pid, stack.ns_tid, fmt::format("{} ({})", name, stack.ns_pid), kNoMarkEvent,
             stuck, frame->function});
    }
}

std::uint32_t SourceModel::focus_line() const {
    if (highlighted_ > 0)
        return highlighted_;
    for (const auto& [line, marks] : marks_)
        for (const auto& mark : marks)
            if (mark.waiting)
                return line;
    return marks_.empty() ? 0 : marks_.begin()->first;
}

std::vector<const ThreadMark*> SourceModel::marks_on(std::uint32_t line) const {
    std::vector<const ThreadMark*> result;
    if (auto found = marks_.find(line); found != marks_.end())
        for (const auto& mark : found->second)
            result.push_back(&mark);
    return result;
}

std::vector<std::size_t> SourceModel::events_on(std::uint32_t line) const {
    auto found = events_by_line_.find(line);
    return found == events_by_line_.end() ? std::vector<std::size_t>{} : found->second;
}

} // namespace forklore::gui
