// SPDX-License-Identifier: Apache-2.0
// Bridge from the gpu tests (compiled by nvcc or g++) to the reference
// (compiled by g++ only: Boost.Multiprecision never reaches nvcc). Plain C++
// types only in this header.
#pragma once

#include <string>
#include <vector>

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

/// What the kernels reported for the layer.
struct HostOutcome {
  bool column = false;  ///< branch::column applied
  int scalar_kind = 0;  ///< scalora::scalar_case as an int
  bool nonfinite = false;
  double margin = 0;
  std::vector<double> alpha, beta;
};

struct CheckReport {
  bool passed = true;        ///< no check failed (pass or inconclusive)
  bool inconclusive = false;  ///< some check could not decide at the compute precision
  std::string text;  ///< one line per check: pass/FAIL, name, value, budget, worst entry
};

/// Judges one layer's step against the reference (compare_step of
/// reference/compare.hpp plus the bf16 copy): the applied scaling's exact
/// bound value against the rule's optimum, rescaled factors, gradients and
/// moments for the applied scalings, W unchanged by the re-split.
/// scalar_only: the kernels ran with scaling_mode::scalar_only (the
/// reference then decides Theorem 3 only).
CheckReport check_layer(const std::string& name, const HostLayer& before, const HostLayer& after,
                        const HostOutcome& outcome, double L, double lr, bool scalar_only = false);


}  // namespace scalora::gpu_test
