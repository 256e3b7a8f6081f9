// Reading /proc files of live processes. These run every few milliseconds for every thread of a
// sandbox, so they use open/read into stack buffers and hand-written parsing (proc_text.hpp): no
// iostreams, no regex, few allocations.
//
// Index of this file:
// [SECTION] Processes and threads
// [SECTION] File descriptors
// [SECTION] Timers and CPU time
// [SECTION] Shared memory mappings
// [SECTION] File locks
#include "sim/observe/proc_files.hpp"

#include "sim/observe/proc_text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <unordered_map>

namespace forklore::procfs {

//-----------------------------------------------------------------------------
// [SECTION] Processes and threads
//-----------------------------------------------------------------------------

std::vector<PidParent> list_processes() {
    std::vector<PidParent> result;
    char path[64];
    char buffer[1024];
    for (pid_t pid : numbered_entries("/proc")) {
        std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
        ssize_t length = read_small_file(path, buffer, sizeof buffer);
        if (length <= 0)
            continue; // exited between readdir and open
        std::string_view comm, rest;
        if (!split_stat_line({buffer, static_cast<std::size_t>(length)}, comm, rest))
            continue;
        std::string_view fields[2]; // state, ppid
        if (split_fields(rest, fields, 2) < 2)
            continue;
        result.push_back({pid, static_cast<pid_t>(to_int(fields[1]))});
    }
    return result;
}

std::vector<pid_t> descendants_of(pid_t root, const std::vector<PidParent>& all) {
    std::unordered_multimap<pid_t, pid_t> children_of;
    children_of.reserve(all.size());
    for (const auto& entry : all)
        children_of.emplace(entry.ppid, entry.pid);

    std::vector<pid_t> result{root};
    for (std::size_t next = 0; next < result.size(); ++next) {
        auto [first, last] = children_of.equal_range(result[next]);
        for (auto it = first; it != last; ++it)
            result.push_back(it->second);
    }
    return result;
}

std::vector<pid_t> list_threads(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/task", pid);
    std::vector<pid_t> result = numbered_entries(path);
    std::sort(result.begin(), result.end());
    return result;
}

std::optional<std::vector<pid_t>> read_children(pid_t pid, pid_t tid) {
    char buffer[4096]; // ~500 children; a sandbox has far fewer (RLIMIT_NPROC)
    // One read() returns the whole list at once: the file is only inconsistent across reads.
    if (read_task_file(pid, tid, "children", buffer, sizeof buffer) < 0)
        return std::nullopt;
    std::vector<pid_t> children;
    for (char* cursor = buffer; *cursor;) {
        char* end = nullptr;
        long child = std::strtol(cursor, &end, 10);
        if (end == cursor)
            break;
        children.push_back(static_cast<pid_t>(child));
        cursor = end;
    }
    return children;
}

std::optional<TaskStat> read_task_stat(pid_t pid, pid_t tid) {
    char buffer[1024];
    ssize_t length = read_task_file(pid, tid, "stat", buffer, sizeof buffer);
    if (length <= 0)
        return std::nullopt;

    std::string_view comm, rest;
    if (!split_stat_line({buffer, static_cast<std::size_t>(length)}, comm, rest))
        return std::nullopt;
    // Fields are numbered from 1 in proc(5); `rest` starts at field 3 (state).
    constexpr std::size_t first_field = 3;
    constexpr std::size_t ppid_field = 4, utime_field = 14, stime_field = 15, start_time_field = 22;
    constexpr std::size_t start_stack_field = 28;
    constexpr std::size_t exit_code_field = 52;
    std::string_view fields[exit_code_field - first_field + 1];
    std::size_t count = split_fields(rest, fields, std::size(fields));
    if (count <= start_time_field - first_field)
        return std::nullopt;

    TaskStat stat;
    stat.state = fields[0].empty() ? '?' : fields[0][0];
    stat.comm.assign(comm);
    stat.ppid = static_cast<pid_t>(to_int(fields[ppid_field - first_field]));
    stat.utime = static_cast<std::uint64_t>(to_int(fields[utime_field - first_field]));
    stat.stime = static_cast<std::uint64_t>(to_int(fields[stime_field - first_field]));
    stat.start_time = static_cast<std::uint64_t>(to_int(fields[start_time_field - first_field]));
    if (count > start_stack_field - first_field)
        stat.start_stack =
            static_cast<std::uint64_t>(to_int(fields[start_stack_field - first_field]));
    if (count > exit_code_field - first_field)
        stat.exit_code = static_cast<int>(to_int(fields[exit_code_field - first_field]));
    return stat;
}

std::optional<SyscallInfo> read_syscall(pid_t pid, pid_t tid) {
    char buffer[256];
    ssize_t length = read_task_file(pid, tid, "syscall", buffer, sizeof buffer);
    if (length <= 0)
        return std::nullopt;

    SyscallInfo info;
    // "running" when the thread is on a CPU; "-1 SP PC" when it is blocked outside a syscall
    // (a page fault, a ptrace stop); otherwise "NR ARG0..ARG5 SP PC" with hex arguments.
    if (std::strncmp(buffer, "running", 7) == 0)
        return info;
    char* cursor = buffer;
    info.number = std::strtol(cursor, &cursor, 10);
    if (info.number < 0) {
        info.number = -1;
        return info;
    }
    for (auto& arg : info.args)
        arg = std::strtoull(cursor, &cursor, 16);
    return info;
}

std::string read_wchan(pid_t pid, pid_t tid) {
    char buffer[128];
    ssize_t length = read_task_file(pid, tid, "wchan", buffer, sizeof buffer);
    if (length <= 0)
        return {};
    return std::string(buffer, static_cast<std::size_t>(length));
}

std::string read_exe(pid_t pid) {
    char path[64];
    char target[4096];
    std::snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t length = ::readlink(path, target, sizeof target);
    if (length <= 0)
        return {};
    return std::string(target, static_cast<std::size_t>(length));
}

std::string read_command_line(pid_t pid, std::size_t max_length) {
    char path[64];
    char buffer[4096];
    std::snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    ssize_t length = read_small_file(path, buffer, sizeof buffer);
    if (length <= 0)
        return {};
    std::string command(buffer, static_cast<std::size_t>(length));
    while (!command.empty() && command.back() == '\0')
        command.pop_back();
    for (char& c : command)
        if (c == '\0' || c == '\n')
            c = ' ';
    if (command.size() > max_length) {
        command.resize(max_length);
        command += "...";
    }
    return command;
}

std::optional<std::vector<pid_t>> read_nspid(pid_t pid, pid_t tid) {
    std::vector<pid_t> result;
    char buffer[4096];
    if (read_task_file(pid, tid, "status", buffer, sizeof buffer) <= 0)
        return std::nullopt;

    const char* line = std::strstr(buffer, "\nNSpid:");
    if (!line)
        return result; // kernels before 4.1 have no NSpid line
    char* cursor = const_cast<char*>(line) + std::strlen("\nNSpid:");
    for (;;) {
        while (*cursor == ' ' || *cursor == '\t')
            ++cursor;
        if (*cursor < '0' || *cursor > '9')
            break;
        result.push_back(static_cast<pid_t>(std::strtol(cursor, &cursor, 10)));
    }
    if (std::find(result.begin(), result.end(), 0) != result.end())
        return std::nullopt;
    return result;
}

//-----------------------------------------------------------------------------
// [SECTION] File descriptors
//-----------------------------------------------------------------------------

std::string read_fd_target(pid_t pid, int fd) {
    char path[64];
    char target[256];
    std::snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
    ssize_t length = ::readlink(path, target, sizeof target);
    if (length <= 0)
        return {};
    return std::string(target, static_cast<std::size_t>(length));
}

bool read_fd_file(pid_t pid, int fd, std::uint64_t& inode, std::string& device) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
    struct stat st {};
    if (::stat(path, &st) != 0)
        return false; // follows the link to the file itself
    inode = st.st_ino;
    char text[32];
    std::snprintf(text, sizeof text, "%02x:%02x", major(st.st_dev), minor(st.st_dev));
    device = text;
    return true;
}

