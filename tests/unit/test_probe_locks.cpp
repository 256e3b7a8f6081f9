// The lock probes record a wait only when the thread is about to block: a lock taken at once is
// lock_acquired then lock_released; a lock held by another thread is lock_wait (before the
// blocking call, so a wait that never ends is in the trace), then lock_acquired once it comes.
#include "sim/probe/probe.hpp"
#include "sim/probe/probe_locks.hpp"
#include "sim/protocol/channel.hpp"
#include "sim/protocol/events.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using namespace forklore;

namespace {

struct InstalledChannel {
    explicit InstalledChannel(Channel* channel) { probe::install_channel(channel); }
    ~InstalledChannel() { probe::install_channel(nullptr); }
    InstalledChannel(const InstalledChannel&) = delete;
    InstalledChannel& operator=(const InstalledChannel&) = delete;
};

std::vector<EventKind> lock_kinds_by(const Channel& channel, pid_t tid) {
    std::uint64_t cursor = 0;
    std::vector<Event> events;
    channel.read(cursor, events, true);
    std::vector<EventKind> kinds;
    for (const Event& e : events)
        if (e.tid == tid && (e.kind == EventKind::lock_wait || e.kind == EventKind::lock_acquired ||
                             e.kind == EventKind::lock_released))
            kinds.push_back(e.kind);
    return kinds;
}

// Takes the lock free, then again while another thread holds it for a moment: the events of
// this thread, in order.
std::vector<EventKind> free_then_held(const std::function<void()>& lock,
                                      const std::function<void()>& unlock) {
    Channel channel = Channel::create(256);
    InstalledChannel installed(&channel);
    lock();
    unlock();
    std::atomic<bool> holding{false};
    std::thread holder([&] {
        lock();
        holding = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        unlock();
    });
    while (!holding)
        std::this_thread::yield();
    lock(); // blocks (or spins) until the holder lets go
    unlock();
    holder.join();
    return lock_kinds_by(channel, probe::current_tid());
}

const std::vector<EventKind> kExpected = {
    EventKind::lock_acquired, EventKind::lock_released, // free: no wait
    EventKind::lock_wait, EventKind::lock_acquired, EventKind::lock_released};

} // namespace

TEST_CASE("lock probes record a wait only when the lock is taken", "[probe][locks]") {
    SECTION("probe::Mutex") {
        probe::Mutex mutex("m");
        CHECK(free_then_held([&] { mutex.lock(); }, [&] { mutex.unlock(); }) == kExpected);
    }
    SECTION("probe::Mutex, recursive") {
        probe::Mutex mutex("r", true);
        CHECK(free_then_held([&] { mutex.lock(); }, [&] { mutex.unlock(); }) == kExpected);
    }
    SECTION("probe::StdMutex") {
        probe::StdMutex mutex("s");
        CHECK(free_then_held([&] { mutex.lock(); }, [&] { mutex.unlock(); }) == kExpected);
    }
    SECTION("probe::RwLock, write") {
        probe::RwLock lock("w");
        CHECK(free_then_held([&] { lock.lock_write(); }, [&] { lock.unlock_write(); }) ==
              kExpected);
    }
    SECTION("probe::RwLock, read behind a writer") {
        probe::RwLock lock("rw");
        Channel channel = Channel::create(256);
        InstalledChannel installed(&channel);
        lock.lock_read();
        lock.unlock_read();
        std::atomic<bool> holding{false};
        std::thread writer([&] {
            lock.lock_write();
            holding = true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            lock.unlock_write();
        });
        while (!holding)
            std::this_thread::yield();
        lock.lock_read();
        lock.unlock_read();
        writer.join();
        CHECK(lock_kinds_by(channel, probe::current_tid()) == kExpected);
    }
    SECTION("probe::Semaphore") {
        probe::Semaphore semaphore("sem", 1);
        CHECK(free_then_held([&] { semaphore.wait(); }, [&] { semaphore.post(); }) == kExpected);
    }
    SECTION("probe::SpinLock") {
        probe::SpinLock spin("spin");
        CHECK(free_then_held([&] { spin.lock(); }, [&] { spin.unlock(); }) == kExpected);
    }
}
