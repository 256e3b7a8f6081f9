// The probes' scheduling points with a board installed in this process: real probe threads and
// a real probe::Mutex stop before each operation, say what it is and on which line, and take
// their steps in the order the test grants; a thread blocked on the real lock is not on the
// board; a forked child's thread claims a slot of its own; without a board nothing stops.
//
// The test's own thread is the runner: it never passes a probe while the board is installed
// (Thread::join is a point too), so each case lets everyone go and uninstalls the board first.
//
// Index of this file:
// [SECTION] Helpers: the board in this process, waiting for a thread to stop
// [SECTION] Points before every operation, in the order granted
// [SECTION] Blocked in the kernel, across fork, without a board
#include "sim/probe/probe.hpp"
#include "sim/probe/step_point.hpp"
#include "sim/protocol/schedule_board.hpp"
#include "tests/unit/board_waits.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace forklore;

// [SECTION] Helpers: the board in this process, waiting for a thread to stop --------------------

namespace {

// Installs a fresh board for the scope of a case; on the way out lets every thread go and
// uninstalls it, so that the joins that follow do not stop.
struct InstalledBoard {
    ScheduleBoard board = ScheduleBoard::create();
    InstalledBoard() { probe::install_board(&board); }
    ~InstalledBoard() { let_go(); }
    void let_go() {
        board.release_all();
        probe::install_board(nullptr);
    }
};

using board_test::eventually;

// The last slot of the thread named `name` (a forked child's thread claims a later one).
std::optional<StepView> named(const ScheduleBoard& board, const std::string& name) {
    std::optional<StepView> found;
    for (const StepView& view : board.slots())
        if (view.thread == name)
            found = view;
    return found;
}

// Waits until `name` is stopped at a point, and returns what it is about to do.
StepView stopped(const ScheduleBoard& board, const std::string& name) {
    std::optional<StepView> view;
    REQUIRE(eventually(board, [&](const auto&) {
        view = named(board, name);
        return view && view->waiting;
    }));
    return *view;
}

// Lets `name` take its step and waits until it stops at its next point (or leaves the board).
void step(ScheduleBoard& board, const std::string& name) {
    const StepView before = stopped(board, name);
    REQUIRE(board.grant(before.slot));
    REQUIRE(eventually(board, [&](const auto&) {
        const auto view = named(board, name);
        return view && view->slot == before.slot && (view->waiting || view->left) &&
               view->steps == before.steps + 1;
    }));
}

// What a thread does: take the lock, append its letter, let it go, twice.
struct Worker {
    probe::Mutex& mutex;
    std::string& order;
    char letter;
    int lock_line = 0;
    void operator()() {
        for (int i = 0; i < 2; ++i) {
            lock_line = __LINE__ + 1;
            mutex.lock();
            order += letter;
            mutex.unlock();
        }
    }
};

} // namespace

// [SECTION] Points before every operation, in the order granted ---------------------------------

TEST_CASE("step points: a probe thread stops before its start, each lock and unlock, and its exit",
          "[schedule][probe]") {
    InstalledBoard installed;
    probe::Mutex mutex("table_lock");
    std::string order;
    Worker work{mutex, order, 'A'};
    probe::Thread a("A", std::ref(work));

    StepView view = stopped(installed.board, "A");
    CHECK(view.kind == EventKind::thread_start);
    CHECK(view.pid == getpid());
    CHECK(view.tid == a.tid());
    CHECK(view.name == "A");
    step(installed.board, "A");

    view = stopped(installed.board, "A");
    CHECK(view.kind == EventKind::lock_wait);
    CHECK(view.object == reinterpret_cast<std::uint64_t>(mutex.native()));
    CHECK(view.name == "table_lock");
    CHECK(view.line == static_cast<std::uint32_t>(work.lock_line));
    CHECK(view.file != 0);
    CHECK(order.empty()); // stopped before the lock: nothing done yet
    step(installed.board, "A");

    view = stopped(installed.board, "A");
    CHECK(view.kind == EventKind::lock_released);
    CHECK(order == "A"); // the step ran up to the next point: locked, appended
    for (int i = 0; i < 3; ++i)
        step(installed.board, "A"); // unlock, lock, unlock
    CHECK(stopped(installed.board, "A").kind == EventKind::thread_exit);
    step(installed.board, "A");
    CHECK(named(installed.board, "A")->left);
    installed.let_go();
    a.join();
    CHECK(order == "AA");
}

