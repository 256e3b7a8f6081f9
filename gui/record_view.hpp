// What every panel is given: the record on screen and the user's selection, shared by all panels.
#pragma once

#include "sim/record/record.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace forklore::gui {

// The record on screen. A live run replaces it after every sample with a newer copy; the
// generation changes whenever the record does, so a panel rebuilds its model only then (a
// 100k-event record must not be re-analysed every frame).
struct RecordView {
    std::shared_ptr<const RunRecord> record; // null before the first run
    std::uint64_t generation = 0;
    bool live = false; // a run is still producing it
    int run_number =
        0; // which run of a Run/Repeat it is (1-based); 0: an opened file, a matrix cell

    const RunRecord* get() const { return record.get(); }
    explicit operator bool() const { return record != nullptr; }
};

// Which record a panel's model was built from, and with which of the panel's own options (a
// filter): the one way every panel decides to rebuild its model, only when the record on screen,
// its generation or those options changed.
class ModelKey {
  public:
    // Whether the model built last still shows `view` with `options`.
    bool matches(const RecordView& view, int options = 0) const {
        return built_ && record_ == view.get() && generation_ == view.generation &&
               options_ == options;
    }
    void remember(const RecordView& view, int options = 0) {
        built_ = true;
        record_ = view.get();
        generation_ = view.generation;
        options_ = options;
    }
    bool built() const { return built_; }
    const RunRecord* record() const { return record_; }
    int options() const { return options_; }

  private:
    bool built_ = false;
    const RunRecord* record_ = nullptr;
    std::uint64_t generation_ = 0;
    int options_ = 0;
};

// What the user clicked, shown selected in every panel: one event, and the thread, process and
// lock it concerns. Namespace ids, as the trace and explanations use them.
struct Selection {
    std::optional<std::size_t> event; // index into RunRecord::events
    pid_t pid = 0;
    pid_t tid = 0;
    std::uint64_t object = 0; // the event's lock address, file-lock inode, child pid ...

    void select_event(const RunRecord& record, std::size_t index);
    void select_thread(pid_t pid, pid_t tid);
    void clear() { *this = Selection{}; }
    bool is_event(std::size_t index) const { return event && *event == index; }
};

} // namespace forklore::gui
