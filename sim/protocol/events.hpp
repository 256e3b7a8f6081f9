// The one place that defines every event a sandboxed program can record.
//
// An event is a fixed-size plain struct so that it can be written into shared memory from any
// process, any thread and any signal handler without allocating or locking. Ids (pid, tid) are
// the ones the recording process sees; inside a PID namespace the observer maps them to the
// host's ids with the NSpid line of /proc/PID/status.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace forklore {

// Bump when the layout of Event or the meaning of a field changes; stored in the channel header
// and in every run record.
// 3: each event says where in the source it was recorded (file, line).
inline constexpr std::uint32_t kEventSchemaVersion = 3;

enum class EventKind : std::uint16_t {
    process_start,      // scenario code began in this process; arg0 = parent pid, name = role
    thread_start,       // name = thread name; arg0 = creating thread's tid
    thread_exit,        // name = thread name
    lock_wait,          // about to block on a lock (a lock taken at once has none); object =
                        // lock address, arg0 = LockKind, name = lock name
    lock_acquired,      // as lock_wait
    lock_released,      // as lock_wait
    file_lock_wait,     // object = fd, arg0 = FileLockKind, arg1 = inode, name = lock name
    file_lock_acquired, // as file_lock_wait
    file_lock_released, // as file_lock_wait
    child_start,        // object = child pid, arg0 = StartMethod, arg1 = CopyCall (how a copy
                        // was made: fork(), _Fork(), a raw clone), name = child function
    exec,               // this process is about to exec; name = program
    process_exit,       // a reaped process: object = pid, arg0 = raw wait status, arg1 =
                        // kFirstProcessExit when it is the scenario's first process
    signal_sent,        // object = target pid, arg0 = signal: a death by it is expected
    output,         // text written by the scenario; arg0 = fd; name = channel ("logger"/"stdio")
    note,           // free text from the scenario: a step a student should see
    barrier_wait,   // object = barrier address, name = barrier name
    barrier_passed, // object = barrier address, name = barrier name
    cond_wait,      // about to wait on a condition variable; object = its address,
                    // arg0 = CondWaitKind, arg1 = the mutex's address, name = its name
    cond_woken,     // the wait returned; as cond_wait
    cond_signal,    // a signal (arg0 = 0) or broadcast (arg0 = 1) on the condition variable at
                    // object; name = its name
    child_wait,     // about to wait for a child to end: object = child pid, arg0 = the fd its
                    // status arrives on (a fork server's child), -1 for waitpid
    join_wait,      // about to join a thread: object = its tid, name = its name
    join_done,      // the join returned; as join_wait
    measurement,    // a figure the run measured: name = what, text = unit,
                    // arg0 = the value (a double's bits; see measurement_value)
};

inline constexpr std::array<std::string_view, 24> kEventKindNames = {
    "process_start",      "thread_start",  "thread_exit",    "lock_wait",
    "lock_acquired",      "lock_released", "file_lock_wait", "file_lock_acquired",
    "file_lock_released", "child_start",   "exec",           "process_exit",
    "signal_sent",        "output",        "note",           "barrier_wait",
    "barrier_passed",     "cond_wait",     "cond_woken",     "cond_signal",
    "child_wait",         "join_wait",     "join_done",      "measurement"};
static_assert(kEventKindNames.size() == static_cast<std::size_t>(EventKind::measurement) + 1,
              "every EventKind needs a name");

constexpr std::string_view to_string(EventKind kind) {
    return kEventKindNames[static_cast<std::size_t>(kind)];
}

// The events a thread records just before it blocks: it waits from here until the matching end
// (lock_acquired, cond_woken, barrier_passed, join_done, its child's process_exit).
constexpr bool begins_a_wait(EventKind kind) {
    switch (kind) {
    case EventKind::lock_wait:
    case EventKind::file_lock_wait:
    case EventKind::cond_wait:
    case EventKind::barrier_wait:
    case EventKind::join_wait:
    case EventKind::child_wait:
        return true;
    default:
        return false;
    }
}

