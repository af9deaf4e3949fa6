// SPDX-License-Identifier: Apache-2.0
// Judging a computed step against the reference: one named check per
// statement, each with its measured value and its budget (budget.hpp). Used
// by the agreement tests, tools/scalora-step and tools/scalora-verify.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>

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
  std::string id = "";  ///< short stable name (scalora-verify's --json and --tol): "branch", "W_unchanged", ...
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

/// The reference a computation in a working precision with epsilon eps can be
/// held to. When the exact M has eigen-directions below the a-priori error of
/// computing M in that precision (pivots of the equilibrated M below
/// budget::equilibrated_perturbation(m, n, r) eps), the exact decision along
/// them cannot be reproduced by any implementation in that precision; the
/// decision and the values are then recomputed in R by the core solve with
/// the rank decided at that resolution (same exact inputs, same algorithm).
/// Otherwise the exact reference is returned unchanged.
/// 1 + 1 / sigma_min(Q_C) for a least-distance column solution u (see
/// ReferenceScaling::ldp_amplification): Q spans the null space of the
/// equilibrated M over its eigenvalues <= rank_tol * lambda_max, C are the
/// coordinates with u_i = 0 (relative to max |u_j| sqrt(M_jj)).
template <class R>
double ldp_amplification(const ScalingSystem<R>& sys, const Vector<R>& u, const R& rank_tol) {
  using std::abs;
  using std::sqrt;
  const Index n = sys.M.rows();
  Matrix<R> a = Matrix<R>::Zero(n, n);
  std::vector<Index> active;
  for (Index i = 0; i < n; ++i)
    if (sys.M(i, i) > 0) active.push_back(i);
  const Index na = Index(active.size());
  for (Index i = 0; i < na; ++i)
    for (Index j = 0; j < na; ++j) {
      const Index p = active[std::size_t(i)], q = active[std::size_t(j)];
      a(i, j) = sys.M(p, q) / (sqrt(sys.M(p, p)) * sqrt(sys.M(q, q)));
    }
  a.conservativeResize(na, na);
  if (na == 0) return 1.0;
  Eigen::SelfAdjointEigenSolver<Matrix<R>> es(a);
  const R lmax = es.eigenvalues()(na - 1);
  Index d = 0;
  while (d < na && es.eigenvalues()(d) <= rank_tol * lmax) ++d;
  R wmax = 0;
  for (Index i = 0; i < na; ++i) {
    const Index p = active[std::size_t(i)];
    wmax = std::max(wmax, R(abs(u(p)) * sqrt(sys.M(p, p))));
  }
  std::vector<Index> clamped;
  for (Index i = 0; i < na; ++i) {
    const Index p = active[std::size_t(i)];
    if (abs(u(p)) * sqrt(sys.M(p, p)) <= R(1e-40) * wmax) clamped.push_back(i);
  }
  if (d == 0 || clamped.empty()) return 1.0;
  Matrix<R> qc(Index(clamped.size()), d);
  for (Index c = 0; c < qc.rows(); ++c) qc.row(c) = es.eigenvectors().row(clamped[std::size_t(c)]).head(d);
  const Eigen::JacobiSVD<Matrix<R>> svd(qc);
  const R smin = svd.singularValues()(std::min(qc.rows(), qc.cols()) - 1);
  return smin > 0 ? 1.0 + double(1 / smin) : std::numeric_limits<double>::infinity();
}

