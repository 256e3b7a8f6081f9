// The hand-in (lesson_handin.hpp).
//
// Index of this file:
// [SECTION] the summary
// [SECTION] the commit of the source tree
// [SECTION] the file
#include "gui/models/lesson_handin.hpp"

#include "sim/record/user_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <fstream>
#include <sstream>
#include <system_error>

namespace forklore::gui {

namespace {

// `text` as inline code, whatever backquotes it holds, on one line.
std::string code(std::string text) {
    std::replace(text.begin(), text.end(), '\n', ' ');
    std::size_t longest = 0, run = 0;
    for (char c : text) {
        run = c == '`' ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    const std::string fence(longest + 1, '`');
    const bool pad = !text.empty() && (text.front() == '`' || text.back() == '`');
    return fence + (pad ? " " : "") + text + (pad ? " " : "") + fence;
}

// Every line of `text` quoted ("> ").
std::string quoted(const std::string& text) {
    std::string out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        out += line.empty() ? ">\n" : "> " + line + "\n";
    return out;
}

std::string local_time(std::int64_t seconds) {
    const std::time_t time = static_cast<std::time_t>(seconds);
    std::tm local{};
    localtime_r(&time, &local);
    char text[64];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &local);
    return text;
}

std::string right_or_wrong(bool right) {
    return right ? "**right**" : "**wrong**";
}

} // namespace

// [SECTION] the summary ---------------------------------------------------------------------------

std::string default_handin_name(const lesson::Lesson& lesson) {
    return fmt::format("lesson-{}-handin.md", lesson.id);
}

std::string describe_duration(double seconds) {
    const long whole = std::lround(std::max(0.0, seconds));
    if (whole < 60)
        return fmt::format("{} s", whole);
    if (whole < 3600)
        return fmt::format("{} min {} s", whole / 60, whole % 60);
    return fmt::format("{} h {} min", whole / 3600, whole % 3600 / 60);
}

std::string handin_markdown(const lesson::Lesson& lesson, const LessonProgress& progress,
                            const std::string& commit, std::int64_t written_at) {
    std::string out = fmt::format("# Hand-in: {} ({})\n\n", lesson.title, lesson.id);
    int done = 0, predictions = 0, predictions_right = 0, fixes = 0, fixes_right = 0;
    int explains = 0, explains_right = 0, attempts = 0, plays = 0, plays_won = 0;
    std::string steps;
    for (std::size_t i = 0; i < lesson.steps.size(); ++i) {
        const lesson::Step& step = lesson.steps[i];
        static const StepProgress kNothing;
        const StepProgress& mine = i < progress.steps.size() ? progress.steps[i] : kNothing;
        steps += fmt::format("## {}. {}: {}\n\n", i + 1, lesson::to_string(step.kind), step.title);
        bool step_done = false;
        switch (step.kind) {
        case lesson::StepKind::read:
            step_done = mine.visited;
            steps += step_done ? "- read\n" : "- not read\n";
            break;
        case lesson::StepKind::predict:
            ++predictions;
            steps +=
                fmt::format("- prediction: {}\n", mine.prediction.empty() ? std::string("none made")
                                                                          : code(mine.prediction));
            break;
        case lesson::StepKind::explain:
            ++explains;
            steps += quoted(step.text);
            steps += "\n";
            for (std::size_t a = 0; a < mine.attempts.size(); ++a)
                steps += fmt::format("- answer {}: {}: {}\n", a + 1, code(mine.attempts[a].answer),
                                     right_or_wrong(mine.attempts[a].right));
            attempts += static_cast<int>(mine.attempts.size());
            step_done = mine.answered_right();
            explains_right += step_done ? 1 : 0;
            if (mine.attempts.empty())
                steps += "- not answered\n";
            else
                steps += fmt::format("- {} after {} attempt{}\n",
                                     step_done ? "answered right" : "not answered right yet",
                                     mine.attempts.size(), mine.attempts.size() == 1 ? "" : "s");
            break;
        case lesson::StepKind::play:
            ++plays;
            for (std::size_t t = 0; t < mine.runs.size(); ++t)
                steps +=
                    fmt::format("- try {} of challenge {}: {}: {}\n", t + 1, code(mine.runs[t].run),
                                code(mine.runs[t].outcome), mine.runs[t].explanation);
            step_done = std::any_of(mine.runs.begin(), mine.runs.end(),
                                    [](const StepRun& run) { return run.as_step_says; });
            plays_won += step_done ? 1 : 0;
            if (mine.runs.empty())
                steps += "- not played\n";
            break;
        case lesson::StepKind::run:
        case lesson::StepKind::fix:
            break;
        }
        if (step.run) {
            const StepRun* last = mine.last_run();
            step_done = last != nullptr;
            for (const auto& run : mine.runs) {
                std::string verdict =
                    fmt::format("- run {}: the verdict was {}", code(run.run), code(run.outcome));
                if (!run.has_outcome())
                    verdict = fmt::format("- run {}: stopped before a verdict", code(run.run));
                else if (step.kind == lesson::StepKind::predict)
                    verdict += ": the prediction was " + right_or_wrong(run.as_step_says);
                else if (step.outcome)
                    verdict += run.as_step_says ? ", as the step expects"
                                                : fmt::format(", not {} as the step expects",
                                                              code(step.outcome->text()));
                steps += verdict + "\n";
            }
            if (!last)
                steps += "- not run\n";
            if (last && step.kind == lesson::StepKind::predict)
                predictions_right += last->as_step_says ? 1 : 0;
            if (step.kind == lesson::StepKind::fix) {
                ++fixes;
                fixes_right += last && last->as_step_says ? 1 : 0;
            }
            if (!mine.looks_followed.empty())
                steps += fmt::format("- looked at: {}\n", fmt::join(mine.looks_followed, ", "));
            if (last && !last->explanation.empty())
                steps += "\nThe verdict said:\n\n" + quoted(last->explanation);
        }
        if (!step.hints.empty())
            steps +=
                fmt::format("- hints asked for: {} of {}\n", mine.hints_shown, step.hints.size());
        done += step_done ? 1 : 0;
        steps += "\n";
    }
    out += fmt::format("- written: {}\n", local_time(written_at));
    out += fmt::format("- time spent: {} (the lesson plans {} min)\n",
                       describe_duration(progress.seconds), lesson.minutes);
    out += fmt::format("- steps done: {} of {}\n", done, lesson.steps.size());
    out += fmt::format("- predictions right: {} of {}\n", predictions_right, predictions);
    out += fmt::format("- explain answers right: {} of {}, in {} attempt{}\n", explains_right,
                       explains, attempts, attempts == 1 ? "" : "s");
    out += fmt::format("- fixes that ended as the step expects: {} of {}\n", fixes_right, fixes);
    if (plays > 0)
        out += fmt::format("- challenges won: {} of {}\n", plays_won, plays);
    out += fmt::format("- forklore: {}\n\n", commit.empty() ? "commit not known" : commit);
    out += steps;
    out += "## What you learned\n\n" + lesson.learned;
    return out;
}

// [SECTION] the commit of the source tree ---------------------------------------------------------

namespace {

std::string first_line(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
        line.pop_back();
    return line;
}

bool is_commit_id(const std::string& text) {
    return text.size() >= 40 && std::all_of(text.begin(), text.end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c));
           });
}

} // namespace

