// How the CLI prints: tables, run descriptions, JSON and JUnit reports. Formatting only.
#pragma once

#include "sim/matrix.hpp"
#include "sim/record.hpp"
#include "sim/scenario.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace forklore::cli {

bool interactive(); // stderr is a terminal: show progress

std::string scenario_table_text(const std::vector<const Scenario*>& scenarios);
std::string scenario_table_markdown(const std::vector<const Scenario*>& scenarios);
std::string describe_scenario(const Scenario& scenario);
std::string describe_run(const RunRecord& record);

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
    double verdict_ms_total_ = 0;
    nlohmann::json last_;
};

std::string matrix_table(const std::vector<MatrixCell>& cells);
nlohmann::json matrix_json(const std::vector<MatrixCell>& cells);
std::string matrix_junit(const std::vector<MatrixCell>& cells);

} // namespace forklore::cli
