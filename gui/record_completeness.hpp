// Whether a record holds what it says it holds. A file cut short (an editor, a full disk, a copy
// interrupted) can still be valid JSON: its verdict then speaks of threads and locks whose events
// are not in it, and the panels must say so rather than draw a cycle over an empty timeline.
#pragma once

#include "sim/record/record.hpp"

#include <string>

namespace forklore::gui {

// "" when the record is whole as far as it can tell; otherwise one sentence a student reads:
// "This record holds 3 of the 15 events it was saved with: ...".
std::string describe_incomplete_record(const RunRecord& record);

} // namespace forklore::gui
