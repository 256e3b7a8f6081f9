// A run record in the Chrome trace event format (the JSON that ui.perfetto.dev and
// chrome://tracing open), so a class can zoom into a run with the tools of the trade.
//
// What it holds (times in microseconds from the run's start; pid and tid are the sandbox's
// namespace ids, the ones the explanation and the event log use):
// - metadata ("ph":"M"): process_name, process_sort_index, process_labels, thread_name and
//   thread_sort_index for every process and thread of the program (the sandbox's own host and
//   reaper are left out, as the GUI leaves them out), in the process tree's order;
// - complete slices ("ph":"X") for what each thread did: "holds file_lock" and "waits for
//   file_lock" (cat "lock"), the copy of a lock a forked child was born holding (cat "lock"),
//   other waits (cat "wait": a condition, a join, a child, a barrier), what the kernel's samples
//   showed of a program nobody instrumented (cat "sampled"); args say where the lock was taken
//   or waited for in the source, the lock's address, and whether the span never ended;
// - flows for each fork, spawn and exec: "ph":"s" on the thread that forked and "ph":"f"
//   ("bp":"e") on the child's first thread, with the same name, cat and id, each on a short slice
//   of its own with the same ts, pid, tid and cat (Perfetto binds a flow to the slice around it,
//   Chrome's DevTools to a slice with equal cat, pid, tid and ts);
// - instant events ("ph":"i"): the verdict (global), each stuck thread where its last wait
//   began, each process's exit, and the scenario's notes.
//
// Slices on one thread must nest (a viewer drops or misdraws one that overlaps its parent's
// end): a span that would cross another's end (a semaphore posted by another thread, a copy
// released after a lock taken later) is written as an async slice ("ph":"b"/"e") of its process
// instead, with the same name and args.
#pragma once

#include "sim/record/record.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace forklore {

nlohmann::json chrome_trace(const RunRecord& record);
// As a file holds it: to_json_text of the above (invalid UTF-8 in a name becomes U+FFFD).
std::string chrome_trace_text(const RunRecord& record);

} // namespace forklore
