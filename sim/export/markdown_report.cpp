// A run record as a Markdown report (markdown_report.hpp).
//
// Index of this file:
// [SECTION] Markdown text
// [SECTION] The sections
// [SECTION] The report
#include "sim/export/markdown_report.hpp"

#include "sim/export/export.hpp"
#include "sim/export/record_text.hpp"
#include "sim/export/xml_text.hpp"
#include "sim/record/lock_replay.hpp"
#include "sim/run/matrix.hpp"
#include "sim/run/output_capture.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace forklore {

namespace {

// [SECTION] Markdown text ------------------------------------------------------------------

bool word_character(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           (static_cast<unsigned char>(c) & 0x80) != 0;
}

// `text` as Markdown prose that says exactly that: the characters that would start emphasis, a
// link, code, HTML or a table cell are escaped. An underscore inside a word ("file_lock") starts
// nothing in CommonMark and is left as it is, so names read as they are.
std::string escaped(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        switch (c) {
        case '\\':
        case '`':
        case '*':
        case '[':
        case ']':
        case '<':
        case '>':
        case '|':
        case '#':
        case '&': // "&lt;" in a name is those four characters, not "<"
            out += '\\';
            out += c;
            break;
        case '_': {
            const bool inside_word = i > 0 && i + 1 < text.size() && word_character(text[i - 1]) &&
                                     word_character(text[i + 1]);
            out += inside_word ? "_" : "\\_";
            break;
        }
        case '\r':
            break;
        default:
            out += c;
        }
    }
    return out;
}

// Text kept on one line (a table cell, a heading, a list item): escaped, newlines as spaces.
std::string cell(std::string_view text) {
    std::string out = escaped(text);
    std::replace(out.begin(), out.end(), '\n', ' ');
    return out;
}

// `text` in a fenced code block, with a fence longer than any run of backticks inside it.
std::string code_block(std::string_view text) {
    std::size_t longest = 0, run = 0;
    for (char c : text) {
        run = c == '`' ? run + 1 : 0;
        longest = std::max(longest, run);
    }
    const std::string fence(std::max<std::size_t>(3, longest + 1), '`');
    std::string body(text);
    if (!body.empty() && body.back() != '\n')
        body += '\n';
    return fence + "text\n" + body + fence + "\n";
}

std::string ms(double value) {
    return fmt::format("{:.1f} ms", value);
}

// [SECTION] The sections -------------------------------------------------------------------

std::string scenario_section(const RunRecord& record) {
    // The scenario's title and lesson when this program has the corpus (the CLI and the GUI do).
    const Scenario* scenario = ScenarioRegistry::instance().find(record.scenario);
    std::string out = "## Scenario\n\n";
    out += scenario ? fmt::format("{} `{}`: {}", scenario->number, valid_utf8(record.scenario),
                                  escaped(scenario->title))
                    : fmt::format("`{}`", valid_utf8(record.scenario));
    out += record.variant.empty() ? ", run with knobs of its own.\n\n"
                                  : fmt::format(", variant `{}`.\n\n", valid_utf8(record.variant));
    if (scenario && !scenario->lesson.empty())
        out += escaped(scenario->lesson) + "\n\n";
    if (!record.knobs.empty()) {
        out += "| knob | value |\n| --- | --- |\n";
        for (const auto& [name, value] : record.knobs)
            out += fmt::format("| {} | {} |\n", cell(name), cell(value));
        out += "\n";
    }
    return out;
}

std::string warnings_section(const RunRecord& record) {
    std::vector<std::string> warnings;
    for (const std::string& line : limits_not_enforced_by_kernel(record))
        warnings.push_back(line);
    for (const VerdictWarning& warning : record.verdict.warnings)
        warnings.push_back(fmt::format("{} ({})", warning.text, warning.kind));
    if (std::string lost = describe_lost_events(record); !lost.empty())
        warnings.push_back(std::move(lost));
    if (record.stdout_dropped > 0)
        warnings.push_back(
            describe_dropped_output("stdout", record.stdout_bytes, record.stdout_dropped));
    if (record.stderr_dropped > 0)
        warnings.push_back(
            describe_dropped_output("stderr", record.stderr_bytes, record.stderr_dropped));
    if (warnings.empty())
        return "";
    std::string out = "## Warnings\n\n";
    for (const std::string& warning : warnings)
        out += "- " + escaped(warning) + "\n";
    return out + "\n";
}

