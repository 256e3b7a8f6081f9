// Index of this file:
// [SECTION] The interpreter's symbols: _PyRuntime and Py_Version
// [SECTION] Thread states and their frames
// [SECTION] Thread names
// [SECTION] Reading a process
//
// The reader of python_frames.hpp. Every read goes through process_vm_readv (python_objects.hpp)
// and every walk is bounded: the process is not stopped, so a thread that runs while it is read
// may leave a torn frame, which ends that walk and nothing more.
#include "sim/observe/python_frames.hpp"

#if FORKLORE_HAVE_PYTHON_OFFSETS
#include "sim/observe/python_objects.hpp"
#endif

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/uio.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>

namespace forklore {

const PythonThread* PythonProcess::thread_with_tid(pid_t native_tid) const {
    for (const auto& thread : threads)
        if (thread.native_tid == native_tid)
            return &thread;
    return nullptr;
}

std::string PythonProcess::name_of_ident(std::uint64_t ident) const {
    for (const auto& [known, name] : thread_names)
        if (known == ident)
            return name;
    return {};
}

#if !FORKLORE_HAVE_PYTHON_OFFSETS

bool python_frames_available() {
    return false;
}

PythonProcess read_python_process(pid_t, const std::vector<std::uint64_t>&) {
    PythonProcess process;
    process.error = "this forklore was built without CPython's headers (python3-dev), so it "
                    "cannot read Python frames";
    return process;
}

#else

bool python_frames_available() {
    return true;
}

using namespace python_memory;

namespace {

// Bounds of every walk (python_objects.hpp has those of objects).
constexpr std::size_t kMaxThreads = 256;
constexpr std::size_t kMaxFrames = 128;
constexpr std::size_t kMaxLinetable = 1 << 16;

//-----------------------------------------------------------------------------
// [SECTION] The interpreter's symbols: _PyRuntime and Py_Version
//-----------------------------------------------------------------------------

struct InterpreterSymbols {
    std::uint64_t runtime = 0; // &_PyRuntime in the process
    std::uint64_t version = 0; // &Py_Version
};

// Where the executable's first mapping starts, for a position-independent executable: its
// symbols' values are relative to the lowest PT_LOAD segment, which is mapped at file offset 0.
std::uint64_t load_bias(pid_t pid, Elf* elf) {
    GElf_Ehdr header{};
    if (!gelf_getehdr(elf, &header) || header.e_type != ET_DYN)
        return 0; // ET_EXEC (Debian's python3.11): symbols are absolute addresses
    std::uint64_t lowest = UINT64_MAX;
    std::size_t count = 0;
    elf_getphdrnum(elf, &count);
    for (std::size_t i = 0; i < count; ++i) {
        GElf_Phdr segment{};
        if (gelf_getphdr(elf, static_cast<int>(i), &segment) && segment.p_type == PT_LOAD)
            lowest = std::min<std::uint64_t>(lowest, segment.p_vaddr & ~std::uint64_t{0xfff});
    }
    char exe[512];
    ssize_t length = readlink(fmt::format("/proc/{}/exe", pid).c_str(), exe, sizeof exe - 1);
    if (length <= 0 || lowest == UINT64_MAX)
        return 0;
    const std::string path(exe, static_cast<std::size_t>(length));
    std::ifstream maps(fmt::format("/proc/{}/maps", pid));
    std::string line;
    while (std::getline(maps, line)) {
        // "start-end perms offset dev inode path"
        unsigned long long start = 0, end = 0, offset = 0;
        char perms[8] = {};
        if (std::sscanf(line.c_str(), "%llx-%llx %7s %llx", &start, &end, perms, &offset) == 4 &&
            offset == 0 && line.find(path) != std::string::npos)
            return start - lowest;
    }
    return 0;
}

std::optional<InterpreterSymbols> interpreter_symbols(pid_t pid, bool& interpreter,
                                                      std::string& error) {
    int fd = ::open(fmt::format("/proc/{}/exe", pid).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = fmt::format("cannot open its executable: {}", std::strerror(errno));
        return std::nullopt;
    }
    elf_version(EV_CURRENT);
    Elf* elf = elf_begin(fd, ELF_C_READ, nullptr);
    InterpreterSymbols symbols;
    for (Elf_Scn* section = elf ? elf_nextscn(elf, nullptr) : nullptr; section;
         section = elf_nextscn(elf, section)) {
        GElf_Shdr header{};
        if (!gelf_getshdr(section, &header) ||
            (header.sh_type != SHT_DYNSYM && header.sh_type != SHT_SYMTAB) ||
            header.sh_entsize == 0)
            continue;
        Elf_Data* data = elf_getdata(section, nullptr);
        const std::size_t count = header.sh_size / header.sh_entsize;
        for (std::size_t i = 0; data && i < count; ++i) {
            GElf_Sym symbol{};
            if (!gelf_getsym(data, static_cast<int>(i), &symbol) || symbol.st_value == 0)
                continue;
            const char* name = elf_strptr(elf, header.sh_link, symbol.st_name);
            if (!name)
                continue;
            if (std::strcmp(name, "_PyRuntime") == 0)
                symbols.runtime = symbol.st_value;
            else if (std::strcmp(name, "Py_Version") == 0)
                symbols.version = symbol.st_value;
        }
    }
    std::uint64_t bias = elf ? load_bias(pid, elf) : 0;
    if (elf)
        elf_end(elf);
    ::close(fd);
    interpreter = symbols.runtime != 0;
    if (!symbols.runtime || !symbols.version) {
        error = "its executable has no _PyRuntime and Py_Version symbols: not a CPython "
                "interpreter (or one linked to a shared libpython, which is not read)";
        return std::nullopt;
    }
    symbols.runtime += bias;
    symbols.version += bias;
    return symbols;
}

std::string version_text(std::uint64_t hex) {
    return fmt::format("{}.{}.{}", (hex >> 24) & 0xff, (hex >> 16) & 0xff, (hex >> 8) & 0xff);
}

//-----------------------------------------------------------------------------
// [SECTION] Thread states and their frames
//-----------------------------------------------------------------------------

struct CodeInfo {
    std::string file, function, linetable;
    int first_line = 0;
};

class FrameReader {
  public:
    explicit FrameReader(const Objects& objects) : objects_(objects) {}

