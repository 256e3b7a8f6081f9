#include "sim/observe/unix_socket_peers.hpp"

#include "sim/observe/snapshot.hpp"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <thread>

namespace forklore {
namespace {

// Closes an fd when it leaves scope: every early return below is a failure path.
struct FdGuard {
    int fd = -1;
    explicit FdGuard(int descriptor) : fd(descriptor) {}
    FdGuard(const FdGuard&) = delete;
    FdGuard& operator=(const FdGuard&) = delete;
    ~FdGuard() {
        if (fd >= 0)
            ::close(fd);
    }
};

// Reads the peer attribute of one unix_diag_msg; records the socket only when it has one.
void note_peer(nlmsghdr* header, UnixSocketPeers& peers) {
    if (header->nlmsg_len < NLMSG_LENGTH(sizeof(unix_diag_msg)))
        return;
    auto* message = static_cast<unix_diag_msg*>(NLMSG_DATA(header));
    if (message->udiag_family != AF_UNIX)
        return;
    auto* attribute = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(message) +
                                                NLMSG_ALIGN(sizeof(unix_diag_msg)));
    int length = static_cast<int>(header->nlmsg_len - NLMSG_LENGTH(sizeof(unix_diag_msg)));
    for (; RTA_OK(attribute, length); attribute = RTA_NEXT(attribute, length)) {
        if (attribute->rta_type != UNIX_DIAG_PEER || RTA_PAYLOAD(attribute) < sizeof(std::uint32_t))
            continue;
        std::uint32_t peer = 0;
        std::memcpy(&peer, RTA_DATA(attribute), sizeof peer);
        peers[message->udiag_ino] = peer;
    }
}

// One sock_diag dump of the unix sockets of the calling thread's network namespace.
UnixSocketPeers dump_unix_sockets() {
    FdGuard netlink(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
    if (netlink.fd < 0)
        return {};
    // The observer must never hang on its own instrument: a kernel that stops answering
    // mid-dump gives up after a second instead.
    timeval timeout{1, 0};
    ::setsockopt(netlink.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

    struct {
        nlmsghdr header;
        unix_diag_req request;
    } query{};
    query.header.nlmsg_len = sizeof query;
    query.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    query.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    query.request.sdiag_family = AF_UNIX;
    query.request.udiag_states = ~0U; // every state: connected, listening, closing
    query.request.udiag_show = UDIAG_SHOW_PEER;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(netlink.fd, &query, sizeof query, 0, reinterpret_cast<sockaddr*>(&kernel),
                 sizeof kernel) != static_cast<ssize_t>(sizeof query))
        return {};

    UnixSocketPeers peers;
    alignas(nlmsghdr) char buffer[32768];
    for (;;) {
        ssize_t received = ::recv(netlink.fd, buffer, sizeof buffer, 0);
        if (received < 0 && errno == EINTR)
            continue;
        if (received <= 0)
            return {}; // an error or a timeout: a partial map would mislead
        int length = static_cast<int>(received);
        for (auto* header = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(header, length);
             header = NLMSG_NEXT(header, length)) {
            if (header->nlmsg_type == NLMSG_DONE)
                return peers;
            if (header->nlmsg_type == NLMSG_ERROR)
                return {}; // e.g. no unix_diag in the kernel
            if (header->nlmsg_type == SOCK_DIAG_BY_FAMILY)
                note_peer(header, peers);
        }
    }
}

bool same_namespace(int namespace_fd) {
    struct stat theirs {
    }, ours{};
    // thread-self, not self: the namespace of this very thread is the one a socket would get.
    return ::fstat(namespace_fd, &theirs) == 0 && ::stat("/proc/thread-self/ns/net", &ours) == 0 &&
           theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino;
}

} // namespace

UnixSocketPeers unix_socket_peers(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/ns/net", pid);
    FdGuard namespace_fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (namespace_fd.fd < 0)
        return {};
    try {
        if (same_namespace(namespace_fd.fd))
            return dump_unix_sockets();
        // A network namespace belongs to a thread, not to a process: a thread of our own enters
        // the sandbox's and ends there, and every other thread of the caller stays where it was.
        UnixSocketPeers peers;
        std::thread asker([&peers, fd = namespace_fd.fd] {
            if (::setns(fd, CLONE_NEWNET) == 0)
                peers = dump_unix_sockets();
        });
        asker.join();
        return peers;
    } catch (const std::exception&) {
        return {}; // no thread could be made, or no memory for the map: the caller falls back
    }
}

std::optional<std::uint64_t> socket_inode(std::string_view target) {
    constexpr std::string_view prefix = "socket:[";
    if (!target.starts_with(prefix) || !target.ends_with(']'))
        return std::nullopt;
    std::string_view digits = target.substr(prefix.size(), target.size() - prefix.size() - 1);
    std::uint64_t inode = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), inode);
    if (error != std::errc{} || end != digits.data() + digits.size() || digits.empty())
        return std::nullopt;
    return inode;
}

std::string peer_target_of(std::string_view target, const UnixSocketPeers& peers) {
    auto inode = socket_inode(target);
    if (!inode)
        return {};
    auto peer = peers.find(*inode);
    if (peer == peers.end())
        return {};
    if (peer->second == 0)
        return std::string(kPeerClosed);
    return "socket:[" + std::to_string(peer->second) + "]";
}

} // namespace forklore
