// Scenarios' knobs and variants: validation, resolution order, start methods, expectations.
// The scenario here is local: test scenarios never go into the global registry.
#include "sim/scenario/scenario.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <stdexcept>
#include <string>

using namespace forklore;
using Catch::Matchers::Contains;

namespace {

Knob choice_knob() {
    return Knob::choice("logger", "stdio", {"stdio", "logger", "none"}, "");
}
Knob flag_knob() {
    return Knob::flag("warm_up", false, "");
}
Knob integer_knob() {
    return Knob::integer("threads", 2, 1, 16, "");
}

Scenario test_scenario() {
    Scenario s;
    s.id = "unit-test-scenario";
    s.number = 9999;
    s.title = "local";
    s.knobs = {start_method_knob("method", StartMethod::fork, "how the child starts"),
               choice_knob(), flag_knob(), integer_knob()};
    s.variants = {
        {"forked",
         "fork with a logger",
         {{"logger", "logger"}},
         Expectation::deadlocks(DeadlockReason::orphaned_lock)},
        {"spawned",
         "spawn is safe",
         {{"method", "spawn"}, {"threads", "4"}},
         Expectation::completes()},
    };
    return s;
}

// Expects resolve_knobs to throw std::invalid_argument with a one-line message naming `word`.
void require_invalid(const Scenario& s, const Variant* variant, const KnobValues& overrides,
                     const std::string& word) {
    try {
        (void)s.resolve_knobs(variant, overrides);
        FAIL("resolve_knobs accepted a bad knob");
    } catch (const std::invalid_argument& error) {
        const std::string message = error.what();
        INFO(message);
        CHECK_THAT(message, Contains(word));
        CHECK(message.find('\n') == std::string::npos);
    }
}

} // namespace

TEST_CASE("Knob::validate accepts good values and names the knob for bad ones", "[scenario]") {
    SECTION("choice") {
        const Knob k = choice_knob();
        CHECK(k.validate("stdio").empty());
        CHECK(k.validate("none").empty());
        for (const char* bad : {"", "STDIO", "stdio ", "syslog"}) {
            INFO("value '" << bad << "'");
            const std::string problem = k.validate(bad);
            CHECK_THAT(problem, Contains("logger"));
            CHECK_THAT(problem, Contains("stdio")); // lists what it takes
        }
        CHECK_THAT(k.validate("syslog"), Contains("syslog"));
    }
    SECTION("flag") {
        const Knob k = flag_knob();
        CHECK(k.validate("on").empty());
        CHECK(k.validate("off").empty());
        for (const char* bad : {"", "yes", "true", "1", "ON"}) {
            INFO("value '" << bad << "'");
            CHECK_THAT(k.validate(bad), Contains("warm_up"));
        }
    }
    SECTION("integer") {
        const Knob k = integer_knob();
        CHECK(k.validate("1").empty());
        CHECK(k.validate("16").empty());
        CHECK(k.validate("7").empty());
        for (const char* bad :
             {"0", "17", "-3", "", "two", "3x", " 3", "3 ", "1.5", "99999999999999999999999"}) {
            INFO("value '" << bad << "'");
            const std::string problem = k.validate(bad);
            CHECK_THAT(problem, Contains("threads"));
            CHECK(problem.find('\n') == std::string::npos);
        }
        CHECK_THAT(k.validate("17"), Contains("16")); // says the range
    }
}

TEST_CASE("start_method_knob offers every start method", "[scenario]") {
    const Knob k = start_method_knob("method", StartMethod::spawn, "how");
    CHECK(k.name == "method");
    CHECK(k.type == KnobType::choice);
    CHECK(k.default_value == "spawn");
    CHECK(k.help == "how");
    CHECK(k.choices == std::vector<std::string>{"fork", "fork_exec", "spawn", "forkserver"});
    for (const auto& choice : k.choices) {
        CHECK(k.validate(choice).empty());
        CHECK(start_method_from_string(choice).has_value());
    }
    CHECK_FALSE(k.validate("vfork").empty());
}

