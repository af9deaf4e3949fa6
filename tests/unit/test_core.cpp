// SPDX-License-Identifier: Apache-2.0
// The host/device core on its own: pivoted Cholesky, Gram-Schmidt, NNLS
// (checked against brute force), the column solve's four outcomes, the
// ScaLoRA-I schedule, bfloat16 rounding, and the documented tolerances of the
// decisions at their boundaries. Double and float (the types the GPU kernels use).
#include <bitset>
#include <limits>

#include "scalora/core/bfloat16.hpp"

#include "scalora/reference/budget.hpp"
#include "test_support.hpp"

using namespace scalora;
using scalora::test::gaussian;

TEST_CASE_TEMPLATE("pivoted Cholesky reveals the rank and reconstructs", T, float, double) {
  const int n = 8, k = 5;
  const Matrix<T> F = gaussian(n, k, 3).cast<T>();
  const Matrix<T> A = F * F.transpose();
  Matrix<T> a = A;
  std::vector<int> perm(n);
  const T eps = scalar_traits<T>::epsilon();
  const T tol = T(16 * n) * eps * A.diagonal().maxCoeff();
  const int rank = detail::pivoted_cholesky(n, a.data(), n, perm.data(), tol);
  CHECK(rank == k);
  Matrix<T> PAP(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) PAP(i, j) = A(perm[i], perm[j]);
  const Matrix<T> L = a.leftCols(rank).template triangularView<Eigen::Lower>();
  // Backward error of Cholesky: |P A P^T - L L^T| <= (n+1) eps |L| |L|^T (Higham Thm 10.3).
  const Matrix<T> bound = T(n + 1) * eps * (L.cwiseAbs() * L.cwiseAbs().transpose());
  const Matrix<T> err = (PAP - L * L.transpose()).cwiseAbs();
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) CHECK(err(i, j) <= bound(i, j) + tol);
  for (int i = 1; i < rank; ++i) CHECK(a(i, i) <= a(i - 1, i - 1) * (T(1) + T(4 * n) * eps));
}

TEST_CASE_TEMPLATE("Gram-Schmidt drops dependent columns and orthonormalises", T, float, double) {
  Matrix<T> q = gaussian(6, 4, 5).cast<T>();
  q.col(2) = q.col(0) * T(2) - q.col(1) * T(3);  // dependent
  const int kept = detail::orthonormalize_columns(6, 4, q.data(), 6, T(64) * scalar_traits<T>::epsilon());
  CHECK(kept == 3);
  const Matrix<T> I = q.leftCols(kept).transpose() * q.leftCols(kept);
  CHECK((I - Matrix<T>::Identity(kept, kept)).cwiseAbs().maxCoeff() <= T(32) * scalar_traits<T>::epsilon());
}

TEST_CASE_TEMPLATE("Gram-Schmidt keeps nearly dependent columns orthonormal (twice is enough)", T, float, double) {
  // Column 1 differs from column 0 by 1e-3 (float) or 1e-9 (double) of its norm:
  // one pass of modified Gram-Schmidt loses orthogonality in proportion to
  // eps / 1e-3 resp. eps / 1e-9; the second pass restores it to a few eps.
  const T delta = std::is_same_v<T, float> ? T(1e-3) : T(1e-9);
  Matrix<T> q = gaussian(8, 3, 15).cast<T>();
  q.col(1) = q.col(0) + delta * gaussian(8, 1, 16).cast<T>();
  const int kept = detail::orthonormalize_columns(8, 3, q.data(), 8, T(64) * scalar_traits<T>::epsilon());
  CHECK(kept == 3);
  const Matrix<T> I = q.leftCols(kept).transpose() * q.leftCols(kept);
  CHECK((I - Matrix<T>::Identity(kept, kept)).cwiseAbs().maxCoeff() <= T(32) * scalar_traits<T>::epsilon());
}