std::optional<bool> fd_is_writable(pid_t pid, int fd) {
    char path[64];
    char buffer[1024];
    std::snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", pid, fd);
    if (read_small_file(path, buffer, sizeof buffer) <= 0)
        return std::nullopt;
    const char* flags = std::strstr(buffer, "flags:");
    if (!flags)
        return std::nullopt;
    unsigned long value = std::strtoul(flags + std::strlen("flags:"), nullptr, 8);
    unsigned long access = value & O_ACCMODE;
    return access == O_WRONLY || access == O_RDWR;
}

std::vector<OpenChannelEnd> read_channel_ends(pid_t pid) {
    std::vector<OpenChannelEnd> result;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/fd", pid);
    for (int fd : numbered_entries(path)) {
        std::string target = read_fd_target(pid, fd);
        bool is_pipe = target.starts_with("pipe:");
        bool is_socket = target.starts_with("socket:");
        if (!is_pipe && !is_socket)
            continue;
        // A socket is bidirectional whatever its open flags say; a pipe end has one direction.
        bool writable = is_socket || fd_is_writable(pid, fd).value_or(false);
        result.push_back({fd, std::move(target), writable});
    }
    std::sort(result.begin(), result.end(),
              [](const OpenChannelEnd& a, const OpenChannelEnd& b) { return a.fd < b.fd; });
    return result;
}

