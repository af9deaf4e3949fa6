// SPDX-License-Identifier: Apache-2.0
// Shadow verification of the trainer's kernel steps: the reference's public
// judgement (reference::judge_step, reference/judge_step.hpp) of a live
// adapted layer's step, from owning copies of its state before and after.
// Compiled once, in shadow_check.cpp, so that FLINT and Boost stay out of the
// trainer's other translation units.
#pragma once

#include <string>
#include <vector>

#include "scalora/core/bound_parameters.hpp"
#include "scalora/core/step_outcome.hpp"
#include "scalora/linalg/step.hpp"

namespace scalora::train {

struct ShadowReport {
  bool failed = false;  ///< a check failed (inconclusive is not a failure)
  std::string text;     ///< one line per deciding check (reference::describe)
};

/// Judges one layer's kernel step: before/after are model::to_layer() copies
/// (float factors, gradients, moments and W_pt); scalings are the kernels'
/// alpha (r) then beta (r); bound holds L, the peak lr and the layer's scale.
ShadowReport shadow_check(const std::string& layer, const Layer<float>& before, const Layer<float>& after,
                          const StepOutcome<double>& outcome, const std::vector<double>& scalings,
                          const BoundParameters<double>& bound);

}  // namespace scalora::train