    std::vector<PythonFrame> frames_of(std::uint64_t thread_state) {
        const Memory& memory = objects_.memory();
        std::vector<PythonFrame> frames;
        const std::uint64_t cframe = memory.word(thread_state + kOffsets.thread_cframe);
        std::uint64_t frame = memory.word(cframe + kOffsets.cframe_current_frame);
        std::set<std::uint64_t> seen;
        while (frame && frames.size() < kMaxFrames && seen.insert(frame).second) {
            const std::uint64_t code = memory.word(frame + kOffsets.frame_code);
            const std::uint64_t prev_instr = memory.word(frame + kOffsets.frame_prev_instr);
            const CodeInfo* info = code_info(code);
            if (!info)
                break;
            PythonFrame shown{info->file, info->function, 0};
            // prev_instr points into the bytecode kept inline in the code object
            // (_PyInterpreterFrame_LASTI); a frame not started yet points just before it.
            const auto first_unit = static_cast<std::int64_t>(code + kOffsets.code_adaptive);
            const std::int64_t instruction = (static_cast<std::int64_t>(prev_instr) - first_unit) /
                                             static_cast<std::int64_t>(kOffsets.code_unit_size);
            shown.line = python_line_of_instruction(info->linetable, info->first_line, instruction)
                             .value_or(instruction < 0 ? info->first_line : 0);
            frames.push_back(std::move(shown));
            frame = memory.word(frame + kOffsets.frame_previous);
        }
        return frames;
    }

  private:
    const CodeInfo* code_info(std::uint64_t code) {
        if (!code)
            return nullptr;
        if (auto known = codes_.find(code); known != codes_.end())
            return &known->second;
        const Memory& memory = objects_.memory();
        auto file = objects_.text(memory.word(code + kOffsets.code_filename));
        auto function = objects_.text(memory.word(code + kOffsets.code_qualname));
        if (!function)
            function = objects_.text(memory.word(code + kOffsets.code_name));
        if (!file || !function)
            return nullptr; // not a code object after all: a torn frame
        CodeInfo info{
            *file, *function,
            objects_.bytes_value(memory.word(code + kOffsets.code_linetable), kMaxLinetable),
            memory.value<int>(code + kOffsets.code_firstlineno)};
        return &codes_.emplace(code, std::move(info)).first->second;
    }

