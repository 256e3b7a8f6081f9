#include "gui/record_view.hpp"

namespace forklore::gui {

void Selection::select_event(const RunRecord& record, std::size_t index) {
    if (index >= record.events.size()) {
        clear();
        return;
    }
    const Event& e = record.events[index];
    event = index;
    pid = e.pid;
    tid = e.tid;
    object = e.object;
}

void Selection::select_thread(pid_t process, pid_t thread) {
    event.reset();
    pid = process;
    tid = thread;
    object = 0;
}

} // namespace forklore::gui
