// The shared-memory event channel: create/attach, order and fields, a full channel, and
// recording from many threads, forked children and signal handlers at once. The instrument must
// never lose, tear or duplicate an event it accepted, and must never block when it is full.
#include "sim/protocol/channel.hpp"
#include "sim/protocol/events.hpp"
#include "sim/probe/probe.hpp"

#include <catch2/catch.hpp>

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstddef>
#include <csignal>
#include <cstring>
#include <map>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace forklore;

namespace {

Event make_event(EventKind kind, std::int32_t pid, std::int32_t tid, std::int64_t arg0,
                 const char* name = nullptr, const char* text = nullptr) {
    Event event{};
    event.kind = kind;
    event.time_ns = 1000 + arg0;
    event.pid = pid;
    event.tid = tid;
    event.object = 0xabc0 + static_cast<std::uint64_t>(arg0);
    event.arg0 = arg0;
    event.arg1 = -arg0;
    copy_name(event.thread, "worker");
    copy_name(event.name, name);
    copy_name(event.text, text);
    return event;
}

std::vector<Event> read_all(const Channel& channel, bool final = true,
                            std::uint64_t* torn = nullptr) {
    std::uint64_t cursor = 0;
    std::vector<Event> events;
    channel.read(cursor, events, final, torn);
    return events;
}

bool nul_terminated(const char* data, std::size_t size) {
    return std::memchr(data, '\0', size) != nullptr;
}

// Every event must be committed, carry a growing slot index, and have terminated strings.
// Checked in a plain loop (one assertion at the end): traces here have up to 200k events.
void require_well_formed(const std::vector<Event>& events) {
    std::size_t bad = 0, first_bad = events.size();
    for (std::size_t i = 0; i < events.size(); ++i) {
        const Event& e = events[i];
        bool ok = e.committed == 1u && (i == 0 || e.seq > events[i - 1].seq) &&
                  nul_terminated(e.thread, sizeof e.thread) &&
                  nul_terminated(e.name, sizeof e.name) && nul_terminated(e.text, sizeof e.text);
        if (!ok && bad++ == 0) first_bad = i;
    }
    INFO("first malformed event at index " << first_bad);
    REQUIRE(bad == 0);
}

// Installs the probe channel for one test and always removes it again.
struct InstalledChannel {
    explicit InstalledChannel(Channel* channel) { probe::install_channel(channel); }
    ~InstalledChannel() { probe::install_channel(nullptr); }
    InstalledChannel(const InstalledChannel&) = delete;
    InstalledChannel& operator=(const InstalledChannel&) = delete;
};

// Installs a signal handler for one test and restores the previous one.
struct ScopedHandler {
    ScopedHandler(int signal, void (*handler)(int)) : signal_(signal) {
        struct sigaction action {};
        action.sa_handler = handler;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        REQUIRE(sigaction(signal, &action, &old_) == 0);
    }
    ~ScopedHandler() { sigaction(signal_, &old_, nullptr); }
    ScopedHandler(const ScopedHandler&) = delete;
    ScopedHandler& operator=(const ScopedHandler&) = delete;
    int signal_;
    struct sigaction old_ {};
};

} // namespace

TEST_CASE("a created channel is empty and valid", "[channel]") {
    Channel channel = Channel::create(16);
    REQUIRE(channel.valid());
    REQUIRE(channel.fd() >= 0);
    CHECK(channel.capacity() == 16);
    CHECK(channel.claimed() == 0);
    CHECK(channel.dropped() == 0);
    CHECK(read_all(channel, false).empty());

    // The fd is close-on-exec: the runner dup2()s it into the host explicitly.
    CHECK((fcntl(channel.fd(), F_GETFD) & FD_CLOEXEC) != 0);

    CHECK_THROWS_AS(Channel::create(0), std::invalid_argument);

    Channel none;
    CHECK_FALSE(none.valid());
    CHECK(none.capacity() == 0);
    CHECK_FALSE(none.record(make_event(EventKind::note, 1, 1, 0)));
    CHECK(none.claimed() == 0);
}

