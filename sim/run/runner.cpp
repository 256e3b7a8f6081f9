#include "sim/run/runner.hpp"

#include "sim/verdict/completion.hpp"

#include "sim/sandbox/cgroup.hpp"
#include "sim/sandbox/host.hpp"
#include "sim/observe/observer.hpp"
#include "sim/run/output_capture.hpp"
#include "sim/record/process_records.hpp"
#include "sim/observe/stacks.hpp"
#include "sim/sandbox/stale_runs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <gnu/libc-version.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <stdexcept>

extern char** environ;

namespace forklore {

namespace {

std::int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

double ms_between(std::int64_t from, std::int64_t to) { return static_cast<double>(to - from) / 1e6; }

std::string host_description() {
    utsname name{};
    uname(&name);
    return fmt::format("{} {} {}, glibc {}", name.sysname, name.release, name.machine,
                       gnu_get_libc_version());
}

int remove_entry(const char* path, const struct stat*, int, FTW*) { return remove(path); }

void remove_tree(const std::string& path) {
    nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

std::vector<std::string> host_argv(const RunRequest& request, const SandboxLimits& limits,
                                   const std::string& host_path,
                                   const std::string& workdir,
                                   const std::vector<std::string>& cgroups) {
    std::vector<std::string> argv = {host_path,
                                     "run",
                                     "--scenario",
                                     request.scenario->id,
                                     "--channel-fd",
                                     "3",
                                     "--runner-pid",
                                     std::to_string(getpid()),
                                     "--workdir",
                                     workdir,
                                     "--cpu-seconds",
                                     std::to_string(limits.cpu_seconds),
                                     "--address-space",
                                     std::to_string(limits.address_space),
                                     "--max-tasks",
                                     std::to_string(limits.max_tasks),
                                     "--max-file-size",
                                     std::to_string(limits.max_file_size)};
    if (!request.namespaces) argv.push_back("--no-namespaces");
    for (const auto& path : request.visible_paths) {
        argv.push_back("--visible");
        argv.push_back(path);
    }
    for (const auto& directory : cgroups) {
        argv.push_back("--cgroup");
        argv.push_back(directory);
    }
    for (const auto& [name, value] : request.knobs) {
        argv.push_back("--knob");
        argv.push_back(name + "=" + value);
    }
    return argv;
}

// A short signature of what every thread is doing: snapshots are kept when it changes. An exec
// changes a thread's name (and the program's image), not always its state: it counts too.
std::string activity_signature(const Snapshot& snapshot) {
    std::string signature;
    for (const auto& process : snapshot.processes) {
        signature += fmt::format("{}@{:x}:", process.pid, process.image);
        for (const auto& thread : process.threads)
            signature += fmt::format("{}:{}{}{};", thread.tid, thread.state,
                                     static_cast<int>(thread.wait), thread.name);
    }
    return signature;
}

// Processes and threads of the scenario (the sandbox's own, host and reaper, not counted).
std::size_t scenario_task_count(const Snapshot& snapshot) {
    std::size_t count = 0;
    for (const auto& process : snapshot.processes)
        if (!process.infrastructure) count += std::max<std::size_t>(1, process.threads.size());
    return count;
}

// True while `pid` is still a member of the sandbox's process group: a pid seen earlier may have
// been reused by an unrelated process since, which must never be killed.
bool in_process_group(pid_t pid, pid_t group) {
    return getpgid(pid) == group;
}

// Children of this process (of any of its threads) that are members of `group`: processes of the
// sandbox reparented to the runner, which is their subreaper, including those that lived too
// briefly for any sample to see them.
std::vector<pid_t> adopted_members_of(pid_t group) {
    std::vector<pid_t> members;
    DIR* tasks = opendir("/proc/self/task");
    if (!tasks) return members;
    while (dirent* task = readdir(tasks)) {
        if (task->d_name[0] == '.') continue;
        std::ifstream children(std::string("/proc/self/task/") + task->d_name + "/children");
        for (pid_t pid = 0; children >> pid;)
            if (getpgid(pid) == group) members.push_back(pid);
    }
    closedir(tasks);
    return members;
}

// "pipe:[INODE]" of an fd of this process, as /proc shows it to the sandbox's threads.
std::string pipe_target(int fd) {
    struct stat st {};
    if (fstat(fd, &st) != 0) return {};
    return fmt::format("pipe:[{}]", st.st_ino);
}

// A thread blocked writing to the captured stdout/stderr waits for the runner, which is outside
// the sandbox and drains them every sample: that is back-pressure, never a hang.
void excuse_writes_to_runner(Snapshot& snapshot, const std::string& stdout_target,
                             const std::string& stderr_target) {
    for (auto& process : snapshot.processes)
        for (auto& thread : process.threads)
            if (thread.wait == WaitKind::pipe && !thread.fd_target.empty() &&
                (thread.fd_target == stdout_target || thread.fd_target == stderr_target)) {
                thread.wait = WaitKind::other;
                thread.untimed = false;
            }
}

// " When the program's first process ended, process 5 (daemon --forever), which sleeps, was
// still running: it was killed with the sandbox."
std::string left_running_sentence(const std::vector<LeftRunning>& left) {
    if (left.empty()) return {};
    std::vector<std::string> named;
    for (const auto& process : left) {
        std::vector<std::string> doing;
        for (const auto& thread : process.threads) doing.push_back(thread.wait);
        std::sort(doing.begin(), doing.end());
        doing.erase(std::unique(doing.begin(), doing.end()), doing.end());
        named.push_back(fmt::format("process {} ({}), which {},", process.pid, process.command,
                                    fmt::join(doing, " and ")));
    }
    return fmt::format(" When the first process ended, {} {} still running: {} killed with the "
                       "sandbox.",
                       fmt::join(named, "; "), left.size() == 1 ? "was" : "were",
                       left.size() == 1 ? "it was" : "they were");
}

std::string human_bytes(std::uint64_t bytes) {
    if (bytes >= (1ULL << 30)) return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1ULL << 30));
    if (bytes >= (1ULL << 20)) return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1ULL << 20));
    return fmt::format("{} KiB", bytes >> 10);
}

