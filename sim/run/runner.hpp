// The runner: runs one scenario variant in a fresh sandbox and returns its run record.
//
// It creates the event channel, spawns the sandbox host with posix_spawn (the calling program
// may have threads: it never forks), samples the sandbox with the Observer every few
// milliseconds, decides the verdict as soon as it can be proven, and then kills and reaps every
// process of the sandbox. Safe to call from several threads at once (one call, one sandbox).
#pragma once

#include "sim/protocol/channel.hpp"
#include "sim/record/record.hpp"
#include "sim/run/scheduler.hpp"
#include "sim/sandbox/containment.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/verdict/verdict.hpp"

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace forklore {

struct RunRequest {
    const Scenario* scenario = nullptr;
    std::string variant; // for the record; knobs are what is run
    KnobValues knobs;    // resolved (Scenario::resolve_knobs)
    std::optional<Expectation> expected;
    double timeout_seconds = 10.0; // the deadline; hangs are proven long before it
    SandboxLimits limits;
    std::string host_path;      // empty: forklore-host beside the running executable
    bool capture_stacks = true; // on deadlock and timeout
    bool namespaces = true;     // false: run as on a kernel without namespaces (the fallback)
    // Paths under the caller's /tmp the sandbox still sees, read-only, in its private /tmp.
    std::vector<std::string> visible_paths;
    bool cgroups = true; // false: limits only by rlimits and sampling (the fallback)
    std::size_t channel_capacity = Channel::kDefaultCapacity;
    int sample_interval_us = 2000;
    DeadlockDetector::Settings detector;
    const std::atomic<bool>* cancel = nullptr; // set to true to stop the run early
    // A stepped run (sim/run/scheduler.hpp): every probe stops at its scheduling points, and
    // whenever the sandbox has settled the scheduler chooses which waiting thread goes next. The
    // record keeps the schedule. Empty: an ordinary run, in which nothing stops.
    Scheduler scheduler;
    // Called from the running thread after every sample with the events so far (for live views).
    std::function<void(const RunRecord& partial)> on_progress;
};

// Never throws for anything the sandbox does; a run that cannot start is a setup_error record.
RunRecord run_scenario(const RunRequest& request);

// Builds a request for a scenario and variant with knob overrides. Throws std::invalid_argument
// (one line) for an unknown variant, knob or bad value.
RunRequest make_request(const Scenario& scenario, const std::string& variant,
                        const KnobValues& overrides = {});

// forklore-host in the directory of the running executable.
std::string default_host_path();

} // namespace forklore