std::optional<std::vector<int>> read_epoll_interest_list(pid_t pid, int epoll_fd) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", pid, epoll_fd);
    std::string info = read_whole_file(path);
    if (info.empty())
        return std::nullopt;
    std::vector<int> fds;
    for (std::size_t at = info.find("tfd:"); at != std::string::npos;
         at = info.find("tfd:", at + 4))
        fds.push_back(static_cast<int>(std::strtol(info.c_str() + at + 4, nullptr, 10)));
    return fds;
}

//-----------------------------------------------------------------------------
// [SECTION] Timers and CPU time
//-----------------------------------------------------------------------------

bool has_armed_timerfd(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/fd", pid);
    char buffer[1024];
    for (int fd : numbered_entries(path)) {
        if (read_fd_target(pid, fd) != "anon_inode:[timerfd]")
            continue;
        std::snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", pid, fd);
        if (read_small_file(path, buffer, sizeof buffer) <= 0)
            continue;
        // Expirations not yet read ("ticks: N") wake a poll at once; otherwise "it_value" is the
        // time left, "(0, 0)" when disarmed (and for an interval timer that has just fired).
        if (const char* ticks = std::strstr(buffer, "ticks: ");
            ticks && std::strtoul(ticks + std::strlen("ticks: "), nullptr, 10) > 0) {
            return true;
        }
        const char* value = std::strstr(buffer, "it_value: (");
        if (!value)
            continue;
        char* cursor = const_cast<char*>(value) + std::strlen("it_value: (");
        long seconds = std::strtol(cursor, &cursor, 10);
        if (*cursor == ',')
            ++cursor;
        long nanoseconds = std::strtol(cursor, nullptr, 10);
        if (seconds != 0 || nanoseconds != 0) {
            return true;
        }
    }
    return false;
}

std::optional<RunStats> read_schedstat(pid_t pid, pid_t tid) {
    char buffer[128];
    if (read_task_file(pid, tid, "schedstat", buffer, sizeof buffer) <= 0)
        return std::nullopt;
    RunStats stats;
    char* cursor = buffer;
    stats.run_ns = std::strtoull(cursor, &cursor, 10);
    std::strtoull(cursor, &cursor, 10); // time spent waiting on a run queue: not needed
    stats.slices = std::strtoull(cursor, nullptr, 10);
    return stats;
}

namespace {

// A "SigBlk:\t0000000000002000" line of a status file, as a mask (bit n-1 for signal n).
std::uint64_t signal_mask(const char* status, const char* key) {
    const char* line = std::strstr(status, key);
    return line ? std::strtoull(line + std::strlen(key), nullptr, 16) : 0;
}

} // namespace

bool timer_may_signal(pid_t pid, pid_t tid) {
    char path[64];
    char buffer[4096];
    // POSIX timers are listed; alarm() and setitimer() are not shown anywhere in /proc.
    std::snprintf(path, sizeof path, "/proc/%d/timers", pid);
    if (read_small_file(path, buffer, sizeof buffer) > 0)
        return true;
    if (read_task_file(pid, tid, "status", buffer, sizeof buffer) <= 0)
        return true; // unknown: assume it may
    // A process that catches SIGALRM, SIGVTALRM or SIGPROF, or blocks one to wait for it, is
    // one that arms the timers nobody can see; one that does neither would die of them.
    constexpr std::uint64_t timer_signals =
        (1ULL << (14 - 1)) | (1ULL << (26 - 1)) | (1ULL << (27 - 1));
    std::uint64_t expected = signal_mask(buffer, "SigCgt:") | signal_mask(buffer, "SigBlk:");
    return (expected & timer_signals) != 0;
}

//-----------------------------------------------------------------------------
// [SECTION] Shared memory mappings
//-----------------------------------------------------------------------------

namespace {

// One line of /proc/PID/maps: "start-end perms offset dev inode path".
struct Mapping {
    std::uint64_t start = 0, end = 0;
    bool shared = false;
    std::string device;
    std::uint64_t inode = 0;
};

std::vector<Mapping> read_maps(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/maps", pid);
    std::vector<Mapping> mappings;
    std::string content = read_whole_file(path);
    std::size_t at = 0;
    while (at < content.size()) {
        std::size_t end_of_line = content.find('\n', at);
        if (end_of_line == std::string::npos)
            end_of_line = content.size();
        std::string_view line(content.data() + at, end_of_line - at);
        at = end_of_line + 1;
        std::string_view fields[6];
        if (split_fields(line, fields, 6) < 6)
            continue;
        Mapping mapping;
        char* cursor = nullptr;
        std::string range(fields[0]);
        mapping.start = std::strtoull(range.c_str(), &cursor, 16);
        mapping.end = std::strtoull(cursor + 1, nullptr, 16);
        mapping.shared = fields[1].size() >= 4 && fields[1][3] == 's';
        mapping.device = std::string(fields[3]);
        mapping.inode = std::strtoull(std::string(fields[4]).c_str(), nullptr, 10);
        mappings.push_back(std::move(mapping));
    }
    return mappings;
}

} // namespace

