// SPDX-License-Identifier: Apache-2.0
// The reference ScaLoRA step: exact decisions (exact.hpp), values in a
// multiprecision type R (mp50 by default), and the same steps 5-8 as the
// library (linalg/) instantiated at R: the expected outputs of the conformance
// suite (scalora-vectors) and the proof programs' values. Verdicts do not use
// these vectors: they compare exact bound values (judgement.hpp), which every
// optimal scaling shares.
#pragma once

#include <limits>

#include "scalora/linalg/step.hpp"
#include "scalora/reference/exact.hpp"
#include "scalora/reference/mp_types.hpp"

namespace scalora::reference {

/// The reference scaling of one layer.
template <class R>
struct ReferenceScaling {
  branch applied = branch::scalar;
  scalar_case scalar_kind = scalar_case::interior;  ///< Theorem 3's case (exact)
  Vector<R> alpha, beta;  ///< r entries each, sign "+"
  Vector<R> u;            ///< [alpha o alpha; beta o beta]
  /// u is an exact rational rounded once to R. False only when M is singular
  /// and the canonical point of D5 needs the least-distance step (the
  /// least-change point has a negative entry but some v >= 0 exists): that
  /// point is then core/column_solve.hpp's least-distance solution in R, an
  /// optimal scaling to R's precision whose bound value verify_case judges
  /// like any implementation's.
  bool exact = true;
  ExactColumnDecision column;
  ExactScalarDecision scalar;
  ScalingSystem<R> system;  ///< M, lambda, p..y rounded once from the exact values
  /// min_i v_i sqrt(M_ii) / max_j |v_j| sqrt(M_jj) of the least-change solution
  /// (the signed distance of the column decision from its boundary).
  double margin = 0;
  R bound_decrease = R(0);
  R vanilla_bound_decrease = R(0);
  R scalar_bound_decrease = R(0);
  R column_bound_decrease = std::numeric_limits<R>::quiet_NaN();  ///< NaN when infeasible
};

/// kappa = L lr lora_scale^2 as an exact rational.
template <class T>
exact_rational exact_kappa(const BoundParameters<T>& bp) {
  return BoundParameters<exact_rational>{to_rational(bp.L), to_rational(bp.lr), to_rational(bp.lora_scale)}.kappa();
}

namespace detail {
template <class R>
ScalingSystem<R> rounded_system(const ExactSystem& ex) {
  ScalingSystem<R> sys;
  sys.r = ex.r;
  sys.M = ex.M.template rounded<R>();
  sys.lambda.resize(2 * ex.r);
  for (Index i = 0; i < 2 * ex.r; ++i) sys.lambda(i) = round_to<R>(ex.lambda[std::size_t(i)]);
  sys.p = round_to<R>(ex.p);
  sys.q = round_to<R>(ex.q);
  sys.s = round_to<R>(ex.s);
  sys.x = round_to<R>(ex.x);
  sys.y = round_to<R>(ex.y);
  return sys;
}

template <class R>
void set_squares(ReferenceScaling<R>& out, const Vector<R>& u) {
  using std::sqrt;
  const Index r = u.size() / 2;
  out.u = u;
  out.alpha.resize(r);
  out.beta.resize(r);
  for (Index i = 0; i < r; ++i) {
    out.alpha(i) = sqrt(u(i));
    out.beta(i) = sqrt(u(r + i));
  }
}
}  // namespace detail

/// Theorems 3 and 5 with exact decisions, from A (m x r), B (n x r),
/// grad_A, grad_B in any binary floating-point type, and the bound
/// parameters (kappa = L lr lora_scale^2 taken exactly).
/// Cost for m = n = 4096, r = 8: docs/performance.md.
template <class R = mp50, class DA, class DB, class DGA, class DGB, class T>
ReferenceScaling<R> optimal_scaling(const Eigen::MatrixBase<DA>& A, const Eigen::MatrixBase<DB>& B,
                                      const Eigen::MatrixBase<DGA>& grad_A, const Eigen::MatrixBase<DGB>& grad_B,
                                      const BoundParameters<T>& bp, scaling_mode mode = scaling_mode::hybrid) {
  scalora::detail::check_bound_parameters(bp);
  const ExactSystem ex = exact_scaling_system(A, B, grad_A, grad_B);
  const exact_rational kappa = exact_kappa(bp);
  const Index r = ex.r;
  ReferenceScaling<R> out;
  out.system = detail::rounded_system<R>(ex);
  BoundParameters<R> bpr{R(round_to<R>(to_rational(bp.L))), R(round_to<R>(to_rational(bp.lr))),
                         R(round_to<R>(to_rational(bp.lora_scale)))};

  out.scalar = exact_scalar_decision(ex, kappa);
  out.scalar_kind = out.scalar.kind;
  Vector<R> u_scalar(2 * r);
  u_scalar.head(r).setConstant(round_to<R>(out.scalar.a));
  u_scalar.tail(r).setConstant(round_to<R>(out.scalar.b));
  out.scalar_bound_decrease = bound_decrease(out.system, u_scalar, bpr);
  out.vanilla_bound_decrease = bound_decrease(out.system, vanilla_squares<R>(r), bpr);

  out.column = exact_column_decision(ex, kappa);
  {
    using std::abs;
    using std::sqrt;
    R big = 0, small = 0;
    bool first = true;
    for (Index i = 0; i < 2 * r; ++i) {
      if (ex.M(i, i) == 0) continue;
      const R w = round_to<R>(out.column.v[std::size_t(i)]) * sqrt(out.system.M(i, i));
      if (big < abs(w)) big = abs(w);
      if (first || w < small) small = w;
      first = false;
    }
    out.margin = big > 0 ? double(small / big) : 0.0;
  }
  if (mode == scaling_mode::hybrid && out.column.feasible) {
    out.applied = branch::column;
    Vector<R> u(2 * r);
    if (out.column.canonical_exact) {
      for (Index i = 0; i < 2 * r; ++i) u(i) = round_to<R>(out.column.v[std::size_t(i)] / kappa);
    } else {
      // Singular M, least change has a negative entry, a non-negative solution
      // exists: the least-distance QP in R (core/column_solve.hpp).
      const R kappa_r = round_to<R>(kappa);
      const Scaling<R> col = column_scaling(out.system, kappa_r, ScalingTolerances<R>::defaults(r));
      out.exact = false;
      if (col.column.feasible()) u = col.u;
      else u.setConstant(std::numeric_limits<R>::quiet_NaN());  // reported as a reference failure
    }
    detail::set_squares(out, u);
    out.column_bound_decrease = bound_decrease(out.system, u, bpr);
  } else {
    out.applied = branch::scalar;
    detail::set_squares(out, u_scalar);
  }
  out.bound_decrease = bound_decrease(out.system, out.u, bpr);
  return out;
}

/// The reference of a whole step: the scaling above and the layer after
/// steps 5-8 computed in R from the exact input values.
template <class R>
struct ReferenceStep {
  ReferenceScaling<R> scaling;
  Layer<R> layer;
};

/// Steps 2-8 in the reference. The input is not modified.
/// @throws invalid_argument as scalora::scalora_step.
template <class R = mp50, class S, class T>
ReferenceStep<R> scalora_step(const Layer<S>& input, const StepOptions<T>& options) {
  scalora::detail::check_bound_parameters(options.bound);
  scalora::detail::check_layer(input, true);
  ReferenceStep<R> out;
  out.scaling = optimal_scaling<R>(input.A, input.B, input.grad_A, input.grad_B, options.bound, options.mode);
  out.layer = cast_layer<R>(input);  // exact: every binary float of up to 166 bits is exact in mp50
  const R s = round_to<R>(to_rational(options.bound.lora_scale));
  const Vector<R>& alpha = out.scaling.alpha;
  const Vector<R>& beta = out.scaling.beta;
  Layer<R>& l = out.layer;
  if (l.W_pt.size() != 0) resplit(l.W_pt, l.A, l.B, alpha, beta, s);
  rescale_factors(l.A, l.B, alpha, beta);
  rescale_gradients(l.grad_A, l.grad_B, alpha, beta);
  if (!l.moments.empty()) transfer_moments(l.moments, alpha, beta);
  return out;
}

}  // namespace scalora::reference
