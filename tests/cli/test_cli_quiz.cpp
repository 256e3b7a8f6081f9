// `forklore quiz`: a quiz answered on stdin, each question run for real and graded against its
// verdict; the same seed gives the same quiz; a teacher's handout gives nothing away; bad input
// is refused with one line. Every run keeps its history in a private XDG_STATE_HOME, never in
// the home of whoever runs the tests.
#include "cli_run.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace {

using forklore::cli_test::CliResult;
using forklore::cli_test::lines_of;
using forklore::cli_test::read_text;
using forklore::cli_test::require_one_line;
using forklore::cli_test::run_cli;
using forklore::cli_test::TempDir;
using nlohmann::json;

// `forklore ARGS...` with its history under `state` and stdin from `input` (a file; /dev/null
// when empty), through env and sh: the shared runner always gives /dev/null.
CliResult run_quiz(const TempDir& state, const std::vector<std::string>& args,
                   const std::string& input = "") {
    const std::string input_path = (state.path / "answers.txt").string();
    {
        std::ofstream file(input_path, std::ios::trunc);
        file << input;
    }
    return run_cli(args, 100,
                   {"/usr/bin/env", "XDG_STATE_HOME=" + state.path.string(), "/bin/sh", "-c",
                    "exec \"$0\" \"$@\" < '" + input_path + "'"});
}

std::size_t count_lines_starting(const std::string& text, const std::string& start) {
    std::size_t count = 0;
    for (const auto& line : lines_of(text))
        count += line.rfind(start, 0) == 0 ? 1 : 0;
    return count;
}

} // namespace

TEST_CASE("quiz: answers on stdin are graded against each run's verdict, and scored") {
    TempDir state;
    // The answer key, from the corpus's expectations.
    const CliResult key =
        run_quiz(state, {"quiz", "--seed", "1", "--count", "5", "--key", "--json"});
    REQUIRE(key.exit_code == 0);
    const json quiz = json::parse(key.out);
    REQUIRE(quiz["questions"].size() == 5);
    const std::size_t choices = quiz["choices"].size();
    REQUIRE(choices >= 6); // completes, four deadlocks, crashes, fails ... of the corpus
    std::map<std::string, std::string> label_of_name;
    for (const auto& choice : quiz["choices"])
        label_of_name[choice["name"]] = choice["label"];

    // Right for questions 1, 3 (by name) and 5; wrong for 2 (another number) and 4 (no choice).
    std::vector<std::string> answers, answered_labels;
    for (std::size_t i = 0; i < 5; ++i) {
        const json& expected = quiz["questions"][i]["expected_answer"];
        REQUIRE(expected.is_object());
        const int number = expected["number"];
        const int wrong = number % static_cast<int>(choices) + 1;
        if (i == 1) {
            answers.push_back(std::to_string(wrong));
            answered_labels.push_back(quiz["choices"][wrong - 1]["label"]);
        } else if (i == 2) {
            answers.push_back(expected["name"]);
            answered_labels.push_back(expected["label"]);
        } else if (i == 3) {
            answers.push_back("perhaps");
            answered_labels.push_back("");
        } else {
            answers.push_back(std::to_string(number));
            answered_labels.push_back(expected["label"]);
        }
    }
    std::string input;
    for (const auto& answer : answers)
        input += answer + "\n";

    const CliResult taken = run_quiz(state, {"quiz", "--seed", "1", "--count", "5"}, input);
    INFO(taken.out << taken.err);
    REQUIRE(taken.exit_code == 0);
    CHECK(taken.err.empty());
    CHECK(taken.out.find("This is quiz seed 1: forklore quiz --seed 1 --count 5 gives it again") !=
          std::string::npos);
    CHECK(count_lines_starting(taken.out, "Question ") == 5);
    CHECK(taken.out.find("\"perhaps\" is none of the choices: counted as wrong") !=
          std::string::npos);

    // Each question's verdict, in the order asked: "  RIGHT: it <label> (verdict <v> in ...".
    const std::regex graded(R"(^  (RIGHT|WRONG): it (.+?) \(verdict (\S+) in [0-9.]+ ms\)[.;].*$)");
    std::vector<std::string> verdict_labels;
    std::size_t right_lines = 0;
    for (const auto& line : lines_of(taken.out)) {
        std::smatch match;
        if (std::regex_match(line, match, graded)) {
            verdict_labels.push_back(match[2]);
            right_lines += match[1] == "RIGHT" ? 1 : 0;
        }
    }
    REQUIRE(verdict_labels.size() == 5);
    std::size_t matching = 0;
    for (std::size_t i = 0; i < 5; ++i)
        matching += answered_labels[i] == verdict_labels[i] ? 1 : 0;
    CHECK(right_lines == matching);
    CHECK(count_lines_starting(taken.out, "score: " + std::to_string(matching) + " of 5") == 1);
    // The corpus's expectations held on this machine: the three given from the key were right.
    if (taken.out.find("NOTE: the corpus expects") == std::string::npos)
        CHECK(matching == 3);

    // The questions asked are the key's, in its order, and were recorded in the history.
    const std::regex variant_line(R"(^  It was scenario (\S+), variant (\S+): .*)");
    std::vector<std::string> asked;
    for (const auto& line : lines_of(taken.out)) {
        std::smatch match;
        if (std::regex_match(line, match, variant_line))
            asked.push_back(match[1].str() + ":" + match[2].str());
    }
    std::vector<std::string> keyed;
    for (const auto& question : quiz["questions"])
        keyed.push_back(question["scenario"].get<std::string>() + ":" +
                        question["variant"].get<std::string>());
    CHECK(asked == keyed);
    const json history =
        json::parse(read_text((state.path / "forklore/quiz-history.json").string()));
    CHECK(history["asked"].size() == 5);
    for (const auto& question : keyed)
        CHECK(std::find(history["asked"].begin(), history["asked"].end(), question) !=
              history["asked"].end());

    // Seed 1 again, answered as a machine would: the same questions, the same score.
    const CliResult again =
        run_quiz(state, {"quiz", "--seed", "1", "--count", "5", "--json"}, input);
    REQUIRE(again.exit_code == 0);
    const json result = json::parse(again.out);
    std::vector<std::string> asked_again;
    for (const auto& question : result["questions"])
        asked_again.push_back(question["scenario"].get<std::string>() + ":" +
                              question["variant"].get<std::string>());
    CHECK(asked_again == keyed);
    std::size_t right_again = 0;
    for (const auto& question : result["questions"]) {
        const bool answered_as_run =
            !question["your_answer"].is_null() && question["your_answer"] == question["run_answer"];
        CHECK(question["right"] == answered_as_run);
        right_again += answered_as_run ? 1 : 0;
    }
    CHECK(result["score"]["right"] == right_again);
    CHECK(result["score"]["asked"] == 5);
}

