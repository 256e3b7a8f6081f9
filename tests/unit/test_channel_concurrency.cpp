// The shared-memory event channel under concurrency: recording from many threads, forked
// children and signal handlers at once, and a writer that dies mid-event. The instrument must
// never lose, tear or duplicate an event it accepted.
//
// Index of this file:
// [SECTION] Many threads at once
// [SECTION] Forked children, through the inherited mapping
// [SECTION] A writer that dies mid-event: the torn slot
// [SECTION] Signal handlers: the handler and its trace check
// [SECTION] Signals mid-record: from another thread, from an interval timer
#include "channel_helpers.hpp"
#include "sim/probe/probe.hpp"
#include "sim/protocol/channel.hpp"
#include "sim/protocol/events.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
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
using namespace forklore::test;

// [SECTION] Many threads at once ------------------------------------------------------------------

TEST_CASE("recording from many threads keeps every event exactly once", "[channel]") {
    constexpr int kThreads = 8;
    constexpr int kPerThread = 10000;
    Channel channel = Channel::create(kThreads * kPerThread + 16);

    std::atomic<bool> go{false};
    std::atomic<int> finished{0}, refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            while (!go.load(std::memory_order_acquire))
                std::this_thread::yield();
            for (int i = 0; i < kPerThread; ++i) {
                Event event = make_event(EventKind::note, 1, t, i, "racer", "concurrent");
                if (!channel.record(event))
                    refused.fetch_add(1);
            }
            finished.fetch_add(1, std::memory_order_release);
        });

    // Read concurrently too: a live reader must only ever see committed, whole events.
    std::uint64_t cursor = 0;
    std::vector<Event> live;
    go.store(true, std::memory_order_release);
    while (finished.load(std::memory_order_acquire) < kThreads)
        channel.read(cursor, live);
    for (auto& thread : threads)
        thread.join();
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
        if (e.seq != i || final_read[i].seq != i)
            ++wrong_seq;
        if (e.tid < 0 || e.tid >= kThreads)
            ++strangers;
        if (!seen.insert({e.tid, e.arg0}).second)
            ++duplicates;
        // Fields of one event belong together (no mix of two writers).
        if (e.object != 0xabc0u + static_cast<std::uint64_t>(e.arg0) || e.arg1 != -e.arg0 ||
            e.time_ns != 1000 + e.arg0 || std::strcmp(e.text, "concurrent") != 0 ||
            std::memcmp(&e, &final_read[i], sizeof e) != 0)
            ++mixed;
        // One thread's events keep that thread's order.
        auto [it, first] = last_counter.try_emplace(e.tid, e.arg0);
        if (first ? e.arg0 != 0 : e.arg0 != it->second + 1)
            ++out_of_order;
        it->second = e.arg0;
    }
    CHECK(wrong_seq == 0);
    CHECK(strangers == 0);
    CHECK(duplicates == 0);
    CHECK(mixed == 0);
    CHECK(out_of_order == 0);
    CHECK(seen.size() == static_cast<std::size_t>(kThreads * kPerThread)); // every one present
}

// [SECTION] Forked children, through the inherited mapping ----------------------------------------

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
        for (int i = 0; i < kPerChild; ++i)
            CHECK(counters[i] == i); // in order, once each
    }
}

// [SECTION] A writer that dies mid-event: the torn slot -------------------------------------------

TEST_CASE("a writer that dies mid-event leaves a torn slot that only a final read skips",
          "[channel]") {
    Channel channel = Channel::create(16);
    REQUIRE(channel.record(make_event(EventKind::note, 1, 1, 0)));

    // The child hands record() an event whose last bytes lie on an unreadable page: the slot is
    // claimed, partly written, and the child dies before it can commit it.
    const long page = sysconf(_SC_PAGESIZE);
    void* pages =
        mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(pages != MAP_FAILED);
    REQUIRE(mprotect(static_cast<char*>(pages) + page, page, PROT_NONE) == 0);
    auto* event =
        reinterpret_cast<Event*>(static_cast<char*>(pages) + page - offsetof(Event, text));
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

// [SECTION] Signal handlers: the handler and its trace check --------------------------------------

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
            if (std::strcmp(e.name, "loop") != 0 || e.text[0] != '\0')
                ++mangled;
            if (e.arg0 != next_main++)
                ++main_out_of_order;
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
    for (int i = 0; i < handled; ++i)
        expected[static_cast<std::size_t>(i)] = i;
    CHECK(handler_indices == expected);
}

} // namespace

// [SECTION] Signals mid-record: from another thread, from an interval timer -----------------------

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
    while (g_handled.load(std::memory_order_acquire) == 0)
        std::this_thread::yield();
    int main_events = 0;
    while (main_events < kMaxMainEvents &&
           (main_events < kMainEvents || g_handled.load(std::memory_order_relaxed) < kMinSignals))
        probe::record(EventKind::note, 0, main_events++, 0, "loop");
    main_done.store(true, std::memory_order_release);
    sender.join();
    // A signal sent last may still be on its way.
    while (g_handled.load(std::memory_order_acquire) < sent.load())
        std::this_thread::yield();

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
    for (int i = 0; i < kMainEvents; ++i)
        probe::record(EventKind::note, 0, i, 0, "loop");
    // Keep recording until some signals have certainly arrived (slow machines, sanitizers).
    int main_events = kMainEvents;
    while (g_handled.load() < 20 && main_events < kMainEvents + 50000)
        probe::record(EventKind::note, 0, main_events++, 0, "loop");
    itimerval off{};
    REQUIRE(setitimer(ITIMER_REAL, &off, nullptr) == 0);
    // A handler running on another thread (if any) finishes before the trace is read.
    while (g_handled.load(std::memory_order_acquire) < g_started.load())
        std::this_thread::yield();

    const int handled = g_handled.load();
    CHECK(handled > 0);
    check_trace(channel, main_events, handled);
}
