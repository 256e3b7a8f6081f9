// Reading one field of an untrusted JSON object by its type and range. See json_fields.hpp.
#include "sim/record/json_fields.hpp"

#include <cmath>

namespace forklore::record_reading {

[[noreturn]] void fail(std::string path, std::string problem) {
    throw FieldError{std::move(path), std::move(problem)};
}

std::string join_path(std::string_view outer, const std::string& inner) {
    if (inner.empty())
        return std::string(outer);
    if (inner.front() == '[')
        return std::string(outer) + inner;
    return std::string(outer) + "." + inner;
}

std::string shown(const json& value) {
    if (value.is_array())
        return "a list";
    if (value.is_object())
        return "an object";
    return printable(value.dump(-1, ' ', false, json::error_handler_t::replace), 60);
}

const json* member(const json& object, const char* key) {
    const auto found = object.find(key);
    return found == object.end() ? nullptr : &*found;
}

void require_object(const json& value) {
    if (!value.is_object())
        fail("", fmt::format("must be an object (got {})", shown(value)));
}

double number(const json& object, const char* key, double fallback) {
    const json* value = member(object, key);
    if (!value)
        return fallback;
    if (value->is_number()) {
        const double result = value->get<double>();
        if (std::isfinite(result))
            return result;
    }
    fail(key, fmt::format("must be a finite number (got {})", shown(*value)));
}

bool flag(const json& object, const char* key, bool fallback) {
    const json* value = member(object, key);
    if (!value)
        return fallback;
    if (!value->is_boolean())
        fail(key, fmt::format("must be true or false (got {})", shown(*value)));
    return value->get<bool>();
}

std::string text(const json& object, const char* key, std::string fallback) {
    const json* value = member(object, key);
    if (!value)
        return fallback;
    if (!value->is_string())
        fail(key, fmt::format("must be a string (got {})", shown(*value)));
    return value->get_ref<const std::string&>();
}

const json* list(const json& object, const char* key) {
    const json* value = member(object, key);
    if (value && !value->is_array())
        fail(key, fmt::format("must be a list (got {})", shown(*value)));
    return value;
}

const json* object_member(const json& object, const char* key) {
    const json* value = member(object, key);
    if (value && !value->is_object())
        fail(key, fmt::format("must be an object (got {})", shown(*value)));
    return value;
}

std::int64_t time_ns(const json& object, const char* key) {
    const auto t = whole(object, key, std::int64_t{0});
    if (t < -kMaxTimeNs || t > kMaxTimeNs)
        fail(key, fmt::format("must be within {} ns (104 days) of the run's start (got {})",
                              kMaxTimeNs, t));
    return t;
}

double duration(const json& object, const char* key, double unit) {
    const double value = number(object, key, 0.0);
    if (std::fabs(value) > static_cast<double>(kMaxTimeNs) / unit)
        fail(key, fmt::format("must be within 104 days (got {})", value));
    return value;
}

} // namespace forklore::record_reading