template <class R>
ReferenceScaling<R> resolvable_reference(const ReferenceScaling<R>& exact, Index m, Index n, double eps,
                                         const BoundParameters<R>& bp, scaling_mode mode = scaling_mode::hybrid) {
  const Index r = exact.system.r;
  ScalingTolerances<R> tol = ScalingTolerances<R>::defaults(r);
  tol.column.rank = R(budget::equilibrated_perturbation(m, n, r)) * R(eps);  // = the production's rank tolerance
  const Scaling<R> col = column_scaling(exact.system, bp.kappa(), tol);
  if (col.column.rank >= exact.column.rank) {
    ReferenceScaling<R> out = exact;
    if (exact.applied == branch::column && !exact.exact)  // the exact rank's least-distance point
      out.ldp_amplification = ldp_amplification(exact.system, exact.u, R(tol.column.rank));
    return out;
  }
  ReferenceScaling<R> out = exact;
  out.resolved = true;
  out.exact = false;
  out.column.rank = col.column.rank;  // the rank the reference now works with
  out.margin = double(col.column.margin);
  if (col.column.feasible()) {  // residual ratio of the resolved column solution
    using std::sqrt;
    const Vector<R> v = col.u * bp.kappa();
    const Vector<R> res = exact.system.M * v - exact.system.lambda;
    R rn = 0, wn = 0;
    for (Index i = 0; i < 2 * r; ++i) {
      const R mii = exact.system.M(i, i);
      if (!(mii > 0)) continue;
      rn += res(i) * res(i) / mii;
      wn += v(i) * v(i) * mii;
    }
    const double norm = budget::equilibrated_norm(exact.system.M);
    out.residual_ratio = norm > 0 && wn > 0 ? double(sqrt(rn) / sqrt(wn)) / norm : 0.0;
  }
  out.least_distance = col.column.method == column_method::least_distance;
  out.ldp_residual = double(col.column.ldp_residual);
  out.ldp_scale = double(col.column.ldp_scale);
  out.ldp_amplification = out.least_distance ? ldp_amplification(exact.system, col.u, tol.column.rank) : 1.0;
  if (mode == scaling_mode::hybrid && col.column.feasible()) {
    out.applied = branch::column;
    out.u = col.u;
    out.alpha = col.alpha;
    out.beta = col.beta;
    out.column_bound_decrease = bound_decrease(exact.system, col.u, bp);
  } else if (exact.applied == branch::column) {  // the exact column solution used unresolvable directions
    out.applied = branch::scalar;
    Vector<R> u(2 * r);
    u.head(r).setConstant(round_to<R>(exact.scalar.a));
    u.tail(r).setConstant(round_to<R>(exact.scalar.b));
    detail::set_squares(out, u);
  }
  out.bound_decrease = bound_decrease(exact.system, out.u, bp);
  return out;
}

namespace detail {
/// max over entries of |out - in * s_j^power| / (eps |in * s_j^power|), the
/// exact value formed in R (a product of at most three doubles is exact in mp50).
template <class R, class S, class V>
double rescale_error(const Matrix<S>& in, const Matrix<S>& out, const V& scale, int power, double eps, Index* wi,
                     Index* wj) {
  using std::abs;
  double worst = 0;
  for (Index j = 0; j < in.cols(); ++j) {
    const R sj = R(scale(j));
    const R factor = power == 2 ? R(sj * sj) : sj;
    for (Index i = 0; i < in.rows(); ++i) {
      const R exact = R(in(i, j)) * factor;
      const R err = abs(R(out(i, j)) - exact);
      const double e = err == 0 ? 0.0 : (exact != 0 ? double(err / abs(exact)) / eps : INFINITY);
      if (!(e <= worst)) {  // NaN counts as the worst
        worst = std::isnan(e) ? INFINITY : e;
        *wi = i;
        *wj = j;
      }
    }
  }
  return worst;
}

/// sqrt(sum_i (D res)_i^2 / sum_i (D lambda)_i^2), D = diag(M)^{-1/2} over M_ii > 0:
/// the equilibrated residual of M v = lambda relative to the right-hand side.
template <class R>
double equilibrated_residual(const ScalingSystem<R>& sys, const Vector<R>& v) {
  using std::sqrt;
  const Vector<R> res = sys.M * v - sys.lambda;
  R rn = 0, ln = 0;
  for (Index i = 0; i < sys.M.rows(); ++i) {
    const R mii = sys.M(i, i);
    if (!(mii > 0)) continue;
    rn += res(i) * res(i) / mii;
    ln += sys.lambda(i) * sys.lambda(i) / mii;
  }
  return ln > 0 ? double(sqrt(rn / ln)) : 0.0;
}
}  // namespace detail

/// Budgets of the scaling checks (docs/numerics.md) for a computation whose
/// M, lambda and u were formed with epsilon eps_acc, against the resolvable
/// reference `ref` (resolvable_reference()). Relative errors, not in eps.
struct ScalingBudgets {
  double cond = 1;          ///< condition number of the equilibrated M on its resolvable range
  double column = 0;        ///< E of the column solution, least-distance terms included
  double identifiable = 0;  ///< E of the identifiable part when M is singular
  double scalar = 0;        ///< E of Theorem 3's solution
};

