// The worker half of the process pool in scenarios/support/process_pool.hpp: the computations a
// task can run, the wire format (framed messages on a stream, one datagram per result), and
// worker_main, the child function every pool worker runs.
#pragma once

#include "scenarios/support/worker_sockets.hpp"
#include "sim/probe/probe.hpp"
#include "sim/probe/start.hpp"

#include <cxxabi.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

namespace forklore::pool {

inline const char* const kTaskSocket = "pool.sock";
inline const char* const kResultSocket = "results.sock";
inline const char* const kWorkerFunction = "pool_worker"; // register as a child function

inline void note(const std::string& text, CallSite site = {}) {
    probe::note(text.c_str(), site);
}

// --- The computations (the same code runs in the workers and, to check them, in the parent) --

// Primes in [low, high), by trial division: real work, slow enough to see on a timeline.
inline long count_primes(long low, long high) {
    if (high < low)
        throw std::invalid_argument("count_primes: the range [" + std::to_string(low) + ", " +
                                    std::to_string(high) + ") is reversed");
    long count = 0;
    for (long n = low < 2 ? 2 : low; n < high; ++n) {
        bool prime = true;
        for (long d = 2; d * d <= n && prime; ++d)
            prime = n % d != 0;
        count += prime;
    }
    return count;
}

// Primes below `high`, checked against a bound the caller believed: all the work first, then
// std::out_of_range when there are more than `at_most` (a task that fails late).
inline long count_primes_at_most(long high, long at_most) {
    const long count = count_primes(0, high);
    if (count > at_most)
        throw std::out_of_range("count_primes_at_most: " + std::to_string(count) +
                                " primes below " + std::to_string(high) + ", more than " +
                                std::to_string(at_most));
    return count;
}

// A task function by name: a name and numbers cross a process boundary, a pointer does not.
inline long compute(const std::string& function, const std::vector<long>& args) {
    if (function == "count_primes_below" && args.size() == 1)
        return count_primes(0, args[0]);
    if (function == "count_primes_at_most" && args.size() == 2)
        return count_primes_at_most(args[0], args[1]);
    if (function == "count_primes" && args.size() == 2)
        return count_primes(args[0], args[1]);
    throw std::invalid_argument("no task function " + function + " taking " +
                                std::to_string(args.size()) + " argument(s)");
}

// "std::invalid_argument", from the type the exception really has.
inline std::string type_name(const std::type_info& type) {
    int status = 0;
    char* readable = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
    std::string name = status == 0 && readable ? readable : type.name();
    std::free(readable);
    return name;
}

// --- Messages ---------------------------------------------------------------------------------

// Socket addresses, and whole-message send/read on a stream socket: one copy of each
// (worker_sockets.hpp, sim/probe/fd_io.hpp).
using fd_io::read_all;
using fd_io::send_all;
using worker_sockets::address_of;

// A stream carries messages as a 4-byte length and the text.
inline bool send_framed(int fd, const std::string& text) {
    std::uint32_t size = static_cast<std::uint32_t>(text.size());
    return send_all(fd, &size, sizeof size) && send_all(fd, text.data(), text.size());
}

inline bool receive_framed(int fd, std::string& text) {
    std::uint32_t size = 0;
    if (!read_all(fd, &size, sizeof size) || size > (1u << 20))
        return false;
    text.assign(size, '\0');
    return read_all(fd, text.data(), size);
}

// --- The worker process -------------------------------------------------------------------------

// What a worker does when a task throws.
enum class OnException {
    terminate, // nothing catches it: std::terminate, abort(), the worker dies by SIGABRT
    swallow,   // catch (...) and send a default result, as if nothing had happened
    propagate, // catch it and send its type and message back to the parent
};

inline OnException on_exception_from(const std::string& name) {
    if (name == "terminate")
        return OnException::terminate;
    if (name == "swallow")
        return OnException::swallow;
    return OnException::propagate;
}

inline const char* to_string(OnException policy) {
    switch (policy) {
    case OnException::terminate:
        return "terminate";
    case OnException::swallow:
        return "swallow";
    case OnException::propagate:
        return "propagate";
    }
    return "propagate";
}

// noexcept, like the body of a std::thread: an exception that reaches it calls std::terminate.
inline long compute_unguarded(const std::string& function, const std::vector<long>& args) noexcept {
    return compute(function, args);
}

// The child function every pool worker runs: connect, then run tasks until "stop" or until
// the parent's end closes.
inline int worker_main(const ChildArgs& args) {
    const std::string index = args.at("worker");
    const OnException policy = on_exception_from(args.at("on_exception"));
    const std::string name = "worker " + index;
    probe::set_thread_name(("worker" + index).c_str());

    int results = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int tasks = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un result_address = address_of(kResultSocket);
    sockaddr_un task_address = address_of(kTaskSocket);
    if (results < 0 || tasks < 0 ||
        connect(results, reinterpret_cast<sockaddr*>(&result_address), sizeof result_address) ||
        connect(tasks, reinterpret_cast<sockaddr*>(&task_address), sizeof task_address))
        return 3;
    if (!send_framed(tasks, "hello " + index))
        return 3;
    auto report = [&](const std::string& text) { send(results, text.data(), text.size(), 0); };

    std::string message;
    while (receive_framed(tasks, message)) { // SYNC: an idle worker waits here for a task
        if (message == "stop")
            return 0;
        std::istringstream fields(message); // "task 5 count_primes 100 500"
        std::string word, task, function;
        fields >> word >> task >> function;
        std::vector<long> task_args;
        for (long value; fields >> value;)
            task_args.push_back(value);

        note(name + ": started task " + task);
        report("started " + task + " " + index);
        if (policy == OnException::terminate) {
            report("result " + task + " " + index + " " +
                   std::to_string(compute_unguarded(function, task_args)));
            continue;
        }
        try {
            long value = compute(function, task_args);
            report("result " + task + " " + index + " " + std::to_string(value));
        } catch (const std::exception& error) {
            std::string type = type_name(typeid(error));
            if (policy == OnException::swallow) {
                note(name + ": task " + task + " raised " + type + ": swallowed, sending 0");
                report("result " + task + " " + index + " 0");
            } else {
                note(name + ": task " + task + " raised " + type + ": sending it to the parent");
                report("error " + task + " " + index + " " + type + "\n" + error.what());
            }
        }
    }
    return 0; // the parent closed our connection
}

} // namespace forklore::pool
