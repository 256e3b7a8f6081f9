#include "exec_command.hpp"

#include "cli_output.hpp"

#include "sim/protocol/text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <set>

namespace forklore::cli {

int exec_exit_code(VerdictKind kind) {
    switch (kind) {
    case VerdictKind::completed:
        return 0;
    case VerdictKind::failed:
        return 10;
    case VerdictKind::crashed:
        return 11;
    case VerdictKind::deadlocked:
        return 12;
    case VerdictKind::timed_out:
        return 13;
    case VerdictKind::limit:
        return 14;
    case VerdictKind::setup_error:
        return 15;
    case VerdictKind::stopped:
        return 130; // only Ctrl-C stops a run of the command line
    }
    return 1;
}

std::string exec_exit_codes_help() {
    std::string text = "Exit status:\n";
    for (std::size_t i = 0; i < kVerdictNames.size(); ++i) {
        auto kind = static_cast<VerdictKind>(i);
        if (!has_outcome(kind))
            continue; // Ctrl-C: "interrupted" below
        text += fmt::format("  {:<4}{}\n", exec_exit_code(kind), to_string(kind));
    }
    text += "  2   usage error (no program, bad option)\n"
            "  126 the program is not executable\n"
            "  127 the program was not found\n"
            "  130 interrupted (Ctrl-C)\n";
    return text;
}

namespace {

// 0 when `path` names something exec can run: a file we may execute that starts as a program
// (ELF) or a script ("#!") does; otherwise the errno exec would fail with. exec_program does not
// hand other files to a shell, so an executable text file or binary garbage would only fail in
// the sandbox (ENOEXEC): say so before one is started. A file we may run but not read is left
// to exec.
int executable_problem(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0)
        return errno;
    if (S_ISDIR(st.st_mode))
        return EISDIR;
    if (access(path.c_str(), X_OK) != 0)
        return errno;
    if (!S_ISREG(st.st_mode))
        return EACCES; // a device or a FIFO: exec refuses it too
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return 0;
    char start[4] = {};
    const ssize_t got = read(fd, start, sizeof start);
    close(fd);
    const bool elf = got == 4 && std::memcmp(start,
                                             "\x7f"
                                             "ELF",
                                             4) == 0;
    const bool script = got >= 2 && start[0] == '#' && start[1] == '!';
    return elf || script ? 0 : ENOEXEC;
}

} // namespace

std::optional<ProgramProblem> check_program(const std::string& program) {
    if (program.empty())
        return ProgramProblem{"no program given", 2};
    if (program.find('/') != std::string::npos) {
        int error = executable_problem(program);
        if (error == 0)
            return std::nullopt;
        return ProgramProblem{
            fmt::format("cannot run '{}': {}", printable(program, 200), std::strerror(error)),
            error == ENOENT || error == ENOTDIR ? 127 : 126};
    }
    // The same search exec_program makes (it runs with this process's environment).
    const char* path_variable = std::getenv("PATH");
    std::string path =
        path_variable && *path_variable ? path_variable : "/usr/local/bin:/usr/bin:/bin";
    bool denied = false;
    for (std::size_t begin = 0; begin <= path.size();) {
        std::size_t end = path.find(':', begin);
        if (end == std::string::npos)
            end = path.size();
        std::string directory = path.substr(begin, end - begin);
        int error = executable_problem((directory.empty() ? "." : directory) + "/" + program);
        if (error == 0)
            return std::nullopt;
        denied = denied || error == EACCES;
        begin = end + 1;
    }
    if (denied)
        return ProgramProblem{fmt::format("cannot run '{}': permission denied", program), 126};
    return ProgramProblem{fmt::format("cannot run '{}': not found in PATH", program), 127};
}

namespace {

std::string ms(std::int64_t ns) {
    return fmt::format("{:.1f} ms", static_cast<double>(ns) / 1e6);
}

// A command line on one line of a report: runs of white space (a script's newlines and
// indentation) become one space, and a long one is cut.
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

// The last `count` lines of `text`, each cut to a screen's worth (a program may write megabytes
// with no newline).
std::string tail(const std::string& text, std::size_t count, const std::string& indent) {
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

} // namespace

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

std::string describe_exec(const RunRecord& record, const std::vector<std::string>& command) {
    std::string out =
        fmt::format("command: {}\n", one_line(fmt::format("{}", fmt::join(command, " ")), 200));
    out += describe_run(record);
    std::string tree = process_tree_text(record);
    if (!tree.empty())
        out += "  processes (pids in the sandbox, times from the start):\n" + tree;
    if (!record.stdout_text.empty())
        out += "  stdout:\n" + tail(record.stdout_text, 10, "    ");
    if (!record.stderr_text.empty())
        out += "  stderr:\n" + tail(record.stderr_text, 10, "    ");
    return out;
}

} // namespace forklore::cli
