// The shared-memory event channel: create/attach, order and fields, truncation, and a full
// channel (which must never block, wrap or lose an exit). Recording from many threads, forked
// children and signal handlers at once: test_channel_concurrency.cpp.
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
        REQUIRE(write(fd, garbage.data(), garbage.size()) == static_cast<ssize_t>(garbage.size()));
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

TEST_CASE("probe::record truncates long names and texts and always terminates them", "[channel]") {
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
    for (std::size_t i = 2; i < sizeof buffer; ++i)
        CHECK(buffer[i] == '\0');
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
    for (int i = 0; i < 8; ++i)
        CHECK(events[i].arg0 == i); // the first 8, never overwritten

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
    for (int i = 0; i < 4; ++i)
        REQUIRE(channel.record(make_event(EventKind::note, 1, 1, i)));
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
    for (int i = 0; i < 4; ++i)
        CHECK(events[i].arg0 == i);
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
