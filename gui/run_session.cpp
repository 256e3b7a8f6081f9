#include "gui/run_session.hpp"

#include "sim/protocol/verdict_kind.hpp"
#include "sim/run/matrix.hpp"

#include <fmt/format.h>

#include <chrono>
#include <exception>
#include <stdexcept>

namespace forklore::gui {

namespace {

using Clock = std::chrono::steady_clock;

// The runner samples every 2 ms; a screen shows one frame every 16 ms. Copying a large partial
// record (200 bytes an event) at every sample would slow the run down for nothing the user can
// see, so a live copy is published at most this often.
constexpr auto kLiveInterval = std::chrono::milliseconds(30);

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
}

} // namespace

std::uint64_t next_record_generation() {
    static std::atomic<std::uint64_t> generation{0};
    return ++generation;
}

RunSession::~RunSession() {
    stop();
    wait();
}

std::string RunSession::start(const std::string& scenario_id, const std::string& variant,
                              const KnobValues& overrides, int repeat, RunOptions options) {
    stop();
    wait();
    RunRequest request;
    std::string error;
    const Scenario* scenario = ScenarioRegistry::instance().find(scenario_id);
    if (!scenario) {
        error = fmt::format("unknown scenario '{}'", scenario_id);
    } else {
        try {
            request = make_request(*scenario, variant, overrides);
        } catch (const std::exception& problem) {
            error = problem.what();
        }
    }
    std::lock_guard<std::mutex> guard(mutex_);
    progress_ = RunProgress{};
    history_.clear();
    ++runs_version_;
    progress_.scenario = scenario_id;
    progress_.variant = variant;
    progress_.error = error;
    if (!error.empty())
        return error;
    if (options.timeout_seconds > 0)
        request.timeout_seconds = options.timeout_seconds;
    if (options.max_output)
        request.limits.max_output = *options.max_output;
    request.host_path = options.host_path;
    request.scheduler = options.scheduler;
    progress_.repeat = std::max(1, repeat);
    progress_.expected = request.expected;
    progress_.running = true;
    verdict_ms_total_ = 0;
    run_started_ns_ = now_ns();
    cancel_.store(false);
    running_.store(true);
    request.cancel = &cancel_;
    worker_ = std::thread([this, request = std::move(request), runs = progress_.repeat]() mutable {
        run_all(std::move(request), runs);
    });
    return {};
}

void RunSession::stop() {
    cancel_.store(true);
}

void RunSession::wait() {
    if (worker_.joinable())
        worker_.join();
}

bool RunSession::running() const {
    return running_.load();
}

RecordView RunSession::view() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return view_;
}

RunProgress RunSession::progress() const {
    std::lock_guard<std::mutex> guard(mutex_);
    RunProgress copy = progress_;
    if (copy.running)
        copy.elapsed_ms = static_cast<double>(now_ns() - run_started_ns_) / 1e6;
    return copy;
}

std::vector<RunEntry> RunSession::runs() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return history_.entries();
}

std::uint64_t RunSession::runs_version() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return runs_version_;
}

RecordView RunSession::run_view(int number) const {
    std::lock_guard<std::mutex> guard(mutex_);
    const RunEntry* entry = history_.find(number);
    if (!entry || !entry->kept())
        return {};
    return RecordView{entry->record, entry->generation, false, entry->number};
}

std::size_t RunSession::history_budget_bytes() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return history_.budget_bytes();
}

std::uint64_t RunSession::publish(std::shared_ptr<const RunRecord> record, bool live,
                                  int run_number) {
    std::lock_guard<std::mutex> guard(mutex_);
    view_.record = std::move(record);
    view_.generation = next_record_generation();
    view_.live = live;
    view_.run_number = run_number;
    return view_.generation;
}

void RunSession::run_all(RunRequest request, int repeat) {
    for (int i = 0; i < repeat && !cancel_.load(); ++i) {
        {
            std::lock_guard<std::mutex> guard(mutex_);
            run_started_ns_ = now_ns();
        }
        Clock::time_point last_publish{};
        std::size_t published_events = 0, published_snapshots = 0;
        request.on_progress = [&](const RunRecord& partial) {
            const auto now = Clock::now();
            bool changed = partial.events.size() != published_events ||
                           partial.snapshots.size() != published_snapshots;
            if (!changed || now - last_publish < kLiveInterval)
                return;
            last_publish = now;
            published_events = partial.events.size();
            published_snapshots = partial.snapshots.size();
            auto copy = std::make_shared<RunRecord>(partial);
            // The partial record has no verdict yet; say so rather than show a default one.
            copy->verdict.explanation = "Running: no verdict yet.";
            publish(std::move(copy), true, i + 1);
            std::lock_guard<std::mutex> guard(mutex_);
            ++progress_.live_updates;
        };
        std::shared_ptr<const RunRecord> record;
        try {
            record = std::make_shared<const RunRecord>(run_scenario(request));
        } catch (const std::exception& problem) {
            // run_scenario reports what the sandbox does in the record; this is the runner itself
            // failing (out of memory, ...): end the session with the message.
            std::lock_guard<std::mutex> guard(mutex_);
            progress_.error = fmt::format("the run failed: {}", problem.what());
            break;
        }
        const bool last = i + 1 == repeat || cancel_.load();
        if (!has_outcome(record->verdict.kind)) {
            // Stopped by the user: shown, but counted nowhere (not a hang, not an outcome).
            std::lock_guard<std::mutex> guard(mutex_);
            progress_.stopped_after_ms = static_cast<double>(now_ns() - run_started_ns_) / 1e6;
            progress_.elapsed_ms = progress_.stopped_after_ms;
        } else {
            std::lock_guard<std::mutex> guard(mutex_);
            ++progress_.completed;
            progress_.last_outcome = outcome_label(record->verdict);
            ++progress_.outcome_counts[progress_.last_outcome];
            if (is_hang(record->verdict.kind))
                ++progress_.hangs;
            if (request.expected && matches(*request.expected, record->verdict))
                ++progress_.as_expected;
            progress_.hang_rate_interval = wilson_interval(progress_.hangs, progress_.completed);
            verdict_ms_total_ += record->timings.verdict_ms;
            progress_.mean_verdict_ms = verdict_ms_total_ / progress_.completed;
            progress_.elapsed_ms = static_cast<double>(now_ns() - run_started_ns_) / 1e6;
        }
        // Between repeats the finished record stays on screen, still marked live: more come.
        // Every finished record is kept for browsing, under the same generation.
        const std::uint64_t generation = publish(record, !last, i + 1);
        {
            std::lock_guard<std::mutex> guard(mutex_);
            history_.add(std::move(record), generation, cancel_.load());
            ++runs_version_;
        }
    }
    std::lock_guard<std::mutex> guard(mutex_);
    if (view_.live) { // stopped before a run finished its record
        view_.live = false;
        view_.generation = next_record_generation();
    }
    progress_.stopped = cancel_.load();
    progress_.running = false;
    running_.store(false);
}

} // namespace forklore::gui
