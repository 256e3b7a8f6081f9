// Unix-socket plumbing shared by the scenarios whose workers meet their parent by a socket
// (130, 150, 160).
//
// Workers find their parent (and a server) by a socket path in the run's private working
// directory, never by an inherited fd: a forkserver worker is a copy of a server forked before
// the parent opened anything, so a path is the one rendezvous that works for all four start
// methods. Every function does the real system call and reports failure by its return value.
#pragma once

#include "sim/probe/fd_io.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace forklore::worker_sockets {

inline sockaddr_un address_of(const char* path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path, sizeof address.sun_path - 1);
    return address;
}

// A listening stream socket at `path` (close-on-exec: only the process that made it accepts).
inline int listen_at(const char* path, int backlog = 16) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    sockaddr_un address = address_of(path);
    unlink(path);
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(fd, backlog) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// A new connection to the socket listening at `path`. `cloexec` false leaves the fd open across
// exec, so that a fresh program started from this process can still use it by its number.
inline int connect_to(const char* path, bool cloexec = true) {
    int fd = socket(AF_UNIX, SOCK_STREAM | (cloexec ? SOCK_CLOEXEC : 0), 0);
    if (fd < 0)
        return -1;
    sockaddr_un address = address_of(path);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// Whole messages and fd passing: the engine's one copy (sim/probe/fd_io.hpp). Sockets are
// written with send_all, so a worker that died is an error to report, never a SIGPIPE.
using fd_io::read_all;
using fd_io::receive_message;
using fd_io::send_all;
using fd_io::send_message;

// Sends a duplicate of `fd_to_pass` over the Unix socket `fd` (SCM_RIGHTS): the receiver gets a
// new fd number for the SAME open file description, as Python's multiprocessing does when it
// pickles a socket for a worker that could not inherit it.
inline bool send_fd(int fd, int fd_to_pass) {
    const char byte = 'F';
    return fd_io::send_with_fd(fd, &byte, 1, fd_to_pass);
}

// The fd sent by send_fd, or -1.
inline int receive_fd(int fd) {
    char byte = 0;
    int received = -1;
    return fd_io::receive_with_fd(fd, &byte, 1, received) == 1 ? received : -1;
}

} // namespace forklore::worker_sockets
