// SPDX-License-Identifier: Apache-2.0
// Bridge from the gpu tests (compiled by nvcc or g++) to the reference's
// public judgement reference::judge_step (compiled by g++ only: FLINT and
// Boost never reach nvcc). Plain C++ types only in this header.
#pragma once

#include <string>
#include <vector>

#include "scalora/core/bound_parameters.hpp"
#include "scalora/core/step_outcome.hpp"

namespace scalora::gpu_test {

/// A host copy of a matrix, row-major, values exactly as stored (float, double
/// and bfloat16 are exact in double).
struct HostMatrix {
  int rows = 0, cols = 0;
  std::vector<double> v;
  double operator()(int i, int j) const { return v[std::size_t(i) * std::size_t(cols) + std::size_t(j)]; }
  bool present() const { return !v.empty(); }
};

/// A host copy of one layer: the state before or after a step.
struct HostLayer {
  HostMatrix A, B, grad_A, grad_B;
  HostMatrix exp_avg_A, exp_avg_sq_A, exp_avg_B, exp_avg_sq_B;  ///< empty = absent
  HostMatrix W;        ///< f32 W_pt or the float master (empty = none)
  HostMatrix W_bf16;   ///< the bfloat16 copy (bf16_master)
  double lora_scale = 1.0;
  bool single = true;  ///< storage type of the factors: float (true) or double
};

struct CheckReport {
  bool passed = true;         ///< no check failed (pass or inconclusive)
  bool inconclusive = false;  ///< some check could not decide at the compute precision
  std::string text;           ///< reference::describe(): one line per deciding check
};

/// Judges one layer's kernel step with reference::judge_step (W merged in
/// float, M, lambda and the scalings computed in double) plus the bf16 copy
/// of a bf16_master W. scalings: the kernels' alpha (r) then beta (r), as
/// BatchStep::scalings returns them; bound: L, lr and the layer's LoRA scale.
/// scalar_only: the kernels ran with scaling_mode::scalar_only (the
/// reference then decides Theorem 3 only).
CheckReport check_layer(const std::string& name, const HostLayer& before, const HostLayer& after,
                        const StepOutcome<double>& outcome, const std::vector<double>& scalings,
                        const BoundParameters<double>& bound, bool scalar_only = false);

}  // namespace scalora::gpu_test
