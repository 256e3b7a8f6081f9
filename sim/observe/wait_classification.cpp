// Classifying waits from syscall numbers. See wait_classification.hpp.
//
// Index of this file:
// [SECTION] Syscall numbers and their arguments
// [SECTION] One wait, classified
// [SECTION] The fds a poll watches
#include "sim/observe/wait_classification.hpp"

#include "sim/observe/glibc_lock_words.hpp"
#include "sim/observe/proc_files.hpp"

#include <algorithm>
#include <cstdint>
#include <string_view>

namespace forklore::waits {

//-----------------------------------------------------------------------------
// [SECTION] Syscall numbers and their arguments
//-----------------------------------------------------------------------------

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

// futex(2) operations (linux/futex.h). The low 7 bits are the command; FUTEX_PRIVATE_FLAG (128)
// and FUTEX_CLOCK_REALTIME (256) are modifiers.
constexpr std::uint64_t futex_command_mask = 0x7f, futex_private_flag = 128;
constexpr std::uint64_t futex_wait = 0, futex_lock_pi = 6, futex_wait_bitset = 9;
constexpr std::uint64_t futex_wait_requeue_pi = 11, futex_lock_pi2 = 13;

constexpr std::uint64_t lock_nb = 4;                     // flock(2) LOCK_NB
constexpr std::uint64_t f_setlkw = 7, f_ofd_setlkw = 38; // fcntl(2) blocking lock commands
constexpr std::uint64_t wnohang = 1;                     // wait4/waitid WNOHANG
constexpr std::uint64_t p_pid = 1;                       // waitid idtype P_PID

//-----------------------------------------------------------------------------
// [SECTION] One wait, classified
//-----------------------------------------------------------------------------

bool is_channel(std::string_view target) {
    return target.starts_with("pipe:") || target.starts_with("socket:");
}

// Fills fd and fd_target from a syscall's fd argument; the target only when the pid is known.
void note_fd(ThreadSnapshot& thread, pid_t pid, std::uint64_t fd_argument) {
    thread.fd = static_cast<int>(fd_argument);
    if (pid != 0)
        thread.fd_target = procfs::read_fd_target(pid, thread.fd);
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
        thread.futex_private = false; // each entry has its own flags: assume the widest
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

//-----------------------------------------------------------------------------
// [SECTION] The fds a poll watches
//-----------------------------------------------------------------------------

std::optional<std::vector<int>> read_watched_fds(pid_t pid, const ThreadSnapshot& thread) {
    constexpr std::size_t max_fds = 1024;
    const auto& args = thread.syscall_args;
    std::vector<int> fds;
    switch (thread.syscall) {
    case nr::poll:
    case nr::ppoll: { // an array of struct pollfd {int fd; short events, revents;}
        std::size_t count = std::min<std::size_t>(args[1], max_fds);
        std::vector<std::int32_t> words(count * 2);
        if (count && !lock_words::read_memory(pid, args[0], words.data(), words.size() * 4))
            return std::nullopt;
        for (std::size_t i = 0; i < count; ++i)
            if (words[i * 2] >= 0)
                fds.push_back(words[i * 2]);
        return fds;
    }
    case nr::select:
    case nr::pselect6: { // read, write and except fd_sets of nfds bits
        std::size_t count = std::min<std::size_t>(args[0], max_fds);
        std::vector<std::uint64_t> bits((count + 63) / 64);
        for (int set = 1; set <= 3; ++set) {
            if (args[set] == 0 || bits.empty())
                continue;
            if (!lock_words::read_memory(pid, args[set], bits.data(), bits.size() * 8))
                return std::nullopt;
            for (std::size_t fd = 0; fd < count; ++fd)
                if (bits[fd / 64] & (1ULL << (fd % 64)))
                    fds.push_back(static_cast<int>(fd));
        }
        return fds;
    }
    case nr::epoll_wait:
    case nr::epoll_pwait:
    case nr::epoll_pwait2: // the interest list is in the epoll fd's fdinfo
        return procfs::read_epoll_interest_list(pid, static_cast<int>(args[0]));
    default:
        return std::nullopt;
    }
}

} // namespace forklore::waits
