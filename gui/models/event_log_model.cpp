#include "gui/models/event_log_model.hpp"

#include "sim/protocol/start_method.hpp"
#include "sim/verdict/verdict.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>

namespace forklore::gui {

namespace {

// ASCII lower case by table: the filter compares every character of 100k events, and
// std::tolower's locale lookup per character made that visibly slow.
constexpr std::array<char, 256> make_lower_table() {
    std::array<char, 256> table{};
    for (int c = 0; c < 256; ++c)
        table[static_cast<std::size_t>(c)] =
            static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return table;
}
constexpr std::array<char, 256> kLower = make_lower_table();

char lower(char c) {
    return kLower[static_cast<unsigned char>(c)];
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), lower);
    return out;
}

// `lowered_needle` is already lower case and not empty; the haystack is compared in place.
bool contains(std::string_view haystack, std::string_view lowered_needle) {
    if (lowered_needle.size() > haystack.size())
        return false;
    const std::size_t last = haystack.size() - lowered_needle.size();
    for (std::size_t i = 0; i <= last; ++i) {
        if (lower(haystack[i]) != lowered_needle[0])
            continue;
        std::size_t j = 1;
        while (j < lowered_needle.size() && lower(haystack[i + j]) == lowered_needle[j])
            ++j;
        if (j == lowered_needle.size())
            return true;
    }
    return false;
}

bool text_matches(const Event& event, std::string_view lowered_needle) {
    if (lowered_needle.empty())
        return true;
    return contains(to_string(event.kind), lowered_needle) ||
           contains(field_text(event.thread), lowered_needle) ||
           contains(field_text(event.name), lowered_needle) ||
           contains(field_text(event.text), lowered_needle);
}

bool kind_shown(const Event& event, const EventFilter& filter) {
    auto index = static_cast<std::size_t>(event.kind);
    return index < filter.kinds.size() && filter.kinds[index];
}

bool matches_lowered(const Event& event, const EventFilter& filter, std::string_view needle) {
    // Cheapest tests first: a 100k-event record is filtered in one pass.
    if (!kind_shown(event, filter))
        return false;
    if (filter.pid && event.pid != *filter.pid)
        return false;
    return text_matches(event, needle);
}

std::string named_address(const Event& event) {
    std::string_view name = field_text(event.name);
    if (name.empty())
        return fmt::format("@{:#x}", event.object);
    return fmt::format("{} @{:#x}", name, event.object);
}

std::string quoted_name(const Event& event) {
    std::string_view name = field_text(event.name);
    return name.empty() ? std::string() : fmt::format(" '{}'", name);
}

} // namespace

bool event_matches(const Event& event, const EventFilter& filter) {
    return matches_lowered(event, filter, lowercase(filter.text));
}

bool EventLogModel::update(const RunRecord& record, std::uint64_t generation,
                           const EventFilter& filter) {
    if (record_ == &record && generation_ == generation && filter_ && *filter_ == filter &&
        total_ == record.events.size())
        return false;
    record_ = &record;
    generation_ = generation;
    filter_ = filter;
    total_ = record.events.size();

    const std::string needle = lowercase(filter.text);
    rows_.clear();
    kind_counts_.fill(0);
    processes_.clear();
    for (std::size_t i = 0; i < record.events.size(); ++i) {
        const Event& event = record.events[i];
        auto kind = static_cast<std::size_t>(event.kind);
        if (kind < kind_counts_.size())
            ++kind_counts_[kind];
        // Few processes: a sorted vector with a check against the last one found is enough.
        if (processes_.empty() || processes_.back() != event.pid) {
            auto at = std::lower_bound(processes_.begin(), processes_.end(), event.pid);
            if (at == processes_.end() || *at != event.pid)
                processes_.insert(at, event.pid);
        }
        if (matches_lowered(event, filter, needle))
            rows_.push_back(i);
    }
    return true;
}

