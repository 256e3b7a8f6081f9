// Which unix socket is the other end of which (sock_diag), and what the wait-for graph says about
// a thread reading a socket: whoever holds the OTHER end can wake it, never its own inode.
#include "sim/observe/unix_socket_peers.hpp"
#include "sim/record/record.hpp"
#include "sim/verdict/verdict.hpp"

#include <catch2/catch.hpp>

#include "live_process.hpp"

#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

using namespace forklore;
using namespace forklore::testing;
using Catch::Matchers::Contains;

namespace {

std::uint64_t inode_of(int fd) {
    struct stat status {};
    REQUIRE(::fstat(fd, &status) == 0);
    return status.st_ino;
}

struct SocketPair {
    int fds[2] = {-1, -1};
    SocketPair() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0); }
    ~SocketPair() {
        for (int fd : fds)
            if (fd >= 0)
                ::close(fd);
    }
    void close_end(int index) {
        ::close(fds[index]);
        fds[index] = -1;
    }
};

std::string socket_target(std::uint64_t inode) {
    return "socket:[" + std::to_string(inode) + "]";
}

} // namespace

TEST_CASE("unix socket peers: each end of a socketpair names the other", "[procfs][socket]") {
    SocketPair pair;
    const std::uint64_t first = inode_of(pair.fds[0]), second = inode_of(pair.fds[1]);
    REQUIRE(first != second);

    UnixSocketPeers peers = unix_socket_peers(::getpid());
    REQUIRE(peers.count(first) == 1);
    REQUIRE(peers.count(second) == 1);
    CHECK(peers.at(first) == second);
    CHECK(peers.at(second) == first);
    CHECK(peer_target_of(socket_target(first), peers) == socket_target(second));

    SECTION("once one end is closed, the other's peer is gone") {
        pair.close_end(1);
        UnixSocketPeers after = unix_socket_peers(::getpid());
        CHECK(after.count(second) == 0);
        CHECK(peer_target_of(socket_target(first), after) == kPeerClosed);
    }
}

TEST_CASE("unix socket peers: an accepted connection and its client", "[procfs][socket]") {
    char path[] = "/tmp/forklore-peers-XXXXXX";
    REQUIRE(::mkdtemp(path) != nullptr);
    std::string socket_path = std::string(path) + "/listen";
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socket_path.c_str());
    int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int client = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener, 1) == 0);
    REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    int accepted = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    REQUIRE(accepted >= 0);

    UnixSocketPeers peers = unix_socket_peers(::getpid());
    CHECK(peers[inode_of(client)] == inode_of(accepted));
    CHECK(peers[inode_of(accepted)] == inode_of(client));
    CHECK(peer_target_of(socket_target(inode_of(listener)), peers).empty()); // no peer: unknown

    for (int fd : {accepted, client, listener})
        ::close(fd);
    ::unlink(socket_path.c_str());
    ::rmdir(path);
}

TEST_CASE("unix socket peers: asked in another process's network namespace", "[procfs][socket]") {
    // The sandbox's processes live in a network namespace of their own: its sockets are
    // invisible to a sock_diag socket of ours, and must be asked for from inside it.
    Pipe report;
    ChildProcess child([&] {
        if (::unshare(CLONE_NEWNET) != 0) {
            report.send(std::uint64_t{0}); // not permitted here: nothing to test
            sleep_forever();
        }
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
            ::_exit(97);
        struct stat status {};
        ::fstat(fds[0], &status);
        report.send(std::uint64_t{status.st_ino});
        ::fstat(fds[1], &status);
        report.send(std::uint64_t{status.st_ino});
        sleep_forever();
    });
    auto first = report.receive<std::uint64_t>();
    REQUIRE(first.has_value());
    if (*first == 0) {
        WARN("cannot make a network namespace here: the setns path is not exercised");
        return;
    }
    auto second = report.receive<std::uint64_t>();
    REQUIRE(second.has_value());

    UnixSocketPeers theirs = unix_socket_peers(child.pid());
    REQUIRE(theirs.count(*first) == 1);
    CHECK(theirs.at(*first) == *second);
    CHECK(theirs.at(*second) == *first);
    // And our own namespace does not see them: the answer really came from theirs.
    CHECK(unix_socket_peers(::getpid()).count(*first) == 0);
}

TEST_CASE("unix socket peers: a process that is gone gives an empty map", "[procfs][socket]") {
    pid_t gone = 0;
    {
        ChildProcess child([] { ::_exit(0); });
        gone = child.pid();
    } // killed and reaped
    CHECK(unix_socket_peers(gone).empty());
}

TEST_CASE("unix socket peers: socket targets", "[procfs][socket]") {
    CHECK(socket_inode("socket:[5678]") == std::optional<std::uint64_t>(5678));
    CHECK_FALSE(socket_inode("pipe:[5678]"));
    CHECK_FALSE(socket_inode("socket:[]"));
    CHECK_FALSE(socket_inode("socket:[12x]"));
    CHECK_FALSE(socket_inode("socket:[12"));
    UnixSocketPeers peers{{10, 11}, {12, 0}};
    CHECK(peer_target_of("socket:[10]", peers) == "socket:[11]");
    CHECK(peer_target_of("socket:[12]", peers) == kPeerClosed);
    CHECK(peer_target_of("socket:[13]", peers).empty());
    CHECK(peer_target_of("pipe:[10]", peers).empty());
}