// How each limit of the run is enforced: by the kernel (cgroups, rlimits) or by the runner.
std::vector<LimitEnforcement> enforcement_of(const RunRequest& request, const SandboxLimits& limits,
                                             const RunCgroup& cgroup) {
    std::vector<LimitEnforcement> list = cgroup.enforcement();
    std::string why = cgroup.notes().empty() ? std::string(request.cgroups ? "no cgroup" : "cgroups turned off")
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
                                    "limit of each process", why),
                        false});
    list.push_back({"cpu time per process", fmt::format("{} s", limits.cpu_seconds),
                    "RLIMIT_CPU (SIGXCPU)", true});
    if (limits.address_space > 0 && address_space_limit_supported())
        list.push_back({"address space per process", human_bytes(limits.address_space),
                        "RLIMIT_AS", true});
    list.push_back({"file size", human_bytes(limits.max_file_size), "RLIMIT_FSIZE (SIGXFSZ)", true});
    list.push_back({"output", limits.max_output ? fmt::format("{} bytes", limits.max_output) : "none",
                    "counted by the runner as it reads stdout and stderr", false});
    list.push_back({"time", fmt::format("{} s", request.timeout_seconds), "the runner's deadline",
                    false});
    return list;
}

// Which processes the OOM killer ended: those reaped by SIGKILL before the runner killed the
// sandbox (" The killed process: 2 (./memory_bomb).").
std::string oom_victims(const RunRecord& record) {
    std::vector<std::string> victims;
    for (const auto& process : record.processes)
        if (process.wait_status && WIFSIGNALED(*process.wait_status) &&
            WTERMSIG(*process.wait_status) == SIGKILL && !process.killed_by_runner)
            victims.push_back(fmt::format("{} ({})", process.ns_pid,
                                          process.command.empty() ? process.role : process.command));
    if (victims.empty()) return {};
    return fmt::format(" Killed by the OOM killer: process{} {}.", victims.size() == 1 ? "" : "es",
                       fmt::join(victims, ", "));
}

class SandboxRun {
  public:
    explicit SandboxRun(const RunRequest& request)
        : request_(request), stdout_(request.limits.output_keep),
          stderr_(request.limits.output_keep) {}

    RunRecord run();

