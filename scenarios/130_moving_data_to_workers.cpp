// 130 moving-data-to-workers — what it costs to hand a big buffer to a worker, five ways.
//
// What it shows: the main process holds `size_mib` MiB of data (a pattern, and its checksum) and
// a worker must read all of it and check it. The data can travel:
// - pipe: the raw bytes through a pipe (a FIFO in the working directory, so every start method
//   can open it), an 8-byte length prefix then the bytes. Two copies (into the pipe, out of it)
//   and the worker's own buffer to fault in: the transport multiprocessing uses for arguments,
//   but without serialising: the bytes are sent as they are, so pickling's own cost (walking
//   the objects, building the pickle, and rebuilding them in the worker) is not measured here.
// - file: written to a file (the working directory is a tmpfs, so "disk" is memory here), whose
//   path is given to the worker, which reads it into its own buffer. Also two copies.
// - shm: copied once into a memfd (anonymous shared memory); the worker maps the same pages and
//   reads them in place. A fresh program (fork_exec, spawn) inherits the fd and gets its number;
//   a forkserver child never had it, so the fd is sent over a Unix socket (SCM_RIGHTS), as
//   Python's forkserver passes fds.
// - cow: fork() alone: the child sees the parent's buffer at the same address, and since it only
//   reads, no page is copied at all; fork copies page tables, not data. With fork_exec or spawn
//   (a fresh program) or forkserver (forked before the data existed) the worker finds no data.
// - threads: a thread of the same process reads the buffer: no copy, no new process.
//
// What to look for: the measurements: `handover_ms` (from the first step of the hand-over to
// the worker's check passing, worker start included), `throughput` and `start_ms` (the time to
// make the worker: for fork it grows with the parent's page tables, which huge pages keep
// small). The verdict only says that the data arrived intact (the worker's checksum equals the
// parent's).
//
// Variants: each transport at 1 MiB and at 512 MiB; file and shm with spawn and shm with
// forkserver at 64 MiB; cow with spawn (the worker finds no data: failed).
//
// Index of this file:
// [SECTION] The data, and the check every transport ends with
// [SECTION] The worker: receiving the data
// [SECTION] The main process: handing the data over
// [SECTION] The lesson, its knobs and its variants
#include "scenarios/support/data_transfer.hpp"
#include "scenarios/support/worker_sockets.hpp"
#include "sim/probe/fd_io.hpp"
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"
#include "sim/scenario/scenario.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <string>

// [SECTION] The data, and the check every transport ends with -------------------------------------

