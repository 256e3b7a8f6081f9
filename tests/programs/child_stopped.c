/* child_stopped: the child stops itself with SIGSTOP; the parent waits for it to exit.
 *
 * What it does: the parent ('parent', single-threaded) forks a child ('stopped_child') that
 * raise(SIGSTOP)s itself, then waits with waitpid(pid, &status, 0), without WUNTRACED: a stop is
 * not reported, so the parent waits for an exit. Nothing in the sandbox can ever send SIGCONT:
 * the only other thread is the parent, blocked in wait4 on that very child.
 *
 * How it was measured, outside forklore (Debian 12, glibc 2.36-9+deb12u14, gcc 12.2,
 * kernel 6.18, 2 cores, 2026-12-03):
 * `timeout 10 ./child_stopped; echo $?` 3 times -> 124 each time (it never
 * ends by itself); /proc/PID/task/TID/{stat,wchan,syscall} read at 2 s in each run; `gdb -p PID
 * -batch -ex 'thread apply all bt'` on every process of run 1; then 10 more runs (measure_hang.py,
 * README.md) with the same states at 1 s and at 3 s: 10 of 10.
 * Measured: 13 of 13 runs hang the same way:
 *   parent         S  wchan do_wait           wait4(child, options 0)  gdb: waitpid <- main
 *   stopped_child  T  wchan do_signal_stop    (state T: stopped)       gdb: raise(19) <- main
 * forklore must say: deadlocked / no_waker (exit 12): the chain parent -> child ends in a stopped
 * process that nothing left in the sandbox can continue. Stuck: stopped_child (stopped, and no
 * live thread anywhere could send SIGCONT), parent (waits for a stuck child). Live: none.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    prctl(PR_SET_NAME, "parent", 0, 0, 0);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        prctl(PR_SET_NAME, "stopped_child", 0, 0, 0);
        raise(SIGSTOP); /* state T until someone sends SIGCONT: nobody will */
        _exit(0);
    }
    printf("parent: waiting for child %d, which stops itself\n", (int)child);
    fflush(stdout);
    int status = 0;
    waitpid(child, &status, 0); /* no WUNTRACED: the stop is not an answer */
    return 0;
}
