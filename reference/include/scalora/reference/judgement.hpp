// SPDX-License-Identifier: Apache-2.0
// The optimality verdict of an applied scaling: a comparison of exact bound
// values (docs/numerics.md, "The optimality verdict"; docs/validating.md).
//
// The applied squared scalings u_a = [alpha o alpha; beta o beta] (exact
// doubles, as stored or recovered) have the exactly computable decrease
// delta(u_a) = lambda^T u_a - (kappa/2) u_a^T M u_a (optimum.hpp). The method's rule
// prescribes an optimum: Theorem 5's column optimum when v >= 0 solves
// M v = lambda (exact decision), otherwise Theorem 3's scalar optimum ("paper"
// rule); or the best non-negative column scaling ("bound" rule). The step
// passes when delta(u_a) >= delta* - B, with B a derived bound on what a
// correct implementation computing in the stated precision can lose:
//
//   Phi(u)   = E_lambda^T |u| + (kappa/2) (|u|^T E_M |u| + gamma_3 |u|^T |M| |u|): the
//              largest change of delta at u when M, lambda, kappa carry the
//              implementation's rounding (E_M, E_lambda below);
//   B        = 6 Phi(u_bar) + G_res(u_bar) + R(u_a),  u_bar = max(|u_a|, |u*|):
//              4 Phi from the perturbation lemma applied to forming M and to the
//              solve, 2 Phi for a guard comparing two computed decreases
//              (core/hybrid_rule.hpp), G_res the solve's non-symmetric backward
//              error through M's smallest eigenvalue on its range, R the
//              rounding of the stored scalings and any clamp of v_i < 0 to 0;
//   E_M,ij   = eta_M sqrt(M_ii M_jj) + E_q,ij,  eta_M = gamma_m + gamma_n + gamma_m gamma_n + 17 u
//              (two dot products, one product, the collinearity decision at
//              16 u), plus the rank tolerance (n2 (m + n + 2) + 2 n2^2) eps where
//              M's smallest eigenvalue on its range is below twice it (a solver
//              may drop such pivots); E_q the disagreement of the algebraically
//              equivalent forms of M's off-diagonal block (A^T grad_A vs
//              grad_B^T B: rounded gradients are not of one G);
//   E_lambda = gamma_len lambda.
//
// gamma_k is evaluated twice: worst case k u / (1 - k u) (Higham 3.1) and the
// probabilistic lambda sqrt(k) u of Higham and Mary (SIAM J. Sci. Comput. 41,
// 2019, Thm 3.1; lambda = 12, probability of exceeding it below 1e-28 per inner product).
// A step within the probabilistic budget passes; one beyond the worst-case
// budget fails; between the two the verdict is inconclusive. A budget above
// 1/4 of the optimum's decrease cannot tell a correct step from one whose
// scalings are off by a factor 2 (which loses exactly 1/4 when halved): such
// a pass is inconclusive instead (the sanity ceiling).
//
// When the exact decision is within the implementation's resolution of its
// boundary (the enclosure of the solutions of every system within E_M, E_lambda
// of M, lambda straddles v_i = 0, or M is singular there), the other branch's
// optimum is an acceptable target too. Columns of M below the resolution (M's
// smallest eigenvalue on its range below 2 ||E||_2) make Theorem 5's optimum
// unjudgeable at that precision: the step is then held to Theorem 3's.
#pragma once

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "scalora/core/branch.hpp"
#include "scalora/reference/optimum.hpp"
#include "scalora/reference/verdict.hpp"

