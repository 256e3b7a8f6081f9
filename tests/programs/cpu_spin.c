/* cpu_spin: two threads spin on the CPU forever (no system call, no sleep).
 *
 * How it was measured, outside forklore (Debian 12, glibc 2.36, kernel 6.18, 2 cores,
 * 2026-12-03): `timeout 3 ./cpu_spin; echo $?`: 124 after 3 s; both threads in state R with
 * utime growing by about 100 ticks per second each (top: 200% CPU).
 * forklore must say: timed_out at its deadline (never deadlocked: the threads run), naming the
 * threads as running; nothing left afterwards, and the machine keeps its CPU for other programs
 * (the sandbox's tasks share the CPU as one group, weighted as four processes).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/prctl.h>

static volatile unsigned long counter;

static void* spin(void* unused) {
    (void)unused;
    prctl(PR_SET_NAME, "spinner");
    for (;;) counter++;
    return NULL;
}

int main(void) {
    pthread_t thread;
    pthread_create(&thread, NULL, spin, NULL);
    spin(NULL);
}