TEST_CASE("step points: two probe threads take a real mutex in exactly the order granted, 20 times",
          "[schedule][probe]") {
    // Each schedule names whose turn it is at every point after both threads started: lock,
    // unlock, lock, unlock, exit for each. The order the letters are appended follows from it.
    const std::vector<std::pair<std::string, std::string>> schedules = {{"AAAAABBBBB", "AABB"},
                                                                        {"BBBBBAAAAA", "BBAA"},
                                                                        {"AABBAABBAB", "ABAB"},
                                                                        {"BBAABBAABA", "BABA"}};
    for (const auto& [schedule, expected] : schedules) {
        CAPTURE(schedule);
        for (int repeat = 0; repeat < 20; ++repeat) {
            InstalledBoard installed;
            probe::Mutex mutex("table_lock");
            std::string order;
            Worker work_a{mutex, order, 'A'}, work_b{mutex, order, 'B'};
            probe::Thread a("A", std::ref(work_a));
            probe::Thread b("B", std::ref(work_b));
            step(installed.board, "A"); // both past their start
            step(installed.board, "B");
            for (char turn : schedule)
                step(installed.board, std::string(1, turn));
            installed.let_go();
            a.join();
            b.join();
            REQUIRE(order == expected);
        }
    }
}

// [SECTION] Blocked in the kernel, across fork, without a board ---------------------------------

TEST_CASE("step points: a thread blocked on the real lock is not on the board until it has it",
          "[schedule][probe]") {
    InstalledBoard installed;
    probe::Mutex mutex("table_lock");
    std::string order;
    Worker work_a{mutex, order, 'A'}, work_b{mutex, order, 'B'};
    probe::Thread a("A", std::ref(work_a));
    probe::Thread b("B", std::ref(work_b));
    step(installed.board, "A");
    step(installed.board, "A"); // A holds the lock, stopped before its unlock
    step(installed.board, "B");
    // B's lock step: it asks for the lock A holds and blocks in the kernel, off the board.
    REQUIRE(installed.board.grant(stopped(installed.board, "B").slot));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto blocked = named(installed.board, "B");
    CHECK_FALSE(blocked->waiting);
    CHECK_FALSE(blocked->left);
    CHECK(order == "A");
    // A lets the lock go: B gets it and stops at its own unlock.
    step(installed.board, "A");
    CHECK(stopped(installed.board, "B").kind == EventKind::lock_released);
    CHECK(order == "AB");
    installed.let_go();
    a.join();
    b.join();
}

TEST_CASE("step points: a forked child's thread claims its own slot and stops before its first "
          "operation",
          "[schedule][probe]") {
    InstalledBoard installed;
    pid_t child = -1;
    int status = -1;
    probe::Thread forker("forker", [&] {
        child = fork();
        if (child == 0) {
            probe::note("child: first step"); // a point: the child stops here
            probe::leave_board();
            _exit(7);
        }
        waitpid(child, &status, 0);
    });
    // Its start is its only step on the board: it then forks and waits for the child in
    // waitpid, off the board, while the child's thread (the forker's name and thread-locals,
    // but a new thread of a new process) claims a slot of its own and stops.
    REQUIRE(installed.board.grant(stopped(installed.board, "forker").slot));
    REQUIRE(eventually(installed.board, [](const std::vector<StepView>& slots) {
        return slots.size() == 2 && slots[1].waiting;
    }));
    const std::vector<StepView> slots = installed.board.slots();
    REQUIRE(slots.size() == 2);
    CHECK(slots[0].pid == getpid());
    CHECK_FALSE(slots[0].waiting); // the parent's thread is in waitpid, off the board
    CHECK(slots[1].pid != getpid());
    CHECK(slots[1].kind == EventKind::note);
    CHECK(slots[1].name == "child: first step");
    CHECK(status == -1); // the child is stopped: nobody reaped it
    REQUIRE(installed.board.grant(slots[1].slot));
    installed.let_go();
    forker.join();
    CHECK(child == slots[1].pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 7);
}

TEST_CASE("step points: without a board the probes never stop", "[schedule][probe]") {
    REQUIRE(probe::installed_board() == nullptr);
    probe::Mutex mutex("table_lock");
    std::string order;
    Worker work{mutex, order, 'A'};
    probe::Thread a("A", std::ref(work));
    a.join();
    CHECK(order == "AA");
}
