/* stops_itself: prints a line, then stops itself with SIGSTOP.
 *
 * How it was measured, outside forklore (Debian 12, glibc 2.36, kernel 6.18, 2026-12-03):
 * `./stops_itself & sleep 1; cat /proc/$!/stat`: state T (stopped) for as long as nobody sends
 * SIGCONT; `timeout 2 ./stops_itself` does not end at 2 s (SIGTERM stays pending on a stopped
 * process; timeout's own SIGCONT follows only with --kill-after), `kill -CONT` lets it exit 0.
 * forklore must say: deadlocked (nothing in the sandbox can ever send SIGCONT: the process
 * waits for a signal that cannot come), proven quickly; killed; nothing left afterwards.
 */
#include <signal.h>
#include <stdio.h>

int main(void) {
    printf("stopping myself\n");
    fflush(stdout);
    raise(SIGSTOP);
    printf("continued\n");
    return 0;
}
