#include "gui/run_config.hpp"

#include <stdexcept>

namespace forklore::gui {

namespace {

// A registry variant's preset always resolves; guard anyway so a bad preset shows as "custom"
// instead of taking the GUI down.
KnobValues preset_of(const Scenario& scenario, const Variant* variant) {
    try {
        return scenario.resolve_knobs(variant, {});
    } catch (const std::invalid_argument&) {
        return {};
    }
}

} // namespace

RunConfig RunConfig::for_scenario(const Scenario& definition) {
    RunConfig config;
    config.scenario = definition.id;
    if (!definition.variants.empty()) {
        config.variant = definition.variants.front().name;
        config.knobs = preset_of(definition, &definition.variants.front());
        const Expectation& expected = definition.variants.front().expected;
        if (expected.racy)
            config.repeat = expected.runs;
    } else {
        config.knobs = preset_of(definition, nullptr);
    }
    return config;
}

void RunConfig::choose_variant(const Scenario& definition, const std::string& name) {
    const Variant* chosen = definition.find_variant(name);
    if (!chosen)
        return;
    variant = name;
    knobs = preset_of(definition, chosen);
    // A racy variant is judged over its own number of runs; offer that as Repeat N.
    if (chosen->expected.racy)
        repeat = chosen->expected.runs;
}

std::string RunConfig::matching_variant(const Scenario& definition) const {
    if (const Variant* chosen = definition.find_variant(variant);
        chosen && preset_of(definition, chosen) == knobs)
        return variant;
    for (const auto& other : definition.variants)
        if (preset_of(definition, &other) == knobs)
            return other.name;
    return {};
}

KnobValues RunConfig::overrides(const Scenario& definition) const {
    KnobValues preset = preset_of(definition, definition.find_variant(variant));
    KnobValues differing;
    for (const auto& [name, value] : knobs) {
        auto it = preset.find(name);
        if (it == preset.end() || it->second != value)
            differing[name] = value;
    }
    return differing;
}

const Scenario* RunConfig::find() const {
    return ScenarioRegistry::instance().find(scenario);
}

} // namespace forklore::gui
