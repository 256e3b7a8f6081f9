// Scenarios, their knobs and variants, and the registry that holds them.
//
// A scenario is a small real program: a body that runs as the sandbox's main process, and named
// child functions that start methods run in child processes. Each scenario file registers one
// Scenario at static-initialisation time with a ScenarioRegistrar; the registry is the single
// source of the corpus (the CLI's list, the matrix and the CTest corpus tests all read it).
#pragma once

#include "sim/protocol/start_method.hpp"
#include "sim/protocol/verdict_kind.hpp"
#include "sim/sandbox/containment.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace forklore {

enum class KnobType { choice, flag, integer };

struct Knob {
    std::string name;
    KnobType type = KnobType::choice;
    std::string default_value;
    std::string help;
    std::vector<std::string> choices; // choice knobs
    long min = 0, max = 0;            // integer knobs

    // Named constructors, so that a scenario's list of knobs says what each one is. A flag is
    // "on" or "off"; a choice is one of `choices`; an integer lies in [min, max].
    static Knob flag(std::string name, bool on_by_default, std::string help);
    static Knob choice(std::string name, std::string default_value,
                       std::vector<std::string> choices, std::string help);
    static Knob integer(std::string name, long default_value, long min, long max, std::string help);

    // Empty when `value` is acceptable; otherwise why not (one line).
    std::string validate(const std::string& value) const;
};

// A knob that picks a start method, with every method as a choice.
Knob start_method_knob(std::string name, StartMethod default_method, std::string help);

using KnobValues = std::map<std::string, std::string>;

// The command line's `--set knob=value` overrides as knob values (the GUI's custom knobs are the
// same). Each setting is split at its first '='; the name must not be empty, the value may be
// (resolve_knobs judges it). A knob set twice takes its last value. Throws std::invalid_argument
// with a one-line message for a setting without '=' or without a name.
KnobValues parse_knob_settings(const std::vector<std::string>& settings);

// What a variant is expected to end as. A deterministic expectation names the verdict (and the
// deadlock reason); a racy one names how many runs to make and the range of hang rates. Either
// may be marked slow (`.slow("why")`): the default `forklore matrix` skips it, `--all` runs it.
// What exploring a racy variant's schedules proves instead of a rate: `forklore explore` of the
// variant, with `settings` over its knobs (a loop counted in steps instead of time) and a
// preemption bound of `bound`, starts the child at `placements` different points among the other
// threads' steps; at `hanging` of them every schedule ends deadlocked(`reason`), at the others
// every schedule completes. The rate of the natural runs is how often the machine's timing lands
// in those placements.
struct ExploredFact {
    KnobValues settings;
    int bound = 1;
    std::size_t placements = 0, hanging = 0;
    DeadlockReason reason = DeadlockReason::orphaned_lock;
    std::string where; // the hanging placements in words: "while the printer holds the logger"
    // "the child hangs (orphaned_lock) at exactly 2 of its 7 placements: while ..."
    std::string describe() const;
};

struct Expectation {
    VerdictKind verdict = VerdictKind::completed;
    std::optional<DeadlockReason> reason;
    int signal = 0; // crashed/limit: the expected signal, 0 for any

    bool racy = false;
    int runs = 1;
    double min_hang_rate = 0.0, max_hang_rate = 1.0;
    // Why one run is slow (over a second on an idle core, or a cost that is the lesson: 2 GiB
    // through a pipe); empty for a quick variant.
    std::string slow_because;
    // A racy variant's explored counterpart, when its race lies between scheduling points (not
    // inside glibc, a BLAS library or the Python interpreter, which have none).
    std::optional<ExploredFact> explored;

    static Expectation completes() { return {}; }
    static Expectation deadlocks(DeadlockReason why) {
        Expectation e;
        e.verdict = VerdictKind::deadlocked;
        e.reason = why;
        return e;
    }
    static Expectation ends_as(VerdictKind kind, int signal = 0) {
        Expectation e;
        e.verdict = kind;
        e.signal = signal;
        return e;
    }
    static Expectation hang_rate(int runs, double min_rate, double max_rate) {
        Expectation e;
        e.racy = true;
        e.runs = runs;
        e.min_hang_rate = min_rate;
        e.max_hang_rate = max_rate;
        return e;
    }
    // The same expectation, marked slow for `why` ("moves 512 MiB through a pipe").
    Expectation slow(std::string why) const {
        Expectation e = *this;
        e.slow_because = std::move(why);
        return e;
    }
    bool is_slow() const { return !slow_because.empty(); }
    // The same expectation with its explored counterpart.
    Expectation explored_as(ExploredFact fact) const {
        Expectation e = *this;
        e.explored = std::move(fact);
        return e;
    }
    // "deadlocked(orphaned_lock)", "completed", "hang rate 10%..90% over 40 runs"
    std::string describe() const;
};

