// SPDX-License-Identifier: Apache-2.0
// The predicted decrease of the loss bound for squared scalings u (spec
// section 5), host and device, one formula for linalg/ and gpu/:
//   l(W) - bound(u) = lr (lambda^T u - kappa u^T M u / 2),  kappa = L lr lora_scale^2,
// evaluated as t (lambda^T w - (kappa t) w^T M w / 2) with t = max|u|,
// w = u / t: neither kappa^2 nor u^T M u is formed, so no intermediate
// overflows where the decrease is finite (fuzz/step_core_fuzz.cpp).
#pragma once

#include <cmath>

#include "scalora/config.hpp"
#include "scalora/core/scalar_traits.hpp"

namespace scalora {

namespace detail {
/// The scaled forms both functions below evaluate: t = max|u| and, for w = u / t,
/// lw = lambda^T w and wmw = w^T M w — of |lambda|, |M|, |u| when `absolute`.
/// For t = 0 or t = +Inf the forms are not computed (0).
template <class T>
struct ScaledForms {
  T t, lw, wmw;
};

template <class T>
SCALORA_HD ScaledForms<T> scaled_forms(int n2, const T* M, const T* lambda, const T* u, bool absolute) {
  using std::abs;
  ScaledForms<T> f{T(0), T(0), T(0)};
  for (int a = 0; a < n2; ++a) f.t = abs(u[a]) > f.t ? T(abs(u[a])) : f.t;
  if (!(f.t > T(0)) || !(f.t - f.t == T(0))) return f;
  const auto operand = [absolute](const T& x) { return absolute ? T(abs(x)) : x; };
  for (int a = 0; a < n2; ++a) {
    const T wa = operand(u[a]) / f.t;
    f.lw += operand(lambda[a]) * wa;
    T mw = T(0);
    for (int c = 0; c < n2; ++c) mw += operand(M[a + c * n2]) * (operand(u[c]) / f.t);
    f.wmw += wa * mw;
  }
  return f;
}
}  // namespace detail

/// lambda^T u - kappa u^T M u / 2 (the bound decrease divided by lr).
/// M: n2 x n2, column-major, contiguous; lambda, u: n2 entries.
/// u = 0 gives 0; an infinite entry of u (an optimum beyond T's range) gives +Inf.
template <class T>
SCALORA_HD T decrease_per_lr(int n2, const T* M, const T* lambda, const T* u, const T& kappa) {
  const auto [t, lw, wmw] = detail::scaled_forms(n2, M, lambda, u, false);
  if (!(t > T(0)) || !(t - t == T(0))) return t;  // 0, or +Inf
  return t * (lw - kappa * t * wmw / T(2));
}

/// A bound on the rounding error of decrease_per_lr() in T: the sum of n2 + 1
/// products of lambda^T w and of n2 (n2 + 1) products of w^T M w, each term
/// rounded at most 2 n2 + 8 times (Higham 3.1, gamma_{2 n2 + 8} of T):
///   gamma_{2 n2 + 8} (|lambda|^T |u| + kappa |u|^T |M| |u| / 2).
/// Used by the hybrid rule's guard (core/hybrid_rule.hpp) to compare two
/// computed decreases within their rounding.
template <class T>
SCALORA_HD T decrease_per_lr_rounding(int n2, const T* M, const T* lambda, const T* u, const T& kappa) {
  const auto [t, lw, wmw] = detail::scaled_forms(n2, M, lambda, u, true);
  if (!(t > T(0)) || !(t - t == T(0))) return t;  // 0, or +Inf
  const T k = T(2 * n2 + 8) * scalar_traits<T>::epsilon() / T(2);
  const T gamma = k / (T(1) - k) * T(1.01);
  return gamma * t * (lw + kappa * t * wmw / T(2));
}

}  // namespace scalora
