// Per-run cgroups (cgroup.hpp): finding the machine's cgroup mounts, planning which controllers a
// run can use, and one run's cgroup from creation to removal.
//
// Index of this file:
// [SECTION] reading the machine's cgroups: mounts, membership, plans
// [SECTION] a run's cgroup: create, read counters, kill, remove
// [SECTION] leftovers of killed runners
#include "sim/sandbox/cgroup.hpp"

#include "sim/sandbox/cgroup_files.hpp"
#include "sim/sandbox/stale_runs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>
#include <set>

namespace forklore {

namespace {

constexpr const char* kNamePrefix = "forklore-";

// The controllers a run uses; a v1 mount's other options are not controllers.
const char* const kKnownControllers[] = {"pids",       "memory",  "cpu",   "cpuacct", "freezer",
                                         "cpuset",     "devices", "blkio", "net_cls", "net_prio",
                                         "perf_event", "hugetlb", "rdma",  "misc"};

using namespace cgroup_files;
} // namespace

// [SECTION] reading the machine's cgroups: mounts, membership, plans -------------------------

std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mountinfo) {
    std::vector<CgroupMount> mounts;
    for (auto line : split(mountinfo, '\n')) {
        auto dash = line.find(" - ");
        if (dash == std::string_view::npos)
            continue;
        auto before = split(line.substr(0, dash), ' ');
        auto after = split(line.substr(dash + 3), ' ');
        if (before.size() < 5 || after.size() < 3)
            continue;
        CgroupMount mount;
        if (after[0] == "cgroup2") {
            mount.version = 2;
        } else if (after[0] == "cgroup") {
            mount.version = 1;
            for (auto option : split(after[2], ','))
                for (const char* known : kKnownControllers)
                    if (option == known)
                        mount.controllers.emplace_back(option);
        } else {
            continue;
        }
        mount.root = unescape_mountinfo(before[3]);
        mount.mount_point = unescape_mountinfo(before[4]);
        mounts.push_back(std::move(mount));
    }
    return mounts;
}

std::map<std::string, std::string> parse_self_cgroups(std::string_view text) {
    std::map<std::string, std::string> paths;
    for (auto line : split(text, '\n')) {
        auto first = line.find(':');
        if (first == std::string_view::npos)
            continue;
        auto second = line.find(':', first + 1);
        if (second == std::string_view::npos)
            continue;
        auto controllers = line.substr(first + 1, second - first - 1);
        std::string path(line.substr(second + 1));
        if (controllers.empty() && line.substr(0, first) == "0") {
            paths[""] = path;
            continue;
        }
        for (auto controller : split(controllers, ','))
            paths[std::string(controller)] = path;
    }
    return paths;
}

std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key) {
    for (auto line : split(text, '\n')) {
        if (line.size() <= key.size() || line.substr(0, key.size()) != key ||
            line[key.size()] != ' ')
            continue;
        auto number = line.substr(key.size() + 1);
        std::uint64_t value = 0;
        if (std::from_chars(number.data(), number.data() + number.size(), value).ec == std::errc())
            return value;
    }
    return std::nullopt;
}

CgroupPlan plan_cgroups(const std::vector<CgroupMount>& mounts,
                        const std::map<std::string, std::string>& self_cgroups,
                        const std::vector<std::string>& v2_controllers) {
    CgroupPlan plan;
    std::set<std::string> covered;
    // cgroup v2 first: one directory for every controller it offers, and always for killing
    // (cgroup.kill) and CPU accounting (cpu.stat), which need no controller.
    auto v2 = std::find_if(mounts.begin(), mounts.end(),
                           [](const CgroupMount& m) { return m.version == 2; });
    auto self_v2 = self_cgroups.find("");
    if (v2 != mounts.end() && self_v2 != self_cgroups.end()) {
        std::string parent = directory_in(*v2, self_v2->second);
        if (!parent.empty()) {
            CgroupPlan::Directory directory{parent, 2, {}};
            for (const char* wanted : {"pids", "memory", "cpu"})
                if (std::find(v2_controllers.begin(), v2_controllers.end(), wanted) !=
                    v2_controllers.end()) {
                    directory.controllers.emplace_back(wanted);
                    covered.insert(wanted);
                }
            // cpu.stat's usage is there without the cpu controller; cgroup.kill replaces the
            // freezer.
            covered.insert("cpuacct");
            covered.insert("freezer");
            plan.directories.push_back(std::move(directory));
        }
    }
    // cgroup v1: a directory in each hierarchy that holds a controller v2 did not give.
    for (const auto& mount : mounts) {
        if (mount.version != 1)
            continue;
        CgroupPlan::Directory directory{{}, 1, {}};
        for (const auto& controller : mount.controllers) {
            if (covered.count(controller))
                continue;
            if (controller != "pids" && controller != "memory" && controller != "cpu" &&
                controller != "cpuacct" && controller != "freezer")
                continue;
            auto self = self_cgroups.find(controller);
            if (self == self_cgroups.end())
                continue;
            std::string parent = directory_in(mount, self->second);
            if (parent.empty()) {
                plan.notes.push_back(fmt::format(
                    "the {} cgroup of forklore is outside the mounted hierarchy", controller));
                continue;
            }
            directory.parent = parent;
            directory.controllers.push_back(controller);
        }
        if (directory.controllers.empty())
            continue;
        for (const auto& controller : directory.controllers)
            covered.insert(controller);
        plan.directories.push_back(std::move(directory));
    }
    for (const char* needed : {"pids", "memory"})
        if (!covered.count(needed))
            plan.notes.push_back(fmt::format("no {} cgroup controller on this system", needed));
    return plan;
}

