// Reading a lesson (lesson.hpp; the format: tutorials/FORMAT.md).
//
// Index of this file:
// [SECTION] names and small values
// [SECTION] the header
// [SECTION] steps and their blocks
// [SECTION] files and directories
#include "sim/lesson/lesson.hpp"
#include "sim/protocol/text.hpp"
#include "sim/record/user_file.hpp"

#include "sim/verdict/verdict.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

namespace forklore::lesson {

// [SECTION] names and small values -----------------------------------------------------------

namespace {

constexpr std::string_view kStepNames[] = {"Read", "Predict", "Run", "Explain", "Fix", "Play"};
constexpr std::string_view kCheckNames[] = {"owner",  "waiter",  "lock",
                                            "reason", "process", "choice"};
constexpr std::string_view kLearnedHeading = "What you learned";

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// "a, b , c" -> {"a", "b", "c"}; empty parts dropped.
std::vector<std::string> split_list(std::string_view text, std::string_view separator) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find(separator, start);
        if (end == std::string_view::npos)
            end = text.size();
        std::string part = trim(text.substr(start, end - start));
        if (!part.empty())
            parts.push_back(std::move(part));
        start = end + separator.size();
    }
    return parts;
}

std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos)
            end = text.size();
        std::string line(text.substr(start, end - start));
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        lines.push_back(std::move(line));
        start = end + 1;
    }
    return lines;
}

// Markdown lines joined, without the blank lines at either end.
std::string join_text(const std::vector<std::string>& lines) {
    std::size_t first = 0, last = lines.size();
    while (first < last && trim(lines[first]).empty())
        ++first;
    while (last > first && trim(lines[last - 1]).empty())
        --last;
    std::string out;
    for (std::size_t i = first; i < last; ++i)
        out += lines[i] + "\n";
    return out;
}

} // namespace

std::string_view to_string(StepKind kind) {
    return kStepNames[static_cast<int>(kind)];
}

std::string_view to_string(AnswerCheck check) {
    return kCheckNames[static_cast<int>(check)];
}

std::string RunSpec::text() const {
    std::string out = scenario;
    if (!variant.empty())
        out += ":" + variant;
    for (const auto& [knob, value] : settings)
        out += " " + knob + "=" + value;
    return out;
}

std::string RunSpec::command() const {
    std::string out = "forklore run " + scenario;
    if (!variant.empty())
        out += " --variant " + variant;
    for (const auto& [knob, value] : settings)
        out += " --set " + knob + "=" + value;
    return out;
}

std::string Outcome::text() const {
    std::string out(forklore::to_string(kind));
    if (reason)
        out += fmt::format("({})", forklore::to_string(*reason));
    return out;
}

Outcome Outcome::of(const Verdict& verdict) {
    Outcome outcome;
    outcome.kind = verdict.kind;
    if (verdict.kind == VerdictKind::deadlocked)
        outcome.reason = verdict.reason;
    return outcome;
}

std::optional<Outcome> Outcome::parse(std::string_view text) {
    std::string word = trim(text);
    Outcome outcome;
    std::string kind = word;
    if (auto open = word.find('('); open != std::string::npos) {
        if (word.back() != ')')
            return std::nullopt;
        kind = word.substr(0, open);
        auto reason = deadlock_reason_from_string(word.substr(open + 1, word.size() - open - 2));
        if (!reason)
            return std::nullopt;
        outcome.reason = reason;
    }
    auto verdict = verdict_from_string(kind);
    // "stopped" and "setup_error" are not outcomes a lesson can teach.
    if (!verdict || *verdict == VerdictKind::stopped || *verdict == VerdictKind::setup_error)
        return std::nullopt;
    outcome.kind = *verdict;
    // A deadlock always has its reason; nothing else has one.
    if ((outcome.kind == VerdictKind::deadlocked) != outcome.reason.has_value())
        return std::nullopt;
    return outcome;
}

