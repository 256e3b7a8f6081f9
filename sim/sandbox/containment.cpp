// Index of this file:
// [SECTION] what was contained, as bits and words
// [SECTION] dying with the parent
// [SECTION] namespaces
// [SECTION] mounts: read-only, private /tmp, what stays visible
// [SECTION] capabilities
// [SECTION] resource limits
#include "sim/sandbox/containment.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

namespace forklore {

// [SECTION] what was contained, as bits and words --------------------------------------------

std::string Containment::describe() const {
    std::string text;
    auto add = [&](bool on, const char* name) {
        if (!on)
            return;
        if (!text.empty())
            text += ' ';
        text += name;
    };
    add(user_ns, "user");
    add(pid_ns, "pid");
    add(mount_ns, "mount");
    add(net_ns, "net");
    add(ipc_ns, "ipc");
    std::vector<std::string> more;
    if (read_only_root)
        more.push_back("read-only root");
    if (private_tmp || private_shm)
        more.push_back(
            fmt::format("private{}{}", private_tmp ? " /tmp" : "", private_shm ? " /dev/shm" : ""));
    if (no_capabilities)
        more.push_back("no capabilities");
    if (cgroups)
        more.push_back("cgroups");
    if (text.empty() && more.empty())
        return "none";
    if (text.empty())
        text = "no namespaces";
    for (const auto& part : more)
        text += ", " + part;
    return text;
}

namespace {
using Flag = bool Containment::*;
constexpr Flag kContainmentFlags[] = {&Containment::user_ns,        &Containment::pid_ns,
                                      &Containment::mount_ns,       &Containment::net_ns,
                                      &Containment::ipc_ns,         &Containment::cgroups,
                                      &Containment::read_only_root, &Containment::private_tmp,
                                      &Containment::private_shm,    &Containment::no_capabilities};
} // namespace

std::uint64_t Containment::bits() const {
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < std::size(kContainmentFlags); ++i)
        if (this->*kContainmentFlags[i])
            bits |= 1ULL << i;
    return bits;
}

Containment Containment::from_bits(std::uint64_t bits) {
    Containment containment;
    for (std::size_t i = 0; i < std::size(kContainmentFlags); ++i)
        containment.*kContainmentFlags[i] = (bits >> i) & 1;
    return containment;
}

// [SECTION] dying with the parent ------------------------------------------------------------

std::string contain_die_with_parent(pid_t expected_parent) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        return fmt::format("prctl(PR_SET_PDEATHSIG): {}", strerror(errno));
    // The runner may have died between our start and the prctl: then no signal will come.
    if (expected_parent > 0 && getppid() != expected_parent)
        return "the runner is gone";
    return {};
}

