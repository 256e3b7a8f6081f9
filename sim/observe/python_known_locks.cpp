// Index of this file:
// [SECTION] Finding a waited lock
// [SECTION] sys.stderr and sys.stdout
// [SECTION] Import locks
// [SECTION] threading.Lock and RLock in modules' globals
// [SECTION] Locks of logging's handlers
// [SECTION] All of them
//
// The Python objects whose lock a stuck thread waits on, named from outside the interpreter
// (python_objects.hpp). Every lock of CPython 3.11 (a PyThread_type_lock) is a sem_t on the heap
// whose futex word is at its address, so a lock is recognised by its pointer being one of the
// addresses the process's threads wait on: a field found that way is found, not assumed, and an
// object that holds no waited lock is never named.
#if FORKLORE_HAVE_PYTHON_OFFSETS // else python_frames.cpp reads nothing and calls nothing here

#include "sim/observe/python_objects.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

namespace forklore::python_memory {
namespace {

// Bounds: globals looked at across all modules, and modules looked at.
constexpr std::size_t kMaxGlobals = 1 << 15;
constexpr std::size_t kMaxModules = 2048;

//-----------------------------------------------------------------------------
// [SECTION] Finding a waited lock
//-----------------------------------------------------------------------------

class LockFinder {
  public:
    LockFinder(const Objects& objects, const std::vector<std::uint64_t>& waited,
               const ThreadNames& names)
        : objects_(objects), waited_(waited), names_(names) {}

    const Objects& objects() const { return objects_; }
    const Memory& memory() const { return objects_.memory(); }

    bool waited(std::uint64_t address) const {
        return address && std::find(waited_.begin(), waited_.end(), address) != waited_.end();
    }
    bool all_named() const { return locks_.size() >= waited_.size(); }

    // `owner` is believed only when it is the ident of a thread threading knows (running, or
    // a Thread object still alive after fork): a field read at a guessed place proves nothing
    // by itself.
    void add(std::uint64_t futex, std::string object, std::uint64_t owner) {
        for (const auto& known : locks_)
            if (known.futex == futex)
                return; // the first name found is kept (sys.stderr before sys.__stderr__)
        PythonKnownLock lock;
        lock.futex = futex;
        lock.object = std::move(object);
        for (const auto& [ident, _] : names_)
            if (owner && ident == owner)
                lock.owner_ident = owner;
        locks_.push_back(std::move(lock));
    }

    // A type's tp_name, read once per type.
    const std::string& type_name(std::uint64_t object) {
        const std::uint64_t type = memory().word(object + kOffsets.object_type);
        auto known = type_names_.find(type);
        if (known == type_names_.end())
            known = type_names_.emplace(type, objects_.type_name(object)).first;
        return known->second;
    }

    std::vector<PythonKnownLock> take() { return std::move(locks_); }

  private:
    const Objects& objects_;
    const std::vector<std::uint64_t>& waited_;
    const ThreadNames& names_;
    std::vector<PythonKnownLock> locks_;
    std::map<std::uint64_t, std::string> type_names_;
};

// _threadmodule.c (3.11) is in no installed header; it declares a lock object as PyObject_HEAD,
// then the PyThread_type_lock; an RLock as PyObject_HEAD, the lock, then the owner's ident and
// the count. The lock pointer is checked against the waited addresses, the owner against the
// known idents.
constexpr std::uint64_t kLockPointer = 16;
constexpr std::uint64_t kRLockOwner = 24;

// "threading.Lock" for a _thread.lock, "threading.RLock" for a _thread.RLock, "" otherwise.
std::string_view lock_kind(std::string_view type_name) {
    if (type_name == "_thread.lock")
        return "threading.Lock";
    if (type_name == "_thread.RLock")
        return "threading.RLock";
    return "";
}

//-----------------------------------------------------------------------------
// [SECTION] sys.stderr and sys.stdout
//-----------------------------------------------------------------------------

// sys.stderr and sys.stdout (and the __stderr__/__stdout__ they replaced), whose BufferedWriter
// holds a lock. The private structs of _io (textio.c, bufferedio.c) are not in any installed
// header: the TextIOWrapper's first words hold a pointer to an object of type _io.BufferedWriter
// (its `buffer`), and the BufferedWriter's first words hold the lock pointer. bufferedio.c (3.11)
// declares `owner` (the ident of the thread inside, set when it enters) right after `lock`.
void stream_locks(LockFinder& finder, std::uint64_t interpreter) {
    const Memory& memory = finder.memory();
    const Objects& objects = finder.objects();
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
                if (finder.waited(lock))
                    finder.add(lock,
                               fmt::format("sys.{}'s buffer lock (the lock of its io.{})", stream,
                                           type.substr(4)),
                               memory.word(buffer + 8 * (j + 1)));
            }
            break;
        }
    }
}