std::vector<std::string> default_outcome_choices() {
    return {"completed",
            "deadlocked(orphaned_lock)",
            "deadlocked(cycle)",
            "deadlocked(blocked_on_process)",
            "deadlocked(no_waker)",
            "crashed"};
}

std::string Look::text() const {
    constexpr std::string_view kinds[] = {"lock", "thread", "process"};
    return fmt::format("{} {}", kinds[static_cast<int>(kind)], name);
}

std::string Step::label(std::size_t index) const {
    return fmt::format("step {} ({}: {})", index + 1, to_string(kind), title);
}

bool same_answer(std::string_view a, std::string_view b) {
    return lower(trim(a)) == lower(trim(b));
}

// [SECTION] the header -----------------------------------------------------------------------

namespace {

// Errors name the file and the line, as a compiler does: "tutorials/01-x.md:12: ...".
struct Reader {
    const std::string& path;
    [[noreturn]] void fail(int line, const std::string& message) const {
        throw LessonError(line > 0 ? fmt::format("{}:{}: {}", path, line, message)
                                   : fmt::format("{}: {}", path, message));
    }
};

int parse_minutes(const Reader& reader, int line, const std::string& text) {
    int minutes = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), minutes);
    if (error != std::errc{} || end != text.data() + text.size() || minutes < 5 || minutes > 120)
        reader.fail(line, fmt::format("minutes: takes a number from 5 to 120 (got '{}')", text));
    return minutes;
}

// The header's lines; returns the index of the first line after it.
std::size_t read_header(const Reader& reader, const std::vector<std::string>& lines,
                        Lesson& lesson) {
    if (lines.empty() || trim(lines[0]) != "---")
        reader.fail(1, "a lesson starts with its header between two '---' lines");
    std::size_t i = 1;
    std::map<std::string, int> seen;
    for (; i < lines.size() && trim(lines[i]) != "---"; ++i) {
        const int line = static_cast<int>(i + 1);
        if (trim(lines[i]).empty())
            continue;
        auto colon = lines[i].find(':');
        if (colon == std::string::npos)
            reader.fail(line, "a header line is 'key: value'");
        std::string key = trim(std::string_view(lines[i]).substr(0, colon));
        std::string value = trim(std::string_view(lines[i]).substr(colon + 1));
        if (seen.count(key))
            reader.fail(line, fmt::format("'{}' is given twice", key));
        seen[key] = line;
        if (key == "title")
            lesson.title = value;
        else if (key == "minutes")
            lesson.minutes = parse_minutes(reader, line, value);
        else if (key == "topics")
            lesson.topics = split_list(value, ",");
        else if (key == "scenarios")
            lesson.scenarios = split_list(value, ",");
        else
            reader.fail(line, fmt::format("unknown header key '{}' (keys: title, minutes, topics, "
                                          "scenarios)",
                                          key));
    }
    if (i == lines.size())
        reader.fail(1, "the header has no closing '---' line");
    for (const char* key : {"title", "minutes", "topics", "scenarios"})
        if (!seen.count(key))
            reader.fail(1, fmt::format("the header has no '{}'", key));
    if (lesson.title.empty())
        reader.fail(seen["title"], "the title is empty");
    return i + 1;
}

// [SECTION] steps and their blocks -----------------------------------------------------------

// "file-read-under-lock:fork atfork=on lock=rwlock_write"
RunSpec parse_run(const Reader& reader, int line, const std::string& text) {
    std::vector<std::string> words = split_list(text, " ");
    if (words.empty())
        reader.fail(line, "run: names a scenario, as SCENARIO or SCENARIO:VARIANT");
    RunSpec spec;
    auto colon = words[0].find(':');
    spec.scenario = words[0].substr(0, colon);
    if (colon != std::string::npos)
        spec.variant = words[0].substr(colon + 1);
    if (spec.scenario.empty() || (colon != std::string::npos && spec.variant.empty()))
        reader.fail(line, fmt::format("run: '{}' is not SCENARIO or SCENARIO:VARIANT", words[0]));
    for (std::size_t w = 1; w < words.size(); ++w) {
        auto equals = words[w].find('=');
        if (equals == std::string::npos || equals == 0)
            reader.fail(line, fmt::format("run: '{}' is not a knob setting knob=value", words[w]));
        spec.settings[words[w].substr(0, equals)] = words[w].substr(equals + 1);
    }
    return spec;
}

