// SPDX-License-Identifier: Apache-2.0
// The grid report of scalora-train: results.md, results.json and comparison
// plots from the runs of a grid (or from finished runs found on disk, --report).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace scalora::train::cli {

/// One run of a grid: where it wrote, and its summary.json (null when it did not finish).
struct RunResult {
  std::string task;   ///< the task's name (TaskData::name)
  std::string label;  ///< MethodEntry::label()
  std::string dir;
  nlohmann::json summary;
};

/// results.md / results.json under out_dir: mean +- std over seeds of the
/// final and best dev primary metric, the final ranks and column fractions,
/// the training loss; and, unless plots == "none", comparison plots per task.
void write_report(const std::string& out_dir, const std::vector<RunResult>& runs, const std::string& plots);

/// The finished runs under dir (dir/<task>/<label>/seed-<s>/summary.json), in path order.
std::vector<RunResult> finished_runs(const std::string& dir);

}  // namespace scalora::train::cli