// process_exit's arg1 for the scenario's first process (the program `forklore exec` runs): the
// run ends when it does, whatever it leaves running.
inline constexpr std::int64_t kFirstProcessExit = 1;

enum class FileLockKind : std::int64_t { flock = 0, fcntl = 1, ofd = 2 };

// What kind of in-memory lock a lock event is about: each keeps its owner (or none) differently,
// which decides what the verdict can say about who holds it.
enum class LockKind : std::int64_t {
    mutex = 0,           // pthread mutex (std::mutex is one): owner tid in the lock word
    recursive_mutex = 1, // the same, with a count
    rwlock_write = 2,    // pthread rwlock taken for writing: owner tid in __cur_writer
    rwlock_read = 3,     // taken for reading: readers are only counted, never named
    semaphore = 4,       // sem_t: a count, no owner at all
    spin = 5,            // pthread spin lock: a word, no owner; a waiter spins on the CPU
};
inline constexpr std::array<std::string_view, 6> kLockKindNames = {
    "mutex", "recursive_mutex", "rwlock_write", "rwlock_read", "semaphore", "spin"};
constexpr std::string_view to_string(LockKind kind) {
    auto index = static_cast<std::size_t>(kind);
    return index < kLockKindNames.size() ? kLockKindNames[index] : std::string_view("lock");
}

// Why a thread waits on a condition variable.
enum class CondWaitKind : std::int64_t {
    wait = 0,    // pthread_cond_wait: until signalled
    destroy = 1, // pthread_cond_destroy: until every waiter has woken and left
};

// What an event's time_ns counts. Events leave the channel (Channel::read) and live in run
// records always as monotonic_ns; `tsc` is only ever seen inside the shared ring, where the probes
// store the raw time-stamp counter (one instruction, no vDSO call) and the reader converts it.
enum class EventClock : std::uint16_t {
    monotonic_ns = 0, // CLOCK_MONOTONIC nanoseconds
    tsc = 1,          // x86 time-stamp counter ticks (invariant TSC only)
};

// One recorded fact. Strings are fixed arrays, always NUL-terminated, truncated when too long.
struct Event {
    std::uint32_t committed; // written last (release) by the recorder; 1 when the slot is complete
    EventKind kind;
    EventClock clock;     // what time_ns counts; monotonic_ns outside the channel
    std::uint64_t seq;    // slot index: the global order in which slots were claimed
    std::int64_t time_ns; // CLOCK_MONOTONIC, shared by every process on the machine
    std::int32_t pid;     // recording process, as it sees itself
    std::int32_t tid;     // recording thread, as it sees itself
    std::uint64_t object; // lock address, fd or child pid, depending on kind
    std::int64_t arg0;
    std::int64_t arg1;
    std::uint32_t file; // where the probe was called: source_file_id of the path relative
                        // to the source tree (the channel keeps the path), 0 when unknown
    std::uint32_t line; // that call's line, 0 when unknown
    char thread[16];    // recording thread's name
    char name[32];      // the object's name (lock, child function, thread)
    char text[88];      // output or note text (longer text is cut; raw output is captured whole)
};
static_assert(sizeof(Event) == 200, "Event layout is part of the schema: bump kEventSchemaVersion");

// The id of a source file, as events carry it: FNV-1a of its path relative to the source tree
// ("scenarios/010_file_read_under_lock.cpp"). Computed at compile time where a probe is called
// and again by a record reader from the path, so both agree; never 0 (0 is "no file").
constexpr std::uint32_t source_file_id(std::string_view path) {
    std::uint32_t hash = 2166136261u;
    for (char c : path) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 16777619u;
    }
    return hash == 0 ? 1 : hash;
}

// The text of one of an event's fixed character fields (thread, name, text): up to the first NUL,
// and never past the field, even when a writer cut a string without one.
template <std::size_t N> constexpr std::string_view field_text(const char (&field)[N]) {
    std::size_t length = 0;
    while (length < N && field[length] != '\0')
        ++length;
    return {field, length};
}

// A measurement event's value (stored bit for bit in arg0, so recording stays a plain copy).
inline double measurement_value(const Event& event) {
    return std::bit_cast<double>(event.arg0);
}

} // namespace forklore
