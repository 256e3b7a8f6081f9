#include "sim/probe/fd_io.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace forklore::fd_io {

namespace {

// The loop both writers share: `transfer` moves some bytes and returns how many (-1: errno).
template <typename Transfer>
bool transfer_all(const void* data, std::size_t size, Transfer transfer) {
    const char* bytes = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = transfer(bytes, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        bytes += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// A message of one data buffer and room for one fd in its control part.
struct OneFdMessage {
    iovec data;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr header{};

    OneFdMessage(void* bytes, std::size_t size) : data{bytes, size} {
        header.msg_iov = &data;
        header.msg_iovlen = 1;
        header.msg_control = control;
        header.msg_controllen = sizeof control;
    }
    OneFdMessage(const OneFdMessage&) = delete; // the header points into this object
    OneFdMessage& operator=(const OneFdMessage&) = delete;
};

} // namespace

bool write_all(int fd, const void* data, std::size_t size) noexcept {
    return transfer_all(
        data, size, [fd](const char* bytes, std::size_t left) { return ::write(fd, bytes, left); });
}

bool send_all(int socket_fd, const void* data, std::size_t size) noexcept {
    return transfer_all(data, size, [socket_fd](const char* bytes, std::size_t left) {
        return ::send(socket_fd, bytes, left, MSG_NOSIGNAL);
    });
}

long long read_full(int fd, void* data, std::size_t size) noexcept {
    char* bytes = static_cast<char*>(data);
    std::size_t got = 0;
    while (got < size) {
        ssize_t n = ::read(fd, bytes + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    return static_cast<long long>(got);
}

bool read_all(int fd, void* data, std::size_t size) noexcept {
    return read_full(fd, data, size) == static_cast<long long>(size);
}

bool send_with_fd(int socket_fd, const void* data, std::size_t size, int fd_to_pass) noexcept {
    OneFdMessage message(const_cast<void*>(data), size);
    cmsghdr* header = CMSG_FIRSTHDR(&message.header);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS; // the kernel installs a duplicate of fd_to_pass in the receiver
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &fd_to_pass, sizeof(int));
    ssize_t sent;
    do {
        sent = ::sendmsg(socket_fd, &message.header, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent == static_cast<ssize_t>(size);
}

long long receive_with_fd(int socket_fd, void* data, std::size_t capacity,
                          int& received_fd) noexcept {
    received_fd = -1;
    OneFdMessage message(data, capacity);
    ssize_t n;
    do {
        n = ::recvmsg(socket_fd, &message.header, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n <= 0)
        return n;
    for (cmsghdr* c = CMSG_FIRSTHDR(&message.header); c; c = CMSG_NXTHDR(&message.header, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            std::memcpy(&received_fd, CMSG_DATA(c), sizeof(int));
    return n;
}

} // namespace forklore::fd_io
