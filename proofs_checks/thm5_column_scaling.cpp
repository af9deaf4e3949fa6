// SPDX-License-Identifier: Apache-2.0
// Theorem 5 (spec section 5): "If M v = lambda has a solution v >= 0, the
// global minimum of (*) over column scalings is [alpha; beta] = +-(L eta)^{-1/2}
// v^{1/2}, with value (||G||^2 - lambda^T v)/(2L); for any other u,
// (*)(u) - (*)* = (L eta^2/2)(u - u*)^T M (u - u*)." And the hybrid rule: when
// no v >= 0 exists, the scalar fallback is never better than the best column
// scaling (the NNLS optimum).
// Checked with an explicit G in cpp_bin_float_50: stationarity and sign (KKT),
// the value, agreement with an NNLS solve of min_{u >= 0} ||sum u_i X_i - c G||,
// random non-negative u never lower, the gap identity; the exact decision of
// the reference agrees with the library's. Code: core/column_solve.hpp,
// linalg/optimal_scaling.hpp, reference/exact.hpp.
#include "check.hpp"

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

/// NNLS optimum of min_{u >= 0} || sum_i u_i X_i - c G ||_F (the best column scaling).
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

void check_layer(Report& rep, const std::string& name, const Explicit& l, const mp50& eta, int& feasible_count,
                 int& infeasible_count) {
  rep.section(name);
  const Index r = l.A.cols();
  const Mat gA = l.G * l.B, gB = l.G.transpose() * l.A;
  const ScalingSystem<mp50> sys = scaling_system(l.A, l.B, gA, gB);
  const ScalingTolerances<mp50> tol = ScalingTolerances<mp50>::defaults(r);
  const Scaling<mp50> col = column_scaling(sys, eta, tol);
  BoundParameters<mp50> bp{mp50(1), eta, mp50(1)};
  const reference::ExactSystem ex = reference::exact_scaling_system(l.A, l.B, gA, gB);
  const reference::ExactColumnDecision dec = reference::exact_column_decision(ex, reference::to_rational(eta));
  rep.check("library decision = exact decision", col.column.feasible() == dec.feasible ? 0.0 : -1.0,
            std::string("exact: ") + (dec.feasible ? "v >= 0 exists" : "no v >= 0") + ", rank " +
                std::to_string(dec.rank));
  const mp50 scale = l.G.squaredNorm() / 2;
  const Vec u_nnls = nnls_column_optimum(l, eta);
  const mp50 f_nnls = f_u(l, u_nnls, eta);
  if (col.column.feasible()) {
    ++feasible_count;
    const Vec& u = col.u;
    const mp50 fstar = f_u(l, u, eta);
    rep.check("u >= 0", double(u.minCoeff()));
    const double stat = double((sys.M * u - sys.lambda / eta).norm() / (sys.lambda.norm() / eta));
    rep.check("stationary: M u = c lambda", 1e-40 - stat, "relative residual " + Report::num(stat));
    const mp50 value = (l.G.squaredNorm() - sys.lambda.dot(Vec(eta * u))) / 2;
    rep.check("(*)* = (||G||^2 - lambda^T v) / (2L)", 1e-40 - rel(abs(fstar - value), scale));
    rep.check("equals the NNLS optimum over u >= 0", 1e-40 - rel(abs(fstar - f_nnls), scale),
              "difference " + Report::num(rel(fstar - f_nnls, scale)));
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
    const Scaling<mp50> sc = scalar_scaling(sys, eta, tol);
    const mp50 f_scalar = f_u(l, sc.u, eta);
    rep.check("scalar fallback is never better than the NNLS column optimum", rel(f_scalar - f_nnls, scale) + 1e-40,
              "(*)scalar - (*)nnls = " + Report::num(rel(f_scalar - f_nnls, scale)));
    // NNLS KKT: g = E^T (c G - E u) <= 0 componentwise up to scale, = 0 where u > 0 (via the Gram form).
    const Vec g = sys.lambda / eta - sys.M * u_nnls;
    const double gs = double(g.cwiseAbs().maxCoeff() / (sys.lambda.norm() / eta));
    mp50 worst = 0;
    for (Index i = 0; i < 2 * r; ++i) worst = std::max(worst, u_nnls(i) > 0 ? mp50(abs(g(i))) : g(i));
    rep.check("the NNLS point satisfies the KKT conditions", 1e-35 - double(worst / (sys.lambda.norm() / eta)),
              "max |gradient| " + Report::num(gs));
  }
}

}  // namespace

int main() {
  return run("Theorem 5: when v >= 0 solves M v = lambda, its column scaling is the global minimum over column "
             "scalings; otherwise the scalar fallback is never better than the best column scaling",
             [](Report& rep) {
               int feasible = 0, infeasible = 0;
               const int shapes[][3] = {{8, 6, 2}, {7, 7, 3}, {5, 9, 1}, {4, 3, 3}, {10, 8, 2}};
               std::uint64_t seed = 1;
               for (const auto& sh : shapes)
                 for (double b_scale : {0.05, 1.0}) {
                   seed += 10;
                   const Explicit l{random_mat(sh[0], sh[2], seed), random_mat(sh[1], sh[2], seed + 1, b_scale),
                                 random_mat(sh[0], sh[1], seed + 2)};
                   check_layer(rep,
                               std::to_string(sh[0]) + " x " + std::to_string(sh[1]) + ", r = " + std::to_string(sh[2]) +
                                   ", |B| ~ " + Report::num(b_scale) + ", seed " + std::to_string(seed),
                               l, mp50(0.1), feasible, infeasible);
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