  private:
    bool start(const std::string& host_path);
    void loop();
    Snapshot take_sample(Observer& observer, bool detailed);
    void decide_deadlock(const Snapshot& detailed);
    bool first_process_ended();
    void note_left_running(const Snapshot& snapshot);
    void stop_with(VerdictKind kind, std::string explanation);
    void capture_stacks_of(const Snapshot& snapshot, const std::vector<pid_t>& tids);
    void kill_and_reap();
    void finish_record();
    void keep_snapshot(const Snapshot& snapshot);
    // Copies the channel's table of source files (the files events were recorded from).
    void read_source_files();
    bool kernel_limit_reached();
    // The output written so far passed limits.max_output: the verdict is `limit` ("output").
    bool output_limit_reached();
    void watch_limits();
    void stop_watching();

    const RunRequest& request_;
    RunRecord record_;
    Channel channel_;
    std::uint64_t cursor_ = 0;
    OutputPipe stdout_, stderr_;
    std::string workdir_;
    std::string stdout_target_, stderr_target_; // our capture pipes, as /proc names them
    pid_t host_pid_ = -1;
    int host_pidfd_ = -1;
    int host_status_ = 0;
    bool host_exited_ = false;
    bool decided_ = false; // the runner ended the sandbox with a verdict of its own
    bool killed_sandbox_ = false; // the sandbox was still running when the runner ended it
    std::set<pid_t> seen_pids_; // every host pid ever observed in the sandbox
    ProcessHistory history_;    // every sample's processes: the process tree of the records
    std::string last_signature_;
    Snapshot last_snapshot_;
    std::int64_t start_ns_ = 0;
    double sample_total_us_ = 0;
    std::size_t first_exit_scan_ = 0; // events already searched for the first process's exit
    RunCgroup cgroup_;
    CgroupCounters counters_;
    // The kernel's counters are watched by a thread of their own, every millisecond: a fork bomb
    // at its limit makes every /proc read of a sample slow (each refused fork holds its parent's
    // memory map), and the sandbox must be ended at once, not after the sample.
    std::thread limit_watcher_;
    std::atomic<bool> watching_{false};
    std::atomic<std::int64_t> limit_hit_ns_{0};
};

std::atomic<std::uint64_t> g_runs_started{0};

// A working directory is named after the runner that made it (/tmp/forklore-run-PID-XXXXXX).
// Only the runner removes it, so a runner killed with SIGKILL leaves it behind: the first run
// of each later runner removes those whose runner is gone, as it does their cgroups.
void sweep_stale_workdirs() {
    DIR* tmp = opendir("/tmp");
    if (!tmp) return;
    std::vector<std::string> stale;
    while (dirent* entry = readdir(tmp))
        if (runner_is_gone(runner_in_name(entry->d_name, "forklore-run-")))
            stale.push_back(std::string("/tmp/") + entry->d_name);
    closedir(tmp);
    for (const auto& path : stale) remove_tree(path);
}