struct Variant {
    std::string name;
    std::string summary; // one line: what this variant shows
    KnobValues knobs;    // values that differ from the knob defaults
    Expectation expected;
};

// The sandboxed program's view of its own configuration, given to the body.
class ScenarioContext {
  public:
    explicit ScenarioContext(KnobValues knobs) : knobs_(std::move(knobs)) {}
    const std::string& knob(const std::string& name) const;
    bool flag(const std::string& name) const;
    long integer(const std::string& name) const;
    StartMethod method(const std::string& name) const;
    const KnobValues& knobs() const { return knobs_; }

  private:
    KnobValues knobs_;
};

// Arguments passed to a child function: explicit, as Python pickles a target's arguments.
using ChildArgs = std::map<std::string, std::string>;
using ChildFunction = int (*)(const ChildArgs& args);
using ScenarioBody = int (*)(ScenarioContext& context);

// A Python program's path ("scenarios/python/lock_at_fork.py").
bool is_python_source(std::string_view path);

struct Scenario {
    std::string id;    // "file-read-under-lock"
    int number = 0;    // teaching order: 10, 20, 30 ... (from the file name: ScenarioRegistrar)
    std::string group; // "fork and locks"
    std::string title;
    std::string lesson; // one paragraph
    std::vector<Knob> knobs;
    std::vector<Variant> variants;
    ScenarioBody body = nullptr;
    std::map<std::string, ChildFunction> children;
    bool hidden = false;           // self-tests of the engine: listed only with --self-tests
    double timeout_seconds = 10.0; // the run's deadline unless the user gives one
    SandboxLimits limits;          // the sandbox's limits for this scenario
    // Its source files, relative to the source tree: the file that registers it first (set by
    // ScenarioRegistrar), then any program it runs ("scenarios/python/lock_at_fork.py"). The
    // texts are embedded in the program (ScenarioRegistry::source_text).
    std::vector<std::string> sources;

    const Knob* find_knob(const std::string& name) const;
    const Variant* find_variant(const std::string& name) const;
    // Whether it runs a Python program (one of its sources is one): no probe, no scheduling
    // point, no event of its own inside it.
    bool runs_python() const;
    // The defaults, overlaid with the variant's values, overlaid with `overrides`. Throws
    // std::invalid_argument with a one-line message for an unknown knob or a bad value.
    KnobValues resolve_knobs(const Variant* variant, const KnobValues& overrides) const;
};

class ScenarioRegistry {
  public:
    static ScenarioRegistry& instance();
    void add(Scenario scenario);
    // Scenarios in teaching order (by number).
    const std::vector<Scenario>& all() const { return scenarios_; }
    const Scenario* find(const std::string& id) const;

    // The corpus's source texts, embedded at build time (scenarios/embed_sources.cmake makes
    // the table from scenarios/*.cpp, *.hpp and python/*.py), by path relative to the source
    // tree. A program that links the corpus has them whether or not a source tree exists.
    void add_source(std::string_view path, std::string_view text);
    // The text of `path`, or nullopt when it is not embedded in this program.
    std::optional<std::string_view> source_text(std::string_view path) const;
    const std::map<std::string, std::string_view, std::less<>>& sources() const { return sources_; }

  private:
    std::vector<Scenario> scenarios_;
    std::map<std::string, std::string_view, std::less<>> sources_; // texts with static storage
};

// Registers a scenario. `file` is where the registrar is written (__builtin_FILE() at the
// caller, relative to the source tree as the build maps it): the scenario's source file.
// The number a scenario file's name begins with ("scenarios/085_thread_pool_after_fork.cpp":
// 85), 0 when it begins with none.
int number_from_file_name(std::string_view path);

// Registers a scenario under the file that declares it. A scenario's number is written once, in
// its file name: the registrar reads it from there unless the scenario set one (the engine's
// self-tests, many in one file, number themselves).
struct ScenarioRegistrar {
    explicit ScenarioRegistrar(Scenario scenario, const char* file = __builtin_FILE()) {
        if (scenario.number == 0)
            scenario.number = number_from_file_name(file);
        scenario.sources.insert(scenario.sources.begin(), file);
        ScenarioRegistry::instance().add(std::move(scenario));
    }
};

} // namespace forklore