Outcome parse_outcome(const Reader& reader, int line, const std::string& key,
                      const std::string& text) {
    auto outcome = Outcome::parse(text);
    if (!outcome)
        reader.fail(line, fmt::format("{}: '{}' is not an outcome (completed, failed, crashed, "
                                      "timed_out, limit, deadlocked(REASON))",
                                      key, text));
    return *outcome;
}

Look parse_look(const Reader& reader, int line, const std::string& text) {
    auto space = text.find(' ');
    std::string kind = text.substr(0, space);
    std::string name = space == std::string::npos ? "" : trim(text.substr(space + 1));
    Look look;
    if (kind == "lock")
        look.kind = Look::Kind::lock;
    else if (kind == "thread")
        look.kind = Look::Kind::thread;
    else if (kind == "process")
        look.kind = Look::Kind::process;
    else
        reader.fail(line, fmt::format("look: '{}' is not 'lock NAME', 'thread NAME' or "
                                      "'process ROLE'",
                                      text));
    if (name.empty())
        reader.fail(line, fmt::format("look: '{}' names no {}", text, kind));
    look.name = name;
    return look;
}

// Which keys a step kind takes, and which it must have.
struct KeyRule {
    std::vector<std::string_view> allowed, required;
};
KeyRule rule_for(StepKind kind) {
    switch (kind) {
    case StepKind::read:
        return {{}, {}};
    case StepKind::predict:
        return {{"run", "answer", "choices", "hint"}, {"run", "answer"}};
    case StepKind::run:
        return {{"run", "look", "expect", "hint"}, {"run"}};
    case StepKind::explain:
        return {{"answer", "check", "choices", "hint"}, {"answer", "check"}};
    case StepKind::fix:
        return {{"run", "expect", "hint"}, {"run", "expect"}};
    case StepKind::play:
        return {{"challenge", "play", "hint"}, {"challenge", "play"}};
    }
    return {};
}

void read_block_line(const Reader& reader, int line, const std::string& text, Step& step,
                     std::map<std::string, int>& seen) {
    auto colon = text.find(':');
    if (colon == std::string::npos)
        reader.fail(line, "a step block line is 'key: value'");
    std::string key = trim(std::string_view(text).substr(0, colon));
    std::string value = trim(std::string_view(text).substr(colon + 1));
    KeyRule rule = rule_for(step.kind);
    if (std::find(rule.allowed.begin(), rule.allowed.end(), key) == rule.allowed.end())
        reader.fail(line,
                    fmt::format("a {} step takes no '{}' (it takes: {})",
                                lower(to_string(step.kind)), key, fmt::join(rule.allowed, ", ")));
    const bool repeats = key == "hint" || key == "look";
    if (!repeats && seen.count(key))
        reader.fail(line, fmt::format("'{}' is given twice", key));
    seen[key] = line;
    if (value.empty())
        reader.fail(line, fmt::format("'{}' is empty", key));
    if (key == "run")
        step.run = parse_run(reader, line, value);
    else if (key == "answer" && step.kind == StepKind::predict)
        step.outcome = parse_outcome(reader, line, key, value), step.answer = value;
    else if (key == "answer")
        step.answer = value;
    else if (key == "expect")
        step.outcome = parse_outcome(reader, line, key, value);
    else if (key == "choices")
        step.choices = split_list(value, " | ");
    else if (key == "hint")
        step.hints.push_back(value);
    else if (key == "look")
        step.looks.push_back(parse_look(reader, line, value));
    else if (key == "challenge")
        step.challenge = value;
    else if (key == "play")
        step.play = split_list(value, ",");
    else if (key == "check") {
        auto found = std::find(std::begin(kCheckNames), std::end(kCheckNames), value);
        if (found == std::end(kCheckNames))
            reader.fail(line, fmt::format("check: '{}' is not one of owner, waiter, lock, reason, "
                                          "process, choice",
                                          value));
        step.check = static_cast<AnswerCheck>(found - std::begin(kCheckNames));
    }
}