// ---------------------------------------------------------------------------------------------
// The wait-for graph of a socket reader
// ---------------------------------------------------------------------------------------------

namespace {

constexpr pid_t kHostOffset = 1000; // host ids differ from namespace ids, as in a sandbox

ThreadSnapshot reader_of(const std::string& target, const std::string& peer) {
    ThreadSnapshot thread;
    thread.tid = 3 + kHostOffset;
    thread.ns_tid = 3;
    thread.name = "worker0";
    thread.state = 'S';
    thread.syscall = 0; // read
    thread.wait = WaitKind::pipe;
    thread.untimed = true;
    thread.fd = 7;
    thread.fd_target = target;
    thread.fd_peer_target = peer;
    return thread;
}

ProcessSnapshot process_of(pid_t ns_pid, std::vector<ThreadSnapshot> threads,
                           std::vector<OpenChannelEnd> ends) {
    ProcessSnapshot process;
    process.pid = ns_pid + kHostOffset;
    process.ns_pid = ns_pid;
    process.ppid = 2 + kHostOffset;
    process.comm = "scenario";
    process.state = 'S';
    process.threads = std::move(threads);
    process.channel_ends = std::move(ends);
    return process;
}

// The main process 2, blocked in poll, and worker 3 reading socket 100 whose other end is 200.
std::vector<WaitEdge> worker_graph(std::vector<OpenChannelEnd> main_ends,
                                   const std::string& peer = "socket:[200]") {
    ThreadSnapshot main_thread = reader_of("", "");
    main_thread.tid = 2 + kHostOffset;
    main_thread.ns_tid = 2;
    main_thread.name = "main";
    main_thread.wait = WaitKind::poll;
    main_thread.fd = -1;
    // The worker holds its own end, which a pipe reading of the graph would call a write end.
    ProcessSnapshot worker =
        process_of(3, {reader_of("socket:[100]", peer)}, {{7, "socket:[100]", true, peer}});
    Snapshot snapshot;
    snapshot.detailed = true;
    snapshot.processes = {process_of(2, {main_thread}, std::move(main_ends)), worker};
    auto graph = build_wait_for_graph(snapshot, {});
    REQUIRE(graph.size() == 2);
    return graph;
}

} // namespace

TEST_CASE("verdict: a socket reader waits for whoever holds the other end", "[verdict][socket]") {
    SECTION("held by another process: that process can wake it") {
        auto graph = worker_graph({{9, "socket:[200]", true, "socket:[100]"}});
        CHECK(graph[1].kind == WaitEdge::Kind::pipe);
        CHECK(graph[1].owner_pid == 2);
        CHECK(graph[1].owner_exists);
        CHECK_THAT(graph[1].description,
                   Contains("reads from socket:[100] (fd 7), whose other end socket:[200] is "
                            "held open by process 2"));
    }
    SECTION("held only by the reader's own process") {
        auto graph = worker_graph({});
        // The own end is not the other end: only a copy of socket 200 in the worker counts.
        CHECK(graph[1].owner_pid == 0);
        CHECK_THAT(graph[1].description, Contains("open in no process of the sandbox"));
    }
    SECTION("held by the reader's own process and nobody else") {
        ProcessSnapshot worker = process_of(
            3, {reader_of("socket:[100]", "socket:[200]")},
            {{7, "socket:[100]", true, "socket:[200]"}, {8, "socket:[200]", true, "socket:[100]"}});
        Snapshot snapshot;
        snapshot.processes = {worker};
        auto graph = build_wait_for_graph(snapshot, {});
        REQUIRE(graph.size() == 1);
        CHECK(graph[0].owner_pid == 3);
        CHECK(graph[0].owner_exists);
        CHECK_THAT(graph[0].description,
                   Contains("whose other end socket:[200] is held only by its own process, so "
                            "it never sees end-of-file"));
    }
    SECTION("the other end has been closed") {
        auto graph = worker_graph({}, std::string(kPeerClosed));
        CHECK(graph[1].owner_pid == 0);
        CHECK_FALSE(graph[1].owner_exists);
        CHECK_THAT(graph[1].description, Contains("whose other end has been closed"));
    }
    SECTION("an unknown other end falls back to the reader's own inode, as for a pipe") {
        auto graph = worker_graph({{9, "socket:[100]", true, ""}}, "");
        CHECK(graph[1].owner_pid == 2);
        CHECK_THAT(graph[1].description, Contains("write end is held open by process 2"));
    }
}

TEST_CASE("run record: a socket reader's other end survives a JSON round trip", "[record]") {
    RunRecord record;
    Snapshot snapshot;
    snapshot.detailed = true;
    snapshot.processes = {process_of(3, {reader_of("socket:[100]", "socket:[200]")}, {})};
    record.snapshots = {snapshot};
    RunRecord back = run_record_from_json(nlohmann::json::parse(to_json(record).dump()));
    REQUIRE(back.snapshots.size() == 1);
    REQUIRE(back.snapshots[0].processes.size() == 1);
    const ThreadSnapshot& reader = back.snapshots[0].processes[0].threads.at(0);
    CHECK(reader.fd_target == "socket:[100]");
    CHECK(reader.fd_peer_target == "socket:[200]");
}
