// Reading /proc files of live processes. Each reader returns what the kernel said, or nothing
// when the process or thread is gone (a race with exit is normal, never an error).
// Reading another process's memory is glibc_lock_words.hpp; what a syscall means as a wait is
// wait_classification.hpp.
#pragma once

#include "sim/observe/snapshot.hpp"

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace forklore::procfs {

// Every pid in /proc with its parent pid, in one pass.
struct PidParent {
    pid_t pid = 0;
    pid_t ppid = 0;
};
std::vector<PidParent> list_processes();

// The pid and every descendant of it (host pids), found from list_processes().
std::vector<pid_t> descendants_of(pid_t root, const std::vector<PidParent>& all);

std::vector<pid_t> list_threads(pid_t pid);

// /proc/PID/task/TID/children: the children forked by (or reparented to) that one thread.
// nullopt when unreadable: the thread is gone, or the kernel lacks CONFIG_PROC_CHILDREN.
std::optional<std::vector<pid_t>> read_children(pid_t pid, pid_t tid);

// The fields of /proc/PID/task/TID/stat forklore needs.
struct TaskStat {
    char state = '?';
    std::string comm;
    pid_t ppid = 0;
    std::uint64_t utime = 0, stime = 0;
    int exit_code = 0;            // field 52: the raw wait status of a zombie
    std::uint64_t start_time = 0; // field 22, in clock ticks after boot: tells a reused tid apart
    // Field 28, the address of the bottom of the stack: placed anew (randomised) by every
    // execve, so a change means the process exec'd. 0 when the kernel hides it from us.
    std::uint64_t start_stack = 0;
};
std::optional<TaskStat> read_task_stat(pid_t pid, pid_t tid);

// /proc/PID/task/TID/syscall: nullopt when unreadable; number -1 when "running".
struct SyscallInfo {
    long number = -1;
    std::array<std::uint64_t, 6> args{};
};
std::optional<SyscallInfo> read_syscall(pid_t pid, pid_t tid);

std::string read_wchan(pid_t pid, pid_t tid);

// readlink of /proc/PID/exe: the program the process runs; empty when gone (or a zombie).
std::string read_exe(pid_t pid);
// /proc/PID/cmdline with its NUL separators as spaces, cut at `max_length` characters (an
// ellipsis marks the cut); empty for a zombie or a kernel thread.
std::string read_command_line(pid_t pid, std::size_t max_length = 200);

// The NSpid line of /proc/PID/task/TID/status: the id in every nested PID namespace, outermost
// first. The last one is the id the thread sees itself as. Empty on a kernel with no NSpid line
// (before 4.1); nullopt when the thread is gone or going (its status unreadable, or ids of 0 as
// a task being reaped shows them): its stat, read a moment before, was its last.
std::optional<std::vector<pid_t>> read_nspid(pid_t pid, pid_t tid);

// readlink of /proc/PID/fd/FD ("pipe:[123]", "/tmp/x", "socket:[4]"); empty when gone.
std::string read_fd_target(pid_t pid, int fd);
// The inode and device ("08:01", hex, as /proc/locks writes them) of the file an fd refers to;
// false when it is gone.
bool read_fd_file(pid_t pid, int fd, std::uint64_t& inode, std::string& device);
// The access mode of an fd from /proc/PID/fdinfo/FD flags: true when it is open for writing.
std::optional<bool> fd_is_writable(pid_t pid, int fd);
// Every pipe and socket fd of the process.
std::vector<OpenChannelEnd> read_channel_ends(pid_t pid);

// True when the process holds a timerfd that is armed or has expirations not yet read (fdinfo
// "it_value", "ticks"): a poll or epoll wait with no timeout of its own may be waiting for it,
// so it is not proof of a hang.
bool has_armed_timerfd(pid_t pid);

// /proc/PID/task/TID/schedstat: time on a CPU and the number of times the thread was scheduled.
struct RunStats {
    std::uint64_t run_ns = 0;
    std::uint64_t slices = 0;
};
std::optional<RunStats> read_schedstat(pid_t pid, pid_t tid);

// For a thread in a signal wait: true when a timer of its own process may send the signal that
// ends it (see ThreadSnapshot::timer_may_signal), or when that cannot be read.
bool timer_may_signal(pid_t pid, pid_t tid);

// The processes among `candidates` (host pids) that map the memory holding the futex word at
// `address` of `pid`: just `pid` when that memory is private to it, every process with a shared
// mapping of the same object (a MAP_SHARED region inherited at fork, shm, a memfd) otherwise.
std::vector<pid_t> futex_sharers(pid_t pid, std::uint64_t address,
                                 const std::vector<pid_t>& candidates);

// The fds in the interest list of the epoll fd `epoll_fd` of `pid` (its fdinfo "tfd:" lines);
// nullopt when that cannot be read.
std::optional<std::vector<int>> read_epoll_interest_list(pid_t pid, int epoll_fd);

// /proc/locks, parsed.
std::vector<FileLockEntry> read_file_locks();
// The locks held through the open file descriptions of `pid`'s fds (/proc/PID/fdinfo "lock:"
// lines), with `pid` as their holder. This names every holder of a flock or OFD lock, which
// /proc/locks cannot: it gives OFD locks pid -1 and a flock the pid of its first taker.
std::vector<FileLockEntry> read_fd_locks(pid_t pid);

} // namespace forklore::procfs
