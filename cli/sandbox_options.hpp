// The options `run` and `exec` share: the sandbox's kernel-enforced limits and containment, the
// output cap, the record's destination and the stacks.
#pragma once

#include "sim/run/runner.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace forklore::cli {

struct SandboxOptions {
    int max_tasks = -1;     // -1: the scenario's own
    std::string max_memory; // as given; empty: the scenario's own
    bool no_namespaces = false;
    bool no_cgroups = false;
};

void add_sandbox_options(CLI::App* command, SandboxOptions& options);

// What `run` and `exec` share after their own options: output cap, record, stacks, sandbox.
void add_output_and_sandbox_options(CLI::App* command, std::string& max_output, bool& json_output,
                                    std::string& out, bool& no_stacks, SandboxOptions& sandbox);

// Into the request; a UsageError for a bad --max-memory.
void apply_sandbox_options(const SandboxOptions& options, RunRequest& request);

// --max-output BYTES ("4096", "512K", "1M", "2G"; 0 = none). nullopt when not given: the
// scenario's own limit stays (none, except in the engine's self-test of the limit).
std::optional<std::uint64_t> parse_max_output(const std::string& text);

} // namespace forklore::cli
