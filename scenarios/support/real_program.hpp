// What the scenarios that run a real, uninstrumented program share (the Python scenarios, the
// OpenMP runtimes of 086, numpy and OpenBLAS in 088): ending the body as a setup error that
// names what is missing, asking a program a question before the run (its version, which library
// it loads), and finding a program that the build put beside the sandbox host.
#pragma once

#include "sim/probe/probe.hpp"
#include "sim/protocol/wait_status.hpp"
#include "sim/sandbox/host.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace forklore {

// Ends the body the way the sandbox's own setup failures end (host.cpp, setup_failed): the
// runner sees the host's setup exit code with this line on stderr and reports a setup_error
// verdict whose explanation is `why`.
inline int setup_error(const std::string& why) {
    probe::note(why.c_str());
    fmt::print(stderr, "forklore-host: setup: {}\n", why);
    std::fflush(stderr);
    return kHostSetupErrorCode;
}

// What a program prints on stdout, trailing newlines cut, when it runs with exactly the
// environment `env` ("NAME=value" strings) and exits 0. A question asked before the run, by
// posix_spawn (never fork: the body may already have threads). Empty, with `error` set, when it
// cannot be run or does not exit 0.
inline std::string output_of(const std::vector<std::string>& argv,
                             const std::vector<std::string>& env, std::string& error) {
    int pipe_ends[2];
    if (pipe2(pipe_ends, O_CLOEXEC) != 0) {
        error = fmt::format("pipe: {}", std::strerror(errno));
        return {};
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], STDOUT_FILENO);
    std::vector<char*> argv_pointers;
    for (const auto& argument : argv)
        argv_pointers.push_back(const_cast<char*>(argument.c_str()));
    argv_pointers.push_back(nullptr);
    std::vector<char*> env_pointers;
    for (const auto& variable : env)
        env_pointers.push_back(const_cast<char*>(variable.c_str()));
    env_pointers.push_back(nullptr);
    pid_t pid = 0;
    int spawned = posix_spawn(&pid, argv.at(0).c_str(), &actions, nullptr, argv_pointers.data(),
                              env_pointers.data());
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_ends[1]);
    std::string answer;
    char buffer[256];
    for (ssize_t n; spawned == 0 && (n = read(pipe_ends[0], buffer, sizeof buffer)) != 0;) {
        if (n > 0)
            answer.append(buffer, static_cast<std::size_t>(n));
        else if (errno != EINTR)
            break;
    }
    close(pipe_ends[0]);
    if (spawned != 0) {
        error = fmt::format("cannot run {}: {}", argv.at(0), std::strerror(spawned));
        return {};
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    while (!answer.empty() && (answer.back() == '\n' || answer.back() == '\r'))
        answer.pop_back();
    if (!WaitStatus::from_raw(status).exited_ok()) {
        error = fmt::format("{} answered '{}' (wait status {:#x})", argv.at(0), answer, status);
        return {};
    }
    return answer;
}

// A program the build put in build/bin beside the sandbox host (and the CLI), by its name.
inline std::string program_beside_host(const std::string& name) {
    std::string host = own_executable_path();
    return host.substr(0, host.rfind('/') + 1) + name;
}

} // namespace forklore
