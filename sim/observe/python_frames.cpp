// Index of this file:
// [SECTION] Another process's memory
// [SECTION] The interpreter's symbols: _PyRuntime and Py_Version
// [SECTION] Python objects: strings, ints, dicts, sets, attributes
// [SECTION] Thread states and their frames
// [SECTION] Thread names and known locks
// [SECTION] Reading a process
//
// The reader of python_frames.hpp. Every read goes through process_vm_readv and every walk is
// bounded: the process is not stopped, so a thread that runs while it is read may leave a torn
// frame, which ends that walk and nothing more.
#include "sim/observe/python_frames.hpp"

#if FORKLORE_HAVE_PYTHON_OFFSETS
#include "sim/observe/python_offsets.h"
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

namespace {

const forklore_python_offsets& kOffsets = forklore_python311_offsets;

// Bounds of every walk: far above what a real program has, far below what a loop of torn
// pointers would cost.
constexpr std::size_t kMaxThreads = 256;
constexpr std::size_t kMaxFrames = 128;
constexpr std::size_t kMaxText = 1024;
constexpr std::size_t kMaxLinetable = 1 << 16;
constexpr std::int64_t kMaxEntries = 1 << 16;

//-----------------------------------------------------------------------------
// [SECTION] Another process's memory
//-----------------------------------------------------------------------------

class Memory {
  public:
    explicit Memory(pid_t pid) : pid_(pid) {}

    bool read(std::uint64_t address, void* out, std::size_t size) const {
        if (address == 0)
            return false;
        iovec local{out, size};
        iovec remote{reinterpret_cast<void*>(address), size};
        return process_vm_readv(pid_, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(size);
    }
    template <typename T> T value(std::uint64_t address) const {
        T result{};
        if (!read(address, &result, sizeof result))
            return T{};
        return result;
    }
    std::uint64_t word(std::uint64_t address) const { return value<std::uint64_t>(address); }
    std::string bytes(std::uint64_t address, std::size_t size) const {
        std::string data(size, '\0');
        if (!read(address, data.data(), size))
            return {};
        return data;
    }
    // A NUL-terminated C string, read in small pieces (it may end near an unmapped page).
    std::string c_string(std::uint64_t address, std::size_t max = 128) const {
        std::string text;
        char piece[16];
        while (text.size() < max && read(address + text.size(), piece, sizeof piece)) {
            const void* end = std::memchr(piece, '\0', sizeof piece);
            if (end) {
                text.append(piece, static_cast<std::size_t>(static_cast<const char*>(end) - piece));
                return text;
            }
            text.append(piece, sizeof piece);
        }
        return text;
    }
    pid_t pid() const { return pid_; }

  private:
    pid_t pid_;
};

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
// [SECTION] Python objects: strings, ints, dicts, sets, attributes
//-----------------------------------------------------------------------------

class Objects {
  public:
    explicit Objects(const Memory& memory)
        : memory_(memory), bits_(forklore_python311_unicode_bits()) {}

    const Memory& memory() const { return memory_; }

    std::string type_name(std::uint64_t object) const {
        std::uint64_t type = memory_.word(object + kOffsets.object_type);
        return type ? memory_.c_string(memory_.word(type + kOffsets.type_name)) : std::string();
    }

    // A compact str (every str of 3.11 that code objects and dict keys hold).
    std::optional<std::string> text(std::uint64_t object) const {
        if (!object)
            return std::nullopt;
        const auto state = memory_.value<std::uint32_t>(object + kOffsets.unicode_state);
        const auto length = memory_.value<std::int64_t>(object + kOffsets.unicode_length);
        if (!(state & bits_.compact) || length < 0 || static_cast<std::size_t>(length) > kMaxText)
            return std::nullopt;
        if (state & bits_.ascii)
            return memory_.bytes(object + kOffsets.unicode_ascii_data,
                                 static_cast<std::size_t>(length));
        const unsigned kind = (state & bits_.kind_mask) >> bits_.kind_shift;
        if (kind != 1 && kind != 2 && kind != 4)
            return std::nullopt;
        std::string data = memory_.bytes(object + kOffsets.unicode_compact_data,
                                         static_cast<std::size_t>(length) * kind);
        return python_text_as_utf8(data, kind, static_cast<std::size_t>(length));
    }

