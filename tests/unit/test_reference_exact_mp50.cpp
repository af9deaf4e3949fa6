// SPDX-License-Identifier: Apache-2.0
// The reference's exact decisions: dyadic conversion, exact systems, the
// phase-1 simplex, Theorem 5's condition (including v_i = 0 exactly and
// singular M) and Theorem 3's cases.
#include "scalora/reference.hpp"
#include "theorem_cases.hpp"

using namespace scalora;
using namespace scalora::reference;
using scalora::test::layer_from_gradient;
using scalora::test::mat;

TEST_CASE("binary floating-point values convert to exact rationals") {
  CHECK(to_rational(0.1) == exact_rational(exact_int(3602879701896397), exact_int(36028797018963968)));
  CHECK(to_rational(0.1f) == exact_rational(exact_int(13421773), exact_int(134217728)));
  CHECK(to_rational(-3.0) == exact_rational(-3));
  CHECK(to_rational(0.0) == exact_rational(0));
  CHECK(to_rational(std::ldexp(1.0, -1074)) == exact_rational(exact_int(1), exact_int(1) << 1074));  // subnormal
  CHECK(to_rational(1e300) == exact_rational(exact_int(1e300)));
  const long double ld = 1.0L + std::ldexp(1.0L, -63);  // needs the 64-bit mantissa
  CHECK(to_rational(ld) == 1 + exact_rational(exact_int(1), exact_int(1) << 63));
  const mp50 third = mp50(1) / 3;
  CHECK(round_to<mp50>(to_rational(third)) == third);
  CHECK(round_to<double>(exact_rational(1, 3)) == 1.0 / 3);
  CHECK_THROWS_AS(to_rational(std::numeric_limits<double>::quiet_NaN()), invalid_argument);
}

TEST_CASE("exact system of the worked example") {
  const Layer<double> l = scalora::test::worked_layer<double>();
  const ExactSystem sys = exact_scaling_system(l.A, l.B, l.grad_A, l.grad_B);
  CHECK(sys.M(0, 0) == 10);
  CHECK(sys.M(0, 1) == 4);
  CHECK(sys.M(2, 2) == 150);
  CHECK(sys.M(3, 3) == 50);
  CHECK(sys.M(0, 2) == 0);
  CHECK(sys.lambda == RationalVector{5, 4, 50, 25});
  CHECK(sys.p == 22);
  CHECK(sys.q == 0);
  CHECK(sys.s == 200);
  CHECK(sys.x == 9);
  CHECK(sys.y == 75);
  const ExactColumnDecision d = exact_column_decision(sys, exact_rational(1, 6));
  CHECK(d.rank == 4);
  CHECK(d.feasible);
  CHECK(d.canonical_exact);
  CHECK(d.v == RationalVector{exact_rational(1, 6), exact_rational(5, 6), exact_rational(1, 3), exact_rational(1, 2)});
}

TEST_CASE("exact inner products have no rounding at all") {
  // 1 + 2^-60 - 1: double arithmetic returns 0 or 2^-60 depending on order; exact is 2^-60.
  Matrix<double> A(3, 1), gA(3, 1);
  A << 1, std::ldexp(1.0, -30), 1;
  gA << 1, std::ldexp(1.0, -30), -1;
  const ExactSystem sys = exact_scaling_system(A, Matrix<double>::Ones(2, 1), gA, Matrix<double>::Ones(2, 1));
  // P(0, 1) = A^T grad_A = 1 + 2^-60 - 1 = 2^-60; M(0, 1) = P(0, 1) Q(0, 1), Q(0, 1) = 2.
  CHECK(sys.M(0, 1) == exact_rational(exact_int(2), exact_int(1) << 60));
}

