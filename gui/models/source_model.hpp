// The code beside the timeline: which source file of a run the Source panel shows, its lines,
// the line of the selected event, where each thread is in the code, and the events of a line.
// No ImGui: the tests check it on real records.
//
// Every probe records the file and line it was called from (sim/protocol/call_site.hpp), and the
// corpus's source files are embedded in the program (ScenarioRegistry::source_text): a line is
// marked only from what the trace says happened there, never from what the scenario's text
// suggests.
#pragma once

#include "sim/record/record.hpp"
#include "sim/scenario/scenario.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace forklore::gui {

// Where one thread is in the code: the line of its last event with a location, up to the
// selected event (or to the end of the run when none is selected).
struct ThreadMark {
    pid_t pid = 0, tid = 0;      // namespace ids, as the trace has them
    std::string label;           // "reader (2)": the thread's name and its process
    std::size_t event = 0;       // that last event, an index into RunRecord::events; kNoMarkEvent
                                 // for a Python thread, whose line comes from its frames instead
    bool waiting = false;        // that event is a wait (a lock, a barrier, a child ...), or the
                                 // Python thread is in the run's stuck set
    std::string python_function; // a Python frame's mark: the function it is in ("Printer.run")
};
inline constexpr std::size_t kNoMarkEvent = static_cast<std::size_t>(-1);

// A source file the panel can show.
struct SourceFileChoice {
    std::string path;            // relative to the source tree
    std::uint32_t id = 0;        // source_file_id(path)
    bool embedded = false;       // its text is in this program
    std::size_t event_count = 0; // events recorded from it
};

class SourceModel {
  public:
    // Rebuilds what changed since the last call: the files when the record or its generation
    // changes, the marks when the selected event or the file shown changes too. `wanted` is
    // the file the user chose ("" lets the model choose: the selected event's file, else the
    // scenario's main program). Cheap when nothing changed, so it can be called every frame.
    void update(const RunRecord& record, std::uint64_t generation,
                std::optional<std::size_t> selected_event, const std::string& wanted,
                const ScenarioRegistry& registry = ScenarioRegistry::instance());

    // Why no code is shown, in one line ("" when a file is shown).
    const std::string& unavailable() const { return unavailable_; }
    // A remark about the file shown, in one line (a Python program: where its marks come from).
    const std::string& remark() const { return remark_; }

    const std::vector<SourceFileChoice>& files() const { return files_; }
    const std::string& file() const { return file_; }                     // shown, "" when none
    const std::vector<std::string_view>& lines() const { return lines_; } // line n is lines()[n-1]

    // The selected event's line in the file shown (1-based), or 0.
    std::uint32_t highlighted_line() const { return highlighted_; }
    // The line to bring into view: the highlighted one; else the first where a thread waits
    // (in a hang, where it is stuck); else the first marked one; 0 when none is.
    std::uint32_t focus_line() const;
    // The selected event has a location in another file than the one shown, or none at all:
    // one line saying so ("" otherwise).
    const std::string& selection_note() const { return selection_note_; }
    // The threads whose current line is `line` of the file shown.
    std::vector<const ThreadMark*> marks_on(std::uint32_t line) const;
    const std::map<std::uint32_t, std::vector<ThreadMark>>& marks() const { return marks_; }
    // The events recorded at `line` of the file shown, in recording order.
    std::vector<std::size_t> events_on(std::uint32_t line) const;

  private:
    void rebuild_files(const RunRecord& record, const ScenarioRegistry& registry);
    void choose_file(const RunRecord& record, std::optional<std::size_t> selected_event,
                     const std::string& wanted, const ScenarioRegistry& registry);
    void rebuild_marks(const RunRecord& record, std::optional<std::size_t> selected_event);
    void add_python_marks(const RunRecord& record);

    const RunRecord* record_ = nullptr;
    std::uint64_t generation_ = 0;
    std::optional<std::optional<std::size_t>> selected_; // the selection the marks were made for
    std::string wanted_;

    std::vector<SourceFileChoice> files_;
    std::string main_file_; // the file shown when nothing says otherwise
    bool python_ = false;   // the scenario runs a Python program
    std::string unavailable_, remark_, selection_note_;

    std::string file_;
    std::uint32_t file_id_ = 0;
    std::vector<std::string_view> lines_;
    std::uint32_t highlighted_ = 0;
    std::map<std::uint32_t, std::vector<ThreadMark>> marks_;           // by line
    std::map<std::uint32_t, std::vector<std::size_t>> events_by_line_; // of the file shown
};

// Splits a text into its lines (without their '\n'; a last line without one counts).
std::vector<std::string_view> split_lines(std::string_view text);

} // namespace forklore::gui
