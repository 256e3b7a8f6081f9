// The probes' code (probe.hpp says what they are for): each does the real operation and records
// an event around it, with the recording thread's ids cached so that recording makes no system
// call once warm.
//
// Index of this file:
// [SECTION] Who is recording: the pid and tid without a system call
// [SECTION] Where: the source file table
// [SECTION] Recording an event, vfork_exec, the thread's name
// [SECTION] Thread
// [SECTION] Locks: Mutex, Barrier, FileLock
// [SECTION] Output: the logger, print, note, measure
// [SECTION] Scheduling points: stopping at the board in a stepped run
#include "sim/probe/probe.hpp"

#include "sim/probe/fd_io.hpp"
#include "sim/probe/step_point.hpp"
#include "sim/protocol/schedule_board.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <new>

namespace forklore::probe {

namespace {
Channel* g_channel = nullptr;
// The thread name lives in initial-exec TLS of the executable: reading it never allocates,
// which keeps record() async-signal-safe.
thread_local char t_thread_name[16] = "main";

// [SECTION] Who is recording: the pid and tid without a system call -------------------------------
//
// getpid() and gettid() are system calls (glibc caches neither): two per event made a probed
// lock+unlock cost hundreds of times the lock. So each thread keeps its ids in thread-locals,
// valid while they carry the same word as the process's identity page:
//   word = epoch << 32 | pid, 0 meaning "not known yet".
// The page is marked MADV_WIPEONFORK: the kernel hands every child that gets a copy of the
// address space (fork, _Fork, clone without CLONE_VM) a zeroed page, so the one thread that
// came over from the parent finds a word that is not its own and asks the kernel again (an
// exec'd program starts afresh anyway). No pthread_atfork handler is involved, so _Fork and a raw
// clone, which run none, are covered as well as fork. A new thread starts with zeroed thread-locals
// and asks once. The epoch (a counter copied into each child) makes a word never repeat one the
// thread could still hold from an ancestor, even when pids repeat across PID namespaces. vfork is
// the exception: its child borrows the parent's memory, page and thread-locals alike, so
// vfork_exec() marks the thread and its events ask the kernel and cache nothing. Without the page
// (a kernel before 4.14) every event asks the kernel, as before.
struct IdentityPage {
    std::atomic<std::uint64_t> word;
};

IdentityPage* make_identity_page() noexcept {
    void* page = mmap(nullptr, sizeof(IdentityPage) < 4096 ? 4096 : sizeof(IdentityPage),
                      PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return nullptr;
    if (madvise(page, 4096, MADV_WIPEONFORK) != 0) {
        munmap(page, 4096);
        return nullptr;
    }
    return new (page) IdentityPage{};
}

IdentityPage* const g_identity = make_identity_page();
std::atomic<std::uint32_t> g_identity_epoch{0}; // the last epoch given out in this process

thread_local std::uint64_t t_identity_word = 0; // the page's word when the ids were cached
thread_local std::int32_t t_pid = 0;
thread_local std::int32_t t_tid = 0;
thread_local bool t_in_vfork = false; // this thread's memory is lent to a vfork child

struct Ids {
    std::int32_t pid;
    std::int32_t tid;
};

[[gnu::noinline]] Ids ask_kernel_for_ids() noexcept {
    Ids ids{static_cast<std::int32_t>(syscall(SYS_getpid)),
            static_cast<std::int32_t>(syscall(SYS_gettid))};
    // A vfork child must not write the thread-locals it shares with its parent's thread.
    if (!g_identity || t_in_vfork)
        return ids;
    std::uint64_t word = g_identity->word.load(std::memory_order_acquire);
    if (word == 0) {
        std::uint64_t epoch = g_identity_epoch.fetch_add(1, std::memory_order_relaxed) + 1;
        std::uint64_t mine = epoch << 32 | static_cast<std::uint32_t>(ids.pid);
        // Another thread (or a signal handler) may install the word first: then use theirs.
        if (g_identity->word.compare_exchange_strong(word, mine, std::memory_order_acq_rel))
            word = mine;
    }
    // A word that names another pid belongs to an address space this process shares without
    // being a thread of it (clone with CLONE_VM): trust nothing cached, cache nothing.
    if (static_cast<std::int32_t>(static_cast<std::uint32_t>(word)) != ids.pid)
        return ids;
    t_pid = ids.pid;
    t_tid = ids.tid;
    // A signal handler that interrupts this thread before the word is stored asks the kernel
    // itself: the ids are complete before the word says they are valid.
    std::atomic_signal_fence(std::memory_order_release);
    t_identity_word = word;
    return ids;
}

// [SECTION] Where: the source file table ----------------------------------------------------------
//
// An event carries its file as an id; the channel's table says which path that is. A probe
// notes its file in the table only when the thread's last noted file (in this channel) was
// another one: one compare per event, a table look-up when a thread moves to another file.
thread_local std::uint32_t t_noted_file = 0;
thread_local std::uint64_t t_noted_in = 0; // the serial of the channel it was noted in

[[gnu::noinline]] void note_file_slow(Channel* channel, const CallSite& site) noexcept {
    if (channel->note_source_file(site.file, site.path)) {
        t_noted_file = site.file;
        t_noted_in = channel->serial();
    }
}

inline void note_file(Channel* channel, const CallSite& site) noexcept {
    if (site.file == 0 || (site.file == t_noted_file && channel->serial() == t_noted_in)) [[likely]]
        return;
    note_file_slow(channel, site);
}

inline Ids current_ids() noexcept {
    std::uint64_t word = t_identity_word;
    if (word != 0 && word == g_identity->word.load(std::memory_order_relaxed)) [[likely]]
        return {t_pid, t_tid};
    return ask_kernel_for_ids();
}
} // namespace

// [SECTION] Recording an event, vfork_exec, the thread's name -------------------------------------

void install_channel(Channel* channel) noexcept {
    g_channel = channel;
}
Channel* installed_channel() noexcept {
    return g_channel;
}

pid_t current_tid() noexcept {
    return current_ids().tid;
}

void record(EventKind kind, std::uint64_t object, std::int64_t arg0, std::int64_t arg1,
            const char* name, const char* text, CallSite site) noexcept {
    Channel* channel = g_channel;
    if (!channel)
        return;
    Ids ids = current_ids();
    note_file(channel, site);
    channel->record_now(kind, ids.pid, ids.tid, object, arg0, arg1, t_thread_name, name, text,
                        site.file, site.line);
}

void record_named(EventKind kind, std::uint64_t object, std::int64_t arg0, std::int64_t arg1,
                  const char (&name)[sizeof(Event::name)], CallSite site) noexcept {
    Channel* channel = g_channel;
    if (!channel)
        return;
    Ids ids = current_ids();
    note_file(channel, site);
    channel->record_now(kind, ids.pid, ids.tid, object, arg0, arg1, t_thread_name, name, site.file,
                        site.line);
}

pid_t vfork_exec(const char* path, char* const argv[], CallSite site) noexcept {
    // The child runs on this thread's stack and thread-locals until it execs or exits, while
    // this thread is suspended: the flag (and the word, cleared so that the child's events
    // take the slow path) are seen by the child and restored here once it is gone.
    step_point(EventKind::child_start, 0, path, site); // before the thread is lent to the child
    const std::uint64_t saved_word = t_identity_word;
    t_in_vfork = true;
    t_identity_word = 0;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    pid_t pid = vfork();
    if (pid == 0) {
        record(EventKind::exec, 0, 0, 0, path, nullptr, site);
        execv(path, argv);
        record(EventKind::note, 0, errno, 0, path, "exec failed", site);
        _exit(127);
    }
    std::atomic_signal_fence(std::memory_order_seq_cst);
    t_identity_word = saved_word;
    t_in_vfork = false;
    return pid;
}

void set_thread_name(const char* name) noexcept {
    copy_name(t_thread_name, name);
    prctl(PR_SET_NAME, t_thread_name, 0, 0, 0);
}

const char* thread_name() noexcept {
    return t_thread_name;
}

// [SECTION] Thread --------------------------------------------------------------------------------

struct Thread::Identity {
    char name[32];
    std::atomic<pid_t> tid{0};
};

Thread::Thread(const std::string& name, std::function<void()> body, CallSite site)
    : identity_(std::make_unique<Identity>()) {
    copy_name(identity_->name, name.c_str());
    pid_t creator = current_tid();
    Identity* identity = identity_.get();
    thread_ = std::thread([identity, creator, site, body = std::move(body)] {
        identity->tid.store(current_tid());
        identity->tid.notify_all();
        set_thread_name(identity->name);
        step_point(EventKind::thread_start, 0, identity->name, site);
        record(EventKind::thread_start, 0, creator, 0, identity->name, nullptr, site);
        body();
        step_point(EventKind::thread_exit, 0, identity->name, site);
        record(EventKind::thread_exit, 0, 0, 0, identity->name, nullptr, site);
        leave_board();
    });
    // Wait until the new thread has published its tid: a join (or a scenario) that asks for it
    // right away must name the real thread, not 0. The new thread stores it before anything
    // else, so this is a few microseconds, and it never waits on scenario code.
    identity->tid.wait(0);
}

Thread::Thread(Thread&&) noexcept = default;
Thread& Thread::operator=(Thread&&) noexcept = default;

Thread::~Thread() {
    // A join nobody wrote: the end of the Thread's scope has no line.
    if (thread_.joinable())
        join(CallSite::unknown());
}

pid_t Thread::tid() const noexcept {
    return identity_ ? identity_->tid.load() : 0;
}

void Thread::join(CallSite site) {
    auto tid = static_cast<std::uint64_t>(this->tid());
    step_point(EventKind::join_wait, tid, identity_->name, site);
    record(EventKind::join_wait, tid, 0, 0, identity_->name, nullptr, site);
    thread_.join();
    record(EventKind::join_done, tid, 0, 0, identity_->name, nullptr, site);
}

// [SECTION] Locks: Mutex, Barrier, FileLock -------------------------------------------------------

// --- Mutex -----------------------------------------------------------------------------------

Mutex::Mutex(const char* name, bool recursive) noexcept : recursive_(recursive) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, recursive ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_NORMAL);
    pthread_mutex_init(&mutex_, &attr);
    pthread_mutexattr_destroy(&attr);
    copy_name(name_, name);
}

