// Real run records for the GUI tests: each scenario variant is run once through the sandbox (the
// same runner the GUI uses) and kept for every test of the program.
#pragma once

#include "sim/probe/exec_program.hpp"
#include "sim/record/record.hpp"
#include "sim/run/runner.hpp"
#include "sim/scenario/scenario.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace forklore::gui::test {

// The cases the issue names: completed, deadlocked/orphaned_lock, deadlocked/cycle, crashed, and
// a trace of about 100,000 events.
inline constexpr const char* kCompleted[2] = {"file-read-under-lock", "spawn"};
inline constexpr const char* kOrphanedLock[2] = {"file-read-under-lock", "fork"};
inline constexpr const char* kCycle[2] = {"lock-cycle", "opposite_order"};
inline constexpr const char* kCrashed[2] = {"selftest-child-aborts", "default"};
inline constexpr const char* kManyEvents[2] = {"selftest-many-events", "default"};

inline std::shared_ptr<const RunRecord> recorded(const std::string& scenario,
                                                 const std::string& variant) {
    static std::map<std::string, std::shared_ptr<const RunRecord>> cache;
    auto& slot = cache[scenario + ":" + variant];
    if (!slot) {
        const Scenario* found = ScenarioRegistry::instance().find(scenario);
        if (!found)
            throw std::runtime_error("no scenario " + scenario);
        slot = std::make_shared<const RunRecord>(run_scenario(make_request(*found, variant)));
    }
    return slot;
}

inline std::shared_ptr<const RunRecord> recorded(const char* const (&which)[2]) {
    return recorded(which[0], which[1]);
}

// A fresh run of the variant, not kept.
inline std::shared_ptr<const RunRecord> fresh_record(const char* const (&which)[2]) {
    const Scenario* found = ScenarioRegistry::instance().find(which[0]);
    if (!found)
        throw std::runtime_error(std::string("no scenario ") + which[0]);
    return std::make_shared<const RunRecord>(run_scenario(make_request(*found, which[1])));
}

// A fresh run of the variant that `wanted` accepts, from at most `tries` runs (the last one when
// none does). For tests about what a run shows at a moment its timing decides (whether a thread
// had reached its barrier when the hang was proven, how long the setup before the fork took):
// a loaded machine sometimes gives the other timing, which is not what those tests are about.
template <typename Wanted>
std::shared_ptr<const RunRecord> recorded_where(const char* const (&which)[2], Wanted wanted,
                                                int tries = 5) {
    std::shared_ptr<const RunRecord> record;
    for (int i = 0; i < tries; ++i)
        if (wanted(*(record = fresh_record(which))))
            break;
    return record;
}

#ifdef FORKLORE_BIN_DIR
// A program of tests/programs (built into build/bin) run uninstrumented through the hidden exec
// scenario, as `forklore exec -- PROGRAM` does; kept for every test of the program.
inline std::shared_ptr<const RunRecord> exec_argv_recorded(const std::vector<std::string>& argv) {
    static std::map<std::vector<std::string>, std::shared_ptr<const RunRecord>> cache;
    auto& slot = cache[argv];
    if (!slot) {
        const Scenario* exec = ScenarioRegistry::instance().find("exec");
        if (!exec)
            throw std::runtime_error("no exec scenario");
        RunRequest request;
        request.scenario = exec;
        request.knobs = {{"argv", probe::encode_argv(argv)}, {"cwd", FORKLORE_BIN_DIR}};
        request.timeout_seconds = 30;
        request.limits = exec->limits;
        request.limits.cpu_seconds = std::max(request.limits.cpu_seconds, 35);
        request.capture_stacks = true;
        // The sandbox's /tmp is its own: a script in a tree cloned under /tmp stays visible, as
        // `forklore exec` keeps what the command names.
        request.visible_paths = probe::paths_to_keep_visible(FORKLORE_BIN_DIR, argv);
        slot = std::make_shared<const RunRecord>(run_scenario(request));
    }
    return slot;
}

inline std::shared_ptr<const RunRecord> exec_recorded(const std::string& program) {
    return exec_argv_recorded({std::string(FORKLORE_BIN_DIR) + "/" + program});
}

#ifdef FORKLORE_SOURCE_DIR
// A Python script of tests/programs run the same way by Debian's interpreter, with buffered
// stdio pinned as tests/cli does (the environment may export PYTHONUNBUFFERED=1).
inline constexpr const char* kPython = "/usr/bin/python3";
inline std::shared_ptr<const RunRecord> python_exec_recorded(const std::string& script) {
    return exec_argv_recorded({"/usr/bin/env", "PYTHONUNBUFFERED=0", kPython,
                               std::string(FORKLORE_SOURCE_DIR) + "/tests/programs/" + script});
}
#endif

// A forked child stuck on a mutex whose owner stays in the parent, while the parent's 'chatter'
// thread prints and its main thread polls: a partial deadlock (tests/programs/partial_deadlock.c).
inline constexpr const char* kPartialDeadlock = "partial_deadlock";
#endif

} // namespace forklore::gui::test
