// Readers of /proc. These run every few milliseconds for every thread of a sandbox, so they use
// open/read into stack buffers and hand-written parsing: no iostreams, no regex, few allocations.
#include "sim/observe/procfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <unordered_map>

namespace forklore::procfs {
namespace {

// x86_64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
namespace nr {
constexpr long read = 0, write = 1, poll = 7, pread64 = 17, readv = 19, writev = 20, select = 23;
constexpr long pause = 34, nanosleep = 35, accept = 43, sendto = 44, recvfrom = 45, sendmsg = 46;
constexpr long recvmsg = 47, wait4 = 61, fcntl = 72, flock = 73, rt_sigtimedwait = 128;
constexpr long rt_sigsuspend = 130, futex = 202, clock_nanosleep = 230, epoll_wait = 232;
constexpr long waitid = 247, pselect6 = 270, ppoll = 271, epoll_pwait = 281, accept4 = 288;
constexpr long epoll_pwait2 = 441, futex_waitv = 449;
} // namespace nr

// Reads a small /proc file whole into `buffer` (NUL-terminated). Returns the length, or -1 when
// the file cannot be opened or read (the process or thread is gone, most of the time).
// The files read here are seq_files: a read() fills the buffer as far as the content goes, so a
// short read is the end and saves the extra read() that would return 0 (a few us each).
ssize_t read_small_file(const char* path, char* buffer, std::size_t capacity) {
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    std::size_t length = 0;
    while (length + 1 < capacity) {
        std::size_t wanted = capacity - 1 - length;
        ssize_t n = ::read(fd, buffer + length, wanted);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            ::close(fd);
            return -1;
        }
        length += static_cast<std::size_t>(n);
        if (static_cast<std::size_t>(n) < wanted) break;
    }
    ::close(fd);
    buffer[length] = '\0';
    return static_cast<ssize_t>(length);
}

// Reads a /proc file of any size (like /proc/locks) into a string; empty when unreadable.
std::string read_whole_file(const char* path) {
    std::string content;
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return content;
    char chunk[4096];
    for (;;) {
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        content.append(chunk, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return content;
}

void task_path(char* out, std::size_t size, pid_t pid, pid_t tid, const char* file) {
    std::snprintf(out, size, "/proc/%d/task/%d/%s", pid, tid, file);
}

// A /proc directory entry named by a number (a pid, a tid or an fd).
bool parse_number(const char* text, int& out) {
    if (*text < '0' || *text > '9') return false;
    char* end = nullptr;
    long value = std::strtol(text, &end, 10);
    if (*end != '\0') return false;
    out = static_cast<int>(value);
    return true;
}

// Splits `text` on spaces and tabs; stops after `max_fields`.
std::size_t split_fields(std::string_view text, std::string_view* fields, std::size_t max_fields) {
    std::size_t count = 0, i = 0;
    while (count < max_fields) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
        if (i >= text.size()) break;
        std::size_t start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n') ++i;
        fields[count++] = text.substr(start, i - start);
    }
    return count;
}

std::int64_t to_int(std::string_view field) {
    char buffer[32];
    std::size_t n = std::min(field.size(), sizeof buffer - 1);
    std::memcpy(buffer, field.data(), n);
    buffer[n] = '\0';
    return std::strtoll(buffer, nullptr, 10);
}

// The comm of a stat line sits in parentheses and may itself contain spaces and ')': it ends at
// the LAST ')' of the line. Returns the text after it (starting at the state field) and the comm.
bool split_stat_line(std::string_view line, std::string_view& comm, std::string_view& rest) {
    std::size_t open = line.find('(');
    std::size_t close = line.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open)
        return false;
    comm = line.substr(open + 1, close - open - 1);
    rest = line.substr(close + 1);
    return true;
}

} // namespace

