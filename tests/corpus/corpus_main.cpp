// The corpus check: one test per scenario variant, generated from the registry at start-up
// (never hand-listed), each running the variant in the sandbox and comparing with its expected
// outcome. Racy variants run their declared number of times and check the hang-rate range; those
// with an explored counterpart get a second test that explores it and checks its fact.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "sim/record/record.hpp"
#include "sim/run/explore.hpp"
#include "sim/run/matrix.hpp"
#include "sim/scenario/scenario.hpp"

#include <deque>
#include <string>

namespace {

using namespace forklore;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitizerBuild = true;
#else
constexpr bool kSanitizerBuild = false;
#endif

// Under ASan or TSan the scenario's malloc is the sanitizer's allocator, with locks and a fork
// handling of its own: a hang rate measured there is not the C library's, which is what these
// variants expect. (Seen under ASan, gcc 12: malloc-at-fork:malloc_fork hung 29 of 40 runs, on
// a futex in ASan's heap, against at most 60% expected of glibc's malloc.)
bool rate_is_the_c_librarys_malloc(const Scenario& scenario) {
    return scenario.id == "malloc-at-fork";
}

class VariantTest : public Catch::ITestInvoker {
  public:
    VariantTest(const Scenario& scenario, const Variant& variant)
        : scenario_(scenario), variant_(variant) {}

    void invoke() const override {
        MatrixCell cell = run_variant(scenario_, variant_, 1);
        INFO("expected " << variant_.expected.describe());
        INFO("explanation: " << cell.last_record.verdict.explanation);
        INFO("stderr: " << cell.last_record.stderr_text.substr(0, 2000));
        INFO(cell.mismatch);
        if (variant_.expected.racy && kSanitizerBuild && rate_is_the_c_librarys_malloc(scenario_)) {
            // Every run still ends as a run of this variant can: completed, or proven hung.
            for (const auto& [outcome, count] : cell.verdict_counts) {
                INFO(outcome << ": " << count << " runs");
                CHECK((outcome == "completed" || outcome.rfind("deadlocked(", 0) == 0));
            }
            WARN("under a sanitizer's allocator the hang rate was "
                 << cell.hang_rate() << " over " << cell.runs << " runs (not checked)");
            return;
        }
        if (variant_.expected.racy) {
            INFO("hang rate " << cell.hang_rate() << " over " << cell.runs << " runs");
            CHECK(cell.hang_rate() >= variant_.expected.min_hang_rate);
            CHECK(cell.hang_rate() <= variant_.expected.max_hang_rate);
        } else {
            CHECK(outcome_label(cell.last_record.verdict) == outcome_label_of(variant_.expected));
            CHECK(matches(variant_.expected, cell.last_record.verdict));
            // A deadlock verdict must come with its explanation and its wait-for graph.
            if (variant_.expected.verdict == VerdictKind::deadlocked) {
                CHECK_FALSE(cell.last_record.verdict.explanation.empty());
                CHECK_FALSE(cell.last_record.verdict.wait_for.empty());
            }
        }
        CHECK(cell.passed);
    }

  private:
    static std::string outcome_label_of(const Expectation& expected) {
        Verdict verdict;
        verdict.kind = expected.verdict;
        verdict.reason = expected.reason;
        verdict.signal = expected.signal;
        return outcome_label(verdict);
    }
    const Scenario& scenario_;
    const Variant& variant_;
};

// A racy variant's explored counterpart: every schedule within its bound, run stepped, proves
// the fact the variant states (which placements of the fork hang), where the rate is only how
// often the machine's timing lands there.
class ExploredTest : public Catch::ITestInvoker {
  public:
    ExploredTest(const Scenario& scenario, const Variant& variant)
        : scenario_(scenario), variant_(variant) {}

    void invoke() const override {
        const ExploredFact& fact = *variant_.expected.explored;
        ExploreOptions options;
        options.preemption_bound = fact.bound;
        const ExploreResult result =
            explore_schedules(make_request(scenario_, variant_.name, fact.settings), options);
        INFO("expected: " << fact.describe());
        INFO(describe_exploration(result));
        CHECK(explored_mismatch(result, fact) == "");
    }

  private:
    const Scenario& scenario_;
    const Variant& variant_;
};

// Catch2 keeps references to the names and tags: they must live as long as the session.
std::deque<std::string> g_strings;

void register_corpus() {
    for (const auto& scenario : ScenarioRegistry::instance().all())
        for (const auto& variant : scenario.variants) {
            const std::string& name = g_strings.emplace_back(scenario.id + ":" + variant.name);
            const std::string& tags = g_strings.emplace_back(
                "[corpus][" + scenario.id + "]" + (variant.expected.racy ? "[racy]" : "") +
                (variant.expected.is_slow() ? "[slow]" : "") +
                (scenario.hidden ? "[selftest]" : ""));
            Catch::AutoReg(new VariantTest(scenario, variant),
                           Catch::SourceLineInfo(__FILE__, static_cast<std::size_t>(__LINE__)),
                           Catch::StringRef(), Catch::NameAndTags{name, tags});
            if (!variant.expected.explored)
                continue;
            const std::string& explored = g_strings.emplace_back(name + " explored");
            const std::string& explored_tags =
                g_strings.emplace_back("[corpus][explored][" + scenario.id + "]");
            Catch::AutoReg(new ExploredTest(scenario, variant),
                           Catch::SourceLineInfo(__FILE__, static_cast<std::size_t>(__LINE__)),
                           Catch::StringRef(), Catch::NameAndTags{explored, explored_tags});
        }
}

} // namespace

int main(int argc, char* argv[]) {
    register_corpus();
    return Catch::Session().run(argc, argv);
}
