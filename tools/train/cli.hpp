// SPDX-License-Identifier: Apache-2.0
// scalora-train's command line: the options of docs/training.md, parsed and
// validated once (tasks resolved to TaskSpecs, methods to entries, paths
// checked) before anything runs.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "fault_injection.hpp"
#include "scalora/train/run.hpp"

namespace scalora::train::cli {

/// Bad command-line arguments (exit status 2, with a hint to --help).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

extern const char* const kUsage;

/// One entry of --method: the method and its rank.
struct MethodEntry {
  Method method = Method::scalora;
  Index rank = 4;
  /// "full", or "<method>-r<rank>": the run directory and the report's row.
  std::string label() const;
};

/// One entry of --task: generated (syn-*) or a GLUE directory, resolved once.
struct TaskEntry {
  std::string text;  ///< as given
  TaskSpec spec;     ///< o.base.task's knobs with the task or the (absolute) directory
};

struct Options {
  bool help = false;
  std::vector<TaskEntry> tasks;
  std::vector<MethodEntry> methods;
  std::vector<std::uint64_t> seeds{1};
  FinetuneSettings base;
  bool lr_given = false;  ///< else each run's lr is default_lr() of its method, optimizer and rank
  PretrainSettings pretrain;
  std::string pretrained = "auto";  ///< auto | none | a checkpoint path
  std::string cache;
  std::string resume;
  std::string report;  ///< --report DIR: aggregate the runs under DIR, train nothing
  RunOptions run;
  std::string out = "scalora-train-out";
  bool out_given = false;
  bool overwrite = false;  ///< --overwrite: move a non-empty --out's contents aside instead of refusing
  std::vector<std::string> arguments;  ///< argv[1..], for run.json
  std::vector<std::pair<std::string, std::string>> given;  ///< the options with a value, as given
  int jobs = 1;
  std::string plots = "svg";
  FaultInjection fault;
};

/// Default peak learning rates (docs/training.md, "Hyperparameters").
double default_lr(Method m, OptimizerKind o, long rank);

/// @throws UsageError naming the option and what is wrong (also a seed, method or task given twice).
Options parse(int argc, const char* const* argv);

/// The options that may differ from a checkpoint's run on --resume (docs/training.md, "Resume").
bool may_change_on_resume(const std::string& option);

/// The settings of a resumed run: the checkpoint's `stored` settings, with --steps of `o` applied.
/// @throws UsageError naming each option of `o` that conflicts with the stored run (its
/// settings, shape, checkpoint cadence) or has no effect on a resumed run.
FinetuneSettings resumed_settings(const Options& o, const FinetuneSettings& stored, const ModelShape& shape,
                                  const RunOptions& stored_run);

}  // namespace scalora::train::cli