std::vector<PidParent> list_processes() {
    std::vector<PidParent> result;
    DIR* proc = ::opendir("/proc");
    if (!proc) return result;
    char path[64];
    char buffer[1024];
    while (dirent* entry = ::readdir(proc)) {
        pid_t pid = 0;
        if (!parse_number(entry->d_name, pid)) continue;
        std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
        ssize_t length = read_small_file(path, buffer, sizeof buffer);
        if (length <= 0) continue; // exited between readdir and open
        std::string_view comm, rest;
        if (!split_stat_line({buffer, static_cast<std::size_t>(length)}, comm, rest)) continue;
        std::string_view fields[2]; // state, ppid
        if (split_fields(rest, fields, 2) < 2) continue;
        result.push_back({pid, static_cast<pid_t>(to_int(fields[1]))});
    }
    ::closedir(proc);
    return result;
}

std::vector<pid_t> descendants_of(pid_t root, const std::vector<PidParent>& all) {
    std::unordered_multimap<pid_t, pid_t> children_of;
    children_of.reserve(all.size());
    for (const auto& entry : all) children_of.emplace(entry.ppid, entry.pid);

    std::vector<pid_t> result{root};
    for (std::size_t next = 0; next < result.size(); ++next) {
        auto [first, last] = children_of.equal_range(result[next]);
        for (auto it = first; it != last; ++it) result.push_back(it->second);
    }
    return result;
}

std::vector<pid_t> list_threads(pid_t pid) {
    std::vector<pid_t> result;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR* tasks = ::opendir(path);
    if (!tasks) return result;
    while (dirent* entry = ::readdir(tasks)) {
        pid_t tid = 0;
        if (parse_number(entry->d_name, tid)) result.push_back(tid);
    }
    ::closedir(tasks);
    std::sort(result.begin(), result.end());
    return result;
}

std::optional<std::vector<pid_t>> read_children(pid_t pid, pid_t tid) {
    char path[96];
    char buffer[4096]; // ~500 children; a sandbox has far fewer (RLIMIT_NPROC)
    task_path(path, sizeof path, pid, tid, "children");
    // One read() returns the whole list at once: the file is only inconsistent across reads.
    if (read_small_file(path, buffer, sizeof buffer) < 0) return std::nullopt;
    std::vector<pid_t> children;
    for (char* cursor = buffer; *cursor;) {
        char* end = nullptr;
        long child = std::strtol(cursor, &end, 10);
        if (end == cursor) break;
        children.push_back(static_cast<pid_t>(child));
        cursor = end;
    }
    return children;
}

std::optional<TaskStat> read_task_stat(pid_t pid, pid_t tid) {
    char path[96];
    char buffer[1024];
    task_path(path, sizeof path, pid, tid, "stat");
    ssize_t length = read_small_file(path, buffer, sizeof buffer);
    if (length <= 0) return std::nullopt;

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
    if (count <= start_time_field - first_field) return std::nullopt;

    TaskStat stat;
    stat.state = fields[0].empty() ? '?' : fields[0][0];
    stat.comm.assign(comm);
    stat.ppid = static_cast<pid_t>(to_int(fields[ppid_field - first_field]));
    stat.utime = static_cast<std::uint64_t>(to_int(fields[utime_field - first_field]));
    stat.stime = static_cast<std::uint64_t>(to_int(fields[stime_field - first_field]));
    stat.start_time = static_cast<std::uint64_t>(to_int(fields[start_time_field - first_field]));
    if (count > start_stack_field - first_field)
        stat.start_stack = static_cast<std::uint64_t>(to_int(fields[start_stack_field - first_field]));
    if (count > exit_code_field - first_field)
        stat.exit_code = static_cast<int>(to_int(fields[exit_code_field - first_field]));
    return stat;
}

std::optional<SyscallInfo> read_syscall(pid_t pid, pid_t tid) {
    char path[96];
    char buffer[256];
    task_path(path, sizeof path, pid, tid, "syscall");
    ssize_t length = read_small_file(path, buffer, sizeof buffer);
    if (length <= 0) return std::nullopt;

    SyscallInfo info;
    // "running" when the thread is on a CPU; "-1 SP PC" when it is blocked outside a syscall
    // (a page fault, a ptrace stop); otherwise "NR ARG0..ARG5 SP PC" with hex arguments.
    if (std::strncmp(buffer, "running", 7) == 0) return info;
    char* cursor = buffer;
    info.number = std::strtol(cursor, &cursor, 10);
    if (info.number < 0) {
        info.number = -1;
        return info;
    }
    for (auto& arg : info.args) arg = std::strtoull(cursor, &cursor, 16);
    return info;
}

