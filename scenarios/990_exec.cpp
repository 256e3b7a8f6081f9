// 990 exec — the scenario behind `forklore exec -- PROGRAM ARGS...`: any program, uninstrumented.
//
// Not a lesson: the sandbox's main process replaces itself with the user's program, so the whole
// run (sandbox, observer, deadlock proof, stacks, verdict, record) is the one every scenario
// gets, judged from /proc alone. The CLI passes the command line in the knob `argv` (a JSON array
// of strings, see encode_argv) and the directory to run in in `cwd`: the user's relative paths
// must mean what they meant in the user's shell, not in the sandbox's private directory.
// Hidden, and with no variants: it means nothing without a command line.
#include "sim/probe/exec_program.hpp"
#include "sim/probe/probe.hpp"
#include "sim/scenario/scenario.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {

using namespace forklore;

std::string knob_or_empty(const ScenarioContext& context, const std::string& name) {
    auto it = context.knobs().find(name);
    return it == context.knobs().end() ? std::string() : it->second;
}

int run_program(ScenarioContext& context) {
    auto argv = probe::decode_argv(knob_or_empty(context, "argv"));
    if (!argv || argv->empty()) {
        probe::note("no program given (the knob 'argv' holds the command line as JSON)");
        fmt::print(stderr, "forklore: no program given\n");
        return 127;
    }
    const std::string cwd = knob_or_empty(context, "cwd");
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
        std::string why = fmt::format("cannot enter {}: {}", cwd, std::strerror(errno));
        probe::note(why.c_str());
        fmt::print(stderr, "forklore: {}\n", why);
        return 127;
    }
    return exec_program(*argv);
}

Scenario exec_scenario() {
    Scenario s;
    s.id = "exec";
    s.group = "engine self-tests";
    s.title = "an uninstrumented program (forklore exec)";
    s.lesson = "The scenario behind 'forklore exec -- PROGRAM ARGS...': the sandbox's main process "
               "execs the program, which records nothing; the run is judged from what /proc "
               "shows of its processes and threads. Run it with 'forklore exec', not on its own.";
    s.hidden = true;
    s.body = run_program;
    // A real program may take a while: the CLI sets the deadline it was given.
    s.timeout_seconds = 60.0;
    return s;
}

const ScenarioRegistrar registrar{exec_scenario()};

} // namespace
