// A lesson held against the corpus and the engine (lesson_check.hpp).
//
// Index of this file:
// [SECTION] what the corpus has
// [SECTION] what a run shows
// [SECTION] the check
#include "sim/lesson/lesson_check.hpp"

#include "sim/lesson/challenges.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace forklore::lesson {

// [SECTION] what the corpus has --------------------------------------------------------------

namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

void add_unique(std::vector<std::string>& names, const std::string& name) {
    if (!name.empty() && !contains(names, name))
        names.push_back(name);
}

// What is wrong with a step's run against the corpus, or "".
std::string run_problem(const RunSpec& spec, const Lesson& lesson,
                        const ScenarioRegistry& registry) {
    if (!contains(lesson.scenarios, spec.scenario))
        return fmt::format("runs '{}', which the header's scenarios do not list", spec.scenario);
    const Scenario* scenario = registry.find(spec.scenario);
    if (!scenario)
        return fmt::format("unknown scenario '{}'", spec.scenario);
    try {
        request_for(spec, registry);
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    if (const Variant* variant = scenario->find_variant(spec.variant);
        variant && variant->expected.racy)
        return fmt::format("'{}' is racy (its outcome is a hang rate, {}): a lesson states only "
                           "what every run shows",
                           spec.text(), variant->expected.describe());
    return {};
}

// What is wrong with a play step's challenge, or "".
std::string challenge_problem(const Step& step, const Lesson& lesson,
                              const ScenarioRegistry& registry) {
    const Challenge* challenge = find_challenge(step.challenge);
    if (!challenge)
        return fmt::format("unknown challenge '{}' (challenges: {})", step.challenge,
                           challenge_ids());
    if (!contains(lesson.scenarios, challenge->scenario))
        return fmt::format("plays challenge '{}' on '{}', which the header's scenarios do not list",
                           challenge->id, challenge->scenario);
    try {
        play_request(step, registry);
    } catch (const std::invalid_argument& error) {
        return fmt::format("challenge '{}': {}", challenge->id, error.what());
    }
    return {};
}

} // namespace

std::vector<std::string> validate_lesson(const Lesson& lesson, const ScenarioRegistry& registry) {
    std::vector<std::string> problems;
    auto problem = [&](const std::string& where, const std::string& what) {
        problems.push_back(fmt::format("{} {}: {}", lesson.id, where, what));
    };
    std::set<std::string> groups;
    for (const auto& scenario : registry.all())
        groups.insert(scenario.group);
    for (const auto& topic : lesson.topics)
        if (!groups.count(topic))
            problem("header",
                    fmt::format("unknown topic '{}' (topics: {})", topic, fmt::join(groups, ", ")));
    std::set<std::string> used;
    for (std::size_t i = 0; i < lesson.steps.size(); ++i) {
        const Step& step = lesson.steps[i];
        if (step.kind == StepKind::play) {
            if (auto what = challenge_problem(step, lesson, registry); !what.empty())
                problem(step.label(i), what);
            else
                used.insert(find_challenge(step.challenge)->scenario);
        }
        if (!step.run)
            continue;
        used.insert(step.run->scenario);
        if (auto what = run_problem(*step.run, lesson, registry); !what.empty())
            problem(step.label(i), what);
    }
    for (const auto& id : lesson.scenarios) {
        if (!registry.find(id))
            problem("header", fmt::format("unknown scenario '{}' (see 'forklore list')", id));
        else if (!used.count(id))
            problem("header", fmt::format("lists scenario '{}', which no step runs", id));
    }
    return problems;
}

RunRequest request_for(const RunSpec& spec, const ScenarioRegistry& registry) {
    const Scenario* scenario = registry.find(spec.scenario);
    if (!scenario)
        throw std::invalid_argument(fmt::format("unknown scenario '{}'", spec.scenario));
    return make_request(*scenario, spec.variant, spec.settings);
}

RunRequest play_request(const Step& step, const ScenarioRegistry& registry) {
    const Challenge* challenge = find_challenge(step.challenge);
    if (!challenge)
        throw std::invalid_argument(fmt::format("unknown challenge '{}'", step.challenge));
    RunSpec spec;
    spec.scenario = challenge->scenario;
    spec.settings = challenge->knobs;
    RunRequest request = request_for(spec, registry);
    request.scheduler = play_threads(step.play);
    return request;
}

// [SECTION] what a run shows -----------------------------------------------------------------

std::vector<std::string> verdict_names(AnswerCheck check, const RunRecord& record) {
    const Verdict& verdict = record.verdict;
    std::vector<std::string> names;
    switch (check) {
    case AnswerCheck::owner:
        for (const auto& edge : verdict.wait_for)
            add_unique(names, edge.owner_thread);
        break;
    case AnswerCheck::waiter:
        for (const auto& edge : verdict.wait_for)
            add_unique(names, edge.waiter_thread);
        for (const auto& thread : verdict.stuck)
            add_unique(names, thread.name);
        break;
    case AnswerCheck::lock:
        for (const auto& edge : verdict.wait_for)
            add_unique(names, edge.lock_name);
        break;
    case AnswerCheck::reason:
        if (verdict.reason)
            add_unique(names, std::string(to_string(*verdict.reason)));
        break;
    case AnswerCheck::process:
        if (const ProcessRecord* process = record.find_process(verdict.culprit_pid)) {
            add_unique(names, std::string(to_string(process->role)));
            add_unique(names, process->name);
        }
        break;
    case AnswerCheck::choice:
        break;
    }
    return names;
}