    std::string bytes_value(std::uint64_t object, std::size_t max) const {
        const auto size = memory_.value<std::int64_t>(object + kOffsets.var_size);
        if (size <= 0 || static_cast<std::size_t>(size) > max)
            return {};
        return memory_.bytes(object + kOffsets.bytes_data, static_cast<std::size_t>(size));
    }

    // A non-negative int of up to 64 bits (a thread ident).
    std::optional<std::uint64_t> unsigned_int(std::uint64_t object) const {
        const auto digits = memory_.value<std::int64_t>(object + kOffsets.var_size);
        if (digits < 0 || digits > 3)
            return std::nullopt;
        std::uint64_t value = 0;
        for (std::int64_t i = digits - 1; i >= 0; --i) {
            const auto digit = memory_.value<std::uint32_t>(object + kOffsets.long_digits +
                                                            static_cast<std::uint64_t>(i) *
                                                                kOffsets.long_digit_size);
            value = (value << kOffsets.long_digit_bits) | digit;
        }
        return value;
    }

    using EntryVisitor = std::function<bool(std::uint64_t key, std::uint64_t value)>;

    // Every (key, value) of a dict's keys object; `values` is a split table's values, else 0.
    // Stops when `visit` returns true.
    void for_each_entry(std::uint64_t keys, std::uint64_t values, const EntryVisitor& visit) const {
        if (!keys)
            return;
        const auto log2_index_bytes =
            memory_.value<std::uint8_t>(keys + kOffsets.keys_log2_index_bytes);
        const auto kind = memory_.value<std::uint8_t>(keys + kOffsets.keys_kind);
        const auto count = memory_.value<std::int64_t>(keys + kOffsets.keys_nentries);
        if (log2_index_bytes > 40 || count < 0 || count > kMaxEntries)
            return;
        const std::uint64_t entries =
            keys + kOffsets.keys_indices + (std::uint64_t{1} << log2_index_bytes);
        const bool general = kind == kOffsets.keys_kind_general;
        for (std::int64_t i = 0; i < count; ++i) {
            const auto index = static_cast<std::uint64_t>(i);
            std::uint64_t key = 0, value = 0;
            if (general) {
                const std::uint64_t entry = entries + index * kOffsets.general_entry_size;
                key = memory_.word(entry + kOffsets.general_entry_key);
                value = memory_.word(entry + kOffsets.general_entry_value);
            } else {
                const std::uint64_t entry = entries + index * kOffsets.unicode_entry_size;
                key = memory_.word(entry + kOffsets.unicode_entry_key);
                value = values ? memory_.word(values + index * 8)
                               : memory_.word(entry + kOffsets.unicode_entry_value);
            }
            if (key && value && visit(key, value))
                return;
        }
    }

    void for_each_item(std::uint64_t dict, const EntryVisitor& visit) const {
        for_each_entry(memory_.word(dict + kOffsets.dict_keys),
                       memory_.word(dict + kOffsets.dict_values), visit);
    }

    // The value of a str key, 0 when absent.
    std::uint64_t item(std::uint64_t dict, std::string_view name) const {
        return lookup(memory_.word(dict + kOffsets.dict_keys),
                      memory_.word(dict + kOffsets.dict_values), name);
    }

    // An instance attribute kept in the instance's dict. Instances of 3.11 classes without
    // __slots__ keep it "managed": either a dict in front of the object, or only a values array
    // whose keys are shared by the class (ht_cached_keys) until someone asks for __dict__.
    std::uint64_t attribute(std::uint64_t object, std::string_view name) const {
        const std::uint64_t type = memory_.word(object + kOffsets.object_type);
        const std::uint64_t flags = memory_.word(type + kOffsets.type_flags);
        if (!(flags & kOffsets.managed_dict_flag))
            return 0;
        const auto slot = [&](std::int64_t index) {
            return memory_.word(object + static_cast<std::uint64_t>(index * 8));
        };
        if (std::uint64_t dict = slot(kOffsets.managed_dict_slot))
            return item(dict, name);
        if (std::uint64_t values = slot(kOffsets.managed_values_slot))
            return lookup(memory_.word(type + kOffsets.heap_type_cached_keys), values, name);
        return 0;
    }

