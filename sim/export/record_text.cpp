// A run record's parts as plain text (record_text.hpp).
#include "sim/export/record_text.hpp"

#include <fmt/format.h>

#include <functional>
#include <map>
#include <set>
#include <vector>

namespace forklore {

namespace {

std::string ms(std::int64_t ns) {
    return fmt::format("{:.1f} ms", static_cast<double>(ns) / 1e6);
}

std::string basename_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string process_line(const ProcessRecord& p, bool has_parent) {
    std::string name = p.name;
    if (!p.program.empty() && basename_of(p.program) != p.name)
        name += fmt::format(" [{}]", basename_of(p.program));
    std::string line = fmt::format("{} {}:", p.ns_pid, name);
    if (has_parent && p.parent_ns_pid > 0)
        line += fmt::format(" {} by {} at {}",
                            !p.start_method ? std::string("made")
                                            : "made by " + std::string(to_string(*p.start_method)),
                            p.parent_ns_pid, ms(p.start_ns));
    else
        line += fmt::format(" started at {}", ms(p.start_ns));
    for (const auto& exec : p.execs)
        line += fmt::format("; exec {} at {}",
                            one_line(exec.command.empty() ? exec.program : exec.command, 60),
                            ms(exec.t_ns));
    if (!p.threads.empty()) {
        std::vector<std::string> threads;
        for (const auto& [tid, thread] : p.threads)
            threads.push_back(fmt::format("{} ({})", thread.empty() ? "?" : thread, tid));
        line +=
            fmt::format("; thread{} {}", threads.size() == 1 ? "" : "s", fmt::join(threads, ", "));
    }
    if (!p.exit_description.empty())
        line += fmt::format("; {}{}", p.exit_description,
                            p.end_ns > 0 && !p.killed_by_runner ? " at " + ms(p.end_ns) : "");
    return line;
}

} // namespace

std::string one_line(const std::string& text, std::size_t max_length) {
    std::string line;
    for (char c : text) {
        bool blank = c == ' ' || c == '\n' || c == '\t' || c == '\r';
        if (!blank)
            line += c;
        else if (!line.empty() && line.back() != ' ')
            line += ' ';
    }
    while (!line.empty() && line.back() == ' ')
        line.pop_back();
    if (line.size() > max_length)
        line = line.substr(0, max_length) + "...";
    return line;
}

std::string process_tree_text(const RunRecord& record) {
    std::map<pid_t, const ProcessRecord*> shown;
    for (const auto& p : record.processes)
        if (!is_sandbox_process(p.role))
            shown[p.ns_pid] = &p;
    std::multimap<pid_t, const ProcessRecord*> children;
    std::vector<const ProcessRecord*> roots;
    for (const auto& [pid, p] : shown) {
        if (shown.count(p->parent_ns_pid) && p->parent_ns_pid != pid)
            children.emplace(p->parent_ns_pid, p);
        else
            roots.push_back(p);
    }
    std::string out;
    std::set<pid_t> printed; // a cycle in bad data must not recurse for ever
    std::function<void(const ProcessRecord*, std::size_t)> print = [&](const ProcessRecord* p,
                                                                       std::size_t depth) {
        if (!printed.insert(p->ns_pid).second)
            return;
        out += std::string(4 + 2 * depth, ' ') + process_line(*p, depth > 0) + "\n";
        auto [first, last] = children.equal_range(p->ns_pid);
        for (auto it = first; it != last; ++it)
            print(it->second, depth + 1);
    };
    for (const auto* root : roots)
        print(root, 0);
    return out;
}

std::string output_tail(const std::string& text, std::size_t count, const std::string& indent) {
    constexpr std::size_t kMaxLineShown = 300;
    std::vector<std::string> lines;
    std::size_t begin = 0;
    while (begin < text.size()) {
        std::size_t end = text.find('\n', begin);
        if (end == std::string::npos)
            end = text.size();
        lines.push_back(text.substr(begin, end - begin));
        begin = end + 1;
    }
    std::string out;
    if (lines.size() > count)
        out += indent + "...\n";
    for (std::size_t i = lines.size() > count ? lines.size() - count : 0; i < lines.size(); ++i)
        out += indent +
               (lines[i].size() > kMaxLineShown ? fmt::format("{}... ({} more bytes on this line)",
                                                              lines[i].substr(0, kMaxLineShown),
                                                              lines[i].size() - kMaxLineShown)
                                                : lines[i]) +
               "\n";
    return out;
}

std::string short_function_name(const std::string& name) {
    std::string shown;
    int depth = 0;
    for (std::size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        if (name.compare(i, 21, "(anonymous namespace)") == 0) {
            shown += "(anonymous namespace)";
            i += 20;
            continue;
        }
        if (c == '<' || c == '(') {
            if (depth == 0)
                shown += c == '<' ? "<...>" : "(...)";
            ++depth;
        } else if (c == '>' || c == ')') {
            depth = depth > 0 ? depth - 1 : 0;
        } else if (depth == 0) {
            shown += c;
        }
    }
    return shown;
}

std::string python_stack_text(const ThreadStack& stack, const std::string& indent) {
    if (!stack.python)
        return stack.python_error.empty()
                   ? std::string()
                   : fmt::format("{}(no Python frames: {})\n", indent, stack.python_error);
    const PythonStack& python = *stack.python;
    std::string text;
    if (python.without_thread)
        text += fmt::format("{}a thread state with no thread of this process behind it\n", indent);
    text += fmt::format("{}Python (innermost call first):\n", indent);
    for (const PythonFrame& frame : python.frames) {
        auto slash = frame.file.rfind('/');
        text += fmt::format("{}  {}:{} in {}()\n", indent,
                            slash == std::string::npos ? frame.file : frame.file.substr(slash + 1),
                            frame.line, frame.function);
    }
    if (python.frames.empty())
        text += fmt::format("{}  (no Python frame: it runs no Python code now)\n", indent);
    if (const std::string waits = python_wait_words(python); !waits.empty())
        text += fmt::format("{}{}\n", indent, waits);
    return text;
}

std::string python_wait_words(const PythonStack& python) {
    if (python.waits_on.empty())
        return "";
    std::string text = fmt::format("waits for {}", python.waits_on);
    if (!python.lock_holder.empty())
        text += fmt::format(", which records thread '{}' as inside it{}", python.lock_holder,
                            python.lock_holder_here
                                ? ""
                                : " (a thread this process does not have: left behind by fork)");
    return text;
}

} // namespace forklore
