/* slow_unlock: main waits untimed on a mutex that its holder keeps for 1.5 s, then gets it.
 *
 * What it does: thread 'holder' locks a mutex, tells main (barrier), sleeps 1.5 s in nanosleep
 * holding it, and unlocks. Main ('waiter') calls pthread_mutex_lock, untimed: it is blocked on a
 * futex for 1.5 s, but its owner is in a timed sleep, so it is live all along. Exits 0.
 *
 * How it was measured, outside forklore (Debian 12, glibc 2.36-9+deb12u14, gcc 12.2,
 * kernel 6.18, 2 cores, 2026-12-03):
 * `timeout 10 ./slow_unlock; echo $?` 5 times, wall time by date or /usr/bin/time.
 * Measured: exit 0 in 1.54-1.56 s in 5 of 5 runs (`waiter: got the mutex after the holder's
 * sleep`).
 * forklore must say: completed (exit 0), never deadlocked: for 1.5 s 'waiter' is blocked on the
 * futex, but its owner 'holder' is in a timed sleep (a root), so the waiter is live.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t g_locked;

static void* holder(void* unused) {
    (void)unused;
    prctl(PR_SET_NAME, "holder", 0, 0, 0);
    pthread_mutex_lock(&g_mutex);
    pthread_barrier_wait(&g_locked);
    struct timespec hold_for = {1, 500000000L}; /* 1.5 s, holding the mutex */
    nanosleep(&hold_for, NULL);
    pthread_mutex_unlock(&g_mutex);
    return NULL;
}

int main(void) {
    prctl(PR_SET_NAME, "waiter", 0, 0, 0);
    pthread_barrier_init(&g_locked, NULL, 2);
    pthread_t thread;
    if (pthread_create(&thread, NULL, holder, NULL) != 0) return 1;
    pthread_barrier_wait(&g_locked);
    pthread_mutex_lock(&g_mutex); /* untimed: blocked until the holder wakes and unlocks */
    puts("waiter: got the mutex after the holder's sleep");
    pthread_mutex_unlock(&g_mutex);
    pthread_join(thread, NULL);
    return 0;
}
