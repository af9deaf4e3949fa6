// SPDX-License-Identifier: Apache-2.0
// Theorem 5 (spec section 5): "If M v = lambda has a solution v >= 0, the
// global minimum of (*) over column scalings is [alpha; beta] = +-(L eta)^{-1/2}
// v^{1/2}, with value (||G||^2 - lambda^T v)/(2L); for any other u,
// (*)(u) - (*)* = (L eta^2/2)(u - u*)^T M (u - u*)." And the hybrid rule: when
// no v >= 0 exists, the scalar scaling (Theorem 3) is applied.
// Checked with an explicit G in cpp_bin_float_50 on layers of dyadic numbers
// (the gradients G B, G^T A are exact, so the library and the exact reference
// see the same layer): the library's decision equals the exact one; feasible:
// stationarity and sign (KKT), the value, the library's optimum equals the
// best u >= 0 of the exact reference (reference::exact_nonnegative_optimum,
// enclosed by ScalingProblem::nonnegative_optimum), random u >= 0 never lower,
// the gap identity; infeasible: the library's NNLS (core/nnls.hpp) reaches the
// exact best u >= 0, which has a zero coordinate (the unconstrained optimum is
// outside the orthant), and the hybrid rule applies the scalar scaling, whose
// decrease is Theorem 3's exact optimum. Code: core/column_solve.hpp,
// core/nnls.hpp, linalg/optimal_scaling.hpp; reference/exact.hpp, optimum.hpp.
#include "check.hpp"
#include "scalora/reference/optimum.hpp"

using namespace scalora;
using namespace scalora::proofs;

