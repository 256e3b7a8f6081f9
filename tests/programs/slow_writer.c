/* slow_writer: a child reads a pipe whose writer (the parent) sleeps 1 s before writing.
 *
 * What it does: the parent ('writer') forks a child ('reader') that read()s the pipe until
 * end-of-file, untimed. The parent sleeps 1 s, writes one line, closes its write end and waits
 * for the child. The child is blocked in read() for a second, but the holder of the write end is
 * in a timed sleep: live. Exits 0.
 *
 * How it was measured, outside forklore (Debian 12, glibc 2.36-9+deb12u14, gcc 12.2,
 * kernel 6.18, 2 cores, 2026-12-03):
 * `timeout 10 ./slow_writer; echo $?` 5 times, wall time by date or /usr/bin/time.
 * Measured: exit 0 in 1.05-1.10 s in 5 of 5 runs (`reader exited with 0`).
 * forklore must say: completed (exit 0), never deadlocked: 'reader' is blocked in read() on the
 * pipe, and the holder of its write end ('writer') sleeps with a timeout: live.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    prctl(PR_SET_NAME, "writer", 0, 0, 0);
    int channel[2];
    if (pipe(channel) != 0) {
        perror("pipe");
        return 1;
    }
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        prctl(PR_SET_NAME, "reader", 0, 0, 0);
        close(channel[1]);
        char buffer[128];
        size_t total = 0;
        ssize_t n;
        while ((n = read(channel[0], buffer, sizeof buffer)) > 0) total += (size_t)n; /* untimed */
        _exit(total > 0 ? 0 : 1);
    }
    close(channel[0]);
    struct timespec one_second = {1, 0};
    nanosleep(&one_second, NULL);
    const char line[] = "the work, a second late\n";
    if (write(channel[1], line, strlen(line)) < 0) perror("write");
    close(channel[1]);
    int status = 0;
    waitpid(child, &status, 0);
    printf("reader exited with %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
