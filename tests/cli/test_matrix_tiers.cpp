// The matrix's tiers, tested from outside through the real `forklore` program: the default set
// is the deterministic variants not marked slow, and the matrix says what it skipped; --all runs
// racy and slow variants too; --deterministic every deterministic one; a filter runs what it
// matches; the engine's self-tests run only with --self-tests. `matrix --list` prints what a
// matrix would run without running it, so the selections are checked against `list --json`
// without running the corpus; one real run checks the note after the table.
#include "cli_run.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <set>
#include <string>
#include <vector>

namespace {
using forklore::cli_test::CliResult;
using forklore::cli_test::lines_of;
using forklore::cli_test::require_usage_error;
using forklore::cli_test::run_cli;
using nlohmann::json;

// The corpus as `list --json` (with --self-tests: every scenario) describes it.
struct Corpus {
    std::set<std::string> quick, racy, slow, self_tests; // "scenario:variant"
    std::set<std::string> corpus() const {
        std::set<std::string> all = quick;
        all.insert(racy.begin(), racy.end());
        all.insert(slow.begin(), slow.end());
        return all;
    }
};

Corpus corpus_from_list() {
    CliResult list = run_cli({"list", "--json", "--self-tests"});
    REQUIRE(list.exit_code == 0);
    Corpus corpus;
    for (const auto& scenario : json::parse(list.out))
        for (const auto& variant : scenario.at("variants")) {
            const std::string name =
                scenario.at("id").get<std::string>() + ":" + variant.at("name").get<std::string>();
            const json& expected = variant.at("expected");
            if (scenario.at("hidden").get<bool>())
                corpus.self_tests.insert(name);
            else if (expected.at("racy").get<bool>())
                corpus.racy.insert(name); // racy and slow counts as racy, as the matrix does
            else if (expected.at("slow").get<bool>())
                corpus.slow.insert(name);
            else
                corpus.quick.insert(name);
        }
    return corpus;
}

// What `matrix ARGS --list` would run ("scenario:variant", the tier mark cut off), and its last
// line when that is the note on what it skipped ("" when it skipped nothing).
struct Listed {
    std::set<std::string> variants;
    std::string note;
};

Listed matrix_list(std::vector<std::string> args) {
    args.insert(args.begin(), "matrix");
    args.push_back("--list");
    CliResult result = run_cli(args);
    INFO(result.out << result.err);
    REQUIRE(result.exit_code == 0);
    Listed listed;
    for (const auto& line : lines_of(result.out)) {
        if (line.find(" skipped: --all runs them") != std::string::npos)
            listed.note = line;
        else if (!line.empty())
            listed.variants.insert(line.substr(0, line.find(' ')));
    }
    return listed;
}

std::string note(std::size_t racy, std::size_t slow) {
    std::string counts = racy && slow ? fmt::format("{} racy and {} slow", racy, slow)
                         : racy       ? fmt::format("{} racy", racy)
                                      : fmt::format("{} slow", slow);
    return counts + (racy + slow == 1 ? " variant" : " variants") + " skipped: --all runs them";
}
} // namespace

TEST_CASE("the corpus has quick, racy and slow variants", "[cli][matrix][tiers]") {
    const Corpus corpus = corpus_from_list();
    CHECK(corpus.quick.size() > 100);
    CHECK_FALSE(corpus.racy.empty());
    CHECK_FALSE(corpus.slow.empty());
    CHECK_FALSE(corpus.self_tests.empty());
    CHECK(corpus.slow.count("two-gib-message:2gib_minus_1_int32") == 1);
}

TEST_CASE("the default matrix runs the quick deterministic variants and says what it skipped",
          "[cli][matrix][tiers]") {
    const Corpus corpus = corpus_from_list();
    const Listed listed = matrix_list({});
    CHECK(listed.variants == corpus.quick);
    CHECK(listed.note == note(corpus.racy.size(), corpus.slow.size()));
}

TEST_CASE("matrix --all runs racy and slow variants, not the self-tests", "[cli][matrix][tiers]") {
    const Corpus corpus = corpus_from_list();
    const Listed listed = matrix_list({"--all"});
    CHECK(listed.variants == corpus.corpus());
    CHECK(listed.note.empty());
}

