// SPDX-License-Identifier: Apache-2.0
// Theorem 3 (scalar scaling): A~ = alpha A, B~ = beta B. Spec section 4.
// Host and device.
//
// With a = alpha^2, b = beta^2, c = 1/kappa, X = A A^T G, Y = G B B^T:
//   (*) = (L eta^2 / 2) || c G - a X - b Y ||_F^2
//   p = ||X||^2, s = ||Y||^2, q = <X, Y> >= 0, x = <X, G> = ||grad_B||^2,
//   y = <Y, G> = ||grad_A||^2,
//   C = p s - q^2 >= 0,  C_A = s x - q y,  C_B = p y - q x.
// Global minimum over (a, b) >= 0:
//   beta_zero  (C_A > 0, C_B <= 0):       a = c x / p,     b = 0
//   alpha_zero (C_A <= 0, C_B > 0):       a = 0,           b = c y / s
//   interior   (C_A >= 0, C_B >= 0, C > 0): a = c C_A / C, b = c C_B / C
// Degenerate rules (docs/decisions.md, D6), by "least change" (the optimal
// (a, b) nearest to (1, 1)):
//   zero_gradient (x = y = 0):       every (a, b) is optimal: a = b = 1
//   collinear (C = 0, Y = t X):      optima are {a + t b = c x / p}: nearest
//                                    point of that segment to (1, 1);
//                                    X = 0 (resp. Y = 0): a = 1 (resp. b = 1).
#pragma once

#include "scalora/core/scalar_traits.hpp"

namespace scalora {

/// Which row of Theorem 3's table (or which degenerate rule) applied.
enum class scalar_case : unsigned char {
  interior,       ///< C_A >= 0, C_B >= 0, C > 0
  beta_zero,      ///< C_A > 0, C_B <= 0: B moved wholly into W_pt ("B off")
  alpha_zero,     ///< C_A <= 0, C_B > 0: A moved wholly into W_pt ("A off")
  collinear,      ///< C = 0 (X parallel to Y, or one of them 0): a segment of optima
  zero_gradient,  ///< x = y = 0: no first-order information, no change
};

inline const char* to_string(scalar_case c) {
  switch (c) {
    case scalar_case::interior: return "interior";
    case scalar_case::beta_zero: return "beta_zero";
    case scalar_case::alpha_zero: return "alpha_zero";
    case scalar_case::collinear: return "collinear";
    case scalar_case::zero_gradient: return "zero_gradient";
  }
  return "unknown";
}

/// Squared scalings a = alpha^2, b = beta^2 and the case that produced them.
template <class T>
struct ScalarSquares {
  T a;
  T b;
  scalar_case kind;
};

/// Theorem 3 from the aggregates (see file comment).
///
/// collinear_tol: C is treated as 0 when the squared sine of the angle between
/// X and Y, C / (p s), is <= collinear_tol (docs/numerics.md, "Scalar case").
/// The reference decides this case with C's exact sign.
/// @pre p, s, x, y >= 0, q >= 0, kappa > 0.
/// @post (a, b) >= 0 minimises p a^2 + 2 q a b + s b^2 - 2 c (x a + y b) over
///       the non-negative quadrant (KKT: proofs_checks/thm3_scalar_scaling.cpp).
SCALORA_HD_NOWARN
template <class T>
SCALORA_HD ScalarSquares<T> solve_scalar_system(const T& p, const T& q, const T& s, const T& x, const T& y,
                                                const T& kappa, const T& collinear_tol) {
  using std::sqrt;
  const T c = T(1) / kappa;
  if (!(x > T(0)) && !(y > T(0))) return {T(1), T(1), scalar_case::zero_gradient};
  // X = 0: a is free (kept at 1); so is b when also Y = 0. For gradients of
  // one G, X = 0 implies x = 0; inconsistent or underflowed inputs may have
  // x > 0, and the bound is then unbounded along a: 1 is still the choice (D6).
  if (!(p > T(0))) return {T(1), s > T(0) ? c * y / s : T(1), scalar_case::collinear};
  if (!(s > T(0))) return {c * x / p, T(1), scalar_case::collinear};  // Y = 0: b is free

  // Normalised form (X^ = X/||X||, Y^ = Y/||Y||) avoids overflow of p s:
  // cos = q / sqrt(p s), x^ = x / sqrt(p), y^ = y / sqrt(s), C^ = 1 - cos^2 = C / (p s).
  const T rp = sqrt(p), rs = sqrt(s);
  T cosine = q / (rp * rs);
  if (cosine > T(1)) cosine = T(1);
  const T xh = x / rp, yh = y / rs;
  const T ch = (T(1) - cosine) * (T(1) + cosine);

  if (ch > collinear_tol) {
    const T cah = xh - cosine * yh;  // C_A / (s sqrt(p))
    const T cbh = yh - cosine * xh;  // C_B / (p sqrt(s))
    if (cah > T(0) && !(cbh > T(0))) return {c * x / p, T(0), scalar_case::beta_zero};
    if (!(cah > T(0)) && cbh > T(0)) return {T(0), c * y / s, scalar_case::alpha_zero};
    T a = c * cah / (rp * ch), b = c * cbh / (rs * ch);
    return {a > T(0) ? a : T(0), b > T(0) ? b : T(0), scalar_case::interior};
  }

  // Collinear: Y = t X with t = sqrt(s / p); optima a + t b = w, w = c x^ / sqrt(p)
  // (x^ = y^ exactly; their mean is used). Nearest point of the segment to (1, 1).
  const T t = rs / rp;
  const T w = c * (xh + yh) / (T(2) * rp);
  const T mu = (w - T(1) - t) / (T(1) + t * t);
  T a = T(1) + mu, b = T(1) + mu * t;
  if (a < T(0)) {
    a = T(0);
    b = w / t;
  } else if (b < T(0)) {
    b = T(0);
    a = w;
  }
  return {a, b, scalar_case::collinear};
}

}  // namespace scalora