std::string stack_text(const ThreadStack& stack) {
    std::string text;
    for (std::size_t i = 0; i < stack.frames.size(); ++i) {
        const StackFrame& frame = stack.frames[i];
        text += fmt::format("#{:<2} {} ({})\n", i,
                            frame.function.empty() ? fmt::format("{:#x}", frame.pc)
                                                   : short_function_name(frame.function),
                            frame.module);
    }
    if (!stack.error.empty())
        text += "(" + stack.error + ")\n";
    return text + python_stack_text(stack, "");
}

std::string threads_section(const RunRecord& record) {
    const Verdict& verdict = record.verdict;
    std::string out;
    std::vector<const ThreadStack*> shown;
    if (!verdict.stuck.empty()) {
        out += "## Stuck threads\n\nThese threads can never run again: everything that could "
               "wake them is itself stuck.\n\n";
        for (const ThreadState& thread : verdict.stuck) {
            out += fmt::format("### Process {}, thread '{}' (tid {})\n\n{}\n\n", thread.pid,
                               cell(thread.name), thread.tid,
                               escaped(thread.wait.empty() ? "blocked" : thread.wait));
            for (const WaitEdge& edge : verdict.wait_for)
                if (edge.waiter_pid == thread.pid && edge.waiter_tid == thread.tid)
                    out += "- waits for: " + escaped(edge.description) + "\n";
            for (const ThreadStack& stack : record.stacks)
                if (stack.ns_pid == thread.pid && stack.ns_tid == thread.tid) {
                    out +=
                        "\nIts stack (innermost call first):\n\n" + code_block(stack_text(stack));
                    shown.push_back(&stack);
                }
            out += "\n";
        }
    }
    if (!verdict.live.empty()) {
        out += "## Still running beside them\n\nThese threads could still run, but nothing they "
               "do wakes the stuck ones.\n\n";
        for (const ThreadState& thread : verdict.live)
            out += fmt::format("- process {}, thread '{}' (tid {}): {}\n", thread.pid,
                               cell(thread.name), thread.tid, cell(thread.wait));
        out += "\n";
    }
    std::string others;
    for (const ThreadStack& stack : record.stacks)
        if (std::find(shown.begin(), shown.end(), &stack) == shown.end())
            others +=
                fmt::format("Process {}, thread '{}' (tid {}):\n\n{}\n", stack.ns_pid,
                            cell(stack.thread_name), stack.ns_tid, code_block(stack_text(stack)));
    if (!others.empty())
        out += verdict.stuck.empty()
                   ? "## Stacks\n\nThe threads whose stacks were taken.\n\n" + others
                   : "## Other stacks\n\nThe threads the stuck ones wait for.\n\n" + others;
    return out;
}

std::string locks_section(const RunRecord& record) {
    const LockReplay replay = replay_locks(record);
    std::string rows;
    for (const LockCopy& lock : replay.locks)
        if (lock.state != LockState::free)
            rows += fmt::format("| {} | {} | {} | {} | {} |\n", cell(lock.label()), lock.process,
                                cell(to_string(lock.state)), cell(lock.owner_text),
                                cell(lock.state_text));
    for (const ReplayedFileLock& lock : replay.file_locks)
        if (lock.state != LockState::free)
            rows += fmt::format("| {} | (file lock) | {} | | {} |\n", cell(lock.label()),
                                cell(to_string(lock.state)), cell(lock.state_text));
    if (rows.empty())
        return "";
    return "## Locks at the end of the run\n\nEvery lock left held or waited on; after a fork "
           "each process has its own copy of a lock in memory.\n\n"
           "| lock | process | state | owner | why |\n| --- | --- | --- | --- | --- |\n" +
           rows + "\n";
}