//-----------------------------------------------------------------------------
// [SECTION] Import locks
//-----------------------------------------------------------------------------

// importlib._bootstrap (frozen, sys.modules['_frozen_importlib']) keeps one _ModuleLock per
// module being imported in _module_locks: the module's name -> a weak reference to the lock. A
// _ModuleLock is a plain Python object: `lock` (a _thread.lock held only inside its acquire() and
// release()), `wakeup` (the _thread.lock an import waits on while another thread's import of the
// same module runs), `owner` (the ident of the importing thread, None when free) and `count`.
void import_locks(LockFinder& finder, std::uint64_t modules) {
    const Memory& memory = finder.memory();
    const Objects& objects = finder.objects();
    const std::uint64_t bootstrap = objects.item(modules, "_frozen_importlib");
    if (!bootstrap)
        return;
    const std::uint64_t globals = memory.word(bootstrap + kOffsets.module_dict);
    objects.for_each_item(
        objects.item(globals, "_module_locks"), [&](std::uint64_t key, std::uint64_t reference) {
            const auto module = objects.text(key);
            if (!module || finder.type_name(reference) != "weakref.ReferenceType")
                return false;
            const std::uint64_t module_lock = memory.word(reference + kOffsets.weakref_object);
            if (!module_lock || finder.type_name(module_lock) != "_ModuleLock")
                return false;
            const std::uint64_t owner_object = objects.attribute(module_lock, "owner");
            std::uint64_t owner = 0;
            if (owner_object && finder.type_name(owner_object) == "int")
                owner = objects.unsigned_int(owner_object).value_or(0);
            for (const char* field : {"wakeup", "lock"}) {
                const std::uint64_t lock_object = objects.attribute(module_lock, field);
                if (!lock_object || finder.type_name(lock_object) != "_thread.lock")
                    continue;
                const std::uint64_t lock = memory.word(lock_object + kLockPointer);
                if (!finder.waited(lock))
                    continue;
                finder.add(lock,
                           std::string_view(field) == "wakeup"
                               ? fmt::format("the import lock of module '{}' (importlib's "
                                             "_ModuleLock for it: an import of the module waits "
                                             "on its wakeup lock while another thread's import "
                                             "of it is in progress)",
                                             *module)
                               : fmt::format("the inner lock of module '{}''s import lock "
                                             "(_ModuleLock.lock, held only for a moment inside "
                                             "its acquire() and release())",
                                             *module),
                           owner);
            }
            return finder.all_named();
        });
}

//-----------------------------------------------------------------------------
// [SECTION] threading.Lock and RLock in modules' globals
//-----------------------------------------------------------------------------

// A lock object `value`, kept `where` ("a global of module __main__"): added when it is a
// threading.Lock or RLock whose lock is waited for, under the name `name_of()` gives
// ("registry_lock", "registry._lock"), read only then.
template <typename NameOf>
void consider_lock(LockFinder& finder, std::uint64_t value, const NameOf& name_of,
                   const std::string& where) {
    const std::string_view kind = lock_kind(finder.type_name(value));
    if (kind.empty())
        return;
    const std::uint64_t lock = finder.memory().word(value + kLockPointer);
    if (!finder.waited(lock))
        return;
    const std::optional<std::string> name = name_of();
    if (!name)
        return;
    const bool reentrant = kind == "threading.RLock";
    finder.add(lock, fmt::format("the {} {} ({})", kind, *name, where),
               reentrant ? finder.memory().word(value + kRLockOwner) : 0);
}