namespace {
// [SECTION] namespaces -----------------------------------------------------------------------

bool write_file(const char* path, const std::string& text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    close(fd);
    return ok;
}

// Unprivileged: become root of a new user namespace so the other namespaces are allowed.
bool enter_user_namespace() {
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER) != 0)
        return false;
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
    for (const auto& w : wanted)
        all |= w.flag;
    if (unshare(all) == 0) {
        for (const auto& w : wanted)
            containment.*w.entered = true;
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

std::string contain_cgroups(const std::vector<std::string>& directories, Containment& containment) {
    for (const auto& directory : directories) {
        std::string path = directory + "/cgroup.procs";
        if (!write_file(path.c_str(), "0\n"))
            return fmt::format("cannot join the cgroup {}: {}", directory, strerror(errno));
    }
    containment.cgroups = !directories.empty();
    return {};
}

namespace {
// [SECTION] mounts: read-only, private /tmp, what stays visible ------------------------------

// Mount points of this namespace, from /proc/self/mountinfo (octal escapes decoded).
std::vector<std::string> mount_points() {
    std::vector<std::string> points;
    std::ifstream mountinfo("/proc/self/mountinfo");
    for (std::string line; std::getline(mountinfo, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, point;
        if (!(fields >> id >> parent >> device >> root >> point))
            continue;
        std::string decoded;
        for (std::size_t i = 0; i < point.size(); ++i) {
            if (point[i] == '\\' && i + 3 < point.size()) {
                decoded += static_cast<char>(std::stoi(point.substr(i + 1, 3), nullptr, 8));
                i += 3;
            } else {
                decoded += point[i];
            }
        }
        points.push_back(decoded);
    }
    return points;
}

// Every mount of the namespace read-only. mount_setattr (Linux 5.12) does the whole tree in one
// call; older kernels get a bind remount of each mount point, keeping its locked flags (nosuid,
// nodev, noexec: a user namespace may not clear them).
bool make_mounts_read_only(std::string& why) {
    mount_attr attributes{};
    attributes.attr_set = MOUNT_ATTR_RDONLY;
    if (mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &attributes, sizeof attributes) == 0)
        return true;
    if (errno != ENOSYS) {
        why = fmt::format("mount_setattr: {}", strerror(errno));
        return false;
    }
    bool all = true;
    for (const auto& point : mount_points()) {
        struct statvfs info {};
        if (statvfs(point.c_str(), &info) != 0)
            continue;
        unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
        if (info.f_flag & ST_NOSUID)
            flags |= MS_NOSUID;
        if (info.f_flag & ST_NODEV)
            flags |= MS_NODEV;
        if (info.f_flag & ST_NOEXEC)
            flags |= MS_NOEXEC;
        if (mount(nullptr, point.c_str(), nullptr, flags, nullptr) != 0 && point == "/") {
            why = fmt::format("remount / read-only: {}", strerror(errno));
            all = false;
        }
    }
    return all;
}

bool mount_private_tmpfs(const char* target, std::uint64_t size_limit, const char* mode) {
    struct stat st {};
    if (stat(target, &st) != 0 || !S_ISDIR(st.st_mode))
        return false;
    std::string options = fmt::format("size={},mode={}", size_limit, mode);
    return mount("forklore", target, "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0;
}
} // namespace

// Binds `path` (under /tmp) from the caller's /tmp, open as `old_tmp`, into the private /tmp at
// the same place, read-only.
void keep_visible(int old_tmp, const std::string& path, Containment& containment) {
    std::string relative = path.substr(std::strlen("/tmp/"));
    std::string source = fmt::format("/proc/self/fd/{}/{}", old_tmp, relative);
    struct stat st {};
    if (stat(source.c_str(), &st) != 0)
        return;
    // The mount point: the same directories, then a directory or an empty file.
    for (std::size_t slash = path.find('/', 5); slash != std::string::npos;
         slash = path.find('/', slash + 1))
        mkdir(path.substr(0, slash).c_str(), 0755);
    if (S_ISDIR(st.st_mode)) {
        mkdir(path.c_str(), 0755);
    } else {
        int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
            close(fd);
    }
    if (mount(source.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0 ||
        mount(nullptr, path.c_str(), nullptr,
              MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0)
        containment.notes.push_back(
            fmt::format("{} is not visible in the sandbox: {}", path, strerror(errno)));
}

std::string contain_filesystem(const std::string& directory, Containment& containment,
                               std::uint64_t size_limit, const std::vector<std::string>& visible) {
    if (containment.mount_ns) {
        std::string why;
        containment.read_only_root = make_mounts_read_only(why);
        if (!containment.read_only_root)
            containment.notes.push_back("the root is not read-only: " + why);
        int old_tmp = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
        // Fresh, writable tmpfs mounted after the root went read-only. The runner's working
        // directory is a name under /tmp: the same name is made in the private /tmp.
        containment.private_tmp = mount_private_tmpfs("/tmp", size_limit, "1777");
        if (!containment.private_tmp)
            containment.notes.push_back(fmt::format("no private /tmp: {}", strerror(errno)));
        containment.private_shm = mount_private_tmpfs("/dev/shm", size_limit, "1777");
        if (!containment.private_shm)
            containment.notes.push_back(fmt::format("no private /dev/shm: {}", strerror(errno)));
        if (containment.private_tmp && old_tmp >= 0)
            for (const auto& path : visible)
                if (path.rfind("/tmp/", 0) == 0)
                    keep_visible(old_tmp, path, containment);
        if (old_tmp >= 0)
            close(old_tmp);
        bool under_tmp = directory.rfind("/tmp/", 0) == 0;
        if (containment.private_tmp && under_tmp) {
            if (mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST)
                return fmt::format("cannot make the working directory {}: {}", directory,
                                   strerror(errno));
        } else {
            // The runner's directory, made writable by a tmpfs of its own.
            std::string options = fmt::format("size={},mode=0700", size_limit);
            mount("forklore", directory.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str());
        }
    }
    if (chdir(directory.c_str()) != 0)
        return fmt::format("cannot enter the working directory {}: {}", directory, strerror(errno));
    return {};
}

// [SECTION] capabilities ---------------------------------------------------------------------

std::string contain_capabilities(Containment& containment) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return fmt::format("prctl(PR_SET_NO_NEW_PRIVS): {}", strerror(errno));
    int last = CAP_LAST_CAP;
    if (std::ifstream file("/proc/sys/kernel/cap_last_cap"); file)
        file >> last;
    // The bounding set first (it takes CAP_SETPCAP, which the capset below removes): without
    // it, an exec of any program as root would give back every capability.
    for (int cap = 0; cap <= last; ++cap)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
            containment.notes.push_back(
                fmt::format("capabilities kept: PR_CAPBSET_DROP: {}", strerror(errno)));
            return {};
        }
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capset, &header, data) != 0) {
        containment.notes.push_back(fmt::format("capabilities kept: capset: {}", strerror(errno)));
        return {};
    }
    containment.no_capabilities = true;
    return {};
}

// [SECTION] resource limits ------------------------------------------------------------------

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
    if (auto e = set(RLIMIT_CPU, cpu, cpu + 1, "CPU"); !e.empty())
        return e;
    if (limits.address_space > 0 && address_space_limit_supported())
        if (auto e = set(RLIMIT_AS, limits.address_space, limits.address_space, "AS"); !e.empty())
            return e;
    // RLIMIT_NPROC counts the user's processes machine-wide and does not bind root: the runner
    // counts tasks itself (or its cgroup does); this only stops a runaway unprivileged run early.
    if (geteuid() != 0) {
        auto nproc = static_cast<rlim_t>(limits.max_tasks) + 512;
        if (auto e = set(RLIMIT_NPROC, nproc, nproc, "NPROC"); !e.empty())
            return e;
    }
    if (auto e = set(RLIMIT_FSIZE, limits.max_file_size, limits.max_file_size, "FSIZE"); !e.empty())
        return e;
    return set(RLIMIT_CORE, 0, 0, "CORE");
}

} // namespace forklore
