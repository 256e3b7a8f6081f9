// Files a user names (user_file.hpp): what may be read and written, and the write that is
// whole or nothing.
#include "sim/record/user_file.hpp"

#include "sim/protocol/text.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <vector>

namespace forklore {

namespace {

// "256 MiB", "4 KiB", "100 bytes"
std::string byte_size_text(std::uint64_t bytes) {
    if (bytes >= (1ULL << 20) && bytes % (1ULL << 20) == 0)
        return fmt::format("{} MiB", bytes >> 20);
    if (bytes >= (1ULL << 10) && bytes % (1ULL << 10) == 0)
        return fmt::format("{} KiB", bytes >> 10);
    return fmt::format("{} bytes", bytes);
}

std::string cannot_write(const std::string& path, std::string_view why) {
    return fmt::format("cannot write {}: {}", printable(path), why);
}

// The directory a new entry at `path` goes in: "." for a bare name.
std::string directory_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos)
        return ".";
    if (slash == 0)
        return "/";
    return path.substr(0, slash);
}

// The process's umask, read without changing it (umask(2) can only set it, and setting it and
// back would race with the other threads of the GUI creating files).
mode_t current_umask() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("Umask:", 0) == 0)
            return static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8));
    return 022;
}

// Blocks SIGXFSZ in the calling thread for its lifetime. A write past RLIMIT_FSIZE then fails
// with EFBIG (and raises the signal, left pending); the destructor takes that pending signal
// away so it is never delivered after the mask is restored. A SIGXFSZ that was pending before
// is left alone.
class FileSizeSignalBlocked {
  public:
    FileSizeSignalBlocked() {
        sigemptyset(&signal_);
        sigaddset(&signal_, SIGXFSZ);
        pthread_sigmask(SIG_BLOCK, &signal_, &previous_);
        sigset_t pending;
        sigpending(&pending);
        was_pending_ = sigismember(&pending, SIGXFSZ) == 1;
    }
    ~FileSizeSignalBlocked() {
        sigset_t pending;
        sigpending(&pending);
        if (!was_pending_ && sigismember(&pending, SIGXFSZ) == 1) {
            const timespec now{0, 0};
            sigtimedwait(&signal_, nullptr, &now);
        }
        pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
    }
    FileSizeSignalBlocked(const FileSizeSignalBlocked&) = delete;
    FileSizeSignalBlocked& operator=(const FileSizeSignalBlocked&) = delete;

  private:
    sigset_t signal_{}, previous_{};
    bool was_pending_ = false;
};

// Writes all of `content` to `fd`; 0 or the errno of the failure.
int write_all(int fd, std::string_view content) {
    const char* data = content.data();
    std::size_t left = content.size();
    while (left > 0) {
        const ssize_t written = write(fd, data, left);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        data += written;
        left -= static_cast<std::size_t>(written);
    }
    return 0;
}

} // namespace

std::string_view file_kind(mode_t mode) {
    if (S_ISREG(mode))
        return "a regular file";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISLNK(mode))
        return "a symbolic link (give the path of the file it points to)";
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

std::string read_regular_file(const std::string& path, std::uint64_t max_bytes,
                              std::string_view what) {
    if (path.empty())
        throw UserFileError("no file name given");
    // Refused before it is opened: opening a device can do things (a watchdog starts counting).
    struct stat status {};
    if (stat(path.c_str(), &status) == 0 && !S_ISREG(status.st_mode))
        throw UserFileError(fmt::format("cannot read {}: it is {}, not a regular file",
                                        printable(path), file_kind(status.st_mode)));
    // O_NONBLOCK: should a FIFO take the path meanwhile, opening it must not wait for a writer
    // (fstat below refuses it).
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        throw UserFileError(
            fmt::format("cannot open {}: {}", printable(path), std::strerror(errno)));
    struct Closer {
        int fd;
        ~Closer() { close(fd); }
    } closer{fd};
    if (fstat(fd, &status) != 0)
        throw UserFileError(
            fmt::format("cannot read {}: {}", printable(path), std::strerror(errno)));
    if (!S_ISREG(status.st_mode))
        throw UserFileError(fmt::format("cannot read {}: it is {}, not a regular file",
                                        printable(path), file_kind(status.st_mode)));
    const auto too_large = [&] {
        return UserFileError(fmt::format("{} is larger than {}, the most {} may be",
                                         printable(path), byte_size_text(max_bytes), what));
    };
    if (static_cast<std::uint64_t>(status.st_size) > max_bytes)
        throw too_large();
    std::string content;
    content.resize(static_cast<std::size_t>(status.st_size));
    std::size_t filled = 0;
    // Read to the end (the file may have grown since fstat), and never past max_bytes.
    for (;;) {
        if (filled == content.size()) {
            if (filled > max_bytes)
                throw too_large();
            content.resize(static_cast<std::size_t>(
                std::min<std::uint64_t>(max_bytes + 1, std::max<std::uint64_t>(filled * 2, 4096))));
        }
        const ssize_t got = read(fd, content.data() + filled, content.size() - filled);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            throw UserFileError(
                fmt::format("cannot read {}: {}", printable(path), std::strerror(errno)));
        }
        if (got == 0)
            break;
        filled += static_cast<std::size_t>(got);
    }
    if (filled > max_bytes)
        throw too_large();
    content.resize(filled);
    return content;
}

