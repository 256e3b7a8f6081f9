// 040 file-locks-across-fork — who owns an advisory file lock once a child process exists?
//
// What it shows: the main process opens a log file, locks it, and starts a worker that wants
// the same lock to append a line. The main process keeps the lock until the worker has ended.
// Whether the worker gets in depends on who OWNS the lock:
// - flock and OFD locks (fcntl F_OFD_SETLKW) belong to the open file description. A child that
//   inherited the fd shares that description, so it already "holds" the lock: its own lock call
//   succeeds at once, and its unlock releases the parent's lock too. A child that opens the path
//   again gets a new description and waits like any stranger.
// - fcntl (POSIX record) locks belong to the process. A child never inherits them: it waits even
//   on the inherited fd.
// - exec keeps an fd (and its description's locks) unless the fd is close-on-exec (O_CLOEXEC);
//   then the new program finds the fd number closed (EBADF), must reopen, and waits. A
//   forkserver child never had the fd at all: the server was forked before the file was opened.
//
// What to look for: when the worker waits, the main process waits for the worker (wait4) while
// holding the lock the worker waits for (as /proc/locks shows): every thread is blocked, the
// verdict is blocked_on_process. When the worker shares the lock, its lock call returns at once,
// and the main process's note afterwards says the worker's unlock has released its lock too.
// In /proc/locks an OFD lock has pid -1 (it belongs to no process), and a flock is listed under
// the pid that took it first, however many processes share its description.
//
// Variants: flock_inherited, flock_reopened, fcntl_inherited, ofd_inherited, ofd_reopened,
// flock_fork_cloexec, flock_fork_exec, flock_fork_exec_cloexec, fcntl_fork_exec, flock_spawn,
// flock_spawn_cloexec, flock_forkserver.
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace {

using namespace forklore;

const char* const kLogFile = "shared.log";

FileLockKind lock_kind_from(const std::string& name) {
    if (name == "fcntl")
        return FileLockKind::fcntl;
    if (name == "ofd")
        return FileLockKind::ofd;
    return FileLockKind::flock;
}

void note(const std::string& text, CallSite site = {}) {
    probe::note(text.c_str(), site);
}

void append_line(int fd, const std::string& line) {
    std::string text = line + "\n";
    if (write(fd, text.data(), text.size()) < 0)
        note("write failed: " + std::string(strerror(errno)));
}

// True when `fd` is open in this process and refers to `path`. After exec a close-on-exec fd
// number is closed, and the new program may already have reused the number for another file:
// an fd number passed to another program is only a number.
bool fd_is_file(int fd, const char* path, std::string* why) {
    struct stat by_fd {
    }, by_path{};
    if (fstat(fd, &by_fd) != 0) {
        *why = "fd " + std::to_string(fd) + " is not open here (" + strerror(errno) + ")";
        return false;
    }
    if (stat(path, &by_path) != 0 || by_fd.st_dev != by_path.st_dev ||
        by_fd.st_ino != by_path.st_ino) {
        *why = "fd " + std::to_string(fd) + " is another file here";
        return false;
    }
    return true;
}

// --- The worker process ---------------------------------------------------------------------

int worker_append(const ChildArgs& args) {
    const std::string& path = args.at("path");
    const FileLockKind kind = lock_kind_from(args.at("lock_kind"));
    int fd = -1;
    if (args.at("child_fd") == "inherited") {
        std::string why;
        fd = std::stoi(args.at("fd"));
        if (!fd_is_file(fd, path.c_str(), &why)) {
            note("worker: " + why + ": reopening " + path);
            fd = -1;
        } else {
            note("worker: using the inherited fd " + std::to_string(fd));
        }
    }
    if (fd < 0) {
        // A new open file description: it shares nothing with the parent's.
        fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
        if (fd < 0)
            return 2;
        note("worker: opened the file again as fd " + std::to_string(fd));
    }
    probe::FileLock lock("log_lock", fd, kind);
    if (!lock.lock()) { // SYNC: waits while the main process holds the lock (unless shared)
        note("worker: lock failed: " + std::string(strerror(errno)));
        return 3;
    }
    note("worker: holding log_lock");
    append_line(fd, "worker " + std::to_string(getpid()) + " appended under log_lock");
    probe::print(stdout, "worker: line appended under log_lock");
    lock.unlock(); // SYNC: on a shared description this releases the main process's lock too
    return 0;
}

// --- The main process -----------------------------------------------------------------------

// Does another open file description still find the file locked? Tried without blocking. Not
// for fcntl locks: they never conflict within one process, and closing the probe's fd would
// release every fcntl lock this process holds on the file.
void report_own_lock(FileLockKind kind) {
    if (kind == FileLockKind::fcntl)
        return;
    int probe_fd = open(kLogFile, O_WRONLY | O_CLOEXEC);
    if (probe_fd < 0)
        return;
    int rc = 0;
    if (kind == FileLockKind::flock) {
        rc = flock(probe_fd, LOCK_EX | LOCK_NB);
    } else {
        struct flock whole {};
        whole.l_type = F_WRLCK;
        whole.l_whence = SEEK_SET;
        rc = fcntl(probe_fd, F_OFD_SETLK, &whole);
    }
    if (rc == 0)
        note("main: my lock is gone: the worker's unlock released the shared lock");
    else
        note("main: my lock is still held");
    close(probe_fd); // also drops the probe's own lock, if it got one
}

int run(ScenarioContext& context) {
    const StartMethod method = context.method("start_method");
    const std::string kind_name = context.knob("lock_kind");
    const FileLockKind kind = lock_kind_from(kind_name);
    const bool cloexec = context.flag("cloexec");

    const int flags = O_RDWR | O_CREAT | O_TRUNC | O_APPEND | (cloexec ? O_CLOEXEC : 0);
    int fd = open(kLogFile, flags, 0600);
    if (fd < 0)
        return 2;
    probe::FileLock lock("log_lock", fd, kind);
    if (!lock.lock())
        return 2; // SYNC: the main process holds log_lock from here ...
    append_line(fd, "main appended under log_lock");
    note("main: holding log_lock (" + kind_name + ") on fd " + std::to_string(fd) +
         (cloexec ? ", O_CLOEXEC" : ""));

    probe::Child child = probe::start_child(method, "append",
                                            {{"fd", std::to_string(fd)},
                                             {"path", kLogFile},
                                             {"lock_kind", kind_name},
                                             {"child_fd", context.knob("child_fd")}});
    const WaitStatus status =
        child.wait(); // SYNC: ... until the worker has ended: blocks for ever if it waits
    report_own_lock(kind);
    lock.unlock(); // SYNC: ... and releases it only now
    close(fd);
    return status.exited_ok() ? 0 : 1;
}

Scenario describe() {
    Scenario s;
    s.id = "file-locks-across-fork";
    s.group = "file locks";
    s.title = "The parent holds a file lock while its child asks for it";
    s.lesson =
        "The main process locks a log file and keeps the lock until its worker process has ended; "
        "the worker locks the same file to append a line. flock and OFD locks belong to the open "
        "file description: a worker that inherited the fd shares it, so its lock call succeeds at "
        "once (and its unlock releases the parent's lock too), while a worker that opens the file "
        "again waits for ever for a parent that waits for it. fcntl (POSIX) locks belong to the "
        "process: the worker waits even on the inherited fd. exec keeps an inherited fd and its "
        "flock unless the fd is close-on-exec; a forkserver child never had the fd at all.";
    s.knobs = {
        Knob::choice("lock_kind", "flock", {"flock", "fcntl", "ofd"},
                     "Which advisory lock both processes take."),
        start_method_knob("start_method", StartMethod::fork, "How the worker process is made."),
        Knob::choice("child_fd", "inherited", {"inherited", "reopened"},
                     "The worker locks the fd number it was given, or opens the path again."),
        Knob::flag(
            "cloexec", false,
            "The main process opens the file with O_CLOEXEC: exec closes the fd in the worker."),
    };
    const auto blocked = Expectation::deadlocks(DeadlockReason::blocked_on_process);
    s.variants = {
        {"flock_inherited",
         "fork: the worker shares the parent's flock through the inherited fd",
         {},
         Expectation::completes()},
        {"flock_reopened",
         "fork, worker reopens the file: a new description waits for the flock",
         {{"child_fd", "reopened"}},
         blocked},
        {"fcntl_inherited",
         "fork: fcntl locks belong to the process, the worker waits anyway",
         {{"lock_kind", "fcntl"}},
         blocked},
        {"ofd_inherited",
         "fork: an OFD lock is shared through the inherited fd, like flock",
         {{"lock_kind", "ofd"}},
         Expectation::completes()},
        {"ofd_reopened",
         "fork, worker reopens the file: a new description waits for the OFD lock",
         {{"lock_kind", "ofd"}, {"child_fd", "reopened"}},
         blocked},
        {"flock_fork_cloexec",
         "fork without exec: O_CLOEXEC changes nothing, the lock is shared",
         {{"cloexec", "on"}},
         Expectation::completes()},
        {"flock_fork_exec",
         "fork+exec: the fd survives exec, and the flock with it",
         {{"start_method", "fork_exec"}},
         Expectation::completes()},
        {"flock_fork_exec_cloexec",
         "fork+exec with O_CLOEXEC: the fd is closed, the worker reopens",
         {{"start_method", "fork_exec"}, {"cloexec", "on"}},
         blocked},
        {"fcntl_fork_exec",
         "fork+exec: the fd survives exec, but fcntl locks are not shared",
         {{"start_method", "fork_exec"}, {"lock_kind", "fcntl"}},
         blocked},
        {"flock_spawn",
         "posix_spawn: the inherited fd and its flock survive, like fork+exec",
         {{"start_method", "spawn"}},
         Expectation::completes()},
        {"flock_spawn_cloexec",
         "posix_spawn with O_CLOEXEC: the fd is closed, the worker reopens",
         {{"start_method", "spawn"}, {"cloexec", "on"}},
         blocked},
        {"flock_forkserver",
         "forkserver: the server never had the fd, the worker must reopen",
         {{"start_method", "forkserver"}},
         blocked},
    };
    s.body = run;
    s.children = {{"append", worker_append}};
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
