// Native stacks of another process's threads, unwound with libdw (stacks.hpp), each frame named
// by its symbol and module.
#include "sim/observe/stacks.hpp"

#include "sim/observe/proc_text.hpp"

#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <unistd.h>

#include <cxxabi.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

namespace forklore {
namespace {

std::string read_thread_name(pid_t pid, pid_t tid) {
    char buffer[64];
    ssize_t length = procfs::read_task_file(pid, tid, "comm", buffer, sizeof buffer);
    if (length <= 0)
        return {};
    std::string name(buffer, static_cast<std::size_t>(length));
    while (!name.empty() && name.back() == '\n')
        name.pop_back();
    return name;
}

// A readable function name from an ELF symbol. glibc's debug symbols name many functions by
// their aliases: "__GI___lll_lock_wait" (the internal, hidden alias of __lll_lock_wait) and
// "__pthread_mutex_lock@GLIBC_2.2.5" (a versioned alias); both decorations are dropped.
std::string readable_function(const char* symbol) {
    std::string name = symbol;
    if (auto at = name.find('@'); at != std::string::npos && at > 0)
        name.resize(at);
    constexpr std::string_view internal_alias = "__GI_";
    if (name.size() > internal_alias.size() && name.starts_with(internal_alias))
        name.erase(0, internal_alias.size());
    if (!name.starts_with("_Z"))
        return name;
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> demangled(
        abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status), &std::free);
    return status == 0 && demangled ? std::string(demangled.get()) : name;
}

std::string base_name(const char* path) {
    if (!path)
        return {};
    const char* slash = std::strrchr(path, '/');
    return slash ? slash + 1 : path;
}

std::string last_dwfl_error() {
    return dwfl_errmsg(-1);
}

// Fills the symbol and module of a frame. `lookup_pc` is the pc itself for the innermost frame
// (an activation) but pc - 1 for callers: their pc is a return address, which may already belong
// to the next function when the call was the last instruction of the caller.
void symbolize(Dwfl* dwfl, StackFrame& frame, Dwarf_Addr lookup_pc) {
    Dwfl_Module* module = dwfl_addrmodule(dwfl, lookup_pc);
    if (!module)
        return;
    GElf_Off symbol_offset = 0;
    GElf_Sym symbol{};
    const char* name =
        dwfl_module_addrinfo(module, lookup_pc, &symbol_offset, &symbol, nullptr, nullptr, nullptr);
    // Asked after the symbol lookup, which opens the ELF: before it the main file is not known
    // yet, and the module name (the path from /proc/PID/maps) stands in for it.
    const char* main_file = nullptr;
    const char* module_name =
        dwfl_module_info(module, nullptr, nullptr, nullptr, nullptr, nullptr, &main_file, nullptr);
    frame.module = base_name(main_file ? main_file : module_name);
    if (name) {
        frame.function = readable_function(name);
        frame.offset = symbol_offset + (frame.pc - lookup_pc);
    }
}

struct ThreadWalk {
    Dwfl* dwfl;
    ThreadStack* stack;
    std::size_t max_frames;
};

int on_frame(Dwfl_Frame* state, void* argument) {
    auto& walk = *static_cast<ThreadWalk*>(argument);
    if (walk.stack->frames.size() >= walk.max_frames)
        return DWARF_CB_ABORT;
    Dwarf_Addr pc = 0;
    bool is_activation = false;
    if (!dwfl_frame_pc(state, &pc, &is_activation))
        return DWARF_CB_ABORT;
    StackFrame frame;
    frame.pc = pc;
    symbolize(walk.dwfl, frame, is_activation || pc == 0 ? pc : pc - 1);
    walk.stack->frames.push_back(std::move(frame));
    return DWARF_CB_OK;
}

struct ProcessWalk {
    Dwfl* dwfl;
    pid_t pid;
    std::size_t max_frames;
    const std::vector<pid_t>* only_tids;
    std::vector<ThreadStack>* stacks;
};

int on_thread(Dwfl_Thread* thread, void* argument) {
    auto& walk = *static_cast<ProcessWalk*>(argument);
    // A thread is stopped (ptrace) only once its frames are asked for: skipping it costs nothing.
    pid_t tid = dwfl_thread_tid(thread);
    if (!walk.only_tids->empty() &&
        std::find(walk.only_tids->begin(), walk.only_tids->end(), tid) == walk.only_tids->end())
        return DWARF_CB_OK;
    ThreadStack stack;
    stack.pid = walk.pid;
    stack.tid = dwfl_thread_tid(thread);
    stack.thread_name = read_thread_name(walk.pid, stack.tid);
    ThreadWalk thread_walk{walk.dwfl, &stack, walk.max_frames};
    // The unwinder ends most stacks with an error ("no matching address range" past _start or
    // clone3); with frames in hand that is simply the end of the stack.
    if (dwfl_thread_getframes(thread, on_frame, &thread_walk) == -1 && stack.frames.empty())
        stack.error = last_dwfl_error();
    walk.stacks->push_back(std::move(stack));
    return DWARF_CB_OK; // one failed thread does not stop the others
}

ThreadStack process_error(pid_t pid, std::string message) {
    ThreadStack failure;
    failure.pid = pid;
    failure.tid = pid;
    failure.error = std::move(message);
    return failure;
}

// Debug information from this machine only: /usr/lib/debug/.build-id/NN/REST.debug (where
// libc6-dbg puts libc's). dwfl_standard_find_debuginfo would, for every module without one (the
// scenario host, the vDSO), load the debuginfod client with curl and TLS behind it: tens of
// milliseconds per run to learn that there is no server. A module with no separate file is
// symbolized from its own symbol table.
int find_local_debuginfo(Dwfl_Module* module, void**, const char*, Dwarf_Addr, const char*,
                         const char*, GElf_Word, char** debuginfo_file_name) {
    const unsigned char* id = nullptr;
    GElf_Addr address = 0;
    int length = dwfl_module_build_id(module, &id, &address);
    if (length <= 1)
        return -1;
    std::string path = "/usr/lib/debug/.build-id/";
    char hex[3];
    for (int i = 0; i < length; ++i) {
        std::snprintf(hex, sizeof hex, "%02x", id[i]);
        path += hex;
        if (i == 0)
            path += '/';
    }
    path += ".debug";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    *debuginfo_file_name = ::strdup(path.c_str());
    return fd;
}

} // namespace

