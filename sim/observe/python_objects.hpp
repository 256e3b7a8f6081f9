// The reading of another process's CPython objects, shared by python_frames.cpp (thread states,
// frames, thread names) and python_known_locks.cpp (the locks of objects it can name). Internal
// to sim/observe: only compiled where CPython's headers gave the offsets (python_offsets.c).
//
// Every read goes through process_vm_readv and every walk is bounded: the process is not stopped,
// so a read that races a running thread gives a wrong or missing value, never a wait.
#pragma once

#include "sim/observe/python_frames.hpp"
#include "sim/observe/python_offsets.h"

#include <sys/uio.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace forklore::python_memory {

inline const forklore_python_offsets& kOffsets = forklore_python311_offsets;

// Bounds of every walk: far above what a real program has, far below what a loop of torn
// pointers would cost.
constexpr std::size_t kMaxText = 1024;
constexpr std::int64_t kMaxEntries = 1 << 16;

// Another process's memory.

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

// Python objects in that memory: strings, ints, dicts, sets, attributes.

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
        std::uint64_t found = 0;
        for_each_attribute(object, [&](std::uint64_t key, std::uint64_t value) {
            if (text(key) != name)
                return false;
            found = value;
            return true;
        });
        return found;
    }

    // Every (name, value) of an instance's managed attributes (see attribute()); nothing for an
    // object whose class keeps no managed dict (a C type, a class with __slots__).
    void for_each_attribute(std::uint64_t object, const EntryVisitor& visit) const {
        const std::uint64_t type = memory_.word(object + kOffsets.object_type);
        const std::uint64_t flags = memory_.word(type + kOffsets.type_flags);
        if (!(flags & kOffsets.managed_dict_flag))
            return;
        const auto slot = [&](std::int64_t index) {
            return memory_.word(object + static_cast<std::uint64_t>(index * 8));
        };
        if (std::uint64_t dict = slot(kOffsets.managed_dict_slot))
            for_each_item(dict, visit);
        else if (std::uint64_t values = slot(kOffsets.managed_values_slot))
            for_each_entry(memory_.word(type + kOffsets.heap_type_cached_keys), values, visit);
    }

    // The items of a list (at most kMaxEntries).
    std::vector<std::uint64_t> list_items(std::uint64_t list) const {
        std::vector<std::uint64_t> items;
        const auto size = memory_.value<std::int64_t>(list + kOffsets.var_size);
        const std::uint64_t array = memory_.word(list + kOffsets.list_items);
        if (size <= 0 || size > kMaxEntries || !array)
            return items;
        items.resize(static_cast<std::size_t>(size));
        if (!memory_.read(array, items.data(), items.size() * 8))
            items.clear();
        return items;
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

using ThreadNames = std::vector<std::pair<std::uint64_t, std::string>>; // ident -> threading name

// The locks among `waited` (futex addresses the process's threads wait on) that belong to an
// object the interpreter can name: sys.stderr's and sys.stdout's buffers, the import lock of a
// module, a threading.Lock or RLock held in a module's globals. python_known_locks.cpp.
std::vector<PythonKnownLock> python_known_locks(const Objects& objects, std::uint64_t interpreter,
                                                const std::vector<std::uint64_t>& waited,
                                                const ThreadNames& names);

} // namespace forklore::python_memory
