// Running the real `forklore` program from a Catch2 test, shared by the CLI test files.
//
// run_cli starts build/bin/forklore with posix_spawn (never fork: the test process has threads),
// collects stdout and stderr until both close, and then checks that nothing it ran is left behind:
// the test process is a child subreaper, so whatever the CLI leaves alive is re-parented to it
// and is found by its command line (kSandboxedNames in cli_run.cpp).
#pragma once

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

namespace forklore::cli_test {

// How one run of `forklore ...` ended, and what it printed.
struct CliResult {
    int exit_code = -1; // the exit status, or 128 + signal
    std::string out, err;
};

// The whole content of a file ("" if it cannot be read).
std::string read_text(const std::string& path);

// Runs `forklore ARGS...`, stdin from /dev/null, collecting stdout and stderr until both close.
// A `launcher` (an absolute program path and its arguments) goes before it, e.g. setpriv.
// With `interrupt_after_ms` >= 0, SIGINT is sent that long after the start, as Ctrl-C would;
// with `interrupt_when`, once it returns true (asked every 10 ms or so, after
// `interrupt_after_ms` if that is given too): a moment tied to what the program did, not to the
// machine's speed.
// Fails the test (CHECK) if it outlives `timeout_seconds` or leaves a sandboxed process behind.
CliResult run_cli(const std::vector<std::string>& args, int timeout_seconds = 100,
                  const std::vector<std::string>& launcher = {}, int interrupt_after_ms = -1,
                  const std::function<bool()>& interrupt_when = {});

// The same for another program of build/bin (e.g. "forklore-gui").
CliResult run_program(const std::string& program, const std::vector<std::string>& args,
                      int timeout_seconds = 100, const std::vector<std::string>& launcher = {},
                      int interrupt_after_ms = -1,
                      const std::function<bool()>& interrupt_when = {});

// The lines of `text`, without their newlines.
std::vector<std::string> lines_of(const std::string& text);

// Exit `code`, nothing on stdout, exactly one line on stderr: `prefix`, then something, containing
// `message`.
void require_one_line(const CliResult& result, int code, const std::string& message,
                      const std::string& prefix = "forklore: ");

// A usage error: exit code 2 and one line on stderr starting "forklore: ", nothing on stdout.
inline void require_usage_error(const CliResult& result) {
    require_one_line(result, 2, "");
}

// A private directory for files a test writes, removed at the end.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "forklore-cli-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

} // namespace forklore::cli_test
