// SPDX-License-Identifier: Apache-2.0
// scalora-train's jobs: the cached pre-training, one fine-tuning run, a grid
// of runs on a worker pool, and a resumed run.
#pragma once

#include "cli.hpp"

namespace scalora::train::cli {

/// Trains every (task, method, seed) of the options, in parallel on o.jobs
/// threads, then writes the grid report when there is more than one run.
/// @throws shadow_check_failure, invalid_argument, io::io_error, tasks::format_error.
void run_grid(const Options& o);

/// Continues the run of checkpoint o.resume (settings, shape and task come from it).
void run_resumed(const Options& o);

/// --report DIR: the grid report of the finished runs under DIR.
void report_only(const Options& o);

}  // namespace scalora::train::cli
