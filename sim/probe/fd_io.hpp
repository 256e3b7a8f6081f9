// Whole messages over file descriptors: every byte written or read despite short transfers and
// signals, and an fd passed to another process over a Unix socket (SCM_RIGHTS).
//
// The probes, the fork server and the scenarios' workers all move bytes between processes; one
// home for these loops means one answer to "what happens when the other side is gone": an error
// the caller reports (false, -1), never a silent half message or a SIGPIPE that kills a sender
// on a socket.
#pragma once

#include <cstddef>

namespace forklore::fd_io {

// write(2) until every byte is out, retrying EINTR and short writes. False (errno set) on an
// error, such as EPIPE from a pipe whose reader is gone (a process that does not ignore SIGPIPE
// dies of it first, as any writer would).
bool write_all(int fd, const void* data, std::size_t size) noexcept;

// The same on a stream socket, with send(2) and MSG_NOSIGNAL: a peer that hung up is an error
// (EPIPE), never a SIGPIPE.
bool send_all(int socket_fd, const void* data, std::size_t size) noexcept;

// read(2) until `size` bytes arrived or the stream ended, retrying EINTR: how many arrived, or -1
// on an error.
long long read_full(int fd, void* data, std::size_t size) noexcept;

// True only when all `size` bytes arrived: false at end-of-file (the other end is gone) or on an
// error.
bool read_all(int fd, void* data, std::size_t size) noexcept;

// Sends `size` bytes (at least one: a message without data carries no fd on a stream socket) and
// a duplicate of `fd_to_pass` in one message. The kernel installs the duplicate in the receiver
// under a new number: the SAME open file description, as Python's multiprocessing sends a socket
// to a worker that could not inherit it. MSG_NOSIGNAL; true when every byte was sent.
bool send_with_fd(int socket_fd, const void* data, std::size_t size, int fd_to_pass) noexcept;

// Receives one message of at most `capacity` bytes and the fd it carried, close-on-exec, into
// `received_fd` (-1 when it carried none). Returns the bytes received, 0 at end-of-file, -1 on an
// error; retries EINTR.
long long receive_with_fd(int socket_fd, void* data, std::size_t capacity,
                          int& received_fd) noexcept;

// Writes an object's bytes with send_all; reads them with read_all. For fixed-size messages: a
// reader gets a whole one or none.
template <typename Message> bool send_message(int socket_fd, const Message& message) noexcept {
    return send_all(socket_fd, &message, sizeof message);
}
template <typename Message> bool receive_message(int fd, Message& message) noexcept {
    return read_all(fd, &message, sizeof message);
}

} // namespace forklore::fd_io