TEST_CASE("quiz: stdin that ends early ends the quiz with the score so far, exit 0") {
    TempDir state;
    const CliResult result = run_quiz(state, {"quiz", "--seed", "3", "--count", "4"});
    REQUIRE(result.exit_code == 0);
    CHECK(count_lines_starting(result.out, "Question 1 of 4") == 1);
    CHECK(count_lines_starting(result.out, "Question 2 of 4") == 0);
    CHECK(result.out.find("The quiz stopped after 0 of 4 questions: no more answers on stdin.") !=
          std::string::npos);
    CHECK(count_lines_starting(result.out, "score: 0 of 0") == 1);
}

TEST_CASE("quiz: a teacher's handout asks the key's questions and gives no answer away") {
    TempDir state;
    const CliResult handout = run_quiz(
        state, {"quiz", "--seed", "7", "--count", "6", "--topic", "fork and locks", "--handout"});
    const CliResult key = run_quiz(state, {"quiz", "--seed", "7", "--count", "6", "--topic",
                                           "fork and locks", "--key", "--json"});
    REQUIRE(handout.exit_code == 0);
    REQUIRE(key.exit_code == 0);
    CHECK(count_lines_starting(handout.out, "## Question ") == 6);
    CHECK(handout.out.find("forklore quiz --seed 7 --count 6 --topic 'fork and locks'") !=
          std::string::npos);
    const json quiz = json::parse(key.out);
    for (std::size_t i = 0; i < 6; ++i) {
        const json& question = quiz["questions"][i];
        CHECK(question["group"] == "fork and locks");
        const std::string heading =
            "## Question " + std::to_string(i + 1) + ": " + question["title"].get<std::string>();
        CHECK(count_lines_starting(handout.out, heading) == 1);
        CHECK(handout.out.find(question["summary"].get<std::string>()) == std::string::npos);
        CHECK(handout.out.find("--variant") == std::string::npos);
    }
    // A handout runs nothing and records nothing.
    CHECK_FALSE(std::filesystem::exists(state.path / "forklore"));
}

TEST_CASE("quiz: bad input is refused with one line and exit 2") {
    TempDir state;
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"quiz", "--count", "0"},
                                               {"quiz", "--count", "-3"},
                                               {"quiz", "--seed", "seven"},
                                               {"quiz", "--seed", "0x10"},
                                               {"quiz", "--topic", "no such topic"},
                                               {"quiz", "--topic", ""},
                                               {"quiz", "--count", "100000"},
                                               {"quiz", "--forget", "--seed", "1"}}) {
        INFO(args[1] << " " << args[2]);
        require_one_line(run_quiz(state, args), 2, "");
    }
    const CliResult topic = run_quiz(state, {"quiz", "--topic", "threads"});
    require_one_line(topic, 2, "unknown topic 'threads' (topics: fork and locks, ");
    const CliResult count = run_quiz(state, {"quiz", "--count", "9999"});
    require_one_line(count, 2, "--count 9999: there are ");
}

TEST_CASE("quiz: a corrupt history is reported in one line, kept, and the quiz goes on") {
    TempDir state;
    std::filesystem::create_directories(state.path / "forklore");
    const std::string path = (state.path / "forklore/quiz-history.json").string();
    {
        std::ofstream file(path);
        file << "{ not a history";
    }
    const CliResult result = run_quiz(state, {"quiz", "--count", "2"}, "1\n");
    INFO(result.err);
    CHECK(result.exit_code == 0);
    CHECK(lines_of(result.err).size() == 1);
    CHECK(result.err.find("is not a quiz history") != std::string::npos);
    CHECK(read_text(path) == "{ not a history");
    CHECK(result.out.find("This is quiz seed ") != std::string::npos);
    // --forget removes it.
    const CliResult forget = run_quiz(state, {"quiz", "--forget"});
    CHECK(forget.exit_code == 0);
    CHECK_FALSE(std::filesystem::exists(path));
}