TEST_CASE("attach sees the events written through the creator, and the other way round",
          "[channel]") {
    Channel creator = Channel::create(64);
    for (int i = 0; i < 3; ++i)
        REQUIRE(creator.record(make_event(EventKind::note, 10, 11, i, "n", "from creator")));

    int copy = dup(creator.fd());
    REQUIRE(copy >= 0);
    Channel attached = Channel::attach(copy);
    REQUIRE(attached.valid());
    CHECK(attached.fd() == copy);
    CHECK(attached.capacity() == 64);
    CHECK(attached.claimed() == 3);

    std::vector<Event> seen = read_all(attached, false);
    REQUIRE(seen.size() == 3);
    for (int i = 0; i < 3; ++i) {
        CHECK(seen[i].arg0 == i);
        CHECK(std::string(seen[i].text) == "from creator");
    }

    REQUIRE(attached.record(make_event(EventKind::output, 20, 21, 7, "stdio", "from attacher")));
    std::vector<Event> back = read_all(creator, false);
    REQUIRE(back.size() == 4);
    CHECK(back[3].kind == EventKind::output);
    CHECK(back[3].pid == 20);
    CHECK(back[3].seq == 3);
    CHECK(std::string(back[3].text) == "from attacher");

    // A moved channel keeps the mapping; the moved-from one is empty.
    Channel moved = std::move(attached);
    CHECK(moved.valid());
    CHECK_FALSE(attached.valid()); // NOLINT(bugprone-use-after-move)
    CHECK(moved.claimed() == 4);
}

TEST_CASE("attach refuses an fd that holds no channel", "[channel]") {
    SECTION("/dev/null") {
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        REQUIRE(fd >= 0);
        CHECK_THROWS_AS(Channel::attach(fd), std::runtime_error);
        close(fd);
    }
    SECTION("a memfd full of garbage") {
        int fd = memfd_create("garbage", MFD_CLOEXEC);
        REQUIRE(fd >= 0);
        std::vector<unsigned char> garbage(8192);
        for (std::size_t i = 0; i < garbage.size(); ++i)
            garbage[i] = static_cast<unsigned char>(i * 131 + 7);
        REQUIRE(write(fd, garbage.data(), garbage.size()) ==
                static_cast<ssize_t>(garbage.size()));
        CHECK_THROWS_AS(Channel::attach(fd), std::runtime_error);
        close(fd);
    }
    SECTION("a memfd smaller than a header") {
        int fd = memfd_create("tiny", MFD_CLOEXEC);
        REQUIRE(fd >= 0);
        REQUIRE(write(fd, "forklore", 8) == 8);
        CHECK_THROWS_AS(Channel::attach(fd), std::runtime_error);
        close(fd);
    }
    SECTION("a channel whose file is smaller than its capacity says") {
        Channel channel = Channel::create(32);
        int fd = dup(channel.fd());
        REQUIRE(fd >= 0);
        // Header plus 8 of the 32 slots: slots past the end would fault in the attacher.
        REQUIRE(ftruncate(fd, 64 + 8 * static_cast<off_t>(sizeof(Event))) == 0);
        CHECK_THROWS_AS(Channel::attach(fd), std::runtime_error);
        close(fd);
    }
    SECTION("a closed fd") {
        CHECK_THROWS_AS(Channel::attach(-1), std::runtime_error);
    }
}