// [SECTION] a run's cgroup: create, read counters, kill, remove ------------------------------

RunCgroup::RunCgroup(RunCgroup&& other) noexcept {
    *this = std::move(other);
}

RunCgroup& RunCgroup::operator=(RunCgroup&& other) noexcept {
    if (this == &other)
        return *this;
    remove();
    directories_ = std::move(other.directories_);
    pids_dir_ = std::move(other.pids_dir_);
    memory_dir_ = std::move(other.memory_dir_);
    cpuacct_dir_ = std::move(other.cpuacct_dir_);
    freezer_dir_ = std::move(other.freezer_dir_);
    kill_dir_ = std::move(other.kill_dir_);
    pids_version_ = other.pids_version_;
    memory_version_ = other.memory_version_;
    cpu_version_ = other.cpu_version_;
    cpuacct_version_ = other.cpuacct_version_;
    settings_ = other.settings_;
    notes_ = std::move(other.notes_);
    other.directories_.clear();
    return *this;
}

RunCgroup::~RunCgroup() {
    if (!directories_.empty()) {
        kill_all(1000);
        remove();
    }
}

RunCgroup RunCgroup::create(const std::string& name, const CgroupSettings& settings) {
    static std::once_flag swept;
    std::call_once(swept, sweep_stale_cgroups);
    auto mounts = parse_cgroup_mounts(system_file("/proc/self/mountinfo"));
    auto self = parse_self_cgroups(system_file("/proc/self/cgroup"));
    std::vector<std::string> v2_controllers;
    for (const auto& mount : mounts)
        if (mount.version == 2 && self.count("")) {
            std::string parent = directory_in(mount, self.at(""));
            // Kept in a variable: split's views point into it, and a temporary in a range-for's
            // expression dies before the loop runs (ASan: stack-use-after-scope).
            const std::string offered = system_file((parent + "/cgroup.controllers").c_str());
            for (auto c : split(offered, ' '))
                if (!c.empty())
                    v2_controllers.emplace_back(c.back() == '\n' ? c.substr(0, c.size() - 1) : c);
            break;
        }
    return create(name, settings, plan_cgroups(mounts, self, v2_controllers));
}

