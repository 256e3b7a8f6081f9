// Converting a parsed JSON value into a RunRecord, field by field, each checked by its type and
// range (json_fields.hpp). The streaming parse of record_reader.cpp converts the events and the
// snapshots as they arrive with the same functions, and hands the rest of the record to
// record_or_error.
#pragma once

#include "sim/record/json_fields.hpp"
#include "sim/record/record.hpp"

#include <optional>
#include <string>
#include <vector>

namespace forklore::record_reading {

// The events and snapshots the streaming parse converted (times relative to the start), or
// nothing: then they are read from the JSON value.
struct Streamed {
    bool events_seen = false, snapshots_seen = false;
    std::vector<Event> events;
    SourceFiles source_files; // the files the events name
    std::vector<Snapshot> snapshots;
    std::optional<std::string> stdout_text, stderr_text;
};

// An event with its time relative to the run's start (start_time_ns may come later in the
// file); the path of its source file goes into `files`.
Event event_from_json(const json& j, SourceFiles& files);
// A snapshot with its time relative to the run's start, as an event.
Snapshot snapshot_from_json(const json& j);

// The whole record from its JSON value, with the events and snapshots of `streamed` when the
// parse converted them already (nullptr: every part is read from `j`). Throws RecordError.
RunRecord record_or_error(const json& j, Streamed* streamed);

} // namespace forklore::record_reading
