// Stability: a deterministic variant forces its interleaving (barriers, pipes, a lock taken
// before the fork), so it must end the same way every time it runs. This runs every
// deterministic variant of the corpus, slow ones included, a few times through
// `forklore matrix --deterministic --repeat N --jsonl FILE` and asserts that none flipped: every
// run of a variant had the same verdict, and it was the expected one. (`--repeat 20` is the long
// version of the same check, run by hand; README.md gives its figures.)
#include "tests/cli/cli_run.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sstream>
#include <string>

namespace {
using forklore::cli_test::CliResult;
using forklore::cli_test::read_text;
using forklore::cli_test::run_cli;
using forklore::cli_test::TempDir;
using nlohmann::json;

constexpr int kRepeat = 2;
// The whole matrix twice over, on a loaded two-core machine: well under the CTest TIMEOUT.
constexpr int kLimitSeconds = 840;
} // namespace

TEST_CASE("no deterministic variant flips over repeated runs", "[stability]") {
    TempDir dir;
    const std::string jsonl = (dir.path / "stability.jsonl").string();
    CliResult result = run_cli(
        {"matrix", "--deterministic", "--repeat", std::to_string(kRepeat), "--jsonl", jsonl},
        kLimitSeconds);
    INFO("forklore matrix printed:\n" << result.out << result.err);
    std::istringstream lines(read_text(jsonl));
    std::size_t variants = 0, total = 0;
    for (std::string text; std::getline(lines, text);) {
        json line = json::parse(text);
        ++variants;
        total = line.at("total");
        const std::string name =
            line.at("scenario").get<std::string>() + ":" + line.at("variant").get<std::string>();
        INFO(name << ": " << line.at("counts").dump() << " " << line.at("mismatch"));
        CHECK_FALSE(line.at("expected").at("racy").get<bool>());
        CHECK(line.at("runs") == kRepeat);
        CHECK(line.at("counts").size() == 1); // one outcome over all its runs: no flip
        CHECK(line.at("passed") == true);
    }
    CHECK(variants > 100);
    CHECK(variants == total);
    CHECK(result.exit_code == 0);
}
