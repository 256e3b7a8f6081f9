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
    int cpu_seconds = 20;                      // per process (RLIMIT_CPU)
    std::uint64_t address_space = 4ULL << 30;  // per process (RLIMIT_AS); 0 = none
    int max_processes = 64;                    // whole sandbox; enforced by the runner too
    std::uint64_t max_file_size = 256ULL << 20; // RLIMIT_FSIZE
    std::uint64_t max_output = 0;              // stdout + stderr written before the run is
                                               // stopped as `limit`; 0 = none (the default)
    // Bytes kept of each of stdout and stderr: 512 KiB of head and 512 KiB of tail, the rest
    // counted and dropped (sim/output_capture.hpp). Enough for a program's first messages and its
    // last ones (where an error usually is); small enough that a record stays a few MiB of JSON.
    std::uint64_t output_keep = 1ULL << 20;
};

// Which namespaces the host managed to enter.
struct Containment {
    bool user_ns = false, pid_ns = false, mount_ns = false, net_ns = false, ipc_ns = false;
    std::vector<std::string> notes; // what was not available and why
    std::string describe() const;   // "pid mount net ipc" or "none"
};

// Die when the runner dies, even mid-setup: the parent may have died before prctl took effect.
std::string contain_die_with_parent(pid_t expected_parent);
// New PID, mount, network and IPC namespaces; a user namespace first when not root.
std::string contain_namespaces(Containment& containment);
// A private working directory (a small tmpfs when a mount namespace is available).
std::string contain_workdir(const std::string& directory, const Containment& containment,
                            std::uint64_t size_limit);
// rlimits for scenario processes: CPU, address space, processes, file size, no core dumps.
std::string contain_limits(const SandboxLimits& limits);

// Sanitizer runtimes reserve terabytes of address space: an RLIMIT_AS would break them.
bool address_space_limit_supported();

} // namespace forklore
