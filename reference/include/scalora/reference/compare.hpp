// SPDX-License-Identifier: Apache-2.0
// Judging a computed step against the reference: one named check per
// statement, each with its measured value and its budget (budget.hpp). Used
// by the agreement tests, tools/scalora-step and tools/scalora-verify.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "scalora/reference/budget.hpp"
#include "scalora/reference/eps_distance.hpp"
#include "scalora/reference/step.hpp"

namespace scalora::reference {

/// One check: passed iff value <= budget (both in the unit the name states).
struct Check {
  std::string name;
  bool passed = true;
  double value = 0;
  double budget = 0;
  std::string detail;  ///< where the worst entry is, or why the check was skipped
};

struct Comparison {
  std::vector<Check> checks;
  bool passed() const {
    return std::all_of(checks.begin(), checks.end(), [](const Check& c) { return c.passed; });
  }
  const Check* find(const std::string& name) const {
    for (const Check& c : checks)
      if (c.name == name) return &c;
    return nullptr;
  }
};

/// Signed weighted margin of the exact column decision: min_i v_i sqrt(M_ii) /
/// max_j |v_j| sqrt(M_jj) of the exact least-change solution (>= 0 iff that
/// solution is non-negative).
template <class R>
double exact_margin(const ReferenceScaling<R>& ref) {
  using std::abs;
  using std::sqrt;
  R big = 0, small = 0;
  for (Index i = 0; i < 2 * ref.system.r; ++i) {
    const R s = round_to<R>(ref.column.v[std::size_t(i)]) * sqrt(ref.system.M(i, i));
    if (big < abs(s)) big = abs(s);
    if (i == 0 || s < small) small = s;
  }
  return big > 0 ? double(small / big) : 0.0;
}

namespace detail {
/// max over entries of |out - in * s_j^power| / (eps_S |in * s_j^power|), the
/// exact value formed in R (a product of at most three doubles is exact in mp50).
template <class R, class S, class V>
double rescale_error(const Matrix<S>& in, const Matrix<S>& out, const V& scale, int power, Index* wi, Index* wj) {
  using std::abs;
  double worst = 0;
  for (Index j = 0; j < in.cols(); ++j) {
    const R sj = R(scale(j));
    const R factor = power == 2 ? R(sj * sj) : sj;
    for (Index i = 0; i < in.rows(); ++i) {
      const R exact = R(in(i, j)) * factor;
      const R err = abs(R(out(i, j)) - exact);
      const double e = err == 0 ? 0.0
                       : (exact != 0 ? double(err / abs(exact)) / double(scalar_traits<S>::epsilon()) : INFINITY);
      if (e > worst) {
        worst = e;
        *wi = i;
        *wj = j;
      }
    }
  }
  return worst;
}
}  // namespace detail

/// Compares one computed step (input layer -> output layer with the applied
/// scaling) against the reference. S is the storage type of the layers,
/// Acc the type the scalings were computed in.
/// Checks (docs/numerics.md gives each budget):
///   branch                   column/scalar as the exact decision, or within its margin
///   squared scalings         ||W (u - u*)|| / ||W u*||, in eps of Acc
///   optimality gap           (u - u*)^T M (u - u*) / decrease (column branch)
///   factors, gradients       A' = A diag(alpha), ..., in eps of S, for the APPLIED scalings
///   moments                  the lemmas for the applied scalings (when present)
///   W unchanged              the re-split invariant (when W_pt is present)
template <class S, class Acc, class R>
Comparison compare_step(const Layer<S>& input, const Layer<S>& output, const Scaling<Acc>& applied,
                        const ReferenceScaling<R>& ref, const BoundParameters<Acc>& bp) {
  using std::abs;
  Comparison out;
  const Index m = input.A.rows(), n = input.B.rows(), r = input.A.cols();
  const double eps_acc = double(scalar_traits<Acc>::epsilon());
  const double eps_s = double(scalar_traits<S>::epsilon());
  const double cond = budget::equilibrated_condition(ref.system.M);
  const double col_budget = budget::column_solution(cond, m, n, r, eps_acc);

  Check br{"branch", true, 0, col_budget / eps_acc, ""};
  const bool same_branch = applied.applied == ref.applied;
  const BoundParameters<R> bpr{R(bp.L), R(bp.lr), R(bp.lora_scale)};
  if (!same_branch) {
    const double margin = exact_margin(ref);
    br.value = std::abs(margin) / eps_acc;
    br.passed = std::abs(margin) <= col_budget;
    br.detail = std::string("computed ") + to_string(applied.applied) + ", reference " + to_string(ref.applied) +
                ", exact margin " + std::to_string(margin) + " (value in eps)";
  } else {
    br.detail = to_string(ref.applied);
  }
  out.checks.push_back(br);
  if (!same_branch) {
    // Within the margin the bound values must still agree: the computed scaling's
    // decrease lies between the reference decision's and the unconstrained optimum's.
    const Vector<R> u_comp = applied.u.template cast<R>();
    const R kappa = R(bp.L) * R(bp.lr) * R(bp.lora_scale) * R(bp.lora_scale);
    Vector<R> u_unc(2 * r);
    for (Index i = 0; i < 2 * r; ++i) u_unc(i) = round_to<R>(ref.column.v[std::size_t(i)]) / kappa;
    const R dec = bound_decrease(ref.system, u_comp, bpr);
    const R lo = ref.bound_decrease, hi = bound_decrease(ref.system, u_unc, bpr);
    const R tol = R(col_budget) * abs(hi);
    out.checks.push_back({"bound value within [reference decision, unconstrained optimum]",
                          dec >= lo - tol && dec <= hi + tol, double(dec), double(hi),
                          "reference decision's decrease " + std::to_string(double(lo)) + ", tolerance " +
                              std::to_string(double(tol))});
  }

  if (same_branch) {
    const double u_budget =
        ref.applied == branch::column ? col_budget : budget::scalar_solution(ref.system, m, n, eps_acc);
    const double u_err = budget::weighted_relative_error(ref.system.M, applied.u, ref.u);
    out.checks.push_back({"squared scalings (weighted relative error, eps)", u_err <= u_budget, u_err / eps_acc,
                          u_budget / eps_acc, "alpha: " + distance_in_eps(applied.alpha, ref.alpha).describe()});
    if (ref.applied == branch::column && ref.bound_decrease > 0) {
      const Vector<R> u_comp = applied.u.template cast<R>();
      const double rel_gap = double(optimality_gap(ref.system, u_comp, ref.u, bpr) / ref.bound_decrease);
      const double gap_budget = double(2 * r) * cond * u_budget * u_budget;
      out.checks.push_back({"optimality gap (fraction of the decrease)", rel_gap <= gap_budget, rel_gap, gap_budget, ""});
    }
  }

  auto add_rescale = [&](const char* name, const Matrix<S>& in, const Matrix<S>& o, const Vector<Acc>& s, bool second) {
    if (in.size() == 0) return;
    Index wi = -1, wj = -1;
    // The scaling as the implementation applies it: rounded to the storage type.
    const Vector<S> s_applied = s.template cast<S>();
    const double e = detail::rescale_error<R>(in, o, s_applied, second ? 2 : 1, &wi, &wj);
    const double b = second ? budget::rescaled_second_moment() : budget::rescaled_entry();
    out.checks.push_back({std::string(name) + " (eps)", e <= b, e, b,
                          wi >= 0 ? "worst at (" + std::to_string(wi) + "," + std::to_string(wj) + ")" : ""});
  };
  add_rescale("A' = A diag(alpha)", input.A, output.A, applied.alpha, false);
  add_rescale("B' = B diag(beta)", input.B, output.B, applied.beta, false);
  add_rescale("grad_A' = grad_A diag(beta)", input.grad_A, output.grad_A, applied.beta, false);
  add_rescale("grad_B' = grad_B diag(alpha)", input.grad_B, output.grad_B, applied.alpha, false);
  add_rescale("exp_avg_A' = exp_avg_A diag(beta)", input.moments.exp_avg_A, output.moments.exp_avg_A, applied.beta, false);
  add_rescale("exp_avg_sq_A' = exp_avg_sq_A diag(beta^2)", input.moments.exp_avg_sq_A, output.moments.exp_avg_sq_A,
              applied.beta, true);
  add_rescale("exp_avg_B' = exp_avg_B diag(alpha)", input.moments.exp_avg_B, output.moments.exp_avg_B, applied.alpha, false);
  add_rescale("exp_avg_sq_B' = exp_avg_sq_B diag(alpha^2)", input.moments.exp_avg_sq_B, output.moments.exp_avg_sq_B,
              applied.alpha, true);

  if (input.W_pt.size() != 0) {
    const R s = R(bp.lora_scale);
    const Matrix<R> W0 = input.W_pt.template cast<R>() +
                         s * input.A.template cast<R>() * input.B.template cast<R>().transpose();
    const Matrix<R> W1 = output.W_pt.template cast<R>() +
                         s * output.A.template cast<R>() * output.B.template cast<R>().transpose();
    double worst = 0;
    Index wi = -1, wj = -1;
    for (Index i = 0; i < m; ++i)
      for (Index j = 0; j < n; ++j) {
        R scale = abs(R(input.W_pt(i, j)));
        for (Index k = 0; k < r; ++k) {
          const R ab = R(applied.alpha(k)) * R(applied.beta(k));
          scale += s * abs(R(input.A(i, k)) * R(input.B(j, k))) * (1 + abs(ab) + abs(1 - ab));
        }
        const R diff = abs(W1(i, j) - W0(i, j));
        const double e = diff == 0 ? 0.0 : (scale > 0 ? double(diff / scale) / eps_s : INFINITY);
        if (e > worst) {
          worst = e;
          wi = i;
          wj = j;
        }
      }
    out.checks.push_back({"W_pt' + s A' B'^T = W_pt + s A B^T (eps)", worst <= budget::resplit(r), worst,
                          budget::resplit(r),
                          wi >= 0 ? "worst at (" + std::to_string(wi) + "," + std::to_string(wj) + ")" : ""});
  }
  return out;
}

}  // namespace scalora::reference
