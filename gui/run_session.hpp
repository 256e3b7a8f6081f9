// A run of one scenario in the background, as the GUI starts it: Run, Repeat N and Stop.
//
// The run goes through the engine's runner on a thread of its own (the runner posix_spawns the
// sandbox; the GUI never forks), so the UI thread only ever takes a lock for as long as it takes
// to copy a shared pointer and a few counters. While the run is in progress the session
// publishes a copy of the partial record (live) every sample, throttled to what a screen can
// show, so the panels update while the scenario is still running.
#pragma once

#include "gui/record_view.hpp"
#include "gui/run_history.hpp"
#include "sim/record/record.hpp"
#include "sim/run/runner.hpp"
#include "sim/run/stats.hpp"
#include "sim/scenario/scenario.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace forklore::gui {

// A new, never-used RecordView generation. Every producer of records (a run, the matrix, an
// opened file) takes its generations from here, so a panel never mistakes one record for another.
std::uint64_t next_record_generation();

// What the controls show about the session: the runs done so far and what they ended as.
struct RunProgress {
    bool running = false;
    std::string scenario, variant; // variant empty when the knobs are the user's own
    int repeat = 0;                // runs asked for
    int completed = 0;             // runs finished with an outcome (a stopped run has none)
    std::map<std::string, int> outcome_counts; // outcome_label -> runs
    int hangs = 0;                             // deadlocked or timed out
    int as_expected = 0;         // runs that ended as a deterministic expectation says
    int live_updates = 0;        // partial records published while running (the UI updated live)
    Interval hang_rate_interval; // 95% Wilson interval of hangs / completed
    double elapsed_ms = 0;       // since the current run (or the last one) started
    double mean_verdict_ms = 0;  // over the completed runs
    std::optional<Expectation> expected; // of the variant, when run with its own knobs
    std::string last_outcome;            // outcome_label of the last finished run
    bool stopped = false;                // the user pressed Stop
    // > 0 when a run was cut short by Stop: how long it had run. That run has no outcome: it is
    // not in `completed`, the outcome counts, the hang rate or the expectation check.
    double stopped_after_ms = 0;
    std::string error; // the run could not be started (one line)

    double hang_rate() const { return completed ? static_cast<double>(hangs) / completed : 0.0; }
};

// How a session's runs are made, beyond the scenario's own settings.
struct RunOptions {
    double timeout_seconds = 0; // 0: the scenario's own deadline
    // Bytes of stdout + stderr after which a run ends as `limit`: nullopt the scenario's own
    // (none for most), 0 none.
    std::optional<std::uint64_t> max_output;
    std::string host_path; // empty: forklore-host beside the executable
    Scheduler scheduler;   // a stepped run (the Scheduler tab); empty: an ordinary run
};

class RunSession {
  public:
    RunSession() = default;
    ~RunSession(); // stops the run and joins its thread
    RunSession(const RunSession&) = delete;
    RunSession& operator=(const RunSession&) = delete;

    // Starts `repeat` runs of the scenario's variant with the knob overrides (a run in progress
    // is stopped first). Returns an empty string, or why it cannot start (unknown scenario,
    // variant or knob value: one line, also kept in progress().error).
    std::string start(const std::string& scenario_id, const std::string& variant,
                      const KnobValues& overrides = {}, int repeat = 1, RunOptions options = {});
    // Asks the run in progress to stop; returns at once. The runner kills and reaps the sandbox
    // and the session ends with a `stopped` record, which counts in no outcome.
    void stop();
    // Blocks until the runs end (tests, and the program's exit).
    void wait();

    bool running() const;
    // The latest record: the partial one (live) during a run, the final one after it. Cheap.
    RecordView view() const;
    RunProgress progress() const;

    // Every finished run of the latest start (outcomes all; records within the history's
    // budget), to step through them.
    std::vector<RunEntry> runs() const;
    // Changes whenever runs() does: a caller copies the runs only then (a long Repeat has
    // thousands, and the UI asks every frame).
    std::uint64_t runs_version() const;
    // A finished run's record, as it was published; empty when there is no such run or its
    // record was dropped for memory.
    RecordView run_view(int number) const;
    std::size_t history_budget_bytes() const;

  private:
    void run_all(RunRequest request, int repeat);
    // Returns the generation the record was published with.
    std::uint64_t publish(std::shared_ptr<const RunRecord> record, bool live, int run_number);

    mutable std::mutex mutex_;
    RecordView view_;
    RunProgress progress_;
    RunHistory history_;
    std::uint64_t runs_version_ = 0;
    std::int64_t run_started_ns_ = 0; // monotonic start of the current run
    double verdict_ms_total_ = 0;

    std::atomic<bool> cancel_{false};
    std::atomic<bool> running_{false};
    std::thread worker_;
};

} // namespace forklore::gui
