/* reaches_network: tries to reach the network: a TCP connection to 1.1.1.1:53 and to the
 * loopback's port 22, and a UDP datagram to 8.8.8.8:53. Prints what each attempt gave and exits
 * 0 when nothing got out, 3 when something did.
 *
 * How it was measured, outside forklore (Debian 12, kernel 6.18, 2026-12-03, this machine):
 * "tcp 1.1.1.1:53: reached", "tcp 127.0.0.1:22: Connection refused", "udp 8.8.8.8:53: reached",
 * exit 3.
 * Inside a fresh network namespace (`unshare -n ./reaches_network`): every attempt fails with
 * "Network is unreachable" (not even the loopback is up), exit 0.
 * forklore must say: completed (exit 0), every attempt unreachable.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int attempt(const char* label, int type, const char* address, int port) {
    int fd = socket(AF_INET, type, 0);
    if (fd < 0) {
        printf("%s: socket: %s\n", label, strerror(errno));
        return 0;
    }
    struct timeval limit = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    struct sockaddr_in target;
    memset(&target, 0, sizeof target);
    target.sin_family = AF_INET;
    target.sin_port = htons(port);
    inet_pton(AF_INET, address, &target.sin_addr);
    int got_out;
    if (type == SOCK_STREAM) {
        got_out = connect(fd, (struct sockaddr*)&target, sizeof target) == 0;
    } else {
        got_out = sendto(fd, "x", 1, 0, (struct sockaddr*)&target, sizeof target) == 1;
    }
    printf("%s: %s\n", label, got_out ? "reached" : strerror(errno));
    close(fd);
    return got_out;
}

int main(void) {
    int reached = 0;
    reached |= attempt("tcp 1.1.1.1:53", SOCK_STREAM, "1.1.1.1", 53);
    reached |= attempt("tcp 127.0.0.1:22", SOCK_STREAM, "127.0.0.1", 22);
    reached |= attempt("udp 8.8.8.8:53", SOCK_DGRAM, "8.8.8.8", 53);
    return reached ? 3 : 0;
}
