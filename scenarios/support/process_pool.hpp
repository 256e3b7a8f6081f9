// A small but real process pool, shared by the pool scenarios (100, 110, 120).
//
// N worker processes are made by a start method. Every worker connects to two AF_UNIX sockets at
// paths in the current directory, so all four start methods reach the pool the same way (a
// forkserver worker never inherited the fds the parent opened after the server started):
// - `pool.sock` (stream, one connection per worker): the parent sends that worker its tasks, one
//   at a time, and finally "stop". It is the worker's own line: when the worker dies, and only
//   then, the parent's end of it reads end-of-file.
// - `results.sock` (datagrams, shared by every worker): "started", "result" and "error"
//   messages. Like Python's shared result queue it has no end-of-file: a dead writer is silent.
// Tasks are dealt round-robin like cards (task t goes to worker t % N), so a run always gives
// the same task to the same worker. A *naive* pool only reads the shared result socket; a
// *watching* pool also polls every worker's own connection and reports a worker's death.
//
// Index of this file:
// --- The parent's side: TaskOutcome, BrokenPool, PoolOptions, ProcessPool (starmap and map,
//     first_completed, a worker's death, shutdown); the worker's side is process_pool_worker.hpp
#pragma once

#include "scenarios/support/process_pool_worker.hpp"
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace forklore::pool {

// --- The parent's side --------------------------------------------------------------------------

// One task's outcome: a value, or the exception the worker reported.
struct TaskOutcome {
    long result = 0;
    std::string error_type;    // "std::invalid_argument"; empty when the task succeeded
    std::string error_message; // its what()

    bool failed() const { return !error_type.empty(); }

    // The value, or the worker's exception raised again here, as the same standard type.
    long value() const {
        if (!failed())
            return result;
        const std::string& m = error_message;
        if (error_type == "std::invalid_argument")
            throw std::invalid_argument(m);
        if (error_type == "std::out_of_range")
            throw std::out_of_range(m);
        if (error_type == "std::domain_error")
            throw std::domain_error(m);
        if (error_type == "std::length_error")
            throw std::length_error(m);
        if (error_type == "std::overflow_error")
            throw std::overflow_error(m);
        if (error_type == "std::logic_error")
            throw std::logic_error(m);
        throw std::runtime_error(error_type + ": " + m);
    }
};

// A worker died while the pool needed it (Python: concurrent.futures BrokenProcessPool).
struct BrokenPool : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct PoolOptions {
    int workers = 3;
    StartMethod method = StartMethod::fork;
    bool watch_workers = true; // poll each worker's own connection for its death
    OnException on_exception = OnException::propagate;
};

class ProcessPool {
  public:
    // Called when a worker announces it has started a task (the scenario may act on it).
    std::function<void(ProcessPool&, int worker, int task)> on_task_started;

    explicit ProcessPool(PoolOptions options);
    ~ProcessPool() { shutdown(); }
    ProcessPool(const ProcessPool&) = delete;
    ProcessPool& operator=(const ProcessPool&) = delete;

    // One argument per task, or several.
    std::vector<TaskOutcome> map(const std::string& function, const std::vector<long>& inputs) {
        std::vector<std::vector<long>> tuples;
        for (long input : inputs)
            tuples.push_back({input});
        return starmap(function, tuples);
    }
    std::vector<TaskOutcome> starmap(const std::string& function,
                                     const std::vector<std::vector<long>>& tuples);
    // One task per worker (no more tasks than workers), each its own function and arguments
    // ({function, args...} as names and numbers); returns the first outcome that arrives, a value
    // or an error, with its task number in `task` (Python: concurrent.futures.wait with
    // FIRST_COMPLETED, or imap_unordered then terminate). The other tasks' outcomes are never
    // read: shutdown() lets their workers finish and exit.
    TaskOutcome first_completed(const std::vector<std::pair<std::string, std::vector<long>>>& tasks,
                                int& task);

    probe::Child& process(int worker) { return workers_[static_cast<std::size_t>(worker)].child; }
    // Sends "stop" to every live worker and waits for them to exit.
    void shutdown();

  private:
    struct Worker {
        probe::Child child;
        int connection = -1;
        bool alive = true;
        int running = -1;                 // the task it is running, -1 when idle
        std::vector<std::size_t> pending; // its tasks not sent yet, in order
    };
    void send_next(int worker, const std::string& function,
                   const std::vector<std::vector<long>>& tuples);
    void handle_result(const std::string& message, std::vector<TaskOutcome>& outcomes,
                       int& outstanding, const std::string& function,
                       const std::vector<std::vector<long>>& tuples);
    [[noreturn]] void report_death(int worker);

    PoolOptions options_;
    std::vector<Worker> workers_;
    int listener_ = -1;
    int results_ = -1;
};

inline int bound_socket(int type, const char* path) {
    unlink(path);
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0); // no exec'd worker keeps a copy
    sockaddr_un address = address_of(path);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
        throw std::runtime_error(std::string("cannot bind ") + path + ": " + strerror(errno));
    return fd;
}

