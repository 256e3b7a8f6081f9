// The terminal's scheduler (terminal_scheduler.hpp).
#include "terminal_scheduler.hpp"

#include "sim/protocol/text.hpp"
#include "sim/record/record.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <string>

namespace forklore::cli {

namespace {

std::string read_line(std::FILE* in) {
    std::string line;
    for (int c; (c = std::fgetc(in)) != EOF && c != '\n';)
        if (line.size() < 200)
            line += static_cast<char>(c);
    return line;
}

} // namespace

Scheduler terminal_scheduler(std::FILE* in, std::FILE* out) {
    return [in, out](const StepState& state) {
        fmt::print(out, "\nstep {}: who goes next?\n", state.steps_taken + 1);
        for (std::size_t n = 0; n < state.runnable.size(); ++n) {
            const ScheduleStep step = step_of(state.slots[state.runnable[n]], state.partial);
            fmt::print(out, "  {:>2}  {}\n", n + 1, printable(describe_step(step), 160));
        }
        for (;;) {
            fmt::print(out, "choose 1-{}, or f to let the rest run free: ", state.runnable.size());
            std::fflush(out);
            const std::string answer = trim(read_line(in));
            if (answer.empty() && std::feof(in)) {
                fmt::print(out, "(end of input: the rest runs free)\n");
                return StepChoice::run_free();
            }
            if (answer == "f" || answer == "free")
                return StepChoice::run_free();
            char* end = nullptr;
            const long chosen = std::strtol(answer.c_str(), &end, 10);
            if (!answer.empty() && end && *end == '\0' && chosen >= 1 &&
                chosen <= static_cast<long>(state.runnable.size()))
                return StepChoice::grant(state.slots[state.runnable[chosen - 1]].slot);
            fmt::print(out, "'{}' is not one of the choices\n", printable(answer, 40));
        }
    };
}

} // namespace forklore::cli
