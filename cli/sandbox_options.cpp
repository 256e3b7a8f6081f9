// The options `run` and `exec` share (sandbox_options.hpp).
#include "sandbox_options.hpp"

#include "command.hpp"

#include "sim/run/output_capture.hpp"

#include <fmt/format.h>

namespace forklore::cli {

namespace {
constexpr const char* kMaxOutputHelp =
    "stop the run as 'limit' once stdout + stderr exceed BYTES (K, M, G suffixes; 0 or not given: "
    "no limit, and the first and last 512 KiB of each stream are kept)";

} // namespace

std::optional<std::uint64_t> parse_max_output(const std::string& text) {
    if (text.empty())
        return std::nullopt;
    std::optional<std::uint64_t> bytes = parse_byte_size(text);
    if (!bytes)
        throw UsageError(fmt::format(
            "--max-output takes a number of bytes, optionally with K, M or G (got '{}')", text));
    return bytes;
}

void add_sandbox_options(CLI::App* command, SandboxOptions& options) {
    command
        ->add_option("--max-tasks", options.max_tasks,
                     "processes and threads of the whole sandbox, enforced by the kernel "
                     "(pids.max of its cgroup); 0 = none (default 256)")
        ->check(whole_number_between(0, 1 << 22));
    command->add_option("--max-memory", options.max_memory,
                        "memory of the whole sandbox, enforced by the kernel (its cgroup's "
                        "limit; K, M, G suffixes); 0 = none (default 6G)");
    command->add_flag("--no-namespaces", options.no_namespaces,
                      "run without namespaces (as on a kernel that has none)");
    command->add_flag("--no-cgroups", options.no_cgroups,
                      "run without cgroups: limits are then sampled, not enforced by the kernel");
}

void add_output_and_sandbox_options(CLI::App* command, std::string& max_output, bool& json_output,
                                    std::string& out, bool& no_stacks, SandboxOptions& sandbox) {
    command->add_option("--max-output", max_output, kMaxOutputHelp);
    command->add_flag("--json", json_output, "print the run record as JSON");
    command->add_option("--out", out, "also write the run record (JSON) to FILE")->check(kFileName);
    command->add_flag("--no-stacks", no_stacks, "do not capture stacks of blocked threads");
    add_sandbox_options(command, sandbox);
}

void apply_sandbox_options(const SandboxOptions& options, RunRequest& request) {
    if (options.max_tasks >= 0)
        request.limits.max_tasks = options.max_tasks;
    if (!options.max_memory.empty()) {
        std::optional<std::uint64_t> bytes = parse_byte_size(options.max_memory);
        if (!bytes)
            throw UsageError(fmt::format(
                "--max-memory takes a number of bytes, optionally with K, M or G (got '{}')",
                options.max_memory));
        request.limits.max_memory = *bytes;
    }
    request.namespaces = !options.no_namespaces;
    request.cgroups = !options.no_cgroups;
}

} // namespace forklore::cli