bool answer_is_right(const Step& step, const std::string& answer, const RunRecord* record) {
    if (step.kind == StepKind::predict) {
        if (!record)
            return step.outcome && same_answer(answer, step.outcome->text());
        return same_answer(answer, Outcome::of(record->verdict).text());
    }
    return same_answer(answer, step.answer);
}

bool record_has(const Look& look, const RunRecord& record) {
    switch (look.kind) {
    case Look::Kind::lock:
        return std::any_of(record.events.begin(), record.events.end(), [&](const Event& event) {
            const bool names_lock =
                event.kind == EventKind::lock_wait || event.kind == EventKind::lock_acquired ||
                event.kind == EventKind::lock_released || event.kind == EventKind::file_lock_wait ||
                event.kind == EventKind::file_lock_acquired ||
                event.kind == EventKind::file_lock_released;
            return names_lock && field_text(event.name) == look.name;
        });
    case Look::Kind::thread:
        for (const auto& process : record.processes)
            for (const auto& [tid, name] : process.threads)
                if (name == look.name)
                    return true;
        return std::any_of(record.events.begin(), record.events.end(), [&](const Event& event) {
            return field_text(event.thread) == look.name;
        });
    case Look::Kind::process:
        return std::any_of(
            record.processes.begin(), record.processes.end(), [&](const ProcessRecord& process) {
                return to_string(process.role) == look.name || process.name == look.name;
            });
    }
    return false;
}

// [SECTION] the check ------------------------------------------------------------------------

LessonCheck check_lesson(const Lesson& lesson, const ScenarioRegistry& registry,
                         const RunFunction& run,
                         const std::function<void(const StepCheck&)>& on_step) {
    LessonCheck result;
    result.lesson = lesson.id;
    result.problems = validate_lesson(lesson, registry);
    if (!result.problems.empty())
        return result; // nothing is run for a lesson that names what does not exist

    std::vector<std::pair<RunSpec, RunRecord>> runs; // one run per configuration
    auto record_of = [&](const RunSpec& spec) -> const RunRecord& {
        for (const auto& [done, record] : runs)
            if (done == spec)
                return record;
        runs.emplace_back(spec, run(request_for(spec, registry)));
        return runs.back().second;
    };
    for (std::size_t i = 0; i < lesson.steps.size(); ++i) {
        const Step& step = lesson.steps[i];
        StepCheck check;
        check.step = i;
        auto fail = [&](const std::string& what) {
            check.ok = false;
            check.problem = what;
            result.problems.push_back(fmt::format("{} {}: {}", lesson.id, step.label(i), what));
        };
        if (step.run) {
            const RunRecord& record = record_of(*step.run);
            check.ran = true;
            const Outcome shown = Outcome::of(record.verdict);
            check.engine_says = shown.text();
            if (step.outcome && !(*step.outcome == shown))
                fail(fmt::format("says {}, the engine says {} ({})", step.outcome->text(),
                                 shown.text(), step.run->text()));
            for (const auto& look : step.looks)
                if (check.ok && !record_has(look, record))
                    fail(fmt::format("looks at {}, which the run of {} does not have", look.text(),
                                     step.run->text()));
        } else if (step.kind == StepKind::play) {
            const RunRecord record = run(play_request(step, registry));
            check.ran = true;
            const std::string missed =
                record.schedule && !record.schedule->diverged.empty()
                    ? record.schedule->diverged
                    : challenge_missed(*find_challenge(step.challenge), record);
            check.engine_says = missed.empty() ? "won" : missed;
            if (!missed.empty())
                fail(fmt::format("the play {} does not win challenge '{}': {}",
                                 fmt::join(step.play, ", "), step.challenge, missed));
        } else if (step.kind == StepKind::explain && step.check != AnswerCheck::choice) {
            const Step& asked = lesson.steps[static_cast<std::size_t>(step.asks_about)];
            const RunRecord& record = record_of(*asked.run);
            std::vector<std::string> names = verdict_names(step.check, record);
            check.engine_says = fmt::format("{}", fmt::join(names, ", "));
            const bool found = std::any_of(names.begin(), names.end(), [&](const std::string& n) {
                return same_answer(n, step.answer);
            });
            if (!found)
                fail(fmt::format("answers '{}' ({}), the engine's verdict of {} names {}",
                                 step.answer, to_string(step.check), asked.run->text(),
                                 names.empty() ? std::string("none")
                                               : fmt::format("{}", fmt::join(names, ", "))));
        }
        result.steps.push_back(check);
        if (on_step)
            on_step(check);
    }
    return result;
}

} // namespace forklore::lesson
