// Containment of the sandbox host, one kernel concern per function, applied as a flat recipe by
// the host. Each returns an empty string on success or a one-line reason; namespaces fall back
// cleanly (a missing namespace is recorded, not fatal).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace forklore {

struct SandboxLimits {
    int cpu_seconds = 20; // per process (RLIMIT_CPU)
    // Per process (RLIMIT_AS); 0 = none. Applied only where no cgroup bounds max_memory (the
    // runner sets it to 0 otherwise: a memory bomb must meet the cgroup's OOM killer).
    std::uint64_t address_space = 4ULL << 30;
    // Processes and threads of the whole sandbox together: pids.max of its cgroup, refused by the
    // kernel at fork and clone (0 = none). Below what RLIMIT_AS allows of 8 MiB thread stacks,
    // so a thread bomb meets this limit first. Without a cgroup the runner's samples count them
    // (and an exponential fork bomb can outrun a sample).
    int max_tasks = 256;
    // Memory of the whole sandbox (RSS, page cache and kernel memory it caused), no swap: the
    // cgroup's limit; past it the kernel's OOM killer ends a process of the sandbox (0 = none).
    std::uint64_t max_memory = 6ULL << 30;
    std::uint64_t max_file_size = 256ULL << 20; // RLIMIT_FSIZE
    std::uint64_t max_output = 0;               // stdout + stderr written before the run is
                                                // stopped as `limit`; 0 = none (the default)
    // Bytes kept of each of stdout and stderr: 512 KiB of head and 512 KiB of tail, the rest
    // counted and dropped (sim/run/output_capture.hpp). Enough for a program's first messages and
    // its last ones (where an error usually is); small enough that a record stays a few MiB of
    // JSON.
    std::uint64_t output_keep = 1ULL << 20;
};

// What the host managed to isolate.
struct Containment {
    bool user_ns = false, pid_ns = false, mount_ns = false, net_ns = false, ipc_ns = false;
    bool cgroups = false;           // joined the run's cgroups
    bool read_only_root = false;    // every mount of the namespace read-only...
    bool private_tmp = false;       // ...but /tmp (the working directory is in it) and /dev/shm,
    bool private_shm = false;       // fresh tmpfs of the sandbox's own
    bool no_capabilities = false;   // bounding, effective, permitted, ambient sets empty; no
                                    // new privileges (a root program cannot undo the above)
    std::vector<std::string> notes; // what was not available and why
    // "pid mount net ipc, read-only root, private /tmp /dev/shm, no capabilities" or "none"
    std::string describe() const;
    // The flags above as bits, for the trace (a note's arg0), and back.
    std::uint64_t bits() const;
    static Containment from_bits(std::uint64_t bits);
};

// Die when the runner dies, even mid-setup: the parent may have died before prctl took effect.
std::string contain_die_with_parent(pid_t expected_parent);
// New PID, mount, network and IPC namespaces; a user namespace first when not root.
std::string contain_namespaces(Containment& containment);
// Joins the run's cgroups (made by the runner): writes this process into each cgroup.procs. The
// first step, so that every process of the sandbox is born inside them.
std::string contain_cgroups(const std::vector<std::string>& directories, Containment& containment);
// The filesystem of the sandbox, in its mount namespace: every mount read-only, a private tmpfs
// on /tmp and /dev/shm, and the working directory `directory` (under /tmp) writable; then enters
// it. Without a mount namespace only the directory (made by the runner) is the sandbox's own.
// `visible` paths under the caller's /tmp are bound into the private one, read-only.
std::string contain_filesystem(const std::string& directory, Containment& containment,
                               std::uint64_t size_limit,
                               const std::vector<std::string>& visible = {});
// Drops every capability for good and sets no_new_privs: a root program in the sandbox can no
// longer remount, leave the namespaces or gain privileges through a setuid program.
std::string contain_capabilities(Containment& containment);
// rlimits for scenario processes: CPU, address space, processes, file size, no core dumps.
std::string contain_limits(const SandboxLimits& limits);

// Sanitizer runtimes reserve terabytes of address space: an RLIMIT_AS would break them.
bool address_space_limit_supported();

} // namespace forklore
