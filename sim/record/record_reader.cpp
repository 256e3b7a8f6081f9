// Reading run records: from a file a user names, from text, or from a parsed JSON value.
//
// A record comes from outside (a classmate's file, a download, a fuzzer), so nothing in it is
// trusted. Every field is read by its type, with its range: a wrong one is an error naming where
// it is ("snapshots[3].processes[1].threads[0].state"), never a crash, a silent wrap of a number
// or undefined behaviour. The parse is bounded (RecordLimits): nesting depth, so that nothing
// downstream can recurse off the stack; and the counts of events, objects and values, so that
// memory stays bounded whatever the file holds. The two big arrays, events and snapshots, are
// converted element by element while the parser reads them and their JSON is dropped at once:
// a record never exists twice in memory.
#include "sim/record/record.hpp"

#include "sim/protocol/text.hpp"
#include "sim/record/record_from_json.hpp"
#include "sim/record/user_file.hpp"

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

namespace forklore {
namespace record_reading {
namespace {

// nlohmann's messages start with "[json.exception.parse_error.101] ": not for people.
std::string without_exception_id(const char* what) {
    std::string_view message = what;
    if (message.rfind("[json.exception.", 0) == 0) {
        const auto close = message.find("] ");
        if (close != std::string_view::npos)
            message.remove_prefix(close + 2);
    }
    return printable(message, 300);
}

// The parse: a SAX handler that builds the record's JSON value as nlohmann's own DOM parser
// would (a key given twice keeps its last value), with these differences:
// - it bounds the nesting and the counts of RecordLimits as the values arrive;
// - each element of the top-level "events" and "snapshots" arrays is converted as soon as it is
//   complete and its JSON dropped, and the top-level "stdout" and "stderr" strings are moved
//   into place: the biggest parts of a record never exist twice;
// - it is linear: nlohmann's callback parser scans the whole enclosing array after every object
//   (to find one it discarded), which made 500,000 small objects take a minute.
// Depth below is the number of arrays and objects open: the record's own object is at depth 1,
// an element of its "events" array at depth 3.
class RecordSax {
  public:
    explicit RecordSax(const RecordLimits& limits) : limits_(limits) {}

    json root;
    Streamed streamed;

    bool null() { return scalar(nullptr); }
    bool boolean(bool value) { return scalar(value); }
    bool number_integer(json::number_integer_t value) { return scalar(value); }
    bool number_unsigned(json::number_unsigned_t value) { return scalar(value); }
    bool number_float(json::number_float_t value, const std::string&) { return scalar(value); }
    bool binary(json::binary_t&) { return scalar(nullptr); } // JSON text has none

    bool string(std::string& value) {
        // The run's output, up to megabytes: moved, not copied (a placeholder stays in the tree).
        if (stack_.size() == 1 && (key_ == "stdout" || key_ == "stderr") && !in_element()) {
            count_value(false);
            (key_ == "stdout" ? streamed.stdout_text : streamed.stderr_text) = std::move(value);
            return true;
        }
        return scalar(std::move(value));
    }

    bool start_object(std::size_t) { return open(json::object(), true); }
    bool start_array(std::size_t) {
        const bool top_array = stack_.size() == 1;
        open(json::array(), false);
        if (top_array)
            start_streaming();
        return true;
    }

    bool key(std::string& name) {
        count_value(false);
        if (stack_.size() == 1) {
            key_ = name;
            // A key given again replaces what it held, as in a JSON object, even by a value
            // of another type (then the tree holds it, and reading it says what is wrong).
            if (key_ == "stdout")
                streamed.stdout_text.reset();
            if (key_ == "stderr")
                streamed.stderr_text.reset();
            if (key_ == "events") {
                streamed.events_seen = false;
                streamed.events.clear();
            }
            if (key_ == "snapshots") {
                streamed.snapshots_seen = false;
                streamed.snapshots.clear();
            }
        }
        member_ = &(*stack_.back())[name];
        *member_ = nullptr;
        return true;
    }

    bool end_object() {
        const bool element = in_element() && stack_.size() == 3;
        stack_.pop_back();
        if (element) {
            convert(stack_.back()->back());
            stack_.back()->get_ref<json::array_t&>().pop_back(); // converted: drop its JSON
        }
        return true;
    }

    bool end_array() {
        stack_.pop_back();
        if (stack_.size() == 1)
            streaming_ = Array::none;
        return true;
    }

    bool parse_error(std::size_t, const std::string&, const json::exception& error) {
        throw RecordError("not JSON: " + without_exception_id(error.what()));
    }

  private:
    enum class Array { none, events, snapshots };

    bool in_element() const { return streaming_ != Array::none && stack_.size() >= 2; }

