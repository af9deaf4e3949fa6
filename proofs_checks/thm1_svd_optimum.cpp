// SPDX-License-Identifier: Apache-2.0
// Theorem 1 (spec section 3): "Let G = U S V^T. For any split of {1..2r} into
// two sets I, J of size r and any orthogonal P, Q: A* = (L eta)^{-1/2} U[:, I] P,
// B* = (L eta)^{-1/2} V[:, J] Q minimise (*), with optimal value
// (*)* = (1/(2L)) sum_{i > 2r} sigma_i^2."
// Checked: the value and its attainment, other splits and rotations, random
// search and local optimisation never going below it, LoRA-GA's directions,
// rank G < 2r and ties. Code: include/scalora/linalg/svd_optimum.hpp.
#include <Eigen/QR>
#include <random>

#include "check.hpp"

using namespace scalora;
using namespace scalora::proofs;

namespace {

/// Gradient of (*) in double: grad_A = -L eta (R G^T A + G R^T A),
/// grad_B = -L eta (G^T R B + R^T G B), R = G/L - eta A A^T G - eta G B B^T.
void objective_gradient(const Matrix<double>& G, const Matrix<double>& A, const Matrix<double>& B, double L,
                        double eta, Matrix<double>& gA, Matrix<double>& gB) {
  const Matrix<double> R = G / L - eta * A * (A.transpose() * G) - eta * (G * B) * B.transpose();
  gA = -L * eta * (R * (G.transpose() * A) + G * (R.transpose() * A));
  gB = -L * eta * (G.transpose() * (R * B) + R.transpose() * (G * B));
}

/// Gradient descent with backtracking on (*) from (A, B), in double.
void descend(const Matrix<double>& G, Matrix<double>& A, Matrix<double>& B, double L, double eta, int iterations) {
  double step = 1.0;
  double f = objective(G, A, B, L, eta);
  Matrix<double> gA, gB;
  for (int it = 0; it < iterations; ++it) {
    objective_gradient(G, A, B, L, eta, gA, gB);
    const double g2 = gA.squaredNorm() + gB.squaredNorm();
    if (g2 < 1e-28) break;
    for (;;) {
      const Matrix<double> A1 = A - step * gA, B1 = B - step * gB;
      const double f1 = objective(G, A1, B1, L, eta);
      if (f1 <= f - 0.25 * step * g2) {
        A = A1;
        B = B1;
        f = f1;
        step *= 2;
        break;
      }
      step /= 2;
      if (step < 1e-30) return;
    }
  }
}

Mat random_orthogonal(Index r, std::uint64_t seed) {
  const Eigen::HouseholderQR<Mat> qr(random_mat(r, r, seed));
  return qr.householderQ() * Mat::Identity(r, r);
}

void check_layer(Report& rep, const std::string& name, const Mat& G, Index r, double L_d, double eta_d,
                 std::uint64_t seed) {
  rep.section(name);
  const mp50 L = L_d, eta = eta_d;
  const SvdOptimum<mp50> opt = svd_optimum(G, r, L, eta);
  // An SVD of the check's own: the value's tail and the other splits below.
  Eigen::JacobiSVD<Mat> svd(G, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Index k = std::min(G.rows(), G.cols());
  mp50 tail = 0, head = 0;
  for (Index i = 0; i < k; ++i) (i < 2 * r ? head : tail) += svd.singularValues()(i) * svd.singularValues()(i);
  const mp50 scale = G.squaredNorm() / (2 * L);  // (*) at A = B = 0
  const double tol = 1e-40;
  auto agree = [&](const std::string& what, const mp50& a, const mp50& b) {
    const double err = rel(abs(a - b), scale);
    rep.check(what, tol - err, "relative error " + Report::num(err) + " (tolerance 1e-40 of (*)(0))");
  };
  agree("value = sum_{i>2r} sigma_i^2 / (2L)", opt.value, tail / (2 * L));
  agree("bound decrease = sum_{i<=2r} sigma_i^2 / (2L)", opt.bound_decrease, head / (2 * L));
  agree("the SVD adapter attains it", objective(G, opt.A, opt.B, L, eta), opt.value);

  // Other splits I, J and rotations P, Q attain the same value.
  const mp50 c = 1 / sqrt(L * eta);
  if (opt.rank >= 2 * r) {
    Mat A2(G.rows(), r), B2(G.cols(), r);
    for (Index j = 0; j < r; ++j) {  // interleaved: I = odd, J = even positions of 1..2r
      A2.col(j) = c * svd.matrixU().col(2 * j + 1);
      B2.col(j) = c * svd.matrixV().col(2 * j);
    }
    agree("split I = {2, 4, ..}, J = {1, 3, ..} attains it", objective(G, A2, B2, L, eta), opt.value);
    const Mat P = random_orthogonal(r, seed + 1), Q = random_orthogonal(r, seed + 2);
    agree("rotations A* P, B* Q attain it", objective(G, Mat(opt.A * P), Mat(opt.B * Q), L, eta), opt.value);
    // LoRA-GA (direction "ArBr"): lora_B = U[:, 1..r] (our A), lora_A = V[:, r+1..2r]^T (our B^T),
    // scaled by (L eta)^{-1/2}: one of the minimisers.
    Mat A3(G.rows(), r), B3(G.cols(), r);
    for (Index j = 0; j < r; ++j) {
      A3.col(j) = c * svd.matrixU().col(j);
      B3.col(j) = c * svd.matrixV().col(r + j);
    }
    agree("LoRA-GA's initialisation (A ~ U_{1..r}, B ~ V_{r+1..2r}) is a minimiser", objective(G, A3, B3, L, eta),
          opt.value);
  }

  // Random search: no adapter does better.
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> logscale(-2, 2);
  mp50 best = scale;
  for (int t = 0; t < 300; ++t) {
    const double s = std::pow(10.0, logscale(gen)) * double(c);
    const mp50 f = objective(G, random_mat(G.rows(), r, seed + 10 + 2 * t, s), random_mat(G.cols(), r, seed + 11 + 2 * t, s),
                             L, eta);
    best = std::min(best, f);
  }
  rep.check("300 random adapters stay above the value", rel(best - opt.value, scale) + tol,
            "best (*) - value = " + Report::num(double(best - opt.value)));

  // Local optimisation from 6 starts (double), evaluated in mp50.
  const Matrix<double> Gd = G.cast<double>();
  mp50 best_local = scale;
  for (int start = 0; start < 6; ++start) {
    Matrix<double> A = 0.3 * double(c) * gaussian_matrix(G.rows(), r, seed + 1000 + start);
    Matrix<double> B = 0.3 * double(c) * gaussian_matrix(G.cols(), r, seed + 2000 + start);
    descend(Gd, A, B, L_d, eta_d, 3000);
    best_local = std::min(best_local, objective(G, Mat(A.cast<mp50>()), Mat(B.cast<mp50>()), L, eta));
  }
  rep.check("local optimisation from 6 starts never goes below it", rel(best_local - opt.value, scale) + tol,
            "closest (*) - value = " + Report::num(rel(best_local - opt.value, scale)) + " of (*)(0)");
}

}  // namespace

int main() {
  return run("Theorem 1: the SVD adapter minimises (*) with value sum_{i>2r} sigma_i^2 / (2L)", [](Report& rep) {
    check_layer(rep, "G 10 x 8, r = 2", random_mat(10, 8, 1), 2, 3.0, 0.05, 100);
    check_layer(rep, "G 12 x 12, r = 3", random_mat(12, 12, 2), 3, 1.0, 0.2, 200);
    check_layer(rep, "G 6 x 9, r = 1", random_mat(6, 9, 3), 1, 10.0, 0.01, 300);
    // rank G = 3 < 2r = 4: the optimum is 0.
    const Mat low = random_mat(8, 3, 4) * random_mat(3, 8, 5);
    check_layer(rep, "G 8 x 8 of rank 3 < 2r = 4", low, 2, 2.0, 0.1, 400);
    // Ties sigma_4 = sigma_5 = 2 (r = 2): the minimiser is not unique, the value is.
    Mat tie = Mat::Zero(6, 6);
    const double s[] = {5, 4, 3, 2, 2, 1};
    for (int i = 0; i < 6; ++i) tie(i, i) = s[i];
    const Eigen::HouseholderQR<Mat> qu(random_mat(6, 6, 6)), qv(random_mat(6, 6, 7));
    const Mat U = qu.householderQ() * Mat::Identity(6, 6), V = qv.householderQ() * Mat::Identity(6, 6);
    const Mat G = U * tie * V.transpose();
    check_layer(rep, "G 6 x 6 with sigma_4 = sigma_5 (tie), r = 2", G, 2, 1.0, 0.5, 500);
    rep.check("the tie is reported", svd_optimum(G, 2, mp50(1), mp50(0.5)).tie ? 0.0 : -1.0);
  });
}