std::vector<pid_t> futex_sharers(pid_t pid, std::uint64_t address,
                                 const std::vector<pid_t>& candidates) {
    std::vector<Mapping> own = read_maps(pid);
    auto holder = std::find_if(own.begin(), own.end(), [&](const Mapping& m) {
        return m.start <= address && address < m.end;
    });
    // Private memory (copied at fork, not shared): the kernel keys its futexes by address space.
    if (holder == own.end() || !holder->shared)
        return {pid};
    std::vector<pid_t> sharers;
    for (pid_t candidate : candidates) {
        std::vector<Mapping> theirs = candidate == pid ? own : read_maps(candidate);
        bool maps_it = std::any_of(theirs.begin(), theirs.end(), [&](const Mapping& m) {
            return m.shared && m.inode == holder->inode && m.device == holder->device;
        });
        if (maps_it)
            sharers.push_back(candidate);
    }
    return sharers;
}

//-----------------------------------------------------------------------------
// [SECTION] File locks
//-----------------------------------------------------------------------------

namespace {

// Lines look like
//   "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"
//   "1: -> FLOCK  ADVISORY  WRITE 1235 08:01:5678 0 EOF"   (a blocked request)
//   "2: OFDLCK ADVISORY  READ  -1 00:1a:42 0 EOF"           (OFD locks belong to no pid)
// and in /proc/PID/fdinfo/FD the same after "lock:\t". Waiters of waiters get more indentation
// before "->"; splitting on blanks absorbs it. Lines without `prefix` are skipped.
std::vector<FileLockEntry> parse_file_locks(std::string_view content, std::string_view prefix) {
    std::vector<FileLockEntry> result;
    std::string_view rest = content;
    while (!rest.empty()) {
        std::size_t newline = rest.find('\n');
        std::string_view line = rest.substr(0, newline);
        rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
        if (line.substr(0, prefix.size()) != prefix)
            continue;
        line.remove_prefix(prefix.size());

        std::string_view fields[9];
        std::size_t count = split_fields(line, fields, std::size(fields));
        FileLockEntry entry;
        std::size_t i = 0;
        if (count < 1)
            continue;
        entry.id = static_cast<int>(to_int(fields[i++])); // "1:" parses as 1
        if (i < count && fields[i] == "->") {
            entry.waiting = true;
            ++i;
        }
        if (count < i + 7)
            continue; // type, class, mode, pid, dev:inode, start, end
        entry.type.assign(fields[i]);
        entry.write = fields[i + 2] == "WRITE";
        entry.pid = static_cast<pid_t>(to_int(fields[i + 3]));
        // "MAJ:MIN:INODE": hex major and minor, decimal inode ("<none>:0" without an inode).
        std::string_view device_inode = fields[i + 4];
        std::size_t last_colon = device_inode.rfind(':');
        if (last_colon != std::string_view::npos) {
            entry.device.assign(device_inode.substr(0, last_colon));
            entry.inode = static_cast<std::uint64_t>(to_int(device_inode.substr(last_colon + 1)));
        }
        entry.start.assign(fields[i + 5]);
        entry.end.assign(fields[i + 6]);
        result.push_back(std::move(entry));
    }
    return result;
}

} // namespace

std::vector<FileLockEntry> read_file_locks() {
    return parse_file_locks(read_whole_file("/proc/locks"), "");
}

std::vector<FileLockEntry> read_fd_locks(pid_t pid) {
    std::vector<FileLockEntry> result;
    std::string directory = "/proc/" + std::to_string(pid) + "/fdinfo";
    for (int fd : numbered_entries(directory.c_str())) {
        std::string path = directory + "/" + std::to_string(fd);
        for (auto& lock : parse_file_locks(read_whole_file(path.c_str()), "lock:\t")) {
            // A lock shows here because this process has an fd on the open file description
            // that holds it (flock, OFD) or owns it (fcntl): the process is a holder, whatever
            // pid the line says (-1 for OFD, the first taker for flock).
            lock.pid = pid;
            lock.fd = fd;
            result.push_back(std::move(lock));
        }
    }
    return result;
}

} // namespace forklore::procfs