namespace {

struct Explicit {
  Mat A, B, G;
};

/// (*) for squared column scalings u (L = 1; kappa = eta).
mp50 f_u(const Explicit& l, const Vec& u, const mp50& eta) {
  const Index r = l.A.cols();
  Mat At = l.A, Bt = l.B;
  for (Index j = 0; j < r; ++j) {
    At.col(j) *= sqrt(u(j));
    Bt.col(j) *= sqrt(u(r + j));
  }
  return objective(l.G, At, Bt, mp50(1), eta);
}

/// The library's NNLS (core/nnls.hpp) on min_{u >= 0} || sum_i u_i X_i - c G ||_F.
Vec nnls_column_optimum(const Explicit& l, const mp50& eta) {
  const Index m = l.G.rows(), n = l.G.cols(), r = l.A.cols(), rows = m * n, cols = 2 * r;
  Mat E(rows, cols);
  for (Index i = 0; i < r; ++i) {
    const Mat X = l.A.col(i) * (l.A.col(i).transpose() * l.G);
    const Mat Y = (l.G * l.B.col(i)) * l.B.col(i).transpose();
    E.col(i) = Eigen::Map<const Vec>(X.data(), rows);
    E.col(r + i) = Eigen::Map<const Vec>(Y.data(), rows);
  }
  const mp50 c = 1 / eta;
  const Mat cG = c * l.G;
  Vec f = Eigen::Map<const Vec>(cG.data(), rows);
  // Scale to unit size for the dual tolerance (nnls's documented use).
  const mp50 s = f.norm() + E.norm() + mp50(1e-300);
  const Mat Es = E / s;
  const Vec fs = f / s;
  Vec u(cols), work(nnls_work_size(int(rows), int(cols)));
  std::vector<int> iwork(static_cast<std::size_t>(nnls_iwork_size(int(cols))));
  nnls(int(rows), int(cols), Es.data(), int(rows), fs.data(), u.data(), work.data(), iwork.data(),
       mp50(1e-45), 200);
  return u;
}

Matrix<double> to_double(const Mat& x) { return x.cast<double>(); }

void check_layer(Report& rep, const std::string& name, const Explicit& l, const mp50& eta, int& feasible_count,
                 int& infeasible_count) {
  rep.section(name);
  const Index r = l.A.cols();
  const Mat gA = l.G * l.B, gB = l.G.transpose() * l.A;
  const ScalingSystem<mp50> sys = scaling_system(l.A, l.B, gA, gB);
  const ScalingTolerances<mp50> tol = ScalingTolerances<mp50>::defaults(r);
  const Scaling<mp50> col = column_scaling(sys, eta, tol);
  const BoundParameters<mp50> bp{mp50(1), eta, mp50(1)};
  // The reference sees the same layer: every entry (and G B, G^T A) is an exact double.
  reference::ScalingProblem P(to_double(l.A), to_double(l.B), to_double(gA), to_double(gB),
                              BoundParameters<double>{1.0, double(eta), 1.0});
  rep.check("inputs are exact doubles (the reference judges the same layer)",
            Mat(to_double(gA).cast<mp50>()) == gA && mp50(double(eta)) == eta ? 0.0 : -1.0);
  const reference::ExactSystem& ex = P.exact_system();
  const reference::exact_rational kappa = P.exact_kappa();
  const reference::ExactColumnDecision dec = reference::exact_column_decision(ex, kappa);
  rep.check("library decision = exact decision", col.column.feasible() == dec.feasible ? 0.0 : -1.0,
            std::string("exact: ") + (dec.feasible ? "v >= 0 exists" : "no v >= 0") + ", rank " +
                std::to_string(dec.rank));
  // The best u >= 0, exactly (Lemke), and its certified enclosure.
  const std::optional<reference::ExactNonnegativeOptimum> best = reference::exact_nonnegative_optimum(ex, kappa);
  if (!best) {
    rep.check("the best u >= 0 exists (bounded)", -1.0);
    return;
  }
  const mp50 best_decrease = reference::round_to<mp50>(best->value);
  const reference::BoundOptimum& enclosed = P.nonnegative_optimum();
  rep.check("ScalingProblem::nonnegative_optimum() encloses the exact best u >= 0",
            enclosed.value.finite() && reference::to_rational(enclosed.value.lower()) <= best->value &&
                    best->value <= reference::to_rational(enclosed.value.upper())
                ? 0.0
                : -1.0,
            std::string("by the ") + reference::to_string(enclosed.by) + " path");
  const mp50 scale = l.G.squaredNorm() / 2;
  if (col.column.feasible()) {
    ++feasible_count;
    const Vec& u = col.u;
    const mp50 fstar = f_u(l, u, eta);
    rep.check("u >= 0", double(u.minCoeff()));
    const double stat = double((sys.M * u - sys.lambda / eta).norm() / (sys.lambda.norm() / eta));
    rep.check("stationary: M u = c lambda", 1e-40 - stat, "relative residual " + Report::num(stat));
    const mp50 value = (l.G.squaredNorm() - sys.lambda.dot(Vec(eta * u))) / 2;
    rep.check("(*)* = (||G||^2 - lambda^T v) / (2L)", 1e-40 - rel(abs(fstar - value), scale));
    const mp50 decrease = bound_decrease(sys, u, bp) / eta;
    const double e = reldiff(decrease, best_decrease);
    rep.check("its decrease is the exact best u >= 0 (reference)", 1e-40 - e,
              Report::num(double(decrease)) + " vs " + Report::num(double(best_decrease)) + ", relative " +
                  Report::num(e));
    mp50 worst_gap = 0, lowest = scale * 10;
    for (int t = 0; t < 100; ++t) {
      Vec up = (u.array() * (1 + 0.5 * gaussian_matrix(2 * r, 1, 700 + std::uint64_t(t)).array()).cast<mp50>()).matrix();
      up = up.cwiseMax(mp50(0));
      const mp50 fu = f_u(l, up, eta);
      lowest = std::min(lowest, fu);
      const mp50 gap = optimality_gap(sys, up, u, bp);
      worst_gap = std::max(worst_gap, mp50(abs((fu - fstar) - gap)));
    }
    rep.check("100 random u >= 0 near u* are never lower", rel(lowest - fstar, scale) + 1e-40);
    rep.check("(*)(u) - (*)* = (L eta^2/2)(u - u*)^T M (u - u*)", 1e-40 - rel(worst_gap, scale),
              "worst error " + Report::num(rel(worst_gap, scale)));
  } else {
    ++infeasible_count;
    // The library's NNLS reaches the exact best u >= 0.
    const Vec u_nnls = nnls_column_optimum(l, eta);
    const mp50 f_nnls = f_u(l, u_nnls, eta), f_best = scale - eta * best_decrease;
    const double e = rel(abs(f_nnls - f_best), scale);
    rep.check("the library's NNLS reaches the exact best u >= 0", 1e-38 - e, "difference " + Report::num(e));
    // NNLS KKT: g = E^T (c G - E u) <= 0 componentwise up to scale, = 0 where u > 0 (via the Gram form).
    const Vec g = sys.lambda / eta - sys.M * u_nnls;
    const double gs = double(g.cwiseAbs().maxCoeff() / (sys.lambda.norm() / eta));
    mp50 worst = 0;
    for (Index i = 0; i < 2 * r; ++i) worst = std::max(worst, u_nnls(i) > 0 ? mp50(abs(g(i))) : g(i));
    rep.check("the NNLS point satisfies the KKT conditions", 1e-35 - double(worst / (sys.lambda.norm() / eta)),
              "max |gradient| " + Report::num(gs));
    // No v >= 0 solves M v = lambda, so the best u >= 0 is not a stationary point: it has u_i = 0.
    const reference::exact_rational zero = 0;
    bool on_boundary = false;
    for (const reference::exact_rational& ui : best->u) on_boundary = on_boundary || ui == zero;
    rep.check("the exact best u >= 0 has a zero coordinate (no stationary point in the orthant)",
              on_boundary ? 0.0 : -1.0);
    // The hybrid rule applies Theorem 3's scaling, with Theorem 3's exact optimal decrease.
    const Scaling<mp50> applied = optimal_scaling(sys, eta, tol);
    rep.check("the hybrid rule applies the scalar scaling", applied.applied == branch::scalar ? 0.0 : -1.0,
              std::string("applied ") + to_string(applied.applied));
    const reference::ExactScalarDecision sd = reference::exact_scalar_decision(ex, kappa);
    reference::RationalVector us(static_cast<std::size_t>(2 * r));
    for (Index i = 0; i < r; ++i) {
      us[std::size_t(i)] = sd.a;
      us[std::size_t(r + i)] = sd.b;
    }
    const mp50 exact_scalar = reference::round_to<mp50>(reference::exact_decrease(ex, us, kappa));
    const mp50 applied_decrease = bound_decrease(sys, applied.u, bp) / eta;
    const double es = reldiff(applied_decrease, exact_scalar);
    rep.check("its decrease is Theorem 3's exact optimum", 1e-40 - es,
              Report::num(double(applied_decrease)) + " vs " + Report::num(double(exact_scalar)) + ", relative " +
                  Report::num(es));
    rep.note("the scalar fallback keeps " + Report::num(double(applied_decrease / best_decrease)) +
             " of the best column scaling's decrease");
  }
}

}  // namespace