TEST_CASE("events keep their order and every field", "[channel]") {
    Channel channel = Channel::create(32);
    const EventKind kinds[] = {EventKind::process_start, EventKind::lock_wait,
                               EventKind::lock_acquired, EventKind::output,
                               EventKind::barrier_passed};
    for (int i = 0; i < 5; ++i) {
        Event event = make_event(kinds[i], 100 + i, 200 + i, i, "lock", "text");
        event.committed = 7; // the recorder owns these two fields
        event.seq = 99;
        REQUIRE(channel.record(event));
    }
    std::vector<Event> events = read_all(channel, false);
    REQUIRE(events.size() == 5);
    require_well_formed(events);
    for (int i = 0; i < 5; ++i) {
        const Event& e = events[i];
        CHECK(e.seq == static_cast<std::uint64_t>(i));
        CHECK(e.committed == 1u);
        CHECK(e.kind == kinds[i]);
        CHECK(e.time_ns == 1000 + i);
        CHECK(e.pid == 100 + i);
        CHECK(e.tid == 200 + i);
        CHECK(e.object == 0xabc0u + static_cast<std::uint64_t>(i));
        CHECK(e.arg0 == i);
        CHECK(e.arg1 == -i);
        CHECK(std::string(e.thread) == "worker");
        CHECK(std::string(e.name) == "lock");
        CHECK(std::string(e.text) == "text");
    }

    // Reading again from the advanced cursor yields nothing new, then only what came after.
    std::uint64_t cursor = 0;
    std::vector<Event> batch;
    CHECK(channel.read(cursor, batch) == 5);
    CHECK(cursor == 5);
    CHECK(channel.read(cursor, batch) == 0);
    REQUIRE(channel.record(make_event(EventKind::note, 1, 1, 42)));
    CHECK(channel.read(cursor, batch) == 1);
    CHECK(batch.size() == 6);
    CHECK(batch.back().arg0 == 42);
    CHECK(cursor == 6);
}

TEST_CASE("probe::record truncates long names and texts and always terminates them",
          "[channel]") {
    Channel channel = Channel::create(16);
    InstalledChannel installed(&channel);
    CHECK(probe::installed_channel() == &channel);

    const std::string long_name(100, 'n');
    const std::string long_text(500, 't');
    const std::string fits_name(31, 'a'); // exactly the room there is
    probe::record(EventKind::note, 1, 2, 3, long_name.c_str(), long_text.c_str());
    probe::record(EventKind::note, 0, 0, 0, fits_name.c_str(), "short");
    probe::record(EventKind::note); // no name, no text

    std::vector<Event> events = read_all(channel, false);
    REQUIRE(events.size() == 3);
    require_well_formed(events);

    CHECK(std::string(events[0].name) == long_name.substr(0, sizeof(Event::name) - 1));
    CHECK(std::string(events[0].text) == long_text.substr(0, sizeof(Event::text) - 1));
    CHECK(events[0].object == 1);
    CHECK(events[0].arg0 == 2);
    CHECK(events[0].arg1 == 3);
    CHECK(events[0].pid == getpid());
    CHECK(events[0].tid == probe::current_tid());
    CHECK(std::string(events[0].thread) == probe::thread_name());

    CHECK(std::string(events[1].name) == fits_name);
    CHECK(std::string(events[1].text) == "short");
    CHECK(events[2].name[0] == '\0');
    CHECK(events[2].text[0] == '\0');
    // Times come from CLOCK_MONOTONIC, in order.
    CHECK(events[0].time_ns > 0);
    CHECK(events[0].time_ns <= events[1].time_ns);
    CHECK(events[1].time_ns <= events[2].time_ns);

    // copy_name clears the whole rest of the array: no stale bytes from a previous use.
    char buffer[8];
    std::memset(buffer, 'x', sizeof buffer);
    copy_name(buffer, "ab");
    for (std::size_t i = 2; i < sizeof buffer; ++i) CHECK(buffer[i] == '\0');
    copy_name(buffer, "abcdefghijk");
    CHECK(std::string(buffer) == "abcdefg");
    copy_name(buffer, nullptr);
    CHECK(buffer[0] == '\0');
}

TEST_CASE("a full channel counts drops and never blocks or wraps", "[channel]") {
    Channel channel = Channel::create(8);
    int kept = 0, refused = 0;
    for (int i = 0; i < 20; ++i) {
        if (channel.record(make_event(EventKind::note, 1, 1, i)))
            ++kept;
        else
            ++refused;
    }
    CHECK(kept == 8);
    CHECK(refused == 12);
    CHECK(channel.claimed() == 8);
    CHECK(channel.dropped() == 12);

    std::vector<Event> events = read_all(channel, false);
    REQUIRE(events.size() == 8);
    for (int i = 0; i < 8; ++i) CHECK(events[i].arg0 == i); // the first 8, never overwritten

    // Reading does not free slots: the channel is a log, not a ring that wraps over readers.
    CHECK_FALSE(channel.record(make_event(EventKind::note, 1, 1, 100)));
    CHECK(channel.dropped() == 13);
    CHECK(read_all(channel, false).back().arg0 == 7);

    // Drops made through another mapping are counted in the same place.
    Channel attached = Channel::attach(dup(channel.fd()));
    CHECK_FALSE(attached.record(make_event(EventKind::note, 1, 1, 101)));
    CHECK(channel.dropped() == 14);
    CHECK(attached.dropped() == 14);
}

