// What the kernel says about the sandbox at one instant: its processes, their threads, what each
// thread is blocked in, and the file locks of /proc/locks. Produced by the Observer from /proc,
// consumed by the verdict engine; plain data, copyable, valid on its own after the run is gone.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace forklore {

// What a thread is doing, classified from its state and /proc/PID/task/TID/syscall.
enum class WaitKind : int {
    running,   // on a CPU or runnable: it can make progress
    futex,     // futex wait; `untimed` says whether a timeout was given
    file_lock, // flock(2) or fcntl(F_SETLKW / F_OFD_SETLKW)
    child,     // wait4 / waitid for a child process
    pipe,      // read/recv on a pipe or socket (fd, fd_target)
    poll,      // poll/select/epoll; untimed when the timeout is infinite
    sleep,     // nanosleep and friends: timed by definition
    other,     // blocked in something not classified: never counts as proof of a hang
    stopped,   // stopped or traced
    zombie,    // exited, not yet reaped
    signal,    // pause, sigsuspend, sigwaitinfo without a timeout: only a signal ends it
};

inline constexpr std::array<std::string_view, 11> kWaitKindNames = {
    "running", "futex", "file_lock", "child",  "pipe",  "poll",
    "sleep",   "other", "stopped",   "zombie", "signal"};

constexpr std::string_view to_string(WaitKind kind) {
    return kWaitKindNames[static_cast<int>(kind)];
}

struct ThreadSnapshot {
    pid_t tid = 0;     // host tid
    pid_t ns_tid = 0;  // tid inside the sandbox's PID namespace (== tid without one)
    std::string name;  // comm
    char state = '?';  // the state letter of /proc/PID/task/TID/stat
    std::string wchan; // kernel function it sleeps in ("0" or empty when running)
    long syscall = -1; // syscall number it is blocked in; -1 when running or unknown
    std::array<std::uint64_t, 6> syscall_args{};
    std::uint64_t cpu_ticks = 0; // utime + stime, in clock ticks
    // /proc/PID/task/TID/schedstat of a blocked thread: nanoseconds on a CPU and how many times
    // it was scheduled. Exact where cpu_ticks has 10 ms steps: a thread woken and blocked again
    // between two samples changes `run_slices`. Both 0 when unread (running threads, old kernels).
    std::uint64_t run_ns = 0;
    std::uint64_t run_slices = 0;
    WaitKind wait = WaitKind::running;
    bool untimed = false; // blocked with no timeout: only an event from another thread wakes it

    // futex waits: the address, and for a glibc mutex the owner read from the lock word
    std::uint64_t futex_address = 0;
    // FUTEX_PRIVATE_FLAG was given: only threads of the same address space can wake it. A shared
    // futex (a pthread object with PTHREAD_PROCESS_SHARED, a robust mutex) can be woken from any
    // process that maps the same memory: `futex_sharers` lists them (host pids, its own process
    // included) once a detailed sample has read their maps; empty until then.
    bool futex_private = true;
    std::vector<pid_t> futex_sharers;
    std::optional<pid_t> owner_ns_tid; // the mutex's __owner field (the owner's namespace tid)
    pid_t owner_tid = 0;               // that owner mapped to a host tid; 0 when not found

    // pipe, socket and file-lock waits: the fd and what it refers to ("pipe:[1234]")
    int fd = -1;
    std::string fd_target;
    // file-lock waits: the locked file's inode and device ("08:01", as /proc/locks writes it)
    std::uint64_t fd_inode = 0;
    std::string fd_device;
    // a unix socket read: the other end, as OpenChannelEnd::peer_target (detailed samples only)
    std::string fd_peer_target;
    // child waits: the pid argument of wait4/waitid (-1 for any child)
    pid_t waited_pid = 0;
    // poll/select/epoll waits with no timeout: what each watched fd refers to ("pipe:[12]",
    // "anon_inode:[eventfd]", "/dev/pts/0"), read by detailed samples; `watched_known` says the
    // list is complete (the fds could be read).
    std::vector<std::string> watched_targets;
    bool watched_known = false;
    // signal waits: a timer of the process's own may deliver the signal (it has POSIX timers, or
    // catches or waits for SIGALRM, SIGVTALRM or SIGPROF, which alarm() and setitimer() send and
    // /proc cannot show): then the wait is timed for all forklore knows.
    bool timer_may_signal = false;
};

// OpenChannelEnd::peer_target of a unix socket whose other end has been closed.
inline constexpr std::string_view kPeerClosed = "closed";

// An fd of a process that refers to a pipe or a socket; used to find who could write to a pipe,
// and who holds the other end of a socket.
struct OpenChannelEnd {
    int fd = -1;
    std::string target; // "pipe:[1234]" or "socket:[5678]"
    bool writable = false;
    // A connected unix socket's other end ("socket:[5679]", a different inode), or kPeerClosed;
    // empty for a pipe, or when the kernel could not be asked (see unix_socket_peers.hpp).
    // Given a default initializer so that {fd, target, writable} stays a complete initializer.
    std::string peer_target{};
};

struct ProcessSnapshot {
    pid_t pid = 0;    // host pid
    pid_t ns_pid = 0; // pid inside the sandbox's PID namespace
    pid_t ppid = 0;   // host pid of the parent
    std::string comm;
    char state = '?';
    int exit_code = 0;           // raw wait status from /proc/PID/stat when a zombie
    bool infrastructure = false; // the sandbox's own host or reaper, not scenario code
    // Which program it runs, for processes nobody instrumented (forklore exec): `image` changes
    // with every execve (the randomised start of its stack; 0 when hidden), `exe` and `command`
    // are read when the process first appears and after each exec ("" for a zombie).
    std::uint64_t start_time = 0; // clock ticks after boot: with the pid, the process's identity
    std::uint64_t image = 0;
    std::string exe;     // /proc/PID/exe
    std::string command; // /proc/PID/cmdline, spaces between the arguments, cut at 200 characters
    std::vector<ThreadSnapshot> threads;
    std::vector<OpenChannelEnd> channel_ends; // filled only by detailed samples
};

// One line of /proc/locks.
struct FileLockEntry {
    int id = 0;
    std::string type;     // FLOCK, POSIX, OFDLCK
    bool write = false;   // WRITE vs READ
    bool waiting = false; // a "->" line: a blocked request, not a held lock
    pid_t pid = 0;        // host pid (-1 for OFD locks, which belong to no process)
    std::uint64_t inode = 0;
    std::string device; // "08:01"
    std::string start, end;
    // The fd through which `pid` holds or requests it, when read from /proc/PID/fdinfo/FD: a
    // flock or OFD lock belongs to an open file description, which several fds (of several
    // processes) can share. -1 for a line of /proc/locks, which names no fd.
    int fd = -1;
};

struct Snapshot {
    std::int64_t time_ns = 0; // CLOCK_MONOTONIC
    bool detailed = false;    // channel ends and file locks were read too
    std::vector<ProcessSnapshot> processes;
    std::vector<FileLockEntry> file_locks; // only the entries of sandbox processes' files

    const ProcessSnapshot* find_process(pid_t pid) const {
        for (const auto& p : processes)
            if (p.pid == pid)
                return &p;
        return nullptr;
    }
    // The process that has a thread with this host tid.
    const ProcessSnapshot* process_of_thread(pid_t tid) const {
        for (const auto& p : processes)
            for (const auto& t : p.threads)
                if (t.tid == tid)
                    return &p;
        return nullptr;
    }
};

} // namespace forklore