RunCgroup RunCgroup::create(const std::string& name, const CgroupSettings& settings,
                            const CgroupPlan& plan) {
    RunCgroup cgroup;
    cgroup.settings_ = settings;
    cgroup.notes_ = plan.notes;
    for (const auto& planned : plan.directories) {
        std::string directory = planned.parent + "/" + name;
        std::vector<std::string> controllers = planned.controllers;
        if (planned.version == 2 && !controllers.empty()) {
            // A v2 cgroup gets a controller only when its parent hands it down.
            std::string enable;
            for (const auto& c : controllers)
                enable += (enable.empty() ? "+" : " +") + c;
            if (!write_cgroup_file(planned.parent + "/cgroup.subtree_control", enable)) {
                cgroup.notes_.push_back(fmt::format("cannot enable {} in {}: {}",
                                                    fmt::join(controllers, " "), planned.parent,
                                                    strerror(errno)));
                controllers.clear();
            }
        }
        if (mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST) {
            cgroup.notes_.push_back(
                fmt::format("cannot create the cgroup {}: {}", directory, strerror(errno)));
            continue;
        }
        cgroup.directories_.push_back(directory);
        const int v = planned.version;
        auto has = [&](const char* c) {
            return std::find(controllers.begin(), controllers.end(), c) != controllers.end();
        };
        if (has("pids")) {
            std::string value = settings.max_tasks ? std::to_string(settings.max_tasks) : "max";
            if (write_cgroup_file(directory + "/pids.max", value)) {
                cgroup.pids_dir_ = directory;
                cgroup.pids_version_ = v;
            } else {
                cgroup.notes_.push_back(fmt::format("pids.max: {}", strerror(errno)));
            }
        }
        if (has("memory")) {
            bool ok = true;
            if (settings.max_memory > 0) {
                std::string bytes = std::to_string(settings.max_memory);
                if (v == 2) {
                    ok = write_cgroup_file(directory + "/memory.max", bytes);
                    // No swap: a memory bomb must meet its limit, not fill the swap first.
                    if (ok && exists(directory + "/memory.swap.max"))
                        write_cgroup_file(directory + "/memory.swap.max", "0");
                } else {
                    ok = write_cgroup_file(directory + "/memory.limit_in_bytes", bytes);
                    // memsw is memory plus swap: equal to the memory limit means no swap.
                    if (ok && exists(directory + "/memory.memsw.limit_in_bytes"))
                        write_cgroup_file(directory + "/memory.memsw.limit_in_bytes", bytes);
                }
            }
            if (ok) {
                cgroup.memory_dir_ = directory;
                cgroup.memory_version_ = v;
            } else {
                cgroup.notes_.push_back(fmt::format("memory limit: {}", strerror(errno)));
            }
        }
        if (has("cpu")) {
            // A smaller share than the rest of the machine: a spinning sandbox leaves the
            // runner and the user's programs their CPU.
            bool ok = v == 2 ? write_cgroup_file(directory + "/cpu.weight",
                                                 std::to_string(std::max(1, settings.cpu_weight)))
                             : write_cgroup_file(
                                   directory + "/cpu.shares",
                                   std::to_string(std::max(2, 1024 * settings.cpu_weight / 100)));
            if (ok)
                cgroup.cpu_version_ = v;
        }
        if (v == 2) {
            cgroup.cpuacct_dir_ = directory;
            cgroup.cpuacct_version_ = 2;
            if (exists(directory + "/cgroup.kill"))
                cgroup.kill_dir_ = directory;
        } else {
            if (has("cpuacct")) {
                cgroup.cpuacct_dir_ = directory;
                cgroup.cpuacct_version_ = 1;
            }
            if (has("freezer"))
                cgroup.freezer_dir_ = directory;
        }
    }
    if (!cgroup.enforces_tasks() && !cgroup.directories_.empty())
        cgroup.notes_.push_back("the task limit is not enforced by a cgroup");
    return cgroup;
}

std::string RunCgroup::describe() const {
    if (directories_.empty())
        return "none";
    std::vector<std::string> v1, v2;
    auto add = [&](int version, const char* what) { (version == 2 ? v2 : v1).emplace_back(what); };
    if (pids_version_)
        add(pids_version_, "pids");
    if (memory_version_)
        add(memory_version_, "memory");
    if (cpu_version_)
        add(cpu_version_, "cpu");
    if (cpuacct_version_ == 1)
        add(1, "cpuacct");
    if (!freezer_dir_.empty())
        add(1, "freezer");
    if (!kill_dir_.empty())
        add(2, "kill");
    std::string text;
    if (!v1.empty())
        text += fmt::format("cgroup v1 {}", fmt::join(v1, " "));
    if (!v2.empty())
        text += fmt::format("{}cgroup v2 {}", text.empty() ? "" : ", ", fmt::join(v2, " "));
    return text.empty() ? "none" : text;
}

std::vector<LimitEnforcement> RunCgroup::enforcement() const {
    std::vector<LimitEnforcement> list;
    if (enforces_tasks())
        list.push_back({"tasks", settings_.max_tasks ? std::to_string(settings_.max_tasks) : "none",
                        fmt::format("cgroup v{} pids.max", pids_version_), true});
    if (enforces_memory())
        list.push_back({"memory", settings_.max_memory ? human_bytes(settings_.max_memory) : "none",
                        memory_version_ == 2 ? "cgroup v2 memory.max, memory.swap.max 0"
                                             : "cgroup v1 memory.limit_in_bytes and memsw",
                        true});
    if (cpu_version_)
        list.push_back({"cpu share", fmt::format("{}% of a default cgroup", settings_.cpu_weight),
                        cpu_version_ == 2 ? "cgroup v2 cpu.weight" : "cgroup v1 cpu.shares", true});
    if (!kill_dir_.empty())
        list.push_back({"end of run", "every member killed", "cgroup v2 cgroup.kill", true});
    else if (!freezer_dir_.empty())
        list.push_back(
            {"end of run", "every member killed", "cgroup v1 freezer, then SIGKILL", true});
    else if (active())
        list.push_back(
            {"end of run", "every member killed", "SIGKILL to each cgroup member", true});
    return list;
}