TEST_CASE("resolve_knobs: defaults, then the variant, then overrides", "[scenario]") {
    const Scenario s = test_scenario();
    REQUIRE(s.find_knob("threads") != nullptr);
    CHECK(s.find_knob("nope") == nullptr);
    const Variant* forked = s.find_variant("forked");
    const Variant* spawned = s.find_variant("spawned");
    REQUIRE(forked != nullptr);
    REQUIRE(spawned != nullptr);
    CHECK(s.find_variant("nope") == nullptr);

    SECTION("defaults only") {
        const KnobValues v = s.resolve_knobs(nullptr, {});
        CHECK(v ==
              KnobValues{
                  {"method", "fork"}, {"logger", "stdio"}, {"warm_up", "off"}, {"threads", "2"}});
    }
    SECTION("a variant changes only its own knobs") {
        const KnobValues v = s.resolve_knobs(spawned, {});
        CHECK(v ==
              KnobValues{
                  {"method", "spawn"}, {"logger", "stdio"}, {"warm_up", "off"}, {"threads", "4"}});
    }
    SECTION("overrides win over the variant") {
        const KnobValues v = s.resolve_knobs(spawned, {{"threads", "8"}, {"warm_up", "on"}});
        CHECK(v.at("method") == "spawn");
        CHECK(v.at("threads") == "8");
        CHECK(v.at("warm_up") == "on");
        CHECK(v.at("logger") == "stdio");
        CHECK(v.size() == 4);
    }
    SECTION("overrides without a variant") {
        const KnobValues v = s.resolve_knobs(nullptr, {{"method", "forkserver"}});
        CHECK(v.at("method") == "forkserver");
        CHECK(v.at("threads") == "2");
    }
    SECTION("the resolved values drive a context") {
        ScenarioContext context(s.resolve_knobs(forked, {{"warm_up", "on"}, {"threads", "5"}}));
        CHECK(context.knob("logger") == "logger");
        CHECK(context.flag("warm_up"));
        CHECK(context.integer("threads") == 5);
        CHECK(context.method("method") == StartMethod::fork);
        CHECK_THROWS_AS(context.knob("nope"), std::invalid_argument);
    }
    SECTION("an unknown knob is refused, naming it and the knobs there are") {
        require_invalid(s, nullptr, {{"thread", "3"}}, "thread");
        require_invalid(s, spawned, {{"colour", "red"}}, "colour");
        require_invalid(s, nullptr, {{"colour", "red"}}, "threads"); // lists the real ones
    }
    SECTION("a bad value is refused, naming the knob") {
        require_invalid(s, nullptr, {{"threads", "0"}}, "threads");
        require_invalid(s, forked, {{"method", "vfork"}}, "method");
        require_invalid(s, nullptr, {{"warm_up", "yes"}}, "warm_up");
    }
    SECTION("a variant with a bad value is refused too") {
        Scenario broken = test_scenario();
        broken.variants.push_back({"broken", "bad", {{"threads", "100"}}, {}});
        require_invalid(broken, broken.find_variant("broken"), {}, "threads");
        broken.variants.push_back({"typo", "bad", {{"treads", "3"}}, {}});
        require_invalid(broken, broken.find_variant("typo"), {}, "treads");
    }
    SECTION("a scenario without knobs refuses every knob") {
        Scenario bare;
        bare.id = "bare";
        CHECK(bare.resolve_knobs(nullptr, {}).empty());
        require_invalid(bare, nullptr, {{"method", "fork"}}, "method");
    }
}

TEST_CASE("Expectation::describe", "[scenario]") {
    CHECK(Expectation::deadlocks(DeadlockReason::orphaned_lock).describe() ==
          "deadlocked(orphaned_lock)");
    CHECK(Expectation::deadlocks(DeadlockReason::cycle).describe() == "deadlocked(cycle)");
    CHECK(Expectation::deadlocks(DeadlockReason::blocked_on_process).describe() ==
          "deadlocked(blocked_on_process)");
    CHECK(Expectation::completes().describe() == "completed");
    CHECK(Expectation::ends_as(VerdictKind::crashed, 11).describe().find("crashed") == 0);
    CHECK(Expectation::ends_as(VerdictKind::timed_out).describe() == "timed_out");

    const std::string racy = Expectation::hang_rate(40, 0.1, 0.9).describe();
    CHECK_THAT(racy, Contains("40"));
    CHECK_THAT(racy, Contains("runs"));
    CHECK_THAT(racy, Contains("10%"));
    CHECK_THAT(racy, Contains("90%"));

    const Expectation e = Expectation::hang_rate(25, 0.0, 0.5);
    CHECK(e.racy);
    CHECK(e.runs == 25);
    CHECK_THAT(e.describe(), Contains("25 runs"));
}

TEST_CASE("a local scenario stays out of the registry", "[scenario]") {
    const auto before = ScenarioRegistry::instance().all().size();
    const Scenario s = test_scenario();
    CHECK(ScenarioRegistry::instance().find(s.id) == nullptr);
    CHECK(ScenarioRegistry::instance().all().size() == before);
    // Whatever is registered is in teaching order with unique ids.
    const auto& all = ScenarioRegistry::instance().all();
    std::set<std::string> ids;
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (i > 0)
            CHECK(all[i - 1].number <= all[i].number);
        CHECK(ids.insert(all[i].id).second);
    }
}

TEST_CASE("the named knob constructors fill what each kind of knob needs", "[scenario]") {
    const Knob flag = Knob::flag("atfork", true, "handlers");
    CHECK(flag.type == KnobType::flag);
    CHECK(flag.default_value == "on");
    CHECK(Knob::flag("atfork", false, "").default_value == "off");
    CHECK(flag.help == "handlers");

    const Knob choice = Knob::choice("lock", "mutex", {"mutex", "spin"}, "which lock");
    CHECK(choice.type == KnobType::choice);
    CHECK(choice.default_value == "mutex");
    CHECK(choice.choices == std::vector<std::string>{"mutex", "spin"});
    CHECK(choice.validate("spin").empty());

    const Knob integer = Knob::integer("threads", 4, 1, 16, "how many");
    CHECK(integer.type == KnobType::integer);
    CHECK(integer.default_value == "4");
    CHECK(integer.min == 1);
    CHECK(integer.max == 16);
    CHECK_FALSE(integer.validate("17").empty());
}

TEST_CASE("a scenario's number comes from its file name", "[scenario]") {
    CHECK(number_from_file_name("scenarios/085_thread_pool_after_fork.cpp") == 85);
    CHECK(number_from_file_name("/src/forklore/scenarios/010_file_read_under_lock.cpp") == 10);
    CHECK(number_from_file_name("990_exec.cpp") == 990);
    CHECK(number_from_file_name("tests/selftests/engine_selftests.cpp") == 0);
    CHECK(number_from_file_name("") == 0);
}
