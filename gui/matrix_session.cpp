#include "gui/matrix_session.hpp"

#include "gui/run_session.hpp"

#include <fmt/format.h>

#include <exception>

namespace forklore::gui {

MatrixSession::~MatrixSession() {
    stop();
    wait();
}

std::string MatrixSession::start(MatrixOptions options) {
    stop();
    wait();
    auto selected = select_variants(options);
    std::lock_guard<std::mutex> guard(mutex_);
    entries_.clear();
    progress_ = MatrixProgress{};
    ++version_;
    if (selected.empty()) {
        progress_.error = fmt::format("no variant matches the filter '{}'", options.filter);
        return progress_.error;
    }
    // Every cell is on the grid from the start, so the user sees what is still to come.
    for (const auto& [scenario, variant] : selected) {
        MatrixEntry entry;
        entry.scenario = scenario->id;
        entry.scenario_number = scenario->number;
        entry.variant = variant->name;
        entry.expected = variant->expected;
        entries_.push_back(std::move(entry));
    }
    progress_.total = entries_.size();
    progress_.running = true;
    cancel_.store(false);
    running_.store(true);
    options.cancel = &cancel_;
    options.on_cell = [this](const MatrixCell& cell, std::size_t done, std::size_t) {
        // Called by the engine's workers one at a time (it holds its report lock).
        if (cell.runs == 0) {
            // Stopped before its first run had a verdict: the variant was not run at all.
            std::lock_guard<std::mutex> lock(mutex_);
            progress_.done = done;
            ++version_;
            return;
        }
        // The copy is made before taking the lock, so the UI's next frame never waits for it.
        MatrixCell finished = cell;
        auto record = std::make_shared<const RunRecord>(std::move(finished.last_record));
        finished.last_record = RunRecord{}; // kept once, as `record`
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& entry : entries_) {
            if (entry.scenario != cell.scenario || entry.variant != cell.variant)
                continue;
            entry.cell = std::move(finished);
            entry.record = std::move(record);
            entry.generation = next_record_generation();
            entry.done = true;
            break;
        }
        progress_.done = done;
        if (cell.passed)
            ++progress_.passed;
        else
            ++progress_.failed;
        ++version_;
    };
    worker_ = std::thread([this, options = std::move(options)] {
        std::string error;
        try {
            run_matrix(options);
        } catch (const std::exception& problem) {
            error = fmt::format("the matrix failed: {}", problem.what());
        }
        std::lock_guard<std::mutex> lock(mutex_);
        progress_.error = error;
        progress_.stopped = cancel_.load();
        progress_.running = false;
        running_.store(false);
        ++version_;
    });
    return {};
}

void MatrixSession::stop() {
    cancel_.store(true);
}

void MatrixSession::wait() {
    if (worker_.joinable())
        worker_.join();
}

bool MatrixSession::running() const {
    return running_.load();
}

std::vector<MatrixEntry> MatrixSession::entries() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return entries_;
}

MatrixProgress MatrixSession::progress() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return progress_;
}

} // namespace forklore::gui