std::string read_wchan(pid_t pid, pid_t tid) {
    char path[96];
    char buffer[128];
    task_path(path, sizeof path, pid, tid, "wchan");
    ssize_t length = read_small_file(path, buffer, sizeof buffer);
    if (length <= 0) return {};
    return std::string(buffer, static_cast<std::size_t>(length));
}

std::string read_exe(pid_t pid) {
    char path[64];
    char target[4096];
    std::snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t length = ::readlink(path, target, sizeof target);
    if (length <= 0) return {};
    return std::string(target, static_cast<std::size_t>(length));
}

std::string read_command_line(pid_t pid, std::size_t max_length) {
    char path[64];
    char buffer[4096];
    std::snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    ssize_t length = read_small_file(path, buffer, sizeof buffer);
    if (length <= 0) return {};
    std::string command(buffer, static_cast<std::size_t>(length));
    while (!command.empty() && command.back() == '\0') command.pop_back();
    for (char& c : command)
        if (c == '\0' || c == '\n') c = ' ';
    if (command.size() > max_length) {
        command.resize(max_length);
        command += "...";
    }
    return command;
}

std::vector<pid_t> read_nspid(pid_t pid, pid_t tid) {
    std::vector<pid_t> result;
    char path[96];
    char buffer[4096];
    task_path(path, sizeof path, pid, tid, "status");
    if (read_small_file(path, buffer, sizeof buffer) <= 0) return result;

    const char* line = std::strstr(buffer, "\nNSpid:");
    if (!line) return result; // kernels before 4.1 have no NSpid line
    char* cursor = const_cast<char*>(line) + std::strlen("\nNSpid:");
    for (;;) {
        while (*cursor == ' ' || *cursor == '\t') ++cursor;
        if (*cursor < '0' || *cursor > '9') break;
        result.push_back(static_cast<pid_t>(std::strtol(cursor, &cursor, 10)));
    }
    return result;
}

std::string read_fd_target(pid_t pid, int fd) {
    char path[64];
    char target[256];
    std::snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
    ssize_t length = ::readlink(path, target, sizeof target);
    if (length <= 0) return {};
    return std::string(target, static_cast<std::size_t>(length));
}

bool read_fd_file(pid_t pid, int fd, std::uint64_t& inode, std::string& device) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
    struct stat st {};
    if (::stat(path, &st) != 0) return false; // follows the link to the file itself
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
    if (read_small_file(path, buffer, sizeof buffer) <= 0) return std::nullopt;
    const char* flags = std::strstr(buffer, "flags:");
    if (!flags) return std::nullopt;
    unsigned long value = std::strtoul(flags + std::strlen("flags:"), nullptr, 8);
    unsigned long access = value & O_ACCMODE;
    return access == O_WRONLY || access == O_RDWR;
}

std::vector<OpenChannelEnd> read_channel_ends(pid_t pid) {
    std::vector<OpenChannelEnd> result;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/fd", pid);
    DIR* fds = ::opendir(path);
    if (!fds) return result;
    while (dirent* entry = ::readdir(fds)) {
        int fd = 0;
        if (!parse_number(entry->d_name, fd)) continue;
        std::string target = read_fd_target(pid, fd);
        bool is_pipe = target.starts_with("pipe:");
        bool is_socket = target.starts_with("socket:");
        if (!is_pipe && !is_socket) continue;
        // A socket is bidirectional whatever its open flags say; a pipe end has one direction.
        bool writable = is_socket || fd_is_writable(pid, fd).value_or(false);
        result.push_back({fd, std::move(target), writable});
    }
    ::closedir(fds);
    std::sort(result.begin(), result.end(),
              [](const OpenChannelEnd& a, const OpenChannelEnd& b) { return a.fd < b.fd; });
    return result;
}

