// `forklore lesson`: the lessons of tutorials/ listed, shown and checked against the engine, and a
// lesson that went stale caught with its lesson, its step and the difference.
#include "cli_run.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace forklore::cli_test;
using Catch::Matchers::Contains;

namespace {

const std::string kStaleLessons = std::string(FORKLORE_SOURCE_DIR) + "/tests/cli/lessons/stale";

void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path) << text;
}

} // namespace

TEST_CASE("lesson check fails on a stale lesson, naming the lesson, the step and the difference",
          "[lesson]") {
    CliResult result = run_cli({"lesson", "check", "--dir", kStaleLessons});
    CHECK(result.exit_code == 1);
    // The engine's verdict is what the claim is compared with: the fork deadlocks.
    CHECK_THAT(result.err,
               Contains("01-stale-claim step 1 (Predict: the reader holds the lock): says "
                        "completed, the engine says deadlocked(orphaned_lock)"));
    CHECK_THAT(result.err, Contains("01-stale-claim step 2 (Explain: who owns the lock): answers "
                                    "'main' (owner), the engine's verdict of "
                                    "file-read-under-lock:fork names reader"));
    CHECK_THAT(result.err, Contains("lesson check: 2 problems"));
}

TEST_CASE("lesson check fails on a lesson that cannot be read, saying where", "[lesson]") {
    TempDir dir;
    write_file(dir.path / "01-broken.md", "---\ntitle: t\nminutes: 10\n---\n");
    CliResult result = run_cli({"lesson", "check", "--dir", dir.path.string()});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.out + result.err, Contains("01-broken.md:1: the header has no 'topics'"));
    // --static reads and validates, and runs nothing.
    result = run_cli({"lesson", "check", "--static", "--dir", kStaleLessons});
    CHECK(result.exit_code == 0);
}

TEST_CASE("lesson list and show read the lessons; unknown ones are usage errors", "[lesson]") {
    CliResult list = run_cli({"lesson", "list", "--json", "--dir", kStaleLessons});
    REQUIRE(list.exit_code == 0);
    auto lessons = nlohmann::json::parse(list.out);
    REQUIRE(lessons.size() == 1);
    CHECK(lessons[0]["id"] == "01-stale-claim");
    CHECK(lessons[0]["steps"][0]["run"] == "file-read-under-lock:fork");

    CliResult show = run_cli({"lesson", "show", "01-stale-claim", "--dir", kStaleLessons});
    REQUIRE(show.exit_code == 0);
    CHECK_THAT(show.out, Contains("then run: forklore run file-read-under-lock --variant fork"));
    CHECK_THAT(show.out, Contains("2) deadlocked(orphaned_lock)"));
    CHECK_FALSE(Contains("answer:").match(show.out)); // a student's copy has no answers
    show = run_cli({"lesson", "show", "01-stale-claim", "--answers", "--dir", kStaleLessons});
    CHECK_THAT(show.out, Contains("answer: completed"));

    require_one_line(run_cli({"lesson", "show", "99-nothing", "--dir", kStaleLessons}), 2,
                     "unknown lesson '99-nothing' (lessons: 01-stale-claim)");
    require_one_line(run_cli({"lesson", "check", "--dir", "/nonexistent/lessons"}), 2,
                     "no such directory of lessons");
    require_usage_error(run_cli({"lesson"}));
    require_usage_error(run_cli({"lesson", "recite"}));
}

TEST_CASE("the classroom has at least 12 lessons, each of them readable", "[lesson]") {
    CliResult list = run_cli({"lesson", "list", "--json"});
    REQUIRE(list.exit_code == 0);
    auto lessons = nlohmann::json::parse(list.out);
    CHECK(lessons.size() >= 12);
    for (const auto& lesson : lessons) {
        INFO(lesson["id"]);
        CHECK(lesson["minutes"].get<int>() >= 5);
        CHECK_FALSE(lesson["steps"].empty());
    }
}

TEST_CASE("lesson list lines up its columns whatever the lengths of the ids", "[lesson]") {
    TempDir dir;
    const std::string body = "---\ntitle: T\nminutes: 10\ntopics: fork and locks\n"
                             "scenarios: lock-cycle\n---\n\n"
                             "## Read: r\n\ntext\n\n## What you learned\n\nl\n";
    write_file(dir.path / "01-a.md", body);
    write_file(dir.path / "02-an-id-longer-than-any-column-width-guessed-in-advance.md", body);
    CliResult list = run_cli({"lesson", "list", "--dir", dir.path.string()});
    REQUIRE(list.exit_code == 0);
    std::vector<std::size_t> columns;
    std::istringstream lines(list.out);
    for (std::string line; std::getline(lines, line);)
        if (auto at = line.find(" min  "); at != std::string::npos)
            columns.push_back(at);
    INFO(list.out);
    REQUIRE(columns.size() == 2);
    CHECK(columns[0] == columns[1]);
}

TEST_CASE("a lesson that cannot be read is said by name and never hides the others", "[lesson]") {
    TempDir dir;
    write_file(dir.path / "01-good.md",
               "---\ntitle: Good\nminutes: 10\ntopics: fork and locks\nscenarios: lock-cycle\n"
               "---\n\n## Read: r\n\ntext\n\n## What you learned\n\nl\n");
    write_file(dir.path / "02-broken.md", "---\ntitle: t\nminutes: 10\n---\n");
    // A FIFO named like a lesson is refused at once, never waited on.
    REQUIRE(mkfifo((dir.path / "03-fifo.md").c_str(), 0600) == 0);
    const std::string d = dir.path.string();

    CliResult list = run_cli({"lesson", "list", "--dir", d});
    CHECK(list.exit_code == 1);
    CHECK_THAT(list.out, Contains("01-good"));
    CHECK_THAT(list.err, Contains("02-broken.md:1: the header has no 'topics'"));
    CHECK_THAT(list.err, Contains("03-fifo.md"));

    CHECK(run_cli({"lesson", "show", "01-good", "--dir", d}).exit_code == 0);
    CliResult show = run_cli({"lesson", "show", "02-broken", "--dir", d});
    CHECK(show.exit_code == 1);
    CHECK_THAT(show.err, Contains("02-broken.md:1: the header has no 'topics'"));
    CHECK_FALSE(Contains("unknown lesson").match(show.err));

    CliResult check = run_cli({"lesson", "check", "02-broken", "--static", "--dir", d});
    CHECK(check.exit_code == 1);
    CHECK_THAT(check.err, Contains("02-broken.md:1: the header has no 'topics'"));
    // Checking another lesson is not failed by the broken one.
    CliResult good = run_cli({"lesson", "check", "01-good", "--static", "--dir", d});
    CHECK_FALSE(Contains("02-broken").match(good.out + good.err));
}