std::string source_commit(const std::filesystem::path& source_dir) {
    std::error_code error;
    const std::filesystem::path dot_git = source_dir / ".git";
    std::filesystem::path git_dir = dot_git;
    if (std::filesystem::is_regular_file(dot_git, error)) {
        // A linked work tree: ".git" is a file that names its git directory.
        const std::string line = first_line(dot_git);
        if (line.rfind("gitdir: ", 0) != 0)
            return {};
        git_dir = line.substr(8);
        if (git_dir.is_relative())
            git_dir = source_dir / git_dir;
    } else if (!std::filesystem::is_directory(dot_git, error)) {
        return {};
    }
    // Branches live in the repository's common directory; a work tree has its own HEAD.
    std::filesystem::path common = git_dir;
    if (const std::string line = first_line(git_dir / "commondir"); !line.empty())
        common = std::filesystem::path(line).is_relative() ? git_dir / line
                                                           : std::filesystem::path(line);
    const std::string head = first_line(git_dir / "HEAD");
    if (is_commit_id(head))
        return fmt::format("commit {} (detached)", head);
    if (head.rfind("ref: ", 0) != 0)
        return {};
    const std::string ref = head.substr(5);
    std::string branch = ref;
    if (branch.rfind("refs/heads/", 0) == 0)
        branch = branch.substr(11);
    for (const auto& dir : {git_dir, common})
        if (const std::string id = first_line(dir / ref); is_commit_id(id))
            return fmt::format("commit {} (branch {})", id, branch);
    std::ifstream packed(common / "packed-refs");
    for (std::string line; std::getline(packed, line);)
        if (line.size() > 41 && line.substr(41) == ref && is_commit_id(line.substr(0, 40)))
            return fmt::format("commit {} (branch {})", line.substr(0, 40), branch);
    return {};
}

std::string forklore_commit() {
    return source_commit(FORKLORE_SOURCE_DIR);
}

// [SECTION] the file ------------------------------------------------------------------------------

HandinWrite write_handin(const std::string& path, const std::string& markdown, bool overwrite,
                         std::string& message) {
    if (path.empty()) {
        message = "type a file name for the hand-in";
        return HandinWrite::failed;
    }
    std::error_code error;
    const bool exists = std::filesystem::exists(std::filesystem::symlink_status(path, error));
    if (exists && !overwrite) {
        message =
            fmt::format("{} exists: press Overwrite to replace it, or choose another name", path);
        return HandinWrite::exists;
    }
    try {
        write_output_file(path, markdown); // refuses what is not a regular file
    } catch (const std::exception& failure) {
        message = failure.what();
        return HandinWrite::failed;
    }
    message = fmt::format("{} {}", exists ? "replaced" : "wrote", path);
    return HandinWrite::written;
}

} // namespace forklore::gui