bool SandboxRun::start(const std::string& host_path) {
    static std::once_flag swept;
    std::call_once(swept, sweep_stale_workdirs);
    std::string directory = fmt::format("/tmp/forklore-run-{}-XXXXXX", getpid());
    if (!mkdtemp(directory.data())) {
        stop_with(VerdictKind::setup_error, fmt::format("cannot make a working directory: {}",
                                                        strerror(errno)));
        return false;
    }
    workdir_ = directory;
    if (!stdout_.create() || !stderr_.create()) {
        stop_with(VerdictKind::setup_error, fmt::format("pipe: {}", strerror(errno)));
        return false;
    }
    stdout_target_ = pipe_target(stdout_.read_fd);
    stderr_target_ = pipe_target(stderr_.read_fd);
    if (request_.cgroups) {
        CgroupSettings settings;
        settings.max_tasks = static_cast<std::uint64_t>(std::max(0, request_.limits.max_tasks));
        settings.max_memory = request_.limits.max_memory;
        // The sandbox's tasks compete for the CPU as one group, weighted as four ordinary
        // processes: a scenario's few runnable threads run as fast as they would outside a
        // cgroup (the corpus's race windows do not move on a busy machine), and a fork bomb's
        // 256 spinning processes still weigh only four.
        settings.cpu_weight = 400;
        // The name says which runner made it: a later run removes it if that runner died.
        cgroup_ = RunCgroup::create(fmt::format("forklore-{}-{}", getpid(), ++g_runs_started),
                                    settings);
    }
    // With the sandbox's memory bounded by its cgroup, a per-process address-space limit only
    // gets in the way: a memory bomb would see malloc fail at 4 GiB and spin (timed out)
    // instead of being OOM-killed (limit, memory), and programs that reserve far more than they
    // use (ASan, the JVM, Go) would fail. It stays where no cgroup bounds the memory.
    SandboxLimits limits = request_.limits;
    if (cgroup_.enforces_memory() && limits.max_memory > 0) limits.address_space = 0;
    record_.limits = limits;
    record_.cgroups = cgroup_.describe();
    if (!cgroup_.notes().empty())
        record_.cgroups += fmt::format(" ({})", fmt::join(cgroup_.notes(), "; "));
    record_.enforcement = enforcement_of(request_, limits, cgroup_);
    auto argv_strings = host_argv(request_, limits, host_path, workdir_, cgroup_.directories());
    std::vector<char*> argv;
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, stdout_.write_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, stderr_.write_fd, STDERR_FILENO);
    posix_spawn_file_actions_adddup2(&actions, channel_.fd(), 3);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setpgroup(&attributes, 0); // its own process group: one kill reaches all
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                              POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawn(&host_pid_, host_path.c_str(), &actions, &attributes, argv.data(),
                         environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    stdout_.close_write();
    stderr_.close_write();
    if (rc != 0) {
        host_pid_ = -1;
        stop_with(VerdictKind::setup_error,
                  fmt::format("cannot start the sandbox host {}: {}", host_path, strerror(rc)));
        return false;
    }
    host_pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, host_pid_, 0));
    return true;
}

void SandboxRun::stop_with(VerdictKind kind, std::string explanation) {
    record_.verdict = Verdict{};
    record_.verdict.kind = kind;
    record_.verdict.explanation = std::move(explanation);
    record_.timings.verdict_ms = ms_between(start_ns_, now_ns());
    decided_ = true;
}

void SandboxRun::read_source_files() {
    for (auto& [id, path] : channel_.source_files())
        record_.source_files.try_emplace(id, std::move(path));
}

void SandboxRun::keep_snapshot(const Snapshot& snapshot) {
    constexpr std::size_t kMaxSnapshots = 400;
    std::string signature = activity_signature(snapshot);
    if (signature == last_signature_ || record_.snapshots.size() >= kMaxSnapshots) return;
    last_signature_ = std::move(signature);
    record_.snapshots.push_back(snapshot);
}

// Stacks of the given threads (host tids), or of every live scenario thread when none is given.
void SandboxRun::capture_stacks_of(const Snapshot& snapshot, const std::vector<pid_t>& tids) {
    if (!request_.capture_stacks) return;
    // Bounded: a sandbox of hundreds of busy processes (a bomb at its deadline) would take
    // minutes to unwind, and a reader wants the first few stacks anyway.
    constexpr std::size_t kMaxStacks = 32;
    constexpr std::int64_t kBudgetNs = 2'000'000'000;
    const std::int64_t give_up = now_ns() + kBudgetNs;
    for (const auto& process : snapshot.processes) {
        if (record_.stacks.size() >= kMaxStacks || now_ns() >= give_up) return;
        if (process.infrastructure) continue;
        std::vector<pid_t> wanted;
        for (const auto& thread : process.threads) {
            // A zombie has no memory map left to unwind: its exit is in the trace instead.
            if (thread.state == 'Z' || thread.state == 'X') continue;
            if (tids.empty() || std::find(tids.begin(), tids.end(), thread.tid) != tids.end())
                wanted.push_back(thread.tid);
        }
        if (wanted.empty()) continue;
        for (auto& stack : capture_stacks(process.pid, wanted)) {
            stack.ns_pid = process.ns_pid;
            for (const auto& thread : process.threads)
                if (thread.tid == stack.tid) {
                    stack.ns_tid = thread.ns_tid;
                    if (stack.thread_name.empty()) stack.thread_name = thread.name;
                }
            record_.stacks.push_back(std::move(stack));
        }
    }
}