namespace scalora::reference {

/// The precision the implementation under test computed in.
struct ImplementationModel {
  double eps_compute = 0x1p-52;  ///< epsilon of the type M, lambda and u were computed in
  /// Relative uncertainty of each stored alpha_j, beta_j (half an ulp of the
  /// type they were stored or recovered in; 0 when exact).
  double scaling_uncertainty = 0;
};

/// The two levels of a budget (units of delta).
struct Budget {
  double probabilistic = 0;  ///< rounding errors as independent random variables (Higham-Mary)
  double worst_case = 0;     ///< every rounding at its bound
};

/// One optimum the applied scaling may be held to.
struct Target {
  std::string name;           ///< "Theorem 5 column optimum", "Theorem 3 scalar optimum", ...
  Ball value;                 ///< delta*
  Budget budget;              ///< +inf when unjudgeable at this precision
  bool judgeable = true;
  std::string why_not;        ///< when not judgeable
  bool two_sided = false;     ///< the applied decrease must not exceed value + budget either
  bool within_probabilistic = false, within_worst_case = false;  ///< |or >=| of the budget
  bool above = false;         ///< beyond value + worst-case budget (two-sided only)
  decided_by by = decided_by::certified;                          ///< path of those two comparisons
  /// The sanity ceiling: a budget above 1/4 of the optimum's decrease decides
  /// nothing (file comment). An optimum of exactly 0 (zero gradient: M = 0,
  /// lambda = 0, every scaling decreases the bound by exactly 0) is judged exactly.
  bool meaningful() const {
    const bool exactly_zero = value.lower() == 0 && value.upper() == 0;
    return judgeable && (exactly_zero || budget.probabilistic <= 0.25 * std::abs(value.mid()));
  }
};

/// The verdict on the applied scaling.
struct ScalingJudgement {
  verdict_status status = verdict_status::pass;
  std::string reason;  ///< one sentence: which comparison decided, with numbers
  scaling_rule rule = scaling_rule::paper;
  Ball applied;        ///< delta(u_a)
  std::vector<Target> targets;
  bool flip_possible = false;  ///< the exact decision is within the implementation's resolution of its boundary
  bool above_paper = false;    ///< paper rule: more decrease than the rule allows (beyond the budget)
  /// Index in targets of the optimum that decided (the one passed within, else
  /// the first judgeable one); -1 when none is judgeable.
  int decisive = -1;
  /// (lr / lora_scale^2): delta times this is the decrease of the loss bound.
  double loss_scale = 1;
  /// Which path decided each comparison: (what, path).
  std::vector<std::pair<std::string, decided_by>> decisions;
};

namespace detail {

inline double gamma_worst(double k, double u) {
  const double ku = k * u;
  return ku < 0.5 ? ku / (1 - ku) : std::numeric_limits<double>::infinity();
}
/// Probabilistic gamma: exp(lambda sqrt(k) u + k u^2 / (1 - u)) - 1, lambda = 12
/// (Higham-Mary), or the worst case where that is smaller (short sums).
inline double gamma_probabilistic(double k, double u) {
  return std::min(gamma_worst(k, u), std::expm1(12.0 * std::sqrt(k) * u + k * u * u / (1 - u)));
}

/// The rounding model of one budget level in the scaled coordinates of
/// certified.hpp (w = E u).
struct RoundingModel {
  double eta_M = 0;            ///< relative to sqrt(Mh_ii Mh_jj)
  double gamma_lambda_A = 0;   ///< lambda_i, i < r: ||grad_B_i||^2, length n
  double gamma_lambda_B = 0;   ///< lambda_i, i >= r: ||grad_A_i||^2, length m
  double gamma_kappa = 0;      ///< kappa = L lr lora_scale^2: three products
  double gamma_solve = 0;      ///< Cholesky and two triangular solves of size 2r (Higham Thm 10.4)
  /// Rank decisions: a solver that drops pivots of the equilibrated M below
  /// the a-priori error of forming it, (n2 (m + n + 2) + 2 n2^2) eps (the
  /// library's ColumnTolerances::rank), perturbs M by at most that relative to
  /// sqrt(M_ii M_jj) (the dropped Schur complement is PSD with diagonal below
  /// it). Possible only when M's smallest eigenvalue is below it.
  double rank_tolerance = 0;
};

inline RoundingModel rounding_model(double eps, Index m, Index n, Index r, bool probabilistic) {
  const double u = eps / 2;
  auto g = [&](double k) { return probabilistic ? gamma_probabilistic(k, u) : gamma_worst(k, u); };
  RoundingModel rm;
  const double gm = g(double(m)), gn = g(double(n));
  rm.eta_M = gm + gn + gm * gn + 17 * u;
  rm.gamma_lambda_A = g(double(n));
  rm.gamma_lambda_B = g(double(m));
  rm.gamma_kappa = gamma_worst(3, u);
  rm.gamma_solve = gamma_worst(double(3 * 2 * r + 1), u);
  const double n2 = double(2 * r);
  rm.rank_tolerance = (n2 * double(m + n + 2) + 2 * n2 * n2) * eps;
  return rm;
}

/// Everything a budget needs, in the scaled coordinates (double, upper bounds).
struct BudgetInputs {
  Index n2 = 0;
  std::vector<Index> active;
  Vector<double> lh;      ///< |lh| upper
  Vector<double> sqrtd;   ///< sqrt(Mh_ii)
  Matrix<double> absMh;   ///< |Mh| upper
  Matrix<double> Eq;      ///< E_q in Mh coordinates
  Vector<double> inconsistency;  ///< |lambda - M v| (stored gradients not of one G, singular M), scaled
  double kappa = 1;       ///< upper bound of kappa
  double mu_range = 0;    ///< lower bound on the smallest eigenvalue of the equilibrated M on its range
};

template <class Problem>
BudgetInputs budget_inputs(Problem& P) {
  const certified::CertifiedSystem& cs = P.certified_system();
  BudgetInputs bi;
  const Index r = P.r(), n2 = 2 * r;
  bi.n2 = n2;
  for (Index i = 0; i < n2; ++i)
    if (cs.active[std::size_t(i)]) bi.active.push_back(i);
  bi.lh = cs.lh.mid.cwiseAbs() + cs.lh.rad;
  bi.sqrtd.resize(n2);
  for (Index i = 0; i < n2; ++i) bi.sqrtd(i) = std::sqrt(std::max(0.0, cs.Mh.mid(i, i) + cs.Mh.rad(i, i)));
  bi.absMh = cs.Mh.mid.cwiseAbs() + cs.Mh.rad;
  bi.kappa = P.kappa().upper();
  // E_q: the off-diagonal block entries M_{i, r+j} = K_ij K'_ij, K = A^T grad_A,
  // K' = grad_B^T B; the equivalent forms K_ij^2 and K'_ij^2 differ by
  // max(|K_ij|, |K'_ij|) |K_ij - K'_ij|.
  const Matrix<double> K = P.A().transpose() * P.grad_A();
  const Matrix<double> Kp = P.grad_B().transpose() * P.B();
  bi.Eq = Matrix<double>::Zero(n2, n2);
  for (Index i = 0; i < r; ++i)
    for (Index j = 0; j < r; ++j) {
      const double e = std::max(std::abs(K(i, j)), std::abs(Kp(i, j))) * std::abs(K(i, j) - Kp(i, j)) * 1.01;
      const long s = -(cs.f[std::size_t(i)] + cs.f[std::size_t(r + j)]);
      const double v = std::isfinite(e) ? std::ldexp(e, int(std::max(-4000L, std::min(4000L, s))))
                                        : std::numeric_limits<double>::infinity();
      bi.Eq(i, r + j) = bi.Eq(r + j, i) = v;
    }
  return bi;
}

/// Phi(u) of the file comment for one rounding model, w = E u given as doubles
/// (with the measured inconsistency of the stored gradients, |lambda - M v|, on
/// singular M: the optimum is that of the consistent part); the rank
/// decisions' perturbation joins eta_M where a genuine pivot may fall below the
/// rank tolerance: M's smallest eigenvalue on its range below twice it (an
/// exact null space, e.g. duplicated columns, leaves only rounding-level
/// pivots to drop, which eta_M covers).
inline double phi(const BudgetInputs& bi, const RoundingModel& rm, const Vector<double>& w_abs, Index r) {
  const double eta = rm.eta_M + (bi.mu_range <= 2 * rm.rank_tolerance ? rm.rank_tolerance : 0.0);
  double lin = 0, s1 = 0;
  for (Index i = 0; i < bi.n2; ++i) lin += (i < r ? rm.gamma_lambda_A : rm.gamma_lambda_B) * bi.lh(i) * w_abs(i);
  if (bi.inconsistency.size() == bi.n2) lin += 2 * bi.inconsistency.dot(w_abs);
  for (Index i : bi.active) s1 += w_abs(i) * bi.sqrtd(i);
  const double q_eq = w_abs.dot(bi.Eq * w_abs);
  const double q_abs = w_abs.dot(bi.absMh * w_abs);
  return certified::inflate(lin + 0.5 * bi.kappa * (eta * s1 * s1 + q_eq + rm.gamma_kappa * q_abs), 8 * double(bi.n2));
}

/// The solve's non-symmetric backward error: (kappa/2) ||rho||^2 / mu with
/// |rho_i| <= gamma_solve ||w^||_1 (equilibrated w^ = sqrt(Mh_ii) w).
inline double solve_residual(const BudgetInputs& bi, const RoundingModel& rm, const Vector<double>& w_abs) {
  double s1 = 0;
  for (Index i : bi.active) s1 += w_abs(i) * bi.sqrtd(i);
  if (!(bi.mu_range > 0)) return std::numeric_limits<double>::infinity();
  const double rho2 = double(bi.active.size()) * rm.gamma_solve * rm.gamma_solve * s1 * s1;
  return certified::inflate(0.5 * bi.kappa * rho2 / bi.mu_range, 8);
}

/// R: rounding of the stored scalings (relative du) and clamps (absolute, per
/// coordinate) at u_a: |grad delta(u_a)|^T |e| + (kappa/2) |e|^T |M| |e|, w coordinates.
template <class Problem>
double storage_term(Problem& P, const BudgetInputs& bi, const Vector<double>& w_a, const Vector<double>& e_w) {
  const certified::CertifiedSystem& cs = P.certified_system();
  const Vector<double> grad = cs.lh.mid - P.kappa().mid() * (cs.Mh.mid * w_a);
  const Vector<double> grad_abs = grad.cwiseAbs() + cs.lh.rad + bi.kappa * (cs.Mh.rad * w_a.cwiseAbs()) +
                                  certified::gamma(double(bi.n2 + 4)) * (bi.lh + bi.kappa * (bi.absMh * w_a.cwiseAbs()));
  return certified::inflate(grad_abs.dot(e_w) + 0.5 * bi.kappa * e_w.dot(bi.absMh * e_w), 8 * double(bi.n2));
}

inline Vector<double> scaled(const Vector<double>& u, const std::vector<long>& f) {
  Vector<double> w(u.size());
  for (Index i = 0; i < u.size(); ++i) w(i) = std::ldexp(u(i), int(std::max(-4000L, std::min(4000L, f[std::size_t(i)]))));
  return w;
}

}  // namespace detail

/// Judges an applied scaling (squared scalings u_a, 2r entries) of the layer
/// of `P` against the rule's optimum (file comment). mode = scalar_only holds
/// it to Theorem 3 alone.
inline ScalingJudgement judge_scaling(ScalingProblem& P, const Vector<double>& u_a, const ImplementationModel& impl,
                                      scaling_rule rule = scaling_rule::paper,
                                      scaling_mode mode = scaling_mode::hybrid) {
  using detail::RoundingModel;
  ScalingJudgement J;
  J.rule = rule;
  const Index r = P.r(), n2 = 2 * r;
  const BoundParameters<double>& bp = P.bound();
  J.loss_scale = bp.lr / (bp.lora_scale * bp.lora_scale);
  J.applied = P.decrease(u_a);
  const certified::CertifiedSystem& cs = P.certified_system();
  const RoundingModel rm_p = detail::rounding_model(impl.eps_compute, P.m(), P.n(), r, true);
  const RoundingModel rm_w = detail::rounding_model(impl.eps_compute, P.m(), P.n(), r, false);
  detail::BudgetInputs bi = detail::budget_inputs(P);

  // M's smallest eigenvalue on its range (equilibrated), for G_res and resolvability.
  const ColumnFacts& col = P.column();
  if (col.inconsistency.size() == n2) {
    bi.inconsistency.resize(n2);
    for (Index i = 0; i < n2; ++i)
      bi.inconsistency(i) = certified::inflate(
          std::ldexp(col.inconsistency(i), int(std::max(-4000L, std::min(4000L, -cs.f[std::size_t(i)])))), 2);
  }
  if (mode == scaling_mode::hybrid && rule == scaling_rule::paper && col.by == decided_by::undecided) {
    J.status = verdict_status::inconclusive;
    J.reason = "Theorem 5's condition (v >= 0) could not be decided by its enclosure and the exact path is disabled";
    J.decisions.emplace_back("Theorem 5 condition (v >= 0)", col.by);
    return J;
  }
  {
    const std::vector<Index>& act = bi.active;
    const certified::EnclosedMatrix Ma = certified::restrict(cs.Mh, act);
    const Index k = Index(act.size());
    const Index null_dim = std::max<Index>(0, k - col.rank);
    if (k > 0) {
      Vector<double> d(k);
      for (Index i = 0; i < k; ++i) d(i) = Ma.mid(i, i) > 0 ? 1 / std::sqrt(Ma.mid(i, i)) : 1.0;
      const Matrix<double> S = d.asDiagonal() * Ma.mid * d.asDiagonal();
      const Eigen::SelfAdjointEigenSolver<Matrix<double>> es(Matrix<double>(0.5 * (S + S.transpose())),
                                                             Eigen::EigenvaluesOnly);
      const double err = certified::inflate((d.asDiagonal() * Ma.rad * d.asDiagonal()).norm() +
                                                16 * double(k) * certified::kUnit * S.norm(),
                                            double(k * k));
      bi.mu_range = null_dim < k ? es.eigenvalues()(null_dim) - err : 0.0;
    } else {
      bi.mu_range = std::numeric_limits<double>::infinity();  // no active coordinate: nothing to resolve
    }
  }
  // The implementation's own perturbation of the equilibrated M, 2-norm (Frobenius bound).
  auto perturbation_norm = [&](const RoundingModel& rm) {
    const double k = double(bi.active.size());
    double eq = 0;
    for (Index i : bi.active)
      for (Index j : bi.active) {
        const double denom = bi.sqrtd(i) * bi.sqrtd(j);
        if (denom > 0) eq += std::pow(bi.Eq(i, j) / denom, 2);
      }
    return certified::inflate(k * (rm.eta_M + rm.gamma_solve) + std::sqrt(eq), 4 * k);
  };

  // Clamp allowance and branch flips: the solutions of every system within the
  // implementation's perturbation of M, lambda (worst-case model).
  std::optional<certified::EnclosedVector> perturbed;
  if (cs.ok && col.rank == Index(bi.active.size())) {
    certified::EnclosedMatrix Mp{cs.Mh.mid, cs.Mh.rad};
    certified::EnclosedVector lp{cs.lh.mid, cs.lh.rad};
    for (Index i = 0; i < n2; ++i) {
      lp.rad(i) += (i < r ? rm_w.gamma_lambda_A : rm_w.gamma_lambda_B) * bi.lh(i);
      for (Index j = 0; j < n2; ++j)
        Mp.rad(i, j) += (rm_w.eta_M + rm_w.gamma_solve) * bi.sqrtd(i) * bi.sqrtd(j) + bi.Eq(i, j);
    }
    Mp.rad = certified::inflate(Mp.rad, 4);
    lp.rad = certified::inflate(lp.rad, 4);
    perturbed = certified::verified_solve(certified::restrict(Mp, bi.active), certified::restrict(lp, bi.active));
  }
  Vector<double> clamp_w = Vector<double>::Zero(n2);  // |u_c - u_a| allowance where u_a,i = 0, w coordinates
  if (perturbed) {
    bool some_straddles = false, some_certainly_negative = false;
    for (std::size_t k = 0; k < bi.active.size(); ++k) {
      const double lo = perturbed->lower(Index(k)), hi = perturbed->upper(Index(k));
      some_straddles = some_straddles || (lo <= 0 && hi >= 0);
      some_certainly_negative = some_certainly_negative || hi < 0;
      const Index i = bi.active[k];
      if (u_a(i) == 0 && lo < 0) clamp_w(i) = certified::inflate(-lo / P.kappa().lower(), 4);
    }
    J.flip_possible = col.feasible ? some_straddles : !some_certainly_negative;
  } else {
    J.flip_possible = true;  // singular or unresolvable at the implementation's precision
  }
  if (mode == scaling_mode::scalar_only) J.flip_possible = false;

  // R: the stored scalings' rounding for every target; a column target also
  // allows the clamps of v_i < 0 to 0 that the perturbed solutions permit.
  const Vector<double> w_a = detail::scaled(u_a, cs.f);
  const double du = (1 + impl.scaling_uncertainty) * (1 + impl.scaling_uncertainty) - 1 + 2 * impl.eps_compute;
  const Vector<double> e_w = certified::inflate(Vector<double>(du * w_a.cwiseAbs()), 4);
  const double R_scalar = detail::storage_term(P, bi, w_a, e_w);
  const double R_column =
      clamp_w.isZero(0) ? R_scalar : detail::storage_term(P, bi, w_a, certified::inflate(Vector<double>(e_w + clamp_w), 2));
  const bool unresolvable = !(bi.mu_range > 2 * perturbation_norm(rm_w));

  auto make_target = [&](const std::string& name, const BoundOptimum& opt, bool column_kind, double forward) {
    Target t;
    t.name = name;
    t.value = opt.value;
    if (opt.by == decided_by::undecided) {
      t.judgeable = false;
      t.why_not = "its value could not be certified (exact path disabled)";
    }
    if (column_kind && unresolvable) {
      t.judgeable = false;
      t.why_not = "M has directions below the resolution of the compute precision (smallest eigenvalue on its range " +
                  std::to_string(bi.mu_range) + ")";
    }
    const Vector<double> ubar = u_a.cwiseAbs().cwiseMax(opt.u.cwiseAbs());
    const Vector<double> wbar = detail::scaled(ubar, cs.f).cwiseAbs();
    for (int level = 0; level < 2; ++level) {
      const RoundingModel& rm = level == 0 ? rm_p : rm_w;
      double b = 6 * detail::phi(bi, rm, wbar, r) + (column_kind ? R_column : R_scalar) + forward;
      if (column_kind) b += detail::solve_residual(bi, rm, wbar);
      if (!std::isfinite(b)) b = std::numeric_limits<double>::infinity();
      (level == 0 ? t.budget.probabilistic : t.budget.worst_case) = certified::inflate(b, 4);
    }
    if (!t.judgeable) t.budget = {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
    return t;
  };

  // Theorem 3's forward error (Cramer's rule on the 2 x 2 system, evaluated in
  // the compute precision): |da| <= gamma_4 c (|C_A| (1 + k_C) + s x + q y) / C, likewise b,
  // with k_C = (p s + q^2) / C; then |grad|^T |e| + (kappa/2) |e|^T |M| |e| (u coordinates).
  auto scalar_forward = [&](const ScalarFacts& sf) {
    if (sf.kind != scalar_case::interior && sf.kind != scalar_case::beta_zero && sf.kind != scalar_case::alpha_zero)
      return 0.0;
    Ball p(0.0), q(0.0), ss(0.0), x(0.0), y(0.0);
    for (Index i = 0; i < r; ++i) {
      x += Ball(cs.lh.mid(i), cs.lh.rad(i)).times_pow2(cs.f[std::size_t(i)]);
      y += Ball(cs.lh.mid(r + i), cs.lh.rad(r + i)).times_pow2(cs.f[std::size_t(r + i)]);
      for (Index j = 0; j < r; ++j) {
        auto e = [&](Index a, Index b) {
          return Ball(cs.Mh.mid(a, b), cs.Mh.rad(a, b)).times_pow2(cs.f[std::size_t(a)] + cs.f[std::size_t(b)]);
        };
        p += e(i, j);
        q += e(i, r + j);
        ss += e(r + i, r + j);
      }
    }
    const double g4 = detail::gamma_worst(4, impl.eps_compute / 2);
    const Ball c = Ball(1.0) / P.kappa();
    Ball ea(0.0), eb(0.0);
    if (sf.kind == scalar_case::interior) {
      const Ball C = p * ss - q * q;
      const Ball kC = (p * ss + q * q) / C;
      const Ball CA = ss * x - q * y, CB = p * y - q * x;
      auto absb = [](const Ball& b) { return Ball(std::max(std::abs(b.lower()), std::abs(b.upper()))); };
      ea = Ball(g4) * c * (absb(CA) * (Ball(1.0) + kC) + ss * x + q * y) / C;
      eb = Ball(g4) * c * (absb(CB) * (Ball(1.0) + kC) + p * y + q * x) / C;
    } else if (sf.kind == scalar_case::beta_zero) {
      ea = Ball(detail::gamma_worst(3, impl.eps_compute / 2) * std::abs(sf.a));
    } else {
      eb = Ball(detail::gamma_worst(3, impl.eps_compute / 2) * std::abs(sf.b));
    }
    Vector<double> e(n2);
    e.head(r).setConstant(ea.upper());
    e.tail(r).setConstant(eb.upper());
    if (!e.allFinite()) return std::numeric_limits<double>::infinity();
    return detail::storage_term(P, bi, detail::scaled(sf.optimum.u, cs.f), detail::scaled(e, cs.f).cwiseAbs());
  };

  // The targets the rule allows. Theorem 3's optimum is two-sided (the applied
  // decrease must not exceed it either) when the paper's rule prescribes it and
  // the decision cannot flip, or when Theorem 5's optimum is an alternative the
  // precision can tell apart from it; otherwise it is a floor only.
  if (rule == scaling_rule::bound && mode == scaling_mode::hybrid) {
    J.targets.push_back(make_target("best column scaling with u >= 0", P.nonnegative_optimum(), true, 0));
    J.decisions.emplace_back("best non-negative column scaling", P.nonnegative_optimum().by);
  } else {
    const ScalarFacts& sf = P.scalar();
    J.decisions.emplace_back("Theorem 3 case and value", sf.by);
    if (mode == scaling_mode::hybrid) J.decisions.emplace_back("Theorem 5 condition (v >= 0)", col.by);
    const bool column_prescribed = mode == scaling_mode::hybrid && col.feasible;
    if (column_prescribed)
      J.targets.push_back(make_target("Theorem 5 column optimum", col.optimum, true, 0));
    else if (mode == scaling_mode::hybrid && J.flip_possible)
      J.targets.push_back(make_target("unconstrained column optimum (the decision is within the resolution of its boundary)",
                                      col.optimum, true, 0));
    const bool column_alternative = !J.targets.empty() && J.targets.front().judgeable;
    if (!column_prescribed || J.flip_possible) {
      Target t = make_target("Theorem 3 scalar optimum", sf.optimum, false, scalar_forward(sf));
      t.two_sided = column_alternative || (mode == scaling_mode::hybrid && !col.feasible && !J.flip_possible);
      J.targets.push_back(t);
    }
  }

  // delta(u_a) against value -/+ budget: certified, else exact.
  std::optional<exact_rational> applied_exact;
  std::map<std::string, exact_rational> target_exact;
  auto exact_target = [&](const Target& t) -> std::optional<exact_rational> {
    if (const auto it = target_exact.find(t.name); it != target_exact.end()) return it->second;
    std::optional<exact_rational> v;
    if (t.name.rfind("Theorem 3", 0) == 0) {
      const ExactScalarDecision d = exact_scalar_decision(P.exact_system(), P.exact_kappa());
      RationalVector u(static_cast<std::size_t>(n2));
      for (Index i = 0; i < r; ++i) {
        u[std::size_t(i)] = d.a;
        u[std::size_t(r + i)] = d.b;
      }
      v = exact_decrease(P.exact_system(), u, P.exact_kappa());
    } else if (t.name.rfind("best column", 0) == 0) {
      if (const auto e = exact_nonnegative_optimum(P.exact_system(), P.exact_kappa())) v = e->value;
    } else {
      const ExactColumnDecision d = exact_column_decision(P.exact_system(), P.exact_kappa());
      v = exact_column_optimum(P.exact_system(), d, P.exact_kappa());
    }
    if (v) target_exact[t.name] = *v;
    return v;
  };
  // sign * (delta(u_a) - value) + budget >= 0 ?  (sign = +1: not below; -1: not above)
  auto within = [&](const Target& t, double budget, int sign, decided_by* by) -> std::optional<bool> {
    if (!std::isfinite(budget)) return true;
    const Ball diff = (sign > 0 ? J.applied - t.value : t.value - J.applied) + Ball(budget);
    if (diff.certainly_nonnegative() || diff.certainly_negative()) {
      *by = std::max(*by, decided_by::certified);
      return diff.certainly_nonnegative();
    }
    if (!P.allow_exact()) {
      *by = decided_by::undecided;
      return std::nullopt;
    }
    if (*by != decided_by::undecided) *by = decided_by::exact;
    if (!applied_exact) applied_exact = P.exact_decrease_of(u_a);
    const std::optional<exact_rational> v = exact_target(t);
    if (!v) return sign < 0;  // unbounded optimum: nothing is above it, everything is below
    const exact_rational d = sign > 0 ? exact_rational(*applied_exact - *v) : exact_rational(*v - *applied_exact);
    return d + to_rational(budget) >= 0;
  };

  bool undecided = false;
  for (Target& t : J.targets) {
    if (!t.judgeable) continue;
    decided_by by = decided_by::certified;
    bool ok_p = true, ok_w = true;
    for (int sign : {+1, -1}) {
      if (sign < 0 && !t.two_sided) continue;
      const auto p = within(t, t.budget.probabilistic, sign, &by);
      const auto w = within(t, t.budget.worst_case, sign, &by);
      if (!p || !w) undecided = true;
      ok_p = ok_p && p.value_or(false);
      ok_w = ok_w && w.value_or(true);
      if (sign < 0 && w && !*w) t.above = true;
    }
    t.within_probabilistic = ok_p;
    t.within_worst_case = ok_w;
    t.by = by;
    J.decisions.emplace_back(std::string("applied decrease ") + (t.two_sided ? "within +-" : ">= ") + t.name +
                                 (t.two_sided ? " budget" : " - budget"),
                             t.by);
  }

  auto fmt = [](double x) {
    char b[40];
    std::snprintf(b, sizeof b, "%.6g", x);
    return std::string(b);
  };
  const double applied_loss = J.applied.mid() * J.loss_scale;
  for (std::size_t k = 0; k < J.targets.size(); ++k)
    if (J.targets[k].judgeable) {
      J.decisive = int(k);
      break;
    }
  for (std::size_t k = 0; k < J.targets.size(); ++k)
    if (const Target& t = J.targets[k]; t.judgeable && t.within_probabilistic && t.meaningful()) {
      J.decisive = int(k);
      J.status = verdict_status::pass;
      J.reason = "applied decrease " + fmt(applied_loss) + " is within " + fmt(t.budget.probabilistic * J.loss_scale) +
                 " of the " + t.name + "'s " + fmt(t.value.mid() * J.loss_scale);
      return J;
    }
  const Target* decisive = nullptr;
  bool any_judgeable = false, any_within_worst = false;
  for (const Target& t : J.targets) {
    if (!t.judgeable) continue;
    if (!decisive) decisive = &t;
    any_judgeable = true;
    any_within_worst = any_within_worst || t.within_worst_case;
  }
  if (any_judgeable && !any_within_worst && !undecided) {
    J.status = verdict_status::fail;
    const Target& t = *decisive;
    J.above_paper = rule == scaling_rule::paper && !col.feasible && J.targets.size() == 1 && t.above;
    if (J.above_paper)
      J.reason = "applied decrease " + fmt(applied_loss) + " exceeds Theorem 3's " + fmt(t.value.mid() * J.loss_scale) +
                 " by more than the budget " + fmt(t.budget.worst_case * J.loss_scale) +
                 " where the exact decision (no v >= 0 solves M v = lambda) falls back to it: not the paper's hybrid "
                 "rule (--rule bound judges by the bound alone)";
    else
      J.reason = "applied decrease " + fmt(applied_loss) + (t.above ? " exceeds " : " is below ") + "the " + t.name +
                 "'s " + fmt(t.value.mid() * J.loss_scale) + " by more than the worst-case budget " +
                 fmt(t.budget.worst_case * J.loss_scale);
    return J;
  }
  J.status = verdict_status::inconclusive;
  if (undecided) J.reason = "a comparison could not be decided by its enclosure and the exact path is disabled";
  else if (!any_judgeable) J.reason = "no optimum is judgeable at the compute precision";
  else {
    J.reason = "the applied decrease is within the worst-case budget of the " + decisive->name +
               " but not within a meaningful probabilistic one";
    for (const Target& t : J.targets)
      if (t.judgeable && t.within_probabilistic && !t.meaningful())
        J.reason = "the budget (" + fmt(t.budget.probabilistic * J.loss_scale) + ") exceeds 1/4 of the " + t.name +
                   "'s decrease " + fmt(t.value.mid() * J.loss_scale) + ": this precision cannot tell a correct step";
  }
  return J;
}

}  // namespace scalora::reference