template <class R>
ScalingBudgets scaling_budgets(const ReferenceScaling<R>& ref, Index m, Index n, double eps_acc) {
  const Index r = ref.system.r;
  ScalingBudgets b;
  b.cond = budget::equilibrated_condition(ref.system.M, budget::equilibrated_perturbation(m, n, r) * eps_acc);
  // A least-distance solution adds the LDP's own accuracy (the NNLS dual
  // tolerance 16 n2 eps over |rho|, times n2^2; core/column_solve.hpp) and its
  // amplification of the least-change point's error; both are relative to the
  // least-change point's scale, ldp_scale times the solution's.
  const double n2 = double(2 * r);
  const double ldp_term = ref.least_distance ? n2 * n2 * 16.0 * n2 * eps_acc / ref.ldp_residual : 0.0;
  // For singular M the least-change step adds Q Q^T (t - w_p), t = kappa diag(M)^{1/2}:
  // its error is relative to ||t|| (budget::least_change_factor).
  const double lc = ref.column.rank < 2 * r ? budget::least_change_factor(ref.system, ref.u) : 1.0;
  const double solve = budget::column_solution(b.cond, m, n, r, eps_acc, ref.residual_ratio) * lc;
  b.column = (solve + ldp_term) * ref.ldp_amplification * (ref.least_distance ? ref.ldp_scale : 1.0);
  // The identifiable part's bound, plus the least-distance clamp (sqrt(eps) of the LDP scale).
  b.identifiable = solve + (ref.least_distance ? std::sqrt(eps_acc) * ref.ldp_scale : 0.0);
  b.scalar = budget::scalar_solution(ref.system, m, n, eps_acc);
  return b;
}