void SandboxRun::decide_deadlock(const Snapshot& detailed) {
    record_.timings.verdict_ms = ms_between(start_ns_, now_ns());
    decided_ = true;
    // Stacks first: for a program that records no events they are what names a futex's object
    // (a semaphore, a Python lock) in the explanation. Only the stuck threads and the owners
    // their locks name: the live ones are not what went wrong, and each stack costs time.
    StuckSet stuck = find_stuck_threads(detailed);
    std::vector<pid_t> tids;
    for (const auto& member : stuck.stuck) {
        tids.push_back(member.thread->tid);
        if (member.thread->owner_tid) tids.push_back(member.thread->owner_tid);
    }
    capture_stacks_of(detailed, tids);
    record_.verdict = explain_deadlock(detailed, record_.events, start_ns_, record_.stacks);
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
    if (limit_watcher_.joinable()) limit_watcher_.join();
}

bool SandboxRun::kernel_limit_reached() {
    if (!cgroup_.active()) return false;
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
        if (limit_hit_ns_ != 0) record_.timings.verdict_ms = ms_between(start_ns_, limit_hit_ns_);
        return true;
    }
    if (counters_.oom_kills > 0) {
        // The victim's end, as the reaper records it (bounded: a reaper that is itself the
        // victim records nothing).
        const std::int64_t wait_until = now_ns() + 500'000'000;
        auto victim_recorded = [&] {
            return std::any_of(record_.events.begin(), record_.events.end(), [](const Event& e) {
                return e.kind == EventKind::process_exit && WIFSIGNALED(static_cast<int>(e.arg0)) &&
                       WTERMSIG(static_cast<int>(e.arg0)) == SIGKILL;
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
        if (limit_hit_ns_ != 0) record_.timings.verdict_ms = ms_between(start_ns_, limit_hit_ns_);
        record_.verdict.signal = SIGKILL;
        return true;
    }
    return false;
}

// When the scenario's first process has been reaped (the reaper marks its process_exit), the
// run is over: what it left running is named, then killed with the sandbox.
bool SandboxRun::first_process_ended() {
    for (; first_exit_scan_ < record_.events.size(); ++first_exit_scan_) {
        const Event& event = record_.events[first_exit_scan_];
        if (event.kind == EventKind::process_exit && event.arg1 == kFirstProcessExit) return true;
    }
    return false;
}

void SandboxRun::note_left_running(const Snapshot& snapshot) {
    for (const auto& process : snapshot.processes) {
        if (process.infrastructure || process.state == 'Z' || process.state == 'X') continue;
        LeftRunning left;
        left.pid = process.ns_pid;
        left.command = process.command.empty() ? process.comm : process.command;
        for (const auto& thread : process.threads)
            if (thread.state != 'Z' && thread.state != 'X')
                left.threads.push_back({process.ns_pid, thread.ns_tid, thread.name,
                                        describe_activity(thread)});
        record_.left_running.push_back(std::move(left));
    }
}

// Takes a sample, cheap or detailed, and keeps what the record needs of it.
Snapshot SandboxRun::take_sample(Observer& observer, bool detailed) {
    std::int64_t before = now_ns();
    Snapshot snapshot = observer.sample(detailed);
    excuse_writes_to_runner(snapshot, stdout_target_, stderr_target_);
    sample_total_us_ += static_cast<double>(now_ns() - before) / 1e3;
    ++record_.timings.samples;
    for (const auto& process : snapshot.processes) seen_pids_.insert(process.pid);
    history_.observe(snapshot);
    keep_snapshot(snapshot);
    return snapshot;
}

void SandboxRun::loop() {
    Observer observer(host_pid_);
    DeadlockDetector detector(request_.detector);
    const std::int64_t deadline =
        start_ns_ + static_cast<std::int64_t>(request_.timeout_seconds * 1e9);
    // Waits whose wakers only a detailed sample names (fds, file locks, shared mappings) are
    // looked at this often while nothing else is suspect.
    constexpr std::int64_t kDetailEvery = 10'000'000;
    std::int64_t last_detail_ns = 0;
    constexpr std::int64_t kLeftoverGraceNs = 200'000'000;
    std::int64_t first_ended_ns = 0;
    bool first_event_seen = false;
    for (;;) {
        stdout_.drain();
        stderr_.drain();
        if (channel_.read(cursor_, record_.events) > 0) read_source_files();
        if (!first_event_seen && !record_.events.empty()) {
            first_event_seen = true;
            record_.timings.setup_ms = ms_between(start_ns_, record_.events.front().time_ns);
        }
        // Before the exit is looked at: a program that writes past the limit and exits within
        // one turn of this loop (a busy machine) has passed it all the same.
        if (output_limit_reached()) return;
        if (kernel_limit_reached()) return;
        if (waitpid(host_pid_, &host_status_, WNOHANG) == host_pid_) {
            host_exited_ = true;
            return;
        }
        // The run ends with the scenario's first process. What it leaves behind gets a moment
        // to end on its own (a fork server or a resource tracker leaves when its parent's socket
        // closes); what is still there then (a daemon, a worker nobody waited for) is named and
        // killed with the sandbox.
        if (first_ended_ns == 0 && first_process_ended()) first_ended_ns = now_ns();
        if (first_ended_ns != 0 && now_ns() - first_ended_ns >= kLeftoverGraceNs) {
            note_left_running(take_sample(observer, true));
            return;
        }
        // While a stuck set is being confirmed every sample is detailed, so that all the
        // samples of one window judge the waits alike.
        bool window_open = detector.quiet_since_ns() != 0;
        Snapshot snapshot = take_sample(observer, window_open);
        // Once the first process has ended, what is left can no longer decide the verdict.
        StuckSet stuck = first_ended_ns == 0 ? find_stuck_threads(snapshot) : StuckSet{};
        bool proven = detector.observe(snapshot, stuck, record_.events);
        bool detail_due = stuck.needs_detail && snapshot.time_ns - last_detail_ns >= kDetailEvery;
        if (!proven && !snapshot.detailed && (!stuck.empty() || detail_due)) {
            // Suspect on a cheap sample: look closer at once (owners, fds, file locks).
            channel_.read(cursor_, record_.events);
            snapshot = take_sample(observer, true);
            stuck = find_stuck_threads(snapshot);
            proven = detector.observe(snapshot, stuck, record_.events);
        }
        if (snapshot.detailed) last_detail_ns = snapshot.time_ns;
        last_snapshot_ = snapshot;
        // Without a cgroup the tasks are counted here: a fork bomb can outrun a sample.
        if (!cgroup_.enforces_tasks() && request_.limits.max_tasks > 0 &&
            scenario_task_count(snapshot) > static_cast<std::size_t>(request_.limits.max_tasks)) {
            stop_with(VerdictKind::limit,
                      fmt::format("Limit: the sandbox had {} processes and threads, more than its "
                                  "limit of {} (counted in a sample: this system gave the run no "
                                  "cgroup, so the kernel did not enforce it).",
                                  scenario_task_count(snapshot), request_.limits.max_tasks));
            record_.verdict.limit = "tasks";
            return;
        }
        if (proven && snapshot.detailed) {
            record_.timings.quiet_window_ms =
                ms_between(detector.quiet_since_ns(), snapshot.time_ns);
            if (record_.snapshots.empty() || record_.snapshots.back().time_ns != snapshot.time_ns)
                record_.snapshots.push_back(snapshot);
            decide_deadlock(snapshot);
            return;
        }
        if (request_.cancel && request_.cancel->load()) {
            // Not a hang and not an outcome: the run was cut short, nothing was proven.
            stop_with(VerdictKind::stopped,
                      fmt::format("Stopped by the user after {:.1f} s, before a verdict was "
                                  "proven: this run has no outcome, and counts in no hang rate.",
                                  static_cast<double>(now_ns() - start_ns_) / 1e9));
            return;
        }
        if (now_ns() >= deadline) {
            Snapshot detailed = take_sample(observer, true);
            if (record_.snapshots.empty() || record_.snapshots.back().time_ns != detailed.time_ns)
                record_.snapshots.push_back(detailed);
            last_snapshot_ = detailed;
            stop_with(VerdictKind::timed_out,
                      explain_timeout(detailed, record_.events, start_ns_,
                                      request_.timeout_seconds));
            capture_stacks_of(detailed, {});
            return;
        }
        if (request_.on_progress) request_.on_progress(record_);
        // Sleep until the next sample, waking early when the host exits or output arrives.
        pollfd fds[3] = {{host_pidfd_, POLLIN, 0}, {stdout_.read_fd, POLLIN, 0},
                         {stderr_.read_fd, POLLIN, 0}};
        if (!stdout_.open) fds[1].fd = -1;
        if (!stderr_.open) fds[2].fd = -1;
        poll(fds, 3, std::max(1, request_.sample_interval_us / 1000));
    }
}

bool SandboxRun::output_limit_reached() {
    if (request_.limits.max_output == 0 ||
        stdout_.capture().written() + stderr_.capture().written() <= request_.limits.max_output)
        return false;
    stop_with(VerdictKind::limit, fmt::format("Limit: the sandbox wrote more than {} bytes of output.",
                                              request_.limits.max_output));
    record_.verdict.limit = "output";
    return true;
}

void SandboxRun::kill_and_reap() {
    stop_watching();
    if (host_pid_ <= 0) return;
    if (!host_exited_) {
        killed_sandbox_ = true;
        // The whole process group first, then every member a sample saw (again, in case the
        // group kill raced a fork). Killing pid 1 of the namespace also kills the rest.
        kill(-host_pid_, SIGKILL);
        for (pid_t pid : seen_pids_)
            if (pid != host_pid_ && in_process_group(pid, host_pid_)) kill(pid, SIGKILL);
        while (waitpid(host_pid_, &host_status_, 0) < 0 && errno == EINTR) {
        }
        host_exited_ = true;
    }
    // Without a PID namespace the host's death leaves the rest of the sandbox alive or as zombies,
    // reparented to the runner (a child subreaper). Kill the group until it is empty and reap
    // each member that comes to us. The group id cannot be reused while a member exists, so
    // the signal reaches only the sandbox. Bounded: a member stuck in the kernel must not hang
    // the runner forever.
    const std::int64_t give_up = now_ns() + 5'000'000'000;
    while (kill(-host_pid_, 0) == 0 && now_ns() < give_up) {
        kill(-host_pid_, SIGKILL);
        auto adopted = adopted_members_of(host_pid_);
        for (pid_t pid : adopted)
            while (waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
            }
        // A member whose parent is still dying comes to us a moment later.
        if (adopted.empty()) usleep(500);
    }
    // Whatever left the process group (setsid, a double fork) is still in the cgroup: killed
    // there, and reaped here when it was adopted by the runner.
    if (cgroup_.active()) {
        auto members = cgroup_.kill_all();
        if (!members.empty()) killed_sandbox_ = true;
        // A member leaves the cgroup a moment before it becomes a zombie: wait for it briefly
        // (ECHILD at once for those whose parent is not the runner).
        const std::int64_t reap_until = now_ns() + 100'000'000;
        for (pid_t pid : members)
            for (;;) {
                pid_t got = waitpid(pid, nullptr, __WALL | WNOHANG);
                if (got < 0 && errno == EINTR) continue;
                if (got != 0 || now_ns() >= reap_until) break;
                usleep(200);
            }
        for (pid_t pid : adopted_members_of(host_pid_))
            while (waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
            }
        // The counters of the whole run, then the cgroups go.
        if (!decided_) kernel_limit_reached();
        else counters_ = cgroup_.read();
        record_.cgroup_counters = counters_;
        cgroup_.remove();
    }
    if (host_pidfd_ >= 0) close(host_pidfd_);
    host_pidfd_ = -1;
}

void SandboxRun::finish_record() {
    // Every writer is dead now; read the pipes to their end (bounded: a stray writer outside
    // our reach must not hang the runner).
    for (int round = 0; round < 100 && (stdout_.open || stderr_.open); ++round) {
        stdout_.drain();
        stderr_.drain();
        if (stdout_.open || stderr_.open) {
            pollfd fds[2] = {{stdout_.open ? stdout_.read_fd : -1, POLLIN, 0},
                             {stderr_.open ? stderr_.read_fd : -1, POLLIN, 0}};
            poll(fds, 2, 10);
        }
    }
    store_output(stdout_.capture(), stderr_.capture(), record_);
    channel_.read(cursor_, record_.events, true, &record_.torn_events);
    read_source_files();
    record_.dropped_events = channel_.dropped();
    for (const auto& event : record_.events)
        if (event.kind == EventKind::note && std::string_view(event.name) == "sandbox" &&
            std::string_view(event.text).rfind("sandbox: ", 0) == 0)
            record_.sandbox = Containment::from_bits(event.object).describe();

    if (!decided_) {
        bool setup_failed = WIFEXITED(host_status_) &&
                            WEXITSTATUS(host_status_) == kHostSetupErrorCode &&
                            record_.stderr_text.find("forklore-host: setup:") != std::string::npos;
        if (setup_failed) {
            std::string message = record_.stderr_text;
            auto at = message.find("forklore-host: setup:");
            message = message.substr(at);
            if (auto newline = message.find('\n'); newline != std::string::npos)
                message.resize(newline);
            stop_with(VerdictKind::setup_error, "Setup error: " + message);
        } else if (output_limit_reached()) {
            // The last of the output arrived with the exit: the limit holds however late the
            // runner read it, so the verdict does not depend on the machine's load.
        } else {
            record_.verdict = judge_exits(record_.events, host_status_);
            record_.verdict.explanation += left_running_sentence(record_.left_running);
            // Why it did not hang, and what could have: as carefully as a hang is explained.
            add_completion_story(record_.verdict, record_.events, record_.snapshots, start_ns_);
            record_.timings.verdict_ms = ms_between(start_ns_, now_ns());
        }
    }
    if (!last_snapshot_.processes.empty() && (record_.snapshots.empty() ||
                                              record_.snapshots.back().time_ns != last_snapshot_.time_ns))
        record_.snapshots.push_back(last_snapshot_);
    record_.processes = build_process_records(record_.events, history_, start_ns_,
                                              {host_pid_, host_status_, killed_sandbox_});
    if (record_.verdict.limit == "memory") record_.verdict.explanation += oom_victims(record_);
    if (!workdir_.empty()) remove_tree(workdir_);
    record_.timings.total_ms = ms_between(start_ns_, now_ns());
    if (record_.timings.samples > 0)
        record_.timings.sample_mean_us = sample_total_us_ / record_.timings.samples;
}

RunRecord SandboxRun::run() {
    start_ns_ = now_ns();
    record_.start_time_ns = start_ns_;
    record_.scenario = request_.scenario ? request_.scenario->id : "";
    record_.variant = request_.variant;
    record_.knobs = request_.knobs;
    record_.expected = request_.expected;
    record_.limits = request_.limits;
    record_.host = host_description();
    if (!request_.scenario) {
        stop_with(VerdictKind::setup_error, "no scenario given");
        return record_;
    }
    // Orphans of the sandbox come to us rather than to init, so nothing escapes reaping.
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    try {
        channel_ = Channel::create(request_.channel_capacity);
    } catch (const std::exception& error) {
        stop_with(VerdictKind::setup_error, std::string("event channel: ") + error.what());
        return record_;
    }
    std::string host_path = request_.host_path.empty() ? default_host_path() : request_.host_path;
    if (start(host_path)) {
        if (cgroup_.active()) {
            watching_ = true;
            limit_watcher_ = std::thread([this] { watch_limits(); });
        }
        loop();
    }
    kill_and_reap();
    finish_record();
    return std::move(record_);
}

} // namespace

std::string default_host_path() {
    std::string self = own_executable_path();
    auto slash = self.rfind('/');
    return (slash == std::string::npos ? std::string(".") : self.substr(0, slash)) +
           "/forklore-host";
}

RunRequest make_request(const Scenario& scenario, const std::string& variant,
                        const KnobValues& overrides) {
    RunRequest request;
    request.scenario = &scenario;
    request.timeout_seconds = scenario.timeout_seconds;
    request.limits = scenario.limits;
    const Variant* chosen = nullptr;
    if (!variant.empty()) {
        chosen = scenario.find_variant(variant);
        if (!chosen) {
            std::vector<std::string> names;
            for (const auto& v : scenario.variants) names.push_back(v.name);
            throw std::invalid_argument(fmt::format("scenario '{}' has no variant '{}' (variants: {})",
                                                    scenario.id, variant, fmt::join(names, ", ")));
        }
        request.variant = variant;
        if (overrides.empty()) request.expected = chosen->expected;
    }
    request.knobs = scenario.resolve_knobs(chosen, overrides);
    return request;
}

RunRecord run_scenario(const RunRequest& request) {
    SandboxRun run(request);
    return run.run();
}

} // namespace forklore