CgroupCounters RunCgroup::read() const {
    CgroupCounters counters;
    if (!pids_dir_.empty()) {
        counters.tasks_refused = read_keyed(pids_dir_ + "/pids.events", "max").value_or(0);
        counters.tasks = read_number(pids_dir_ + "/pids.current").value_or(0);
        counters.tasks_peak = read_number(pids_dir_ + "/pids.peak").value_or(0);
    }
    if (!memory_dir_.empty()) {
        if (memory_version_ == 2) {
            counters.oom_kills = read_keyed(memory_dir_ + "/memory.events", "oom_kill").value_or(0);
            counters.memory_peak = read_number(memory_dir_ + "/memory.peak").value_or(0);
        } else {
            counters.oom_kills =
                read_keyed(memory_dir_ + "/memory.oom_control", "oom_kill").value_or(0);
            counters.memory_peak =
                read_number(memory_dir_ + "/memory.max_usage_in_bytes").value_or(0);
        }
    }
    if (!cpuacct_dir_.empty()) {
        if (cpuacct_version_ == 2)
            counters.cpu_ns =
                read_keyed(cpuacct_dir_ + "/cpu.stat", "usage_usec").value_or(0) * 1000;
        else
            counters.cpu_ns = read_number(cpuacct_dir_ + "/cpuacct.usage").value_or(0);
    }
    return counters;
}

std::vector<pid_t> RunCgroup::members() const {
    std::set<pid_t> all;
    for (const auto& directory : directories_)
        for (pid_t pid : read_procs(directory))
            all.insert(pid);
    return {all.begin(), all.end()};
}

std::vector<pid_t> RunCgroup::kill_all(int budget_ms) {
    std::set<pid_t> seen;
    if (directories_.empty())
        return {};
    const std::int64_t deadline = now_ms() + budget_ms;
    for (pid_t pid : members())
        seen.insert(pid);
    if (!kill_dir_.empty()) {
        // One write: the kernel kills every task of the cgroup, new forks included.
        write_cgroup_file(kill_dir_ + "/cgroup.kill", "1");
    } else if (!freezer_dir_.empty()) {
        // Frozen, a fork bomb cannot replace the members killed one by one.
        write_cgroup_file(freezer_dir_ + "/freezer.state", "FROZEN");
        std::string state;
        while (now_ms() < deadline && read_small_file(freezer_dir_ + "/freezer.state", state) &&
               state.rfind("FROZEN", 0) != 0)
            usleep(200);
        for (pid_t pid : read_procs(freezer_dir_)) {
            seen.insert(pid);
            kill(pid, SIGKILL);
        }
        write_cgroup_file(freezer_dir_ + "/freezer.state", "THAWED");
    }
    for (const auto& directory : directories_)
        kill_members_until_empty(directory, deadline, &seen);
    return {seen.begin(), seen.end()};
}

void RunCgroup::remove() {
    // Children before parents does not arise (each directory is a leaf); v2 was made first.
    for (const auto& directory : directories_)
        if (!remove_directory(directory))
            notes_.push_back(fmt::format("could not remove {}: {}", directory, strerror(errno)));
    directories_.clear();
}

// [SECTION] leftovers of killed runners ------------------------------------------------------

void sweep_stale_cgroups() {
    auto mounts = parse_cgroup_mounts(system_file("/proc/self/mountinfo"));
    auto self = parse_self_cgroups(system_file("/proc/self/cgroup"));
    std::set<std::string> parents;
    for (const auto& mount : mounts) {
        std::vector<std::string> keys =
            mount.version == 2 ? std::vector<std::string>{""} : mount.controllers;
        for (const auto& key : keys)
            if (auto it = self.find(key); it != self.end()) {
                std::string parent = directory_in(mount, it->second);
                if (!parent.empty())
                    parents.insert(parent);
            }
    }
    for (const auto& parent : parents) {
        DIR* dir = opendir(parent.c_str());
        if (!dir)
            continue;
        std::vector<std::string> stale;
        while (dirent* entry = readdir(dir)) {
            if (runner_is_gone(runner_in_name(entry->d_name, kNamePrefix)))
                stale.push_back(parent + "/" + entry->d_name);
        }
        closedir(dir);
        for (const auto& directory : stale) {
            if (exists(directory + "/cgroup.kill"))
                write_cgroup_file(directory + "/cgroup.kill", "1");
            kill_members_until_empty(directory, now_ms() + 1000, nullptr);
            remove_directory(directory);
        }
    }
}

} // namespace forklore
