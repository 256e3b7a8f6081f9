// forklore_check_leftovers: after the whole test suite, nothing of forklore may remain.
//
//   forklore_check_leftovers --record FILE   (the suite's first test: FIXTURES_SETUP)
//   forklore_check_leftovers --check FILE    (its last: FIXTURES_CLEANUP)
//
// --record writes down the forklore working directories and cgroups that exist before the suite
// starts (another worktree's suite, or a runner killed long ago, may have left some: not ours).
// --check then fails, listing each, when any of these remains:
//   - a live process of this suite: one whose environment carries this build tree's marker
//     (FORKLORE_TEST_SUITE=<build dir>, which CTest gives every test and which forklore passes on
//     to every sandbox, and every sandbox to the programs it runs), or a descendant of the CTest
//     process that runs this check. A forklore-gui or forklore someone started by hand, and the
//     sandboxes of another worktree's suite, have neither and are left alone;
//   - a /tmp/forklore-run-* working directory, or a cgroup named forklore* under
//     /sys/fs/cgroup/*/, that was not there before, is still there a moment later, and is not in
//     use by a process that is not ours (a concurrent run elsewhere owns those).
// Exit 0 when nothing remains, 1 when something does (each named on stdout), 2 on bad usage.
#include "tests/support/process_table.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace forklore::test_support;

namespace {

constexpr const char* kMarkerName = "FORKLORE_TEST_SUITE";

std::vector<std::string> working_directories() {
    return glob_paths("/tmp/forklore-run-*");
}

// forklore* cgroups at any depth below a controller's root (a per-run cgroup, and any
// forklore* group inside one).
std::vector<std::string> forklore_cgroups() {
    std::vector<std::string> found;
    std::vector<std::string> level = glob_paths("/sys/fs/cgroup/*/forklore*");
    for (int depth = 0; depth < 4 && !level.empty(); ++depth) {
        std::vector<std::string> next;
        for (const auto& path : level) {
            struct stat st {};
            if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
                continue;
            found.push_back(path);
            for (auto& inner : glob_paths(path + "/forklore*"))
                next.push_back(inner);
        }
        level = std::move(next);
    }
    std::sort(found.begin(), found.end());
    return found;
}

// Who is ours: the suite's marker in its environment, or a descendant of the CTest run.
struct Ownership {
    std::string marker;     // "FORKLORE_TEST_SUITE=/path/to/build"
    pid_t ctest = 0;        // the process that started this check
    std::set<pid_t> exempt; // this check and its ancestors

    bool ours(const ProcessTable& table, const ProcessInfo& process) const {
        if (exempt.count(process.pid) || process.zombie())
            return false;
        if (ctest > 1 && table.descends_from(process.pid, ctest))
            return true;
        return !marker.empty() && has_environment_entry(process.pid, marker);
    }
};

std::vector<std::string> our_processes(const Ownership& owner) {
    ProcessTable table;
    std::vector<std::string> found;
    for (const auto& [pid, process] : table.processes())
        if (owner.ours(table, process))
            found.push_back(process.describe());
    return found;
}

// The live processes that are not ours and use `path`: as their working directory (a sandbox
// of a concurrent run sits in its own), on their command line (forklore-host --workdir PATH),
// or, for a cgroup, as members.
bool used_by_others(const Ownership& owner, const ProcessTable& table, const std::string& path) {
    std::set<pid_t> members;
    std::string procs = read_file_text(path + "/cgroup.procs");
    for (std::size_t at = 0; at < procs.size();) {
        std::size_t end = procs.find('\n', at);
        if (end == std::string::npos)
            end = procs.size();
        members.insert(std::atoi(procs.substr(at, end - at).c_str()));
        at = end + 1;
    }
    for (const auto& [pid, process] : table.processes()) {
        if (process.zombie() || owner.ours(table, process))
            continue;
        char cwd[4096];
        ssize_t length =
            readlink(("/proc/" + std::to_string(pid) + "/cwd").c_str(), cwd, sizeof cwd - 1);
        std::string directory =
            length > 0 ? std::string(cwd, static_cast<std::size_t>(length)) : "";
        if (members.count(pid) || directory.rfind(path, 0) == 0 ||
            process.cmdline.find(path) != std::string::npos)
            return true;
    }
    return false;
}

std::vector<std::string> read_lines(const std::string& path) {
    std::vector<std::string> lines;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            lines.push_back(line);
    return lines;
}

int record(const std::string& file) {
    std::ofstream out(file, std::ios::trunc);
    for (const auto& path : working_directories())
        out << path << "\n";
    for (const auto& path : forklore_cgroups())
        out << path << "\n";
    if (!out) {
        std::fprintf(stderr, "forklore_check_leftovers: cannot write %s\n", file.c_str());
        return 2;
    }
    std::printf("recorded what existed before the suite in %s\n", file.c_str());
    return 0;
}

int check(const std::string& file) {
    Ownership owner;
    if (const char* value = std::getenv(kMarkerName))
        owner.marker = std::string(kMarkerName) + "=" + value;
    {
        ProcessTable table;
        for (pid_t pid : table.ancestry(getpid()))
            owner.exempt.insert(pid);
        // Run by hand from a shell, the shell's other children are not the suite's.
        const ProcessInfo* parent = table.find(getppid());
        if (parent && parent->comm == "ctest")
            owner.ctest = parent->pid;
    }
    std::vector<std::string> before_list = read_lines(file);
    const std::set<std::string> before(before_list.begin(), before_list.end());
    auto new_paths = [&] {
        std::set<std::string> paths;
        for (const auto& path : working_directories())
            if (!before.count(path))
                paths.insert(path);
        for (const auto& path : forklore_cgroups())
            if (!before.count(path))
                paths.insert(path);
        return paths;
    };

    // A run that ended a moment ago may still be reaping: leftovers get 3 s to go on their own.
    // A path must be there at the start and at the end of that wait: a concurrent run elsewhere
    // makes and removes its own all the time.
    const std::set<std::string> first_paths = new_paths();
    std::vector<std::string> processes;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    do {
        processes = our_processes(owner);
        if (processes.empty() && first_paths.empty())
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (std::chrono::steady_clock::now() < give_up);
    std::vector<std::string> paths;
    ProcessTable table;
    for (const auto& path : new_paths())
        if (first_paths.count(path) && !used_by_others(owner, table, path))
            paths.push_back(path);

    if (processes.empty() && paths.empty()) {
        std::printf("nothing of forklore remains: no process of this suite (%s), no new "
                    "/tmp/forklore-run-* directory, no new forklore* cgroup\n",
                    owner.marker.empty() ? "no marker set" : owner.marker.c_str());
        return 0;
    }
    std::printf("forklore left these behind after the test suite:\n");
    for (const auto& process : processes)
        std::printf("  process %s\n", process.c_str());
    for (const auto& path : paths)
        std::printf("  %s\n", path.c_str());
    return 1;
}

} // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "--record")
        return record(argv[2]);
    if (argc == 3 && std::string(argv[1]) == "--check")
        return check(argv[2]);
    std::fprintf(stderr, "usage: forklore_check_leftovers --record FILE | --check FILE\n");
    return 2;
}
