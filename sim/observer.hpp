// The observer samples /proc for every process and thread of one sandbox.
//
// Valid while the sandbox's host process exists; cheap enough to call every few milliseconds
// (it reads a handful of small files per thread). Not thread-safe: one observer per run.
#pragma once

#include "sim/snapshot.hpp"

#include <sys/types.h>

#include <cstdint>

namespace forklore {

class Observer {
  public:
    // `host_pid` is the sandbox host the runner spawned. The host and the reaper it forks are
    // marked as infrastructure; everything below them is the scenario.
    explicit Observer(pid_t host_pid);

    // One sample. A detailed sample also reads each process's pipe and socket fds, the mutex
    // owners of futex waits and /proc/locks: done when a hang is suspected.
    Snapshot sample(bool detailed);

    pid_t host_pid() const { return host_pid_; }

  private:
    pid_t host_pid_;
};

} // namespace forklore
