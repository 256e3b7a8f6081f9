// The observer samples /proc for every process and thread of one sandbox.
//
// Valid while the sandbox's host process exists; cheap enough to call every few milliseconds
// (it reads a handful of small files per thread). Not thread-safe: one observer per run.
#pragma once

#include "sim/observe/snapshot.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace forklore {

class Observer {
  public:
    // `host_pid` is the sandbox host the runner spawned. The host and the reaper it forks are
    // marked as infrastructure; everything below them is the scenario.
    explicit Observer(pid_t host_pid);

    // One sample. A detailed sample also reads each process's pipe and socket fds (and the other
    // end of each unix socket), the mutex owners of futex waits and /proc/locks: done when a
    // hang is suspected.
    Snapshot sample(bool detailed);

    pid_t host_pid() const { return host_pid_; }

  private:
    struct NamespaceId {
        std::uint64_t start_time = 0; // of the task it was read for: a reused tid differs
        pid_t id = 0;
    };
    std::optional<pid_t> namespace_id(pid_t pid, pid_t tid, std::uint64_t start_time);
    std::optional<ThreadSnapshot> sample_thread(pid_t pid, pid_t tid);

    pid_t host_pid_;
    // /proc/PID/task/TID/children finds the sandbox's processes without scanning all of /proc;
    // kernels without CONFIG_PROC_CHILDREN get the scan.
    bool use_children_files_ = false;
    // A task's id in its PID namespace never changes: read once from NSpid, the largest file read.
    std::unordered_map<pid_t, NamespaceId> namespace_ids_;
    // The program a process runs changes only at exec: read again only then.
    struct Program {
        std::uint64_t start_time = 0, image = 0;
        std::string comm, exe, command;
    };
    void note_program(ProcessSnapshot& process);
    std::unordered_map<pid_t, Program> programs_;
};

} // namespace forklore