// A step's heading, its text and its block: lines [begin, end).
Step read_step(const Reader& reader, const std::vector<std::string>& lines, std::size_t begin,
               std::size_t end, StepKind kind, std::string title) {
    Step step;
    step.kind = kind;
    step.title = std::move(title);
    step.line = static_cast<int>(begin + 1);
    std::vector<std::string> text;
    std::map<std::string, int> seen;
    int blocks = 0;
    for (std::size_t i = begin + 1; i < end; ++i) {
        if (trim(lines[i]) != "```step") {
            text.push_back(lines[i]);
            continue;
        }
        if (kind == StepKind::read)
            reader.fail(static_cast<int>(i + 1), "a read step has no step block");
        if (++blocks > 1)
            reader.fail(static_cast<int>(i + 1), "a step has one step block");
        std::size_t j = i + 1;
        for (; j < end && trim(lines[j]) != "```"; ++j)
            if (!trim(lines[j]).empty())
                read_block_line(reader, static_cast<int>(j + 1), trim(lines[j]), step, seen);
        if (j == end)
            reader.fail(static_cast<int>(i + 1), "the step block is not closed with '```'");
        i = j;
    }
    step.text = join_text(text);
    for (std::string_view key : rule_for(kind).required)
        if (!seen.count(std::string(key)))
            reader.fail(step.line,
                        fmt::format("a {} step needs '{}'", lower(to_string(kind)), key));
    if (kind == StepKind::predict && step.choices.empty())
        step.choices = default_outcome_choices();
    if (kind == StepKind::play && step.play.empty())
        reader.fail(seen["play"], "play: names no thread (it is 'THREAD, THREAD, ...')");
    if (!step.choices.empty() && !step.answer.empty() &&
        std::none_of(step.choices.begin(), step.choices.end(),
                     [&](const std::string& c) { return same_answer(c, step.answer); }))
        reader.fail(seen["answer"], fmt::format("the answer '{}' is not one of the choices ({})",
                                                step.answer, fmt::join(step.choices, " | ")));
    if (kind == StepKind::explain && step.check == AnswerCheck::choice && step.choices.empty())
        reader.fail(step.line, "an explain step checked as 'choice' needs 'choices'");
    return step;
}

// "## Predict: the reader holds the lock" -> its kind and title; nullopt for "What you learned".
std::optional<std::pair<StepKind, std::string>> step_heading(const Reader& reader, int line,
                                                             const std::string& heading) {
    if (heading == kLearnedHeading)
        return std::nullopt;
    auto colon = heading.find(':');
    std::string name = trim(heading.substr(0, colon));
    auto found = std::find(std::begin(kStepNames), std::end(kStepNames), name);
    if (colon == std::string::npos || found == std::end(kStepNames))
        reader.fail(line, fmt::format("'## {}' is not a step: a step's heading is 'KIND: title' "
                                      "with KIND one of Read, Predict, Run, Explain, Fix, Play, or "
                                      "'## What you learned'",
                                      heading));
    std::string title = trim(heading.substr(colon + 1));
    if (title.empty())
        reader.fail(line, fmt::format("'## {}' has no title", heading));
    return std::pair{static_cast<StepKind>(found - std::begin(kStepNames)), title};
}

bool is_fence(const std::string& line) {
    return trim(line).rfind("```", 0) == 0;
}

} // namespace