std::string left_running_section(const RunRecord& record) {
    if (record.left_running.empty())
        return "";
    std::string out = "## Left running\n\nStill alive when the first process ended, then killed "
                      "with the sandbox:\n\n";
    for (const LeftRunning& process : record.left_running)
        out +=
            fmt::format("- process {} ({}): {} thread{}\n", process.pid, escaped(process.command),
                        process.threads.size(), process.threads.size() == 1 ? "" : "s");
    return out + "\n";
}

std::string measurements_section(const RunRecord& record) {
    const std::vector<Measurement> measurements = measurements_of(record);
    if (measurements.empty())
        return "";
    std::string out = "## Measured\n\n| what | value | unit | process | thread |\n"
                      "| --- | --- | --- | --- | --- |\n";
    for (const Measurement& m : measurements)
        out += fmt::format("| {} | {:.6g} | {} | {} | {} |\n", cell(m.name), m.value, cell(m.unit),
                           m.pid, cell(m.thread));
    return out + "\n";
}

std::string output_section(const RunRecord& record) {
    constexpr std::size_t kLines = 20;
    std::string out;
    for (const auto& [stream, text] :
         {std::pair<const char*, const std::string*>{"stdout", &record.stdout_text},
          {"stderr", &record.stderr_text}}) {
        if (text->empty())
            continue;
        out += fmt::format("### {} (the last {} lines)\n\n{}\n", stream, kLines,
                           code_block(valid_utf8(output_tail(*text, kLines, ""))));
    }
    return out.empty() ? "" : "## Output\n\n" + out;
}

std::string about_section(const RunRecord& record) {
    std::string out = "## About this record\n\n";
    out += fmt::format("- written as run record format {}, event schema {}; exported by "
                       "`forklore export`\n",
                       record.version, record.event_schema);
    out += fmt::format("- {} events, {} samples; verdict after {}, everything reaped after {}\n",
                       record.events.size(), record.timings.samples, ms(record.timings.verdict_ms),
                       ms(record.timings.total_ms));
    if (!record.host.empty())
        out += "- machine: " + escaped(record.host) + "\n";
    if (!record.sandbox.empty())
        out += "- sandbox: " + escaped(record.sandbox) + "\n";
    if (!record.cgroups.empty())
        out += "- cgroups: " + escaped(record.cgroups) + "\n";
    return out;
}

} // namespace

// [SECTION] The report ---------------------------------------------------------------------

std::string markdown_report(const RunRecord& record) {
    const Verdict& verdict = record.verdict;
    std::string out = fmt::format("# forklore: {}\n\n", escaped(valid_utf8(run_name(record))));
    out += fmt::format("**Verdict: {}**, decided after {}", escaped(verdict_label(verdict)),
                       ms(record.timings.verdict_ms));
    if (record.timings.quiet_window_ms > 0)
        out += fmt::format(" (quiet window {})", ms(record.timings.quiet_window_ms));
    out += ".";
    if (record.expected) {
        const bool as_expected = record.expected->racy || matches(*record.expected, verdict);
        out += fmt::format(" Expected: {}{}.", escaped(record.expected->describe()),
                           record.expected->racy ? " (a racy variant)"
                           : as_expected         ? ", as expected"
                                                 : ", which is NOT what happened");
    }
    out += "\n\n## What happened\n\n" + escaped(valid_utf8(verdict.explanation)) + "\n\n";
    out += warnings_section(record);
    out += scenario_section(record);
    if (std::string tree = process_tree_text(record); !tree.empty())
        out += "## Processes\n\nPids as the sandbox numbers them, times from the run's start.\n\n" +
               code_block(valid_utf8(tree)) + "\n";
    out += threads_section(record);
    out += locks_section(record);
    out += left_running_section(record);
    out += measurements_section(record);
    out += output_section(record);
    out += about_section(record);
    return valid_utf8(out);
}

} // namespace forklore
