// classify_wait on hand-made syscall records: each state and syscall of x86_64, with its
// arguments, as /proc/PID/task/TID/syscall would show them.
#include "sim/observe/wait_classification.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>

using namespace forklore;

TEST_CASE("procfs: classify_wait from syscall records", "[procfs]") {
    auto classify = [](char state, long syscall, std::array<std::uint64_t, 6> args) {
        ThreadSnapshot thread;
        thread.state = state;
        thread.syscall = syscall;
        thread.syscall_args = args;
        waits::classify_wait(thread, 0);
        return thread;
    };
    constexpr std::uint64_t private_flag = 128, clock_realtime = 256;

    SECTION("states decide first") {
        CHECK(classify('Z', 202, {}).wait == WaitKind::zombie);
        CHECK(classify('T', 202, {}).wait == WaitKind::stopped);
        CHECK(classify('t', 202, {}).wait == WaitKind::stopped);
        CHECK(classify('R', 202, {}).wait == WaitKind::running);
        CHECK(classify('S', -1, {}).wait == WaitKind::running);
    }
    SECTION("futex") {
        auto wait = classify('S', 202, {0x1000, private_flag | 0, 2, 0, 0, 0});
        CHECK(wait.wait == WaitKind::futex);
        CHECK(wait.untimed);
        CHECK(wait.futex_address == 0x1000);
        const std::uint64_t wait_bitset = clock_realtime | private_flag | 9;
        auto bitset = classify('S', 202, {0x1000, wait_bitset, 0, 0x7ff0, 0, 0});
        CHECK(bitset.wait == WaitKind::futex);
        CHECK_FALSE(bitset.untimed);
        CHECK(classify('S', 202, {0x1000, 6, 0, 0, 0, 0}).untimed);  // FUTEX_LOCK_PI
        CHECK(classify('S', 202, {0x1000, 13, 0, 0, 0, 0}).untimed); // FUTEX_LOCK_PI2
        CHECK(classify('S', 202, {0x1000, 11, 0, 0, 0, 0}).untimed); // FUTEX_WAIT_REQUEUE_PI
        CHECK(classify('S', 202, {0x1000, 1, 1, 0, 0, 0}).wait == WaitKind::other); // FUTEX_WAKE
        CHECK(classify('S', 449, {0x2000, 2, 0, 0, 0, 0}).untimed);                 // futex_waitv
    }
    SECTION("file locks") {
        auto flock_wait = classify('S', 73, {5, 2, 0, 0, 0, 0});
        CHECK(flock_wait.wait == WaitKind::file_lock);
        CHECK(flock_wait.untimed);
        CHECK(flock_wait.fd == 5);
        CHECK_FALSE(classify('S', 73, {5, 2 | 4, 0, 0, 0, 0}).untimed); // LOCK_NB
        CHECK(classify('D', 72, {5, 7, 0, 0, 0, 0}).wait == WaitKind::file_lock);
        CHECK(classify('S', 72, {5, 38, 0, 0, 0, 0}).untimed);
        CHECK(classify('S', 72, {5, 3, 0, 0, 0, 0}).wait == WaitKind::other); // F_GETFL
    }
    SECTION("children") {
        auto wait4 = classify('S', 61, {std::uint64_t(-1), 0, 0, 0, 0, 0});
        CHECK(wait4.wait == WaitKind::child);
        CHECK(wait4.untimed);
        CHECK(wait4.waited_pid == -1);
        CHECK_FALSE(classify('S', 61, {42, 0, 1, 0, 0, 0}).untimed); // WNOHANG
        auto waitid_pid = classify('S', 247, {1, 42, 0, 4, 0, 0});
        CHECK(waitid_pid.waited_pid == 42);
        CHECK(waitid_pid.untimed);
        CHECK(classify('S', 247, {0, 0, 0, 4, 0, 0}).waited_pid == -1);
        CHECK_FALSE(classify('S', 247, {0, 0, 0, 4 | 1, 0, 0}).untimed);
    }
    SECTION("poll family") {
        CHECK(classify('S', 7, {0, 1, std::uint64_t(-1), 0, 0, 0}).untimed);
        CHECK_FALSE(classify('S', 7, {0, 1, 100, 0, 0, 0}).untimed);
        CHECK(classify('S', 271, {0, 1, 0, 0, 0, 0}).untimed);
        CHECK_FALSE(classify('S', 271, {0, 1, 0x7ff0, 0, 0, 0}).untimed);
        CHECK(classify('S', 270, {1, 0, 0, 0, 0, 0}).untimed);
        CHECK(classify('S', 23, {1, 0, 0, 0, 0x7ff0, 0}).wait == WaitKind::poll);
        CHECK_FALSE(classify('S', 23, {1, 0, 0, 0, 0x7ff0, 0}).untimed);
        CHECK(classify('S', 232, {3, 0, 1, std::uint64_t(-1), 0, 0}).untimed);
        CHECK(classify('S', 281, {3, 0, 1, 0xffffffffULL, 0, 0}).untimed); // int -1
        CHECK_FALSE(classify('S', 281, {3, 0, 1, 10, 0, 0}).untimed);
        CHECK(classify('S', 441, {3, 0, 1, 0, 0, 0}).untimed);
    }
    SECTION("sleeps and the rest") {
        CHECK(classify('S', 35, {}).wait == WaitKind::sleep);
        CHECK_FALSE(classify('S', 230, {}).untimed);
        CHECK(classify('S', 34, {}).wait == WaitKind::signal);                       // pause
        CHECK(classify('S', 130, {}).wait == WaitKind::signal);                      // sigsuspend
        CHECK(classify('S', 128, {0, 0, 0, 0, 0, 0}).wait == WaitKind::signal);      // sigwaitinfo
        CHECK(classify('S', 128, {0, 0, 0x7ffd0, 0, 0, 0}).wait == WaitKind::sleep); // timed
        CHECK_FALSE(classify('S', 202, {0x10, 0, 2, 0, 0, 0}).futex_private);
        CHECK(classify('S', 202, {0x10, 128, 2, 0, 0, 0}).futex_private);
        CHECK_FALSE(classify('S', 0, {}).untimed); // a read whose fd is unknown proves nothing
        CHECK(classify('S', 0, {}).wait == WaitKind::other);
        CHECK(classify('S', 43, {3, 0, 0, 0, 0, 0}).wait == WaitKind::pipe); // accept
        CHECK(classify('S', 999, {}).wait == WaitKind::other);
    }
}