std::optional<std::string> output_file_problem(const std::string& path) {
    if (path.empty())
        return std::string("no output file name given");
    if (path.back() == '/')
        return cannot_write(path, "it names a directory");
    struct stat target {};
    if (lstat(path.c_str(), &target) == 0) {
        if (!S_ISREG(target.st_mode))
            return cannot_write(path, fmt::format("it is {}", file_kind(target.st_mode)));
        if (access(path.c_str(), W_OK) != 0)
            return cannot_write(path, std::strerror(errno));
    } else if (errno != ENOENT) {
        return cannot_write(path, std::strerror(errno)); // ENOTDIR, EACCES, ELOOP, ENAMETOOLONG
    }
    // The new content is a new entry in the directory, renamed over the old one.
    const std::string directory = directory_of(path);
    struct stat directory_status {};
    if (stat(directory.c_str(), &directory_status) != 0)
        return cannot_write(
            path, fmt::format("its directory {}: {}", printable(directory), std::strerror(errno)));
    if (!S_ISDIR(directory_status.st_mode))
        return cannot_write(path, fmt::format("{} is not a directory", printable(directory)));
    if (access(directory.c_str(), W_OK | X_OK) != 0)
        return cannot_write(
            path, fmt::format("its directory {}: {}", printable(directory), std::strerror(errno)));
    return std::nullopt;
}

void write_output_file(const std::string& path, std::string_view content) {
    if (auto problem = output_file_problem(path))
        throw UserFileError(*problem);
    struct stat existing {};
    const bool replacing = lstat(path.c_str(), &existing) == 0;

    // Beside the target, so the rename stays within one file system; hidden, and named after it
    // so a leftover (after a power cut) says where it came from.
    const auto slash = path.find_last_of('/');
    const std::string directory = directory_of(path);
    const std::string pattern = path.substr(0, slash == std::string::npos ? 0 : slash + 1) + "." +
                                path.substr(slash == std::string::npos ? 0 : slash + 1, 200) +
                                ".XXXXXX";
    std::vector<char> temporary(pattern.begin(), pattern.end());
    temporary.push_back('\0');
    // Close-on-exec: the GUI may be starting a sandbox on another thread right now.
    const int fd = mkostemp(temporary.data(), O_CLOEXEC);
    if (fd < 0)
        throw UserFileError(cannot_write(path, std::strerror(errno)));

    int failure = 0;
    {
        FileSizeSignalBlocked blocked;
        failure = write_all(fd, content);
    }
    // mkstemp makes the file 0600; the result should look like any file the user writes, or
    // keep what the file it replaces had.
    if (!failure) {
        const mode_t mode = replacing ? (existing.st_mode & 07777) : (0666 & ~current_umask());
        if (fchmod(fd, mode) != 0)
            failure = errno;
        if (!failure && replacing && geteuid() == 0)
            (void)!fchown(fd, existing.st_uid, existing.st_gid);
    }
    if (!failure && fsync(fd) != 0)
        failure = errno;
    if (close(fd) != 0 && !failure)
        failure = errno;
    std::string message;
    if (failure) {
        message = cannot_write(path, std::strerror(failure));
    } else if (auto problem = output_file_problem(path)) {
        message = *problem; // something else took the path while we wrote
    } else if (std::rename(temporary.data(), path.c_str()) != 0) {
        message = cannot_write(path, std::strerror(errno));
    }
    if (!message.empty()) {
        unlink(temporary.data());
        throw UserFileError(message);
    }
    // The rename itself is durable once the directory is.
    const int directory_fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory_fd >= 0) {
        fsync(directory_fd);
        close(directory_fd);
    }
}

} // namespace forklore
