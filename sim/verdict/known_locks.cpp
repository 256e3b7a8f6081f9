// The real names of locks a program never named itself, read from the function that took them.
// Each glibc entry was checked against glibc 2.36's sources (the static lock each file defines)
// and against the stacks forklore's scenarios 072, 074 and 076 show in the child (gdb and
// forklore's own stack capture agree); each Python entry against CPython 3.11's Lib/threading.py
// and Lib/importlib/_bootstrap.py.
#include "sim/verdict/known_locks.hpp"

#include <fmt/format.h>

#include <array>

namespace forklore {
namespace {

struct GlibcLocker {
    std::string_view function; // the glibc function, exact
    std::string_view lock;     // what a student should read
};

// Exact names first: several stdio functions start with _IO_ but take another lock.
constexpr std::array kGlibcLockers = {
    // libio/iopopen.c: the list of popen'ed FILEs; fork resets it only from glibc 2.41.
    GlibcLocker{"_IO_proc_open", "popen's list lock (proc_file_chain_lock, which fork resets only "
                                 "from glibc 2.41)"},
    GlibcLocker{"_IO_new_proc_close",
                "popen's list lock (proc_file_chain_lock, which fork resets only from glibc 2.41)"},
    GlibcLocker{"_IO_list_lock", "the lock of stdio's list of every FILE (_IO_list_all_lock)"},
    GlibcLocker{"_IO_flush_all_lockp",
                "the lock of stdio's list of every FILE (_IO_list_all_lock)"},
    // time/tzset.c: taken by localtime, gmtime, mktime and tzset (through __tz_convert or
    // __tzset); fork does not reset it.
    GlibcLocker{"__tz_convert", "the time-zone lock (tzset_lock)"},
    GlibcLocker{"__tzset", "the time-zone lock (tzset_lock)"},
    GlibcLocker{"tzset", "the time-zone lock (tzset_lock)"},
    // stdlib/setenv.c: setenv, unsetenv, putenv and clearenv; fork does not reset it.
    GlibcLocker{"__add_to_environ", "the environment lock (envlock)"},
    GlibcLocker{"unsetenv", "the environment lock (envlock)"},
    GlibcLocker{"clearenv", "the environment lock (envlock)"},
    // nss/getXXbyYY.c: the non-reentrant lookups guard their static result buffer with a static
    // lock of their own, held across the whole lookup; fork does not reset it.
    GlibcLocker{"getpwnam", "getpwnam's own lock (the static lock of nss/getXXbyYY.c around its "
                            "shared result buffer)"},
    GlibcLocker{"getpwuid", "getpwuid's own lock (the static lock of nss/getXXbyYY.c around its "
                            "shared result buffer)"},
    GlibcLocker{"getgrnam", "getgrnam's own lock (the static lock of nss/getXXbyYY.c around its "
                            "shared result buffer)"},
    GlibcLocker{"getgrgid", "getgrgid's own lock (the static lock of nss/getXXbyYY.c around its "
                            "shared result buffer)"},
    GlibcLocker{"gethostbyname", "gethostbyname's own lock (the static lock of "
                                 "nss/getXXbyYY.c around its shared result buffer)"},
    GlibcLocker{"__nss_database_get", "the NSS database lock (nss_database.c)"},
    // sysdeps/unix/sysv/linux/check_pf.c: getaddrinfo asks the kernel which addresses the
    // machine has (a netlink request, made on every call without nscd: strace shows it, glibc
    // 2.36) under a static lock of its own, to sort the results; fork does not reset it.
    GlibcLocker{"__check_pf", "getaddrinfo's address-check lock (the static lock of check_pf.c, "
                              "held while it asks the kernel for the machine's addresses over "
                              "netlink)"},
    // malloc/arena.c and malloc.c: each arena's mutex, and the locks of the arena lists.
    GlibcLocker{"__libc_malloc", "malloc's lock (an arena's mutex)"},
    GlibcLocker{"__libc_free", "malloc's lock (an arena's mutex)"},
    GlibcLocker{"_int_free", "malloc's lock (an arena's mutex)"},
    GlibcLocker{"__libc_calloc", "malloc's lock (an arena's mutex)"},
    GlibcLocker{"__libc_realloc", "malloc's lock (an arena's mutex)"},
    GlibcLocker{"tcache_init", "malloc's lock (an arena's mutex)"},
    GlibcLocker{"arena_get2",
                "one of malloc's arena locks (list_lock, free_list_lock or an arena's mutex)"},
    GlibcLocker{"reused_arena",
                "one of malloc's arena locks (list_lock, free_list_lock or an arena's mutex)"},
    // elf/dl-open.c takes GL(dl_load_lock); the namespace list and dl_iterate_phdr take
    // GL(dl_load_write_lock). Both are recursive mutexes, so their owner can be read.
    GlibcLocker{"_dl_open", "the dynamic loader's lock _dl_load_lock"},
    GlibcLocker{"_dl_close", "the dynamic loader's lock _dl_load_lock"},
    GlibcLocker{"_dl_add_to_namespace_list", "the dynamic loader's write lock _dl_load_write_lock"},
    GlibcLocker{"__dl_iterate_phdr", "the dynamic loader's write lock _dl_load_write_lock"},
    GlibcLocker{"dl_iterate_phdr", "the dynamic loader's write lock _dl_load_write_lock"},
};

// Every other stdio function that locks takes the lock of the FILE it works on.
constexpr std::array<std::string_view, 14> kStdioFunctions = {"buffered_vfprintf",
                                                              "__vfprintf_internal",
                                                              "vfprintf",
                                                              "fprintf",
                                                              "printf",
                                                              "fputs",
                                                              "puts",
                                                              "fwrite",
                                                              "fflush",
                                                              "fputc",
                                                              "putc",
                                                              "fgets",
                                                              "fclose",
                                                              "_IO_flockfile"};

std::string base_name(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string frame_words(const PythonFrame& frame) {
    return fmt::format("{}:{} in {}()", base_name(frame.file), frame.line, frame.function);
}

bool in_multiprocessing(const PythonFrame& frame) {
    return frame.file.find("/multiprocessing/") != std::string::npos;
}

} // namespace

std::string glibc_lock_taken_by(std::string_view function) {
    for (const auto& known : kGlibcLockers)
        if (function == known.function)
            return std::string(known.lock);
    for (std::string_view stdio : kStdioFunctions)
        if (function == stdio)
            return "the lock of the FILE it writes or reads (stdio's per-stream _IO_lock_t)";
    if (function.starts_with("_IO_"))
        return "the lock of the FILE it works on (stdio's per-stream _IO_lock_t)";
    return "";
}

std::string python_lock_named_by_frame(const PythonFrame& innermost) {
    const std::string& file = innermost.file;
    const std::string& function = innermost.function;
    if (file == "<frozen importlib._bootstrap>" && function.starts_with("_ModuleLock."))
        return "an import lock (importlib's _ModuleLock, one per module being imported; the "
               "interpreter's list of them did not say which module this one guards)";
    if (!file.ends_with("threading.py"))
        return "";
    if (function == "Condition.wait")
        return "the waiter lock of a threading.Condition (Condition.wait sleeps on a fresh lock "
               "that only a notify() releases; Event.wait, Semaphore.acquire and queue.Queue "
               "wait through it too)";
    if (function == "Thread._wait_for_tstate_lock")
        return "a thread's end lock (Thread.join waits on the lock a thread releases only when "
               "it ends)";
    return "";
}

std::string python_fork_origin(const PythonStack& python) {
    const std::vector<PythonFrame>& frames = python.frames;
    for (std::size_t i = 0; i + 1 < frames.size(); ++i) {
        const PythonFrame& caller = frames[i + 1];
        if (frames[i].function != "BaseProcess._bootstrap")
            continue;
        if (caller.function == "Popen._launch" && caller.file.ends_with("popen_fork.py")) {
            // The first frame outside multiprocessing, outward: the program's line that started
            // the process (Process.start, or a Pool being made).
            std::string started;
            for (std::size_t j = i + 2; j < frames.size() && started.empty(); ++j)
                if (!in_multiprocessing(frames[j]))
                    started = fmt::format(", started at {}", frame_words(frames[j]));
            return fmt::format("a copy made by os.fork() in multiprocessing's fork start method "
                               "({}{})",
                               frame_words(caller), started);
        }
    }
    for (const auto& frame : frames)
        if (frame.function == "_serve_one" && frame.file.ends_with("forkserver.py"))
            return fmt::format("a copy made by os.fork() in multiprocessing's fork server ({}), "
                               "a copy of the server rather than of the program",
                               frame_words(frame));
    return "";
}

} // namespace forklore
