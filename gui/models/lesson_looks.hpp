// Where a lesson's `look:` points the other panels: a lock (the Locks tab), a thread (the
// Timeline) or a process (the Process tree), found by name in a run's record and turned into the
// selection every panel shows. No ImGui; the app applies it and brings the tab to the front.
#pragma once

#include "gui/record_view.hpp"
#include "sim/lesson/lesson.hpp"
#include "sim/record/record.hpp"

#include <memory>
#include <optional>
#include <string>

namespace forklore::gui {

struct LookTarget {
    enum class Tab { timeline, process_tree, locks };
    Tab tab = Tab::timeline;
    Selection selection;
    std::string said; // what is selected, for the student: "the child's copy of 'file_lock'"
    // The run it points into, put on screen when another is there (the selection names its pids,
    // tids and addresses). Set by whoever holds the record; null: the record on screen.
    std::shared_ptr<const RunRecord> record;
};

// The selection a look makes in `record`; nothing when the record has no such lock, thread or
// process. Where a name has several (a lock fork copied, a thread name in two processes), the one
// the verdict is about comes first: the stuck copy or thread, the culprit process.
std::optional<LookTarget> find_look(const lesson::Look& look, const RunRecord& record);

} // namespace forklore::gui
