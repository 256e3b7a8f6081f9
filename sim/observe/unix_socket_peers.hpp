// Which unix socket is connected to which. /proc names a socket only by its inode
// ("socket:[5678]"), and the two ends of a socketpair or of an accepted connection are two
// different inodes: only the kernel's sock_diag netlink interface says which inode is the other
// end, and it answers for one network namespace, the one of the asking socket.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace forklore {

// Socket inode -> the inode of its peer, for every AF_UNIX socket that has one (a connected
// stream or seqpacket end, a connected datagram socket). A peer inode of 0 means the peer has
// been closed. Listening and unconnected sockets are absent.
using UnixSocketPeers = std::unordered_map<std::uint64_t, std::uint64_t>;

// The unix sockets of the network namespace `pid` lives in (a sandbox has its own). Asks on a
// short-lived thread that enters that namespace, so no thread of the caller changes namespace.
// Empty when it cannot be asked: the process is gone, entering its namespace is not permitted
// (it needs CAP_SYS_ADMIN), or the kernel has no unix sock_diag. Never throws.
UnixSocketPeers unix_socket_peers(pid_t pid);

// "socket:[5678]" -> 5678; nullopt for any other fd target.
std::optional<std::uint64_t> socket_inode(std::string_view target);

// The peer target of an fd target, as OpenChannelEnd::peer_target holds it: "socket:[PEER]",
// kPeerClosed, or empty when `target` is not a socket with a known peer.
std::string peer_target_of(std::string_view target, const UnixSocketPeers& peers);

} // namespace forklore
