#include "sim/sandbox.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace forklore {

std::string Containment::describe() const {
    std::string text;
    auto add = [&](bool on, const char* name) {
        if (!on) return;
        if (!text.empty()) text += ' ';
        text += name;
    };
    add(user_ns, "user");
    add(pid_ns, "pid");
    add(mount_ns, "mount");
    add(net_ns, "net");
    add(ipc_ns, "ipc");
    return text.empty() ? "none" : text;
}

std::string contain_die_with_parent(pid_t expected_parent) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        return fmt::format("prctl(PR_SET_PDEATHSIG): {}", strerror(errno));
    // The runner may have died between our start and the prctl: then no signal will come.
    if (expected_parent > 0 && getppid() != expected_parent) return "the runner is gone";
    return {};
}

namespace {
bool write_file(const char* path, const std::string& text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    close(fd);
    return ok;
}

// Unprivileged: become root of a new user namespace so the other namespaces are allowed.
bool enter_user_namespace() {
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER) != 0) return false;
    write_file("/proc/self/setgroups", "deny");
    return write_file("/proc/self/uid_map", fmt::format("0 {} 1\n", uid)) &&
           write_file("/proc/self/gid_map", fmt::format("0 {} 1\n", gid));
}
} // namespace

std::string contain_namespaces(Containment& containment) {
    if (geteuid() != 0) {
        containment.user_ns = enter_user_namespace();
        if (!containment.user_ns)
            containment.notes.push_back(
                fmt::format("no user namespace ({}): running without namespaces", strerror(errno)));
    }
    struct Wanted {
        int flag;
        bool Containment::*entered;
        const char* name;
    };
    const Wanted wanted[] = {{CLONE_NEWPID, &Containment::pid_ns, "pid"},
                             {CLONE_NEWNS, &Containment::mount_ns, "mount"},
                             {CLONE_NEWNET, &Containment::net_ns, "net"},
                             {CLONE_NEWIPC, &Containment::ipc_ns, "ipc"}};
    int all = 0;
    for (const auto& w : wanted) all |= w.flag;
    if (unshare(all) == 0) {
        for (const auto& w : wanted) containment.*w.entered = true;
    } else {
        // Some kernels or containers allow only some namespaces: take each one that works.
        for (const auto& w : wanted) {
            if (unshare(w.flag) == 0)
                containment.*w.entered = true;
            else
                containment.notes.push_back(
                    fmt::format("no {} namespace: {}", w.name, strerror(errno)));
        }
    }
    if (containment.mount_ns) {
        // Without this, mounts made in the sandbox would propagate back to the host's tree.
        if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            containment.notes.push_back(
                fmt::format("could not make mounts private: {}", strerror(errno)));
    }
    return {};
}

std::string contain_workdir(const std::string& directory, const Containment& containment,
                            std::uint64_t size_limit) {
    if (containment.mount_ns) {
        std::string options = fmt::format("size={},mode=0700", size_limit);
        // A failed tmpfs mount leaves the plain directory, which is still private to this run.
        mount("forklore", directory.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str());
    }
    if (chdir(directory.c_str()) != 0)
        return fmt::format("cannot enter the working directory {}: {}", directory,
                           strerror(errno));
    return {};
}

bool address_space_limit_supported() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
    return false;
#else
    return true;
#endif
#else
    return true;
#endif
}

std::string contain_limits(const SandboxLimits& limits) {
    auto set = [](int resource, rlim_t soft, rlim_t hard, const char* name) -> std::string {
        rlimit limit{soft, hard};
        if (setrlimit(resource, &limit) != 0)
            return fmt::format("setrlimit({}): {}", name, strerror(errno));
        return {};
    };
    // Soft CPU limit sends SIGXCPU (a `limit` verdict); the hard one a second later kills.
    auto cpu = static_cast<rlim_t>(limits.cpu_seconds);
    if (auto e = set(RLIMIT_CPU, cpu, cpu + 1, "CPU"); !e.empty()) return e;
    if (limits.address_space > 0 && address_space_limit_supported())
        if (auto e = set(RLIMIT_AS, limits.address_space, limits.address_space, "AS"); !e.empty())
            return e;
    // RLIMIT_NPROC counts the user's processes machine-wide and does not bind root: the runner
    // enforces max_processes itself; this only stops a runaway unprivileged run early.
    if (geteuid() != 0) {
        auto nproc = static_cast<rlim_t>(limits.max_processes) + 512;
        if (auto e = set(RLIMIT_NPROC, nproc, nproc, "NPROC"); !e.empty()) return e;
    }
    if (auto e = set(RLIMIT_FSIZE, limits.max_file_size, limits.max_file_size, "FSIZE");
        !e.empty())
        return e;
    return set(RLIMIT_CORE, 0, 0, "CORE");
}

} // namespace forklore