    const Objects& objects_;
    std::map<std::uint64_t, CodeInfo> codes_;
};

//-----------------------------------------------------------------------------
// [SECTION] Thread names
//-----------------------------------------------------------------------------

// ident -> name for every Thread object threading knows: the running ones (threading._active, by
// ident) and the finished or forgotten ones still alive (threading._dangling, a WeakSet of every
// Thread ever made). The second matters after fork: threading._after_fork empties _active of
// every thread the child does not have, but their Thread objects, with their old idents, live on.
std::vector<std::pair<std::uint64_t, std::string>> thread_names(const Objects& objects,
                                                                std::uint64_t interpreter) {
    const Memory& memory = objects.memory();
    std::vector<std::pair<std::uint64_t, std::string>> names;
    const std::uint64_t modules = memory.word(interpreter + kOffsets.interpreter_modules);
    const std::uint64_t threading = objects.item(modules, "threading");
    if (!threading)
        return names; // a program that never imported threading: its threads have no names
    const std::uint64_t globals = memory.word(threading + kOffsets.module_dict);
    auto add = [&](std::uint64_t ident, std::uint64_t thread) {
        auto name = objects.text(objects.attribute(thread, "_name"));
        if (!name)
            return;
        for (const auto& [known, _] : names)
            if (known == ident)
                return;
        names.emplace_back(ident, *name);
    };
    objects.for_each_item(objects.item(globals, "_active"),
                          [&](std::uint64_t key, std::uint64_t thread) {
                              if (auto ident = objects.unsigned_int(key))
                                  add(*ident, thread);
                              return false;
                          });
    const std::uint64_t dangling = objects.item(globals, "_dangling");
    const std::uint64_t weak_references = dangling ? objects.attribute(dangling, "data") : 0;
    for (std::uint64_t reference :
         weak_references ? objects.set_members(weak_references) : std::vector<std::uint64_t>{}) {
        const std::uint64_t thread = memory.word(reference + kOffsets.weakref_object);
        if (!thread || objects.type_name(reference) != "weakref.ReferenceType")
            continue;
        if (auto ident = objects.unsigned_int(objects.attribute(thread, "_ident")))
            add(*ident, thread);
    }
    return names;
}

} // namespace

//-----------------------------------------------------------------------------
// [SECTION] Reading a process
//-----------------------------------------------------------------------------

PythonProcess read_python_process(pid_t pid, const std::vector<std::uint64_t>& waited) {
    PythonProcess process;
    auto symbols = interpreter_symbols(pid, process.interpreter, process.error);
    if (!symbols)
        return process;
    Memory memory(pid);
    const auto version = memory.value<std::uint32_t>(symbols->version);
    if (version == 0) {
        process.error = fmt::format("cannot read its memory: {}", std::strerror(errno));
        return process;
    }
    process.version = version_text(version);
    // The headers of one release describe its structs; another release may move a field.
    if (version != kOffsets.version_hex) {
        process.error = fmt::format("Python {} is not the version whose headers forklore was "
                                    "built with ({}): its frames are not read",
                                    process.version, version_text(kOffsets.version_hex));
        return process;
    }
    Objects objects(memory);
    // The main interpreter only: subinterpreters are rare, and each has its own threading.
    const std::uint64_t interpreter =
        memory.word(symbols->runtime + kOffsets.runtime_interpreters_head);
    if (!interpreter) {
        process.error = "its interpreter is not initialised (or already finalised)";
        return process;
    }
    process.thread_names = thread_names(objects, interpreter);
    FrameReader frame_reader(objects);
    std::set<std::uint64_t> seen;
    for (std::uint64_t state = memory.word(interpreter + kOffsets.interpreter_threads_head);
         state && process.threads.size() < kMaxThreads && seen.insert(state).second;
         state = memory.word(state + kOffsets.thread_next)) {
        PythonThread thread;
        thread.ident = memory.word(state + kOffsets.thread_thread_id);
        thread.native_tid =
            static_cast<pid_t>(memory.word(state + kOffsets.thread_native_thread_id));
        thread.name = process.name_of_ident(thread.ident);
        thread.frames = frame_reader.frames_of(state);
        process.threads.push_back(std::move(thread));
    }
    process.locks = python_known_locks(objects, interpreter, waited, process.thread_names);
    return process;
}

#endif // FORKLORE_HAVE_PYTHON_OFFSETS

} // namespace forklore
