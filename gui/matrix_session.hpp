// The corpus matrix run in the background for the Matrix tab: every selected scenario variant,
// compared with its expected outcome, one cell at a time as the engine finishes them.
#pragma once

#include "gui/record_view.hpp"
#include "sim/run/matrix.hpp"

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace forklore::gui {

// One cell of the grid. Before its runs end it holds only the scenario, variant and expectation.
struct MatrixEntry {
    std::string scenario;
    int scenario_number = 0;
    std::string variant;
    Expectation expected;
    bool done = false;
    MatrixCell cell;                         // valid when done; its last_record is moved out
    std::shared_ptr<const RunRecord> record; // the cell's last record, to open in the panels
    std::uint64_t generation = 0;            // the RecordView generation of `record`
};

struct MatrixProgress {
    bool running = false;
    std::size_t done = 0, total = 0;
    std::size_t passed = 0, failed = 0;
    bool stopped = false;
    std::string error; // the filter selects nothing, or the matrix failed (one line)
};

class MatrixSession {
  public:
    MatrixSession() = default;
    ~MatrixSession(); // stops and joins
    MatrixSession(const MatrixSession&) = delete;
    MatrixSession& operator=(const MatrixSession&) = delete;

    // Starts the matrix (a matrix in progress is stopped first). `options.cancel` and
    // `options.on_cell` are the session's own. Returns an empty string or why it cannot start.
    std::string start(MatrixOptions options);
    void stop(); // returns at once; the run in progress ends early, no further run starts
    void wait();
    bool running() const;

    // A copy of the cells (a few dozen) and the progress, for this frame.
    std::vector<MatrixEntry> entries() const;
    MatrixProgress progress() const;
    // Changes whenever a cell is added or finishes, so a panel copies the entries only then.
    std::uint64_t version() const { return version_.load(); }

  private:
    mutable std::mutex mutex_;
    std::vector<MatrixEntry> entries_;
    MatrixProgress progress_;
    std::atomic<std::uint64_t> version_{0};
    std::atomic<bool> cancel_{false};
    std::atomic<bool> running_{false};
    std::thread worker_;
};

} // namespace forklore::gui
