// SPDX-License-Identifier: Apache-2.0
// Hand-checked cases of Theorems 1, 3 and 5, the lemmas and the step, as
// templates over the scalar type. Each tests/unit/test_theorems_<type>.cpp
// instantiates them for one type (one multiprecision type per translation
// unit keeps compile times down; docs/numerics.md explains the budgets).
//
// Every input is a small integer matrix, so M and lambda are computed exactly
// in every type (all intermediate integers < 2^24); only the solve, the square
// roots and the final roundings contribute error. Expected values are exact
// rationals, derived by hand in the comments (and in docs/theory.md for the
// worked example).
#pragma once

#include "scalora/reference/budget.hpp"
#include "test_support.hpp"

namespace scalora::test {
namespace budget = ::scalora::reference::budget;

template <class T>
struct Rational {
  long num, den;
  T value() const { return T(num) / T(den); }
};

/// Budget, in eps of the accumulation type, for squared scalings of a system
/// whose M, lambda are exact (integer inputs): budget::column_solution with no
/// build error (m = n = 0 leaves only the solve's terms), times 2 for the final
/// division by kappa and the rounding of u.
inline double exact_system_budget(double cond, Index r) {
  return 2.0 * budget::column_solution(cond, 0, 0, r, 1.0);
}

/// Checks u against exact values, elementwise: |u_i - u*_i| <= E ||W u*|| / w_i
/// with W = diag(sqrt(M_ii)) and E = exact_system_budget() eps
/// (the elementwise consequence of the weighted-norm bound).
template <class T>
void check_squares(const ScalingSystem<T>& sys, const Vector<T>& u, const std::vector<T>& expected,
                   const char* what) {
  using std::sqrt;
  REQUIRE(u.size() == Index(expected.size()));
  const double cond = budget::equilibrated_condition(sys.M);
  const double k = exact_system_budget(cond, sys.r);
  T wnorm = T(0);
  for (Index i = 0; i < u.size(); ++i) wnorm += sys.M(i, i) * expected[std::size_t(i)] * expected[std::size_t(i)];
  wnorm = sqrt(wnorm);
  for (Index i = 0; i < u.size(); ++i) {
    const T w = sqrt(sys.M(i, i));
    const T tol = w > T(0) ? T(k) * scalar_traits<T>::epsilon() * wnorm / w : T(k) * scalar_traits<T>::epsilon();
    CHECK_MESSAGE(abs(u(i) - expected[std::size_t(i)]) <= tol,
                  what << ": u(" << i << ") = " << str(u(i)) << ", expected " << str(expected[std::size_t(i)])
                       << " (cond " << cond << ", budget " << k << " eps)");
  }
}

// ---------------------------------------------------------------- the worked example
// docs/theory.md: G = diag(5, 4, 3, 2, 1), W_pt = 0, r = 2, L = 1, eta = 1/6 (kappa = 1/6),
// A = [[0,0],[0,0],[0,0],[1,-1],[1,0]], B = [[1,0],[1,-1],[-1,-1],[0,0],[0,0]].
template <class T>
Matrix<T> worked_G() {
  Matrix<T> G = Matrix<T>::Zero(5, 5);
  for (int i = 0; i < 5; ++i) G(i, i) = T(5 - i);
  return G;
}
template <class T>
Layer<T> worked_layer() {
  Layer<T> l = layer_from_gradient<T>(mat<T>(5, 2, {0, 0, 0, 0, 0, 0, 1, -1, 1, 0}),
                                      mat<T>(5, 2, {1, 0, 1, -1, -1, -1, 0, 0, 0, 0}), worked_G<T>());
  l.W_pt = Matrix<T>::Zero(5, 5);
  return l;
}
template <class T>
StepOptions<accumulate_t<T>> worked_options() {
  StepOptions<accumulate_t<T>> o;
  o.bound.L = 1;
  o.bound.lr = accumulate_t<T>(1) / 6;
  return o;
}

template <class T>
void check_worked_example() {
  using Acc = accumulate_t<T>;
  Layer<T> l = worked_layer<T>();
  const ScalingSystem<Acc> sys = scaling_system(l.A, l.B, l.grad_A, l.grad_B);
  // M = diag([[10, 4], [4, 4]], [[150, 0], [0, 50]]), lambda = [5, 4, 50, 25] (exact).
  const Matrix<Acc> M_expected = mat<Acc>(4, 4, {10, 4, 0, 0, 4, 4, 0, 0, 0, 0, 150, 0, 0, 0, 0, 50});
  CHECK(sys.M == M_expected);
  CHECK(sys.lambda == mat<Acc>(4, 1, {5, 4, 50, 25}));
  CHECK(sys.p == Acc(22));
  CHECK(sys.q == Acc(0));
  CHECK(sys.s == Acc(200));
  CHECK(sys.x == Acc(9));
  CHECK(sys.y == Acc(75));

  const StepOptions<Acc> o = worked_options<T>();
  const StepResult<Acc> res = scalora_step(l, o);
  CHECK(res.scaling.applied == branch::column);
  CHECK(res.scaling.column.method == column_method::unique);
  // v = M^{-1} lambda = [1/6, 5/6, 1/3, 1/2]; u = v / kappa = [1, 5, 2, 3].
  check_squares(sys, res.scaling.u, {Acc(1), Acc(5), Acc(2), Acc(3)}, "worked example");
  // Predicted decrease lambda^T v / (2L) = 50/3; scalar optimum (a, b) = (27/11, 9/4) gives
  // 2799/176; vanilla gives 131/12. Budget: the u budget times the 2 products.
  const double k = 4 * exact_system_budget(budget::equilibrated_condition(sys.M), sys.r);
  SCALORA_CHECK_EPS(res.bound_decrease, Acc(50) / 3, k);
  SCALORA_CHECK_EPS(res.scalar_bound_decrease, Acc(2799) / 176, k);
  SCALORA_CHECK_EPS(res.vanilla_bound_decrease, Acc(131) / 12, 8.0);
  CHECK(res.scalar_kind == scalar_case::interior);
  // The merge: W_pt' = A diag(1 - alpha o beta) B^T with alpha o beta = [sqrt 2, sqrt 15];
  // W_pt' + A' B'^T = A B^T exactly up to rounding.
  Layer<T> l0 = worked_layer<T>();
  const Matrix<T> W_before = l0.W_pt + l0.A * l0.B.transpose();
  const Matrix<T> W_after = l.W_pt + l.A * l.B.transpose();
  CHECK((W_after - W_before).cwiseAbs().maxCoeff() <= T(budget::resplit(2) * 16) * scalar_traits<T>::epsilon());
}

// ---------------------------------------------------------------- Theorem 3, one case per row
template <class T>
Scaling<accumulate_t<T>> scalar_of(const Layer<T>& l, accumulate_t<T> kappa, ScalingSystem<accumulate_t<T>>* sys_out) {
  using Acc = accumulate_t<T>;
  const ScalingSystem<Acc> sys = scaling_system(l.A, l.B, l.grad_A, l.grad_B);
  if (sys_out) *sys_out = sys;
  return scalar_scaling(sys, kappa, ScalingTolerances<Acc>::defaults(l.A.cols()));
}

template <class T>
void check_scalar_case(const Layer<T>& l, accumulate_t<T> kappa, scalar_case kind, Rational<accumulate_t<T>> a,
                       Rational<accumulate_t<T>> b) {
  using Acc = accumulate_t<T>;
  ScalingSystem<Acc> sys;
  const Scaling<Acc> s = scalar_of(l, kappa, &sys);
  CHECK_MESSAGE(s.scalar_kind == kind, "case " << to_string(s.scalar_kind) << ", expected " << to_string(kind));
  const Index r = l.A.cols();
  // The 2 x 2 system is exact here too: budget as for an exact system of r = 1.
  const double k = 2 * exact_system_budget(4.0, 1);
  SCALORA_CHECK_EPS_FLOOR(s.u(0), a.value(), k, Acc(1));
  SCALORA_CHECK_EPS_FLOOR(s.u(r), b.value(), k, Acc(1));
  for (Index i = 1; i < r; ++i) {
    CHECK(s.u(i) == s.u(0));
    CHECK(s.u(r + i) == s.u(r));
  }
}

template <class T>
void check_theorem3_table() {
  // B off (C_A > 0, C_B <= 0): C = 2, C_A = 2, C_B = -1; p = 3, x = 2: a = c x / p = 2/3, b = 0.
  check_scalar_case(layer_from_gradient<T>(mat<T>(2, 2, {0, 1, -1, 1}), mat<T>(2, 2, {0, -1, 0, 1}),
                                           mat<T>(2, 2, {1, 1, 0, -1})),
                    1, scalar_case::beta_zero, {2, 3}, {0, 1});
  // A off (C_A <= 0, C_B > 0): C = 2, C_A = -2, C_B = 2; s = 6, y = 4: a = 0, b = c y / s = 2/3.
  check_scalar_case(layer_from_gradient<T>(mat<T>(2, 2, {0, 0, 1, 0}), mat<T>(2, 2, {-1, 0, -1, -1}),
                                           mat<T>(2, 2, {-2, 1, 0, 1})),
                    1, scalar_case::alpha_zero, {0, 1}, {2, 3});
  // Interior: the worked example, C = 4400, C_A = 1800, C_B = 1650, c = 6:
  // a = c C_A / C = 27/11, b = c C_B / C = 9/4.
  check_scalar_case(worked_layer<T>(), accumulate_t<T>(1) / 6, scalar_case::interior, {27, 11}, {9, 4});
  // C = 0 with X = Y (t = 1): optima a + b = c x / p = 1; least change a = b = 1/2.
  check_scalar_case(layer_from_gradient<T>(mat<T>(2, 1, {1, 0}), mat<T>(2, 1, {1, 0}), mat<T>(2, 2, {1, 0, 0, 0})),
                    1, scalar_case::collinear, {1, 2}, {1, 2});
  // C = 0 with Y = 4 X: optima a + 4 b = c; least change from (1, 1) at c = 1:
  // mu = (1 - 5)/17, a = 13/17, b = 1/17.
  const Layer<T> l4 =
      layer_from_gradient<T>(mat<T>(2, 1, {1, 0}), mat<T>(2, 1, {2, 0}), mat<T>(2, 2, {1, 0, 0, 0}));
  check_scalar_case(l4, 1, scalar_case::collinear, {13, 17}, {1, 17});
  // ... and at c = 1/4 the nearest point of the line has b < 0: the segment's end b = 0, a = 1/4.
  check_scalar_case(l4, 4, scalar_case::collinear, {1, 4}, {0, 1});
  // X = 0 (A^T G = 0): alpha is not identified, least change alpha = 1; b = c y / s = 1.
  check_scalar_case(layer_from_gradient<T>(mat<T>(2, 1, {0, 1}), mat<T>(2, 1, {1, 0}), mat<T>(2, 2, {1, 0, 0, 0})),
                    1, scalar_case::collinear, {1, 1}, {1, 1});
  // Zero gradient: no information, no change.
  check_scalar_case(layer_from_gradient<T>(mat<T>(2, 1, {1, 2}), mat<T>(2, 1, {3, 4}), Matrix<T>::Zero(2, 2)), 1,
                    scalar_case::zero_gradient, {1, 1}, {1, 1});
}

// ---------------------------------------------------------------- Theorem 5 and degenerate inputs
template <class T>
StepResult<accumulate_t<T>> step_of(Layer<T>& l, accumulate_t<T> kappa) {
  StepOptions<accumulate_t<T>> o;
  o.bound.L = 1;
  o.bound.lr = kappa;
  return scalora_step(l, o);
}

template <class T>
void check_theorem5_cases() {
  using Acc = accumulate_t<T>;
  SUBCASE("column condition fails: v = M^{-1} lambda = [1, -1, 1, 1], scalar fallback") {
    Layer<T> l = layer_from_gradient<T>(mat<T>(2, 2, {-1, 1, 0, 1}), mat<T>(2, 2, {1, 1, 0, 1}),
                                        mat<T>(2, 2, {-1, 1, 0, -1}));
    const ScalingSystem<Acc> sys = scaling_system(l.A, l.B, l.grad_A, l.grad_B);
    const StepResult<Acc> res = step_of(l, Acc(1));
    CHECK(res.scaling.applied == branch::scalar);
    CHECK(res.scalar_fallback);
    CHECK(res.scaling.column.method == column_method::infeasible);
    CHECK(res.scaling.column.rank == 4);
    CHECK(res.scalar_kind == scalar_case::interior);
    // p = 6, q = 3, s = 3, x = 3, y = 2: C = 9, C_A = 3, C_B = 3: a = b = 1/3.
    check_squares(sys, res.scaling.u, {Acc(1) / 3, Acc(1) / 3, Acc(1) / 3, Acc(1) / 3}, "fallback");
  }
  SUBCASE("m = n = 2 < 2r = 4 with M nonsingular: v = [1/3, 1/3, 1/3, 1/3]") {
    Layer<T> l = layer_from_gradient<T>(mat<T>(2, 2, {0, 1, 1, 1}), mat<T>(2, 2, {-1, -1, -1, 0}),
                                        mat<T>(2, 2, {0, 1, -1, 1}));
    const ScalingSystem<Acc> sys = scaling_system(l.A, l.B, l.grad_A, l.grad_B);
    const StepResult<Acc> res = step_of(l, Acc(1) / 3);
    CHECK(res.scaling.applied == branch::column);
    CHECK(res.scaling.column.rank == 4);
    check_squares(sys, res.scaling.u, {Acc(1), Acc(1), Acc(1), Acc(1)}, "m < 2r");
  }
  SUBCASE("B = 0 initialisation: beta is not identified, beta = 1; alpha as in the worked example") {
    Layer<T> l = worked_layer<T>();
    l.B.setZero();
    l.grad_A.setZero();  // G B = 0
    const ScalingSystem<Acc> sys = scaling_system(l.A, l.B, l.grad_A, l.grad_B);
    const StepResult<Acc> res = step_of(l, Acc(1) / 6);
    CHECK(res.scaling.applied == branch::column);
    CHECK(res.singular_system);
    CHECK(res.scaling.column.rank == 2);
    CHECK(res.scaling.column.method == column_method::least_change);
    check_squares(sys, res.scaling.u, {Acc(1), Acc(5), Acc(1), Acc(1)}, "B = 0");
    CHECK(l.B.isZero(0));
  }
  SUBCASE("duplicate columns: the least-change solution splits equally") {
    // A = [a, a], B = [b, b] with the worked example's first columns: v1 + v2 = 1/2,
    // v3 + v4 = 1/3; least change from kappa 1 = 1/6: v = [1/4, 1/4, 1/6, 1/6], u = 6 v.
    Layer<T> l = layer_from_gradient<T>(mat<T>(5, 2, {0, 0, 0, 0, 0, 0, 1, 1, 1, 1}),
                                        mat<T>(5, 2, {1, 1, 1, 1, -1, -1, 0, 0, 0, 0}), worked_G<T>());
    const ScalingSystem<Acc> sys = scaling_system(l.A, l.B, l.grad_A, l.grad_B);
    const StepResult<Acc> res = step_of(l, Acc(1) / 6);
    CHECK(res.scaling.applied == branch::column);
    CHECK(res.scaling.column.rank == 2);
    check_squares(sys, res.scaling.u, {Acc(3) / 2, Acc(3) / 2, Acc(1), Acc(1)}, "duplicates");
  }
  SUBCASE("rank-deficient A (a zero column): its scaling is not identified, alpha = 1") {
    Layer<T> l = worked_layer<T>();
    l.A.col(1).setZero();
    l.grad_B = worked_G<T>().transpose() * l.A;
    const ScalingSystem<Acc> sys = scaling_system(l.A, l.B, l.grad_A, l.grad_B);
    const StepResult<Acc> res = step_of(l, Acc(1) / 6);
    CHECK(res.scaling.applied == branch::column);
    CHECK(res.scaling.column.rank == 3);
    // M_AA = [[10]], lambda_A = [5]: v_1 = 1/2, u_1 = 3; u_2 = 1; B block as before.
    check_squares(sys, res.scaling.u, {Acc(3), Acc(1), Acc(2), Acc(3)}, "zero column");
  }
  SUBCASE("collinear columns: least change has v_1 < 0, the least-distance QP finds the optimum") {
    // A_2 = 2 A_1: X_2 = 4 X_1, M_AA = [[10, 40], [40, 160]], lambda_A = (5, 20):
    // optima v_1 + 4 v_2 = 1/2. The least change from kappa = 1 weighted by
    // M_ii = (10, 160) is (-5/4, 7/16); the nearest non-negative optimum in that
    // metric is (0, 1/8): alpha_1 = 0 moves A_1 into W_pt.
    Layer<T> l = layer_from_gradient<T>(mat<T>(5, 2, {0, 0, 0, 0, 0, 0, 1, 2, 1, 2}),
                                        mat<T>(5, 2, {1, 0, 1, -1, -1, -1, 0, 0, 0, 0}), worked_G<T>());
    const ScalingSystem<Acc> sys = scaling_system(l.A, l.B, l.grad_A, l.grad_B);
    const StepResult<Acc> res = step_of(l, Acc(1));
    CHECK(res.scaling.applied == branch::column);
    CHECK(res.scaling.column.method == column_method::least_distance);
    CHECK(res.scaling.column.rank == 3);
    check_squares(sys, res.scaling.u, {Acc(0), Acc(1) / 8, Acc(1) / 3, Acc(1) / 2}, "least distance");
  }
  SUBCASE("zero gradient: alpha = beta = 1 and nothing changes") {
    Layer<T> l = worked_layer<T>();
    l.grad_A.setZero();
    l.grad_B.setZero();
    const Layer<T> before = l;
    const StepResult<Acc> res = step_of(l, Acc(1) / 6);
    CHECK(res.zero_gradient);
    CHECK(res.scaling.alpha == Vector<Acc>::Ones(2));
    CHECK(res.scaling.beta == Vector<Acc>::Ones(2));
    CHECK(l.A == before.A);
    CHECK(l.B == before.B);
    CHECK(l.W_pt == before.W_pt);
    CHECK(res.bound_decrease == Acc(0));
  }
}

// ---------------------------------------------------------------- Theorem 1
template <class T>
void check_theorem1() {
  SUBCASE("G = diag(5,4,3,2,1), r = 2: value sum_{i>4} sigma^2 / (2L) = 1/2, decrease 54/2") {
    const SvdOptimum<T> opt = svd_optimum(worked_G<T>(), 2, T(1), T(1) / 6);
    SCALORA_CHECK_EPS(opt.value, T(1) / 2, 64.0);
    SCALORA_CHECK_EPS(opt.bound_decrease, T(27), 64.0);
    CHECK(opt.rank == 5);
    CHECK_FALSE(opt.tie);
    CHECK_FALSE(opt.rank_deficient);
    // The adapter attains the value: (*) at (A*, B*) = 1/2.
    SCALORA_CHECK_EPS(objective(worked_G<T>(), opt.A, opt.B, T(1), T(1) / 6), T(1) / 2, 256.0);
  }
  SUBCASE("rank G = 2 < 2r = 4: optimum 0, reported") {
    Matrix<T> G = Matrix<T>::Zero(5, 5);
    G(0, 0) = 5;
    G(1, 1) = 4;
    const SvdOptimum<T> opt = svd_optimum(G, 2, T(1), T(1));
    CHECK(opt.rank == 2);
    CHECK(opt.rank_deficient);
    CHECK(opt.value == T(0));
    CHECK(objective(G, opt.A, opt.B, T(1), T(1)) <= T(64) * scalar_traits<T>::epsilon() * T(41));
  }
  SUBCASE("tie sigma_2r = sigma_2r+1: reported, value still exact") {
    Matrix<T> G = Matrix<T>::Zero(3, 3);
    G(0, 0) = 3;
    G(1, 1) = 2;
    G(2, 2) = 2;
    const SvdOptimum<T> opt = svd_optimum(G, 1, T(1), T(1));
    CHECK(opt.tie);
    SCALORA_CHECK_EPS(opt.value, T(2), 64.0);
  }
  SUBCASE("G = 0") {
    const SvdOptimum<T> opt = svd_optimum(Matrix<T>::Zero(3, 4), 1, T(2), T(1));
    CHECK(opt.zero);
    CHECK(opt.value == T(0));
    CHECK(opt.A.isZero(0));
  }
}

// ---------------------------------------------------------------- identities with an explicit G
/// A random layer in T whose values are doubles (exact in every type >= double).
template <class T>
Layer<T> random_layer(Index m, Index n, Index r, std::uint64_t seed, Matrix<T>* G_out) {
  const Matrix<T> G = gaussian(m, n, seed).cast<T>();
  Layer<T> l = layer_from_gradient<T>(gaussian(m, r, seed + 1).cast<T>(), gaussian(n, r, seed + 2).cast<T>(), G);
  l.W_pt = gaussian(m, n, seed + 3).cast<T>();
  l.moments.exp_avg_A = gaussian(m, r, seed + 4).cast<T>();
  l.moments.exp_avg_sq_A = gaussian(m, r, seed + 5).cast<T>().cwiseAbs();
  l.moments.exp_avg_B = gaussian(n, r, seed + 6).cast<T>();
  l.moments.exp_avg_sq_B = gaussian(n, r, seed + 7).cast<T>().cwiseAbs();
  if (G_out) *G_out = G;
  return l;
}

template <class T>
void check_identities() {
  using Acc = accumulate_t<T>;
  const T eps = scalar_traits<T>::epsilon();
  const Index m = 9, n = 7, r = 2;
  Matrix<T> G;
  Layer<T> l = random_layer<T>(m, n, r, 11, &G);
  const Layer<T> before = l;
  const ScalingSystem<Acc> sys = scaling_system(l.A, l.B, l.grad_A, l.grad_B);

  SUBCASE("M is the Gram matrix of {A_i A_i^T G} u {G B_j B_j^T}; lambda_i = <X_i, G>") {
    std::vector<Matrix<T>> X;
    for (Index i = 0; i < r; ++i) X.push_back(l.A.col(i) * (l.A.col(i).transpose() * G));
    for (Index j = 0; j < r; ++j) X.push_back((G * l.B.col(j)) * l.B.col(j).transpose());
    for (Index i = 0; i < 2 * r; ++i) {
      for (Index j = 0; j < 2 * r; ++j) {
        const Acc gram = Acc(X[std::size_t(i)].cwiseProduct(X[std::size_t(j)]).sum());
        const Acc scale = sqrt(sys.M(i, i) * sys.M(j, j));
        // both sides carry the build budget (m + n + 2) plus the m n - term Frobenius sum
        SCALORA_CHECK_EPS_FLOOR(Acc(sys.M(i, j)), gram, 2.0 * double(m * n + m + n + 2) * double(eps) / double(scalar_traits<Acc>::epsilon()), scale);
      }
      const Acc lam = Acc(X[std::size_t(i)].cwiseProduct(G).sum());
      SCALORA_CHECK_EPS(Acc(sys.lambda(i)), lam, 2.0 * double(m * n + m + n + 2) * double(eps) / double(scalar_traits<Acc>::epsilon()));
    }
  }
  SUBCASE("the step: W unchanged, gradient identity, moment lemmas, predicted decrease") {
    StepOptions<Acc> o;
    o.bound.L = Acc(3);
    o.bound.lr = Acc(1) / 20;
    const StepResult<Acc> res = scalora_step(l, o);
    const Vector<Acc>& al = res.scaling.alpha;
    const Vector<Acc>& be = res.scaling.beta;
    // W = W_pt + A B^T unchanged (budget::resplit).
    const Matrix<T> W0 = before.W_pt + before.A * before.B.transpose();
    const Matrix<T> W1 = l.W_pt + l.A * l.B.transpose();
    for (Index i = 0; i < m; ++i)
      for (Index j = 0; j < n; ++j) {
        T scale = abs(before.W_pt(i, j));
        for (Index k = 0; k < r; ++k)
          scale += abs(before.A(i, k) * before.B(j, k)) * (T(1) + T(abs(al(k) * be(k))) + T(abs(Acc(1) - al(k) * be(k))));
        CHECK(abs(W1(i, j) - W0(i, j)) <= T(budget::resplit(r)) * eps * scale);
      }
    // Gradient identity: the rescaled gradients are the gradients at the new factors.
    const Matrix<T> gA_new = G * l.B, gB_new = G.transpose() * l.A;
    CHECK((l.grad_A - gA_new).norm() <= T(4 * (n + 4)) * eps * (G.norm() * l.B.norm()));
    CHECK((l.grad_B - gB_new).norm() <= T(4 * (m + 4)) * eps * (G.norm() * l.A.norm()));
    // Moments: crossed pairing, exactly one rounded product per entry.
    for (Index j = 0; j < r; ++j) {
      const T a = T(al(j)), b = T(be(j));
      for (Index i = 0; i < m; ++i) {
        CHECK(close_eps(l.moments.exp_avg_A(i, j), before.moments.exp_avg_A(i, j) * b, budget::rescaled_entry()));
        CHECK(close_eps(l.moments.exp_avg_sq_A(i, j), before.moments.exp_avg_sq_A(i, j) * (b * b),
                        budget::rescaled_second_moment()));
      }
      for (Index i = 0; i < n; ++i) {
        CHECK(close_eps(l.moments.exp_avg_B(i, j), before.moments.exp_avg_B(i, j) * a, budget::rescaled_entry()));
        CHECK(close_eps(l.moments.exp_avg_sq_B(i, j), before.moments.exp_avg_sq_B(i, j) * (a * a),
                        budget::rescaled_second_moment()));
      }
    }
    // Predicted decrease = ||G||^2 / (2L) - (*)(A~, B~).
    const T obj = objective(G, l.A, l.B, T(o.bound.L), T(o.bound.lr));
    const T predicted = G.squaredNorm() / (T(2) * T(o.bound.L)) - obj;
    const T scale = G.squaredNorm() / (T(2) * T(o.bound.L));
    SCALORA_CHECK_EPS_FLOOR(predicted, T(res.bound_decrease), double(8 * m * n), scale);
    // Ordering: SVD <= column <= scalar <= vanilla, as bound decreases reversed.
    const SvdOptimum<T> svd = svd_optimum(G, r, T(o.bound.L), T(o.bound.lr));
    CHECK(T(res.bound_decrease) <= svd.bound_decrease * (T(1) + T(64) * eps));
    CHECK(res.scalar_bound_decrease <= res.bound_decrease * (Acc(1) + Acc(64) * scalar_traits<Acc>::epsilon()));
    CHECK(res.vanilla_bound_decrease <= res.scalar_bound_decrease * (Acc(1) + Acc(64) * scalar_traits<Acc>::epsilon()));
  }
  SUBCASE("exact one-step increment: -eta (G B~ B~^T + A~ A~^T G) + eta^2 G B~ A~^T G") {
    const T eta = T(1) / 8;
    const Matrix<T> A1 = l.A - eta * G * l.B, B1 = l.B - eta * G.transpose() * l.A;
    const Matrix<T> direct = A1 * B1.transpose() - l.A * l.B.transpose();
    const Matrix<T> formula = exact_increment(G, l.A, l.B, eta);
    CHECK((direct - formula).norm() <= T(16 * (m + n)) * eps * (direct.norm() + (l.A * l.B.transpose()).norm()));
  }
  SUBCASE("invariance to G -> t G: the scalings do not change") {
    const Acc kappa = Acc(3) / 20;
    const Scaling<Acc> s1 = optimal_scaling(sys, kappa, ScalingTolerances<Acc>::defaults(r));
    Layer<T> l2 = layer_from_gradient<T>(l.A, l.B, Matrix<T>(G * T(1024)));
    const ScalingSystem<Acc> sys2 = scaling_system(l2.A, l2.B, l2.grad_A, l2.grad_B);
    const Scaling<Acc> s2 = optimal_scaling(sys2, kappa, ScalingTolerances<Acc>::defaults(r));
    CHECK(s1.applied == s2.applied);
    // G scaled by a power of two: M and lambda scale exactly by 2^20, so u is identical.
    CHECK(s1.u == s2.u);
  }
}

}  // namespace scalora::test

/// Instantiates the hand-checked cases for one scalar type (one per TU).
#define SCALORA_THEOREM_TESTS(T, NAME)                                                   \
  TEST_CASE("worked example (docs/theory.md) " NAME) { scalora::test::check_worked_example<T>(); } \
  TEST_CASE("theorem 3: every row of the table " NAME) { scalora::test::check_theorem3_table<T>(); } \
  TEST_CASE("theorem 5: fallback and degenerate inputs " NAME) { scalora::test::check_theorem5_cases<T>(); } \
  TEST_CASE("theorem 1: svd optimum " NAME) { scalora::test::check_theorem1<T>(); }               \
  TEST_CASE("identities with an explicit gradient " NAME) { scalora::test::check_identities<T>(); }
