// What the user has chosen to run: a scenario, a variant preset and every knob's value. Pure C++
// (no ImGui): the controls panel edits it, the app runs it, the tests check it.
#pragma once

#include "sim/scenario/scenario.hpp"

#include <string>

namespace forklore::gui {

struct RunConfig {
    std::string scenario; // id; empty before anything is chosen
    std::string variant;  // the preset last chosen (its expectation is shown)
    KnobValues knobs;     // every knob of the scenario, resolved
    int repeat = 10;      // Repeat N
    // "max output" as typed: "4096", "512K", "1M", "2G" (parse_byte_size). Empty: the scenario's
    // own limit (none, except in the engine's self-test of it); "0": none.
    std::string max_output;

    // The scenario's first variant with its knobs (or the knob defaults when it has none).
    static RunConfig for_scenario(const Scenario& definition);
    // Sets the knobs to the variant's preset (an unknown name leaves everything as it is).
    void choose_variant(const Scenario& definition, const std::string& name);
    // The variant whose preset is exactly the current knobs: the chosen one first, then any
    // other; empty when the knobs are the user's own ("custom").
    std::string matching_variant(const Scenario& definition) const;
    // The knobs that differ from the chosen variant's preset (empty when they are the preset).
    KnobValues overrides(const Scenario& definition) const;
    const Scenario* find() const; // in the registry; null when unknown
};

} // namespace forklore::gui
