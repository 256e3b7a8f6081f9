// 150 shared-connection — one connection opened before the workers, used by all of them.
//
// What it shows: a small "database" server runs in its own process and answers requests on a
// Unix socket; each request carries the worker's id and a request number, and the reply echoes
// both with a computed payload. A program that connects at import time (before it starts its
// worker processes) hands every worker the SAME connection: one socket, one byte stream, one
// queue of replies. Each worker sends its requests and reads "its" replies, but the stream does
// not know whose a reply is: a worker reads whatever reply comes first, often another worker's.
// An initializer that runs once in each worker and opens its own connection gives each worker
// its own stream, and every reply reaches the worker that asked.
//
// Sharing is not a property of fork. A forked worker finds the connection object in its copy of
// the parent's memory. A fresh program (fork_exec, spawn) has no such object, but the socket's
// fd survives exec when it is not close-on-exec, and the parent passes its number. A forkserver
// worker never had the fd, so the parent sends it a duplicate over a Unix socket (SCM_RIGHTS),
// as Python's multiprocessing does when it pickles a socket. Every way ends with one kernel
// socket shared by all workers, and every way goes wrong the same way.
//
// What to look for: the workers are made to send in order (worker 0, then 1, ...) and then to
// read one after another starting with worker 1 (1, 2, ..., 0), with the main process as the
// starting gun of each step (a message on a coordinator socket, not a sleep). So the mix-up
// happens every time: worker 1 reads first and gets worker 0's replies ("worker 1 got the reply
// to request 0 of worker 0"), worker 2 gets worker 1's, and worker 0 gets the last worker's;
// each exits 1 (verdict failed). With per_worker connections the same choreography completes.
//
// Variants: fork_inherited, fork_per_worker, fork_exec_inherited, fork_exec_per_worker,
// spawn_inherited, spawn_per_worker, forkserver_inherited, forkserver_per_worker.
//
// Index of this file:
// [SECTION] The messages, the server's computation, the connection object
// [SECTION] The child processes: the database server and its workers
// [SECTION] The scenario's main: the starting gun of each step
// [SECTION] The lesson, its knobs and its variants
#include "scenarios/support/worker_sockets.hpp"
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

// [SECTION] The messages, the server's computation, the connection object -------------------------

