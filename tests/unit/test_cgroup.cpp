// Per-run cgroups: parsing the kernel's files, choosing the hierarchies (v1, v2, and the hybrid of
// this machine and CI), and the v2 code path on a directory laid out like a v2 cgroup (this
// machine has no v2 controllers to try it on; the v1 path runs for real in every engine test).
#include "sim/sandbox/cgroup.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace forklore;

namespace {

// Hybrid, as on this machine: v1 controllers, a v2 mount with none, systemd's named hierarchy.
constexpr const char* kHybridMountinfo =
    "25 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "27 25 0:24 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "28 25 0:25 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "29 25 0:26 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "31 25 0:28 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "32 25 0:29 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "33 25 0:30 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "40 30 0:40 / /tmp rw,relatime - tmpfs tmpfs rw\n";

constexpr const char* kHybridSelf = "9:name=systemd:/\n8:pids:/\n6:freezer:/\n"
                                    "4:memory:/process_api/6e99\n2:cpuacct:/\n1:cpu:/\n0::/\n";

std::string slurp(const std::filesystem::path& path) {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

void put(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path) << text;
}

} // namespace

TEST_CASE("cgroup mounts are read from mountinfo, with their controllers", "[cgroup]") {
    auto mounts = parse_cgroup_mounts(kHybridMountinfo);
    REQUIRE(mounts.size() == 7); // the tmpfs mounts are not cgroups
    CHECK(mounts[0].mount_point == "/sys/fs/cgroup/cpu");
    CHECK(mounts[0].controllers == std::vector<std::string>{"cpu"});
    CHECK(mounts[5].controllers.empty()); // name=systemd holds no controller
    CHECK(mounts[6].version == 2);
    CHECK(mounts[6].mount_point == "/sys/fs/cgroup/unified");
    // A combined v1 hierarchy and an escaped mount point.
    auto combined = parse_cgroup_mounts(
        "26 25 0:23 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,nosuid,cpu,cpuacct\n"
        "27 25 0:24 /sub /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw,nsdelegate\n");
    REQUIRE(combined.size() == 2);
    CHECK(combined[0].controllers == std::vector<std::string>{"cpu", "cpuacct"});
    CHECK(combined[1].mount_point == "/mnt/my cgroups");
    CHECK(combined[1].root == "/sub");
}

TEST_CASE("/proc/self/cgroup gives a path per controller, and the v2 one under \"\"", "[cgroup]") {
    auto self = parse_self_cgroups(kHybridSelf);
    CHECK(self.at("memory") == "/process_api/6e99");
    CHECK(self.at("pids") == "/");
    CHECK(self.at("") == "/");
    auto combined = parse_self_cgroups("3:cpu,cpuacct:/user.slice\n0::/user.slice/app.scope\n");
    CHECK(combined.at("cpu") == "/user.slice");
    CHECK(combined.at("cpuacct") == "/user.slice");
    CHECK(combined.at("") == "/user.slice/app.scope");
}

TEST_CASE("keyed counters are read from the kernel's files", "[cgroup]") {
    CHECK(keyed_value("max 17\n", "max") == 17u);
    CHECK(keyed_value("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", "oom_kill") == 3u);
    CHECK(keyed_value("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n", "oom_kill") ==
          1u);
    CHECK(keyed_value("usage_usec 1250\nuser_usec 1000\n", "usage_usec") == 1250u);
    CHECK_FALSE(keyed_value("maximum 3\n", "max").has_value()); // whole keys only
    CHECK_FALSE(keyed_value("", "max").has_value());
}

TEST_CASE("the plan takes v1 controllers and the v2 hierarchy for killing (hybrid)", "[cgroup]") {
    auto plan = plan_cgroups(parse_cgroup_mounts(kHybridMountinfo), parse_self_cgroups(kHybridSelf),
                             {"hugetlb"});
    REQUIRE(plan.directories.size() == 4); // v2 (kill, accounting), cpu, memory, pids
    CHECK(plan.directories[0].version == 2);
    CHECK(plan.directories[0].parent == "/sys/fs/cgroup/unified");
    CHECK(plan.directories[0].controllers.empty());
    std::map<std::string, std::string> parent_of;
    for (const auto& directory : plan.directories)
        for (const auto& controller : directory.controllers)
            parent_of[controller] = directory.parent;
    CHECK(parent_of.at("pids") == "/sys/fs/cgroup/pids");
    CHECK(parent_of.at("memory") == "/sys/fs/cgroup/memory/process_api/6e99");
    CHECK(parent_of.at("cpu") == "/sys/fs/cgroup/cpu");
    CHECK(parent_of.count("freezer") == 0); // cgroup.kill does its work
    CHECK(plan.notes.empty());
}