Mutex::~Mutex() {
    pthread_mutex_destroy(&mutex_);
}

void Mutex::lock(CallSite site) noexcept {
    auto address = reinterpret_cast<std::uint64_t>(&mutex_);
    step_point(EventKind::lock_wait, address, name_, site);
    // A free lock is taken without a wait: only a thread about to block records lock_wait (one
    // event fewer for every uncontended lock). The wait event goes before the blocking call: if
    // the lock never comes, the trace still says who wanted it.
    if (pthread_mutex_trylock(&mutex_) != 0) {
        record_named(EventKind::lock_wait, address, kind(), 0, name_, site);
        pthread_mutex_lock(&mutex_);
    }
    record_named(EventKind::lock_acquired, address, kind(), 0, name_, site);
}

bool Mutex::try_lock(CallSite site) noexcept {
    step_point(EventKind::lock_wait, reinterpret_cast<std::uint64_t>(&mutex_), name_, site);
    if (pthread_mutex_trylock(&mutex_) != 0)
        return false;
    record_named(EventKind::lock_acquired, reinterpret_cast<std::uint64_t>(&mutex_), kind(), 0,
                 name_, site);
    return true;
}

void Mutex::unlock(CallSite site) noexcept {
    step_point(EventKind::lock_released, reinterpret_cast<std::uint64_t>(&mutex_), name_, site);
    // Record before unlocking: once unlocked another thread may take it and record first.
    record_named(EventKind::lock_released, reinterpret_cast<std::uint64_t>(&mutex_), kind(), 0,
                 name_, site);
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

Barrier::~Barrier() {
    pthread_barrier_destroy(&barrier_);
}

void Barrier::arrive_and_wait(CallSite site) noexcept {
    auto address = reinterpret_cast<std::uint64_t>(&barrier_);
    step_point(EventKind::barrier_wait, address, name_, site);
    record_named(EventKind::barrier_wait, address, 0, 0, name_, site);
    pthread_barrier_wait(&barrier_);
    record_named(EventKind::barrier_passed, address, 0, 0, name_, site);
}

// --- FileLock --------------------------------------------------------------------------------

namespace {
std::uint64_t inode_of(int fd) noexcept {
    struct stat st {};
    return fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_ino) : 0;
}
} // namespace

