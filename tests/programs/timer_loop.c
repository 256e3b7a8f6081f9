/* timer_loop: an epoll loop on a 50 ms timerfd runs 20 ticks, while a thread waits on a pipe.
 *
 * What it does: main ('loop') runs an epoll loop with one timerfd ticking every 50 ms; after 20
 * ticks (about 1 s) it writes one byte to a pipe and joins. Thread 'pipe_reader' is blocked in an
 * untimed read() on that pipe the whole time; the only holder of the write end is the loop, which
 * waits in epoll on an armed timerfd (a timed wait): live. Exits 0.
 *
 * How it was measured, outside forklore (Debian 12, glibc 2.36-9+deb12u14, gcc 12.2,
 * kernel 6.18, 2 cores, 2026-12-03):
 * `timeout 10 ./timer_loop; echo $?` 5 times, wall time by date or /usr/bin/time.
 * Measured: exit 0 in 1.04-1.05 s in 5 of 5 runs (`loop: 20 ticks, reader done`).
 * forklore must say: completed (exit 0), never deadlocked: 'loop' waits in epoll on an armed
 * timerfd (a timed wait), and 'pipe_reader' is live because the loop holds the write end.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

static int g_done[2];

static void* pipe_reader(void* unused) {
    (void)unused;
    prctl(PR_SET_NAME, "pipe_reader", 0, 0, 0);
    char byte = 0;
    ssize_t n = read(g_done[0], &byte, 1); /* untimed: until the loop is done */
    return (void*)(intptr_t)(n == 1 ? 0 : 1);
}

int main(void) {
    prctl(PR_SET_NAME, "loop", 0, 0, 0);
    if (pipe(g_done) != 0) return 1;
    pthread_t thread;
    if (pthread_create(&thread, NULL, pipe_reader, NULL) != 0) return 1;

    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct itimerspec every_50ms = {{0, 50000000L}, {0, 50000000L}};
    timerfd_settime(timer, 0, &every_50ms, NULL);
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event watch = {.events = EPOLLIN, .data.fd = timer};
    epoll_ctl(epoll, EPOLL_CTL_ADD, timer, &watch);

    uint64_t ticks = 0;
    while (ticks < 20) {
        struct epoll_event ready;
        if (epoll_wait(epoll, &ready, 1, -1) != 1) continue; /* untimed, but the timer is armed */
        uint64_t expirations = 0;
        if (read(timer, &expirations, sizeof expirations) == sizeof expirations)
            ticks += expirations;
    }
    if (write(g_done[1], "x", 1) != 1) return 1;
    void* read_result = NULL;
    pthread_join(thread, &read_result);
    printf("loop: %llu ticks, reader %s\n", (unsigned long long)ticks,
           read_result == NULL ? "done" : "failed");
    return read_result == NULL ? 0 : 1;
}