/// The checks of an applied scaling against the reference, appended to `out`:
///   branch                   column/scalar as the exact decision, or within its margin
///   bound value              (only on a different branch) between the decision's and the optimum's
///   squared scalings         ||W (u - u*)|| / ||W u*||, in eps_acc (M nonsingular)
///   Theorem 3 case label     (scalar branch, when applied.scalar_kind differs)
///   optimality gap           (u - u*)^T M (u - u*) / decrease (column branch)
/// `ref` is resolvable_reference(exact_ref, ...). `extra` is a relative
/// uncertainty of applied.u that the computation did not cause (how the scaling
/// was stored or recovered, scalora-verify; 0 in compare_step): it is added to
/// every solution budget (docs/numerics.md, "Verifier tolerances").
template <class Acc, class R>
void append_scaling_checks(Comparison& out, const Scaling<Acc>& applied, const ReferenceScaling<R>& ref,
                           const ReferenceScaling<R>& exact_ref, const BoundParameters<R>& bpr, Index m, Index n,
                           double eps_acc, double extra = 0) {
  using std::abs;
  const Index r = ref.system.r;
  const ScalingBudgets sb = scaling_budgets(ref, m, n, eps_acc);
  const double col_budget = sb.column + extra;

  // Branch. A disagreement with the reference decision is accepted when the
  // decision is within rounding of its boundary: the least-change margin is
  // within the solution budget, or the computed scaling is a certificate that
  // the column condition holds within rounding (u >= 0 and the equilibrated
  // residual ||D (M v - lambda)|| / ||D lambda|| within the budget, above the
  // least-squares floor). The computed scaling's bound value must then lie
  // between the reference decision's and the unconstrained optimum's.
  Check br{"branch", true, 0, col_budget / eps_acc, ref.resolved ? "reference on the resolvable part of M; " : "",
           "branch"};
  const bool same_branch = applied.applied == ref.applied;
  if (!same_branch) {
    const Vector<R> u_comp = applied.u.template cast<R>();
    const R kappa = bpr.kappa();
    Vector<R> u_unc(2 * r);
    for (Index i = 0; i < 2 * r; ++i) u_unc(i) = round_to<R>(exact_ref.column.v[std::size_t(i)]) / kappa;
    const R dec = bound_decrease(ref.system, u_comp, bpr);
    const R lo = ref.bound_decrease, hi = bound_decrease(ref.system, u_unc, bpr);
    // How much `extra` can move the bound value: first-order in the relative
    // error of u, |d(lambda^T u)| <= extra lambda^T u, |d(u^T M u)| <= 2 extra |u|^T |M| |u|.
    const R moved = R(extra) * (kappa * ref.system.lambda.dot(u_comp) +
                                kappa * kappa * u_comp.dot(ref.system.M.cwiseAbs() * u_comp)) /
                    (bpr.L * bpr.lora_scale * bpr.lora_scale);
    const R tol = R(col_budget) * abs(hi) + moved;
    const double residual = applied.applied == branch::column && u_comp.minCoeff() >= 0
                                ? detail::equilibrated_residual(ref.system, Vector<R>(kappa * u_comp))
                                : INFINITY;
    // The least-squares residual of the reference's least-change solution: the
    // floor any solution of an inconsistent system (rounded gradients) has.
    Vector<R> v_lc(2 * r);
    for (Index i = 0; i < 2 * r; ++i) v_lc(i) = round_to<R>(exact_ref.column.v[std::size_t(i)]);
    const double ls_floor = detail::equilibrated_residual(ref.system, v_lc);
    // near: |margin| <= col_budget; certified: residual - 2 floor <= col_budget + cond extra.
    const double certificate = std::max(0.0, residual - 2 * ls_floor - sb.cond * extra);
    br.value = std::min(std::abs(ref.margin), certificate) / eps_acc;
    br.passed = br.value <= br.budget;
    br.detail += std::string("computed ") + to_string(applied.applied) + ", reference " + to_string(ref.applied) +
                 ", margin " + std::to_string(ref.margin) + ", residual of the computed solution " +
                 std::to_string(residual) + " (value in eps: the smaller of |margin| and the residual above its floor)";
    out.checks.push_back(br);
    const double outside = hi != 0 ? double(std::max({R(0), lo - dec, dec - hi}) / abs(hi)) : double(abs(dec - lo));
    const double allowed = hi != 0 ? double(tol / abs(hi)) : double(tol);
    out.checks.push_back({"bound value within [reference decision, unconstrained optimum]", outside <= allowed,
                          outside, allowed,
                          "decrease " + std::to_string(double(dec)) + ", reference decision's " +
                              std::to_string(double(lo)) + ", unconstrained optimum's " + std::to_string(double(hi)) +
                              " (value: distance outside, relative)",
                          "bound_value"});
  } else {
    br.detail += to_string(ref.applied);
    out.checks.push_back(br);
  }
  if (!same_branch) return;
  // For a singular M only M u (the update sum_i u_i X_i) is identifiable
  // (spec section 8, item 5): the canonical choice of the rest (D5) is the
  // reference's; an implementation is judged by the optimality gap below.
  const bool singular = ref.applied == branch::column && ref.column.rank < 2 * r;
  const double u_budget =
      (singular ? sb.identifiable : ref.applied == branch::column ? sb.column : sb.scalar) + extra;
  if (!singular) {
    const double u_err = budget::weighted_relative_error(ref.system.M, applied.u, ref.u);
    out.checks.push_back({"squared scalings (weighted relative error, eps)", u_err <= u_budget, u_err / eps_acc,
                          u_budget / eps_acc, "alpha: " + distance_in_eps(applied.alpha, ref.alpha).describe(),
                          "squared_scalings"});
  }
  if (ref.applied == branch::scalar && applied.scalar_kind != ref.scalar_kind) {
    // Theorem 3's rows agree on their boundaries (continuity), so a different
    // label is accepted when a quantity separating the rows is 0 within the
    // budget: C_A / (s x + q y), C_B / (p y + q x), C / (p s).
    const ScalingSystem<R>& y = ref.system;
    auto normalized = [](const exact_rational& v, const R& scale) {
      return scale > 0 ? double(R(abs(round_to<R>(v)) / scale)) : 0.0;
    };
    const double nearest = std::min({normalized(ref.scalar.C_A, y.s * y.x + y.q * y.y),
                                     normalized(ref.scalar.C_B, y.p * y.y + y.q * y.x),
                                     normalized(ref.scalar.C, y.p * y.s)});
    out.checks.push_back({"Theorem 3 case label (values are judged above)", nearest <= u_budget, nearest, u_budget,
                          std::string("computed ") + to_string(applied.scalar_kind) + ", reference " +
                              to_string(ref.scalar_kind),
                          "scalar_case"});
  }
  if (ref.applied == branch::column && ref.bound_decrease > 0) {
    const Vector<R> u_comp = applied.u.template cast<R>();
    const double rel_gap = double(optimality_gap(ref.system, u_comp, ref.u, bpr) / ref.bound_decrease);
    const double gap_budget = double(2 * r) * sb.cond * u_budget * u_budget;
    out.checks.push_back({"optimality gap (fraction of the decrease)", rel_gap <= gap_budget, rel_gap, gap_budget,
                          singular ? "M singular: the identifiable part of the scaling" : "", "optimality_gap"});
  }
}