std::optional<std::size_t> EventLogModel::row_of(std::size_t event_index) const {
    auto found = std::lower_bound(rows_.begin(), rows_.end(), event_index);
    if (found == rows_.end() || *found != event_index)
        return std::nullopt;
    return static_cast<std::size_t>(found - rows_.begin());
}

double event_time_ms(const RunRecord& record, const Event& event) {
    return static_cast<double>(event.time_ns - record.start_time_ns) / 1e6;
}

std::string event_object_text(const Event& event) {
    switch (event.kind) {
    case EventKind::lock_wait:
    case EventKind::lock_acquired:
    case EventKind::lock_released:
    case EventKind::barrier_wait:
    case EventKind::barrier_passed:
    case EventKind::cond_wait:
    case EventKind::cond_woken:
    case EventKind::cond_signal:
        return named_address(event);
    case EventKind::file_lock_wait:
    case EventKind::file_lock_acquired:
    case EventKind::file_lock_released:
        return fmt::format("{} (fd {})", field_text(event.name), event.object);
    case EventKind::child_start:
        return fmt::format("child {}{}", event.object, quoted_name(event));
    case EventKind::process_exit:
    case EventKind::signal_sent:
        return fmt::format("process {}", event.object);
    case EventKind::child_wait:
        return fmt::format("child {}", event.object);
    case EventKind::join_wait:
    case EventKind::join_done:
        return fmt::format("thread {}{}", event.object, quoted_name(event));
    default:
        return std::string(field_text(event.name));
    }
}

std::string event_args_text(const Event& event) {
    switch (event.kind) {
    case EventKind::process_start:
        return fmt::format("parent {}", event.arg0);
    case EventKind::thread_start:
        return fmt::format("made by tid {}", event.arg0);
    case EventKind::lock_wait:
    case EventKind::lock_acquired:
    case EventKind::lock_released:
        return std::string(to_string(static_cast<LockKind>(event.arg0)));
    case EventKind::file_lock_wait:
    case EventKind::file_lock_acquired:
    case EventKind::file_lock_released: {
        static constexpr std::string_view kinds[] = {"flock", "fcntl", "ofd"};
        std::string_view kind = event.arg0 >= 0 && event.arg0 < 3 ? kinds[event.arg0] : "?";
        return fmt::format("{}, inode {}", kind, event.arg1);
    }
    case EventKind::child_start:
        if (event.arg0 >= 0 && static_cast<std::size_t>(event.arg0) < kStartMethodNames.size()) {
            std::string method(kStartMethodNames[static_cast<std::size_t>(event.arg0)]);
            // A copy made without glibc's fork() is worth telling apart: nothing was reset in it.
            if (copy_call_of(event.arg0, event.arg1) != CopyCall::fork)
                method += fmt::format(", by {}", copy_call_name(event.arg1));
            return method;
        }
        return fmt::format("method {}", event.arg0);
    case EventKind::process_exit:
        return WaitStatus::from_raw(static_cast<int>(event.arg0)).text();
    case EventKind::signal_sent:
        return signal_name(static_cast<int>(event.arg0));
    case EventKind::output:
        return fmt::format("fd {}", event.arg0);
    case EventKind::cond_wait:
    case EventKind::cond_woken:
        return fmt::format(
            "{}, mutex @{:#x}",
            event.arg0 == static_cast<std::int64_t>(CondWaitKind::destroy) ? "destroy" : "wait",
            static_cast<std::uint64_t>(event.arg1));
    case EventKind::cond_signal:
        return event.arg0 ? "broadcast" : "signal";
    case EventKind::child_wait:
        return event.arg0 < 0 ? std::string("waitpid") : fmt::format("status on fd {}", event.arg0);
    case EventKind::measurement:
        return fmt::format("{:g} {}", measurement_value(event), field_text(event.text));
    default:
        return {};
    }
}

} // namespace forklore::gui
