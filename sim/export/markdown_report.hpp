// A run record as a Markdown report, for a handout or a course page: the scenario, its variant
// and knobs; the verdict and its whole explanation; the warnings; the process tree (the lines
// `forklore exec` prints, record_text.hpp); the stuck threads with what each waits for and its
// native stack; the locks left held or waited on (the fork-aware lock replay); what was left
// running; the end of stdout and stderr; and what the record says of itself (its format's
// version, the machine, the sandbox). The record holds no version of forklore itself, so the
// report names none.
//
// Text from the program (names, output) is escaped where Markdown would read it as markup, and
// quoted output sits in code blocks whose fence no line of it can close.
#pragma once

#include "sim/record/record.hpp"

#include <string>

namespace forklore {

std::string markdown_report(const RunRecord& record);

} // namespace forklore
