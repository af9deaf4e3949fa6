// SPDX-License-Identifier: Apache-2.0
// What one step did to one layer and what it predicts: the one outcome record
// of the library (scalora_step's StepResult), the kernels (gpu::BatchStep's
// outcomes) and the trainer (train::Rescaler). Numerical outcomes are
// reported here, never thrown. Host and device.
#pragma once

#include "scalora/core/branch.hpp"
#include "scalora/core/column_solve.hpp"
#include "scalora/core/scalar_scaling.hpp"

namespace scalora {

template <class T>
struct StepOutcome {
  branch applied = branch::scalar;                   ///< Theorem 5's column or Theorem 3's scalar scaling
  column_method method = column_method::infeasible;  ///< the Theorem 5 solve (applied, or the failed attempt)
  scalar_case scalar_kind = scalar_case::interior;   ///< Theorem 3's case (computed on every step)
  int rank = 0;                                      ///< numerical rank of M
  T margin = T(0);  ///< column decision statistic (ColumnSolveInfo::margin, docs/decisions.md D4)
  bool scalar_fallback = false;  ///< hybrid: no v >= 0 (or column_rejected): Theorem 3 applied
  /// The column solve's scaling decreased the bound less than Theorem 3's
  /// beyond rounding: a failed solve, Theorem 3 applied (core/hybrid_rule.hpp).
  bool column_rejected = false;
  bool singular_system = false;  ///< rank M < 2r: canonical least-change solution (D5)
  bool zero_gradient = false;    ///< grad_A = grad_B = 0: alpha = beta = 1, nothing changes
  bool clamped = false;          ///< entries of v within tolerance below 0 were set to 0
  /// A NaN/Inf reached M, lambda or the aggregates (finite inputs whose squares
  /// overflow, or a NaN input on the kernels): alpha = beta = 1, nothing is
  /// written, the decreases are NaN.
  bool nonfinite = false;
  /// The scalings would take a written entry out of the storage type's range
  /// (core/representable.hpp): not applied, alpha = beta = 1, nothing written,
  /// bound_decrease = vanilla's.
  bool not_representable = false;
  /// Predicted decreases of the loss upper bound below l(W) (first order):
  /// the applied scaling, vanilla LoRA (alpha = beta = 1), Theorem 3's and
  /// Theorem 5's optimum (NaN when no v >= 0 exists).
  T bound_decrease = T(0);
  T vanilla_bound_decrease = T(0);
  T scalar_bound_decrease = T(0);
  T column_bound_decrease = scalar_traits<T>::quiet_nan();
};

}  // namespace scalora