TEST_CASE("a full channel keeps exits and intended signals in its reserve", "[channel]") {
    // The verdict is judged from who exited and how: a channel full of lock events must not
    // turn a crashed child into a completed run.
    Channel channel = Channel::create(4);
    for (int i = 0; i < 4; ++i) REQUIRE(channel.record(make_event(EventKind::note, 1, 1, i)));
    CHECK_FALSE(channel.record(make_event(EventKind::lock_wait, 1, 1, 4)));
    CHECK(channel.record(make_event(EventKind::signal_sent, 1, 1, 5)));
    CHECK_FALSE(channel.record(make_event(EventKind::output, 1, 1, 6)));
    CHECK(channel.record(make_event(EventKind::process_exit, 1, 1, 7)));
    CHECK(channel.capacity() == 4);
    CHECK(channel.claimed() == 6);
    CHECK(channel.dropped() == 2);

    // In the order they were claimed: the four first events, then the two kept in reserve.
    std::vector<Event> events = read_all(channel, false);
    require_well_formed(events);
    REQUIRE(events.size() == 6);
    for (int i = 0; i < 4; ++i) CHECK(events[i].arg0 == i);
    CHECK(events[4].kind == EventKind::signal_sent);
    CHECK(events[5].kind == EventKind::process_exit);
    CHECK(events[5].seq == 5);

    // A reader that had read everything before sees only the new one.
    std::uint64_t cursor = 6;
    std::vector<Event> more;
    REQUIRE(channel.record(make_event(EventKind::process_exit, 1, 1, 8)));
    CHECK(channel.read(cursor, more) == 1);
    CHECK(more.at(0).arg0 == 8);

    // The reserve is finite too: past it, exits are dropped and counted like anything else.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < Channel::kReserve + 10; ++i)
        kept += channel.record(make_event(EventKind::process_exit, 1, 1, 100)) ? 1 : 0;
    CHECK(kept == Channel::kReserve - 3);
    CHECK(channel.claimed() == 4 + Channel::kReserve);
    CHECK(channel.dropped() == 2 + 13);

    // Attached through the fd (as the sandbox does), the reserve is the same.
    Channel attached = Channel::attach(dup(channel.fd()));
    CHECK(attached.claimed() == 4 + Channel::kReserve);
    CHECK(read_all(attached).size() == 4 + Channel::kReserve);
}

