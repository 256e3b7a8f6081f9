/* daemonizes: the program starts a daemon (double fork + setsid) and exits 0 at once.
 *
 * What it does: the first process forks an intermediate child, which calls setsid() and forks
 * the daemon, then exits 0; the first process reaps the intermediate child, prints the daemon's
 * pid and exits 0. The daemon ('daemon') redirects stdin and stdout to /dev/null but keeps the
 * inherited stderr (as many lazy daemons do: it logs there), writes one line to it and then
 * sleeps in pause() forever. The program's own work is done when its first process exits: a
 * leftover daemon must be named and killed, and must not turn the run into timed_out.
 *
 * How it was measured, outside forklore (Debian 12, glibc 2.36-9+deb12u14, gcc 12.2,
 * kernel 6.18, 2 cores, 2026-12-03):
 * `timeout 10 ./daemonizes; echo $?` 5 times, wall time by date or /usr/bin/time.
 * Measured: exit 0 in 0.02-0.06 s in 3 of 3 runs, `daemon started: pid N`; the daemon was
 * then alive: state S, wchan __do_sys_pause, ppid 1, its own session, fd 1 -> /dev/null, fd 2 ->
 * the caller's stderr (killed by pid after each run). Note: `./daemonizes 2>&1 | cat` does not
 * end until the daemon dies, because the daemon holds the pipe's write end.
 * forklore must say: completed (exit 0) as soon as the first process exits; the daemon named
 * (left running) and killed; never timed_out. Stuck: none.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    int report[2]; /* the daemon's pid, from the intermediate child to the first process */
    if (pipe(report) != 0) {
        perror("pipe");
        return 1;
    }
    pid_t intermediate = fork();
    if (intermediate < 0) {
        perror("fork");
        return 1;
    }
    if (intermediate == 0) {
        setsid(); /* a new session: no controlling terminal */
        pid_t daemon_pid = fork();
        if (daemon_pid < 0) _exit(1);
        if (daemon_pid == 0) {
            prctl(PR_SET_NAME, "daemon", 0, 0, 0);
            close(report[0]);
            close(report[1]);
            if (chdir("/") != 0) _exit(1);
            int null_fd = open("/dev/null", O_RDWR);
            dup2(null_fd, STDIN_FILENO);
            dup2(null_fd, STDOUT_FILENO); /* stderr stays: the daemon logs there */
            if (null_fd > STDERR_FILENO) close(null_fd);
            dprintf(STDERR_FILENO, "daemon: pid %d started, sleeping forever\n", (int)getpid());
            for (;;) pause();
        }
        if (write(report[1], &daemon_pid, sizeof daemon_pid) != sizeof daemon_pid) _exit(1);
        _exit(0); /* the intermediate exits: the daemon is re-parented */
    }
    close(report[1]);
    pid_t daemon_pid = 0;
    if (read(report[0], &daemon_pid, sizeof daemon_pid) != sizeof daemon_pid) return 1;
    int status = 0;
    waitpid(intermediate, &status, 0);
    printf("daemon started: pid %d\n", (int)daemon_pid);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
