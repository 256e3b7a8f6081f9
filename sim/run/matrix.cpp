#include "sim/run/matrix.hpp"

#include <fnmatch.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

namespace forklore {

bool glob_match(const std::string& pattern, const std::string& text) {
    return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

namespace {

enum class Selection { selected, unmatched, racy, slow };

Selection select_one(const MatrixOptions& options, const Scenario& scenario,
                     const Variant& variant) {
    const std::string full = scenario.id + ":" + variant.name;
    if (scenario.hidden && !options.include_hidden)
        return Selection::unmatched;
    if (!glob_match(options.filter, full) && !glob_match(options.filter, scenario.id))
        return Selection::unmatched;
    if (variant.expected.racy && !options.include_racy)
        return Selection::racy;
    if (variant.expected.is_slow() && !options.include_slow)
        return Selection::slow;
    return Selection::selected;
}

} // namespace

std::vector<std::pair<const Scenario*, const Variant*>>
select_variants(const MatrixOptions& options) {
    std::vector<std::pair<const Scenario*, const Variant*>> selected;
    for (const auto& scenario : ScenarioRegistry::instance().all())
        for (const auto& variant : scenario.variants)
            if (select_one(options, scenario, variant) == Selection::selected)
                selected.emplace_back(&scenario, &variant);
    return selected;
}

SkippedVariants skipped_variants(const MatrixOptions& options) {
    SkippedVariants skipped;
    for (const auto& scenario : ScenarioRegistry::instance().all())
        for (const auto& variant : scenario.variants)
            switch (select_one(options, scenario, variant)) {
            case Selection::racy:
                ++skipped.racy;
                break;
            case Selection::slow:
                ++skipped.slow;
                break;
            default:
                break;
            }
    return skipped;
}

std::string outcome_label(const Verdict& verdict) {
    std::string label(to_string(verdict.kind));
    if (verdict.reason)
        label += fmt::format("({})", to_string(*verdict.reason));
    else if (verdict.signal &&
             (verdict.kind == VerdictKind::crashed || verdict.kind == VerdictKind::limit))
        label += fmt::format("({})", signal_name(verdict.signal));
    return label;
}

bool matches(const Expectation& expected, const Verdict& verdict) {
    if (verdict.kind != expected.verdict)
        return false;
    if (expected.reason && verdict.reason != expected.reason)
        return false;
    if (expected.signal && verdict.signal != expected.signal)
        return false;
    return true;
}

MatrixCell run_variant(const Scenario& scenario, const Variant& variant, int repeat,
                       const std::atomic<bool>* cancel,
                       const std::function<void(RunRequest&)>& adjust) {
    MatrixCell cell;
    cell.scenario = scenario.id;
    cell.variant = variant.name;
    cell.expected = variant.expected;
    const int runs = variant.expected.racy ? variant.expected.runs : std::max(1, repeat);
    RunRequest request = make_request(scenario, variant.name);
    request.cancel = cancel;
    if (adjust)
        adjust(request);
    bool mismatch_kept = false;
    double total_ms = 0;
    for (int i = 0; i < runs; ++i) {
        if (cancel && cancel->load() && cell.runs > 0)
            break;
        RunRecord record = run_scenario(request);
        // Stopped before a verdict: not a run of the variant at all (the cell is incomplete).
        if (!has_outcome(record.verdict.kind))
            break;
        ++cell.runs;
        ++cell.verdict_counts[outcome_label(record.verdict)];
        if (is_hang(record.verdict.kind))
            ++cell.hangs;
        cell.dropped_events += record.dropped_events;
        std::set<std::string> kinds;
        for (const auto& warning : record.verdict.warnings)
            kinds.insert(warning.kind);
        for (const auto& kind : kinds)
            ++cell.warning_counts[kind];
        total_ms += record.timings.verdict_ms;
        cell.max_verdict_ms = std::max(cell.max_verdict_ms, record.timings.verdict_ms);
        bool setup_broke = record.verdict.kind == VerdictKind::setup_error;
        if (!variant.expected.racy && !matches(variant.expected, record.verdict) &&
            !mismatch_kept) {
            cell.mismatch = fmt::format("run {} of {}: expected {}, got {}: {}", i + 1, runs,
                                        variant.expected.describe(), outcome_label(record.verdict),
                                        record.verdict.explanation);
            cell.last_record = record;
            mismatch_kept = true;
        } else if (variant.expected.racy && setup_broke && !mismatch_kept) {
            cell.mismatch = "setup error: " + record.verdict.explanation;
            cell.last_record = record;
            mismatch_kept = true;
        } else if (!mismatch_kept) {
            cell.last_record = std::move(record);
        }
    }
    // Stopped at any point during the variant: its last run may have been cut short.
    cell.complete = !(cancel && cancel->load());
    cell.mean_verdict_ms = cell.runs ? total_ms / cell.runs : 0.0;
    cell.hang_rate_interval = wilson_interval(cell.hangs, cell.runs);
    if (variant.expected.racy) {
        double rate = cell.hang_rate();
        bool in_range =
            rate >= variant.expected.min_hang_rate && rate <= variant.expected.max_hang_rate;
        cell.passed = in_range && !mismatch_kept;
        if (!in_range)
            cell.mismatch = fmt::format("hang rate {:.0f}% ({} of {}) is outside {}", rate * 100,
                                        cell.hangs, cell.runs, variant.expected.describe());
    } else {
        cell.passed = !mismatch_kept;
    }
    return cell;
}

std::vector<MatrixCell> run_matrix(const MatrixOptions& options) {
    auto selected = select_variants(options);
    std::vector<MatrixCell> cells(selected.size());
    int jobs =
        options.jobs > 0 ? options.jobs : static_cast<int>(std::thread::hardware_concurrency());
    jobs = std::max(1, std::min<int>(jobs, static_cast<int>(selected.size())));
    std::atomic<std::size_t> next{0};
    std::size_t done = 0;
    std::mutex report_mutex;
    std::function<void(RunRequest&)> adjust;
    if (!options.namespaces || !options.cgroups)
        adjust = [namespaces = options.namespaces, cgroups = options.cgroups](RunRequest& request) {
            request.namespaces = request.namespaces && namespaces;
            request.cgroups = request.cgroups && cgroups;
        };
    auto worker = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < selected.size();) {
            if (options.cancel && options.cancel->load())
                break;
            cells[i] = run_variant(*selected[i].first, *selected[i].second, options.repeat,
                                   options.cancel, adjust);
            std::lock_guard<std::mutex> guard(report_mutex);
            ++done;
            if (options.on_cell)
                options.on_cell(cells[i], done, selected.size());
        }
    };
    std::vector<std::thread> workers;
    for (int i = 1; i < jobs; ++i)
        workers.emplace_back(worker);
    worker();
    for (auto& w : workers)
        w.join();
    // Stopped early: keep only the variants that ran.
    cells.erase(std::remove_if(cells.begin(), cells.end(),
                               [](const MatrixCell& cell) { return cell.runs == 0; }),
                cells.end());
    return cells;
}

} // namespace forklore
