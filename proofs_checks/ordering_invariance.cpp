// SPDX-License-Identifier: Apache-2.0
// Ordering and invariances (spec sections 5 and 9): the first-order bounds are
// ordered SVD (Thm 1) <= column <= scalar (Thm 3) <= vanilla LoRA
// (alpha = beta = 1), where "column" is Theorem 5's optimum when v >= 0
// solves M v = lambda and otherwise the best column scaling with u >= 0 (the
// exact reference's, reference::exact_nonnegative_optimum: the optimum the
// hybrid rule gives up for Theorem 3's); the hybrid rule applies the column
// scaling exactly when the exact decision finds v >= 0; the scalings are
// invariant to G -> t G (the reference's exact v is the same rational, the
// library's squared scalings agree to rounding); W = W_pt + A B^T is unchanged
// by the re-split. In cpp_bin_float_50 with an explicit G, on layers of dyadic
// numbers (the library and the exact reference see the same layer).
// Code: linalg/svd_optimum.hpp, optimal_scaling.hpp, resplit.hpp;
// reference/exact.hpp, step.hpp.
#include "check.hpp"
#include "scalora/reference/exact.hpp"
#include "scalora/reference/step.hpp"

#include <array>

using namespace scalora;
using namespace scalora::proofs;

namespace {

mp50 f_u(const Mat& G, const Mat& A, const Mat& B, const Vec& u, const mp50& eta) {
  const Index r = A.cols();
  Mat At = A, Bt = B;
  for (Index j = 0; j < r; ++j) {
    At.col(j) *= sqrt(u(j));
    Bt.col(j) *= sqrt(u(r + j));
  }
  return objective(G, At, Bt, mp50(1), eta);
}

void check_layer(Report& rep, Index m, Index n, Index r, int log2_b, std::uint64_t seed) {
  rep.section(std::to_string(m) + " x " + std::to_string(n) + ", r = " + std::to_string(r) + ", |B| ~ 2^" +
              std::to_string(log2_b) + ", seed " + std::to_string(seed));
  const Mat A = dyadic_mat(m, r, seed), B = dyadic_mat(n, r, seed + 1, log2_b), G = dyadic_mat(m, n, seed + 2);
  const mp50 eta = mp50(1) / 8, scale = G.squaredNorm() / 2;
  const ScalingSystem<mp50> sys = scaling_system(A, B, Mat(G * B), Mat(G.transpose() * A));
  const ScalingTolerances<mp50> tol = ScalingTolerances<mp50>::defaults(r);
  const Scaling<mp50> col = column_scaling(sys, eta, tol), sca = scalar_scaling(sys, eta, tol);
  const Scaling<mp50> applied = optimal_scaling(sys, eta, tol);
  const reference::ExactSystem ex = reference::exact_scaling_system(A, B, Mat(G * B), Mat(G.transpose() * A));
  const reference::exact_rational kq = reference::to_rational(eta);
  const reference::ExactColumnDecision dec = reference::exact_column_decision(ex, kq);
  const mp50 f_svd = svd_optimum(G, r, mp50(1), eta).value;
  const mp50 f_sca = f_u(G, A, B, sca.u, eta), f_van = f_u(G, A, B, vanilla_squares<mp50>(r), eta);
  // The column value: Theorem 5's optimum, or the exact best u >= 0 when no v >= 0 exists.
  mp50 f_col;
  if (col.column.feasible()) {
    f_col = f_u(G, A, B, col.u, eta);
  } else {
    const auto best = reference::exact_nonnegative_optimum(ex, kq);
    f_col = best ? mp50(scale - eta * reference::round_to<mp50>(best->value)) : mp50(-scale);
  }
  const double tiny = 1e-40;
  const std::string kind = col.column.feasible() ? "Theorem 5" : "best u >= 0 (exact)";
  rep.check("SVD <= column", rel(f_col - f_svd, scale) + tiny, kind + ": " + Report::num(rel(f_col - f_svd, scale)));
  rep.check("column <= scalar", rel(f_sca - f_col, scale) + tiny, kind + ": " + Report::num(rel(f_sca - f_col, scale)));
  rep.check("scalar <= vanilla", rel(f_van - f_sca, scale) + tiny, Report::num(rel(f_van - f_sca, scale)));
  rep.check("the hybrid rule applies the column scaling iff the exact decision finds v >= 0",
            (applied.applied == branch::column) == dec.feasible ? 0.0 : -1.0,
            std::string("applied ") + to_string(applied.applied) + ", exact " + (dec.feasible ? "feasible" : "infeasible"));
  const mp50 f_applied = f_u(G, A, B, applied.u, eta), f_rule = dec.feasible ? f_col : f_sca;
  rep.check("the applied scaling's (*) is the rule's optimum", tiny - rel(abs(f_applied - f_rule), scale),
            Report::num(rel(f_applied - f_rule, scale)));

  // G -> t G: exact v identical (rationals); the library's squared scalings
  // agree to rounding. t has a short mantissa so that t G B and t G^T A stay
  // exact, as the statement is about exact G.
  for (double t : {3.0, 0.625 * std::ldexp(1.0, -20), 1536.0}) {
    const Mat Gt = G * mp50(t);
    const auto d2 = reference::exact_column_decision(
        reference::exact_scaling_system(A, B, Mat(Gt * B), Mat(Gt.transpose() * A)), kq);
    rep.check("G -> " + Report::num(t) + " G: exact v and decision unchanged",
              dec.v == d2.v && dec.feasible == d2.feasible ? 0.0 : -1.0);
    const ScalingSystem<mp50> sys_t = scaling_system(A, B, Mat(Gt * B), Mat(Gt.transpose() * A));
    const Scaling<mp50> applied_t = optimal_scaling(sys_t, eta, tol);
    const double du = double((applied_t.u - applied.u).cwiseAbs().maxCoeff() / applied.u.cwiseAbs().maxCoeff());
    rep.check("G -> " + Report::num(t) + " G: the library's branch and squared scalings unchanged",
              applied_t.applied == applied.applied ? 1e-40 - du : -1.0, "relative change " + Report::num(du));
  }

  // W unchanged by the re-split (reference step in mp50).
  Layer<double> l;
  l.A = A.cast<double>();
  l.B = B.cast<double>();
  l.grad_A = (G * B).cast<double>();
  l.grad_B = (G.transpose() * A).cast<double>();
  l.W_pt = gaussian_matrix(m, n, seed + 9);
  StepOptions<double> o;
  o.bound.L = 1;
  o.bound.lr = 0.125;
  const reference::ReferenceStep<mp50> rs = reference::scalora_step<mp50>(l, o);
  const Mat W0 = l.W_pt.cast<mp50>() + l.A.cast<mp50>() * l.B.cast<mp50>().transpose();
  const Mat W1 = rs.layer.W_pt + rs.layer.A * rs.layer.B.transpose();
  const double dw = double((W1 - W0).cwiseAbs().maxCoeff() / W0.cwiseAbs().maxCoeff());
  rep.check("W_pt' + A' B'^T = W_pt + A B^T (reference step)", 1e-45 - dw, "relative change " + Report::num(dw));
}

}  // namespace

int main() {
  return run("Ordering SVD <= column <= scalar <= vanilla, invariance to G -> t G, W unchanged by the re-split",
             [](Report& rep) {
               std::uint64_t seed = 1;
               for (const auto& sh : {std::array<int, 3>{8, 6, 2}, {6, 6, 3}, {9, 4, 1}, {5, 7, 2}})
                 for (int log2_b : {-4, 0}) check_layer(rep, sh[0], sh[1], sh[2], log2_b, seed += 7);
             });
}