TEST_CASE("phase-1 simplex decides polyhedra exactly") {
  auto R = [](std::initializer_list<std::initializer_list<long>> rows) {
    RationalMatrix m(Index(rows.size()), Index(rows.begin()->size()));
    Index i = 0;
    for (auto row : rows) {
      Index j = 0;
      for (long x : row) m(i, j++) = x;
      ++i;
    }
    return m;
  };
  // {y >= 0 : y1 + y2 <= -1}: empty.
  CHECK_FALSE(exact_polyhedron_nonempty(R({{1, 1}}), {-1}));
  // {y >= 0 : -y1 <= -1, y1 <= 2}: y1 in [1, 2].
  CHECK(exact_polyhedron_nonempty(R({{-1, 0}, {1, 0}}), {-1, 2}));
  // {y >= 0 : -y1 - y2 <= -3, y1 <= 1, y2 <= 1}: y1 + y2 >= 3 impossible.
  CHECK_FALSE(exact_polyhedron_nonempty(R({{-1, -1}, {1, 0}, {0, 1}}), {-3, 1, 1}));
  // ... with y2 <= 2 it touches the corner (1, 2) exactly.
  CHECK(exact_polyhedron_nonempty(R({{-1, -1}, {1, 0}, {0, 1}}), {-3, 1, 2}));
  // Degenerate: y1 - y2 <= 0, -y1 + y2 <= 0 (y1 = y2), -y1 <= -1.
  CHECK(exact_polyhedron_nonempty(R({{1, -1}, {-1, 1}, {-1, 0}}), {0, 0, -1}));
}

namespace {
/// A system given directly by M and lambda (for boundary cases that integer
/// layers do not hit).
ExactSystem system_of(const RationalMatrix& M, const RationalVector& lambda) {
  ExactSystem s;
  s.r = M.rows() / 2;
  s.M = M;
  s.lambda = lambda;
  return s;
}
RationalMatrix diag_matrix(std::initializer_list<long> d) {
  RationalMatrix m(Index(d.size()), Index(d.size()));
  Index i = 0;
  for (long x : d) {
    m(i, i) = x;
    ++i;
  }
  return m;
}
}  // namespace

TEST_CASE("theorem 5 condition at its boundary: v_i = 0 exactly is feasible, -2^-80 is not") {
  RationalMatrix M = diag_matrix({2, 3});
  M(0, 1) = M(1, 0) = 1;
  // v = (1, 0) exactly: lambda = M v = (2, 1).
  ExactColumnDecision d = exact_column_decision(system_of(M, {2, 1}), 1);
  CHECK(d.feasible);
  CHECK(d.min_entry == 0);
  // v = (1, -2^-80): lambda = (2 - 2^-80, 1 - 3 2^-80): infeasible, no tolerance.
  const exact_rational t(exact_int(1), exact_int(1) << 80);
  d = exact_column_decision(system_of(M, {2 - t, 1 - 3 * t}), 1);
  CHECK_FALSE(d.feasible);
  CHECK(d.min_entry == -t);
  // Production in double cannot see 2^-80 against 1: it takes the column branch
  // and clamps (docs/numerics.md, "Column decision"; the margin is reported).
  Matrix<double> Md(2, 2);
  Md << 2, 1, 1, 3;
  Vector<double> lam(2);
  lam << round_to<double>(2 - t), round_to<double>(1 - 3 * t);
  Vector<double> v(2), work(column_solve_work_size(2));
  std::vector<int> iwork(std::size_t(column_solve_iwork_size(2)));
  const ColumnSolveInfo<double> info = solve_column_system(2, Md.data(), 2, lam.data(), 1.0, v.data(), work.data(),
                                                            iwork.data(), ColumnTolerances<double>::defaults(2));
  CHECK(info.feasible());
  CHECK(std::abs(info.margin) <= ColumnTolerances<double>::defaults(2).nonnegative);
}

