// Per-run cgroups: the kernel, not a sample, enforces the sandbox's limits on tasks (processes
// and threads) and memory, weighs its CPU share, counts what it refused, and kills every member
// at the end, whatever process group or session a member moved to.
//
// One run gets one cgroup in each hierarchy that offers something it needs, beneath the runner's
// own cgroup there (so an outer cap, a test's or a systemd unit's, still binds it):
//   cgroup v2 (unified): pids, memory, cpu when the parent offers them; cgroup.kill always;
//   cgroup v1: the pids, memory, cpu, cpuacct and freezer hierarchies, each its own directory.
// Both at once is the "hybrid" layout of this machine and CI (v1 controllers, a v2 mount with
// none): the v1 controllers enforce, the v2 cgroup kills. Root creates the cgroups directly; an
// unprivileged user gets them only under a v2 subtree delegated to them (their systemd user
// session's). When nothing is writable the run falls back to sampling, and says so.
//
// The host joins the cgroups itself (writes its pid to each cgroup.procs) before it starts any
// process, so nothing of the sandbox is ever outside them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace forklore {

// One line of /proc/self/mountinfo that mounts a cgroup hierarchy.
struct CgroupMount {
    int version = 1;                      // 1 or 2
    std::string mount_point;              // /sys/fs/cgroup/pids
    std::string root;                     // the hierarchy's directory mounted there ("/")
    std::vector<std::string> controllers; // v1: from the super options ("pids", "cpu", "cpuacct")
};

// The cgroup mounts of a mountinfo text (other mounts are skipped).
std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mountinfo);

// /proc/self/cgroup: hierarchy -> path. v1 lines are keyed by each controller of the line
// ("pids", "cpu", "cpuacct", "name=systemd"), the v2 line ("0::/path") by "".
std::map<std::string, std::string> parse_self_cgroups(std::string_view text);

// "key value" lines (pids.events, memory.events, cpu.stat, memory.oom_control): the value of
// `key`, or nothing.
std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key);

// Where the sandbox's cgroups go: the directories, what each one does.
struct CgroupPlan {
    struct Directory {
        std::string parent; // the runner's own cgroup in that hierarchy
        int version = 1;
        std::vector<std::string> controllers; // what this directory is used for
    };
    std::vector<Directory> directories;
    std::vector<std::string> notes; // what is missing and why
};

// Which hierarchy serves each need. `v2_controllers` are the controllers the v2 parent offers
// (its cgroup.controllers). Pure: the caller reads the files.
CgroupPlan plan_cgroups(const std::vector<CgroupMount>& mounts,
                        const std::map<std::string, std::string>& self_cgroups,
                        const std::vector<std::string>& v2_controllers);

struct CgroupSettings {
    std::uint64_t max_tasks = 0;  // pids.max; 0 = no task limit
    std::uint64_t max_memory = 0; // bytes of memory (no swap); 0 = no memory limit
    // Percent of a default cgroup's CPU weight. The sandbox's tasks compete for the CPU as one
    // group: 256 spinning processes weigh what one process of the machine does.
    int cpu_weight = 100;
};

// The kernel's own counters for the sandbox.
struct CgroupCounters {
    std::uint64_t tasks_refused = 0; // forks and thread creations pids.max refused
    std::uint64_t tasks = 0;         // tasks now
    std::uint64_t tasks_peak = 0;    // the most tasks at once (pids.peak; 0: the kernel has none)
    std::uint64_t oom_kills = 0;     // processes the OOM killer killed for the memory limit
    std::uint64_t memory_peak = 0;   // bytes, the most the sandbox used at once (0: unknown)
    std::uint64_t cpu_ns = 0;        // CPU time of every task of the sandbox, all together
};

// How one limit of a run was enforced, for the record: {"tasks", "512", "cgroup v1 pids.max"}.
struct LimitEnforcement {
    std::string limit;
    std::string value;
    std::string mechanism;
    bool by_kernel = true; // false: the runner samples, and can be outrun
};

// The cgroups of one run. Created by the runner before the host starts; removed (every member
// killed first) by kill_all() + remove(), or by the destructor.
class RunCgroup {
  public:
    // `name` is unique on the machine while the runner lives ("forklore-<runner pid>-<n>"). A
    // cgroup that cannot be made is no error: the result enforces nothing and its notes say why.
    static RunCgroup create(const std::string& name, const CgroupSettings& settings);
    // The same from an explicit plan (tests point it at a directory of their own).
    static RunCgroup create(const std::string& name, const CgroupSettings& settings,
                            const CgroupPlan& plan);

    RunCgroup() = default;
    RunCgroup(RunCgroup&& other) noexcept;
    RunCgroup& operator=(RunCgroup&& other) noexcept;
    RunCgroup(const RunCgroup&) = delete;
    RunCgroup& operator=(const RunCgroup&) = delete;
    ~RunCgroup();

    bool enforces_tasks() const { return !pids_dir_.empty(); }
    bool enforces_memory() const { return !memory_dir_.empty(); }
    bool active() const { return !directories_.empty(); }
    // The directories the host joins (writes its pid into each cgroup.procs).
    const std::vector<std::string>& directories() const { return directories_; }
    const std::vector<std::string>& notes() const { return notes_; }
    // "cgroup v1 pids memory cpu cpuacct freezer, v2 kill", or "none".
    std::string describe() const;
    std::vector<LimitEnforcement> enforcement() const;

    CgroupCounters read() const;
    // Every process in the sandbox's cgroups (host pids).
    std::vector<pid_t> members() const;
    // Kills every member until none is left or `budget_ms` passed: cgroup.kill on v2, else
    // freeze, SIGKILL each member, thaw. Returns the pids it saw (to be reaped by their parent).
    std::vector<pid_t> kill_all(int budget_ms = 5000);
    // Removes the directories (empty by then); retried briefly while the kernel releases the
    // last tasks. Safe to call twice.
    void remove();

  private:
    std::vector<std::string> directories_; // every directory made, v2 first
    std::string pids_dir_, memory_dir_, cpuacct_dir_, freezer_dir_, kill_dir_;
    int pids_version_ = 0, memory_version_ = 0, cpu_version_ = 0, cpuacct_version_ = 0;
    CgroupSettings settings_;
    std::vector<std::string> notes_;
};

// Removes cgroups left by runners that died (SIGKILL, a crash): their members are killed and
// the directories removed. Called once per process before the first run.
void sweep_stale_cgroups();

} // namespace forklore
