/* writes_outside: tries to write each file named on its command line, then tries to undo a
 * read-only root (remount / read-write, as root would). Prints one line per attempt:
 * "PATH: written" or "PATH: <error>", "remount /: ..." and exits 0.
 *
 * How it was measured, outside forklore (Debian 12, kernel 6.18, as root, 2026-12-03):
 * `./writes_outside /root/x ./x /etc/x /tmp/x /dev/shm/x`: every file written (and left
 * behind), "remount /: done". Through `forklore exec` before the sandbox had a filesystem of its
 * own, /root/x and the caller's ./x were written too.
 * forklore must give it: EROFS ("Read-only file system") for every path outside /tmp and
 * /dev/shm, including the caller's directory; /tmp and /dev/shm writable but private (nothing
 * there after the run); the remount refused (EPERM: no capabilities). Verdict: completed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        int fd = open(argv[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) {
            printf("%s: %s\n", argv[i], strerror(errno));
            continue;
        }
        ssize_t n = write(fd, "escaped\n", 8);
        close(fd);
        printf("%s: %s\n", argv[i], n == 8 ? "written" : strerror(errno));
    }
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL) == 0)
        printf("remount /: done\n");
    else
        printf("remount /: %s\n", strerror(errno));
    return 0;
}