TEST_CASE("theorem 5 with singular M: exact rank, least change, and the exact LP") {
  SUBCASE("B = 0: rank 2, beta = 1 exactly") {
    Layer<double> l = scalora::test::worked_layer<double>();
    l.B.setZero();
    l.grad_A.setZero();
    const ExactColumnDecision d =
        exact_column_decision(exact_scaling_system(l.A, l.B, l.grad_A, l.grad_B), exact_rational(1, 6));
    CHECK(d.rank == 2);
    CHECK(d.feasible);
    CHECK(d.canonical_exact);
    CHECK(d.v == RationalVector{exact_rational(1, 6), exact_rational(5, 6), exact_rational(1, 6), exact_rational(1, 6)});
  }
  SUBCASE("collinear columns: least change negative, LP feasible, canonical point from the QP") {
    const Layer<double> l = layer_from_gradient<double>(mat<double>(5, 2, {0, 0, 0, 0, 0, 0, 1, 2, 1, 2}),
                                                        mat<double>(5, 2, {1, 0, 1, -1, -1, -1, 0, 0, 0, 0}),
                                                        scalora::test::worked_G<double>());
    const ExactColumnDecision d = exact_column_decision(exact_scaling_system(l.A, l.B, l.grad_A, l.grad_B), 1);
    CHECK(d.rank == 3);
    CHECK(d.feasible);
    CHECK_FALSE(d.canonical_exact);
    CHECK(d.min_entry == exact_rational(-5, 4));  // weighted least change (-5/4, 7/16)
    BoundParameters<double> bp;
    const ReferenceScaling<mp50> ref = reference::optimal_scaling<mp50>(l.A, l.B, l.grad_A, l.grad_B, bp);
    CHECK(ref.applied == branch::column);
    CHECK_FALSE(ref.exact);
    const mp50 tol = mp50(1e-45);
    CHECK(abs(ref.u(0)) <= tol);
    CHECK(abs(ref.u(1) - mp50(1) / 8) <= tol);
    CHECK(abs(ref.u(2) - mp50(1) / 3) <= tol);
    CHECK(abs(ref.u(3) - mp50(1) / 2) <= tol);
  }
  SUBCASE("singular and infeasible: v_1 + 2 v_2 = -1") {
    RationalMatrix M(2, 2);
    M(0, 0) = 1;
    M(0, 1) = M(1, 0) = 2;
    M(1, 1) = 4;
    const ExactColumnDecision d = exact_column_decision(system_of(M, {-1, -2}), 1);
    CHECK(d.rank == 1);
    CHECK_FALSE(d.feasible);
  }
}

TEST_CASE("theorem 3 decided exactly: every case, exact a and b") {
  using scalora::test::worked_layer;
  struct Case {
    Layer<double> layer;
    exact_rational kappa;
    scalar_case kind;
    exact_rational a, b;
  };
  const Layer<double> l4 =
      layer_from_gradient<double>(mat<double>(2, 1, {1, 0}), mat<double>(2, 1, {2, 0}), mat<double>(2, 2, {1, 0, 0, 0}));
  const std::vector<Case> cases = {
      {layer_from_gradient<double>(mat<double>(2, 2, {0, 1, -1, 1}), mat<double>(2, 2, {0, -1, 0, 1}),
                                   mat<double>(2, 2, {1, 1, 0, -1})),
       1, scalar_case::beta_zero, exact_rational(2, 3), 0},
      {layer_from_gradient<double>(mat<double>(2, 2, {0, 0, 1, 0}), mat<double>(2, 2, {-1, 0, -1, -1}),
                                   mat<double>(2, 2, {-2, 1, 0, 1})),
       1, scalar_case::alpha_zero, 0, exact_rational(2, 3)},
      {worked_layer<double>(), exact_rational(1, 6), scalar_case::interior, exact_rational(27, 11), exact_rational(9, 4)},
      {l4, 1, scalar_case::collinear, exact_rational(13, 17), exact_rational(1, 17)},
      {l4, 4, scalar_case::collinear, exact_rational(1, 4), 0},
      {layer_from_gradient<double>(mat<double>(2, 1, {1, 2}), mat<double>(2, 1, {3, 4}), Matrix<double>::Zero(2, 2)), 1,
       scalar_case::zero_gradient, 1, 1},
  };
  for (const Case& c : cases) {
    const ExactScalarDecision d =
        exact_scalar_decision(exact_scaling_system(c.layer.A, c.layer.B, c.layer.grad_A, c.layer.grad_B), c.kappa);
    CHECK_MESSAGE(d.kind == c.kind, to_string(d.kind) << " vs " << to_string(c.kind));
    CHECK(d.a == c.a);
    CHECK(d.b == c.b);
    CHECK(d.C >= 0);
  }
}
