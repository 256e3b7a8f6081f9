// libFuzzer target: knob overrides as `forklore run --set knob=value` (and the GUI's custom
// knobs) turn them into a run's knobs: parse_knob_settings, then Scenario::resolve_knobs.
//
// The input is lines: the first names a variant of the scenario below ("" for none), each other
// line is one --set argument. For every input, either std::invalid_argument with one line is
// thrown, or the result has exactly the scenario's knobs, each with a value its knob accepts,
// and the value each --set gave (the last one, for a knob set twice).
#include "sim/scenario/scenario.hpp"

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace forklore;

[[noreturn]] void broken(const char* property, std::string_view detail) {
    std::fprintf(stderr, "fuzz_knobs: %s: %.*s\n", property, static_cast<int>(detail.size()),
                 detail.data());
    std::abort();
}

// Every kind of knob, with the ranges that are easy to get wrong: negative ones, the whole of
// long, a single value.
Scenario fuzz_scenario() {
    Scenario s;
    s.id = "fuzz";
    s.knobs.push_back(start_method_knob("start_method", StartMethod::fork, "how"));
    s.knobs.push_back(Knob::flag("atfork", false, ""));
    s.knobs.push_back(Knob::integer("threads", 2, 1, 64, ""));
    s.knobs.push_back(Knob::integer("offset", 0, -5, 5, ""));
    s.knobs.push_back(Knob::integer("wide", 0, LONG_MIN, LONG_MAX, ""));
    s.knobs.push_back(Knob::integer("only", 7, 7, 7, ""));
    s.knobs.push_back(Knob::choice("mode", "a", {"a", "b=c", ""}, ""));
    Variant fork;
    fork.name = "fork";
    fork.knobs = {{"start_method", "fork"}, {"atfork", "on"}};
    Variant odd;
    odd.name = "odd";
    odd.knobs = {{"mode", ""}, {"offset", "-5"}};
    s.variants = {fork, odd};
    return s;
}

const Scenario kScenario = fuzz_scenario();

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> lines;
    for (std::size_t start = 0; start <= input.size();) {
        std::size_t end = input.find('\n', start);
        if (end == std::string_view::npos)
            end = input.size();
        lines.emplace_back(input.substr(start, end - start));
        start = end + 1;
    }
    const Variant* variant = kScenario.find_variant(lines.front());
    const std::vector<std::string> settings(lines.begin() + 1, lines.end());
    KnobValues overrides, resolved;
    try {
        overrides = parse_knob_settings(settings);
        resolved = kScenario.resolve_knobs(variant, overrides);
    } catch (const std::invalid_argument& error) {
        const std::string_view message = error.what();
        if (message.empty() || message.find('\n') != std::string_view::npos)
            broken("an error that is not one line", message);
        return 0;
    }
    if (resolved.size() != kScenario.knobs.size())
        broken("knobs missing or invented", input);
    for (const auto& knob : kScenario.knobs) {
        const auto found = resolved.find(knob.name);
        if (found == resolved.end())
            broken("a knob without a value", knob.name);
        if (!knob.validate(found->second).empty())
            broken("a value its knob refuses", found->second);
    }
    for (const auto& [name, value] : overrides)
        if (resolved.at(name) != value)
            broken("an override lost", name);
    return 0;
}
