// Index of this file:
// [SECTION] text helpers
// [SECTION] scenarios: tables and descriptions
// [SECTION] one run and repeated runs
// [SECTION] the matrix: table, JSON, JSON lines, JUnit
#include "cli_output.hpp"

#include "sim/export/record_text.hpp"
#include "sim/export/xml_text.hpp"
#include "sim/protocol/text.hpp"
#include "sim/run/output_capture.hpp"
#include "sim/run/stats.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

namespace forklore::cli {

using nlohmann::json;

bool interactive() {
    return isatty(STDERR_FILENO) == 1;
}

namespace {
// [SECTION] text helpers ---------------------------------------------------------------------

std::string knob_summary(const Scenario& s) {
    std::vector<std::string> parts;
    for (const auto& k : s.knobs)
        parts.push_back(fmt::format("{}={}", k.name, k.default_value));
    return fmt::format("{}", fmt::join(parts, " "));
}

} // namespace

std::string wrap(const std::string& text, std::size_t width, const std::string& indent) {
    std::string out = indent, word;
    std::size_t column = indent.size();
    auto flush_word = [&] {
        if (word.empty())
            return;
        if (column + word.size() + 1 > width && column > indent.size()) {
            out += "\n" + indent;
            column = indent.size();
        } else if (column > indent.size()) {
            out += ' ';
            ++column;
        }
        out += word;
        column += word.size();
        word.clear();
    };
    for (char c : text) {
        if (c == ' ' || c == '\n')
            flush_word();
        else
            word += c;
    }
    flush_word();
    return out + "\n";
}

namespace {

std::string actual_summary(const MatrixCell& cell) {
    std::vector<std::string> parts;
    for (const auto& [label, count] : cell.verdict_counts)
        parts.push_back(cell.runs == 1 ? label : fmt::format("{} x{}", label, count));
    return fmt::format("{}", fmt::join(parts, ", "));
}
} // namespace

// [SECTION] scenarios: tables and descriptions -----------------------------------------------

std::string variant_tier_mark(const Variant& v) {
    if (v.expected.racy && v.expected.is_slow())
        return " (racy, slow)";
    if (v.expected.racy)
        return " (racy)";
    return v.expected.is_slow() ? " (slow)" : "";
}

std::string scenario_table_text(const std::vector<const Scenario*>& scenarios) {
    std::string out =
        fmt::format("{:>4}  {:<28} {:>8}  {}\n", "no.", "scenario", "variants", "title");
    std::size_t variants = 0;
    for (const auto* s : scenarios) {
        out += fmt::format("{:>4}  {:<28} {:>8}  {}\n", s->number, s->id, s->variants.size(),
                           s->title);
        out += fmt::format("{:>4}  {:<28} {:>8}  knobs: {}\n", "", "", "", knob_summary(*s));
        std::vector<std::string> names;
        for (const auto& v : s->variants)
            names.push_back(v.name + variant_tier_mark(v));
        out +=
            fmt::format("{:>4}  {:<28} {:>8}  variants: {}\n", "", "", "", fmt::join(names, ", "));
        variants += s->variants.size();
    }
    out += fmt::format("{} scenarios, {} variants\n", scenarios.size(), variants);
    return out;
}

std::string scenario_table_markdown(const std::vector<const Scenario*>& scenarios) {
    std::size_t variants = 0;
    for (const auto* s : scenarios)
        variants += s->variants.size();
    std::string out = fmt::format("{} scenarios, {} variants.\n", scenarios.size(), variants);
    for (const auto* s : scenarios) {
        out += fmt::format("\n### {} `{}`: {}\n\n", s->number, s->id, s->title);
        out += fmt::format("Group: {}. Knobs (defaults): `{}`.\n\n", s->group, knob_summary(*s));
        out += "| variant | expected | what it shows |\n| --- | --- | --- |\n";
        for (const auto& v : s->variants)
            out += fmt::format(
                "| `{}` | {}{} | {} |\n", v.name, v.expected.describe(),
                v.expected.is_slow() ? fmt::format(" (slow: {})", v.expected.slow_because) : "",
                v.summary +
                    (v.expected.explored
                         ? fmt::format(". Explored: {} (`forklore explore {} --variant {}`)",
                                       v.expected.explored->describe(), s->id, v.name)
                         : ""));
    }
    return out;
}

std::string describe_scenario(const Scenario& s) {
    std::string out = fmt::format("{} {} — {}\n\n", s.number, s.id, s.title);
    out += wrap(s.lesson, 96, "  ");
    out += "\nknobs:\n";
    for (const auto& k : s.knobs) {
        std::string values;
        if (k.type == KnobType::choice)
            values = fmt::format("{}", fmt::join(k.choices, "|"));
        else if (k.type == KnobType::flag)
            values = "on|off";
        else
            values = fmt::format("{}..{}", k.min, k.max);
        out += fmt::format("  {:<16} {:<36} default {}\n", k.name, values, k.default_value);
        out += wrap(k.help, 96, "                   ");
    }
    out += "\nvariants:\n";
    for (const auto& v : s.variants) {
        std::vector<std::string> settings;
        for (const auto& [name, value] : v.knobs)
            settings.push_back(name + "=" + value);
        out += fmt::format("  {:<18} expected {}\n", v.name, v.expected.describe());
        if (v.expected.is_slow())
            out += fmt::format("                     slow: {}\n", v.expected.slow_because);
        if (const auto& fact = v.expected.explored)
            out += wrap(fmt::format("explored: {} (forklore explore {} --variant {})",
                                    fact->describe(), s.id, v.name),
                        96, "                     ");
        out += wrap(v.summary +
                        (settings.empty() ? "" : fmt::format(" [{}]", fmt::join(settings, " "))),
                    96, "                     ");
    }
    return out;
}

// [SECTION] one run and repeated runs --------------------------------------------------------

std::string describe_schedule(const Schedule& schedule) {
    constexpr std::size_t kShown = 60;
    std::string out = fmt::format(
        "  schedule: {} step{} chosen (the record keeps them: --schedule FILE replays them)\n",
        schedule.steps.size(), schedule.steps.size() == 1 ? "" : "s");
    for (std::size_t i = 0; i < schedule.steps.size(); ++i) {
        if (i == kShown) {
            out += fmt::format("    ... {} more\n", schedule.steps.size() - kShown);
            break;
        }
        out +=
            fmt::format("    {:>3}. {}\n", i + 1, printable(describe_step(schedule.steps[i]), 120));
    }
    if (!schedule.diverged.empty())
        out += wrap("the replay diverged: " + schedule.diverged + "; the rest ran unscheduled", 100,
                    "  ");
    else if (schedule.ran_free)
        out += "  then the rest ran unscheduled\n";
    return out;
}

std::string describe_run(const RunRecord& record) {
    std::string label(to_string(record.verdict.kind));
    if (record.verdict.reason)
        label += fmt::format(" / {}", to_string(*record.verdict.reason));
    std::string name = record.scenario + (record.variant.empty() ? "" : ":" + record.variant);
    std::string out =
        fmt::format("{}: {} (verdict in {:.1f} ms", name, label, record.timings.verdict_ms);
    if (record.timings.quiet_window_ms > 0)
        out += fmt::format(", quiet window {:.1f} ms", record.timings.quiet_window_ms);
    out += ")\n";
    out += wrap(record.verdict.explanation, 100, "  ");
    if (record.expected) {
        bool ok = record.expected->racy || matches(*record.expected, record.verdict);
        out += fmt::format("  expected: {}{}\n", record.expected->describe(),
                           record.expected->racy ? "" : (ok ? " (as expected)" : " (MISMATCH)"));
    }
    for (const auto& line : limits_not_enforced_by_kernel(record))
        out += wrap("warning: " + line, 100, "  ");
    for (const auto& warning : record.verdict.warnings)
        out += wrap(fmt::format("warning ({}): {}", warning.kind, warning.text), 100, "  ");
    if (std::string lost = describe_lost_events(record); !lost.empty())
        out += wrap(lost, 100, "  ");
    if (record.stdout_dropped > 0)
        out += "  " +
               describe_dropped_output("stdout", record.stdout_bytes, record.stdout_dropped) + "\n";
    if (record.stderr_dropped > 0)
        out += "  " +
               describe_dropped_output("stderr", record.stderr_bytes, record.stderr_dropped) + "\n";
    if (record.schedule)
        out += describe_schedule(*record.schedule);
    // The stuck set and what still ran beside it; what the first process left running.
    auto list_threads = [&](std::string_view title, const std::vector<ThreadState>& threads) {
        if (threads.empty())
            return;
        out += fmt::format("  {}:\n", title);
        for (const auto& t : threads)
            out += fmt::format("    process {} thread '{}' (tid {}) {}\n", t.pid, t.name, t.tid,
                               t.wait);
    };
    list_threads("stuck (can never run again)", record.verdict.stuck);
    list_threads("live (could still run, cannot help)", record.verdict.live);
    if (!record.left_running.empty()) {
        out += "  left running when the first process ended (killed with the sandbox):\n";
        for (const auto& process : record.left_running)
            out += fmt::format("    process {} ({}): {} thread{}\n", process.pid, process.command,
                               process.threads.size(), process.threads.size() == 1 ? "" : "s");
    }
    std::vector<Measurement> measurements = measurements_of(record);
    if (!measurements.empty()) {
        out += "  measured:\n";
        for (const auto& m : measurements)
            out += fmt::format("    {:<28} {:>14.6g} {:<8} (process {}, thread '{}')\n", m.name,
                               m.value, m.unit, m.pid, m.thread);
    }
    if (!record.stacks.empty()) {
        out += "  stacks of the stuck threads (and of the lock owners they name):\n";
        for (const auto& stack : record.stacks) {
            out += fmt::format("    process {} thread '{}' (tid {}):\n", stack.ns_pid,
                               stack.thread_name, stack.ns_tid);
            std::size_t shown = 0;
            for (const auto& frame : stack.frames) {
                if (++shown > 8) {
                    out += "      ...\n";
                    break;
                }
                out += fmt::format("      {} ({})\n",
                                   frame.function.empty() ? fmt::format("{:#x}", frame.pc)
                                                          : short_function_name(frame.function),
                                   frame.module);
            }
            if (!stack.error.empty())
                out += fmt::format("      ({})\n", stack.error);
            out += python_stack_text(stack, "      ");
        }
    }
    return out;
}

void RepeatSummary::add(const RunRecord& record) {
    scenario_ = record.scenario;
    variant_ = record.variant;
    ++counts_[outcome_label(record.verdict)];
    ++runs_;
    if (is_hang(record.verdict.kind))
        ++hangs_;
    if (record.dropped_events > 0) {
        ++runs_with_dropped_events_;
        dropped_events_ += record.dropped_events;
    }
    verdict_ms_total_ += record.timings.verdict_ms;
    last_ = forklore::to_json(record);
}

std::string RepeatSummary::describe() const {
    std::string out =
        fmt::format("{}{}: {} runs\n", scenario_, variant_.empty() ? "" : ":" + variant_, runs_);
    for (const auto& [label, count] : counts_)
        out += fmt::format("  {:<32} {}\n", label, count);
    Interval interval = wilson_interval(hangs_, runs_);
    out += fmt::format("  hang rate {:.1f}% ({} of {}), 95% Wilson interval {:.1f}%..{:.1f}%\n",
                       runs_ ? 100.0 * hangs_ / runs_ : 0.0, hangs_, runs_, interval.low * 100,
                       interval.high * 100);
    out +=
        fmt::format("  mean time to verdict {:.1f} ms\n", runs_ ? verdict_ms_total_ / runs_ : 0.0);
    if (runs_with_dropped_events_ > 0)
        out += fmt::format("  {} events were dropped in {} of {} runs: the event ring was full "
                           "(the verdicts do not depend on them)\n",
                           dropped_events_, runs_with_dropped_events_, runs_);
    return out;
}

json RepeatSummary::to_json() const {
    Interval interval = wilson_interval(hangs_, runs_);
    return json{{"scenario", scenario_},
                {"variant", variant_},
                {"runs", runs_},
                {"counts", counts_},
                {"hangs", hangs_},
                {"hang_rate", runs_ ? static_cast<double>(hangs_) / runs_ : 0.0},
                {"hang_rate_95", {interval.low, interval.high}},
                {"mean_verdict_ms", runs_ ? verdict_ms_total_ / runs_ : 0.0},
                {"dropped_events", dropped_events_},
                {"runs_with_dropped_events", runs_with_dropped_events_},
                {"last", last_}};
}

// [SECTION] the matrix: table, JSON, JSON lines, JUnit ---------------------------------------

std::string matrix_table(const std::vector<MatrixCell>& cells) {
    std::size_t width = 20;
    for (const auto& c : cells)
        width = std::max(width, c.scenario.size() + c.variant.size() + 1);
    std::string out = fmt::format("{:<{}}  {:<28}  {:<34}  {:>10}  {}\n", "variant", width,
                                  "expected", "actual", "verdict ms", "result");
    int passed = 0;
    for (const auto& c : cells) {
        std::string actual = actual_summary(c);
        if (c.expected.racy) {
            actual = fmt::format("hang {:.0f}% [{:.0f}..{:.0f}%]", c.hang_rate() * 100,
                                 c.hang_rate_interval.low * 100, c.hang_rate_interval.high * 100);
        }
        out += fmt::format("{:<{}}  {:<28}  {:<34}  {:>10.1f}  {}\n", c.scenario + ":" + c.variant,
                           width, c.expected.describe(), actual, c.mean_verdict_ms,
                           c.passed ? "ok" : "MISMATCH");
        if (c.passed)
            ++passed;
        else
            out += wrap(c.mismatch, 110, "    ");
        for (const auto& [kind, runs] : c.warning_counts)
            out += fmt::format("    warning: {} in {} of {} run{}\n", kind, runs, c.runs,
                               c.runs == 1 ? "" : "s");
    }
    out += fmt::format("{} of {} variants as expected\n", passed, cells.size());
    return out;
}

json matrix_cell_json(const MatrixCell& c) {
    return {{"scenario", c.scenario},
            {"variant", c.variant},
            {"expected", expectation_to_json(c.expected)},
            {"runs", c.runs},
            {"counts", c.verdict_counts},
            {"hangs", c.hangs},
            {"hang_rate", c.hang_rate()},
            {"hang_rate_95", {c.hang_rate_interval.low, c.hang_rate_interval.high}},
            {"passed", c.passed},
            {"mismatch", c.mismatch},
            {"mean_verdict_ms", c.mean_verdict_ms},
            {"max_verdict_ms", c.max_verdict_ms},
            {"dropped_events", c.dropped_events},
            {"warnings", c.warning_counts}};
}

json matrix_json(const std::vector<MatrixCell>& cells) {
    json out = json::array();
    for (const auto& c : cells)
        out.push_back(matrix_cell_json(c));
    return out;
}

JsonLinesFile::JsonLinesFile(const std::string& path) : path_(path) {
    fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
}

JsonLinesFile::~JsonLinesFile() {
    if (fd_ >= 0)
        close(fd_);
}

void JsonLinesFile::append(const json& line) {
    if (fd_ < 0 || !error_.empty())
        return;
    // One write(2) per line: once it returns, the line is in the kernel's page cache and
    // survives this process being killed. A partial write (a full disk) is finished or reported.
    std::string text = line.dump() + "\n";
    std::size_t written = 0;
    while (written < text.size()) {
        ssize_t n = write(fd_, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            error_ = fmt::format("cannot write {}: {}", path_,
                                 n < 0 ? std::strerror(errno) : "nothing was written");
            return;
        }
        written += static_cast<std::size_t>(n);
    }
}

std::string matrix_junit(const std::vector<MatrixCell>& cells) {
    int failures = 0;
    double total_s = 0;
    for (const auto& c : cells) {
        failures += c.passed ? 0 : 1;
        total_s += c.mean_verdict_ms * c.runs / 1000.0;
    }
    std::string out = fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<testsuite name=\"forklore-matrix\" tests=\"{}\" failures=\"{}\" time=\"{:.3f}\">\n",
        cells.size(), failures, total_s);
    for (const auto& c : cells) {
        out += fmt::format("  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\">\n",
                           xml_escape(c.scenario), xml_escape(c.variant),
                           c.mean_verdict_ms * c.runs / 1000.0);
        if (!c.passed)
            out += fmt::format("    <failure message=\"{}\"/>\n", xml_escape(c.mismatch));
        out += fmt::format("    <system-out>expected {}; actual {}</system-out>\n",
                           xml_escape(c.expected.describe()), xml_escape(actual_summary(c)));
        out += "  </testcase>\n";
    }
    out += "</testsuite>\n";
    return out;
}

} // namespace forklore::cli
