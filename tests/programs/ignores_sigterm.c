/* ignores_sigterm: ignores SIGTERM, SIGINT and SIGHUP, then sleeps 100 ms at a time forever.
 *
 * How it was measured, outside forklore (Debian 12, glibc 2.36, kernel 6.18, 2026-12-03):
 * `timeout 2 ./ignores_sigterm; echo $?` does not end at 2 s (timeout sends SIGTERM, which is
 * ignored); `timeout -k 1 2 ./ignores_sigterm` ends with 137 at 3 s (SIGKILL).
 * forklore must say: timed_out at its deadline (a timed sleep is no hang), the process killed
 * with SIGKILL regardless of what it ignores; nothing left afterwards.
 */
#include <signal.h>
#include <stdio.h>
#include <time.h>

int main(void) {
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    printf("ignoring SIGTERM, SIGINT and SIGHUP\n");
    fflush(stdout);
    for (;;) {
        struct timespec pause_time = {0, 100 * 1000 * 1000};
        nanosleep(&pause_time, NULL);
    }
}
