/* pipe_wait_deadlock: a parent and its child wait on each other, across a pipe.
 *
 * The parent forks a child that reads its work from a pipe until end-of-file. The parent then
 * waits for the child to exit before closing its write end: the child never sees end-of-file
 * (the parent holds the write end open), and the parent never stops waiting (the child never
 * exits). No lock at all: `forklore exec` must prove deadlocked(blocked_on_process).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    int work[2];
    if (pipe(work) != 0) {
        perror("pipe");
        return 1;
    }
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        close(work[1]);
        char buffer[64];
        while (read(work[0], buffer, sizeof buffer) > 0) {
        }
        _exit(0);
    }
    close(work[0]);
    if (write(work[1], "job\n", 4) != 4) perror("write");
    /* The bug: wait first, close later. Closing work[1] before waitpid ends both. */
    int status = 0;
    waitpid(child, &status, 0);
    close(work[1]);
    return 0;
}
