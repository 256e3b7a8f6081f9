/* orphan_with_event_loop: the parent serves an epoll loop forever; its child hangs on a mutex.
 *
 * What it does: thread 'owner' locks a mutex and sits in pause() holding it; once it holds it (a
 * barrier), main forks. The child ('child_locker') locks its copy and waits forever (orphaned:
 * the owner exists only in the parent). The parent's main thread ('event_loop') runs an epoll
 * loop on a 10 ms timerfd forever, printing a heartbeat every 10 ticks; it never waits for the
 * child. Partial deadlock: the child is stuck, the parent's loop is live (an armed timerfd).
 *
 * How it was measured, outside forklore (Debian 12, glibc 2.36-9+deb12u14, gcc 12.2,
 * kernel 6.18, 2 cores, 2026-12-03):
 * `timeout 10 ./orphan_with_event_loop; echo $?` 3 times -> 124 each time (it never
 * ends by itself); /proc/PID/task/TID/{stat,wchan,syscall} read at 2 s in each run; `gdb -p PID
 * -batch -ex 'thread apply all bt'` on every process of run 1; then 10 more runs (measure_hang.py,
 * README.md) with the same states at 1 s and at 3 s: 10 of 10.
 * Measured: 13 of 13 runs hang the same way:
 *   event_loop (main)  S  wchan do_epoll_wait   epoll_wait(timerfd armed every 10 ms); heartbeats
 *   owner              S  wchan __do_sys_pause  pause()
 *   child_locker       S  wchan futex_do_wait   futex(&g_mutex, FUTEX_WAIT, 2)
 *                      gdb: __lll_lock_wait <- pthread_mutex_lock <- main
 * forklore must say: deadlocked / orphaned_lock (exit 12). Stuck: child_locker. Live: event_loop
 * (an epoll wait on an armed timerfd is a timed wait), owner (pause(), a live thread exists).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t g_locked;

static void* owner(void* unused) {
    (void)unused;
    prctl(PR_SET_NAME, "owner", 0, 0, 0);
    pthread_mutex_lock(&g_mutex);
    pthread_barrier_wait(&g_locked); /* main forks only once the mutex is held */
    for (;;) pause();
    return NULL;
}

int main(void) {
    prctl(PR_SET_NAME, "event_loop", 0, 0, 0);
    pthread_barrier_init(&g_locked, NULL, 2);
    pthread_t thread;
    if (pthread_create(&thread, NULL, owner, NULL) != 0) return 1;
    pthread_barrier_wait(&g_locked);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        prctl(PR_SET_NAME, "child_locker", 0, 0, 0);
        pthread_mutex_lock(&g_mutex); /* orphaned: forever */
        _exit(0);
    }
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct itimerspec every_10ms = {{0, 10000000L}, {0, 10000000L}};
    timerfd_settime(timer, 0, &every_10ms, NULL);
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event watch = {.events = EPOLLIN, .data.fd = timer};
    epoll_ctl(epoll, EPOLL_CTL_ADD, timer, &watch);
    for (uint64_t ticks = 0;;) { /* serves forever: the program never ends by itself */
        struct epoll_event ready;
        if (epoll_wait(epoll, &ready, 1, -1) != 1) continue;
        uint64_t expirations = 0;
        if (read(timer, &expirations, sizeof expirations) != sizeof expirations) continue;
        uint64_t before = ticks;
        ticks += expirations;
        if (ticks / 10 != before / 10) {
            printf("event_loop: heartbeat, %llu ticks\n", (unsigned long long)ticks);
            fflush(stdout);
        }
    }
}