bool has_armed_timerfd(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/fd", pid);
    DIR* fds = ::opendir(path);
    if (!fds) return false;
    bool armed = false;
    char buffer[1024];
    while (dirent* entry = ::readdir(fds)) {
        int fd = 0;
        if (!parse_number(entry->d_name, fd)) continue;
        if (read_fd_target(pid, fd) != "anon_inode:[timerfd]") continue;
        std::snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", pid, fd);
        if (read_small_file(path, buffer, sizeof buffer) <= 0) continue;
        // Expirations not yet read ("ticks: N") wake a poll at once; otherwise "it_value" is the
        // time left, "(0, 0)" when disarmed (and for an interval timer that has just fired).
        if (const char* ticks = std::strstr(buffer, "ticks: ");
            ticks && std::strtoul(ticks + std::strlen("ticks: "), nullptr, 10) > 0) {
            armed = true;
            break;
        }
        const char* value = std::strstr(buffer, "it_value: (");
        if (!value) continue;
        char* cursor = const_cast<char*>(value) + std::strlen("it_value: (");
        long seconds = std::strtol(cursor, &cursor, 10);
        if (*cursor == ',') ++cursor;
        long nanoseconds = std::strtol(cursor, nullptr, 10);
        if (seconds != 0 || nanoseconds != 0) {
            armed = true;
            break;
        }
    }
    ::closedir(fds);
    return armed;
}


std::optional<RunStats> read_schedstat(pid_t pid, pid_t tid) {
    char path[64];
    char buffer[128];
    task_path(path, sizeof path, pid, tid, "schedstat");
    if (read_small_file(path, buffer, sizeof buffer) <= 0) return std::nullopt;
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
    if (read_small_file(path, buffer, sizeof buffer) > 0) return true;
    task_path(path, sizeof path, pid, tid, "status");
    if (read_small_file(path, buffer, sizeof buffer) <= 0) return true; // unknown: assume it may
    // A process that catches SIGALRM, SIGVTALRM or SIGPROF, or blocks one to wait for it, is
    // one that arms the timers nobody can see; one that does neither would die of them.
    constexpr std::uint64_t timer_signals = (1ULL << (14 - 1)) | (1ULL << (26 - 1)) |
                                            (1ULL << (27 - 1));
    std::uint64_t expected = signal_mask(buffer, "SigCgt:") | signal_mask(buffer, "SigBlk:");
    return (expected & timer_signals) != 0;
}

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
        if (end_of_line == std::string::npos) end_of_line = content.size();
        std::string_view line(content.data() + at, end_of_line - at);
        at = end_of_line + 1;
        std::string_view fields[6];
        if (split_fields(line, fields, 6) < 6) continue;
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
    if (holder == own.end() || !holder->shared) return {pid};
    std::vector<pid_t> sharers;
    for (pid_t candidate : candidates) {
        std::vector<Mapping> theirs = candidate == pid ? own : read_maps(candidate);
        bool maps_it = std::any_of(theirs.begin(), theirs.end(), [&](const Mapping& m) {
            return m.shared && m.inode == holder->inode && m.device == holder->device;
        });
        if (maps_it) sharers.push_back(candidate);
    }
    return sharers;
}

