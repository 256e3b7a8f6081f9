// The stuck set of one snapshot: the threads of a sandbox that can never run again, whatever
// the other threads do.
//
// Computed like a garbage collector's mark phase. The roots are the threads that can make
// progress on their own: running or runnable, in a timed wait or a sleep, in a wait forklore
// cannot classify (or whose wakers this sample cannot name). A blocked thread is live when any
// thread that could wake it is live; whatever the marking never reaches is stuck. Who can wake
// a wait:
//   private futex          threads of the same process (the same address space)
//   shared futex           threads of every process that maps the same memory object
//   pipe or socket         holders of either end (another thread may write, close, shut down)
//   wait4 / waitid         the children it may reap (a child with a live thread may exit)
//   file lock              the processes that hold it
//   poll / select / epoll  the wakers of every watched fd; an armed timerfd makes it timed
//   signal wait, stopped   any live thread of the sandbox (a signal from outside is no waker)
// A stuck set is only a candidate: the DeadlockDetector confirms it over a quiet window.
#pragma once

#include "sim/observe/snapshot.hpp"

#include <string>
#include <vector>

namespace forklore {

struct StuckSet {
    // One scenario thread, where it lives, and in words what it is doing (for a live thread,
    // also why it counts as live). Pointers into the snapshot given to find_stuck_threads:
    // valid while that snapshot is.
    struct Member {
        const ProcessSnapshot* process = nullptr;
        const ThreadSnapshot* thread = nullptr;
        std::string doing; // "waits on the private futex at 0x...", "runs", "sleeps" ...
    };
    std::vector<Member> stuck;
    std::vector<Member> live;
    // Some blocked thread was counted live only because this sample lacked the details that
    // name its wakers (fds, file locks, shared mappings): a detailed sample may prove more.
    bool needs_detail = false;

    bool empty() const { return stuck.empty(); }
    bool is_stuck(pid_t host_tid) const;
    // The stuck threads and their waits, independent of the order /proc listed them: two
    // samples with the same signature show the same stuck set.
    std::string signature() const;
};

StuckSet find_stuck_threads(const Snapshot& snapshot);

// What a thread is doing, in words: "runs", "sleeps", "waits for child 4", "waits on the private
// futex at 0x...".
std::string describe_activity(const ThreadSnapshot& thread);

} // namespace forklore