namespace {

using namespace forklore;
namespace dt = forklore::data_transfer;
namespace ws = forklore::worker_sockets;

const char* const kFifo = "handover.fifo";
const char* const kDataFile = "handover.bin";
const char* const kFdSocket = "handover.sock";

// The parent's data. Static, so a forked child finds the same pointer (and, through
// copy-on-write, the same pages); a fresh program or a forkserver child finds null.
const char* g_buffer = nullptr;
std::size_t g_buffer_size = 0;

void note(const std::string& text, CallSite site = {}) {
    probe::note(text.c_str(), site);
}

// The check every transport ends with: the worker's view of the data against the parent's sum.
int verify(const char* data, std::size_t bytes, const ChildArgs& args, const char* who) {
    const std::size_t expected_size = std::stoull(args.at("size"));
    const std::string expected_sum = args.at("checksum");
    const std::string sum = dt::hex(dt::checksum_of(data, bytes));
    if (bytes != expected_size || sum != expected_sum) {
        note(std::string(who) + ": MISMATCH: " + std::to_string(bytes) + " bytes, checksum " + sum +
             ", expected " + std::to_string(expected_size) + " bytes, " + expected_sum);
        return 1;
    }
    note(std::string(who) + ": checked " + std::to_string(bytes >> 20) + " MiB, checksum " + sum);
    return 0;
}

// [SECTION] The worker: receiving the data --------------------------------------------------------

// --- Passing an fd to a process that did not inherit it ---------------------------------------

// The worker connects to the main process's socket and receives a duplicate of the fd there.
int receive_fd(const char* socket_path) {
    int socket_fd = ws::connect_to(socket_path);
    if (socket_fd < 0)
        return -1;
    int fd = ws::receive_fd(socket_fd);
    close(socket_fd);
    return fd;
}

// --- The worker: one receiving side per transport ---------------------------------------------

int receive_by_pipe(const ChildArgs& args) {
    int fd = open(kFifo, O_RDONLY | O_CLOEXEC); // SYNC: meets the main process's open for writing
    std::uint64_t length = 0;
    if (fd < 0 || fd_io::read_full(fd, &length, sizeof length) != sizeof length)
        return 2;
    dt::BigBuffer buffer(length); // the deserialised copy the worker will use
    if (!buffer)
        return 2;
    long long got = fd_io::read_full(fd, buffer.data(), length);
    close(fd);
    return verify(buffer.data(), got < 0 ? 0 : static_cast<std::size_t>(got), args, "worker");
}

int receive_by_file(const ChildArgs& args) {
    int fd = open(args.at("path").c_str(), O_RDONLY | O_CLOEXEC);
    struct stat info {};
    if (fd < 0 || fstat(fd, &info) != 0)
        return 2;
    dt::BigBuffer buffer(static_cast<std::size_t>(info.st_size));
    if (!buffer)
        return 2;
    long long got = fd_io::read_full(fd, buffer.data(), buffer.size());
    close(fd);
    return verify(buffer.data(), got < 0 ? 0 : static_cast<std::size_t>(got), args, "worker");
}

int receive_by_shared_memory(const ChildArgs& args) {
    int fd = args.count("fd") ? std::stoi(args.at("fd")) : receive_fd(kFdSocket);
    struct stat info {};
    if (fd < 0 || fstat(fd, &info) != 0)
        return 2;
    const auto bytes = static_cast<std::size_t>(info.st_size);
    // MAP_POPULATE maps every page in one pass: the worker reads them all anyway, and one pass
    // costs far less than 131072 separate page faults for 512 MiB.
    void* data = mmap(nullptr, bytes, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (data == MAP_FAILED)
        return 2;
    int rc = verify(static_cast<const char*>(data), bytes, args, "worker");
    munmap(data, bytes);
    close(fd);
    return rc;
}

int receive_by_copy_on_write(const ChildArgs& args) {
    if (!g_buffer) {
        note("worker: no data in this process: a fresh program (fork_exec, spawn) or a forkserver "
             "child forked before the data existed does not share the parent's memory");
        return 1;
    }
    return verify(g_buffer, g_buffer_size, args, "worker"); // reads the parent's pages in place
}

int worker_check(const ChildArgs& args) {
    const std::string& transport = args.at("transport");
    if (transport == "pipe")
        return receive_by_pipe(args);
    if (transport == "file")
        return receive_by_file(args);
    if (transport == "shm")
        return receive_by_shared_memory(args);
    return receive_by_copy_on_write(args);
}

// [SECTION] The main process: handing the data over -----------------------------------------------

// --- The main process: one handing-over side per transport ------------------------------------

int exit_code(WaitStatus status) {
    return status.exited() ? status.exit_code() : 128;
}

// Starts the worker and measures how long making it took: for fork, copying the page tables of
// a parent that holds the data; for spawn, starting a fresh program.
probe::Child start_worker(StartMethod method, const ChildArgs& args) {
    const double start = dt::now_ms();
    probe::Child child = probe::start_child(method, "check", args);
    probe::measure("start_ms", dt::now_ms() - start, "ms");
    return child;
}

int hand_over_by_pipe(StartMethod method, const ChildArgs& args) {
    unlink(kFifo);
    if (mkfifo(kFifo, 0600) != 0)
        return 2;
    probe::Child child = start_worker(method, args);
    int fd = open(kFifo, O_WRONLY | O_CLOEXEC); // SYNC: waits until the worker opens it to read
    dt::widen_pipe(fd);
    const std::uint64_t length = g_buffer_size;
    bool sent = fd >= 0 && fd_io::write_all(fd, &length, sizeof length) &&
                fd_io::write_all(fd, g_buffer, g_buffer_size);
    if (fd >= 0)
        close(fd); // the worker sees the end of the stream
    const WaitStatus status = child.wait();
    return sent ? exit_code(status) : 2;
}

int hand_over_by_file(StartMethod method, ChildArgs args) {
    int fd = open(kDataFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool written = fd >= 0 && fd_io::write_all(fd, g_buffer, g_buffer_size);
    if (fd >= 0)
        close(fd);
    if (!written) {
        note("main: could not write " + std::string(kDataFile) + ": " + strerror(errno));
        return 2;
    }
    args["path"] = kDataFile;
    return exit_code(start_worker(method, args).wait());
}

int hand_over_by_shared_memory(StartMethod method, ChildArgs args) {
    const bool inherited = method != StartMethod::forkserver;
    // Without MFD_CLOEXEC the fd survives exec: fork_exec and spawn children find it by number.
    int memfd = memfd_create("handover", inherited ? 0 : MFD_CLOEXEC);
    if (memfd < 0 || !fd_io::write_all(memfd, g_buffer, g_buffer_size))
        return 2; // the one copy
    if (inherited) {
        args["fd"] = std::to_string(memfd);
        int rc = exit_code(start_worker(method, args).wait());
        close(memfd);
        return rc;
    }
    // The forkserver's child is a copy of a server that never had this fd: send it one.
    int listener = ws::listen_at(kFdSocket, 1);
    if (listener < 0)
        return 2;
    probe::Child child = start_worker(method, args);
    int connection = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC); // SYNC: the worker asks
    bool sent = connection >= 0 && ws::send_fd(connection, memfd);
    if (connection >= 0)
        close(connection);
    close(listener);
    close(memfd);
    const WaitStatus status = child.wait();
    return sent ? exit_code(status) : 2;
}

int run(ScenarioContext& context) {
    const std::string transport = context.knob("transport");
    const StartMethod method = context.method("start_method");
    const std::size_t size = static_cast<std::size_t>(context.integer("size_mib")) * dt::kMiB;
    signal(SIGPIPE, SIG_IGN); // a worker that dies early makes write() fail, not kill us

    dt::BigBuffer buffer(size);
    if (!buffer)
        return 2;
    const std::uint64_t checksum = dt::fill_pattern_and_sum(buffer.data(), size);
    g_buffer = buffer.data();
    g_buffer_size = size;
    const ChildArgs args = {
        {"transport", transport}, {"size", std::to_string(size)}, {"checksum", dt::hex(checksum)}};
    note("main: " + std::to_string(size >> 20) + " MiB ready, checksum " + args.at("checksum") +
         "; handing it over by " + transport);

    const double start = dt::now_ms();
    int rc = 0;
    if (transport == "threads") {
        probe::Thread reader("reader",
                             [&] { rc = verify(g_buffer, g_buffer_size, args, "reader"); });
        reader.join();
    } else if (transport == "pipe") {
        rc = hand_over_by_pipe(method, args);
    } else if (transport == "file") {
        rc = hand_over_by_file(method, args);
    } else if (transport == "shm") {
        rc = hand_over_by_shared_memory(method, args);
    } else {
        rc = exit_code(start_worker(method, args).wait()); // cow: fork is the copy
    }
    const double elapsed_ms = dt::now_ms() - start;
    if (rc != 0) {
        note("main: the worker did not get the data intact (code " + std::to_string(rc) + ")");
        return 1;
    }
    probe::measure("handover_ms", elapsed_ms, "ms");
    probe::measure("throughput", static_cast<double>(size >> 20) / (elapsed_ms / 1e3), "MiB/s");
    probe::measure("size", static_cast<double>(size >> 20), "MiB");
    return 0;
}

// [SECTION] The lesson, its knobs and its variants ------------------------------------------------

Scenario describe() {
    Scenario s;
    s.id = "moving-data-to-workers";
    s.group = "moving data";
    s.title = "Handing a big buffer to a worker: pipe, file, shared memory, fork, thread";
    s.lesson =
        "A worker needs the parent's data. Sent through a pipe or written to a file, the data is "
        "copied twice and the worker fills a buffer of its own: the time grows with the size. In "
        "shared memory (a memfd) it is copied once and the worker maps the same pages; that one "
        "copy into fresh shared pages is not cheap, so shared memory pays off most when the data "
        "is made there in the first place or read by many workers. A forked child reads the "
        "parent's pages in place through copy-on-write, without copying a byte, but only with "
        "fork: a fresh program (spawn, fork_exec) or a forkserver child finds no data. A thread "
        "needs no copy and no new process at all. Compare handover_ms at 1 MiB, where starting the "
        "worker dominates, and at 512 MiB, where copying does. The pipe carries raw bytes: "
        "Python's multiprocessing pays the same two copies plus pickling and unpickling, which "
        "this scenario does not.";
    s.knobs = {
        Knob::choice("transport", "pipe", {"pipe", "file", "shm", "cow", "threads"},
                     "How the data reaches the worker."),
        Knob::integer("size_mib", 1, 1, 512, "How much data, in MiB."),
        start_method_knob("start_method", StartMethod::fork,
                          "How the worker process is made (not used by threads)."),
    };
    const auto at = [](const char* transport, const char* mib, const char* method = "fork") {
        return KnobValues{{"transport", transport}, {"size_mib", mib}, {"start_method", method}};
    };
    const auto done = Expectation::completes();
    // The copies are the lesson: 1.0 s (shm) to 3.7 s (pipe, file) a run, two at a time on the
    // 2-core machine. Inheriting or sharing 512 MiB copies nothing and stays quick.
    const auto copies_512mib = done.slow("copies 512 MiB: a second or more");
    s.variants = {
        {"pipe_1mib", "1 MiB through a pipe", at("pipe", "1"), done},
        {"pipe_512mib", "512 MiB through a pipe: two copies and a new buffer", at("pipe", "512"),
         copies_512mib},
        {"file_1mib", "1 MiB through a file", at("file", "1"), done},
        {"file_512mib", "512 MiB through a file on tmpfs", at("file", "512"), copies_512mib},
        {"shm_1mib", "1 MiB in a memfd", at("shm", "1"), done},
        {"shm_512mib", "512 MiB in a memfd: one copy, read in place", at("shm", "512"),
         copies_512mib},
        {"cow_1mib", "1 MiB inherited by fork", at("cow", "1"), done},
        {"cow_512mib", "512 MiB inherited by fork: no copy, only page tables", at("cow", "512"),
         done},
        {"threads_1mib", "1 MiB read by a thread", at("threads", "1"), done},
        {"threads_512mib", "512 MiB read by a thread: no copy at all", at("threads", "512"), done},
        // Other start methods, at 64 MiB to keep the corpus fast: the same data has to find
        // its way into a fresh program and into a forkserver's child.
        {"file_spawn_64mib", "64 MiB through a file to a spawned worker", at("file", "64", "spawn"),
         done},
        {"shm_spawn_64mib", "64 MiB memfd inherited by number by a spawned worker",
         at("shm", "64", "spawn"), done},
        {"shm_forkserver_64mib", "64 MiB memfd sent over a Unix socket to a forkserver worker",
         at("shm", "64", "forkserver"), done},
        {"cow_spawn", "copy-on-write needs fork: a spawned worker finds no data",
         at("cow", "1", "spawn"), Expectation::ends_as(VerdictKind::failed)},
    };
    s.body = run;
    s.children = {{"check", worker_check}};
    s.timeout_seconds = 20.0;
    // The file transport writes up to 512 MiB: RLIMIT_FSIZE, and the working directory's tmpfs
    // (the sandbox sizes it by the same limit), must allow that and a little more.
    s.limits.max_file_size = 640ULL << 20;
    return s;
}

const ScenarioRegistrar registrar{describe()};

} // namespace