FileLock::FileLock(const char* name, int fd, FileLockKind kind) noexcept
    : fd_(fd), kind_(kind), inode_(inode_of(fd)) {
    copy_name(name_, name);
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

bool FileLock::lock(bool exclusive, CallSite site) noexcept {
    step_point(EventKind::file_lock_wait, static_cast<std::uint64_t>(fd_), name_, site);
    auto kind = static_cast<std::int64_t>(kind_);
    std::uint64_t ino = inode_;
    record_named(EventKind::file_lock_wait, static_cast<std::uint64_t>(fd_), kind,
                 static_cast<std::int64_t>(ino), name_, site);
    int rc = 0;
    short type = exclusive ? F_WRLCK : F_RDLCK;
    switch (kind_) {
    case FileLockKind::flock:
        rc = flock(fd_, exclusive ? LOCK_EX : LOCK_SH);
        break;
    case FileLockKind::fcntl:
        rc = fcntl_whole_file(fd_, F_SETLKW, type);
        break;
    case FileLockKind::ofd:
        rc = fcntl_whole_file(fd_, F_OFD_SETLKW, type);
        break;
    }
    if (rc != 0) {
        int saved = errno;
        note("file lock request failed", site);
        errno = saved;
        return false;
    }
    record_named(EventKind::file_lock_acquired, static_cast<std::uint64_t>(fd_), kind,
                 static_cast<std::int64_t>(ino), name_, site);
    return true;
}

bool FileLock::unlock(CallSite site) noexcept {
    step_point(EventKind::file_lock_released, static_cast<std::uint64_t>(fd_), name_, site);
    auto kind = static_cast<std::int64_t>(kind_);
    record_named(EventKind::file_lock_released, static_cast<std::uint64_t>(fd_), kind,
                 static_cast<std::int64_t>(inode_), name_, site);
    switch (kind_) {
    case FileLockKind::flock:
        return flock(fd_, LOCK_UN) == 0;
    case FileLockKind::fcntl:
        return fcntl_whole_file(fd_, F_SETLK, F_UNLCK) == 0;
    case FileLockKind::ofd:
        return fcntl_whole_file(fd_, F_OFD_SETLK, F_UNLCK) == 0;
    }
    return false;
}

// [SECTION] Output: the logger, print, note, measure ----------------------------------------------

void Logger::write(const char* text, CallSite site) noexcept {
    // Like a real logging library: take the logger's lock, format the line, write it, unlock.
    mutex_.lock(site);
    char line[256];
    int length = snprintf(line, sizeof line, "[%s] %s\n", t_thread_name, text);
    if (length > 0) {
        std::size_t size = std::min(static_cast<std::size_t>(length), sizeof line - 1);
        // The whole line: a logger must not lose half of it to a short write.
        (void)fd_io::write_all(STDERR_FILENO, line, size);
    }
    record(EventKind::output, 0, STDERR_FILENO, 0, "logger", text, site);
    mutex_.unlock(site);
}

void print(FILE* stream, const char* text, CallSite site) noexcept {
    step_point(EventKind::output, static_cast<std::uint64_t>(fileno(stream)), "stdio", site);
    fprintf(stream, "%s\n", text);
    record(EventKind::output, 0, fileno(stream), 0, "stdio", text, site);
}

void note(const char* text, CallSite site) noexcept {
    step_point(EventKind::note, 0, text, site); // a named step
    record(EventKind::note, 0, 0, 0, nullptr, text, site);
}

void measure(const char* name, double value, const char* unit, CallSite site) noexcept {
    record(EventKind::measurement, 0, std::bit_cast<std::int64_t>(value), 0, name, unit, site);
}

// [SECTION] Scheduling points: stopping at the board in a stepped run ---------------------------

namespace {
ScheduleBoard* g_board = nullptr;
// The thread's board slot, valid while the identity word is the one it was claimed under: a
// forked child's thread finds another word (the page is wiped in the child) and claims anew.
thread_local int t_slot = -1;
thread_local std::uint64_t t_slot_word = 0;

int board_slot(ScheduleBoard* board) noexcept {
    const Ids ids = current_ids();
    const std::uint64_t word = t_identity_word;
    if (word == 0)
        return -1; // ids that cannot be cached (a clone sharing memory): such a thread runs free
    if (t_slot_word == word)
        return t_slot;
    t_slot = board->claim(ids.pid, ids.tid, t_thread_name);
    t_slot_word = word;
    return t_slot;
}
} // namespace

void install_board(ScheduleBoard* board) noexcept {
    g_board = board;
}
ScheduleBoard* installed_board() noexcept {
    return g_board;
}

void step_point(EventKind kind, std::uint64_t object, const char* name, CallSite site) noexcept {
    ScheduleBoard* board = g_board;
    if (!board || t_in_vfork) [[likely]]
        return;
    const int slot = board_slot(board);
    if (slot < 0)
        return;
    // The board names the line by its file id: the channel's table must know the path.
    if (Channel* channel = g_channel)
        note_file(channel, site);
    board->wait_for_turn(slot, StepRequest{kind, object, site.file, site.line, name});
}

void leave_board() noexcept {
    ScheduleBoard* board = g_board;
    if (!board || t_in_vfork)
        return;
    const int slot = board_slot(board);
    if (slot >= 0)
        board->leave(slot);
}

} // namespace forklore::probe
