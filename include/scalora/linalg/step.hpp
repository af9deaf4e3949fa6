// SPDX-License-Identifier: Apache-2.0
// One ScaLoRA step for one adapted layer: steps 2-8 of the algorithm (spec
// section 7) in one call. The optimizer's own update (step 9) is the caller's.
#pragma once

#include <limits>
#include <optional>

#include "scalora/core/representable.hpp"
#include "scalora/core/schedule.hpp"
#include "scalora/core/step_outcome.hpp"
#include "scalora/linalg/optimal_scaling.hpp"
#include "scalora/linalg/resplit.hpp"

namespace scalora {

/// One adapted layer, W = W_pt + lora_scale A B^T, with the gradients of this step and
/// (optionally) its AdamW moments. S is the storage type.
template <class S>
struct Layer {
  Matrix<S> W_pt;          ///< m x n; empty = skip the merge (the caller merges)
  Matrix<S> A, B;          ///< m x r, n x r
  Matrix<S> grad_A, grad_B;  ///< m x r, n x r: gradients of the loss at W
  AdamMoments<S> moments;  ///< optional (all empty = none)
};

/// The same layer stored as To, entry by entry (Eigen's cast): exact when To
/// holds every value of From (float -> double -> mp50), rounded to nearest
/// otherwise (double -> float). Empty tensors stay empty.
template <class To, class From>
Layer<To> cast_layer(const Layer<From>& in) {
  Layer<To> out;
  out.W_pt = in.W_pt.template cast<To>();
  out.A = in.A.template cast<To>();
  out.B = in.B.template cast<To>();
  out.grad_A = in.grad_A.template cast<To>();
  out.grad_B = in.grad_B.template cast<To>();
  out.moments.exp_avg_A = in.moments.exp_avg_A.template cast<To>();
  out.moments.exp_avg_sq_A = in.moments.exp_avg_sq_A.template cast<To>();
  out.moments.exp_avg_B = in.moments.exp_avg_B.template cast<To>();
  out.moments.exp_avg_sq_B = in.moments.exp_avg_sq_B.template cast<To>();
  return out;
}

/// Options of scalora_step. T is the accumulation type.
template <class T>
struct StepOptions {
  BoundParameters<T> bound;  ///< L, lr, lora_scale; kappa = L lr lora_scale^2
  scaling_mode mode = scaling_mode::hybrid;
  std::optional<ScalingTolerances<T>> tolerances;  ///< default: ScalingTolerances<T>::defaults(r, m, n)
  bool check_w_pt = true;  ///< check W_pt for NaN/Inf before writing (one extra read of W_pt)
};

/// What scalora_step did and predicts: the outcome record shared with the
/// kernels and the trainer (core/step_outcome.hpp), and the scaling itself.
template <class T>
struct StepResult : StepOutcome<T> {
  Scaling<T> scaling;  ///< branch taken, alpha, beta, u, solve details
};

namespace detail {
template <class S>
void check_layer(const Layer<S>& layer, bool check_w_pt) {
  check_factors(layer.A, layer.B, layer.grad_A, layer.grad_B);
  const Index m = layer.A.rows(), n = layer.B.rows(), r = layer.A.cols();
  if (layer.W_pt.size() != 0) {
    check_shape("W_pt", layer.W_pt, m, n, "m x n, m = A.rows(), n = B.rows()");
    if (check_w_pt) check_finite("W_pt", layer.W_pt);
  }
  const AdamMoments<S>& mom = layer.moments;
  if (!mom.empty()) {
    check_shape("exp_avg_A", mom.exp_avg_A, m, r, "m x r, the shape of A");
    check_shape("exp_avg_sq_A", mom.exp_avg_sq_A, m, r, "m x r, the shape of A");
    check_shape("exp_avg_B", mom.exp_avg_B, n, r, "n x r, the shape of B");
    check_shape("exp_avg_sq_B", mom.exp_avg_sq_B, n, r, "n x r, the shape of B");
    check_finite("exp_avg_A", mom.exp_avg_A);
    check_finite("exp_avg_sq_A", mom.exp_avg_sq_A);
    check_finite("exp_avg_B", mom.exp_avg_B);
    check_finite("exp_avg_sq_B", mom.exp_avg_sq_B);
  }
}
/// max_i |X(i, k)| per column, in T (empty X: nothing).
template <class T, class S>
Vector<T> column_max_abs(const Matrix<S>& X) {
  if (X.size() == 0) return Vector<T>();
  return X.cwiseAbs().colwise().maxCoeff().transpose().template cast<T>();
}

/// core/representable.hpp for one layer and its scalings.
template <class S, class T>
bool scalings_representable(const Layer<S>& layer, const Scaling<T>& sc, const T& lora_scale) {
  const Vector<T> a = column_max_abs<T>(layer.A), b = column_max_abs<T>(layer.B);
  const Vector<T> ga = column_max_abs<T>(layer.grad_A), gb = column_max_abs<T>(layer.grad_B);
  const AdamMoments<S>& mom = layer.moments;
  const Vector<T> ma = column_max_abs<T>(mom.exp_avg_A), va = column_max_abs<T>(mom.exp_avg_sq_A);
  const Vector<T> mb = column_max_abs<T>(mom.exp_avg_B), vb = column_max_abs<T>(mom.exp_avg_sq_B);
  ColumnMaxima<T> mx;
  mx.A = a.data();
  mx.B = b.data();
  mx.grad_A = ga.data();
  mx.grad_B = gb.data();
  if (!mom.empty()) {
    mx.exp_avg_A = ma.data();
    mx.exp_avg_sq_A = va.data();
    mx.exp_avg_B = mb.data();
    mx.exp_avg_sq_B = vb.data();
  }
  const T max_s = T(std::numeric_limits<S>::max());
  return scalora::scalings_representable(int(sc.alpha.size()), sc.alpha.data(), sc.beta.data(), mx,
                                         layer.W_pt.size() != 0, lora_scale, max_s, max_s);
}

}  // namespace detail

/// Steps 2-8 for one layer:
///   2 build M, lambda (scaling_system)       3-4 solve and decide (optimal_scaling)
///   5 W_pt += lora_scale A diag(1 - alpha o beta) B^T  6 A <- A diag(alpha), B <- B diag(beta)
///   7 grad_A <- grad_A diag(beta), grad_B <- grad_B diag(alpha)
///   8 AdamW moments as in the lemmas
/// Every argument is validated before anything is written.
/// @throws invalid_argument (shapes, NaN/Inf, L, lr, lora_scale <= 0, r = 0).
/// @post W_pt + lora_scale A B^T is unchanged up to rounding (tests/unit/test_theorems_*.cpp,
///       tests/unit/test_judge_step.cpp).
template <class S, class T = accumulate_t<S>>
StepResult<T> scalora_step(Layer<S>& layer, const StepOptions<T>& options) {
  detail::check_bound_parameters(options.bound);
  detail::check_layer(layer, options.check_w_pt);
  const Index r = layer.A.cols();
  const ScalingTolerances<T> tol =
      options.tolerances ? *options.tolerances : ScalingTolerances<T>::defaults(r, layer.A.rows(), layer.B.rows());
  const T kappa = options.bound.kappa();

  const ScalingSystem<T> sys = scaling_system(layer.A, layer.B, layer.grad_A, layer.grad_B);
  StepResult<T> out;
  using std::isfinite;
  if (!sys.M.allFinite() || !sys.lambda.allFinite() || !isfinite(sys.p + sys.q + sys.s + sys.x + sys.y)) {
    out.nonfinite = true;
    out.scaling = detail::scaling_from_squares(branch::scalar, vanilla_squares<T>(r));
    out.bound_decrease = out.vanilla_bound_decrease = out.scalar_bound_decrease =
        std::numeric_limits<T>::quiet_NaN();
    return out;
  }
  const Scaling<T> scalar = scalar_scaling(sys, kappa, tol);
  out.scalar_kind = scalar.scalar_kind;
  out.scalar_bound_decrease = bound_decrease(sys, scalar.u, options.bound);
  out.vanilla_bound_decrease = bound_decrease(sys, vanilla_squares<T>(r), options.bound);
  if (options.mode == scaling_mode::hybrid) {
    const Scaling<T> column = column_scaling(sys, kappa, tol);
    if (column.column.feasible()) out.column_bound_decrease = bound_decrease(sys, column.u, options.bound);
    out.column_rejected = column.column.feasible() && !detail::column_admissible(sys, column.u, scalar.u, kappa);
    if (column.column.feasible() && !out.column_rejected) {
      out.scaling = column;
    } else {
      out.scaling = scalar;
      out.scaling.column = column.column;
      out.scalar_fallback = true;
    }
    out.method = column.column.method;
    out.rank = column.column.rank;
    out.margin = column.column.margin;
    out.singular_system = column.column.rank < 2 * r;
    out.clamped = out.scaling.applied == branch::column && column.column.clamped;
  } else {
    out.scaling = scalar;
  }
  out.applied = out.scaling.applied;
  out.zero_gradient = !(sys.x > T(0)) && !(sys.y > T(0));
  out.bound_decrease = bound_decrease(sys, out.scaling.u, options.bound);

  if (!detail::scalings_representable(layer, out.scaling, options.bound.lora_scale)) {
    out.not_representable = true;
    out.scaling = detail::scaling_from_squares(branch::scalar, vanilla_squares<T>(r));
    out.applied = branch::scalar;
    out.bound_decrease = out.vanilla_bound_decrease;
    return out;
  }
  const Vector<T>& alpha = out.scaling.alpha;
  const Vector<T>& beta = out.scaling.beta;
  if (layer.W_pt.size() != 0) resplit(layer.W_pt, layer.A, layer.B, alpha, beta, options.bound.lora_scale);
  rescale_factors(layer.A, layer.B, alpha, beta);
  rescale_gradients(layer.grad_A, layer.grad_B, alpha, beta);
  if (!layer.moments.empty()) transfer_moments(layer.moments, alpha, beta);
  return out;
}

}  // namespace scalora
