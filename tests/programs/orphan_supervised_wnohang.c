/* orphan_supervised_wnohang: a child hangs on an orphaned mutex while its parent stays busy.
 *
 * What it does: thread 'owner' locks a mutex and sits in pause() holding it; once it holds it (a
 * barrier), main forks. The child ('child_locker') locks its copy of the mutex and waits forever
 * (orphaned: the owner thread exists only in the parent). The parent never stops: its main thread
 * ('supervisor') polls the child with waitpid(WNOHANG) and a 20 ms nanosleep forever, and thread
 * 'printer' prints a line every 10 ms. A partial deadlock: the child is stuck for good while the
 * parent is visibly alive.
 *
 * How it was measured, outside forklore (Debian 12, glibc 2.36-9+deb12u14, gcc 12.2,
 * kernel 6.18, 2 cores, 2026-12-03):
 * `timeout 10 ./orphan_supervised_wnohang; echo $?` 3 times -> 124 each time (it never
 * ends by itself); /proc/PID/task/TID/{stat,wchan,syscall} read at 2 s in each run; `gdb -p PID
 * -batch -ex 'thread apply all bt'` on every process of run 1; then 10 more runs (measure_hang.py,
 * README.md) with the same states at 1 s and at 3 s: 10 of 10.
 * Measured: 13 of 13 runs hang the same way:
 *   supervisor (main)  S  wchan hrtimer_nanosleep  nanosleep between waitpid(WNOHANG) polls
 *   owner              S  wchan __do_sys_pause     pause()
 *   printer            S  wchan hrtimer_nanosleep  nanosleep between lines (stdout keeps growing)
 *   child_locker       S  wchan futex_do_wait      futex(&g_mutex, FUTEX_WAIT, 2)
 *                      gdb: __lll_lock_wait <- pthread_mutex_lock <- main
 * forklore must say: deadlocked / orphaned_lock (exit 12), though the parent keeps printing.
 * Stuck: child_locker. Live: printer, supervisor (timed sleeps), owner (pause(), but live threads
 * could signal it).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t g_locked;

static void sleep_ms(long ms) {
    struct timespec pause_for = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&pause_for, NULL);
}

static void* owner(void* unused) {
    (void)unused;
    prctl(PR_SET_NAME, "owner", 0, 0, 0);
    pthread_mutex_lock(&g_mutex);
    pthread_barrier_wait(&g_locked); /* main forks only once the mutex is held, printer named */
    for (;;) pause();
    return NULL;
}

static void* printer(void* unused) {
    (void)unused;
    prctl(PR_SET_NAME, "printer", 0, 0, 0);
    /* Named before main forks: a proof that came first would list it by its creator's name
     * ('supervisor'), as a loaded CTest run once did. */
    pthread_barrier_wait(&g_locked);
    for (unsigned long line = 0;; ++line) {
        printf("printer: line %lu\n", line);
        fflush(stdout);
        sleep_ms(10);
    }
    return NULL;
}

int main(void) {
    prctl(PR_SET_NAME, "supervisor", 0, 0, 0);
    pthread_barrier_init(&g_locked, NULL, 3); /* main, owner (mutex held), printer (named) */
    pthread_t owner_thread, printer_thread;
    if (pthread_create(&owner_thread, NULL, owner, NULL) != 0 ||
        pthread_create(&printer_thread, NULL, printer, NULL) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }
    pthread_barrier_wait(&g_locked);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        prctl(PR_SET_NAME, "child_locker", 0, 0, 0);
        /* No stdio here: the printer may have held stdout's lock at fork. Only the mutex. */
        pthread_mutex_lock(&g_mutex);
        _exit(0);
    }
    /* A supervisor that never blocks: poll, sleep, poll. The child never exits. */
    for (;;) {
        int status = 0;
        if (waitpid(child, &status, WNOHANG) == child) return 0;
        sleep_ms(20);
    }
}
