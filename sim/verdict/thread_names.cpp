#include "sim/verdict/thread_names.hpp"

#include <fmt/format.h>

#include <string_view>

namespace forklore {

namespace {

// The kernel keeps 15 characters of a comm.
constexpr std::size_t kCommLength = 15;

std::string_view base_name(std::string_view path) {
    const auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view as_comm(std::string_view name) {
    return name.substr(0, kCommLength);
}

} // namespace

bool has_program_name_only(const ProcessSnapshot& process, const ThreadSnapshot& thread) {
    if (thread.name.empty())
        return false;
    const std::string_view comm = as_comm(thread.name);
    if (!process.exe.empty() && comm == as_comm(base_name(process.exe)))
        return true;
    const std::string_view command = process.command;
    const std::string_view first_word = command.substr(0, command.find(' '));
    return !first_word.empty() && comm == as_comm(base_name(first_word));
}

std::string readable_thread_name(const ProcessSnapshot& process, const ThreadSnapshot& thread) {
    if (process.infrastructure || !has_program_name_only(process, thread))
        return thread.name;
    return thread.ns_tid == process.ns_pid ? std::string("main")
                                           : fmt::format("thread {}", thread.ns_tid);
}

Snapshot with_python_thread_names(Snapshot snapshot, const std::vector<ThreadStack>& stacks) {
    for (auto& process : snapshot.processes)
        for (auto& thread : process.threads) {
            if (process.infrastructure || !has_program_name_only(process, thread))
                continue;
            for (const auto& stack : stacks)
                if (stack.tid == thread.tid && stack.python && !stack.python->name.empty() &&
                    !stack.python->without_thread)
                    thread.name = stack.python->name;
        }
    return snapshot;
}

Snapshot with_python_thread_names(Snapshot snapshot, const ThreadNameList& names) {
    for (auto& process : snapshot.processes)
        for (auto& thread : process.threads) {
            if (process.infrastructure || !has_program_name_only(process, thread))
                continue;
            for (const auto& [tid, name] : names)
                if (tid == thread.tid)
                    thread.name = name;
        }
    return snapshot;
}

Snapshot with_readable_thread_names(Snapshot snapshot) {
    for (auto& process : snapshot.processes)
        for (auto& thread : process.threads)
            thread.name = readable_thread_name(process, thread);
    return snapshot;
}

} // namespace forklore
