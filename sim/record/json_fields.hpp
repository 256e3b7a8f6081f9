// Reading one field of an untrusted JSON object (a run record from outside) by its type and
// its range. A wrong field throws FieldError naming where it is and what is wrong with it; the
// record reader turns that into one line ("run record: events[3].kind: unknown event kind 'x'").
// Never a crash, a silent wrap of a number or undefined behaviour.
#pragma once

#include "sim/protocol/text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace forklore::record_reading {

using nlohmann::json;

// A field that cannot be read: where it is in the record (built up as the error travels out
// through the arrays and objects holding it) and what is wrong with it.
struct FieldError {
    std::string path;    // "snapshots[3].processes[1].threads[0].state"
    std::string problem; // "must be one character (got \"\")"
};

[[noreturn]] void fail(std::string path, std::string problem);

// `outer` + `inner`: "events[3]" + "kind" -> "events[3].kind"; "threads" + "[0]" -> "threads[0]".
std::string join_path(std::string_view outer, const std::string& inner);

// A bad value as the message shows it: short, on one line; a list or an object by its kind
// (dumping it could be long).
std::string shown(const json& value);

// The member `key` of `object`, or nullptr when it has none.
const json* member(const json& object, const char* key);

void require_object(const json& value);

// A whole number of type T; `fallback` when the field is missing. A fraction, a string, or a
// number T cannot hold is an error (nlohmann's get<int>() would cut or wrap it silently).
template <typename T> T whole(const json& object, const char* key, T fallback) {
    const json* value = member(object, key);
    if (!value)
        return fallback;
    if (value->is_number_unsigned()) {
        const auto number = value->get<std::uint64_t>();
        if (std::in_range<T>(number))
            return static_cast<T>(number);
    } else if (value->is_number_integer()) {
        const auto number = value->get<std::int64_t>();
        if (std::in_range<T>(number))
            return static_cast<T>(number);
    }
    fail(key,
         fmt::format("must be a whole number from {} to {} (got {})", std::numeric_limits<T>::min(),
                     std::numeric_limits<T>::max(), shown(*value)));
}

// A finite number (JSON has no infinity, but 1e999 parses as one, and is written back as null).
double number(const json& object, const char* key, double fallback);

bool flag(const json& object, const char* key, bool fallback);

std::string text(const json& object, const char* key, std::string fallback = {});

// The value of a name from `names` (an enum's name table).
template <typename Enum, std::size_t N>
Enum named(const std::array<std::string_view, N>& names, const json& object, const char* key,
           const char* what, std::optional<Enum> fallback = std::nullopt) {
    const json* value = member(object, key);
    if (!value) {
        if (fallback)
            return *fallback;
        fail(key, fmt::format("is missing (the {})", what));
    }
    if (!value->is_string())
        fail(key, fmt::format("must be a string (got {})", shown(*value)));
    const auto& name = value->get_ref<const std::string&>();
    for (std::size_t i = 0; i < N; ++i)
        if (names[i] == name)
            return static_cast<Enum>(i);
    fail(key, fmt::format("unknown {} '{}'", what, printable(name, 60)));
}

// A list field, or nullptr when missing.
const json* list(const json& object, const char* key);

// Converts each element of the list field `key` with `convert`, naming the element in errors.
template <typename Convert>
auto list_of(const json& object, const char* key, Convert convert)
    -> std::vector<decltype(convert(object))> {
    std::vector<decltype(convert(object))> result;
    const json* values = list(object, key);
    if (!values)
        return result;
    result.reserve(values->size());
    for (const auto& value : *values) {
        try {
            result.push_back(convert(value));
        } catch (FieldError& error) {
            error.path = join_path(fmt::format("{}[{}]", key, result.size()), error.path);
            throw;
        }
    }
    return result;
}

// An object field, or nullptr when missing.
const json* object_member(const json& object, const char* key);

// Runs `read` on the fields of an object member; a FieldError it throws gets `outer` in front of
// its path ("timings" + "total_ms" -> "timings.total_ms").
template <typename Read> auto inside(std::string_view outer, Read read) -> decltype(read()) {
    try {
        return read();
    } catch (FieldError& error) {
        error.path = join_path(outer, error.path);
        throw;
    }
}

// Times. A record's times are nanoseconds relative to the run's start, and the GUI subtracts
// and adds them freely: within +-2^53 ns (104 days, far longer than any run) no sum or difference
// of a few of them can overflow, and each is exact as a double. The start itself is
// CLOCK_MONOTONIC, never negative, and below 2^62 (146 years of uptime), so start + t fits too.
constexpr std::int64_t kMaxTimeNs = std::int64_t{1} << 53;
constexpr std::int64_t kMaxStartNs = std::int64_t{1} << 62;

// A time in nanoseconds relative to the run's start, within kMaxTimeNs.
std::int64_t time_ns(const json& object, const char* key);

// A duration in `unit`s of a nanosecond (1e6 for milliseconds), within the same bound.
double duration(const json& object, const char* key, double unit);

} // namespace forklore::record_reading
