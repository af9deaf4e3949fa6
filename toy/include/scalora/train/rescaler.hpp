// SPDX-License-Identifier: Apache-2.0
// The seam between the trainer (toy/include/scalora/train, Eigen only) and the
// code that runs steps 2-8 of the algorithm (spec section 7) on the live
// layers: tools/train/kernel_rescaler.hpp implements it with the production
// Thrust kernels of gpu/, so this folder never includes Thrust.
#pragma once

#include <string>
#include <vector>

#include "scalora/core/step_outcome.hpp"
#include "scalora/error.hpp"
#include "scalora/model/adapted.hpp"

namespace scalora::train {

/// Steps 2-8 for every adapted layer, in place on the model's W_pt, A, B,
/// gradients and the optimizer's moments, between backward() and clipping.
class Rescaler {
 public:
  virtual ~Rescaler() = default;
  /// Runs at optimizer step `step` (0-based) when the ScaLoRA-I schedule says
  /// so; returns one outcome per adapted layer (in adapted_layers() order;
  /// the record of the library and the kernels, core/step_outcome.hpp), or
  /// nothing when the step does not rescale. A shadow-check failure names the
  /// step as the logs do (step + 1).
  /// @throws shadow_check_failure when a shadow check of the kernels fails.
  virtual std::vector<StepOutcome<double>> rescale(long step) = 0;
  /// Shadow checks run so far, and the wall-clock seconds they took (0 when
  /// the implementation has none).
  virtual long shadow_checks() const { return 0; }
  virtual double shadow_seconds() const { return 0; }
  /// The first step (as rescale() counts) of the next shadow check: stored in a
  /// checkpoint so that a resumed run checks the steps an uninterrupted one does.
  virtual long next_shadow_step() const { return 0; }
  virtual void set_next_shadow_step(long) {}
};

/// A shadow check found the kernels' step of a layer outside the reference's
/// budget: the run must stop (docs/training.md, "Shadow verification").
class shadow_check_failure : public error {
 public:
  shadow_check_failure(std::string layer, long step, std::string report)
      : error("[scalora.train.shadow_check] layer " + layer + ", step " + std::to_string(step) +
              ": the production kernels disagree with the reference\n" + report),
        layer_(std::move(layer)),
        step_(step),
        report_(std::move(report)) {}
  const std::string& layer() const noexcept { return layer_; }
  long step() const noexcept { return step_; }
  const std::string& report() const noexcept { return report_; }

 private:
  std::string layer_;
  long step_;
  std::string report_;
};

}  // namespace scalora::train
