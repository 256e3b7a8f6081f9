// The Python side of a CPython process's stacks (stacks.hpp, add_python_stacks): what
// python_frames.cpp reads from the interpreter, joined to the native stacks thread by thread.
#include "sim/observe/stacks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

namespace forklore {
namespace {

PythonStack python_side(const PythonThread& thread) {
    PythonStack stack;
    stack.name = thread.name;
    stack.ident = thread.ident;
    stack.frames = thread.frames;
    return stack;
}

// The lock a thread's futex is, when the interpreter knows it, and who the lock says is inside.
bool is_thread_of(const ProcessSnapshot& process, pid_t ns_tid) {
    return std::any_of(process.threads.begin(), process.threads.end(),
                       [&](const ThreadSnapshot& thread) { return thread.ns_tid == ns_tid; });
}

void name_waited_lock(const PythonProcess& python, const ProcessSnapshot& process,
                      const ThreadSnapshot& thread, PythonStack& stack) {
    if (thread.wait != WaitKind::futex || thread.futex_address == 0)
        return;
    for (const auto& lock : python.locks) {
        if (lock.futex != thread.futex_address)
            continue;
        stack.waits_on = lock.object;
        if (lock.owner_ident) {
            stack.lock_holder = python.name_of_ident(lock.owner_ident);
            stack.lock_holder_here =
                std::any_of(python.threads.begin(), python.threads.end(), [&](const auto& other) {
                    return other.ident == lock.owner_ident &&
                           is_thread_of(process, other.native_tid);
                });
        }
    }
}

// Host tid -> threading name, for the threads of `process` the interpreter names.
ThreadNameList names_of_threads(const PythonProcess& python, const ProcessSnapshot& process) {
    ThreadNameList names;
    for (const auto& thread : python.threads)
        for (const auto& snapshot_thread : process.threads)
            if (!thread.name.empty() && snapshot_thread.ns_tid == thread.native_tid)
                names.emplace_back(snapshot_thread.tid, thread.name);
    return names;
}

} // namespace

ThreadNameList python_thread_names(const ProcessSnapshot& process) {
    // Cheap first: reading an executable's symbols costs milliseconds for a large program, and a
    // verdict may see hundreds of processes; only an executable named python* is looked at.
    const auto slash = process.exe.rfind('/');
    const std::string_view exe = slash == std::string::npos
                                     ? std::string_view(process.exe)
                                     : std::string_view(process.exe).substr(slash + 1);
    if (!exe.starts_with("python"))
        return {};
    return names_of_threads(read_python_process(process.pid, {}), process);
}

ThreadNameList add_python_stacks(const ProcessSnapshot& process, std::vector<ThreadStack>& stacks) {
    std::vector<std::uint64_t> waited;
    for (const auto& thread : process.threads)
        if (thread.wait == WaitKind::futex && thread.futex_address)
            waited.push_back(thread.futex_address);
    const PythonProcess python = read_python_process(process.pid, waited);
    if (!python.interpreter)
        return {}; // not Python: nothing to add, nothing to say
    ThreadNameList names = names_of_threads(python, process);
    for (auto& stack : stacks) {
        if (stack.pid != process.pid)
            continue;
        if (!python.error.empty()) {
            stack.python_error = python.error;
            continue;
        }
        const PythonThread* thread = python.thread_with_tid(stack.ns_tid);
        if (!thread) {
            // A thread CPython never ran Python code on (one a C extension started).
            stack.python_error = "the interpreter has no thread state for this thread";
            continue;
        }
        stack.python = python_side(*thread);
        if (!thread->name.empty()) // CPython 3.11 never tells the kernel a thread's name
            stack.thread_name = thread->name;
        for (const auto& snapshot_thread : process.threads)
            if (snapshot_thread.tid == stack.tid)
                name_waited_lock(python, process, snapshot_thread, *stack.python);
    }
    // Thread states whose thread is not in this process. CPython 3.11 deletes the other threads'
    // states in a forked child (PyOS_AfterFork_Child), so these are rare; when there is one (a
    // thread that exited between two reads, an interpreter that kept them) it is shown, not
    // dropped: it says where that thread last was.
    for (const auto& thread : python.threads) {
        if (is_thread_of(process, thread.native_tid))
            continue;
        ThreadStack ghost;
        ghost.pid = process.pid;
        ghost.ns_pid = process.ns_pid;
        ghost.ns_tid = thread.native_tid;
        ghost.thread_name = thread.name;
        ghost.error = fmt::format("the interpreter lists a thread state for tid {}, which is not a "
                                  "thread of this process",
                                  thread.native_tid);
        ghost.python = python_side(thread);
        ghost.python->without_thread = true;
        stacks.push_back(std::move(ghost));
    }
    return names;
}

} // namespace forklore