inline ProcessPool::ProcessPool(PoolOptions options) : options_(options) {
    results_ = bound_socket(SOCK_DGRAM, kResultSocket);
    listener_ = bound_socket(SOCK_STREAM, kTaskSocket);
    if (listen(listener_, options_.workers) != 0)
        throw std::runtime_error("listen failed");
    workers_.resize(static_cast<std::size_t>(options_.workers));
    // Every worker is started before any connection is accepted: a worker made by fork copies
    // the parent's fds, and must not hold a copy of another worker's line.
    for (int k = 0; k < options_.workers; ++k)
        workers_[static_cast<std::size_t>(k)].child = probe::start_child(
            options_.method, kWorkerFunction,
            {{"worker", std::to_string(k)}, {"on_exception", to_string(options_.on_exception)}});
    for (int accepted = 0; accepted < options_.workers; ++accepted) {
        int connection = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC); // SYNC: a worker
        std::string hello;
        if (connection < 0 || !receive_framed(connection, hello))
            throw std::runtime_error("a pool worker did not connect");
        int k = std::stoi(hello.substr(hello.find(' ') + 1)); // "hello 2"
        workers_.at(static_cast<std::size_t>(k)).connection = connection;
    }
    note("pool: " + std::to_string(options_.workers) + " workers connected");
}

inline void ProcessPool::send_next(int worker, const std::string& function,
                                   const std::vector<std::vector<long>>& tuples) {
    Worker& w = workers_[static_cast<std::size_t>(worker)];
    if (w.pending.empty() || !w.alive)
        return;
    std::size_t task = w.pending.front();
    w.pending.erase(w.pending.begin());
    std::string message = "task " + std::to_string(task) + " " + function;
    for (long value : tuples[task])
        message += " " + std::to_string(value);
    w.running = static_cast<int>(task);
    note("pool: sent task " + std::to_string(task) + " to worker " + std::to_string(worker));
    send_framed(w.connection, message);
}

inline void ProcessPool::handle_result(const std::string& message,
                                       std::vector<TaskOutcome>& outcomes, int& outstanding,
                                       const std::string& function,
                                       const std::vector<std::vector<long>>& tuples) {
    std::istringstream fields(message.substr(0, message.find('\n')));
    std::string kind;
    int task = -1, worker = -1;
    fields >> kind >> task >> worker;
    if (task < 0 || task >= static_cast<int>(outcomes.size()) || worker < 0 ||
        worker >= options_.workers)
        return;
    if (kind == "started") {
        if (on_task_started)
            on_task_started(*this, worker, task);
        return;
    }
    TaskOutcome& outcome = outcomes[static_cast<std::size_t>(task)];
    if (kind == "result") {
        fields >> outcome.result;
    } else {
        fields >> outcome.error_type;
        outcome.error_message = message.substr(message.find('\n') + 1);
        note("pool: task " + std::to_string(task) + " raised " + outcome.error_type);
    }
    --outstanding;
    workers_[static_cast<std::size_t>(worker)].running = -1;
    send_next(worker, function, tuples);
}

