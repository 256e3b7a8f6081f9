#include "sim/probe.hpp"

#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>

namespace forklore::probe {

namespace {
Channel* g_channel = nullptr;
// The thread name lives in initial-exec TLS of the executable: reading it never allocates,
// which keeps record() async-signal-safe.
thread_local char t_thread_name[16] = "main";

std::int64_t monotonic_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
} // namespace

void install_channel(Channel* channel) noexcept { g_channel = channel; }
Channel* installed_channel() noexcept { return g_channel; }

pid_t current_tid() noexcept { return static_cast<pid_t>(syscall(SYS_gettid)); }

void record(EventKind kind, std::uint64_t object, std::int64_t arg0, std::int64_t arg1,
            const char* name, const char* text) noexcept {
    if (!g_channel) return;
    Event event;
    event.committed = 0;
    event.kind = kind;
    event.reserved = 0;
    event.seq = 0;
    event.time_ns = monotonic_ns();
    event.pid = getpid(); // glibc no longer caches the pid, so this is right after fork too
    event.tid = current_tid();
    event.object = object;
    event.arg0 = arg0;
    event.arg1 = arg1;
    copy_name(event.thread, t_thread_name);
    copy_name(event.name, name);
    copy_name(event.text, text);
    g_channel->record(event);
}

void set_thread_name(const char* name) noexcept {
    copy_name(t_thread_name, name);
    prctl(PR_SET_NAME, t_thread_name, 0, 0, 0);
}

const char* thread_name() noexcept { return t_thread_name; }

// --- Thread ----------------------------------------------------------------------------------

struct Thread::Identity {
    char name[32];
    std::atomic<pid_t> tid{0};
};

Thread::Thread(const std::string& name, std::function<void()> body)
    : identity_(std::make_unique<Identity>()) {
    copy_name(identity_->name, name.c_str());
    pid_t creator = current_tid();
    Identity* identity = identity_.get();
    thread_ = std::thread([identity, creator, body = std::move(body)] {
        identity->tid.store(current_tid());
        identity->tid.notify_all();
        set_thread_name(identity->name);
        record(EventKind::thread_start, 0, creator, 0, identity->name);
        body();
        record(EventKind::thread_exit, 0, 0, 0, identity->name);
    });
    // Wait until the new thread has published its tid: a join (or a scenario) that asks for it
    // right away must name the real thread, not 0. The new thread stores it before anything
    // else, so this is a few microseconds, and it never waits on scenario code.
    identity->tid.wait(0);
}

Thread::Thread(Thread&&) noexcept = default;
Thread& Thread::operator=(Thread&&) noexcept = default;

Thread::~Thread() {
    if (thread_.joinable()) join();
}

pid_t Thread::tid() const noexcept { return identity_ ? identity_->tid.load() : 0; }

void Thread::join() {
    auto tid = static_cast<std::uint64_t>(this->tid());
    record(EventKind::join_wait, tid, 0, 0, identity_->name);
    thread_.join();
    record(EventKind::join_done, tid, 0, 0, identity_->name);
}

// --- Mutex -----------------------------------------------------------------------------------

Mutex::Mutex(const char* name, bool recursive) noexcept : recursive_(recursive) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, recursive ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_NORMAL);
    pthread_mutex_init(&mutex_, &attr);
    pthread_mutexattr_destroy(&attr);
    copy_name(name_, name);
}

Mutex::~Mutex() { pthread_mutex_destroy(&mutex_); }

void Mutex::lock() noexcept {
    auto address = reinterpret_cast<std::uint64_t>(&mutex_);
    // The wait event goes first: if the lock never comes, the trace still says who wanted it.
    record(EventKind::lock_wait, address, kind(), 0, name_);
    pthread_mutex_lock(&mutex_);
    record(EventKind::lock_acquired, address, kind(), 0, name_);
}

bool Mutex::try_lock() noexcept {
    if (pthread_mutex_trylock(&mutex_) != 0) return false;
    record(EventKind::lock_acquired, reinterpret_cast<std::uint64_t>(&mutex_), kind(), 0, name_);
    return true;
}

void Mutex::unlock() noexcept {
    // Record before unlocking: once unlocked another thread may take it and record first.
    record(EventKind::lock_released, reinterpret_cast<std::uint64_t>(&mutex_), kind(), 0, name_);
    pthread_mutex_unlock(&mutex_);
}

std::int64_t Mutex::kind() const noexcept {
    return static_cast<std::int64_t>(recursive_ ? LockKind::recursive_mutex : LockKind::mutex);
}

