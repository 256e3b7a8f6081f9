/* signal_after_sleep: main waits in sigwaitinfo() for SIGUSR1, sent by a thread after 1 s.
 *
 * What it does: main blocks SIGUSR1 (the mask is inherited by the thread it then creates) and
 * calls sigwaitinfo() with no timeout. Thread 'signaller' sleeps 1 s and sends SIGUSR1 to the
 * process. Main is in an untimed signal wait for a second, but another thread of the sandbox is
 * in a timed sleep: live. Exits 0.
 *
 * How it was measured, outside forklore (Debian 12, glibc 2.36-9+deb12u14, gcc 12.2,
 * kernel 6.18, 2 cores, 2026-12-03):
 * `timeout 10 ./signal_after_sleep; echo $?` 5 times, wall time by date or /usr/bin/time.
 * Measured: exit 0 in 1.04-1.08 s in 5 of 5 runs (`got signal 10 from pid N`).
 * forklore must say: completed (exit 0), never deadlocked: 'sigwaiter' is in an untimed
 * rt_sigtimedwait, live because 'signaller' (a timed sleep) is.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static void* signaller(void* unused) {
    (void)unused;
    prctl(PR_SET_NAME, "signaller", 0, 0, 0);
    struct timespec one_second = {1, 0};
    nanosleep(&one_second, NULL);
    kill(getpid(), SIGUSR1);
    return NULL;
}

int main(void) {
    prctl(PR_SET_NAME, "sigwaiter", 0, 0, 0);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL); /* before the thread: it inherits the mask */
    pthread_t thread;
    if (pthread_create(&thread, NULL, signaller, NULL) != 0) return 1;
    siginfo_t info;
    int signal_number = sigwaitinfo(&usr1, &info); /* no timeout */
    pthread_join(thread, NULL);
    printf("got signal %d from pid %d\n", signal_number, (int)info.si_pid);
    return signal_number == SIGUSR1 ? 0 : 1;
}
