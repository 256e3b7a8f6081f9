// Unix-socket plumbing shared by the "workers and their resources" scenarios (150, 160).
//
// Workers find their parent (and a server) by a socket path in the run's private working
// directory, never by an inherited fd: a forkserver worker is a copy of a server forked before
// the parent opened anything, so a path is the one rendezvous that works for all four start
// methods. Every function does the real system call and reports failure by its return value.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>
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
    if (fd < 0) return -1;
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
    if (fd < 0) return -1;
    sockaddr_un address = address_of(path);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

inline bool write_all(int fd, const void* data, std::size_t size) {
    const char* bytes = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = send(fd, bytes, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// False on end-of-file (the other end is gone) or an error.
inline bool read_all(int fd, void* data, std::size_t size) {
    char* bytes = static_cast<char*>(data);
    while (size > 0) {
        ssize_t n = read(fd, bytes, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// Fixed-size messages: one struct per message, so a reader either gets a whole one or none.
template <typename Message> bool send_message(int fd, const Message& message) {
    return write_all(fd, &message, sizeof message);
}
template <typename Message> bool receive_message(int fd, Message& message) {
    return read_all(fd, &message, sizeof message);
}

// Sends a duplicate of `fd_to_pass` over the Unix socket `fd` (SCM_RIGHTS): the receiver gets a
// new fd number for the SAME open file description, as Python's multiprocessing does when it
// pickles a socket for a worker that could not inherit it.
inline bool send_fd(int fd, int fd_to_pass) {
    char byte = 'F';
    iovec data{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &fd_to_pass, sizeof(int));
    return sendmsg(fd, &message, MSG_NOSIGNAL) == 1;
}

// The fd sent by send_fd, or -1.
inline int receive_fd(int fd) {
    char byte = 0;
    iovec data{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    if (recvmsg(fd, &message, MSG_CMSG_CLOEXEC) != 1) return -1;
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    if (!header || header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) return -1;
    int received = -1;
    std::memcpy(&received, CMSG_DATA(header), sizeof(int));
    return received;
}

} // namespace forklore::worker_sockets