// --- Barrier ---------------------------------------------------------------------------------

Barrier::Barrier(const char* name, unsigned parties) noexcept {
    pthread_barrier_init(&barrier_, nullptr, parties);
    copy_name(name_, name);
}

Barrier::~Barrier() { pthread_barrier_destroy(&barrier_); }

void Barrier::arrive_and_wait() noexcept {
    auto address = reinterpret_cast<std::uint64_t>(&barrier_);
    record(EventKind::barrier_wait, address, 0, 0, name_);
    pthread_barrier_wait(&barrier_);
    record(EventKind::barrier_passed, address, 0, 0, name_);
}

// --- FileLock --------------------------------------------------------------------------------

FileLock::FileLock(const char* name, int fd, FileLockKind kind) noexcept : fd_(fd), kind_(kind) {
    copy_name(name_, name);
}

std::uint64_t FileLock::inode() const noexcept {
    struct stat st {};
    return fstat(fd_, &st) == 0 ? static_cast<std::uint64_t>(st.st_ino) : 0;
}

namespace {
int fcntl_whole_file(int fd, int command, short type) noexcept {
    struct flock request {};
    request.l_type = type;
    request.l_whence = SEEK_SET;
    request.l_start = 0;
    request.l_len = 0; // to the end of the file, however it grows
    return fcntl(fd, command, &request);
}
} // namespace

bool FileLock::lock(bool exclusive) noexcept {
    auto kind = static_cast<std::int64_t>(kind_);
    std::uint64_t ino = inode();
    record(EventKind::file_lock_wait, static_cast<std::uint64_t>(fd_), kind,
           static_cast<std::int64_t>(ino), name_);
    int rc = 0;
    short type = exclusive ? F_WRLCK : F_RDLCK;
    switch (kind_) {
    case FileLockKind::flock: rc = flock(fd_, exclusive ? LOCK_EX : LOCK_SH); break;
    case FileLockKind::fcntl: rc = fcntl_whole_file(fd_, F_SETLKW, type); break;
    case FileLockKind::ofd: rc = fcntl_whole_file(fd_, F_OFD_SETLKW, type); break;
    }
    if (rc != 0) {
        int saved = errno;
        note("file lock request failed");
        errno = saved;
        return false;
    }
    record(EventKind::file_lock_acquired, static_cast<std::uint64_t>(fd_), kind,
           static_cast<std::int64_t>(ino), name_);
    return true;
}

bool FileLock::unlock() noexcept {
    auto kind = static_cast<std::int64_t>(kind_);
    record(EventKind::file_lock_released, static_cast<std::uint64_t>(fd_), kind,
           static_cast<std::int64_t>(inode()), name_);
    switch (kind_) {
    case FileLockKind::flock: return flock(fd_, LOCK_UN) == 0;
    case FileLockKind::fcntl: return fcntl_whole_file(fd_, F_SETLK, F_UNLCK) == 0;
    case FileLockKind::ofd: return fcntl_whole_file(fd_, F_OFD_SETLK, F_UNLCK) == 0;
    }
    return false;
}

// --- Output ----------------------------------------------------------------------------------

namespace {
// write(2) the whole buffer; a logger must not lose half a line to a short write.
void write_all(int fd, const char* data, std::size_t size) noexcept {
    while (size > 0) {
        ssize_t written = ::write(fd, data, size);
        if (written < 0) {
            if (errno == EINTR) continue;
            return;
        }
        data += written;
        size -= static_cast<std::size_t>(written);
    }
}
} // namespace

void Logger::write(const char* text) noexcept {
    // Like a real logging library: take the logger's lock, format the line, write it, unlock.
    mutex_.lock();
    char line[256];
    int length = snprintf(line, sizeof line, "[%s] %s\n", t_thread_name, text);
    if (length > 0) {
        std::size_t size = std::min(static_cast<std::size_t>(length), sizeof line - 1);
        write_all(STDERR_FILENO, line, size);
    }
    record(EventKind::output, 0, STDERR_FILENO, 0, "logger", text);
    mutex_.unlock();
}

void print(FILE* stream, const char* text) noexcept {
    fprintf(stream, "%s\n", text);
    record(EventKind::output, 0, fileno(stream), 0, "stdio", text);
}

void note(const char* text) noexcept { record(EventKind::note, 0, 0, 0, nullptr, text); }

void measure(const char* name, double value, const char* unit) noexcept {
    record(EventKind::measurement, 0, std::bit_cast<std::int64_t>(value), 0, name, unit);
}

} // namespace forklore::probe