inline std::vector<TaskOutcome> ProcessPool::starmap(const std::string& function,
                                                     const std::vector<std::vector<long>>& tuples) {
    std::vector<TaskOutcome> outcomes(tuples.size());
    int outstanding = static_cast<int>(tuples.size());
    for (std::size_t task = 0; task < tuples.size(); ++task)
        workers_[task % workers_.size()].pending.push_back(task); // dealt round-robin
    for (int k = 0; k < options_.workers; ++k)
        send_next(k, function, tuples);

    char buffer[4096];
    while (outstanding > 0) {
        if (options_.watch_workers) {
            // The shared result socket, and every live worker's own line, whose end-of-file
            // means that worker has died.
            std::vector<pollfd> fds{{results_, POLLIN, 0}};
            for (const Worker& w : workers_)
                fds.push_back({w.alive ? w.connection : -1, POLLIN, 0});
            if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) // SYNC: no timeout
                throw std::runtime_error("poll failed");
            // Results first: a worker's last messages are still queued when its line closes.
            if (!(fds[0].revents & POLLIN)) {
                for (std::size_t k = 1; k < fds.size(); ++k)
                    if (fds[k].revents)
                        report_death(static_cast<int>(k - 1));
                continue;
            }
        }
        // The naive pool blocks here with no timeout: nothing tells it a worker has gone.
        ssize_t n = recv(results_, buffer, sizeof buffer, 0); // SYNC: waits for any result
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw std::runtime_error(std::string("recv: ") + strerror(errno));
        handle_result(std::string(buffer, static_cast<std::size_t>(n)), outcomes, outstanding,
                      function, tuples);
    }
    return outcomes;
}

inline TaskOutcome
ProcessPool::first_completed(const std::vector<std::pair<std::string, std::vector<long>>>& tasks,
                             int& task) {
    if (tasks.size() > workers_.size())
        throw std::invalid_argument("first_completed: more tasks than workers");
    for (std::size_t k = 0; k < tasks.size(); ++k) {
        std::string message = "task " + std::to_string(k) + " " + tasks[k].first;
        for (long value : tasks[k].second)
            message += " " + std::to_string(value);
        workers_[k].running = static_cast<int>(k);
        note("pool: sent task " + std::to_string(k) + " to worker " + std::to_string(k));
        send_framed(workers_[k].connection, message);
    }
    char buffer[4096];
    for (;;) {
        ssize_t n = recv(results_, buffer, sizeof buffer, 0); // SYNC: the first message of any
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw std::runtime_error(std::string("recv: ") + strerror(errno));
        const std::string message(buffer, static_cast<std::size_t>(n));
        std::istringstream fields(message.substr(0, message.find('\n')));
        std::string kind;
        int worker = -1;
        fields >> kind >> task >> worker;
        if (kind != "result" && kind != "error")
            continue; // "started"
        TaskOutcome outcome;
        if (kind == "result") {
            fields >> outcome.result;
            note("pool: first outcome: task " + std::to_string(task) + " returned " +
                 std::to_string(outcome.result));
        } else {
            fields >> outcome.error_type;
            outcome.error_message = message.substr(message.find('\n') + 1);
            note("pool: first outcome: task " + std::to_string(task) + " raised " +
                 outcome.error_type);
        }
        return outcome;
    }
}

inline std::string describe_end(WaitStatus status) {
    if (status.killed())
        return "was " + status.text(); // "was killed by SIGKILL"
    if (status.exited())
        return status.text(); // "exited with code 3"
    return "ended";
}

inline void ProcessPool::report_death(int worker) {
    Worker& w = workers_[static_cast<std::size_t>(worker)];
    w.alive = false;
    close(w.connection);
    const WaitStatus status = w.child.wait(); // it has gone: this returns at once with how it ended
    std::string what =
        "worker " + std::to_string(worker) + " (pid " + std::to_string(w.child.pid()) + ") " +
        describe_end(status) +
        (w.running >= 0 ? " while running task " + std::to_string(w.running) : " while idle");
    note("pool: " + what);
    note("pool: broken: shutting down the other workers");
    shutdown();
    throw BrokenPool(what);
}

inline void ProcessPool::shutdown() {
    for (Worker& w : workers_) {
        if (!w.alive)
            continue;
        w.alive = false;
        send_framed(w.connection, "stop");
        w.child.wait(); // SYNC: it finishes the task it runs, reads "stop" and exits
        close(w.connection);
    }
    if (listener_ >= 0)
        close(listener_);
    if (results_ >= 0)
        close(results_);
    listener_ = results_ = -1;
    unlink(kTaskSocket);
    unlink(kResultSocket);
}

} // namespace forklore::pool
