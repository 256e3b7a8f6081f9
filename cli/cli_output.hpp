// How the CLI prints: tables, run descriptions, JSON and JUnit reports. Formatting only.
#pragma once

#include "sim/record/record.hpp"
#include "sim/run/matrix.hpp"
#include "sim/scenario/scenario.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace forklore::cli {

bool interactive(); // stderr is a terminal: show progress
// `text` as lines of at most `width` columns (a longer word stays whole), each starting with
// `indent`, the last ending with a newline.
std::string wrap(const std::string& text, std::size_t width, const std::string& indent);

std::string scenario_table_text(const std::vector<const Scenario*>& scenarios);
std::string scenario_table_markdown(const std::vector<const Scenario*>& scenarios);
std::string describe_scenario(const Scenario& scenario);
// " (racy)", " (slow)", " (racy, slow)" or "": what the default `forklore matrix` skips.
std::string variant_tier_mark(const Variant& variant);
std::string describe_run(const RunRecord& record);
// The steps of a stepped run, one per line, and how it ended (ran free, diverged).
std::string describe_schedule(const Schedule& schedule);

// Counts of verdicts over repeated runs, and the hang rate with its 95% Wilson interval.
class RepeatSummary {
  public:
    void add(const RunRecord& record);
    std::string describe() const;
    nlohmann::json to_json() const;

  private:
    std::string scenario_, variant_;
    std::map<std::string, int> counts_;
    int runs_ = 0, hangs_ = 0;
    int runs_with_dropped_events_ = 0;
    std::uint64_t dropped_events_ = 0;
    double verdict_ms_total_ = 0;
    nlohmann::json last_;
};

std::string matrix_table(const std::vector<MatrixCell>& cells);
// One variant's outcome: scenario, variant, expected, runs, counts of each verdict, hangs, hang
// rate and its interval, passed, mismatch, verdict times. matrix_json is an array of these.
nlohmann::json matrix_cell_json(const MatrixCell& cell);
nlohmann::json matrix_json(const std::vector<MatrixCell>& cells);
std::string matrix_junit(const std::vector<MatrixCell>& cells);

// `matrix --jsonl FILE`: one JSON object per line, each written with a single write(2) as soon
// as its variant finishes, so that whatever stops the matrix (Ctrl-C, SIGKILL, a crash) leaves
// every finished variant in the file as a whole line. Not thread-safe: one writer at a time.
class JsonLinesFile {
  public:
    // Creates or truncates FILE. Throws std::runtime_error (one line) when it cannot.
    explicit JsonLinesFile(const std::string& path);
    ~JsonLinesFile();
    JsonLinesFile(const JsonLinesFile&) = delete;
    JsonLinesFile& operator=(const JsonLinesFile&) = delete;

    // Appends `line` and a newline. The first failure is kept (error()) and later lines are
    // not written: a file with a hole in it would say fewer variants ran than did.
    void append(const nlohmann::json& line);
    const std::string& error() const { return error_; }

  private:
    std::string path_;
    int fd_ = -1;
    std::string error_;
};

} // namespace forklore::cli
