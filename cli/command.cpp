// What every forklore command shares (command.hpp).
#include "command.hpp"

#include "sim/protocol/text.hpp"
#include "sim/record/user_file.hpp"

#include <fmt/format.h>

#include <signal.h>

#include <charconv>
#include <cmath>

namespace forklore::cli {

namespace {
// The sandbox has its own process group, so the terminal's SIGINT reaches only us; we clean up
// after it.
std::atomic<bool> g_interrupted{false};

extern "C" void on_interrupt(int) {
    g_interrupted.store(true);
}
} // namespace

std::atomic<bool>& interrupted() {
    return g_interrupted;
}

void install_interrupt_handlers() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

void stop_if_interrupted() {
    if (g_interrupted.load())
        throw Interrupted{};
}

const Scenario& find_scenario(const std::string& id) {
    const Scenario* scenario = ScenarioRegistry::instance().find(id);
    if (!scenario)
        throw UsageError(
            fmt::format("unknown scenario '{}' (see 'forklore list')", printable(id, 100)));
    return *scenario;
}

KnobValues parse_settings(const std::vector<std::string>& settings) {
    try {
        return parse_knob_settings(settings);
    } catch (const std::invalid_argument& error) {
        throw UsageError(error.what());
    }
}

// A run can take seconds and its record would be lost, and what is at the path must not be
// replaced by it: refused before anything runs.
void check_output_file(const std::string& path) {
    if (path.empty())
        return;
    if (auto problem = output_file_problem(path))
        throw UsageError(*problem);
}

// CLI11's Range lets "nan" through (every comparison with NaN is false) and reads "0x10" as 16.
// A number of seconds is a finite decimal.
CLI::Validator seconds_between(double low, double high) {
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            double value = 0;
            auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value,
                                                std::chars_format::fixed);
            if (error != std::errc{} || end != text.data() + text.size() || !std::isfinite(value) ||
                value < low || value > high)
                return fmt::format("takes a number of seconds from {} to {} (got '{}')", low, high,
                                   printable(text, 40));
            return {};
        },
        fmt::format("SECONDS in [{} - {}]", low, high));
}

const CLI::Validator kFileName(
    [](std::string& text) -> std::string { return text.empty() ? "needs a file name" : ""; },
    "FILE");

CLI::Validator whole_number_between(long low, long high) {
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            long value = 0;
            auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (error != std::errc{} || end != text.data() + text.size() || value < low ||
                value > high)
                return fmt::format("takes a whole number from {} to {} (got '{}')", low, high,
                                   printable(text, 40));
            return {};
        },
        fmt::format("N in [{} - {}]", low, high));
}

void emit_record(const RunRecord& record, const std::string& out, bool json_output,
                 const std::function<std::string(const RunRecord&)>& words) {
    const std::string text = to_json_text(to_json(record));
    if (!out.empty())
        write_output_file(out, text);
    fmt::print("{}", json_output ? text : words(record));
}

void print_error(std::string_view message) {
    fmt::print(stderr, "forklore: {}\n", printable(message, 1000));
}

} // namespace forklore::cli
