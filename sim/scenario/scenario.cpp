#include "sim/scenario/scenario.hpp"

#include "sim/protocol/text.hpp"

#include <fmt/format.h>

#include <string.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace forklore {

std::string Knob::validate(const std::string& value) const {
    switch (type) {
    case KnobType::choice:
        if (std::find(choices.begin(), choices.end(), value) != choices.end())
            return {};
        return fmt::format("knob '{}' takes one of: {} (got '{}')", name, fmt::join(choices, ", "),
                           printable(value, 100));
    case KnobType::flag:
        if (value == "on" || value == "off")
            return {};
        return fmt::format("knob '{}' takes on or off (got '{}')", name, printable(value, 100));
    case KnobType::integer: {
        long parsed = 0;
        auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
        if (error != std::errc{} || end != value.data() + value.size())
            return fmt::format("knob '{}' takes a whole number (got '{}')", name,
                               printable(value, 100));
        if (parsed < min || parsed > max)
            return fmt::format("knob '{}' takes a number from {} to {} (got {})", name, min, max,
                               parsed);
        return {};
    }
    }
    return "unknown knob type";
}

KnobValues parse_knob_settings(const std::vector<std::string>& settings) {
    KnobValues values;
    for (const auto& setting : settings) {
        const auto equals = setting.find('=');
        if (equals == std::string::npos || equals == 0)
            throw std::invalid_argument(
                fmt::format("--set takes knob=value (got '{}')", printable(setting, 100)));
        values[setting.substr(0, equals)] = setting.substr(equals + 1);
    }
    return values;
}

int number_from_file_name(std::string_view path) {
    std::string_view name = path.substr(path.find_last_of('/') + 1);
    int number = 0;
    for (std::size_t i = 0; i < name.size() && name[i] >= '0' && name[i] <= '9' && i < 6; ++i)
        number = number * 10 + (name[i] - '0');
    return number;
}

Knob Knob::flag(std::string name, bool on_by_default, std::string help) {
    Knob knob;
    knob.name = std::move(name);
    knob.type = KnobType::flag;
    knob.default_value = on_by_default ? "on" : "off";
    knob.help = std::move(help);
    return knob;
}

Knob Knob::choice(std::string name, std::string default_value, std::vector<std::string> choices,
                  std::string help) {
    Knob knob;
    knob.name = std::move(name);
    knob.type = KnobType::choice;
    knob.default_value = std::move(default_value);
    knob.help = std::move(help);
    knob.choices = std::move(choices);
    return knob;
}

Knob Knob::integer(std::string name, long default_value, long min, long max, std::string help) {
    Knob knob;
    knob.name = std::move(name);
    knob.type = KnobType::integer;
    knob.default_value = std::to_string(default_value);
    knob.help = std::move(help);
    knob.min = min;
    knob.max = max;
    return knob;
}

Knob start_method_knob(std::string name, StartMethod default_method, std::string help) {
    std::vector<std::string> methods(kStartMethodNames.begin(), kStartMethodNames.end());
    return Knob::choice(std::move(name), std::string(to_string(default_method)), std::move(methods),
                        std::move(help));
}

std::string Expectation::describe() const {
    if (racy)
        return fmt::format("hang rate {:.0f}%..{:.0f}% over {} runs", min_hang_rate * 100,
                           max_hang_rate * 100, runs);
    std::string text(to_string(verdict));
    if (reason)
        text += fmt::format("({})", to_string(*reason));
    else if (signal)
        text += fmt::format("(SIG{})", sigabbrev_np(signal) ? sigabbrev_np(signal) : "?");
    return text;
}

bool is_python_source(std::string_view path) {
    return path.ends_with(".py");
}

bool Scenario::runs_python() const {
    return std::any_of(sources.begin(), sources.end(),
                       [](const std::string& path) { return is_python_source(path); });
}

std::string ExploredFact::describe() const {
    std::string text = fmt::format("the child hangs ({}) at exactly {} of its {} placements",
                                   to_string(reason), hanging, placements);
    if (!where.empty())
        text += ": " + where;
    return text;
}

const std::string& ScenarioContext::knob(const std::string& name) const {
    auto it = knobs_.find(name);
    if (it == knobs_.end())
        throw std::invalid_argument("the scenario has no knob '" + name + "'");
    return it->second;
}

bool ScenarioContext::flag(const std::string& name) const {
    return knob(name) == "on";
}

long ScenarioContext::integer(const std::string& name) const {
    return std::stol(knob(name));
}

StartMethod ScenarioContext::method(const std::string& name) const {
    auto method = start_method_from_string(knob(name));
    if (!method)
        throw std::invalid_argument("knob '" + name + "' is not a start method");
    return *method;
}

const Knob* Scenario::find_knob(const std::string& name) const {
    for (const auto& knob : knobs)
        if (knob.name == name)
            return &knob;
    return nullptr;
}

const Variant* Scenario::find_variant(const std::string& name) const {
    for (const auto& variant : variants)
        if (variant.name == name)
            return &variant;
    return nullptr;
}

KnobValues Scenario::resolve_knobs(const Variant* variant, const KnobValues& overrides) const {
    KnobValues values;
    for (const auto& knob : knobs)
        values[knob.name] = knob.default_value;
    auto apply = [&](const KnobValues& layer) {
        for (const auto& [name, value] : layer) {
            const Knob* knob = find_knob(name);
            if (!knob) {
                std::vector<std::string> names;
                for (const auto& k : knobs)
                    names.push_back(k.name);
                throw std::invalid_argument(fmt::format(
                    "scenario '{}' has no knob '{}' (knobs: {})", id, printable(name, 100),
                    names.empty() ? std::string("none")
                                  : fmt::format("{}", fmt::join(names, ", "))));
            }
            if (auto problem = knob->validate(value); !problem.empty())
                throw std::invalid_argument(problem);
            values[name] = value;
        }
    };
    if (variant)
        apply(variant->knobs);
    apply(overrides);
    return values;
}

ScenarioRegistry& ScenarioRegistry::instance() {
    static ScenarioRegistry registry;
    return registry;
}

void ScenarioRegistry::add(Scenario scenario) {
    auto position = std::upper_bound(
        scenarios_.begin(), scenarios_.end(), scenario.number,
        [](int number, const Scenario& existing) { return number < existing.number; });
    scenarios_.insert(position, std::move(scenario));
}

const Scenario* ScenarioRegistry::find(const std::string& id) const {
    for (const auto& scenario : scenarios_)
        if (scenario.id == id)
            return &scenario;
    return nullptr;
}

void ScenarioRegistry::add_source(std::string_view path, std::string_view text) {
    sources_.insert_or_assign(std::string(path), text);
}

std::optional<std::string_view> ScenarioRegistry::source_text(std::string_view path) const {
    auto found = sources_.find(path);
    if (found == sources_.end())
        return std::nullopt;
    return found->second;
}

} // namespace forklore
