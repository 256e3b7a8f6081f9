// The small file and text helpers of the per-run cgroups (cgroup_files.hpp).
#include "sim/sandbox/cgroup_files.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <mutex>
#include <set>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <thread>

namespace forklore::cgroup_files {

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    std::size_t begin = 0;
    for (;;) {
        std::size_t end = text.find(separator, begin);
        parts.push_back(text.substr(begin, end == std::string_view::npos ? end : end - begin));
        if (end == std::string_view::npos)
            return parts;
        begin = end + 1;
    }
}

// mountinfo escapes spaces, tabs, newlines and backslashes as \ooo.
std::string unescape_mountinfo(std::string_view text) {
    auto octal = [](char c) { return c >= '0' && c <= '7'; };
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 3 < text.size() && octal(text[i + 1]) && octal(text[i + 2]) &&
            octal(text[i + 3])) {
            out += static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 +
                                     (text[i + 3] - '0'));
            i += 3;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::int64_t now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

bool read_small_file(const std::string& path, std::string& out) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    out.clear();
    char buffer[4096];
    for (;;) {
        ssize_t n = read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        out.append(buffer, static_cast<std::size_t>(n));
    }
    close(fd);
    return true;
}

// Writes `text` to a cgroup file; the kernel's refusal comes back as errno from write().
bool write_cgroup_file(const std::string& path, const std::string& text) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = write(fd, text.data(), text.size());
    int error = errno;
    close(fd);
    errno = error;
    return n == static_cast<ssize_t>(text.size());
}

bool exists(const std::string& path) {
    return access(path.c_str(), F_OK) == 0;
}

std::optional<std::uint64_t> read_number(const std::string& path) {
    std::string text;
    if (!read_small_file(path, text))
        return std::nullopt;
    std::uint64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc())
        return std::nullopt;
    return value;
}

std::optional<std::uint64_t> read_keyed(const std::string& path, std::string_view key) {
    std::string text;
    if (!read_small_file(path, text))
        return std::nullopt;
    return keyed_value(text, key);
}

std::vector<pid_t> read_procs(const std::string& directory) {
    std::vector<pid_t> pids;
    std::string text;
    if (!read_small_file(directory + "/cgroup.procs", text))
        return pids;
    for (auto line : split(text, '\n')) {
        pid_t pid = 0;
        if (std::from_chars(line.data(), line.data() + line.size(), pid).ec == std::errc() &&
            pid > 0)
            pids.push_back(pid);
    }
    return pids;
}

// Directory of `self_path` within a hierarchy mounted with `mount`; empty when the runner's
// cgroup is outside what the mount shows (a container that mounted only a subtree).
std::string directory_in(const CgroupMount& mount, const std::string& self_path) {
    std::string relative;
    if (mount.root == "/") {
        relative = self_path;
    } else if (self_path.compare(0, mount.root.size(), mount.root) == 0 &&
               (self_path.size() == mount.root.size() || self_path[mount.root.size()] == '/')) {
        relative = self_path.substr(mount.root.size());
    } else {
        return {};
    }
    if (relative == "/")
        relative.clear();
    return mount.mount_point + relative;
}

std::string human_bytes(std::uint64_t bytes) {
    if (bytes >= (1ULL << 30) && bytes % (1ULL << 30) == 0)
        return fmt::format("{} GiB", bytes >> 30);
    if (bytes >= (1ULL << 20))
        return fmt::format("{} MiB", bytes >> 20);
    return fmt::format("{} bytes", bytes);
}

// SIGKILL to every member until the directory is empty, or `deadline_ms` passes.
void kill_members_until_empty(const std::string& directory, std::int64_t deadline_ms,
                              std::set<pid_t>* seen) {
    for (;;) {
        auto pids = read_procs(directory);
        if (pids.empty() || now_ms() >= deadline_ms)
            return;
        for (pid_t pid : pids) {
            if (seen)
                seen->insert(pid);
            kill(pid, SIGKILL);
        }
        usleep(200);
    }
}

bool remove_directory(const std::string& directory) {
    // The last tasks leave the cgroup a moment after their SIGKILL: retry for up to 200 ms.
    for (int attempt = 0; attempt < 200; ++attempt) {
        if (rmdir(directory.c_str()) == 0 || errno == ENOENT)
            return true;
        if (errno != EBUSY)
            return false;
        usleep(1000);
    }
    return false;
}

std::string system_file(const char* path) {
    std::string text;
    read_small_file(path, text);
    return text;
}

} // namespace forklore::cgroup_files