TEST_CASE("recording from many threads keeps every event exactly once", "[channel]") {
    constexpr int kThreads = 8;
    constexpr int kPerThread = 10000;
    Channel channel = Channel::create(kThreads * kPerThread + 16);

    std::atomic<bool> go{false};
    std::atomic<int> finished{0}, refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            for (int i = 0; i < kPerThread; ++i) {
                Event event = make_event(EventKind::note, 1, t, i, "racer", "concurrent");
                if (!channel.record(event)) refused.fetch_add(1);
            }
            finished.fetch_add(1, std::memory_order_release);
        });

    // Read concurrently too: a live reader must only ever see committed, whole events.
    std::uint64_t cursor = 0;
    std::vector<Event> live;
    go.store(true, std::memory_order_release);
    while (finished.load(std::memory_order_acquire) < kThreads) channel.read(cursor, live);
    for (auto& thread : threads) thread.join();
    channel.read(cursor, live); // what came after the last live read
    CHECK(refused.load() == 0);

    CHECK(channel.dropped() == 0);
    CHECK(channel.claimed() == static_cast<std::uint64_t>(kThreads * kPerThread));
    REQUIRE(live.size() == static_cast<std::size_t>(kThreads * kPerThread));
    require_well_formed(live);

    std::vector<Event> final_read = read_all(channel, true);
    REQUIRE(final_read.size() == live.size());

    std::set<std::pair<int, std::int64_t>> seen;
    std::map<int, std::int64_t> last_counter;
    std::size_t duplicates = 0, mixed = 0, out_of_order = 0, wrong_seq = 0, strangers = 0;
    for (std::size_t i = 0; i < live.size(); ++i) {
        const Event& e = live[i];
        if (e.seq != i || final_read[i].seq != i) ++wrong_seq;
        if (e.tid < 0 || e.tid >= kThreads) ++strangers;
        if (!seen.insert({e.tid, e.arg0}).second) ++duplicates;
        // Fields of one event belong together (no mix of two writers).
        if (e.object != 0xabc0u + static_cast<std::uint64_t>(e.arg0) || e.arg1 != -e.arg0 ||
            e.time_ns != 1000 + e.arg0 || std::strcmp(e.text, "concurrent") != 0 ||
            std::memcmp(&e, &final_read[i], sizeof e) != 0)
            ++mixed;
        // One thread's events keep that thread's order.
        auto [it, first] = last_counter.try_emplace(e.tid, e.arg0);
        if (first ? e.arg0 != 0 : e.arg0 != it->second + 1) ++out_of_order;
        it->second = e.arg0;
    }
    CHECK(wrong_seq == 0);
    CHECK(strangers == 0);
    CHECK(duplicates == 0);
    CHECK(mixed == 0);
    CHECK(out_of_order == 0);
    CHECK(seen.size() == static_cast<std::size_t>(kThreads * kPerThread)); // every one present
}

TEST_CASE("forked children record through the inherited mapping", "[channel]") {
    constexpr int kChildren = 4;
    constexpr int kPerChild = 1000;
    Channel channel = Channel::create(kChildren * kPerChild + 64);
    InstalledChannel installed(&channel);

    // The children start recording together: each one waits on a shared counter until all of
    // them are ready, so their records really contend for slots.
    void* shared = mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(shared != MAP_FAILED);
    auto* ready = new (shared) std::atomic<int>(0);
    probe::record(EventKind::note, 0, -1, 0, "parent", "before fork");
    std::vector<pid_t> children;
    for (int c = 0; c < kChildren; ++c) {
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ready->fetch_add(1);
            // Bounded: if the parent failed to fork them all, the rest still finish.
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
            while (ready->load() < kChildren && std::chrono::steady_clock::now() < deadline)
                sched_yield();
            for (int i = 0; i < kPerChild; ++i)
                probe::record(EventKind::note, static_cast<std::uint64_t>(c), i, 0, "child");
            _exit(0);
        }
        children.push_back(pid);
    }
    probe::record(EventKind::note, 0, -2, 0, "parent", "after fork");
    for (pid_t pid : children) {
        int status = 0;
        REQUIRE(waitpid(pid, &status, 0) == pid);
        REQUIRE(WIFEXITED(status));
        REQUIRE(WEXITSTATUS(status) == 0);
    }
    probe::record(EventKind::note, 0, -3, 0, "parent", "after wait");
    munmap(shared, sizeof(std::atomic<int>));

    std::uint64_t torn = 0;
    std::vector<Event> events = read_all(channel, true, &torn);
    CHECK(torn == 0);
    CHECK(channel.dropped() == 0);
    REQUIRE(events.size() == static_cast<std::size_t>(kChildren * kPerChild + 3));
    require_well_formed(events);

    std::map<pid_t, std::vector<std::int64_t>> by_child;
    std::vector<std::int64_t> parent;
    for (const Event& e : events) {
        if (e.pid == getpid()) {
            CHECK(std::string(e.name) == "parent");
            parent.push_back(e.arg0);
        } else {
            CHECK(std::string(e.name) == "child");
            CHECK(e.tid == e.pid); // each child is single-threaded
            by_child[e.pid].push_back(e.arg0);
        }
    }
    CHECK(parent == std::vector<std::int64_t>{-1, -2, -3});
    REQUIRE(by_child.size() == static_cast<std::size_t>(kChildren));
    for (pid_t pid : children) {
        INFO("child " << pid);
        const auto& counters = by_child[pid];
        REQUIRE(counters.size() == static_cast<std::size_t>(kPerChild));
        for (int i = 0; i < kPerChild; ++i) CHECK(counters[i] == i); // in order, once each
    }
}

