#include "sim/probe/exec_program.hpp"

#include "sim/probe/probe.hpp"
#include "sim/probe/step_point.hpp"
#include "sim/protocol/schedule_board.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string_view>

extern char** environ;

namespace forklore::probe {

namespace {

// The current environment with `overrides` applied, as "NAME=value" strings in a stable order
// (the inherited variables first, in their order, then the new ones).
std::vector<std::string>
merged_environment(const std::vector<std::pair<std::string, std::string>>& overrides) {
    std::map<std::string, std::string> replaced;
    for (const auto& [name, value] : overrides)
        replaced[name] = value;
    std::vector<std::string> result;
    for (char** entry = environ; entry && *entry; ++entry) {
        std::string_view text(*entry);
        std::string name(text.substr(0, text.find('=')));
        auto it = replaced.find(name);
        if (it == replaced.end()) {
            result.emplace_back(text);
        } else {
            result.push_back(name + "=" + it->second);
            replaced.erase(it);
        }
    }
    for (const auto& [name, value] : overrides)
        if (replaced.count(name)) {
            result.push_back(name + "=" + value);
            replaced.erase(name);
        }
    return result;
}

std::string variable(const std::vector<std::string>& environment, std::string_view name) {
    for (const auto& entry : environment)
        if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
            entry[name.size()] == '=')
            return entry.substr(name.size() + 1);
    return {};
}

std::vector<char*> pointers_to(std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    for (auto& s : strings)
        pointers.push_back(s.data());
    pointers.push_back(nullptr);
    return pointers;
}

// execve of `file` searched in `path` like execvp: the first directory where it can be
// executed wins; the error reported is EACCES when some candidate existed but could not be run,
// else the last error. Returns only on failure, with errno set.
void exec_searching(const std::string& file, const std::string& path, char* const argv[],
                    char* const envp[]) {
    bool denied = false;
    int last_error = ENOENT;
    std::string_view directories =
        path.empty() ? std::string_view("/usr/local/bin:/usr/bin:/bin") : std::string_view(path);
    for (std::size_t begin = 0; begin <= directories.size();) {
        std::size_t end = directories.find(':', begin);
        if (end == std::string_view::npos)
            end = directories.size();
        std::string_view directory = directories.substr(begin, end - begin);
        // An empty entry means the current directory, as POSIX says.
        std::string candidate =
            (directory.empty() ? std::string(".") : std::string(directory)) + "/" + file;
        execve(candidate.c_str(), argv, envp);
        if (errno == EACCES)
            denied = true;
        else if (errno != ENOENT && errno != ENOTDIR)
            last_error = errno;
        begin = end + 1;
    }
    errno = denied ? EACCES : last_error;
}

// One line on stderr and a note in the trace; 127 as a shell reports a command it cannot run.
int report_failure(const std::string& program, const std::string& why, CallSite site) {
    std::string text = fmt::format("cannot run '{}': {}", program, why);
    note(text.c_str(), site);
    fmt::print(stderr, "forklore: {}\n", text);
    std::fflush(stderr);
    return 127;
}

} // namespace

int exec_program(const std::vector<std::string>& argv,
                 const std::vector<std::pair<std::string, std::string>>& env, CallSite site) {
    if (argv.empty() || argv.front().empty())
        return report_failure("", "no program given", site);
    std::vector<std::string> arguments = argv;
    std::vector<std::string> environment = merged_environment(env);
    std::vector<char*> argument_pointers = pointers_to(arguments);
    std::vector<char*> environment_pointers = pointers_to(environment);

    std::string command = fmt::format("{}", fmt::join(argv, " "));
    record(EventKind::exec, 0, 0, 0, argv.front().c_str(), command.c_str(), site);
    // stdio buffers die with the process image: what the body printed must go out first.
    std::fflush(nullptr);

    // The channel fd stays open for the host's own exec'd children (they attach by number); an
    // uninstrumented program must not inherit it (it would hold the run's shared memory, and a
    // program that lists or closes its fds would find a stranger).
    // So does a stepped run's schedule board.
    Channel* channel = installed_channel();
    const ScheduleBoard* board = installed_board();
    const int shared_fds[2] = {channel ? channel->fd() : -1, board ? board->fd() : -1};
    int shared_flags[2] = {-1, -1};
    for (int i = 0; i < 2; ++i) {
        shared_flags[i] = shared_fds[i] >= 0 ? fcntl(shared_fds[i], F_GETFD) : -1;
        if (shared_flags[i] >= 0)
            fcntl(shared_fds[i], F_SETFD, shared_flags[i] | FD_CLOEXEC);
    }

    const std::string& program = argv.front();
    if (program.find('/') != std::string::npos)
        execve(program.c_str(), argument_pointers.data(), environment_pointers.data());
    else
        exec_searching(program, variable(environment, "PATH"), argument_pointers.data(),
                       environment_pointers.data());
    int error = errno;
    for (int i = 0; i < 2; ++i)
        if (shared_flags[i] >= 0)
            fcntl(shared_fds[i], F_SETFD, shared_flags[i]);
    return report_failure(program, std::strerror(error), site);
}

std::vector<std::string> paths_to_keep_visible(const std::string& cwd,
                                               const std::vector<std::string>& argv) {
    std::vector<std::string> candidates = {cwd};
    for (const auto& argument : argv) {
        if (argument.empty())
            continue;
        candidates.push_back(argument.front() == '/' ? argument : cwd + "/" + argument);
    }
    std::vector<std::string> visible;
    for (const auto& candidate : candidates) {
        char resolved[PATH_MAX];
        if (!realpath(candidate.c_str(), resolved))
            continue;
        std::string path = resolved;
        if (path.rfind("/tmp/", 0) != 0)
            continue;
        if (std::find(visible.begin(), visible.end(), path) == visible.end())
            visible.push_back(path);
    }
    return visible;
}

std::string encode_argv(const std::vector<std::string>& argv) {
    return nlohmann::json(argv).dump();
}

std::optional<std::vector<std::string>> decode_argv(const std::string& text) {
    nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
    if (!parsed.is_array())
        return std::nullopt;
    std::vector<std::string> argv;
    for (const auto& item : parsed) {
        if (!item.is_string())
            return std::nullopt;
        argv.push_back(item.get<std::string>());
    }
    return argv;
}

} // namespace forklore::probe
