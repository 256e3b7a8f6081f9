// A run's limits: how each is enforced (enforcement_of, for the record), the kernel's cgroup
// counters watched every millisecond, and the verdicts `limit` for tasks, memory and output.
#include "sim/run/sandbox_run.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>

namespace forklore::runner {

namespace {

std::string human_bytes(std::uint64_t bytes) {
    if (bytes >= (1ULL << 30))
        return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1ULL << 30));
    if (bytes >= (1ULL << 20))
        return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1ULL << 20));
    return fmt::format("{} KiB", bytes >> 10);
}

} // namespace

// How each limit of the run is enforced: by the kernel (cgroups, rlimits) or by the runner.
std::vector<LimitEnforcement> enforcement_of(const RunRequest& request, const SandboxLimits& limits,
                                             const RunCgroup& cgroup) {
    std::vector<LimitEnforcement> list = cgroup.enforcement();
    std::string why = cgroup.notes().empty()
                          ? std::string(request.cgroups ? "no cgroup" : "cgroups turned off")
                          : cgroup.notes().front();
    if (!cgroup.enforces_tasks())
        list.push_back({"tasks", std::to_string(limits.max_tasks),
                        fmt::format("NOT enforced by the kernel ({}): the runner's samples "
                                    "count them every {} ms, and a fork bomb can outrun a sample",
                                    why, std::max(1, request.sample_interval_us / 1000)),
                        false});
    if (!cgroup.enforces_memory())
        list.push_back({"memory", "none for the sandbox as a whole",
                        fmt::format("NOT enforced by the kernel ({}): only the address-space "
                                    "limit of each process",
                                    why),
                        false});
    list.push_back({"cpu time per process", fmt::format("{} s", limits.cpu_seconds),
                    "RLIMIT_CPU (SIGXCPU)", true});
    if (limits.address_space > 0 && address_space_limit_supported())
        list.push_back(
            {"address space per process", human_bytes(limits.address_space), "RLIMIT_AS", true});
    list.push_back(
        {"file size", human_bytes(limits.max_file_size), "RLIMIT_FSIZE (SIGXFSZ)", true});
    list.push_back({"output",
                    limits.max_output ? fmt::format("{} bytes", limits.max_output) : "none",
                    "counted by the runner as it reads stdout and stderr", false});
    list.push_back(
        {"time", fmt::format("{} s", request.timeout_seconds), "the runner's deadline", false});
    return list;
}

// The kernel's counters: a refused fork or thread, or an OOM kill, ends the run as `limit` at
// once, with the counters as the evidence.
void SandboxRun::watch_limits() {
    while (watching_.load(std::memory_order_relaxed)) {
        CgroupCounters counters = cgroup_.read();
        if (counters.oom_kills > 0) {
            // The OOM killer has freed the memory already: the runner's loop ends the sandbox
            // once the reaper has recorded the victim's end, so the explanation can name it.
            limit_hit_ns_ = now_ns();
            return;
        }
        if (counters.tasks_refused > 0) {
            limit_hit_ns_ = now_ns();
            // The verdict is certain: end the sandbox now (the runner's loop writes the verdict).
            cgroup_.kill_all(2000);
            return;
        }
        usleep(1000);
    }
}

void SandboxRun::stop_watching() {
    watching_ = false;
    if (limit_watcher_.joinable())
        limit_watcher_.join();
}

bool SandboxRun::kernel_limit_reached() {
    if (!cgroup_.active())
        return false;
    counters_ = cgroup_.read();
    record_.peak_tasks = std::max({record_.peak_tasks, counters_.tasks, counters_.tasks_peak});
    if (counters_.tasks_refused > 0) {
        stop_with(VerdictKind::limit,
                  fmt::format("Limit: the sandbox reached its limit of {} processes and threads "
                              "together: the kernel refused {} fork{} or thread creation{} "
                              "(pids.max and pids.events of the run's cgroup). A program that "
                              "creates processes or threads without end (a fork bomb, a thread "
                              "bomb) ends here, and the rest of the machine keeps running.",
                              request_.limits.max_tasks, counters_.tasks_refused,
                              counters_.tasks_refused == 1 ? "" : "s",
                              counters_.tasks_refused == 1 ? "" : "s"));
        record_.verdict.limit = "tasks";
        if (limit_hit_ns_ != 0)
            record_.timings.verdict_ms = ms_between(start_ns_, limit_hit_ns_);
        return true;
    }
    if (counters_.oom_kills > 0) {
        // The victim's end, as the reaper records it (bounded: a reaper that is itself the
        // victim records nothing).
        const std::int64_t wait_until = now_ns() + 500'000'000;
        auto victim_recorded = [&] {
            return std::any_of(record_.events.begin(), record_.events.end(), [](const Event& e) {
                return e.kind == EventKind::process_exit &&
                       WaitStatus::from_raw(static_cast<int>(e.arg0)).fatal_signal() == SIGKILL;
            });
        };
        while (!victim_recorded() && now_ns() < wait_until) {
            usleep(1000);
            channel_.read(cursor_, record_.events);
        }
        stop_with(VerdictKind::limit,
                  fmt::format("Limit: the sandbox used all of its {} of memory: the kernel's OOM "
                              "killer ended {} process{} of it (the memory limit of the run's "
                              "cgroup; {} at most in use).",
                              human_bytes(request_.limits.max_memory), counters_.oom_kills,
                              counters_.oom_kills == 1 ? "" : "es",
                              human_bytes(counters_.memory_peak)));
        record_.verdict.limit = "memory";
        if (limit_hit_ns_ != 0)
            record_.timings.verdict_ms = ms_between(start_ns_, limit_hit_ns_);
        record_.verdict.signal = SIGKILL;
        return true;
    }
    return false;
}

bool SandboxRun::output_limit_reached() {
    if (request_.limits.max_output == 0 ||
        stdout_.capture().written() + stderr_.capture().written() <= request_.limits.max_output)
        return false;
    stop_with(VerdictKind::limit,
              fmt::format("Limit: the sandbox wrote more than {} bytes of output.",
                          request_.limits.max_output));
    record_.verdict.limit = "output";
    return true;
}

} // namespace forklore::runner
