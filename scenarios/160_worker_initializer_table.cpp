// 160 worker-initializer-table — how a big read-only table reaches the workers of a pool.
//
// What it shows: every task of a pool needs the same large lookup table (table_mib MiB). There
// are three ways to get it to the workers, and the pool below does each for real:
// - per_task: the table is an argument of every task, so it is serialised ("pickled": copied
//   into a message), sent over the worker's socket and deserialised (copied again) for EVERY
//   task, as a pool that pickles each task's arguments does;
// - per_worker: an initializer sends it once to each worker when the worker starts; the tasks
//   then carry only their number (Python's Pool pickles initargs like this for spawn and
//   forkserver workers; a forked worker finds them in its copy of the parent's memory);
// - inherited: the parent built the table before the workers existed; a forked worker reads it
//   in its copy-on-write copy of the parent's memory, and nothing is sent at all. Only fork can
//   do that: a fresh program (fork_exec, spawn) and a forkserver worker (a copy of a server
//   forked before the table existed) have no table, and the worker says so and fails.
// Each task looks up a few thousand entries and returns their sum; the main process checks
// every result against its own table, so a run completes only if every task saw the right table.
//
// What to look for: the measurements. bytes_moved is tasks x table for per_task, workers x table
// for per_worker and (almost) zero for inherited; total_ms and per_task_ms follow. The timeline
// shows the main process busy serialising and sending while the workers wait.
//
// Variants: fork_per_task, fork_per_worker, fork_inherited, spawn_per_task, spawn_per_worker,
// forkserver_per_worker, spawn_inherited (fails: nothing to inherit).
//
// Index of this file:
// [SECTION] The messages and the table: built, looked up, pickled
// [SECTION] The worker: the table per task, per worker, or inherited
// [SECTION] The scenario's main: the pool and its map
// [SECTION] The lesson, its knobs and its variants
#include "scenarios/support/worker_sockets.hpp"
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

// [SECTION] The messages and the table: built, looked up, pickled ---------------------------------

