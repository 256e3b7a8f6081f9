// ProcessTable: /proc read with plain read(2), which reports a vanished process as a failed read
// instead of throwing from a stream buffer.
#include "process_table.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

namespace forklore::test_support {

std::string read_file_text(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return {};
    std::string text;
    char buffer[8192];
    for (;;) {
        ssize_t n = read(fd, buffer, sizeof buffer);
        if (n <= 0)
            break;
        text.append(buffer, static_cast<std::size_t>(n));
    }
    close(fd);
    return text;
}

std::string ProcessInfo::describe() const {
    return "pid " + std::to_string(pid) + " (ppid " + std::to_string(ppid) + ", pgid " +
           std::to_string(pgid) + ", state " + std::string(1, state) + ") " +
           (exe.empty() ? "[" + comm + "]" : exe) + (cmdline.empty() ? "" : ": " + cmdline);
}

std::optional<ProcessInfo> read_process(pid_t pid) {
    const std::string dir = "/proc/" + std::to_string(pid);
    std::string stat = read_file_text(dir + "/stat");
    // "pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime
    // stime cutime cstime priority nice num_threads itrealvalue starttime ...": comm may hold
    // spaces and parentheses, so the fields are counted from the last ')'.
    auto open_paren = stat.find('(');
    auto close_paren = stat.rfind(')');
    if (open_paren == std::string::npos || close_paren == std::string::npos)
        return std::nullopt;
    ProcessInfo info;
    info.pid = pid;
    info.comm = stat.substr(open_paren + 1, close_paren - open_paren - 1);
    int ppid = 0, pgid = 0, sid = 0;
    char state = '?';
    unsigned long long start_time = 0;
    if (std::sscanf(stat.c_str() + close_paren + 1,
                    " %c %d %d %d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                    &state, &ppid, &pgid, &sid, &start_time) != 5)
        return std::nullopt;
    info.state = state;
    info.ppid = ppid;
    info.pgid = pgid;
    info.sid = sid;
    info.start_time = start_time;
    char exe[PATH_MAX];
    ssize_t length = readlink((dir + "/exe").c_str(), exe, sizeof exe - 1);
    if (length > 0)
        info.exe.assign(exe, static_cast<std::size_t>(length));
    info.cmdline = read_file_text(dir + "/cmdline");
    while (!info.cmdline.empty() && info.cmdline.back() == '\0')
        info.cmdline.pop_back();
    for (char& c : info.cmdline)
        if (c == '\0')
            c = ' ';
    return info;
}

ProcessTable::ProcessTable() {
    DIR* proc = opendir("/proc");
    if (!proc)
        return;
    while (dirent* entry = readdir(proc)) {
        char* end = nullptr;
        long pid = std::strtol(entry->d_name, &end, 10);
        if (pid <= 0 || *end != '\0')
            continue;
        if (auto info = read_process(static_cast<pid_t>(pid)))
            processes_[info->pid] = *info;
    }
    closedir(proc);
}

const ProcessInfo* ProcessTable::find(pid_t pid) const {
    auto it = processes_.find(pid);
    return it == processes_.end() ? nullptr : &it->second;
}

std::vector<pid_t> ProcessTable::ancestry(pid_t pid) const {
    std::vector<pid_t> chain;
    std::set<pid_t> seen;
    for (const ProcessInfo* at = find(pid); at && seen.insert(at->pid).second; at = find(at->ppid))
        chain.push_back(at->pid);
    return chain;
}

bool ProcessTable::descends_from(pid_t pid, pid_t ancestor) const {
    auto chain = ancestry(pid);
    for (std::size_t i = 1; i < chain.size(); ++i)
        if (chain[i] == ancestor)
            return true;
    return false;
}

bool has_environment_entry(pid_t pid, const std::string& entry) {
    std::string environ = read_file_text("/proc/" + std::to_string(pid) + "/environ");
    for (std::size_t at = 0; at < environ.size();) {
        std::size_t end = environ.find('\0', at);
        if (end == std::string::npos)
            end = environ.size();
        if (environ.compare(at, end - at, entry) == 0)
            return true;
        at = end + 1;
    }
    return false;
}

std::vector<std::string> glob_paths(const std::string& pattern) {
    std::vector<std::string> paths;
    glob_t found{};
    if (glob(pattern.c_str(), 0, nullptr, &found) == 0)
        for (std::size_t i = 0; i < found.gl_pathc; ++i)
            paths.emplace_back(found.gl_pathv[i]);
    globfree(&found);
    return paths; // glob sorts its results
}

} // namespace forklore::test_support
