// The matrix: every selected scenario variant run and compared with its expected outcome.
#pragma once

#include "sim/record/record.hpp"
#include "sim/run/runner.hpp"
#include "sim/run/stats.hpp"
#include "sim/scenario/scenario.hpp"

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace forklore {

// The outcome of one variant over its runs.
struct MatrixCell {
    std::string scenario;
    std::string variant;
    Expectation expected;
    int runs = 0;
    std::map<std::string, int> verdict_counts; // "deadlocked(orphaned_lock)" -> 3
    int hangs = 0;
    Interval hang_rate_interval;
    bool passed = false;
    std::string mismatch; // why it did not pass (first unexpected run)
    double mean_verdict_ms = 0;
    double max_verdict_ms = 0;
    std::uint64_t dropped_events = 0; // over all its runs: the event ring was full
    // Hazards that did not bite (Verdict::warnings): warning kind -> the runs that showed it.
    std::map<std::string, int> warning_counts;
    RunRecord last_record; // the last run (or the first mismatching one)
    // False when the matrix was stopped (MatrixOptions::cancel) while this variant ran: its
    // counts may then hold a run cut short, or fewer runs than it should have had.
    bool complete = true;
    double hang_rate() const { return runs ? static_cast<double>(hangs) / runs : 0.0; }
};

struct MatrixOptions {
    std::string filter = "*"; // glob on "scenario:variant" (or on the scenario id alone)
    int repeat = 1;           // runs of each deterministic variant
    int jobs = 0;             // runs in parallel; 0 = number of cores
    // Which variants run. The default set is the quick deterministic ones; racy variants (which
    // expect a hang rate over many runs) and slow ones (Expectation::slow) run when included.
    bool include_racy = false;
    bool include_slow = false;
    bool include_hidden = false; // the engine's self-test scenarios
    bool namespaces = true;      // false: every run without namespaces (RunRequest::namespaces)
    bool cgroups = true;         // false: every run without cgroups (RunRequest::cgroups)
    const std::atomic<bool>* cancel = nullptr; // set to stop: the run in progress ends early
                                               // and no further run starts
    // Called once per variant as soon as it has finished (from a worker thread, one call at a
    // time): `done` counts the variants finished so far, this one included, out of `total`.
    std::function<void(const MatrixCell& cell, std::size_t done, std::size_t total)> on_cell;
};

// The (scenario, variant) pairs the filter selects, in teaching order.
std::vector<std::pair<const Scenario*, const Variant*>>
select_variants(const MatrixOptions& options);

// The variants the filter matches that the options leave out as racy or slow (a variant both
// racy and slow counts as racy). Self-tests left out by include_hidden are not counted.
struct SkippedVariants {
    int racy = 0;
    int slow = 0;
    int total() const { return racy + slow; }
};
SkippedVariants skipped_variants(const MatrixOptions& options);

// "deadlocked(orphaned_lock)", "crashed(SIGSEGV)", "completed"
std::string outcome_label(const Verdict& verdict);

// Whether one run's verdict is what a deterministic expectation says.
bool matches(const Expectation& expected, const Verdict& verdict);

// `adjust`, when given, changes each run's request before it runs (e.g. namespaces off).
MatrixCell run_variant(const Scenario& scenario, const Variant& variant, int repeat,
                       const std::atomic<bool>* cancel = nullptr,
                       const std::function<void(RunRequest&)>& adjust = {});
std::vector<MatrixCell> run_matrix(const MatrixOptions& options);

bool glob_match(const std::string& pattern, const std::string& text);

} // namespace forklore
