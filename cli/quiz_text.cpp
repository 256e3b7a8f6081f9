// How `forklore quiz` prints (quiz_text.hpp).
//
// Index of this file:
// [SECTION] helpers
// [SECTION] the quiz on a terminal
// [SECTION] a teacher's sheets (Markdown)
// [SECTION] JSON
#include "quiz_text.hpp"

#include "cli_output.hpp"

#include "sim/protocol/text.hpp"
#include "sim/record/record.hpp"
#include "sim/run/matrix.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace forklore::cli {

using nlohmann::json;

namespace {

// [SECTION] helpers --------------------------------------------------------------------------

constexpr std::size_t kWidth = 100;

// A knob of a question with the value this variant runs it with.
struct ShownKnob {
    const Knob* knob = nullptr;
    std::string value;
    bool is_default() const { return value == knob->default_value; }
};

// Every knob of the scenario, in the scenario's own order, with this variant's values.
std::vector<ShownKnob> knobs_of(const QuizQuestion& question) {
    const KnobValues values = question.scenario->resolve_knobs(question.variant, {});
    std::vector<ShownKnob> shown;
    for (const auto& knob : question.scenario->knobs) {
        auto value = values.find(knob.name);
        shown.push_back({&knob, value == values.end() ? knob.default_value : value->second});
    }
    return shown;
}

// A word as a shell reads it: quoted when it holds anything but letters, digits, '-' and '_'.
std::string shell_word(const std::string& word) {
    const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
    if (plain)
        return word;
    std::string quoted = "'";
    for (char c : word)
        quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

std::string run_command(const QuizQuestion& question) {
    return fmt::format("forklore run {} --variant {}", question.scenario->id,
                       shell_word(question.variant->name));
}

// The expected answer of a question, as an index in the choices (quiz_choices holds every
// outcome a question expects, so only a changed corpus gives nullopt).
std::optional<std::size_t> expected_choice(const QuizSetup& setup, const QuizQuestion& question) {
    const Expectation& expected = question.variant->expected;
    return choice_for(setup.choices, expected.verdict, expected.reason);
}

// A table cell: one line, and no '|' that would end the cell.
std::string markdown_cell(const std::string& text) {
    std::string cell;
    for (char c : printable(text, 1000))
        cell += c == '|' ? std::string("\\|") : std::string(1, c);
    return cell;
}

} // namespace

std::string quiz_command_line(const QuizSetup& setup) {
    std::string line = fmt::format("forklore quiz --seed {} --count {}", setup.seed, setup.count);
    if (!setup.topic.empty())
        line += " --topic " + shell_word(setup.topic);
    return line;
}

// [SECTION] the quiz on a terminal -----------------------------------------------------------

std::string choices_text(const QuizSetup& setup) {
    std::string out = "For each program, predict how its run ends:\n";
    for (std::size_t i = 0; i < setup.choices.size(); ++i) {
        // Wrapped under its text, the number standing out on the left.
        const std::string lines =
            wrap(fmt::format("{}: {}", setup.choices[i].label, setup.choices[i].meaning), kWidth,
                 "      ");
        out += fmt::format("  {:>2}  {}", i + 1, lines.substr(6));
    }
    return out;
}

std::string question_text(const QuizSetup& setup, std::size_t index) {
    const QuizQuestion& question = setup.questions[index];
    const Scenario& scenario = *question.scenario;
    std::string out = fmt::format("\nQuestion {} of {}: scenario {} ({})\n", index + 1,
                                  setup.questions.size(), scenario.number, scenario.group);
    out += wrap(scenario.title, kWidth, "  ");
    const auto knobs = knobs_of(question);
    if (!knobs.empty()) {
        out += "  This run's knobs:\n";
        std::size_t width = 0;
        for (const auto& shown : knobs)
            width = std::max(width, shown.knob->name.size());
        const std::string help_indent(4 + width + 2, ' ');
        for (const auto& shown : knobs) {
            out += fmt::format("    {:<{}}  {}{}\n", shown.knob->name, width, shown.value,
                               shown.is_default() ? ""
                                                  : fmt::format("   (the default is {})",
                                                                shown.knob->default_value));
            if (!shown.knob->help.empty())
                out += wrap(shown.knob->help, kWidth, help_indent);
        }
    }
    out += "  How does this run end?\n";
    for (std::size_t i = 0; i < setup.choices.size(); ++i)
        out += fmt::format("    {}  {}\n", i + 1, setup.choices[i].label);
    return out;
}

std::string result_text(const QuizSetup& setup, const QuizResult& result) {
    const Verdict& verdict = result.verdict;
    const std::string shown =
        fmt::format("verdict {} in {:.1f} ms", outcome_label(verdict), result.verdict_ms);
    std::string out;
    if (!result.graded()) {
        out += wrap(fmt::format("not graded: the run ended as {}, which is none of the choices.",
                                outcome_label(verdict)),
                    kWidth, "  ");
    } else {
        // One line, never wrapped, whatever its length: the grade a script looks for.
        const std::string outcome =
            fmt::format("it {} ({})", setup.choices[*result.actual].label, shown);
        if (result.right())
            out += fmt::format("  RIGHT: {}.\n", outcome);
        else if (result.answer)
            out += fmt::format("  WRONG: {}; you answered \"{}\".\n", outcome,
                               setup.choices[*result.answer].label);
        else
            out += fmt::format("  WRONG: {}; \"{}\" is none of the choices.\n", outcome,
                               printable(result.answer_text, 40));
    }
    if (!verdict.explanation.empty())
        out += wrap(verdict.explanation, kWidth, "    ");
    for (const auto& warning : verdict.warnings)
        out += wrap("Also: " + warning.text, kWidth, "    ");
    const QuizQuestion& question = result.question;
    const Expectation& expected = question.variant->expected;
    if (!matches(expected, verdict))
        out += wrap(fmt::format("NOTE: the corpus expects this variant to end as {}, but this "
                                "run ended as {}. That is a bug in the corpus (or this machine "
                                "behaves differently): please report it. Your answer is graded "
                                "against what the run showed.",
                                expected.describe(), outcome_label(verdict)),
                    kWidth, "  ");
    out += wrap(fmt::format("It was scenario {}, variant {}: {}.", question.scenario->id,
                            question.variant->name, question.variant->summary),
                kWidth, "  ");
    out += fmt::format("  Run it again: {}\n  Its lesson: forklore show {}\n",
                       run_command(question), question.scenario->id);
    return out;
}

std::string summary_text(const QuizSetup& setup, const std::vector<QuizResult>& results,
                         const std::string& stopped_early) {
    std::size_t right = 0, graded = 0;
    for (const auto& result : results) {
        right += result.right() ? 1 : 0;
        graded += result.graded() ? 1 : 0;
    }
    std::string out = "\n";
    if (!stopped_early.empty())
        out += wrap(fmt::format("The quiz stopped after {} of {} questions: {}.", results.size(),
                                setup.questions.size(), stopped_early),
                    kWidth, "");
    out += fmt::format("score: {} of {}", right, graded);
    if (graded < results.size())
        out += fmt::format(" ({} not graded: the run ended as none of the choices)",
                           results.size() - graded);
    out += "\n";
    std::size_t width = 0;
    for (const auto& result : results)
        if (result.graded())
            width = std::max(width, setup.choices[*result.actual].label.size());
    for (std::size_t i = 0; i < results.size(); ++i) {
        const QuizResult& result = results[i];
        std::string mark = result.right() ? "right" : result.graded() ? "wrong" : "-";
        std::string outcome =
            result.graded() ? setup.choices[*result.actual].label : outcome_label(result.verdict);
        std::string yours =
            result.right()
                ? ""
                : fmt::format(" (you: {})", result.answer
                                                ? setup.choices[*result.answer].label
                                                : "\"" + printable(result.answer_text, 30) + "\"");
        out += fmt::format("  {:>2}  {:<5}  {}\n", i + 1, mark, outcome + yours);
        out += fmt::format("             {}\n", run_command(result.question));
    }
    if (!results.empty())
        out += "This quiz again: " + quiz_command_line(setup) + "\n";
    return out;
}

// [SECTION] a teacher's sheets (Markdown) ----------------------------------------------------

std::string handout_markdown(const QuizSetup& setup) {
    std::string out =
        fmt::format("# forklore quiz {}: {} questions{}\n\n", setup.seed, setup.questions.size(),
                    setup.topic.empty() ? "" : " on " + setup.topic);
    out += "Each question is a small real program, run with the knobs shown. Predict how it ends, "
           "and write the number of your answer. Then check: `" +
           quiz_command_line(setup) + "` asks the same questions and runs each program.\n\n";
    out += "## The answers to choose from\n\n";
    for (std::size_t i = 0; i < setup.choices.size(); ++i)
        out += fmt::format("{}. **{}**: {}\n", i + 1, setup.choices[i].label,
                           setup.choices[i].meaning);
    for (std::size_t i = 0; i < setup.questions.size(); ++i) {
        const QuizQuestion& question = setup.questions[i];
        out += fmt::format("\n## Question {}: {}\n\n", i + 1, question.scenario->title);
        out +=
            fmt::format("Scenario {} ({}).", question.scenario->number, question.scenario->group);
        const auto knobs = knobs_of(question);
        if (!knobs.empty()) {
            out += " The knobs of this run:\n\n| knob | value | what it means |\n| --- | --- | --- "
                   "|\n";
            for (const auto& shown : knobs)
                out += fmt::format("| `{}` | `{}`{} | {} |\n", shown.knob->name, shown.value,
                                   shown.is_default()
                                       ? ""
                                       : fmt::format(" (default `{}`)", shown.knob->default_value),
                                   markdown_cell(shown.knob->help));
        }
        out += "\nYour answer: ______\n";
    }
    return out;
}

std::string key_markdown(const QuizSetup& setup) {
    std::string out =
        fmt::format("# Answer key of forklore quiz {} ({} questions{})\n\n", setup.seed,
                    setup.questions.size(), setup.topic.empty() ? "" : " on " + setup.topic);
    out += "From the corpus's expectations; `" + quiz_command_line(setup) +
           "` runs each program and grades what it shows.\n\n";
    out += "| question | answer | run it | what it shows |\n| --- | --- | --- | --- |\n";
    for (std::size_t i = 0; i < setup.questions.size(); ++i) {
        const QuizQuestion& question = setup.questions[i];
        const auto expected = expected_choice(setup, question);
        out += fmt::format(
            "| {} | {} | `{}` | {} |\n", i + 1,
            expected ? fmt::format("{}. {}", *expected + 1, setup.choices[*expected].label)
                     : question.variant->expected.describe(),
            run_command(question), markdown_cell(question.variant->summary));
    }
    return out;
}

// [SECTION] JSON -----------------------------------------------------------------------------

namespace {

json choice_json(const QuizSetup& setup, std::optional<std::size_t> choice) {
    if (!choice)
        return nullptr;
    return {{"number", *choice + 1},
            {"name", setup.choices[*choice].name},
            {"label", setup.choices[*choice].label}};
}

json question_json(const QuizSetup& setup, std::size_t index, bool with_key) {
    const QuizQuestion& question = setup.questions[index];
    json knobs = json::array();
    for (const auto& shown : knobs_of(question))
        knobs.push_back({{"name", shown.knob->name},
                         {"value", shown.value},
                         {"default", shown.knob->default_value},
                         {"help", shown.knob->help}});
    json out = {{"number", index + 1},
                {"scenario_number", question.scenario->number},
                {"group", question.scenario->group},
                {"title", question.scenario->title},
                {"knobs", knobs}};
    if (with_key) {
        out["scenario"] = question.scenario->id;
        out["variant"] = question.variant->name;
        out["summary"] = question.variant->summary;
        out["expected"] = expectation_to_json(question.variant->expected);
        out["expected_answer"] = choice_json(setup, expected_choice(setup, question));
    }
    return out;
}

json setup_json(const QuizSetup& setup) {
    json choices = json::array();
    for (std::size_t i = 0; i < setup.choices.size(); ++i)
        choices.push_back({{"number", i + 1},
                           {"name", setup.choices[i].name},
                           {"label", setup.choices[i].label},
                           {"meaning", setup.choices[i].meaning}});
    return {{"seed", setup.seed},
            {"count", setup.count},
            {"topic", setup.topic},
            {"command", quiz_command_line(setup)},
            {"choices", choices}};
}

} // namespace

json quiz_json(const QuizSetup& setup, bool with_key) {
    json out = setup_json(setup);
    json questions = json::array();
    for (std::size_t i = 0; i < setup.questions.size(); ++i)
        questions.push_back(question_json(setup, i, with_key));
    out["questions"] = questions;
    return out;
}

json results_json(const QuizSetup& setup, const std::vector<QuizResult>& results,
                  const std::string& stopped_early) {
    json out = setup_json(setup);
    json asked = json::array();
    std::size_t right = 0, graded = 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
        const QuizResult& result = results[i];
        json entry = question_json(setup, i, true);
        entry["answer_text"] = result.answer_text;
        entry["your_answer"] = choice_json(setup, result.answer);
        entry["verdict"] = outcome_label(result.verdict);
        entry["explanation"] = result.verdict.explanation;
        entry["verdict_ms"] = result.verdict_ms;
        entry["run_answer"] = choice_json(setup, result.actual);
        entry["as_expected"] = matches(result.question.variant->expected, result.verdict);
        entry["graded"] = result.graded();
        entry["right"] = result.right();
        asked.push_back(entry);
        right += result.right() ? 1 : 0;
        graded += result.graded() ? 1 : 0;
    }
    out["questions"] = asked;
    out["score"] = {{"right", right}, {"graded", graded}, {"asked", results.size()}};
    out["stopped_early"] = stopped_early;
    return out;
}

} // namespace forklore::cli