int main() {
  return run("Theorem 5: when v >= 0 solves M v = lambda, its column scaling is the global minimum over column "
             "scalings; otherwise the hybrid rule applies Theorem 3's scaling",
             [](Report& rep) {
               int feasible = 0, infeasible = 0;
               const int shapes[][3] = {{8, 6, 2}, {7, 7, 3}, {5, 9, 1}, {4, 3, 3}, {10, 8, 2}};
               std::uint64_t seed = 1;
               for (const auto& sh : shapes)
                 for (int log2_b : {-4, 0}) {
                   seed += 10;
                   const Explicit l{dyadic_mat(sh[0], sh[2], seed), dyadic_mat(sh[1], sh[2], seed + 1, log2_b),
                                    dyadic_mat(sh[0], sh[1], seed + 2)};
                   check_layer(rep,
                               std::to_string(sh[0]) + " x " + std::to_string(sh[1]) + ", r = " + std::to_string(sh[2]) +
                                   ", |B| ~ 2^" + std::to_string(log2_b) + ", seed " + std::to_string(seed),
                               l, mp50(1) / 8, feasible, infeasible);
                 }
               // A known infeasible case: v = M^{-1} lambda = [1, -1, 1, 1].
               Mat A(2, 2), B(2, 2), G(2, 2);
               A << -1, 1, 0, 1;
               B << 1, 1, 0, 1;
               G << -1, 1, 0, -1;
               check_layer(rep, "hand case with v = [1, -1, 1, 1]", {A, B, G}, mp50(1), feasible, infeasible);
               rep.section("coverage");
               rep.check("both outcomes exercised (feasible " + std::to_string(feasible) + ", infeasible " +
                             std::to_string(infeasible) + ")",
                         feasible > 0 && infeasible > 0 ? 0.0 : -1.0);
             });
}