/// out = in diag(scale)^power entry by entry (the lemmas, step 6-8), measured
/// against the exact product in R: max |out - in s^p| / (eps |in s^p|) <= budget.
template <class R, class S, class V>
Check rescale_check(const std::string& name, const std::string& id, const Matrix<S>& in, const Matrix<S>& out,
                    const V& scale, int power, double eps, double budget) {
  Index wi = -1, wj = -1;
  const double e = detail::rescale_error<R>(in, out, scale, power, eps, &wi, &wj);
  return {name, e <= budget, e, budget, wi >= 0 ? "worst at (" + std::to_string(wi) + "," + std::to_string(wj) + ")" : "",
          id};
}

/// The rescaled parts of a layer (case-file names), the scaling each is
/// multiplied by (crossed pairing for gradients and moments, spec section 6)
/// and its power.
struct RescaledPart {
  const char* name;  ///< as in the case file: "A", "exp_avg_sq_B", ...
  const char* title;  ///< the equation
  bool by_alpha;
  int power;
};
inline const RescaledPart kRescaledParts[] = {
    {"A", "A' = A diag(alpha)", true, 1},
    {"B", "B' = B diag(beta)", false, 1},
    {"grad_A", "grad_A' = grad_A diag(beta)", false, 1},
    {"grad_B", "grad_B' = grad_B diag(alpha)", true, 1},
    {"exp_avg_A", "exp_avg_A' = exp_avg_A diag(beta)", false, 1},
    {"exp_avg_sq_A", "exp_avg_sq_A' = exp_avg_sq_A diag(beta^2)", false, 2},
    {"exp_avg_B", "exp_avg_B' = exp_avg_B diag(alpha)", true, 1},
    {"exp_avg_sq_B", "exp_avg_sq_B' = exp_avg_sq_B diag(alpha^2)", true, 2},
};

/// The matrix of `l` a RescaledPart names.
template <class S>
const Matrix<S>& rescaled_part(const Layer<S>& l, const std::string& name) {
  if (name == "A") return l.A;
  if (name == "B") return l.B;
  if (name == "grad_A") return l.grad_A;
  if (name == "grad_B") return l.grad_B;
  if (name == "exp_avg_A") return l.moments.exp_avg_A;
  if (name == "exp_avg_sq_A") return l.moments.exp_avg_sq_A;
  if (name == "exp_avg_B") return l.moments.exp_avg_B;
  return l.moments.exp_avg_sq_B;
}

/// Compares one computed step (input layer -> output layer with the applied
/// scaling) against the reference. S is the storage type of the layers,
/// Acc the type the scalings were computed in.
/// Checks (docs/numerics.md gives each budget): append_scaling_checks(), then
///   factors, gradients       A' = A diag(alpha), ..., in eps of S, for the APPLIED scalings
///   moments                  the lemmas for the applied scalings (when present)
///   W unchanged              the re-split invariant (when W_pt is present)
template <class S, class Acc, class R>
Comparison compare_step(const Layer<S>& input, const Layer<S>& output, const Scaling<Acc>& applied,
                        const ReferenceScaling<R>& exact_ref, const BoundParameters<Acc>& bp,
                        scaling_mode mode = scaling_mode::hybrid) {
  using std::abs;
  Comparison out;
  const Index m = input.A.rows(), n = input.B.rows(), r = input.A.cols();
  const double eps_acc = double(scalar_traits<Acc>::epsilon());
  const BoundParameters<R> bpr{R(bp.L), R(bp.lr), R(bp.lora_scale)};
  const ReferenceScaling<R> ref = resolvable_reference(exact_ref, m, n, eps_acc, bpr, mode);
  const double eps_s = double(scalar_traits<S>::epsilon());
  append_scaling_checks(out, applied, ref, exact_ref, bpr, m, n, eps_acc);

  // The scaling as the implementation applies it: rounded to the storage type.
  const Vector<S> alpha_s = applied.alpha.template cast<S>(), beta_s = applied.beta.template cast<S>();
  for (const RescaledPart& p : kRescaledParts) {
    const Matrix<S>& in = rescaled_part(input, p.name);
    if (in.size() == 0) continue;
    out.checks.push_back(rescale_check<R>(std::string(p.title) + " (eps)", p.name, in, rescaled_part(output, p.name),
                                          p.by_alpha ? alpha_s : beta_s, p.power, eps_s,
                                          p.power == 2 ? budget::rescaled_second_moment() : budget::rescaled_entry()));
  }

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
                          wi >= 0 ? "worst at (" + std::to_string(wi) + "," + std::to_string(wj) + ")" : "",
                          "W_unchanged"});
  }
  return out;
}

}  // namespace scalora::reference
