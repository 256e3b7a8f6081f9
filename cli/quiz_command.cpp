// forklore quiz: questions drawn from the corpus, answered on stdin, each one run for real.
//
//   forklore quiz [--seed N] [--count K] [--topic GROUP] [--json]   a student takes a quiz
//   forklore quiz [--seed N] [--count K] [--topic GROUP] --handout [--key] [--json]
//   forklore quiz [--seed N] [--count K] [--topic GROUP] --key [--json]   a teacher's sheets
//   forklore quiz --forget                                          the history starts afresh
//
// Which variants a quiz asks is decided by the engine (sim/lesson/quiz.hpp) from the seed, the
// count and the topic alone. Without --seed the quiz draws a seed of its own, preferring one whose
// questions the student was not asked before (the history file, below), and prints it: that seed
// gives the same quiz again. Answers are one line each, a number or a name; each answer is graded
// against what the run shows (its verdict), never against what the corpus expects, and a run
// that contradicts the corpus says so. The exit code is 0 whatever the score, also when stdin
// ends before the last question (the score so far is printed); 130 on Ctrl-C, after the score
// so far.
//
// Index of this file:
// [SECTION] the history of what a student was asked
// [SECTION] asking and running
// [SECTION] the command
#include "cli_output.hpp"
#include "command.hpp"
#include "quiz_text.hpp"

#include "sim/lesson/quiz.hpp"
#include "sim/protocol/text.hpp"
#include "sim/record/user_file.hpp"
#include "sim/run/runner.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <system_error>

namespace forklore::cli {

namespace {

using nlohmann::json;

// [SECTION] the history of what a student was asked ------------------------------------------

// The student's history file (quiz_history_path). It never stops a quiz: a file that cannot be
// read is reported in one line and left as it is, and then not written over; a history that
// cannot be written is reported once.
class QuizHistoryFile {
  public:
    QuizHistoryFile()
        : path_(quiz_history_path(std::getenv("XDG_STATE_HOME"), std::getenv("HOME"))) {}

    const std::set<std::string>& asked() const { return asked_; }

    // Reads the file, if there is one. One that cannot be read is reported (one line on stderr)
    // and then neither used nor written over.
    void load() {
        writable_ = false;
        if (path_.empty())
            return; // no HOME: nowhere to keep a history, and a quiz needs none
        std::error_code error;
        if (!std::filesystem::exists(std::filesystem::symlink_status(path_, error))) {
            writable_ = true;
            return;
        }
        try {
            asked_ = parse_quiz_history(read_regular_file(path_, 1 << 24, "a quiz history"));
            writable_ = true;
        } catch (const UserFileError& problem) {
            print_error(fmt::format("{}: the quiz history is not used or changed", problem.what()));
        } catch (const std::invalid_argument& problem) {
            print_error(fmt::format("{} is not a quiz history ({}): it is not used or changed; "
                                    "'forklore quiz --forget' removes it",
                                    path_, problem.what()));
        }
    }

    // Adds a question asked and writes the whole history again (atomically: write_output_file).
    void record(const std::string& key) {
        if (!writable_ || !asked_.insert(key).second)
            return;
        try {
            std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
            write_output_file(path_, quiz_history_text(asked_));
        } catch (const std::exception& problem) {
            writable_ = false;
            print_error(fmt::format("the quiz history is not kept: {}", problem.what()));
        }
    }

    // `forklore quiz --forget`.
    int forget() const {
        if (path_.empty())
            throw UsageError("there is no quiz history: neither XDG_STATE_HOME nor HOME is set");
        std::error_code error;
        if (!std::filesystem::remove(path_, error)) {
            if (error)
                throw std::runtime_error(
                    fmt::format("cannot remove {}: {}", path_, error.message()));
            fmt::print("no quiz history to forget ({} does not exist)\n", path_);
            return 0;
        }
        fmt::print("forgot every question forklore quiz has asked (removed {})\n", path_);
        return 0;
    }