namespace {
/// NNLS by enumeration of all passive sets (small cols only).
Vector<double> brute_force_nnls(const Matrix<double>& E, const Vector<double>& f) {
  const int cols = int(E.cols());
  Vector<double> best = Vector<double>::Zero(cols);
  double best_obj = f.squaredNorm();
  for (unsigned mask = 1; mask < (1u << cols); ++mask) {
    std::vector<int> idx;
    for (int j = 0; j < cols; ++j)
      if (mask & (1u << j)) idx.push_back(j);
    Matrix<double> Ep(E.rows(), Index(idx.size()));
    for (std::size_t c = 0; c < idx.size(); ++c) Ep.col(Index(c)) = E.col(idx[c]);
    const Vector<double> z = Ep.colPivHouseholderQr().solve(f);
    if (z.minCoeff() < 0) continue;
    Vector<double> w = Vector<double>::Zero(cols);
    for (std::size_t c = 0; c < idx.size(); ++c) w(idx[c]) = z(Index(c));
    const double obj = (E * w - f).squaredNorm();
    if (obj < best_obj) {
      best_obj = obj;
      best = w;
    }
  }
  return best;
}
}  // namespace

TEST_CASE("NNLS: KKT conditions and the brute-force optimum on random problems") {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const int rows = 4 + int(seed % 5), cols = 3 + int(seed % 4);
    const Matrix<double> E = gaussian(rows, cols, 100 + seed);
    const Vector<double> f = gaussian(rows, 1, 200 + seed);
    Vector<double> w(cols), work(nnls_work_size(rows, cols));
    std::vector<int> iwork(std::size_t(nnls_iwork_size(cols)));
    const double tol = 1e-13;
    const nnls_status st = nnls(rows, cols, E.data(), rows, f.data(), w.data(), work.data(), iwork.data(), tol, 100);
    CHECK(st == nnls_status::converged);
    CHECK(w.minCoeff() >= 0);
    const Vector<double> g = E.transpose() * (f - E * w);
    for (int j = 0; j < cols; ++j) {
      CHECK(g(j) <= 1e-12 * (1 + f.norm()) * E.norm());
      if (w(j) > 0) CHECK(std::abs(g(j)) <= 1e-12 * (1 + f.norm()) * E.norm());
    }
    const Vector<double> bf = brute_force_nnls(E, f);
    CHECK((E * w - f).squaredNorm() <= (E * bf - f).squaredNorm() * (1 + 1e-12) + 1e-24);
  }
}

namespace {
struct Solved {
  ColumnSolveInfo<double> info;
  Vector<double> v;
};
Solved solve(const Matrix<double>& M, const Vector<double>& lambda, double kappa) {
  const int n = int(M.rows());
  Solved s;
  s.v.resize(n);
  Vector<double> work(column_solve_work_size(n));
  std::vector<int> iwork(std::size_t(column_solve_iwork_size(n)));
  s.info = solve_column_system(n, M.data(), n, lambda.data(), kappa, s.v.data(), work.data(), iwork.data(),
                               ColumnTolerances<double>::defaults(n));
  return s;
}
}  // namespace

TEST_CASE("column solve: nonsingular, feasible and infeasible") {
  const Matrix<double> F = gaussian(6, 6, 9);
  const Matrix<double> M = F.transpose() * F;
  const double cond = reference::budget::equilibrated_condition(M);
  Vector<double> v0(6);
  v0 << 0.5, 1, 2, 0.25, 3, 1;
  Solved s = solve(M, M * v0, 0.1);
  CHECK(s.info.method == column_method::unique);
  CHECK(s.info.rank == 6);
  CHECK((s.v - v0).norm() <= cond * 1e3 * 2.2e-16 * v0.norm());
  v0(2) = -0.5;
  s = solve(M, M * v0, 0.1);
  CHECK(s.info.method == column_method::infeasible);
  CHECK(s.info.margin < 0);
}