TEST_CASE("the plan uses v2 alone when it offers the controllers, and says what is missing",
          "[cgroup]") {
    auto mounts = parse_cgroup_mounts("33 25 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
    auto self = parse_self_cgroups("0::/user.slice/user-1000.slice/user@1000.service/app.slice\n");
    auto plan = plan_cgroups(mounts, self, {"cpuset", "cpu", "io", "memory", "pids"});
    REQUIRE(plan.directories.size() == 1);
    CHECK(plan.directories[0].parent ==
          "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice");
    CHECK(plan.directories[0].controllers == std::vector<std::string>{"pids", "memory", "cpu"});
    CHECK(plan.notes.empty());

    auto bare = plan_cgroups(mounts, self, {"cpu"}); // a delegation without pids and memory
    CHECK(bare.notes.size() == 2);
    auto none = plan_cgroups({}, {}, {});
    CHECK(none.directories.empty());
    CHECK(none.notes.size() == 2);
}

TEST_CASE("a v2 cgroup gets its limits, reads its counters and is killed with cgroup.kill",
          "[cgroup]") {
    // A directory laid out like a v2 parent and the child the kernel would populate.
    char pattern[] = "/tmp/forklore-cgroup-test-XXXXXX";
    REQUIRE(mkdtemp(pattern));
    const std::filesystem::path parent = pattern;
    put(parent / "cgroup.subtree_control", "");
    const std::filesystem::path child = parent / "forklore-test-1";
    std::filesystem::create_directory(child);
    for (const char* file :
         {"pids.max", "memory.max", "memory.swap.max", "cpu.weight", "cgroup.kill", "cgroup.procs"})
        put(child / file, "");
    put(child / "pids.events", "max 5\n");
    put(child / "pids.current", "42\n");
    put(child / "memory.events", "low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n");
    put(child / "memory.peak", "268435456\n");
    put(child / "cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");

    CgroupPlan plan;
    plan.directories.push_back({parent.string(), 2, {"pids", "memory", "cpu"}});
    CgroupSettings settings;
    settings.max_tasks = 256;
    settings.max_memory = 1ULL << 30;
    settings.cpu_weight = 50;
    {
        RunCgroup cgroup = RunCgroup::create("forklore-test-1", settings, plan);
        CHECK(cgroup.active());
        CHECK(cgroup.enforces_tasks());
        CHECK(cgroup.enforces_memory());
        CHECK(cgroup.directories() == std::vector<std::string>{child.string()});
        CHECK(slurp(parent / "cgroup.subtree_control") == "+pids +memory +cpu");
        CHECK(slurp(child / "pids.max") == "256");
        CHECK(slurp(child / "memory.max") == std::to_string(1ULL << 30));
        CHECK(slurp(child / "memory.swap.max") == "0");
        CHECK(slurp(child / "cpu.weight") == "50");
        CHECK(cgroup.describe() == "cgroup v2 pids memory cpu kill");

        CgroupCounters counters = cgroup.read();
        CHECK(counters.tasks_refused == 5);
        CHECK(counters.tasks == 42);
        CHECK(counters.oom_kills == 2);
        CHECK(counters.memory_peak == 268435456);
        CHECK(counters.cpu_ns == 1'500'000);

        bool tasks_by_kernel = false;
        for (const auto& e : cgroup.enforcement())
            if (e.limit == "tasks")
                tasks_by_kernel = e.by_kernel && e.mechanism == "cgroup v2 pids.max";
        CHECK(tasks_by_kernel);

        CHECK(cgroup.kill_all(100).empty()); // no member
        CHECK(slurp(child / "cgroup.kill") == "1");
    }
    std::filesystem::remove_all(parent);
}

TEST_CASE("without a writable hierarchy a run gets no cgroup, and its notes say why", "[cgroup]") {
    CgroupPlan plan;
    plan.directories.push_back({"/proc/forklore-no-such-parent", 1, {"pids"}});
    RunCgroup cgroup = RunCgroup::create("forklore-test-2", CgroupSettings{}, plan);
    CHECK_FALSE(cgroup.active());
    CHECK_FALSE(cgroup.enforces_tasks());
    CHECK(cgroup.describe() == "none");
    REQUIRE_FALSE(cgroup.notes().empty());
    CHECK(cgroup.notes().front().find("cannot create the cgroup") != std::string::npos);
}

TEST_CASE("a real run's cgroups are made beneath the runner's own and removed", "[cgroup]") {
    if (geteuid() != 0)
        return; // an unprivileged user gets no v1 cgroup: nothing to check
    CgroupSettings settings;
    settings.max_tasks = 8;
    RunCgroup cgroup =
        RunCgroup::create("forklore-" + std::to_string(getpid()) + "-unit", settings);
    if (!cgroup.active())
        return; // a machine without cgroups: the fallback, tested above
    std::vector<std::string> made = cgroup.directories();
    for (const auto& directory : made)
        CHECK(std::filesystem::is_directory(directory));
    CHECK(cgroup.members().empty());
    CHECK(cgroup.read().tasks == 0);
    cgroup.remove();
    for (const auto& directory : made)
        CHECK_FALSE(std::filesystem::exists(directory));
}