  private:
    std::string path_;
    std::set<std::string> asked_;
    bool writable_ = false;
};

// [SECTION] asking and running ---------------------------------------------------------------

enum class LineRead { read, end_of_input, interrupted };

LineRead read_line(std::string& line) {
    std::fflush(stdout);
    if (std::getline(std::cin, line))
        return LineRead::read;
    // SIGINT interrupts the read (its handler is installed without SA_RESTART).
    return interrupted().load() ? LineRead::interrupted : LineRead::end_of_input;
}

std::string answer_names(const QuizSetup& setup) {
    std::vector<std::string> names;
    for (const auto& choice : setup.choices)
        names.push_back(choice.name);
    return fmt::format("{}", fmt::join(names, ", "));
}

// Reads one answer into `result`. From a terminal an empty or unknown answer asks again; from a
// file or a pipe it counts as wrong, with a note, so that a list of answers never gets out of
// step with the questions.
LineRead read_answer(const QuizSetup& setup, bool terminal_input, bool quiet, QuizResult& result) {
    for (;;) {
        if (!quiet)
            fmt::print("  Your answer (1-{} or a name): ", setup.choices.size());
        std::string line;
        const LineRead read = read_line(line);
        if (read != LineRead::read)
            return read; // the summary that follows ends the prompt's line
        result.answer_text = line;
        result.answer = parse_quiz_answer(setup.choices, line);
        if (!terminal_input && !quiet)
            fmt::print("{}\n", printable(line, 60)); // the transcript shows what was answered
        if (result.answer || quiet)
            return LineRead::read;
        if (!terminal_input) {
            fmt::print("  (\"{}\" is none of the choices: counted as wrong)\n",
                       printable(line, 40));
            return LineRead::read;
        }
        const std::string hint = fmt::format("type a number from 1 to {}, or one of {}.",
                                             setup.choices.size(), answer_names(setup));
        fmt::print("{}", wrap(line.find_first_not_of(" \t") == std::string::npos
                                  ? "No answer: " + hint
                                  : fmt::format("\"{}\" is none of the choices: {}",
                                                printable(line, 40), hint),
                              100, "  "));
    }
}

RunRecord run_question(const QuizQuestion& question) {
    RunRequest request = make_request(*question.scenario, question.variant->name);
    request.capture_stacks = false; // the quiz shows no stacks, and a hang ends sooner without
    request.cancel = &interrupted();
    if (interactive())
        fmt::print(stderr, "  running it in the sandbox...");
    RunRecord record = run_scenario(request);
    if (interactive())
        fmt::print(stderr, "\r\033[K");
    return record;
}

int take_quiz(const QuizSetup& setup, QuizHistoryFile& history, bool json_output,
              bool every_question_asked_before) {
    const bool terminal_input = isatty(STDIN_FILENO) == 1;
    if (!json_output) {
        fmt::print("forklore quiz: {} question{} drawn from the corpus{}.\n",
                   setup.questions.size(), setup.questions.size() == 1 ? "" : "s",
                   setup.topic.empty() ? "" : fmt::format(" (topic: {})", setup.topic));
        fmt::print("This is quiz seed {}: {} gives it again.\n", setup.seed,
                   quiz_command_line(setup));
        if (every_question_asked_before)
            fmt::print("You were asked every question of this pool before ('forklore quiz "
                       "--forget' starts afresh).\n");
        fmt::print("Answer each question with one line; its program then runs for real in the "
                   "sandbox.\n");
        fmt::print("{}", choices_text(setup));
    }
    std::vector<QuizResult> results;
    auto finish = [&](const std::string& stopped_early) {
        if (json_output)
            fmt::print("{}", to_json_text(results_json(setup, results, stopped_early)));
        else
            fmt::print("{}", summary_text(setup, results, stopped_early));
        std::fflush(stdout);
    };
    for (std::size_t i = 0; i < setup.questions.size(); ++i) {
        if (!json_output)
            fmt::print("{}", question_text(setup, i));
        QuizResult result;
        result.question = setup.questions[i];
        const LineRead read = read_answer(setup, terminal_input, json_output, result);
        if (read == LineRead::end_of_input) {
            finish("no more answers on stdin");
            return 0;
        }
        if (read == LineRead::interrupted) {
            finish("interrupted");
            throw Interrupted{};
        }
        RunRecord record = run_question(result.question);
        if (interrupted().load()) {
            finish("interrupted");
            throw Interrupted{};
        }
        result.verdict = record.verdict;
        result.verdict_ms = record.timings.verdict_ms;
        result.actual = choice_for(setup.choices, record.verdict.kind, record.verdict.reason);
        results.push_back(result);
        history.record(result.question.key());
        if (!json_output)
            fmt::print("{}", result_text(setup, result));
    }
    finish("");
    return 0;
}

// [SECTION] the command ----------------------------------------------------------------------

struct QuizOptions {
    long seed = -1; // -1: draw one
    long count = 5;
    std::string topic;
    bool handout = false;
    bool key = false;
    bool json_output = false;
    bool forget = false;
};

std::uint64_t random_seed() {
    try {
        std::random_device device;
        return (static_cast<std::uint64_t>(device()) << 32 | device()) % kQuizSeedLimit;
    } catch (const std::exception&) {
        // No entropy source: the clock is random enough to pick a quiz.
        return static_cast<std::uint64_t>(
                   std::chrono::steady_clock::now().time_since_epoch().count()) %
               kQuizSeedLimit;
    }
}

int command_quiz(const QuizOptions& options) {
    QuizHistoryFile history;
    if (options.forget)
        return history.forget();

    const auto& corpus = ScenarioRegistry::instance().all();
    QuizSetup setup;
    setup.topic = options.topic;
    setup.count = static_cast<std::size_t>(options.count);
    setup.choices = quiz_choices(corpus);
    std::vector<QuizQuestion> pool;
    try {
        pool = quiz_pool(corpus, options.topic);
    } catch (const std::invalid_argument& error) {
        throw UsageError(error.what());
    }
    if (setup.count > pool.size())
        throw UsageError(fmt::format(
            "--count {}: there are {} questions{} (the variants that end the same way every time)",
            options.count, pool.size(),
            options.topic.empty() ? "" : fmt::format(" on topic '{}'", options.topic)));

    const bool for_a_teacher = options.handout || options.key;
    bool every_question_asked_before = false;
    if (options.seed >= 0) {
        setup.seed = static_cast<std::uint64_t>(options.seed);
        if (!for_a_teacher)
            history.load();
    } else if (for_a_teacher) {
        setup.seed = random_seed();
    } else {
        history.load();
        // Enough tries to find unasked questions among a few, fast enough not to be noticed.
        setup.seed =
            seed_preferring_unasked(pool, setup.count, history.asked(), random_seed(), 20000);
        every_question_asked_before =
            !history.asked().empty() &&
            std::all_of(pool.begin(), pool.end(), [&](const QuizQuestion& question) {
                return history.asked().count(question.key()) > 0;
            });
    }
    setup.questions = draw_quiz(pool, setup.seed, setup.count);

    if (for_a_teacher) {
        if (options.json_output)
            fmt::print("{}", to_json_text(quiz_json(setup, options.key)));
        else if (options.handout && options.key)
            fmt::print("{}\n---\n\n{}", handout_markdown(setup), key_markdown(setup));
        else
            fmt::print("{}", options.handout ? handout_markdown(setup) : key_markdown(setup));
        return 0;
    }
    return take_quiz(setup, history, options.json_output, every_question_asked_before);
}

const CLI::Validator kTopicName(
    [](std::string& text) -> std::string {
        return text.empty() ? "needs a topic (see 'forklore list')" : "";
    },
    "GROUP");

} // namespace

Command add_quiz_command(CLI::App& app) {
    auto options = std::make_shared<QuizOptions>();
    auto* command = app.add_subcommand(
        "quiz", "predict how variants of the corpus end, then see each one run and be graded");
    command
        ->add_option("--seed", options->seed,
                     "the quiz with this number: the same seed, count and topic give the same "
                     "questions (default: a new quiz, preferring questions not asked before)")
        ->check(whole_number_between(0, std::numeric_limits<long>::max()));
    command->add_option("--count", options->count, "how many questions (default 5)")
        ->check(whole_number_between(1, 100000));
    command
        ->add_option("--topic", options->topic,
                     "questions of one group of the corpus only ('forklore list' shows them)")
        ->check(kTopicName);
    command->add_flag("--handout", options->handout,
                      "print the questions as Markdown for a teacher, and run nothing");
    command->add_flag("--key", options->key,
                      "print the answer key (the corpus's expectations) as Markdown, and run "
                      "nothing");
    command->add_flag("--json", options->json_output,
                      "print JSON: the questions (with --handout or --key), or the quiz taken "
                      "(answers still come from stdin, without prompts)");
    auto* forget = command->add_flag(
        "--forget", options->forget,
        "forget which questions were asked before (the history in $XDG_STATE_HOME/forklore)");
    for (const char* other : {"--seed", "--count", "--topic", "--handout", "--key", "--json"})
        forget->excludes(command->get_option(other));
    return {command, [options] { return command_quiz(*options); }};
}

} // namespace forklore::cli