TEST_CASE("column solve: singular systems get the least-change solution") {
  // M = diag(4, 0, 9) with lambda = (2, 0, 3): v_2 is free; least change sets it to kappa.
  Matrix<double> M = Matrix<double>::Zero(3, 3);
  M(0, 0) = 4;
  M(2, 2) = 9;
  Vector<double> lambda(3);
  lambda << 2, 0, 3;
  Solved s = solve(M, lambda, 0.7);
  CHECK(s.info.method == column_method::least_change);
  CHECK(s.info.rank == 2);
  CHECK(s.v(0) == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(s.v(1) == doctest::Approx(0.7).epsilon(1e-15));
  CHECK(s.v(2) == doctest::Approx(1.0 / 3).epsilon(1e-15));
}

TEST_CASE("column solve: least change negative, least distance finds the nearest v >= 0") {
  // X_2 = 4 X_1 (A_2 = 2 A_1): M = [[10, 40], [40, 160]], lambda = (5, 20):
  // solutions v_1 + 4 v_2 = 1/2. Least change from kappa = 1 weighted by M_ii:
  // minimise 10 (v_1 - 1)^2 + 160 (v_2 - 1)^2 on the line: (-5/4, 7/16); the
  // nearest non-negative solution in that metric is (0, 1/8).
  Matrix<double> M(2, 2);
  M << 10, 40, 40, 160;
  Vector<double> lambda(2);
  lambda << 5, 20;
  Solved s = solve(M, lambda, 1.0);
  CHECK(s.info.method == column_method::least_distance);
  CHECK(s.info.rank == 1);
  CHECK(s.info.margin < 0);
  CHECK(std::abs(s.v(0)) <= 1e-15);
  CHECK(s.v(1) == doctest::Approx(0.125).epsilon(1e-14));
  // With kappa = 1/10 the weighted least-change solution has v_1 = 1/4 - 3 kappa / 2 =
  // 1/10 >= 0 (it is (1/10, 1/10)): no QP is needed.
  s = solve(M, lambda, 0.1);
  CHECK(s.info.method == column_method::least_change);
  CHECK(s.v(0) == doctest::Approx(0.1).epsilon(1e-14));
}

TEST_CASE("column solve: singular and infeasible") {
  // M = [[1, 2], [2, 4]], lambda = M (1, -1) = (-1, -2): v_1 + 2 v_2 = -1 has no v >= 0.
  Matrix<double> M(2, 2);
  M << 1, 2, 2, 4;
  Vector<double> lambda(2);
  lambda << -1, -2;
  const Solved s = solve(M, lambda, 1.0);
  CHECK(s.info.method == column_method::infeasible);
  CHECK(s.info.rank == 1);
}

TEST_CASE("column solve: M = 0 (zero gradient) gives u = 1") {
  const Solved s = solve(Matrix<double>::Zero(4, 4), Vector<double>::Zero(4), 0.25);
  CHECK(s.info.method == column_method::least_change);
  CHECK(s.info.rank == 0);
  CHECK(s.v == Vector<double>::Constant(4, 0.25));
}

TEST_CASE("column solve: the non-negativity tolerance is 16 n2 eps times the condition estimate (numerics.md)") {
  // M = I (condition 1, n2 = 4): the tolerance on min_i v_i / max_j |v_j| is 64 eps.
  const double tol = 64 * 0x1p-52;
  const Matrix<double> M = Matrix<double>::Identity(4, 4);
  Vector<double> lambda(4);
  lambda << 1, 0.5, 1, -0.5 * tol;  // within the tolerance: clamped to 0
  Solved s = solve(M, lambda, 0.5);
  CHECK(s.info.method == column_method::unique);
  CHECK(s.info.clamped);
  CHECK(s.v(3) == 0);
  lambda(3) = -3.5 * tol;  // beyond it: no v >= 0
  s = solve(M, lambda, 0.5);
  CHECK(s.info.method == column_method::infeasible);
  CHECK(s.info.margin == doctest::Approx(-3.5 * tol).epsilon(1e-12));
}

TEST_CASE("column solve: the non-negativity tolerance grows with the squared pivot ratio (numerics.md)") {
  // M = [[1, c], [c, 1]], c = 3/4 (unit diagonal: equilibration is the identity).
  // Pivoted Cholesky: L11 = 1, L22^2 = 1 - c^2 = 7/16, condition = (L11 / L22)^2 = 16/7;
  // n2 = 2: tolerance 32 eps * 16/7 = 73.1 eps (with the unsquared ratio 4/sqrt(7): 48.4 eps).
  // v = (1, -60 eps): lambda = M v = (1 - 45 eps, 3/4 - 60 eps), both exact doubles.
  const double eps = 0x1p-52;
  Matrix<double> M(2, 2);
  M << 1, 0.75, 0.75, 1;
  Vector<double> lambda(2);
  lambda << 1 - 45 * eps, 0.75 - 60 * eps;
  const Solved s = solve(M, lambda, 1.0);
  CHECK(s.info.condition == doctest::Approx(16.0 / 7.0).epsilon(1e-14));
  CHECK(s.info.margin == doctest::Approx(-60 * eps).epsilon(0.05));  // rounding: a few eps of 60 eps
  CHECK(s.info.method == column_method::unique);
  CHECK(s.info.clamped);
}

TEST_CASE("column solve: the rank tolerance is (n2 (m + n + 2) + 2 n2^2) eps (numerics.md)") {
  // n2 = 2, m = n = 0: 12 eps. M = [[1, c], [c, 1]] has the second pivot 1 - c^2,
  // exactly 48 eps for c = 1 - 24 eps and 6 eps for c = 1 - 3 eps.
  const double eps = 0x1p-52;
  for (const auto& [c, rank] : {std::pair<double, int>{1 - 24 * eps, 2}, {1 - 3 * eps, 1}}) {
    Matrix<double> M(2, 2);
    M << 1, c, c, 1;
    Vector<double> lambda(2);
    lambda << 1 + c, 1 + c;  // M (1, 1)
    const Solved s = solve(M, lambda, 1.0);
    CHECK(s.info.rank == rank);
    CHECK(s.info.feasible());
  }
}

TEST_CASE("Theorem 3's collinearity tolerance: C / (p s) <= 16 eps reads as C = 0 (numerics.md)") {
  // p = s = 1, q = 1 - delta: C / (p s) = 1 - q^2 = delta (2 - delta).
  for (const auto& [delta, expected] :
       {std::pair<double, scalar_case>{25 * 0x1p-52, scalar_case::interior}, {4 * 0x1p-52, scalar_case::collinear}}) {
    ScalingSystem<double> sys;
    sys.r = 1;
    sys.p = sys.s = 1;
    sys.q = 1 - delta;
    sys.x = sys.y = 1;
    const Scaling<double> sc = scalar_scaling(sys, 0.5, ScalingTolerances<double>::defaults(1));
    CHECK(sc.scalar_kind == expected);
  }
}

TEST_CASE("bfloat16: round to nearest, ties to even; NaN stays NaN; overflow to infinity") {
  // bf16 has 7 fraction bits: 1 + 2^-8 is halfway between 1 and 1 + 2^-7.
  CHECK(bf16_to_float(float_to_bf16(1.0f + 0x1p-8f)) == 1.0f);                   // tie, to the even 1
  CHECK(bf16_to_float(float_to_bf16(1.0f + 3 * 0x1p-8f)) == 1.0f + 0x1p-6f);     // tie, to the even 1 + 2^-6
  CHECK(bf16_to_float(float_to_bf16(-(1.0f + 0x1p-8f))) == -1.0f);
  CHECK(bf16_to_float(float_to_bf16(1.0f + 0x1p-8f + 0x1p-20f)) == 1.0f + 0x1p-7f);  // above halfway
  CHECK(bf16_to_float(float_to_bf16(1.0f + 0x1p-8f - 0x1p-20f)) == 1.0f);            // below halfway
  CHECK(std::isnan(bf16_to_float(float_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(std::isinf(bf16_to_float(float_to_bf16(std::numeric_limits<float>::max()))));
}

TEST_CASE("ScaLoRA-I schedule: every I-th optimizer step after warm-up") {
  const RescaleSchedule every{1, 0};
  for (long t = 0; t < 5; ++t) CHECK(rescale_due(t, every));
  const RescaleSchedule s{10, 5};
  std::vector<long> due;
  for (long t = 0; t < 40; ++t)
    if (rescale_due(t, s)) due.push_back(t);
  CHECK(due == std::vector<long>{5, 15, 25, 35});
}