    // Puts a value where the parse is: the root, the next element of an array, or the member
    // whose key came last. Returns where it went.
    json* place(json&& value) {
        if (stack_.empty()) {
            root = std::move(value);
            return &root;
        }
        json& container = *stack_.back();
        if (container.is_array()) {
            container.push_back(std::move(value));
            return &container.back();
        }
        *member_ = std::move(value);
        return member_;
    }

    bool scalar(json&& value) {
        if (in_element() && stack_.size() == 2)
            start_element(false);
        count_value(false);
        place(std::move(value));
        return true;
    }

    bool open(json&& container, bool is_object) {
        if (stack_.size() >= static_cast<std::size_t>(limits_.max_depth))
            throw RecordError(fmt::format("run record: arrays and objects nested more than {} "
                                          "deep (a record uses 7)",
                                          limits_.max_depth));
        if (in_element() && stack_.size() == 2)
            start_element(is_object);
        count_value(is_object);
        stack_.push_back(place(std::move(container)));
        return true;
    }

    // A top-level array starts: the events or the snapshots are streamed.
    void start_streaming() {
        if (key_ == "events") {
            streaming_ = Array::events;
            streamed.events_seen = true;
        } else if (key_ == "snapshots") {
            streaming_ = Array::snapshots;
            streamed.snapshots_seen = true;
        }
    }

    void start_element(bool is_object) {
        if (!is_object)
            throw RecordError(fmt::format("run record: {}: must be an object", element_name()));
        if (streaming_ == Array::events && streamed.events.size() >= limits_.max_events)
            throw RecordError(fmt::format("run record: more than {} events (the most a record "
                                          "may hold)",
                                          limits_.max_events));
        element_values_ = 0;
    }

    void count_value(bool is_object) {
        if (streaming_ == Array::events && stack_.size() >= 2) {
            // Inside the events array: the array itself counted as a value of the record.
            if (stack_.size() == 2 || ++element_values_ <= limits_.max_event_values) {
                if (stack_.size() == 2)
                    element_values_ = 1;
                return;
            }
            throw RecordError(fmt::format("run record: {} holds more than {} values (the most "
                                          "an event may)",
                                          element_name(), limits_.max_event_values));
        }
        if (++values_ > limits_.max_values)
            throw RecordError(fmt::format("run record: more than {} JSON values besides the "
                                          "events (the most a record may hold)",
                                          limits_.max_values));
        if (is_object && ++objects_ > limits_.max_objects)
            throw RecordError(fmt::format("run record: more than {} JSON objects besides the "
                                          "events (the most a record may hold)",
                                          limits_.max_objects));
    }

    void convert(const json& element) {
        try {
            if (streaming_ == Array::events)
                streamed.events.push_back(event_from_json(element, streamed.source_files));
            else
                streamed.snapshots.push_back(snapshot_from_json(element));
        } catch (const FieldError& error) {
            throw RecordError(fmt::format("run record: {}: {}",
                                          join_path(element_name(), error.path), error.problem));
        }
    }

    std::string element_name() const {
        return streaming_ == Array::events
                   ? fmt::format("events[{}]", streamed.events.size())
                   : fmt::format("snapshots[{}]", streamed.snapshots.size());
    }

    const RecordLimits& limits_;
    std::vector<json*> stack_; // the open arrays and objects, outermost first
    json* member_ = nullptr;   // where the value of the last key goes
    Array streaming_ = Array::none;
    std::string key_; // the last key of the record's own object
    std::size_t element_values_ = 0, values_ = 0, objects_ = 0;
};

} // namespace
} // namespace record_reading

RunRecord parse_run_record(std::string_view text, const RecordLimits& limits) {
    if (text.size() > limits.max_bytes)
        throw RecordError(fmt::format("run record: larger than {} bytes (the most a record may be)",
                                      limits.max_bytes));
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
        throw RecordError("not JSON: empty");
    record_reading::RecordSax reader(limits);
    try {
        nlohmann::json::sax_parse(text.begin(), text.end(), &reader);
    } catch (const nlohmann::json::exception& error) {
        throw RecordError("not JSON: " + record_reading::without_exception_id(error.what()));
    }
    return record_reading::record_or_error(reader.root, &reader.streamed);
}

RunRecord load_run_record_file(const std::string& path, const RecordLimits& limits) {
    const std::string content = read_regular_file(path, limits.max_bytes, "a run record");
    if (content.empty())
        throw RecordError(fmt::format("{} is empty: not a run record", printable(path)));
    try {
        return parse_run_record(content, limits);
    } catch (const RecordError& error) {
        throw RecordError(fmt::format("{}: {}", printable(path), error.what()));
    }
}

} // namespace forklore
