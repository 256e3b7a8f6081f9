// The schedule board with real threads and a real fork: the runner (the test) lets one thread
// take one step at a time, and the steps happen in exactly the order it chose, every time; a
// forked child claims its own slot and stops at its first point; a thread that is not stopped
// at a point cannot be chosen; release_all lets everyone run free.
//
// Index of this file:
// [SECTION] Helpers: a stepping thread, waiting for the board
// [SECTION] Threads in the order the runner chooses
// [SECTION] Across fork
// [SECTION] Who can be chosen, and letting go
#include "sim/protocol/schedule_board.hpp"
#include "tests/unit/board_waits.hpp"

#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using namespace forklore;

// [SECTION] Helpers: a stepping thread, waiting for the board ------------------------------------

namespace {

// A log of steps in memory shared with forked children: each step appends one letter.
struct SharedLog {
    std::atomic<int> length{0};
    char letters[256] = {};
    void append(char letter) {
        int at = length.fetch_add(1);
        if (at < 256)
            letters[at] = letter;
    }
    std::string text() const { return std::string(letters, static_cast<std::size_t>(length)); }
};

SharedLog* shared_log() {
    void* mem =
        mmap(nullptr, sizeof(SharedLog), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(mem != MAP_FAILED);
    return new (mem) SharedLog();
}

pid_t own_tid() {
    return static_cast<pid_t>(gettid());
}

using board_test::eventually;

// The slot of the thread named `name`, or nullptr.
const StepView* named(const std::vector<StepView>& views, const std::string& name) {
    for (const auto& view : views)
        if (view.thread == name)
            return &view;
    return nullptr;
}

bool is_waiting(const ScheduleBoard& board, const std::string& name) {
    return eventually(board, [&](const auto& views) {
        const StepView* view = named(views, name);
        return view && (view->waiting || view->left);
    });
}

// A thread that takes `steps` steps, each announced on the board first (a note with its
// letter and step number as the line), then leaves.
void stepper(ScheduleBoard& board, SharedLog& log, char letter, int steps) {
    const std::string name(1, letter);
    const int slot = board.claim(getpid(), own_tid(), name.c_str());
    for (int i = 0; i < steps; ++i) {
        board.wait_for_turn(slot, {EventKind::note, static_cast<std::uint64_t>(letter), 0,
                                   static_cast<std::uint32_t>(i + 1), name.c_str()});
        log.append(letter);
    }
    board.wait_for_turn(slot, {EventKind::thread_exit, 0, 0, 0, name.c_str()});
    board.leave(slot);
}

// Runs two steppers, A and B (3 steps each), under `schedule` (a letter per turn granted), and
// returns the order in which their steps happened.
std::string run_schedule(const std::string& schedule) {
    ScheduleBoard board = ScheduleBoard::create();
    SharedLog* log = shared_log();
    std::thread a(stepper, std::ref(board), std::ref(*log), 'A', 3);
    std::thread b(stepper, std::ref(board), std::ref(*log), 'B', 3);
    for (char letter : schedule) {
        const std::string name(1, letter);
        REQUIRE(is_waiting(board, name));
        const std::vector<StepView> views = board.slots();
        const StepView* view = named(views, name);
        REQUIRE(view);
        REQUIRE(board.grant(view->slot));
        // The step is everything up to the thread's next point: wait for it to get there
        // before the next turn, or two steps would overlap.
        REQUIRE(is_waiting(board, name));
    }
    // Both stop at their thread_exit point: let them go.
    for (const char* name : {"A", "B"}) {
        REQUIRE(is_waiting(board, name));
        board.grant(named(board.slots(), name)->slot);
    }
    a.join();
    b.join();
    std::string order = log->text();
    munmap(log, sizeof(SharedLog));
    return order;
}

} // namespace

// [SECTION] Threads in the order the runner chooses -----------------------------------------------

TEST_CASE("schedule board: two threads step in exactly the order granted, every time",
          "[schedule]") {
    for (const std::string schedule : {"AAABBB", "BBBAAA", "ABABAB", "BAABBA"}) {
        CAPTURE(schedule);
        for (int repeat = 0; repeat < 20; ++repeat)
            REQUIRE(run_schedule(schedule) == schedule);
    }
}

TEST_CASE("schedule board: a waiting thread publishes what it is about to do", "[schedule]") {
    ScheduleBoard board = ScheduleBoard::create();
    SharedLog* log = shared_log();
    std::thread a(stepper, std::ref(board), std::ref(*log), 'A', 2);
    REQUIRE(is_waiting(board, "A"));
    StepView view = *named(board.slots(), "A");
    CHECK(view.waiting);
    CHECK(view.pid == getpid());
    CHECK(view.tid != own_tid());
    CHECK(view.kind == EventKind::note);
    CHECK(view.object == static_cast<std::uint64_t>('A'));
    CHECK(view.line == 1);
    CHECK(view.name == "A");
    CHECK(view.steps == 0);
    REQUIRE(board.grant(view.slot));
    // Granted: it takes the step and stops at the next point, line 2.
    REQUIRE(eventually(board, [](const auto& views) {
        const StepView* stepper_a = named(views, "A");
        return stepper_a && stepper_a->waiting && stepper_a->line == 2;
    }));
    CHECK(log->text() == "A");
    CHECK(named(board.slots(), "A")->steps == 1);
    board.release_all();
    a.join();
    CHECK(log->text() == "AA");
    CHECK(named(board.slots(), "A")->left);
    munmap(log, sizeof(SharedLog));
}

// [SECTION] Across fork ---------------------------------------------------------------------------

TEST_CASE("schedule board: a forked child claims its own slot and stops at its first point",
          "[schedule]") {
    ScheduleBoard board = ScheduleBoard::create();
    SharedLog* log = shared_log();
    // The forking thread asserts nothing (Catch's assertions belong to this thread): it
    // announces the fork as a step, as the fork probe will, forks, and reaps the child.
    std::atomic<int> child_status{-1};
    std::atomic<pid_t> child_pid{0};
    std::thread forker([&] {
        const int slot = board.claim(getpid(), own_tid(), "parent");
        board.wait_for_turn(slot, {EventKind::child_start, 0, 0, 0, "fork"});
        const pid_t child = fork();
        if (child == 0) {
            // A new process: a new thread for the board (its parent's slot is not its own).
            const int own = board.claim(getpid(), static_cast<pid_t>(gettid()), "child");
            board.wait_for_turn(own, {EventKind::output, 1, 0, 0, "stdout"});
            log->append('C');
            board.leave(own);
            _exit(0);
        }
        child_pid = child;
        int status = 0;
        if (child > 0 && waitpid(child, &status, 0) == child)
            child_status = status;
        board.leave(slot);
    });
    REQUIRE(is_waiting(board, "parent"));
    const StepView fork_point = *named(board.slots(), "parent");
    CHECK(fork_point.kind == EventKind::child_start);
    CHECK(named(board.slots(), "child") == nullptr); // no child before the fork's turn
    REQUIRE(board.grant(fork_point.slot));

    // The child: a new slot under its own pid, stopped before it prints.
    REQUIRE(is_waiting(board, "child"));
    const StepView child = *named(board.slots(), "child");
    CHECK(child.pid != getpid());
    CHECK(child.kind == EventKind::output);
    CHECK(child.name == "stdout");
    CHECK(log->text().empty()); // it has not printed: it waits for its turn
    REQUIRE(board.grant(child.slot));
    forker.join();
    CHECK(child.pid == child_pid.load());
    CHECK(log->text() == "C");
    CHECK(named(board.slots(), "child")->left);
    REQUIRE(child_status.load() >= 0);
    CHECK(WIFEXITED(child_status.load()));
    CHECK(WEXITSTATUS(child_status.load()) == 0);
    munmap(log, sizeof(SharedLog));
}

TEST_CASE("schedule board: attached from its fd, the same board", "[schedule]") {
    ScheduleBoard board = ScheduleBoard::create();
    ScheduleBoard again = ScheduleBoard::attach(board.fd());
    const int slot = again.claim(7, 8, "seen twice");
    REQUIRE(slot == 0);
    const auto views = board.slots();
    REQUIRE(views.size() == 1);
    CHECK(views[0].pid == 7);
    CHECK(views[0].tid == 8);
    CHECK(views[0].thread == "seen twice");
    CHECK_FALSE(views[0].waiting);

    int not_a_board = memfd_create("not-a-board", MFD_CLOEXEC);
    REQUIRE(not_a_board >= 0);
    CHECK_THROWS_AS(ScheduleBoard::attach(not_a_board), std::runtime_error);
    close(not_a_board);
}

// [SECTION] Who can be chosen, and letting go -----------------------------------------------------

TEST_CASE("schedule board: only a thread stopped at a point can be chosen", "[schedule]") {
    ScheduleBoard board = ScheduleBoard::create();
    const int running = board.claim(getpid(), own_tid(), "running");
    CHECK_FALSE(board.grant(running)); // claimed, but between two points (or blocked)
    CHECK_FALSE(board.grant(-1));
    CHECK_FALSE(board.grant(static_cast<int>(ScheduleBoard::kSlots)));
    board.leave(running);
    CHECK_FALSE(board.grant(running)); // gone
    CHECK(named(board.slots(), "running")->left);
}

TEST_CASE("schedule board: after release_all nobody waits, now or later", "[schedule]") {
    ScheduleBoard board = ScheduleBoard::create();
    SharedLog* log = shared_log();
    std::thread a(stepper, std::ref(board), std::ref(*log), 'A', 5);
    REQUIRE(is_waiting(board, "A"));
    board.release_all();
    a.join(); // all 5 steps and the exit point pass without a grant
    CHECK(log->text() == "AAAAA");
    // A thread that comes later does not wait either.
    std::thread b(stepper, std::ref(board), std::ref(*log), 'B', 2);
    b.join();
    CHECK(log->text() == "AAAAABB");
    munmap(log, sizeof(SharedLog));
}

TEST_CASE("schedule board: a full board lets the extra thread run free", "[schedule]") {
    ScheduleBoard board = ScheduleBoard::create();
    for (std::size_t i = 0; i < ScheduleBoard::kSlots; ++i)
        REQUIRE(board.claim(1, static_cast<pid_t>(i + 1), "filler") == static_cast<int>(i));
    const int extra = board.claim(1, 100000, "extra");
    CHECK(extra == -1);
    board.wait_for_turn(extra, {EventKind::note, 0, 0, 0, "free"}); // returns at once
    CHECK(board.slots().size() == ScheduleBoard::kSlots);
}
