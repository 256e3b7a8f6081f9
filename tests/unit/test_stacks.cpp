// Native stacks of a live child process through libdw.
#include "sim/observe/proc_files.hpp"
#include "sim/observe/stacks.hpp"

#include <catch2/catch.hpp>

#include "live_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

using namespace forklore;
using namespace forklore::testing;

namespace {

using namespace std::chrono_literals;

constexpr long futex_syscall = 202, read_syscall = 0;

pthread_mutex_t g_stack_test_mutex = PTHREAD_MUTEX_INITIALIZER;

} // namespace

namespace stack_test {

// A named C++ frame to find in the unwound stack; the code after the read keeps it from being a
// tail call, which would leave no frame of its own.
[[gnu::noinline]] int block_reading(int fd) {
    char byte = 0;
    ssize_t got = ::read(fd, &byte, 1);
    asm volatile("" ::: "memory");
    return static_cast<int>(got) + byte;
}

} // namespace stack_test

namespace {

struct Scene {
    pid_t owner_tid = 0, waiter_tid = 0, reader_tid = 0;
};

// In a child: "owner" holds a mutex and sleeps, "waiter" blocks on that mutex and "reader" blocks
// in stack_test::block_reading on a pipe nobody writes to.
void run_scene(const Pipe& report, int idle_fd) {
    Pipe steps;
    std::thread owner([&] {
        ::pthread_setname_np(::pthread_self(), "owner");
        ::pthread_mutex_lock(&g_stack_test_mutex);
        steps.send(::gettid());
        sleep_forever();
    });
    Scene scene;
    scene.owner_tid = steps.receive<pid_t>().value_or(0);
    std::thread waiter([&] {
        ::pthread_setname_np(::pthread_self(), "waiter");
        steps.send(::gettid());
        ::pthread_mutex_lock(&g_stack_test_mutex);
    });
    scene.waiter_tid = steps.receive<pid_t>().value_or(0);
    std::thread reader([&] {
        ::pthread_setname_np(::pthread_self(), "reader");
        steps.send(::gettid());
        stack_test::block_reading(idle_fd);
    });
    scene.reader_tid = steps.receive<pid_t>().value_or(0);
    report.send(scene);
    sleep_forever();
}

const ThreadStack& stack_of(const std::vector<ThreadStack>& stacks, pid_t tid) {
    auto it = std::find_if(stacks.begin(), stacks.end(),
                           [tid](const ThreadStack& stack) { return stack.tid == tid; });
    REQUIRE(it != stacks.end());
    return *it;
}

bool has_frame(const ThreadStack& stack, const std::string& text) {
    return std::any_of(stack.frames.begin(), stack.frames.end(), [&](const StackFrame& frame) {
        return frame.function.find(text) != std::string::npos;
    });
}

std::string describe(const ThreadStack& stack) {
    std::string text = stack.thread_name + " (" + std::to_string(stack.tid) + ")" + stack.error;
    for (const auto& frame : stack.frames)
        text +=
            "\n  " + frame.function + "+" + std::to_string(frame.offset) + " in " + frame.module;
    return text;
}

} // namespace

TEST_CASE("stacks: the threads of a child blocked on a mutex and on a pipe", "[stacks]") {
    Pipe report, idle;
    ChildProcess child([&] { run_scene(report, idle.read_end); });
    report.close_write();
    auto scene = report.receive<Scene>();
    REQUIRE(scene);
    const pid_t pid = child.pid();
    REQUIRE(eventually([&] {
        return blocked_in(pid, scene->waiter_tid, futex_syscall) &&
               blocked_in(pid, scene->reader_tid, read_syscall);
    }));

    auto stacks = capture_stacks(pid);
    // >= rather than ==: a sanitizer runtime (TSan) may add threads of its own.
    CHECK(stacks.size() >= 4);
    for (const auto& stack : stacks) {
        INFO(describe(stack));
        CHECK(stack.pid == pid);
        CHECK(stack.error.empty());
        CHECK_FALSE(stack.frames.empty());
    }

    const auto& waiter = stack_of(stacks, scene->waiter_tid);
    INFO(describe(waiter));
    CHECK(waiter.thread_name == "waiter");
    CHECK(has_frame(waiter, "lock"));
    CHECK(std::any_of(waiter.frames.begin(), waiter.frames.end(),
                      [](const StackFrame& frame) { return frame.module == "libc.so.6"; }));

    const auto& reader = stack_of(stacks, scene->reader_tid);
    INFO(describe(reader));
    CHECK(has_frame(reader, "stack_test::block_reading(int)"));

    // Detached again: the threads are back in their waits, not stopped.
    CHECK(eventually([&] {
        return blocked_in(pid, scene->waiter_tid, futex_syscall) &&
               blocked_in(pid, scene->reader_tid, read_syscall);
    }));
    for (pid_t tid : procfs::list_threads(pid)) {
        auto stat = procfs::read_task_stat(pid, tid);
        REQUIRE(stat);
        CHECK(stat->state == 'S');
    }

    SECTION("a frame limit") {
        for (const auto& stack : capture_stacks(pid, {}, 2))
            CHECK(stack.frames.size() <= 2);
    }
}

TEST_CASE("stacks: a process that is gone gives one entry with an error", "[stacks]") {
    pid_t gone = 0;
    {
        ChildProcess child([] { ::_exit(0); });
        gone = child.pid();
    }
    auto stacks = capture_stacks(gone);
    REQUIRE(stacks.size() == 1);
    CHECK(stacks[0].pid == gone);
    CHECK(stacks[0].frames.empty());
    CHECK_FALSE(stacks[0].error.empty());
}