TEST_CASE("a writer that dies mid-event leaves a torn slot that only a final read skips",
          "[channel]") {
    Channel channel = Channel::create(16);
    REQUIRE(channel.record(make_event(EventKind::note, 1, 1, 0)));

    // The child hands record() an event whose last bytes lie on an unreadable page: the slot is
    // claimed, partly written, and the child dies before it can commit it.
    const long page = sysconf(_SC_PAGESIZE);
    void* pages = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(pages != MAP_FAILED);
    REQUIRE(mprotect(static_cast<char*>(pages) + page, page, PROT_NONE) == 0);
    auto* event = reinterpret_cast<Event*>(static_cast<char*>(pages) + page -
                                           offsetof(Event, text));
    std::memset(event, 0, offsetof(Event, text));
    event->kind = EventKind::note;

    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL); // die quietly, even under a sanitizer's handler
        channel.record(*event);
        _exit(0); // not reached
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    munmap(pages, 2 * page);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(channel.claimed() == 2); // the premise: the slot was claimed before the fault

    REQUIRE(channel.record(make_event(EventKind::note, 1, 1, 2)));

    // A live read stops at the slot still being written: its writer may yet finish.
    std::uint64_t cursor = 0;
    std::vector<Event> events;
    CHECK(channel.read(cursor, events, false) == 1);
    CHECK(cursor == 1);
    CHECK(channel.read(cursor, events, false) == 0);
    CHECK(cursor == 1);

    // A final read (every writer is dead) skips it and counts it.
    std::uint64_t torn = 0;
    CHECK(channel.read(cursor, events, true, &torn) == 1);
    CHECK(torn == 1);
    CHECK(cursor == 3);
    REQUIRE(events.size() == 2);
    CHECK(events[0].arg0 == 0);
    CHECK(events[1].arg0 == 2);
    CHECK(events[1].seq == 2);
}

// ---- signal handlers ----

namespace {

static_assert(std::atomic<int>::is_always_lock_free);
std::atomic<int> g_started{0}; // handler calls that began (and took an index)
std::atomic<int> g_handled{0}; // handler calls that finished recording

// Process-directed signals (SIGALRM) may run it on any thread, even two at once: the index is
// claimed atomically.
void record_from_handler(int) {
    const int saved_errno = errno;
    const int index = g_started.fetch_add(1, std::memory_order_relaxed);
    probe::record(EventKind::note, 1, index, 0, "handler", "recorded in a signal handler");
    g_handled.fetch_add(1, std::memory_order_release);
    errno = saved_errno;
}

void reset_handler_counts() {
    g_started = 0;
    g_handled = 0;
}

// Checks a trace of main-loop events (object 0) and handler events (object 1).
void check_trace(const Channel& channel, int main_events, int handled) {
    std::uint64_t torn = 0;
    std::vector<Event> events = read_all(channel, true, &torn);
    CHECK(torn == 0);
    CHECK(channel.dropped() == 0);
    REQUIRE(events.size() == static_cast<std::size_t>(main_events + handled));
    require_well_formed(events);
    // A live read sees the same: nothing is left uncommitted once the handlers have returned.
    CHECK(read_all(channel, false).size() == events.size());

    std::int64_t next_main = 0;
    std::vector<std::int64_t> handler_indices;
    std::size_t strangers = 0, main_out_of_order = 0, mangled = 0;
    for (const Event& e : events) {
        if (e.kind != EventKind::note) {
            ++strangers;
        } else if (e.object == 0) {
            if (std::strcmp(e.name, "loop") != 0 || e.text[0] != '\0') ++mangled;
            if (e.arg0 != next_main++) ++main_out_of_order;
        } else if (e.object == 1) {
            if (std::strcmp(e.name, "handler") != 0 ||
                std::strcmp(e.text, "recorded in a signal handler") != 0)
                ++mangled;
            handler_indices.push_back(e.arg0);
        } else {
            ++strangers;
        }
    }
    CHECK(strangers == 0);
    CHECK(mangled == 0);
    CHECK(main_out_of_order == 0);
    CHECK(next_main == main_events);
    // Every handler call is there exactly once (in call order when one thread took them all).
    std::sort(handler_indices.begin(), handler_indices.end());
    std::vector<std::int64_t> expected(static_cast<std::size_t>(handled));
    for (int i = 0; i < handled; ++i) expected[static_cast<std::size_t>(i)] = i;
    CHECK(handler_indices == expected);
}

} // namespace