Lesson parse_lesson(std::string_view markdown, const std::string& id, const std::string& path) {
    const Reader reader{path};
    const std::vector<std::string> lines = split_lines(markdown);
    Lesson lesson;
    lesson.id = id;
    lesson.path = path;
    std::size_t i = read_header(reader, lines, lesson);

    // Level-two headings outside fenced code divide the lesson.
    std::vector<std::size_t> headings;
    bool in_fence = false;
    for (std::size_t k = i; k < lines.size(); ++k) {
        if (is_fence(lines[k]))
            in_fence = !in_fence;
        else if (!in_fence && lines[k].rfind("## ", 0) == 0)
            headings.push_back(k);
    }
    std::vector<std::string> intro(
        lines.begin() + static_cast<long>(i),
        lines.begin() + static_cast<long>(headings.empty() ? lines.size() : headings.front()));
    lesson.introduction = join_text(intro);
    bool learned = false;
    for (std::size_t h = 0; h < headings.size(); ++h) {
        const std::size_t begin = headings[h];
        const std::size_t end = h + 1 < headings.size() ? headings[h + 1] : lines.size();
        const int line = static_cast<int>(begin + 1);
        if (learned)
            reader.fail(line, "'## What you learned' is the lesson's last heading");
        auto heading = step_heading(reader, line, trim(lines[begin].substr(3)));
        if (!heading) {
            learned = true;
            lesson.learned = join_text({lines.begin() + static_cast<long>(begin) + 1,
                                        lines.begin() + static_cast<long>(end)});
            continue;
        }
        lesson.steps.push_back(
            read_step(reader, lines, begin, end, heading->first, std::move(heading->second)));
        Step& step = lesson.steps.back();
        if (step.kind == StepKind::explain) {
            for (int k = static_cast<int>(lesson.steps.size()) - 2; k >= 0 && step.asks_about < 0;
                 --k)
                if (lesson.steps[static_cast<std::size_t>(k)].run)
                    step.asks_about = k;
            if (step.asks_about < 0)
                reader.fail(line, "an explain step asks about a run: a predict, run or fix step "
                                  "must come before it");
        }
    }
    if (lesson.steps.empty())
        reader.fail(0, "the lesson has no steps");
    if (!learned)
        reader.fail(0, "the lesson has no '## What you learned'");
    if (trim(lesson.learned).empty())
        reader.fail(0, "'What you learned' is empty");
    return lesson;
}

// [SECTION] files and directories ------------------------------------------------------------

Lesson load_lesson(const std::filesystem::path& file) {
    // A lesson is a page of text: a file far larger is not one, and a FIFO or a device named like
    // a lesson must neither block nor fill the memory (read_regular_file refuses both).
    std::string text;
    try {
        text = read_regular_file(file.string(), 1u << 20, "a lesson");
    } catch (const UserFileError& error) {
        throw LessonError(error.what());
    }
    return parse_lesson(text, file.stem().string(), file.string());
}

std::string state_file_path(std::string_view name, const char* xdg_state_home, const char* home) {
    if (xdg_state_home && xdg_state_home[0] == '/')
        return fmt::format("{}/forklore/{}", xdg_state_home, name);
    if (home && home[0] != '\0')
        return fmt::format("{}/.local/state/forklore/{}", home, name);
    return {};
}

std::vector<std::filesystem::path> lesson_files(const std::filesystem::path& directory) {
    std::error_code error;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
        const std::string name = entry.path().filename().string();
        if (entry.path().extension() == ".md" && name.size() > 3 &&
            std::isdigit(static_cast<unsigned char>(name[0])) &&
            std::isdigit(static_cast<unsigned char>(name[1])) && name[2] == '-')
            files.push_back(entry.path());
    }
    if (error)
        throw LessonError(
            fmt::format("{}: cannot list the lessons: {}", directory.string(), error.message()));
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<Lesson> load_lessons(const std::filesystem::path& directory) {
    std::vector<Lesson> lessons;
    for (const auto& file : lesson_files(directory))
        lessons.push_back(load_lesson(file));
    return lessons;
}

std::filesystem::path default_lessons_directory() {
    if (const char* dir = std::getenv("FORKLORE_LESSONS"); dir && *dir)
        return dir;
    return FORKLORE_TUTORIALS_DIR;
}

} // namespace forklore::lesson
