// SPDX-License-Identifier: Apache-2.0
// Ordering and invariances (spec sections 5 and 9): the first-order bounds are
// ordered SVD (Thm 1) <= column (Thm 5, or its NNLS optimum when no v >= 0
// exists) <= scalar (Thm 3) <= vanilla LoRA (alpha = beta = 1); the scalings
// are invariant to G -> t G (exactly: the reference's v is the same rational);
// W = W_pt + A B^T is unchanged by the re-split. In cpp_bin_float_50 with an
// explicit G. Code: linalg/svd_optimum.hpp, optimal_scaling.hpp, resplit.hpp;
// reference/exact.hpp.
#include "check.hpp"

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

void check_layer(Report& rep, Index m, Index n, Index r, double b_scale, std::uint64_t seed) {
  rep.section(std::to_string(m) + " x " + std::to_string(n) + ", r = " + std::to_string(r) + ", |B| ~ " +
              Report::num(b_scale) + ", seed " + std::to_string(seed));
  const Mat A = random_mat(m, r, seed), B = random_mat(n, r, seed + 1, b_scale), G = random_mat(m, n, seed + 2);
  const mp50 eta = mp50(0.1), scale = G.squaredNorm() / 2;
  const ScalingSystem<mp50> sys = scaling_system(A, B, Mat(G * B), Mat(G.transpose() * A));
  const ScalingTolerances<mp50> tol = ScalingTolerances<mp50>::defaults(r);
  const Scaling<mp50> col = column_scaling(sys, eta, tol), sca = scalar_scaling(sys, eta, tol);
  const mp50 f_svd = svd_optimum(G, r, mp50(1), eta).value;
  const mp50 f_sca = f_u(G, A, B, sca.u, eta), f_van = f_u(G, A, B, vanilla_squares<mp50>(r), eta);
  mp50 f_col = f_sca;  // when infeasible, the hybrid applies the scalar scaling
  if (col.column.feasible()) f_col = f_u(G, A, B, col.u, eta);
  const double tiny = 1e-40;
  rep.check("SVD <= column", rel(f_col - f_svd, scale) + tiny,
            std::string(col.column.feasible() ? "column" : "fallback") + ": " + Report::num(rel(f_col - f_svd, scale)));
  rep.check("column <= scalar", rel(f_sca - f_col, scale) + tiny, Report::num(rel(f_sca - f_col, scale)));
  rep.check("scalar <= vanilla", rel(f_van - f_sca, scale) + tiny, Report::num(rel(f_van - f_sca, scale)));

  // G -> t G: exact v identical (rationals). t has a short mantissa so that
  // t G B and t G^T A stay exact in mp50, as the statement is about exact G.
  for (double t : {3.0, 0.625 * std::ldexp(1.0, -20), 1536.0}) {
    const Mat Gt = G * mp50(t);
    const reference::exact_rational kq = reference::to_rational(eta);
    const auto d1 = reference::exact_column_decision(
        reference::exact_scaling_system(A, B, Mat(G * B), Mat(G.transpose() * A)), kq);
    const auto d2 = reference::exact_column_decision(
        reference::exact_scaling_system(A, B, Mat(Gt * B), Mat(Gt.transpose() * A)), kq);
    rep.check("G -> " + Report::num(t) + " G: exact v and decision unchanged",
              d1.v == d2.v && d1.feasible == d2.feasible ? 0.0 : -1.0);
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
  o.bound.lr = 0.1;
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
                 for (double b : {0.05, 1.0}) check_layer(rep, sh[0], sh[1], sh[2], b, seed += 7);
             });
}