TEST_CASE("matrix --deterministic runs the slow variants, not the racy ones",
          "[cli][matrix][tiers]") {
    const Corpus corpus = corpus_from_list();
    const Listed listed = matrix_list({"--deterministic"});
    std::set<std::string> deterministic = corpus.quick;
    deterministic.insert(corpus.slow.begin(), corpus.slow.end());
    CHECK(listed.variants == deterministic);
    CHECK(listed.note == note(corpus.racy.size(), 0));
    require_usage_error(run_cli({"matrix", "--all", "--deterministic", "--list"}));
}

TEST_CASE("the self-tests run only with --self-tests", "[cli][matrix][tiers]") {
    const Corpus corpus = corpus_from_list();
    std::set<std::string> everything = corpus.corpus();
    everything.insert(corpus.self_tests.begin(), corpus.self_tests.end());
    CHECK(matrix_list({"--all", "--self-tests"}).variants == everything);
    // Without --all, the quick ones of both.
    const Listed quick = matrix_list({"--self-tests"});
    std::size_t self_tests = 0;
    for (const auto& name : quick.variants) {
        INFO(name);
        CHECK((corpus.quick.count(name) == 1 || corpus.self_tests.count(name) == 1));
        self_tests += corpus.self_tests.count(name);
    }
    CHECK(self_tests > 0);
    CHECK(quick.variants.size() == corpus.quick.size() + self_tests);

    // A filter on self-tests alone matches nothing without the flag, and says which flag.
    CliResult result = run_cli({"matrix", "--filter", "selftest-*", "--list"});
    require_usage_error(result);
    CHECK(result.err.find("--self-tests") != std::string::npos);
}

TEST_CASE("a filter runs the racy and slow variants it names", "[cli][matrix][tiers]") {
    const Corpus corpus = corpus_from_list();
    const std::string racy = *corpus.racy.begin();
    const std::string slow = *corpus.slow.begin();
    CHECK(matrix_list({"--filter", racy}).variants == std::set<std::string>{racy});
    CHECK(matrix_list({"--filter", slow}).variants == std::set<std::string>{slow});
    // With --deterministic a filter leaves the racy variant out, and says so.
    CliResult result = run_cli({"matrix", "--deterministic", "--filter", racy, "--list"});
    require_usage_error(result);
    CHECK(result.err.find("--all") != std::string::npos);
    const Listed slow_kept = matrix_list({"--deterministic", "--filter", slow});
    CHECK(slow_kept.variants == std::set<std::string>{slow});
}

TEST_CASE("a real matrix prints the skipped note after its table", "[cli][matrix][tiers]") {
    // The scenario with the fewest quick variants that also has a racy one: --deterministic
    // on it runs the quick ones and skips the racy ones.
    const Corpus corpus = corpus_from_list();
    std::string chosen;
    std::size_t fewest = ~std::size_t{0};
    for (const auto& racy : corpus.racy) {
        const std::string id = racy.substr(0, racy.find(':'));
        std::size_t quick = 0;
        for (const auto& name : corpus.quick)
            quick += name.rfind(id + ":", 0) == 0 ? 1 : 0;
        std::size_t slow = 0;
        for (const auto& name : corpus.slow)
            slow += name.rfind(id + ":", 0) == 0 ? 1 : 0;
        if (quick > 0 && slow == 0 && quick < fewest) {
            fewest = quick;
            chosen = id;
        }
    }
    REQUIRE_FALSE(chosen.empty());
    std::size_t racy = 0;
    for (const auto& name : corpus.racy)
        racy += name.rfind(chosen + ":", 0) == 0 ? 1 : 0;
    CliResult result = run_cli({"matrix", "--deterministic", "--filter", chosen + ":*"}, 300);
    INFO(result.out << result.err);
    CHECK(result.exit_code == 0);
    const auto lines = lines_of(result.out);
    REQUIRE_FALSE(lines.empty());
    std::string last = lines.back();
    if (last.empty() && lines.size() > 1)
        last = lines[lines.size() - 2];
    CHECK(last == note(racy, 0));
}
