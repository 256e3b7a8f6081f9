// The machine's processes as /proc shows them, for tests that check what a run left behind: who
// is whose parent, which process group and session each is in, what it runs, and since when.
// Any process may exit while it is read: a process that vanished is simply not in the table.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace forklore::test_support {

// One process, as /proc/PID/stat, exe, cmdline and environ said when it was read.
struct ProcessInfo {
    pid_t pid = 0, ppid = 0, pgid = 0, sid = 0;
    char state = '?';                  // R, S, D, Z, T, ...
    unsigned long long start_time = 0; // clock ticks after boot: with pid, names one process
    std::string comm;                  // the kernel's short name
    std::string exe;                   // /proc/PID/exe, "" when unreadable (or a zombie)
    std::string cmdline;               // arguments joined by spaces
    bool zombie() const { return state == 'Z' || state == 'X'; }
    std::string describe() const; // "pid 123 (ppid 1, pgid 120, state S) /path/exe args"
};

// The whole file, read with read(2): "" when it cannot be read (a process that exited).
std::string read_file_text(const std::string& path);

std::optional<ProcessInfo> read_process(pid_t pid);

// A snapshot of every process of the machine.
class ProcessTable {
  public:
    ProcessTable();
    const std::map<pid_t, ProcessInfo>& processes() const { return processes_; }
    const ProcessInfo* find(pid_t pid) const;
    // True when `ancestor` is a parent, grandparent, ... of `pid` (not pid itself).
    bool descends_from(pid_t pid, pid_t ancestor) const;
    // `pid` and its ancestors, up to pid 1.
    std::vector<pid_t> ancestry(pid_t pid) const;

  private:
    std::map<pid_t, ProcessInfo> processes_;
};

// NAME=VALUE in the process's initial environment (/proc/PID/environ).
bool has_environment_entry(pid_t pid, const std::string& entry);

// The files matching a glob pattern (glob(3)), sorted.
std::vector<std::string> glob_paths(const std::string& pattern);

} // namespace forklore::test_support
