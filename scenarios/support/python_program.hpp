// What every Python scenario (200 to 260) shares: the body that runs one of the programs in
// scenarios/python/ with Debian's interpreter, its knobs, and its expectations where Python is
// missing.
//
// The body writes the embedded script into the sandbox's private working directory, records
// Python's version and the PYTHONUNBUFFERED it pins as notes, then replaces the scenario's main
// process with `/usr/bin/python3 script.py ARGS...` (exec_program). From there on the program
// records nothing: the run is judged from /proc, exactly as `forklore exec` judges any program.
#pragma once

#include "scenarios/support/python_scripts.hpp"
#include "scenarios/support/real_program.hpp"
#include "sim/probe/exec_program.hpp"
#include "sim/probe/probe.hpp"
#include "sim/scenario/scenario.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace forklore::python {

// Debian's interpreter by absolute path, never the first python3 in PATH (a pyenv shim, a
// virtualenv): another build or version would change what these scenarios show and measure.
inline constexpr const char* kInterpreter = "/usr/bin/python3";

inline bool interpreter_installed() {
    return access(kInterpreter, X_OK) == 0;
}

// A variant's expectation. Where /usr/bin/python3 is missing (checked once, when the corpus is
// registered), no Python scenario can run, and the honest outcome is the setup error that names
// the missing interpreter: the variant then expects exactly that (Catch2 2 cannot mark a test
// skipped, and a pass on a program that never ran would be a lie).
inline Expectation expect(Expectation where_installed) {
    static const bool installed = interpreter_installed();
    return installed ? where_installed : Expectation::ends_as(VerdictKind::setup_error);
}

// Python's own names for its start methods (fork_exec has no Python equivalent).
inline Knob start_method_knob(const std::string& default_method, std::string help) {
    return {"start_method",
            KnobType::choice,
            default_method,
            std::move(help),
            {"fork", "spawn", "forkserver"},
            0,
            0};
}

// PYTHONUNBUFFERED, pinned for every run: the environment forklore runs in may export it, and
// it decides whether sys.stdout and sys.stderr have a BufferedWriter (with a lock) at all.
inline Knob unbuffered_knob(const std::string& default_value) {
    return {"unbuffered",
            KnobType::flag,
            default_value,
            "PYTHONUNBUFFERED=1: stdout and stderr write straight to their fds (raw FileIO, no "
            "lock). Off: PYTHONUNBUFFERED=0, Python's default, a BufferedWriter with a lock.",
            {},
            0,
            0};
}

// "Python 3.11.2", from `python3 --version`. Empty, with `error` set, when it cannot be asked.
inline std::string interpreter_version(std::string& error) {
    std::string answer = output_of({kInterpreter, "--version"}, {}, error);
    if (!error.empty())
        return {};
    if (answer.rfind("Python ", 0) != 0) {
        error = fmt::format("{} --version answered '{}'", kInterpreter, answer);
        return {};
    }
    return answer;
}

// The body of a Python scenario: writes `script` into the working directory, records
// "python: Python 3.11.2 (/usr/bin/python3)" and the pinned PYTHONUNBUFFERED, and execs
// `/usr/bin/python3 script ARGS...` with `env` added to its environment (a library path, a
// thread count: the caller records them). Returns only when the program cannot be run.
inline int run_script(std::string_view script, const std::vector<std::string>& args,
                      bool unbuffered,
                      const std::vector<std::pair<std::string, std::string>>& env = {}) {
    if (!interpreter_installed())
        return setup_error(fmt::format(
            "{} is not installed: the Python scenarios need Debian's python3 (make deps "
            "installs it)",
            kInterpreter));
    std::string_view text = embedded_script(script);
    if (text.empty())
        return setup_error(fmt::format("no embedded script named {}", script));
    const std::string path(script);
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool written =
        fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    int write_error = errno;
    if (fd >= 0)
        close(fd);
    if (!written)
        return setup_error(fmt::format("cannot write {} into the working directory: {}", path,
                                       std::strerror(write_error)));

    std::string error;
    std::string version = interpreter_version(error);
    if (version.empty())
        return setup_error(error);
    probe::note(fmt::format("python: {} ({})", version, kInterpreter).c_str());
    const char* buffering = unbuffered ? "1" : "0";
    // A note's text holds 96 characters: both lines fit.
    probe::note(unbuffered ? "python: PYTHONUNBUFFERED=1: stdout and stderr have no "
                             "BufferedWriter, no lock"
                           : "python: PYTHONUNBUFFERED=0: stdout and stderr write through a "
                             "BufferedWriter and its lock");

    std::vector<std::string> argv = {kInterpreter, path};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::pair<std::string, std::string>> environment = {
        {"PYTHONUNBUFFERED", buffering}};
    environment.insert(environment.end(), env.begin(), env.end());
    return exec_program(argv, environment);
}

} // namespace forklore::python
