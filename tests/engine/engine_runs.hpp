// What the engine tests share: run one variant of a registered scenario for real, and, for a
// Python scenario, check that a missing /usr/bin/python3 ends as a setup error that names it.
#pragma once

#include "scenarios/support/python_program.hpp"
#include "sim/record/record.hpp"
#include "sim/run/runner.hpp"
#include "sim/scenario/scenario.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace forklore::engine_tests {

inline RunRecord run_variant(const std::string& scenario, const std::string& variant) {
    const Scenario* found = ScenarioRegistry::instance().find(scenario);
    REQUIRE(found != nullptr);
    return run_scenario(make_request(*found, variant));
}

// False, after checking the setup error names the interpreter, when /usr/bin/python3 is missing.
inline bool python_ran(const RunRecord& record) {
    if (python::interpreter_installed())
        return true;
    CHECK(record.verdict.kind == VerdictKind::setup_error);
    CHECK_THAT(record.verdict.explanation, Catch::Contains("/usr/bin/python3"));
    return false;
}

} // namespace forklore::engine_tests