TEST_CASE("signal handlers record while the interrupted thread is recording", "[channel]") {
    constexpr int kMainEvents = 100000;
    constexpr int kMinSignals = 300;
    constexpr int kMaxMainEvents = 300000;
    constexpr int kMaxSignals = 100000;
    Channel channel = Channel::create(kMaxMainEvents + kMaxSignals);
    InstalledChannel installed(&channel);
    ScopedHandler handler(SIGUSR1, record_from_handler);
    reset_handler_counts();

    // Another thread interrupts this one over and over, each signal once the previous one was
    // handled, for as long as this thread records as fast as it can: the handlers land in the
    // middle of record() calls, between claiming a slot and committing it.
    const pthread_t target = pthread_self();
    std::atomic<bool> main_done{false};
    std::atomic<int> sent{0};
    std::thread sender([&] {
        while (!main_done.load(std::memory_order_acquire) && sent.load() < kMaxSignals) {
            pthread_kill(target, SIGUSR1);
            const int count = sent.fetch_add(1) + 1;
            while (g_handled.load(std::memory_order_acquire) < count &&
                   !main_done.load(std::memory_order_acquire))
                std::this_thread::yield();
        }
    });
    while (g_handled.load(std::memory_order_acquire) == 0) std::this_thread::yield();
    int main_events = 0;
    while (main_events < kMaxMainEvents &&
           (main_events < kMainEvents || g_handled.load(std::memory_order_relaxed) < kMinSignals))
        probe::record(EventKind::note, 0, main_events++, 0, "loop");
    main_done.store(true, std::memory_order_release);
    sender.join();
    // A signal sent last may still be on its way.
    while (g_handled.load(std::memory_order_acquire) < sent.load()) std::this_thread::yield();

    const int handled = g_handled.load();
    CHECK(handled == sent.load());
    CHECK(handled >= 1);
    CHECK(g_started.load() == handled);
    check_trace(channel, main_events, handled);
}

TEST_CASE("an interval timer's SIGALRM records into the channel mid-loop", "[channel]") {
    constexpr int kMainEvents = 150000;
    Channel channel = Channel::create(kMainEvents + 100000);
    InstalledChannel installed(&channel);
    ScopedHandler handler(SIGALRM, record_from_handler);
    reset_handler_counts();

    itimerval timer{};
    timer.it_interval.tv_usec = 50;
    timer.it_value.tv_usec = 50;
    REQUIRE(setitimer(ITIMER_REAL, &timer, nullptr) == 0);
    for (int i = 0; i < kMainEvents; ++i) probe::record(EventKind::note, 0, i, 0, "loop");
    // Keep recording until some signals have certainly arrived (slow machines, sanitizers).
    int main_events = kMainEvents;
    while (g_handled.load() < 20 && main_events < kMainEvents + 50000)
        probe::record(EventKind::note, 0, main_events++, 0, "loop");
    itimerval off{};
    REQUIRE(setitimer(ITIMER_REAL, &off, nullptr) == 0);
    // A handler running on another thread (if any) finishes before the trace is read.
    while (g_handled.load(std::memory_order_acquire) < g_started.load()) std::this_thread::yield();

    const int handled = g_handled.load();
    CHECK(handled > 0);
    check_trace(channel, main_events, handled);
}