// Every module's globals, and one level into the instances __main__ holds (a registry object
// with its own lock, a queue.Queue's mutex): where a program keeps the locks it shares between
// threads. Locals and deeper objects are not searched.
void global_locks(LockFinder& finder, std::uint64_t modules) {
    const Memory& memory = finder.memory();
    const Objects& objects = finder.objects();
    std::size_t budget = kMaxGlobals, module_count = 0;
    objects.for_each_item(modules, [&](std::uint64_t key, std::uint64_t module) {
        const auto module_name = objects.text(key);
        if (!module_name || finder.type_name(module) != "module")
            return false;
        const std::string where = fmt::format("a global of module {}", *module_name);
        const std::string held_by = "an attribute of " + where;
        const bool program = *module_name == "__main__";
        objects.for_each_item(
            memory.word(module + kOffsets.module_dict),
            [&](std::uint64_t name_key, std::uint64_t value) {
                consider_lock(
                    finder, value, [&] { return objects.text(name_key); }, where);
                if (program)
                    objects.for_each_attribute(
                        value, [&](std::uint64_t attribute_key, std::uint64_t attribute) {
                            consider_lock(
                                finder, attribute,
                                [&]() -> std::optional<std::string> {
                                    const auto name = objects.text(name_key);
                                    const auto attribute_name = objects.text(attribute_key);
                                    if (!name || !attribute_name)
                                        return std::nullopt;
                                    return fmt::format("{}.{}", *name, *attribute_name);
                                },
                                held_by);
                            return finder.all_named() || --budget == 0;
                        });
                return finder.all_named() || budget == 0 || --budget == 0;
            });
        return finder.all_named() || budget == 0 || ++module_count >= kMaxModules;
    });
}

//-----------------------------------------------------------------------------
// [SECTION] Locks of logging's handlers
//-----------------------------------------------------------------------------

// logging keeps a weak reference to every handler ever made in logging._handlerList, so a
// handler's locks are found wherever the program keeps the handler (a logger's handlers, a
// local): its own `lock` (an RLock that logging re-creates in a forked child since Python 3.7)
// and any lock a subclass adds.
void logging_handler_locks(LockFinder& finder, std::uint64_t modules) {
    const Memory& memory = finder.memory();
    const Objects& objects = finder.objects();
    const std::uint64_t logging = objects.item(modules, "logging");
    if (!logging)
        return;
    const std::uint64_t handlers =
        objects.item(memory.word(logging + kOffsets.module_dict), "_handlerList");
    if (!handlers || finder.type_name(handlers) != "list")
        return;
    for (std::uint64_t reference : objects.list_items(handlers)) {
        if (finder.all_named())
            return;
        if (!reference || finder.type_name(reference) != "weakref.ReferenceType")
            continue;
        const std::uint64_t handler = memory.word(reference + kOffsets.weakref_object);
        if (!handler)
            continue;
        const std::string where =
            fmt::format("an attribute of a logging handler of class {}", finder.type_name(handler));
        objects.for_each_attribute(handler, [&](std::uint64_t key, std::uint64_t value) {
            consider_lock(
                finder, value, [&] { return objects.text(key); }, where);
            return finder.all_named();
        });
    }
}

} // namespace

//-----------------------------------------------------------------------------
// [SECTION] All of them
//-----------------------------------------------------------------------------

std::vector<PythonKnownLock> python_known_locks(const Objects& objects, std::uint64_t interpreter,
                                                const std::vector<std::uint64_t>& waited,
                                                const ThreadNames& names) {
    if (waited.empty())
        return {};
    std::vector<std::uint64_t> distinct = waited;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    LockFinder finder(objects, distinct, names);
    const std::uint64_t modules = objects.memory().word(interpreter + kOffsets.interpreter_modules);
    // The most specific names first: a stream's lock or an import lock is also reachable as an
    // object's attribute, but is better called what it is.
    stream_locks(finder, interpreter);
    if (!finder.all_named())
        import_locks(finder, modules);
    if (!finder.all_named())
        global_locks(finder, modules);
    if (!finder.all_named())
        logging_handler_locks(finder, modules);
    return finder.take();
}

} // namespace forklore::python_memory

#endif // FORKLORE_HAVE_PYTHON_OFFSETS