    // The objects of a set (a weakref.WeakSet keeps its weak references in one).
    std::vector<std::uint64_t> set_members(std::uint64_t set) const {
        std::vector<std::uint64_t> members;
        const auto mask = memory_.value<std::int64_t>(set + kOffsets.set_mask);
        const std::uint64_t table = memory_.word(set + kOffsets.set_table);
        if (mask < 0 || mask >= kMaxEntries || !table)
            return members;
        const std::uint64_t dummy_free = 0; // an empty slot; a deleted one holds a dummy key
        for (std::int64_t i = 0; i <= mask; ++i) {
            std::uint64_t key =
                memory_.word(table + static_cast<std::uint64_t>(i) * kOffsets.set_entry_size +
                             kOffsets.set_entry_key);
            if (key != dummy_free)
                members.push_back(key);
        }
        return members;
    }

  private:
    std::uint64_t lookup(std::uint64_t keys, std::uint64_t values, std::string_view name) const {
        std::uint64_t found = 0;
        for_each_entry(keys, values, [&](std::uint64_t key, std::uint64_t value) {
            if (text(key) != name)
                return false;
            found = value;
            return true;
        });
        return found;
    }

    const Memory& memory_;
    forklore_python_unicode_bits bits_;
};

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
// [SECTION] Thread names and known locks
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

// sys.stderr and sys.stdout (and the __stderr__/__stdout__ they replaced), whose BufferedWriter
// holds a lock (a PyThread_type_lock: in 3.11 a sem_t on the heap, whose futex word is at its
// address). The private structs of _io (textio.c, bufferedio.c) are not in any installed header,
// so their fields are found, not assumed: the TextIOWrapper's first words hold a pointer to an
// object of type _io.BufferedWriter (its `buffer`), and the BufferedWriter's first words hold the
// lock pointer, recognised by being one of the addresses a thread waits on. bufferedio.c (3.11)
// declares `owner` (the ident of the thread inside, set when it enters) right after `lock`; that
// word is believed only when it names a thread threading knows.
std::vector<PythonKnownLock>
known_locks(const Objects& objects, std::uint64_t interpreter,
            const std::vector<std::uint64_t>& waited,
            const std::vector<std::pair<std::uint64_t, std::string>>& names) {
    const Memory& memory = objects.memory();
    std::vector<PythonKnownLock> locks;
    if (waited.empty())
        return locks;
    const std::uint64_t sys = memory.word(interpreter + kOffsets.interpreter_sysdict);
    constexpr std::size_t kWordsScanned = 24;
    for (const char* stream : {"stderr", "stdout", "__stderr__", "__stdout__"}) {
        const std::uint64_t wrapper = objects.item(sys, stream);
        if (!wrapper || objects.type_name(wrapper) != "_io.TextIOWrapper")
            continue;
        for (std::size_t i = 2; i < kWordsScanned; ++i) {
            const std::uint64_t buffer = memory.word(wrapper + 8 * i);
            const std::string type = buffer ? objects.type_name(buffer) : std::string();
            if (type != "_io.BufferedWriter" && type != "_io.BufferedRandom")
                continue;
            for (std::size_t j = 2; j < kWordsScanned; ++j) {
                const std::uint64_t lock = memory.word(buffer + 8 * j);
                if (std::find(waited.begin(), waited.end(), lock) == waited.end())
                    continue;
                PythonKnownLock known;
                known.futex = lock;
                known.object = fmt::format("sys.{}'s buffer lock (the lock of its io.{})", stream,
                                           type.substr(4));
                const std::uint64_t owner = memory.word(buffer + 8 * (j + 1));
                for (const auto& [ident, _] : names)
                    if (ident == owner)
                        known.owner_ident = owner;
                bool seen = false;
                for (const auto& other : locks)
                    seen = seen || other.futex == lock;
                if (!seen) // sys.stderr is sys.__stderr__ unless a program replaced it
                    locks.push_back(std::move(known));
            }
            break;
        }
    }
    return locks;
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
    process.locks = known_locks(objects, interpreter, waited, process.thread_names);
    return process;
}

#endif // FORKLORE_HAVE_PYTHON_OFFSETS

} // namespace forklore