std::optional<std::vector<int>> read_watched_fds(pid_t pid, const ThreadSnapshot& thread) {
    constexpr std::size_t max_fds = 1024;
    const auto& args = thread.syscall_args;
    std::vector<int> fds;
    switch (thread.syscall) {
    case nr::poll:
    case nr::ppoll: { // an array of struct pollfd {int fd; short events, revents;}
        std::size_t count = std::min<std::size_t>(args[1], max_fds);
        std::vector<std::int32_t> words(count * 2);
        if (count && !read_memory(pid, args[0], words.data(), words.size() * 4))
            return std::nullopt;
        for (std::size_t i = 0; i < count; ++i)
            if (words[i * 2] >= 0) fds.push_back(words[i * 2]);
        return fds;
    }
    case nr::select:
    case nr::pselect6: { // read, write and except fd_sets of nfds bits
        std::size_t count = std::min<std::size_t>(args[0], max_fds);
        std::vector<std::uint64_t> bits((count + 63) / 64);
        for (int set = 1; set <= 3; ++set) {
            if (args[set] == 0 || bits.empty()) continue;
            if (!read_memory(pid, args[set], bits.data(), bits.size() * 8)) return std::nullopt;
            for (std::size_t fd = 0; fd < count; ++fd)
                if (bits[fd / 64] & (1ULL << (fd % 64))) fds.push_back(static_cast<int>(fd));
        }
        return fds;
    }
    case nr::epoll_wait:
    case nr::epoll_pwait:
    case nr::epoll_pwait2: { // the interest list is in the epoll fd's fdinfo ("tfd: N ...")
        char path[64];
        std::snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", pid, static_cast<int>(args[0]));
        std::string info = read_whole_file(path);
        if (info.empty()) return std::nullopt;
        for (std::size_t at = info.find("tfd:"); at != std::string::npos;
             at = info.find("tfd:", at + 4))
            fds.push_back(static_cast<int>(std::strtol(info.c_str() + at + 4, nullptr, 10)));
        return fds;
    }
    default:
        return std::nullopt;
    }
}

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
        if (line.substr(0, prefix.size()) != prefix) continue;
        line.remove_prefix(prefix.size());

        std::string_view fields[9];
        std::size_t count = split_fields(line, fields, std::size(fields));
        FileLockEntry entry;
        std::size_t i = 0;
        if (count < 1) continue;
        entry.id = static_cast<int>(to_int(fields[i++])); // "1:" parses as 1
        if (i < count && fields[i] == "->") {
            entry.waiting = true;
            ++i;
        }
        if (count < i + 7) continue; // type, class, mode, pid, dev:inode, start, end
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
    DIR* dir = opendir(directory.c_str());
    if (!dir) return result;
    while (dirent* entry = readdir(dir)) {
        if (entry->d_name[0] == '.') continue;
        std::string path = directory + "/" + entry->d_name;
        for (auto& lock : parse_file_locks(read_whole_file(path.c_str()), "lock:\t")) {
            // A lock shows here because this process has an fd on the open file description
            // that holds it (flock, OFD) or owns it (fcntl): the process is a holder, whatever
            // pid the line says (-1 for OFD, the first taker for flock).
            lock.pid = pid;
            lock.fd = std::atoi(entry->d_name);
            result.push_back(std::move(lock));
        }
    }
    closedir(dir);
    return result;
}

