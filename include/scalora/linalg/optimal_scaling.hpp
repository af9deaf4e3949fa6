// SPDX-License-Identifier: Apache-2.0
// Theorems 3 and 5 on a built system, the hybrid rule, and the loss-bound
// quantities of a scaling: predicted decrease and optimality gap. Spec 4-5.
#pragma once

#include <limits>

#include "scalora/core/bound_decrease.hpp"
#include "scalora/core/branch.hpp"
#include "scalora/core/column_solve.hpp"
#include "scalora/core/hybrid_rule.hpp"
#include "scalora/core/scalar_scaling.hpp"
#include "scalora/linalg/scaling_system.hpp"

namespace scalora {

/// Tolerances of the production decisions (docs/numerics.md); defaults by size.
template <class T>
struct ScalingTolerances {
  ColumnTolerances<T> column;
  T collinear;
  /// For factors A (m x r) and B (n x r); m = n = 0 for an exactly known M.
  static ScalingTolerances defaults(Index r, Index m = 0, Index n = 0) {
    return {ColumnTolerances<T>::defaults(int(2 * r), m, n), T(16) * scalar_traits<T>::epsilon()};
  }
};

/// A scaling (alpha, beta) with how it was found.
template <class T>
struct Scaling {
  branch applied = branch::scalar;
  Vector<T> alpha, beta;  ///< r entries each; >= 0 (sign convention "+", D3)
  Vector<T> u;            ///< [alpha o alpha; beta o beta], the squared scalings (2r)
  scalar_case scalar_kind = scalar_case::interior;  ///< Theorem 3 case (scalar branch)
  ColumnSolveInfo<T> column;                        ///< Theorem 5 solve (column branch, or the failed attempt)
};

namespace detail {
/// D3: the sign of "+-" is + (alpha, beta >= 0).
template <class T>
Scaling<T> scaling_from_squares(branch b, const Vector<T>& u) {
  using std::sqrt;
  Scaling<T> out;
  out.applied = b;
  out.u = u;
  const Index r = u.size() / 2;
  out.alpha.resize(r);
  out.beta.resize(r);
  for (Index i = 0; i < r; ++i) {
    out.alpha(i) = sqrt(u(i));
    out.beta(i) = sqrt(u(r + i));
  }
  return out;
}
}  // namespace detail

/// Theorem 3: the optimal scalar scaling (all cases, degenerate rules D6).
template <class T>
Scaling<T> scalar_scaling(const ScalingSystem<T>& sys, const T& kappa, const ScalingTolerances<T>& tol) {
  detail::check_positive("kappa", kappa);
  const ScalarSquares<T> sq = solve_scalar_system(sys.p, sys.q, sys.s, sys.x, sys.y, kappa, tol.collinear);
  Vector<T> u(2 * sys.r);
  u.head(sys.r).setConstant(sq.a);
  u.tail(sys.r).setConstant(sq.b);
  Scaling<T> out = detail::scaling_from_squares(branch::scalar, u);
  out.scalar_kind = sq.kind;
  return out;
}

/// Theorem 5: the canonical optimal column scaling, if a non-negative solution
/// of M v = lambda exists (out.column.feasible()); alpha = (v_alpha / kappa)^{1/2},
/// beta = (v_beta / kappa)^{1/2}, v_alpha and v_beta the first and last r
/// entries of v. When infeasible, alpha and beta are empty.
template <class T>
Scaling<T> column_scaling(const ScalingSystem<T>& sys, const T& kappa, const ScalingTolerances<T>& tol) {
  detail::check_positive("kappa", kappa);
  const int n = int(2 * sys.r);
  Vector<T> v(n), work(column_solve_work_size(n));
  Eigen::VectorXi iwork(column_solve_iwork_size(n));
  const ColumnSolveInfo<T> info =
      solve_column_system(n, sys.M.data(), n, sys.lambda.data(), kappa, v.data(), work.data(), iwork.data(), tol.column);
  Scaling<T> out;
  if (info.feasible()) out = detail::scaling_from_squares(branch::column, Vector<T>(v / kappa));
  out.applied = branch::column;
  out.column = info;
  return out;
}

namespace detail {
/// lambda^T u - kappa u^T M u / 2 = bound decrease / lr (core/bound_decrease.hpp).
template <class T>
T decrease_per_lr(const ScalingSystem<T>& sys, const Vector<T>& u, const T& kappa) {
  return scalora::decrease_per_lr(int(2 * sys.r), sys.M.data(), sys.lambda.data(), u.data(), kappa);
}
/// The rounding bound of decrease_per_lr (core/bound_decrease.hpp).
template <class T>
T decrease_per_lr_rounding(const ScalingSystem<T>& sys, const Vector<T>& u, const T& kappa) {
  return scalora::decrease_per_lr_rounding(int(2 * sys.r), sys.M.data(), sys.lambda.data(), u.data(), kappa);
}
/// The hybrid guard (core/hybrid_rule.hpp) for two computed scalings.
template <class T>
bool column_admissible(const ScalingSystem<T>& sys, const Vector<T>& u_column, const Vector<T>& u_scalar,
                       const T& kappa) {
  return column_decrease_admissible(decrease_per_lr(sys, u_column, kappa), decrease_per_lr(sys, u_scalar, kappa),
                                    T(decrease_per_lr_rounding(sys, u_column, kappa) +
                                      decrease_per_lr_rounding(sys, u_scalar, kappa)));
}
}  // namespace detail

/// The hybrid rule of the algorithm (step 4): column scaling when feasible and
/// admitted by the guard (core/hybrid_rule.hpp: its decrease is not below the
/// scalar scaling's beyond rounding), else scalar scaling. mode = scalar_only
/// skips Theorem 5.
template <class T>
Scaling<T> optimal_scaling(const ScalingSystem<T>& sys, const T& kappa, const ScalingTolerances<T>& tol,
                           scaling_mode mode = scaling_mode::hybrid) {
  Scaling<T> sca = scalar_scaling(sys, kappa, tol);
  if (mode == scaling_mode::hybrid) {
    Scaling<T> col = column_scaling(sys, kappa, tol);
    if (col.column.feasible() && detail::column_admissible(sys, col.u, sca.u, kappa)) return col;
    sca.column = col.column;
  }
  return sca;
}

/// Decrease of the loss upper bound below l(W) predicted for squared scalings u:
///   l(W) - bound(u) = (kappa lambda^T u - kappa^2 u^T M u / 2) / (L lora_scale^2),
/// with kappa = L lr lora_scale^2 and M, lambda from autograd gradients (which carry lora_scale).
/// Equals lambda^T v / (2 L lora_scale^2) at the column optimum u = v / kappa.
template <class T>
T bound_decrease(const ScalingSystem<T>& sys, const Vector<T>& u, const BoundParameters<T>& bp) {
  // kappa / (L lora_scale^2) = lr; the overflow-free scaled form of core/bound_decrease.hpp.
  return bp.lr * detail::decrease_per_lr(sys, u, bp.kappa());
}

/// Optimality gap of u against an optimum u_star of the same system:
///   bound(u) - bound(u_star) = (kappa^2 / (2 L lora_scale^2)) (u - u*)^T M (u - u*)
/// (spec section 5, (L eta^2 / 2)(u - u*)^T M (u - u*) for s = 1). It is
/// computable without G and zero exactly on the optimal set.
template <class T>
T optimality_gap(const ScalingSystem<T>& sys, const Vector<T>& u, const Vector<T>& u_star,
                 const BoundParameters<T>& bp) {
  // kappa^2 / (L lora_scale^2) = lr kappa; scaled by t = max|du| as in bound_decrease.
  const Vector<T> du = u - u_star;
  const T t = du.cwiseAbs().maxCoeff();
  if (!(t > T(0))) return T(0);
  const Vector<T> w = du / t;
  return bp.lr * t * (bp.kappa() * t) * w.dot(sys.M * w) / T(2);
}

/// The vanilla LoRA squared scalings u = 1 (no rescaling).
template <class T>
Vector<T> vanilla_squares(Index r) {
  return Vector<T>::Ones(2 * r);
}

}  // namespace scalora
