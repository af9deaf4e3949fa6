// SPDX-License-Identifier: Apache-2.0
// scalora-train: the end-to-end run (docs/training.md). Masked-LM pre-training
// of the toy encoder (cached), then fine-tuning on GLUE-style tasks with full
// fine-tuning, LoRA, ScaLoRA or ScaLoRA-I, the ScaLoRA steps through the
// production kernels of gpu/ (Thrust host backend) with shadow checks against
// the reference; CSV/JSON logs, checkpoints, plots. A list of tasks, methods
// or seeds runs the grid and writes results.md.
//   train/cli.*      options          train/runs.*    pre-training, runs, the grid
//   train/report.*   results.md       train/kernel_rescaler.hpp, shadow_check.*
//
// Exit status (docs/validating.md, "Exit status"): 0 done, 1 a shadow check
// failed (the report names layer and step), 2 invalid input (arguments, task,
// checkpoint, a non-empty --out), 3 the work could not be done (I/O, out of
// memory, --out locked by another process).
#include <cstdio>
#include <new>

#include "cli.hpp"
#include "exit_status.hpp"
#include "runs.hpp"

int main(int argc, char** argv) {
  using namespace scalora;
  using namespace scalora::train;
  try {
    const cli::Options o = cli::parse(argc, argv);
    if (o.help) {
      std::fputs(cli::kUsage, stdout);
      return tools::close_stdout("scalora-train");
    }
    if (!o.report.empty()) cli::report_only(o);
    else if (!o.resume.empty()) cli::run_resumed(o);
    else cli::run_grid(o);
    return 0;
  } catch (const cli::UsageError& e) {
    std::fprintf(stderr, "scalora-train: %s\n(scalora-train --help lists the options)\n", e.what());
    return 2;
  } catch (const shadow_check_failure& e) {
    std::fprintf(stderr, "scalora-train: SHADOW CHECK FAILED at layer %s, step %ld\n%s\n", e.layer().c_str(), e.step(),
                 e.what());
    return 1;
  } catch (const invalid_argument& e) {
    std::fprintf(stderr, "scalora-train: %s\n", e.what());
    return 2;
  } catch (const tasks::format_error& e) {
    std::fprintf(stderr, "scalora-train: %s\n", e.what());
    return 2;
  } catch (const io::io_error& e) {
    // Unreadable input (a checkpoint, a task file) exits 2, an unwritable or locked output 3.
    std::fprintf(stderr, "scalora-train: %s\n", e.what());
    return e.problem() != io::io_problem::write_failed && e.problem() != io::io_problem::busy ? 2 : 3;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "scalora-train: out of memory\n");
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scalora-train: error: %s\n", e.what());
    return 3;
  }
}