namespace {

using namespace forklore;
using namespace forklore::worker_sockets;

const char* const kPoolSocket = "pool.sock";
constexpr std::uint32_t kLookupsPerTask = 20000;

// Every message starts with this header; `bytes` of serialised table follow init and task
// messages that carry one. For hello, `task` is the worker's id; for result, `bytes` the sum.
enum Kind : std::uint32_t { hello, init, task, result, stop };
struct Header {
    std::uint32_t kind = 0;
    std::uint32_t task = 0;
    std::uint64_t bytes = 0;
};

using Table = std::vector<std::uint64_t>;

// The module-level table the parent builds before it starts the pool. A forked worker finds it
// in its copy of the parent's memory (copy-on-write: shared pages until somebody writes).
Table g_table;

void note(const std::string& text, CallSite site = {}) {
    probe::note(text.c_str(), site);
}

double now_ms() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

std::uint64_t mix(std::uint64_t z) { // splitmix64
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

Table build_table(std::size_t mib) {
    Table table(mib * 1024 * 1024 / sizeof(std::uint64_t));
    for (std::size_t i = 0; i < table.size(); ++i)
        table[i] = mix(i);
    return table;
}

// One small task: look up scattered entries and sum them.
std::uint64_t run_task(const Table& table, std::uint32_t number) {
    std::uint64_t sum = 0;
    std::uint64_t index = mix(number);
    for (std::uint32_t j = 0; j < kLookupsPerTask; ++j) {
        index = index * 6364136223846793005ULL + 1442695040888963407ULL;
        sum += table[(index >> 17) % table.size()];
    }
    return sum;
}

// "Pickling": the table copied into a message of its own, as pickle.dumps copies an array.
std::vector<char> serialise(const Table& table) {
    std::vector<char> message(table.size() * sizeof(std::uint64_t));
    std::memcpy(message.data(), table.data(), message.size());
    return message;
}

// Reads `bytes` of serialised table from `fd` and "unpickles" it (a second copy).
bool receive_table(int fd, std::uint64_t bytes, Table& table) {
    std::vector<char> message(bytes);
    if (!read_all(fd, message.data(), message.size()))
        return false; // SYNC: the whole table
    table.resize(bytes / sizeof(std::uint64_t));
    std::memcpy(table.data(), message.data(), table.size() * sizeof(std::uint64_t));
    return true;
}

// [SECTION] The worker: the table per task, per worker, or inherited ------------------------------

// --- The worker process -----------------------------------------------------------------------

int table_worker(const ChildArgs& args) {
    const std::uint32_t id = static_cast<std::uint32_t>(std::stoul(args.at("id")));
    const std::string& pass_table = args.at("pass_table");
    const std::string who = "worker " + std::to_string(id);
    int pool = connect_to(kPoolSocket);
    if (pool < 0 || !send_message(pool, Header{hello, id, 0}))
        return 2;

    Table own_table; // per_worker: filled once by the initializer; per_task: again for each task
    const Table* table = &own_table;
    if (pass_table == "per_worker") {
        Header header;
        if (!receive_message(pool, header) || header.kind != init)
            return 2;
        if (!receive_table(pool, header.bytes, own_table))
            return 2; // the initializer
        note(who + ": initializer received the table once (" + std::to_string(header.bytes) +
             " bytes)");
    } else if (pass_table == "inherited") {
        if (g_table.empty()) {
            // A fresh program, or a copy of a forkserver made before the table existed.
            probe::print(stderr, (who + ": no table here: I am not a fork of the parent that "
                                        "built it")
                                     .c_str());
            return 3;
        }
        table = &g_table; // nothing received: the parent's pages, shared copy-on-write
        note(who + ": reading the parent's table in my copy-on-write memory");
    }

    long done = 0;
    for (Header header; receive_message(pool, header) && header.kind == task;) { // SYNC: next task
        if (header.bytes > 0 && !receive_table(pool, header.bytes, own_table))
            return 2;
        if (table->empty())
            return 2;
        if (!send_message(pool, Header{result, header.task, run_task(*table, header.task)}))
            return 2;
        ++done;
    }
    note(who + ": ran " + std::to_string(done) + " tasks");
    return 0;
}

// [SECTION] The scenario's main: the pool and its map ---------------------------------------------

// --- The main process -------------------------------------------------------------------------

struct Pool {
    std::vector<int> line; // the socket to each worker, by id
    std::uint64_t bytes_moved = 0;

    bool send(int worker, Header header, const std::vector<char>* table) {
        header.bytes = table ? table->size() : 0;
        bytes_moved += sizeof header + header.bytes;
        return send_message(line[worker], header) &&
               (!table || send_all(line[worker], table->data(), table->size()));
    }
    // per_task: the table is pickled again for every task, as each task's arguments are.
    bool send_task(int worker, std::uint32_t number, bool with_table) {
        if (!with_table)
            return send(worker, Header{task, number, 0}, nullptr);
        const std::vector<char> pickled = serialise(g_table);
        return send(worker, Header{task, number, 0}, &pickled);
    }
};

int run(ScenarioContext& context) {
    const StartMethod method = context.method("start_method");
    const std::string pass_table = context.knob("pass_table");
    const int workers = static_cast<int>(context.integer("workers"));
    const std::uint32_t tasks = static_cast<std::uint32_t>(context.integer("tasks"));

    double start = now_ms();
    g_table = build_table(static_cast<std::size_t>(context.integer("table_mib")));
    probe::measure("table_build_ms", now_ms() - start, "ms");
    note("main: built a " + context.knob("table_mib") + " MiB table; starting the pool");

    start = now_ms();
    int listener = listen_at(kPoolSocket);
    if (listener < 0)
        return 2;
    std::vector<probe::Child> children;
    for (int w = 0; w < workers; ++w)
        children.push_back(probe::start_child(
            method, "table_worker", {{"id", std::to_string(w)}, {"pass_table", pass_table}}));
    Pool pool;
    pool.line.assign(workers, -1);
    for (int w = 0; w < workers; ++w) {
        int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC); // SYNC: a worker connects
        Header header;
        if (fd < 0 || !receive_message(fd, header) || header.task >= std::uint32_t(workers))
            return 2;
        pool.line[header.task] = fd;
    }
    const double startup_ms = now_ms() - start;

    start = now_ms();
    if (pass_table == "per_worker")
        for (int w = 0; w < workers; ++w) {
            const std::vector<char> pickled = serialise(g_table); // each worker's initargs
            if (!pool.send(w, Header{init, 0, 0}, &pickled))
                return 2;
        }
    const double init_ms = now_ms() - start;

    // Map: one task to each worker, then the next task to whichever worker answers.
    start = now_ms();
    const bool with_table = pass_table == "per_task";
    std::uint32_t next = 0, received = 0, wrong = 0;
    std::vector<pollfd> watched;
    for (int w = 0; w < workers; ++w)
        watched.push_back({pool.line[w], POLLIN, 0});
    for (int w = 0; w < workers && next < tasks; ++w)
        if (!pool.send_task(w, next++, with_table))
            break; // a dead worker: poll will say so
    while (received < tasks) {
        if (poll(watched.data(), watched.size(), -1) < 0)
            continue; // SYNC: waits for results
        bool worker_gone = false;
        for (int w = 0; w < workers; ++w) {
            if (!watched[w].revents)
                continue;
            Header answer;
            if (!receive_message(pool.line[w], answer) || answer.kind != result) {
                worker_gone = true; // it failed: its status says why
                break;
            }
            ++received;
            wrong += answer.bytes != run_task(g_table, answer.task); // checked against my table
            if (next < tasks)
                pool.send_task(w, next++, with_table);
        }
        if (worker_gone)
            break;
    }
    const double map_ms = now_ms() - start;
    for (int w = 0; w < workers; ++w)
        pool.send(w, Header{stop, 0, 0}, nullptr);

    int failures = 0;
    for (auto& child : children) {
        const WaitStatus status = child.wait();
        failures += !status.exited_ok();
    }
    if (received < tasks || wrong > 0 || failures > 0) {
        note("main: " + std::to_string(received) + " of " + std::to_string(tasks) + " results, " +
             std::to_string(wrong) + " wrong");
        return 1;
    }
    note("main: all " + std::to_string(tasks) + " results checked against the table");
    probe::measure("startup_ms", startup_ms, "ms");
    probe::measure("init_ms", init_ms, "ms");
    probe::measure("map_ms", map_ms, "ms");
    probe::measure("total_ms", startup_ms + init_ms + map_ms, "ms");
    probe::measure("per_task_ms", map_ms / tasks, "ms");
    probe::measure("bytes_moved", static_cast<double>(pool.bytes_moved), "bytes");
    return 0;
}

// [SECTION] The lesson, its knobs and its variants ------------------------------------------------

Scenario describe() {
    Scenario s;
    s.id = "worker-initializer-table";
    s.group = "workers and their resources";
    s.title = "A big lookup table: sent with every task, once per worker, or inherited";
    s.lesson =
        "Every task of a pool needs the same large read-only table. Passed as a task argument, "
        "it is serialised, sent and deserialised for every task: the pool spends its time "
        "copying the table, not working. An initializer that sends it once to each worker moves "
        "it only once per worker. A forked worker can simply read the table the parent built "
        "before the pool started: copy-on-write shares the pages and nothing is sent at all. "
        "That last way exists only for fork: a fresh program or a forkserver worker has no "
        "table to inherit, and needs the initializer (or shared memory).";
    s.knobs = {
        start_method_knob("start_method", StartMethod::fork, "How the worker processes are made."),
        Knob::choice(
            "pass_table", "per_task", {"per_task", "per_worker", "inherited"},
            "per_task: sent with every task; per_worker: sent once by an initializer; inherited: "
            "read from the parent's memory (fork only)."),
        Knob::integer("table_mib", 8, 1, 256, "Size of the lookup table in MiB."),
        Knob::integer("workers", 2, 1, 8, "How many worker processes."),
        Knob::integer("tasks", 16, 1, 256, "How many small tasks the pool runs."),
    };
    s.variants = {
        {"fork_per_task",
         "fork: the table is pickled and sent with every task",
         {},
         Expectation::completes()},
        {"fork_per_worker",
         "fork: an initializer sends the table once to each worker",
         {{"pass_table", "per_worker"}},
         Expectation::completes()},
        {"fork_inherited",
         "fork: the workers read the parent's table, nothing is sent",
         {{"pass_table", "inherited"}},
         Expectation::completes()},
        {"spawn_per_task",
         "spawn: the table is sent with every task",
         {{"start_method", "spawn"}},
         Expectation::completes()},
        {"spawn_per_worker",
         "spawn: an initializer sends the table once to each worker",
         {{"start_method", "spawn"}, {"pass_table", "per_worker"}},
         Expectation::completes()},
        {"forkserver_per_worker",
         "forkserver: an initializer sends the table once per worker",
         {{"start_method", "forkserver"}, {"pass_table", "per_worker"}},
         Expectation::completes()},
        {"spawn_inherited",
         "spawn: a fresh program has no table to inherit; the workers fail",
         {{"start_method", "spawn"}, {"pass_table", "inherited"}},
         Expectation::ends_as(VerdictKind::failed)},
    };
    s.body = run;
    s.children = {{"table_worker", table_worker}};
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