std::vector<ThreadStack> capture_stacks(pid_t pid, const std::vector<pid_t>& only_tids,
                                        std::size_t max_frames) {
    static const Dwfl_Callbacks callbacks = {
        .find_elf = dwfl_linux_proc_find_elf,
        .find_debuginfo = find_local_debuginfo,
        .section_address = nullptr,
        .debuginfo_path = nullptr,
    };
    std::vector<ThreadStack> stacks;
    std::unique_ptr<Dwfl, decltype(&dwfl_end)> dwfl(dwfl_begin(&callbacks), &dwfl_end);
    if (!dwfl) {
        stacks.push_back(process_error(pid, "dwfl_begin: " + last_dwfl_error()));
        return stacks;
    }

    dwfl_report_begin(dwfl.get());
    int reported = dwfl_linux_proc_report(dwfl.get(), pid);
    if (dwfl_report_end(dwfl.get(), nullptr, nullptr) != 0 || reported != 0) {
        std::string reason = reported > 0 ? std::strerror(reported) : last_dwfl_error();
        stacks.push_back(process_error(pid, "reading the memory map: " + reason));
        return stacks;
    }
    // Returns -1 with a libdw error, or an errno value when /proc could not be opened.
    int attached = dwfl_linux_proc_attach(dwfl.get(), pid, false);
    if (attached != 0) {
        std::string reason = attached > 0 ? std::strerror(attached) : last_dwfl_error();
        stacks.push_back(process_error(pid, "attaching: " + reason));
        return stacks;
    }

    ProcessWalk walk{dwfl.get(), pid, max_frames, &only_tids, &stacks};
    if (dwfl_getthreads(dwfl.get(), on_thread, &walk) == -1 && stacks.empty())
        stacks.push_back(process_error(pid, "listing threads: " + last_dwfl_error()));
    return stacks; // dwfl_end (the unique_ptr) releases the process and closes its files
}

} // namespace forklore
