// Classifying a thread's wait from its state and the syscall it is blocked in (the x86_64
// syscall numbers and the arguments /proc/PID/task/TID/syscall shows): a futex, a file lock, a
// child, a pipe, a poll, a sleep, a signal; and whether the wait has a timeout of its own.
#pragma once

#include "sim/observe/snapshot.hpp"

#include <sys/types.h>

#include <optional>
#include <vector>

namespace forklore::waits {

// Classifies a thread's wait from its state and syscall (fills wait, untimed, futex_address,
// fd, waited_pid of `thread`; reads fd targets from /proc when pid != 0).
void classify_wait(ThreadSnapshot& thread, pid_t pid);

// The fds a thread blocked in poll, ppoll, select, pselect6 or epoll_wait watches: read from the
// arguments in its memory, or the epoll fd's interest list. nullopt when they cannot be read.
std::optional<std::vector<int>> read_watched_fds(pid_t pid, const ThreadSnapshot& thread);

} // namespace forklore::waits
