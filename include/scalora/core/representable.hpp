// SPDX-License-Identifier: Apache-2.0
// Whether a scaling can be applied in the storage type: steps 5-8 multiply
// factors, gradients and moments by alpha, beta (squared for exp_avg_sq) and
// add lora_scale A diag(1 - alpha o beta) B^T to W_pt. For extreme inputs (tiny kappa,
// magnitudes near the ends of the range) the optimal scalings exist in the
// accumulation type but a rescaled entry would overflow the storage type; the
// step is then not applied and says so (StepOutcome::not_representable,
// core/step_outcome.hpp). Found by fuzz/step_core_fuzz.cpp.
#pragma once

#include "scalora/config.hpp"

namespace scalora {

/// Column maxima max_i |X(i, k)| (r entries each) of the tensors a step
/// writes; nullptr for absent moments.
template <class T>
struct ColumnMaxima {
  const T* A = nullptr;
  const T* B = nullptr;
  const T* grad_A = nullptr;
  const T* grad_B = nullptr;
  const T* exp_avg_A = nullptr;
  const T* exp_avg_sq_A = nullptr;
  const T* exp_avg_B = nullptr;
  const T* exp_avg_sq_B = nullptr;
};

/// True when every entry the step writes stays below lim = max_value / 2 in
/// magnitude (the factor 2 covers the rounding of the products), with
/// alpha, beta >= 0 the applied scalings:
///   alpha_k, beta_k <= lim, and alpha_k^2, beta_k^2 <= lim with moments
///     (the scalings and their squares are rounded to storage first);
///   max|A_k| alpha_k, max|B_k| beta_k, max|grad_A_k| beta_k, max|grad_B_k| alpha_k;
///   max|exp_avg_A,k| beta_k, max|exp_avg_sq_A,k| beta_k^2, and the same for B with alpha;
///   merge: s sum_k |1 - alpha_k beta_k| max|A_k| max|B_k| <= w_max / 2, which
///     keeps W_pt' finite whenever |W_pt| <= w_max / 2 (the caller's
///     precondition; w_max is the largest finite value of W_pt's type).
/// Products are formed in T; an overflow there gives Inf and fails the test.
/// NaN anywhere fails it too.
template <class T>
SCALORA_HD bool scalings_representable(int r, const T* alpha, const T* beta, const ColumnMaxima<T>& mx, bool merge,
                                       const T& lora_scale, const T& max_value, const T& w_max) {
  const T lim = max_value / T(2);
  const bool moments = mx.exp_avg_A != nullptr;
  auto within = [&](const T& x) { return x <= lim; };  // false for NaN
  T merge_bound = T(0);
  for (int k = 0; k < r; ++k) {
    const T a = alpha[k], b = beta[k];
    if (!within(a) || !within(b)) return false;
    if (moments && (!within(a * a) || !within(b * b))) return false;
    if (!within(mx.A[k] * a) || !within(mx.B[k] * b) || !within(mx.grad_A[k] * b) || !within(mx.grad_B[k] * a))
      return false;
    if (moments && (!within(mx.exp_avg_A[k] * b) || !within(mx.exp_avg_sq_A[k] * (b * b)) ||
                    !within(mx.exp_avg_B[k] * a) || !within(mx.exp_avg_sq_B[k] * (a * a))))
      return false;
    const T c = T(1) - a * b;
    merge_bound += (c < T(0) ? -c : c) * mx.A[k] * mx.B[k];
  }
  return !merge || lora_scale * merge_bound <= w_max / T(2);
}

}  // namespace scalora
