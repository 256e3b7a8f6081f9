// sigsuspend_parent: a std::mutex-protected logger is held at fork; the child logs and hangs, the
// parent keeps logging while its main thread sits in sigsuspend() waiting for SIGCHLD.
//
// What it does: thread 'logger' logs a line every 5 ms through Logger::log, which holds a
// std::mutex while it formats and writes. On its 10th line, still holding the mutex, it hands
// main a token ("the mutex is held now") and waits for main to answer "forked": so the fork
// happens while the logger mutex is held, every time. The child ('child_logger') logs one line:
// std::mutex::lock on a copy locked by a thread that does not exist in the child: forever. The
// parent's main thread ('main_sigsusp') blocks SIGCHLD and sits in sigsuspend() until a SIGCHLD
// handler has run, which never happens; the logger keeps logging every 5 ms.
//
// How it was measured, outside forklore (Debian 12, glibc 2.36-9+deb12u14, gcc 12.2,
// kernel 6.18, 2 cores, 2026-12-03):
// `timeout 10 ./sigsuspend_parent; echo $?` 3 times -> 124 each time (it never
// ends by itself); /proc/PID/task/TID/{stat,wchan,syscall} read at 2 s in each run; `gdb -p PID
// -batch -ex 'thread apply all bt'` on every process of run 1; then 10 more runs (measure_hang.py,
// README.md) with the same states at 1 s and at 3 s: 10 of 10.
// Measured: 13 of 13 runs hang the same way:
//   main_sigsusp   S  wchan sigsuspend       rt_sigsuspend (SIGCHLD never comes)
//   logger         S  wchan hrtimer_nanosleep  a line every 5 ms, forever
//   child_logger   S  wchan futex_do_wait    futex(&g_logger's mutex, FUTEX_WAIT, 2)
//                  gdb: __lll_lock_wait <- pthread_mutex_lock <- std::mutex::lock <- lock_guard
//                  <- Logger::log <- main
// forklore must say: deadlocked / orphaned_lock (exit 12); the mutex's owner is 'logger', which
// exists only in the parent. Stuck: child_logger. Live: logger (timed sleeps), main_sigsusp
// (a signal wait, and a live thread could signal it).
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <semaphore>
#include <string>
#include <thread>

namespace {

// A logger as many programs have one: a mutex around a formatted write.
class Logger {
  public:
    // Calls `while_held` (if any) with the mutex held, after writing the line.
    template <typename F> void log(const std::string& line, F while_held) {
        std::lock_guard<std::mutex> guard(mutex_);
        std::string text = "[" + std::to_string(getpid()) + "] " + line + "\n";
        if (write(STDOUT_FILENO, text.data(), text.size()) < 0)
            return;
        while_held();
    }
    void log(const std::string& line) {
        log(line, [] {});
    }

  private:
    std::mutex mutex_;
};

Logger g_logger;
std::binary_semaphore g_mutex_held{0}; // logger -> main: the logger mutex is held now
std::binary_semaphore g_forked{0};     // main -> logger: fork() has returned in the parent
volatile sig_atomic_t g_child_exited = 0;

void on_sigchld(int) {
    g_child_exited = 1;
}

void log_forever() {
    prctl(PR_SET_NAME, "logger", 0, 0, 0);
    for (unsigned long line = 0;; ++line) {
        g_logger.log("logger: line " + std::to_string(line), [line] {
            if (line == 10) { // the fork happens inside this critical section
                g_mutex_held.release();
                g_forked.acquire();
            }
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

} // namespace

int main() {
    prctl(PR_SET_NAME, "main_sigsusp", 0, 0, 0);
    sigset_t chld, old_mask;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old_mask); // before the thread starts: it inherits the mask
    struct sigaction action = {};
    action.sa_handler = on_sigchld;
    sigaction(SIGCHLD, &action, nullptr);

    std::thread logger(log_forever);
    g_mutex_held.acquire();
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        prctl(PR_SET_NAME, "child_logger", 0, 0, 0);
        g_logger.log("child: hello"); // the copied mutex is locked, its owner not here: forever
        _exit(0);
    }
    g_forked.release();
    sigset_t wait_mask = old_mask;
    sigdelset(&wait_mask, SIGCHLD);
    while (!g_child_exited)
        sigsuspend(&wait_mask); // returns only after the SIGCHLD handler
    g_logger.log("main: child exited");
    logger.detach();
    return 0;
}