namespace {

using namespace forklore;
using namespace forklore::worker_sockets;

const char* const kServerSocket = "database.sock";
const char* const kCoordinatorSocket = "coordinator.sock";

// A request and its reply: fixed-size, so a reader gets whole messages (never a torn one here).
struct Message {
    std::uint32_t worker = 0;
    std::uint32_t request = 0;
    std::uint64_t payload = 0; // request: the argument; reply: the computed answer
};
constexpr std::uint32_t kQuitServer = 0xFFFFFFFF; // a request from this "worker" stops the server

// What the main process and a worker tell each other on the coordinator socket.
enum Step : std::uint32_t { hello, ready, send_now, sent, read_now, done };
struct Signal {
    std::uint32_t worker = 0;
    std::uint32_t step = 0;
};
constexpr std::uint32_t kServerId = 1000;

void note(const std::string& text, CallSite site = {}) {
    probe::note(text.c_str(), site);
}

// The server's computation: the reply a request must get (a worker checks it).
std::uint64_t answer_for(std::uint64_t argument) {
    std::uint64_t z = argument + 0x9E3779B97F4A7C15ULL; // splitmix64
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
std::uint64_t argument_for(std::uint32_t worker, std::uint32_t request) {
    return std::uint64_t{worker} * 1000 + request;
}

// The "database connection object" a library makes at import time. Static storage: a forked
// worker finds it in its copy of the parent's memory; a fresh program finds -1.
int g_connection = -1;

// [SECTION] The child processes: the database server and its workers ------------------------------

// --- The server process -----------------------------------------------------------------------

int database_server(const ChildArgs&) {
    int listener = listen_at(kServerSocket);
    int coordinator = connect_to(kCoordinatorSocket);
    if (listener < 0 || coordinator < 0)
        return 2;
    if (!send_message(coordinator, Signal{kServerId, ready}))
        return 2;
    note("server: listening on " + std::string(kServerSocket));
    std::vector<pollfd> watched{{listener, POLLIN, 0}};
    long answered = 0;
    for (;;) {
        if (poll(watched.data(), watched.size(), -1) < 0)
            continue; // SYNC: waits for requests
        if (watched[0].revents & POLLIN) {
            int client = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (client >= 0)
                watched.push_back({client, POLLIN, 0});
        }
        for (std::size_t i = 1; i < watched.size(); ++i) {
            if (!watched[i].revents)
                continue;
            Message request;
            if (!receive_message(watched[i].fd, request)) { // end-of-file: the client is gone
                close(watched[i].fd);
                watched.erase(watched.begin() + static_cast<long>(i--));
                continue;
            }
            if (request.worker == kQuitServer) {
                note("server: answered " + std::to_string(answered) + " requests, stopping");
                return 0;
            }
            // One connection is one byte stream: replies go back on it in the order asked.
            Message reply{request.worker, request.request, answer_for(request.payload)};
            if (send_message(watched[i].fd, reply))
                ++answered;
        }
    }
}

// --- The worker process -----------------------------------------------------------------------

bool wait_for(int coordinator, std::uint32_t step) {
    Signal signal;
    return receive_message(coordinator, signal) && signal.step == step;
}

// The inherited connection, however this worker can get hold of it.
int inherited_connection(const ChildArgs& args, int coordinator, std::uint32_t id) {
    const std::string who = "worker " + std::to_string(id) + ": ";
    if (g_connection >= 0) {
        note(who + "using the connection object in my copy of the parent's memory (fd " +
             std::to_string(g_connection) + ")");
        return g_connection;
    }
    if (args.count("fd")) {
        int fd = std::stoi(args.at("fd"));
        struct stat info {};
        if (fstat(fd, &info) == 0 && S_ISSOCK(info.st_mode)) {
            note(who + "no connection object in this fresh program, but fd " + std::to_string(fd) +
                 " survived exec: using it");
            return fd;
        }
        note(who + "fd " + std::to_string(fd) + " is not an open socket here");
        return -1;
    }
    int fd = receive_fd(coordinator); // SYNC: the main process sends a duplicate of its fd
    note(who + "the parent sent me its connection over the coordinator socket (now fd " +
         std::to_string(fd) + ")");
    return fd;
}

int database_worker(const ChildArgs& args) {
    const std::uint32_t id = static_cast<std::uint32_t>(std::stoul(args.at("id")));
    const std::uint32_t requests = static_cast<std::uint32_t>(std::stoul(args.at("requests")));
    const std::string who = "worker " + std::to_string(id);
    int coordinator = connect_to(kCoordinatorSocket);
    if (coordinator < 0 || !send_message(coordinator, Signal{id, hello}))
        return 2;

    int connection = -1;
    if (args.at("connection") == "per_worker") {
        // The initializer: runs once in this worker and opens a connection of its own.
        connection = connect_to(kServerSocket);
        note(who + ": initializer opened my own connection (fd " + std::to_string(connection) +
             ")");
    } else {
        connection = inherited_connection(args, coordinator, id);
    }
    if (connection < 0)
        return 2;

    if (!wait_for(coordinator, send_now))
        return 2; // SYNC: the starting gun for my requests
    for (std::uint32_t r = 0; r < requests; ++r)
        if (!send_message(connection, Message{id, r, argument_for(id, r)}))
            return 2;
    note(who + ": sent " + std::to_string(requests) + " requests");
    if (!send_message(coordinator, Signal{id, sent}))
        return 2;

    if (!wait_for(coordinator, read_now))
        return 2; // SYNC: every worker has sent; my turn to read
    std::uint32_t wrong = 0;
    std::string first_wrong;
    for (std::uint32_t r = 0; r < requests; ++r) {
        Message reply;
        if (!receive_message(connection, reply))
            return 2; // SYNC: waits for the next reply
        const bool mine = reply.worker == id && reply.request == r;
        const bool intact = reply.payload == answer_for(argument_for(reply.worker, reply.request));
        if (mine && intact)
            continue;
        if (wrong++ == 0)
            first_wrong = !intact
                              ? who + " got a torn reply"
                              : who + " got the reply to request " + std::to_string(reply.request) +
                                    " of worker " + std::to_string(reply.worker);
    }
    if (wrong == 0)
        note(who + ": every reply was mine");
    else
        probe::print(stderr, (first_wrong + "; " + std::to_string(wrong) + " of " +
                              std::to_string(requests) + " replies were not mine")
                                 .c_str());
    send_message(coordinator, Signal{id, done}); // SYNC: the next worker's turn to read
    return wrong == 0 ? 0 : 1;
}

// [SECTION] The scenario's main: the starting gun of each step ------------------------------------

// --- The main process -------------------------------------------------------------------------

int accept_signal(int listener, Signal& signal) {
    int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC); // SYNC: waits for a process
    if (fd >= 0 && receive_message(fd, signal))
        return fd;
    return -1;
}

bool exited_zero(WaitStatus status) {
    return status.exited_ok();
}

int run(ScenarioContext& context) {
    const StartMethod method = context.method("start_method");
    const bool shared = context.knob("connection") == "inherited";
    const int workers = static_cast<int>(context.integer("workers"));
    const long requests = context.integer("requests");

    int listener = listen_at(kCoordinatorSocket);
    if (listener < 0)
        return 2;
    probe::Child server = probe::start_child(method, "database_server");
    Signal signal;
    int server_line = accept_signal(listener, signal); // SYNC: the server is listening now
    if (server_line < 0 || signal.step != ready)
        return 2;

    if (shared) {
        // "At import time": one connection, made before any worker exists, and not close-on-exec
        // so that a worker made by exec can still find it by its number.
        g_connection = connect_to(kServerSocket, /*cloexec=*/false);
        if (g_connection < 0)
            return 2;
        note("main: connected to the database before starting the workers (fd " +
             std::to_string(g_connection) + ")");
    }

    std::vector<probe::Child> children;
    for (int w = 0; w < workers; ++w) {
        ChildArgs args{{"id", std::to_string(w)},
                       {"requests", std::to_string(requests)},
                       {"connection", context.knob("connection")}};
        if (shared && (method == StartMethod::fork_exec || method == StartMethod::spawn))
            args["fd"] = std::to_string(g_connection); // the number only: the object is not sent
        children.push_back(probe::start_child(method, "database_worker", args));
    }
    std::vector<int> line(workers, -1); // the coordinator connection of each worker, by id
    for (int w = 0; w < workers; ++w) {
        int fd = accept_signal(listener, signal);
        if (fd < 0 || signal.worker >= static_cast<std::uint32_t>(workers))
            return 2;
        line[signal.worker] = fd;
        if (shared && method == StartMethod::forkserver)
            send_fd(fd, g_connection);
    }

    // The forced interleaving: the workers send one after another (0, 1, ...), then read one
    // after another starting one further (1, 2, ..., 0): each reads the previous one's replies.
    for (int w = 0; w < workers; ++w) {
        send_message(line[w], Signal{0, send_now});
        receive_message(line[w], signal); // SYNC: "sent" (or end-of-file if the worker died)
    }
    note("main: every worker has sent its requests; worker 1 reads first");
    for (int turn = 1; turn <= workers; ++turn) {
        const int w = turn % workers;
        send_message(line[w], Signal{0, read_now});
        receive_message(line[w], signal); // SYNC: "done" (or end-of-file)
    }

    int failures = 0;
    for (auto& child : children)
        failures += !exited_zero(child.wait());
    if (failures > 0)
        note("main: " + std::to_string(failures) + " worker(s) got replies meant for others");

    int quit = connect_to(kServerSocket);
    send_message(quit, Message{kQuitServer, 0, 0});
    const WaitStatus server_status = server.wait();
    return failures == 0 && exited_zero(server_status) ? 0 : 1;
}

// [SECTION] The lesson, its knobs and its variants ------------------------------------------------

Scenario describe() {
    Scenario s;
    s.id = "shared-connection";
    s.group = "workers and their resources";
    s.title = "Workers share one connection opened before they were made";
    s.lesson =
        "A program connects to its database server at import time and then starts worker "
        "processes, so every worker uses the same connection: one socket, one stream of replies. "
        "A worker reads the next reply in the stream, and nothing says it is the reply to its "
        "own request: here worker 1 reads first and gets the replies to worker 0's requests, "
        "and so on round the circle. This is not a fork bug: a fresh program that inherits the "
        "socket's fd, or a forkserver worker that is sent a duplicate, shares the same socket "
        "and fails the same way. An initializer that opens a connection once in each worker fixes "
        "it: each worker "
        "gets its own stream, and every reply reaches the worker that asked for it.";
    s.knobs = {
        start_method_knob("start_method", StartMethod::fork,
                          "How the server and the worker processes are made."),
        Knob::choice(
            "connection", "inherited", {"inherited", "per_worker"},
            "inherited: one connection opened by the parent before the workers exist; per_worker: "
            "an initializer opens one in each worker."),
        Knob::integer("workers", 3, 2, 8, "How many worker processes."),
        Knob::integer("requests", 4, 1, 64, "Requests each worker sends."),
    };
    const auto mixed_up = Expectation::ends_as(VerdictKind::failed);
    s.variants = {
        {"fork_inherited",
         "fork: every worker uses the parent's connection; replies go astray",
         {},
         mixed_up},
        {"fork_per_worker",
         "fork, an initializer opens a connection in each worker",
         {{"connection", "per_worker"}},
         Expectation::completes()},
        {"fork_exec_inherited",
         "fork+exec: the socket's fd survives exec, still one stream",
         {{"start_method", "fork_exec"}},
         mixed_up},
        {"fork_exec_per_worker",
         "fork+exec, one connection per worker",
         {{"start_method", "fork_exec"}, {"connection", "per_worker"}},
         Expectation::completes()},
        {"spawn_inherited",
         "spawn: the fd number is passed and inherited; replies go astray",
         {{"start_method", "spawn"}},
         mixed_up},
        {"spawn_per_worker",
         "spawn, one connection per worker",
         {{"start_method", "spawn"}, {"connection", "per_worker"}},
         Expectation::completes()},
        {"forkserver_inherited",
         "forkserver: the fd is sent over a socket; still one stream",
         {{"start_method", "forkserver"}},
         mixed_up},
        {"forkserver_per_worker",
         "forkserver, one connection per worker",
         {{"start_method", "forkserver"}, {"connection", "per_worker"}},
         Expectation::completes()},
    };
    s.body = run;
    s.children = {{"database_server", database_server}, {"database_worker", database_worker}};
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