bool read_memory(pid_t pid, std::uint64_t address, void* out, std::size_t size) {
    iovec local{out, size};
    iovec remote{reinterpret_cast<void*>(address), size};
    return ::process_vm_readv(pid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(size);
}

std::optional<pid_t> read_mutex_owner(pid_t pid, std::uint64_t address) {
    // glibc x86_64 pthread_mutex_t begins {int __lock; unsigned __count; int __owner;
    // unsigned __nusers; int __kind; ...}: the futex word a waiter sleeps on is __lock (offset 0)
    // and __owner (offset 8) is the tid of the holder as seen in the holder's PID namespace.
    struct MutexHead {
        int lock;
        unsigned count;
        int owner;
        unsigned nusers;
        int kind;
    } head{};
    static_assert(offsetof(MutexHead, owner) == 8 && offsetof(MutexHead, kind) == 16);
    if (!read_memory(pid, address, &head, sizeof head)) return std::nullopt;
    // Many futex words are not mutexes (pthread_join waits on the thread's tid word, condition
    // variables and semaphores have counters): reading "owner" there gives garbage. Accept the
    // word only when it looks like a locked glibc mutex: a known kind (type bits, robust 16,
    // PI 32, protect 64, pshared 128, elision 256/512), a plausible owner and user count, and a
    // lock word of 1 or 2 (normal mutexes) or the owner's tid (robust and PI mutexes).
    constexpr int kKnownKindBits = 0x3 | 0x10 | 0x20 | 0x40 | 0x80 | 0x100 | 0x200;
    if (head.owner <= 0 || (head.kind & ~kKnownKindBits) != 0) return std::nullopt;
    if (head.nusers == 0 || head.nusers > (1u << 20)) return std::nullopt;
    const bool robust_or_pi = (head.kind & (0x10 | 0x20)) != 0;
    const int lock_owner_bits = head.lock & 0x3fffffff; // FUTEX_TID_MASK
    if (robust_or_pi ? lock_owner_bits != head.owner : (head.lock != 1 && head.lock != 2))
        return std::nullopt;
    return head.owner;
}

std::optional<pid_t> read_rwlock_writer(pid_t pid, std::uint64_t futex_address) {
    // glibc x86_64 pthread_rwlock_t (__pthread_rwlock_arch_t), 56 bytes.
    struct RwlockWords {
        unsigned readers;       // state bits and reader count
        unsigned writers;
        unsigned wrphase_futex; // readers wait here
        unsigned writers_futex; // writers wait here
        unsigned pad3, pad4;
        int cur_writer;         // the writer's tid while write-locked
        int shared;
        signed char elision;
        unsigned char pad1[7];
        unsigned long pad2;
        unsigned flags;
    };
    static_assert(offsetof(RwlockWords, cur_writer) == 24 && offsetof(RwlockWords, flags) == 48);
    constexpr unsigned kWriteLocked = 2; // PTHREAD_RWLOCK_WRLOCKED
    for (std::uint64_t offset : {offsetof(RwlockWords, writers_futex),
                                 offsetof(RwlockWords, wrphase_futex)}) {
        if (futex_address < offset) continue;
        RwlockWords words{};
        if (!read_memory(pid, futex_address - offset, &words, sizeof words)) continue;
        // Accept only what an initialised, write-locked glibc rwlock looks like: the padding
        // glibc zeroes is zero, flags and shared are small, and a writer is named.
        bool padding_clear = words.pad3 == 0 && words.pad4 == 0 && words.pad2 == 0 &&
                             std::all_of(std::begin(words.pad1), std::end(words.pad1),
                                         [](unsigned char byte) { return byte == 0; });
        bool plausible = padding_clear && words.flags <= 2 && (words.shared == 0 ||
                         words.shared == 1) && (words.readers & kWriteLocked) != 0 &&
                         words.cur_writer > 0;
        if (plausible) return words.cur_writer;
    }
    return std::nullopt;
}

namespace {


// futex(2) operations (linux/futex.h). The low 7 bits are the command; FUTEX_PRIVATE_FLAG (128)
// and FUTEX_CLOCK_REALTIME (256) are modifiers.
constexpr std::uint64_t futex_command_mask = 0x7f, futex_private_flag = 128;
constexpr std::uint64_t futex_wait = 0, futex_lock_pi = 6, futex_wait_bitset = 9;
constexpr std::uint64_t futex_wait_requeue_pi = 11, futex_lock_pi2 = 13;

constexpr std::uint64_t lock_nb = 4;                      // flock(2) LOCK_NB
constexpr std::uint64_t f_setlkw = 7, f_ofd_setlkw = 38;  // fcntl(2) blocking lock commands
constexpr std::uint64_t wnohang = 1;                      // wait4/waitid WNOHANG
constexpr std::uint64_t p_pid = 1;                        // waitid idtype P_PID

bool is_channel(std::string_view target) {
    return target.starts_with("pipe:") || target.starts_with("socket:");
}

// Fills fd and fd_target from a syscall's fd argument; the target only when the pid is known.
void note_fd(ThreadSnapshot& thread, pid_t pid, std::uint64_t fd_argument) {
    thread.fd = static_cast<int>(fd_argument);
    if (pid != 0) thread.fd_target = read_fd_target(pid, thread.fd);
}

void classify_futex(ThreadSnapshot& thread) {
    const auto& args = thread.syscall_args;
    switch (args[1] & futex_command_mask) {
    case futex_wait:
    case futex_wait_bitset:
    case futex_lock_pi:
    case futex_lock_pi2:
    case futex_wait_requeue_pi:
        thread.wait = WaitKind::futex;
        thread.futex_address = args[0];
        thread.untimed = args[3] == 0; // the timeout pointer (an absolute time for LOCK_PI)
        thread.futex_private = (args[1] & futex_private_flag) != 0;
        return;
    default:
        thread.wait = WaitKind::other; // wake, requeue...: never a lasting block
        return;
    }
}

// A read or write on an fd is a proven block only on a pipe or a socket: those wait for another
// party. A regular file, a tty or a device read is not evidence of a hang.
void classify_channel_io(ThreadSnapshot& thread, pid_t pid) {
    note_fd(thread, pid, thread.syscall_args[0]);
    if (is_channel(thread.fd_target)) {
        thread.wait = WaitKind::pipe;
        // A socket with SO_RCVTIMEO/SO_SNDTIMEO would wake up on its own; the syscall arguments do
        // not show it. An accepted imprecision: the scenarios do not set socket timeouts.
        thread.untimed = true;
    } else {
        thread.wait = WaitKind::other;
    }
}

} // namespace

void classify_wait(ThreadSnapshot& thread, pid_t pid) {
    thread.wait = WaitKind::other;
    thread.untimed = false;
    thread.futex_address = 0;
    thread.fd = -1;
    thread.fd_target.clear();
    thread.waited_pid = 0;
    thread.futex_private = true;

    switch (thread.state) {
    case 'Z':
    case 'X':
        thread.wait = WaitKind::zombie;
        return;
    case 'T':
    case 't':
        thread.wait = WaitKind::stopped;
        return;
    case 'R':
        thread.wait = WaitKind::running;
        return;
    default:
        break;
    }
    if (thread.syscall == -1) {
        thread.wait = WaitKind::running;
        return;
    }

    const auto& args = thread.syscall_args;
    switch (thread.syscall) {
    case nr::futex:
        classify_futex(thread);
        return;
    case nr::futex_waitv:
        thread.wait = WaitKind::futex; // the futex addresses are in a user array, not read here
        thread.untimed = args[3] == 0;
        thread.futex_private = false;  // each entry has its own flags: assume the widest
        return;
    case nr::flock:
        thread.wait = WaitKind::file_lock;
        thread.untimed = (args[1] & lock_nb) == 0;
        note_fd(thread, pid, args[0]);
        return;
    case nr::fcntl:
        if (args[1] == f_setlkw || args[1] == f_ofd_setlkw) {
            thread.wait = WaitKind::file_lock;
            thread.untimed = true;
            note_fd(thread, pid, args[0]);
        }
        return;
    case nr::wait4:
        thread.wait = WaitKind::child;
        thread.untimed = (args[2] & wnohang) == 0;
        thread.waited_pid = static_cast<pid_t>(args[0]);
        return;
    case nr::waitid:
        thread.wait = WaitKind::child;
        thread.untimed = (args[3] & wnohang) == 0;
        thread.waited_pid = args[0] == p_pid ? static_cast<pid_t>(args[1]) : -1;
        return;
    case nr::read:
    case nr::readv:
    case nr::pread64:
    case nr::recvfrom:
    case nr::recvmsg:
    case nr::write: // a writer blocks on a full pipe until someone reads
    case nr::writev:
    case nr::sendto:
    case nr::sendmsg:
        classify_channel_io(thread, pid);
        return;
    case nr::accept:
    case nr::accept4:
        thread.wait = WaitKind::pipe;
        thread.untimed = true;
        note_fd(thread, pid, args[0]);
        return;
    case nr::poll:
        thread.wait = WaitKind::poll;
        thread.untimed = static_cast<int>(args[2]) < 0;
        return;
    case nr::ppoll:
        thread.wait = WaitKind::poll;
        thread.untimed = args[2] == 0; // NULL timespec
        return;
    case nr::select:
    case nr::pselect6:
        thread.wait = WaitKind::poll;
        thread.untimed = args[4] == 0; // NULL timeout
        return;
    case nr::epoll_wait:
    case nr::epoll_pwait:
        thread.wait = WaitKind::poll;
        thread.untimed = static_cast<int>(args[3]) < 0;
        return;
    case nr::epoll_pwait2:
        thread.wait = WaitKind::poll;
        thread.untimed = args[3] == 0; // NULL timespec
        return;
    case nr::nanosleep:
    case nr::clock_nanosleep:
        thread.wait = WaitKind::sleep;
        return;
    case nr::pause:
    case nr::rt_sigsuspend:
        thread.wait = WaitKind::signal;
        thread.untimed = true;
        return;
    case nr::rt_sigtimedwait: // sigwaitinfo is sigtimedwait with no timeout
        thread.wait = args[2] == 0 ? WaitKind::signal : WaitKind::sleep;
        thread.untimed = args[2] == 0;
        return;
    default:
        thread.wait = WaitKind::other;
        return;
    }
}

} // namespace forklore::procfs
