// The corpus check: one test per scenario variant, generated from the registry at start-up
// (never hand-listed), each running the variant in the sandbox and comparing with its expected
// outcome. Racy variants run their declared number of times and check the hang-rate range.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "sim/matrix.hpp"
#include "sim/record.hpp"
#include "sim/scenario.hpp"

#include <deque>
#include <string>

namespace {

using namespace forklore;

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

// Catch2 keeps references to the names and tags: they must live as long as the session.
std::deque<std::string> g_strings;

void register_corpus() {
    for (const auto& scenario : ScenarioRegistry::instance().all())
        for (const auto& variant : scenario.variants) {
            const std::string& name = g_strings.emplace_back(scenario.id + ":" + variant.name);
            const std::string& tags = g_strings.emplace_back(
                "[corpus][" + scenario.id + "]" + (variant.expected.racy ? "[racy]" : "") +
                (scenario.hidden ? "[selftest]" : ""));
            Catch::AutoReg(new VariantTest(scenario, variant),
                           Catch::SourceLineInfo(__FILE__, static_cast<std::size_t>(__LINE__)),
                           Catch::StringRef(), Catch::NameAndTags{name, tags});
        }
}

} // namespace

int main(int argc, char* argv[]) {
    register_corpus();
    return Catch::Session().run(argc, argv);
}
