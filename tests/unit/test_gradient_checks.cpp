// SPDX-License-Identifier: Apache-2.0
// The checks that read G (reference/gradient_checks.hpp): products exact on
// integer cases, the gradient residual and its bound against a long double
// evaluation, the uniform factor, a planted error, and the certified
// enclosure of sum_{i<=k} sigma_i(G)^2 against long double singular values on
// both sides of the exact threshold. Bounds: docs/numerics.md, "The checks that read G".
#include <Eigen/SVD>
#include <cmath>
#include <limits>

#include "scalora/reference/gradient_checks.hpp"
#include "test_support.hpp"

using namespace scalora;
using namespace scalora::reference;
using scalora::test::gaussian;

namespace {

constexpr double kU = std::numeric_limits<double>::epsilon() / 2;

/// Integer matrix with entries in [-range, range] (every product and sum below is exact in double).
Matrix<double> integers(Index rows, Index cols, std::uint64_t seed, int range = 9) {
  return (gaussian(rows, cols, seed) * (range / 2.5)).array().round().cwiseMax(-range).cwiseMin(range).matrix();
}

using LongVector = Eigen::Matrix<long double, Eigen::Dynamic, 1>;

/// Singular values in long double (error ~1e-19 relative to sigma_1).
LongVector sigma_long_double(const Matrix<double>& G) {
  return Eigen::BDCSVD<Matrix<long double>>(G.cast<long double>()).singularValues();
}

/// sum_{i<=k} sigma_i^2 from long double singular values.
double energy(const LongVector& sigma, Index k) {
  long double e = 0;
  for (Index i = 0; i < std::min<Index>(k, sigma.size()); ++i) e += sigma(i) * sigma(i);
  return double(e);
}

double energy_long_double(const Matrix<double>& G, Index k) { return energy(sigma_long_double(G), k); }

/// lower <= exact <= upper, with exact known to `slack` (the long double reference's error).
void check_encloses(const LeadingEnergy& le, double exact, const char* what) {
  const double slack = 1e-17 * std::max(1.0, exact);
  INFO(what << ": " << le.method << "; lower " << test::str(le.lower) << ", exact " << test::str(exact) << ", upper "
            << test::str(le.upper));
  CHECK(le.lower <= exact + slack);
  CHECK(exact - slack <= le.upper);
  CHECK(le.lower <= le.upper);
}

/// grad_B = lora_scale G^T A as the F32 training step would store it.
Matrix<double> as_f32(const Matrix<double>& x) { return x.cast<float>().cast<double>(); }

}  // namespace

TEST_CASE("gradient products equal the exact products on integer matrices, for any block and thread count") {
  const Index m = 13, n = 29, r = 3;
  const Matrix<double> G = integers(m, n, 1), A = integers(m, r, 2), B = integers(n, r, 3);
  for (const Index block : {1, 4, 7, 29, 256})
    for (const int threads : {1, 2, 3}) {
      CAPTURE(block);
      CAPTURE(threads);
      GChecksOptions o;
      o.block = block;
      o.threads = threads;
      const GradientProducts p = gradient_products(G, A, B, o);
      CHECK(p.GB == G * B);
      CHECK(p.GtA == G.transpose() * A);
      CHECK(p.abs_GB == G.cwiseAbs() * B.cwiseAbs());
      CHECK(p.abs_GtA == G.cwiseAbs().transpose() * A.cwiseAbs());
    }
}

TEST_CASE("exact gradients: value 0, factor 1, after the factor 0") {
  const Index m = 11, n = 17, r = 2;
  const double s = 2;
  const Matrix<double> G = integers(m, n, 4), A = integers(m, r, 5), B = integers(n, r, 6);
  const GradientChecks c = check_gradients(G, A, B, s * G * B, s * G.transpose() * A, s);
  for (const GradientConsistency* g : {&c.grad_A, &c.grad_B}) {
    CHECK(g->at_s.value == 0);
    CHECK(g->at_s.entrywise == 0);
    CHECK(g->factor == 1);
    CHECK(g->after_factor.value == 0);
  }
  CHECK(c.grad_A.inner == n);
  CHECK(c.grad_B.inner == m);
}

TEST_CASE("the residual's bound holds against a long double evaluation, and F32 gradients pass") {
  const Index m = 40, n = 70, r = 4;
  const double s = 0.5;
  const Matrix<double> G = gaussian(m, n, 7), A = gaussian(m, r, 8), B = gaussian(n, r, 9);
  const Matrix<double> grad_A = as_f32(s * G * B), grad_B = as_f32(s * G.transpose() * A);
  const GradientChecks c = check_gradients(G, A, B, grad_A, grad_B, s);
  // long double: D = grad - lora_scale X Y and || |X||Y| ||_F to ~1e-19 relative.
  using LD = Matrix<long double>;
  auto exact_value = [&](const Matrix<double>& grad, const LD& X, const LD& Y) {
    const LD D = grad.cast<long double>() - (long double)s * (X * Y);
    const LD a = (long double)s * (X.cwiseAbs() * Y.cwiseAbs());
    return double(D.norm() / a.norm());
  };
  const double va = exact_value(grad_A, G.cast<long double>(), B.cast<long double>());
  const double vb = exact_value(grad_B, G.transpose().cast<long double>(), A.cast<long double>());
  CHECK(std::abs(c.grad_A.at_s.value - va) <= c.grad_A.at_s.own + 1e-18);
  CHECK(std::abs(c.grad_B.at_s.value - vb) <= c.grad_B.at_s.own + 1e-18);
  // own is about (k + 1) u; the F32 rounding of the gradients is about 2^-24 relative.
  CHECK(c.grad_A.at_s.own <= (n + 4) * kU);
  CHECK(c.grad_B.at_s.own <= (m + 4) * kU);
  const double eps32 = std::ldexp(1.0, -23);
  CHECK(c.grad_A.at_s.value <= (n + 2) * eps32);
  CHECK(c.grad_B.at_s.value <= (m + 2) * eps32);
  CHECK(c.grad_A.at_s.entrywise <= 1.01 * eps32);  // one rounding to F32, entry by entry
  CHECK(c.grad_B.at_s.entrywise <= 1.01 * eps32);
  CHECK(std::abs(c.grad_A.factor - 1) <= eps32);
}

TEST_CASE("a uniform factor (gradient clipping by 0.37) is found, and the residual after it is at rounding level") {
  const Index m = 30, n = 50, r = 3;
  const double s = 2, clip = 0.37;
  const Matrix<double> G = gaussian(m, n, 10), A = gaussian(m, r, 11), B = gaussian(n, r, 12);
  const Matrix<double> grad_A = clip * (s * G * B), grad_B = clip * (s * G.transpose() * A);
  const GradientChecks c = check_gradients(G, A, B, grad_A, grad_B, s);
  for (const GradientConsistency* g : {&c.grad_A, &c.grad_B}) {
    SCALORA_CHECK_EPS(g->factor, clip, 8.0);
    CHECK(g->at_s.value > 0.1);                    // fails any budget before the factor
    CHECK(g->after_factor.value <= g->after_factor.own);  // at rounding level after it
    CHECK(g->after_factor.entrywise == 0);
  }
}

TEST_CASE("a planted error in one entry is caught at its place; the factor does not hide it") {
  const Index m = 25, n = 40, r = 3;
  const double s = 1;
  const Matrix<double> G = gaussian(m, n, 13), A = gaussian(m, r, 14), B = gaussian(n, r, 15);
  Matrix<double> grad_A = s * G * B;
  const Matrix<double> grad_B = s * G.transpose() * A;
  grad_A(7, 1) += 1e-6 * (G.cwiseAbs() * B.cwiseAbs())(7, 1);
  const GradientChecks c = check_gradients(G, A, B, grad_A, grad_B, s);
  CHECK(c.grad_A.at_s.worst_row == 7);
  CHECK(c.grad_A.at_s.worst_col == 1);
  CHECK(c.grad_A.at_s.entrywise == doctest::Approx(1e-6).epsilon(1e-3));
  CHECK(c.grad_A.at_s.value > 1e-8);
  CHECK(c.grad_A.after_factor.entrywise > 0.5e-6);
  CHECK(c.grad_B.at_s.entrywise <= 2 * (m + 2) * kU);  // Eigen's G^T A against the blocked one
  // A NaN in the gradient: infinite, at its place.
  grad_A(3, 2) = NAN;
  const GradientChecks d = check_gradients(G, A, B, grad_A, grad_B, s);
  CHECK(std::isinf(d.grad_A.at_s.value));
  CHECK(std::isinf(d.grad_A.at_s.entrywise));
  CHECK(d.grad_A.factor == 0);
}

TEST_CASE("Theorem 1, exact path: the enclosure holds and is as narrow as rounding") {
  struct Shape {
    Index m, n, rank;
  };
  for (const Shape sh : {Shape{30, 50, 0}, Shape{50, 30, 0}, Shape{60, 90, 3}, Shape{90, 60, 7}, Shape{1, 20, 0}}) {
    const Matrix<double> G = sh.rank ? Matrix<double>(gaussian(sh.m, sh.rank, 20) * gaussian(sh.rank, sh.n, 21))
                                     : gaussian(sh.m, sh.n, 22);
    for (const Index k : {1, 4, 16}) {
      CAPTURE(sh.m);
      CAPTURE(sh.n);
      CAPTURE(k);
      const LeadingEnergy le = leading_energy_bounds(G, k);
      const double exact = energy_long_double(G, k);
      check_encloses(le, exact, "exact");
      CHECK(le.exact);
      CHECK(le.upper - le.lower <= 1e-10 * exact);
    }
  }
}

TEST_CASE("Theorem 1, randomized path (forced on small matrices): the enclosure holds") {
  struct Shape {
    Index m, n, rank;
    double noise;
  };
  for (const Shape sh : {Shape{40, 60, 0, 0}, Shape{60, 40, 0, 0}, Shape{100, 150, 5, 0}, Shape{150, 100, 20, 0},
                         Shape{120, 200, 18, 1e-3}}) {
    Matrix<double> G = sh.rank ? Matrix<double>(gaussian(sh.m, sh.rank, 30) * gaussian(sh.rank, sh.n, 31))
                               : gaussian(sh.m, sh.n, 32);
    if (sh.noise > 0) G += sh.noise * gaussian(sh.m, sh.n, 33);
    const LongVector sigma = sigma_long_double(G);
    for (const Index k : {1, 4, 16})
      for (const int q : {0, 1, 3})
        for (const int threads : {1, 2}) {
          CAPTURE(sh.m);
          CAPTURE(sh.n);
          CAPTURE(sh.rank);
          CAPTURE(k);
          CAPTURE(q);
          CAPTURE(threads);
          GChecksOptions o;
          o.exact_below = 0;
          o.power_iterations = q;
          o.threads = threads;
          o.block = 16;
          const LeadingEnergy le = leading_energy_bounds(G, k, o);
          REQUIRE_FALSE(le.exact);
          CHECK(le.vectors == k + 8);
          CHECK(le.passes == 2 * q + 1);
          const double exact = energy(sigma, k);
          check_encloses(le, exact, "randomized");
          // Tight where G's spectrum ends within p = k + 8 values.
          if (sh.rank > 0 && sh.rank <= k + 8 && q >= 1)
            CHECK(le.upper - le.lower <= (sh.noise > 0 ? 1e-3 : 1e-9) * exact);
        }
  }
}

TEST_CASE("Theorem 1 on both sides of the default threshold, and the trivial cases") {
  const Matrix<double> at = gaussian(256, 300, 40), above = gaussian(257, 300, 41);
  const LeadingEnergy le_at = leading_energy_bounds(at, 16), le_above = leading_energy_bounds(above, 16);
  CHECK(le_at.exact);
  CHECK_FALSE(le_above.exact);
  check_encloses(le_at, energy_long_double(at, 16), "min(m, n) = 256");
  check_encloses(le_above, energy_long_double(above, 16), "min(m, n) = 257");

  const Matrix<double> G = gaussian(12, 7, 42);
  const LeadingEnergy all = leading_energy_bounds(G, 7);  // k >= min(m, n): ||G||_F^2
  check_encloses(all, G.squaredNorm(), "k = min(m, n)");
  CHECK(all.upper - all.lower <= 1e-13 * all.upper);
  const LeadingEnergy none = leading_energy_bounds(G, 0);
  CHECK(none.lower == 0);
  CHECK(none.upper == 0);
  const LeadingEnergy zero = leading_energy_bounds(Matrix<double>::Zero(30, 40), 4);
  CHECK(zero.lower == 0);
  CHECK(zero.upper >= 0);
  CHECK(zero.upper <= 1e-300);
}

TEST_CASE("g_checks shares the passes and agrees with the separate functions") {
  const Index m = 70, n = 90, r = 3, k = 2 * r;
  const double s = 1.5;
  const Matrix<double> G = gaussian(m, n, 50), A = gaussian(m, r, 51), B = gaussian(n, r, 52);
  const Matrix<double> grad_A = as_f32(s * G * B), grad_B = as_f32(s * G.transpose() * A);
  GChecksOptions o;
  o.exact_below = 16;
  o.block = 32;
  const GChecks f = g_checks(G, A, B, grad_A, grad_B, s, k, o);
  const GradientChecks g = check_gradients(G, A, B, grad_A, grad_B, s, o);
  const LeadingEnergy le = leading_energy_bounds(G, k, o);
  CHECK(f.reads == o.power_iterations + 1);
  // [Q, A]^T G_j against Q^T G_j: the same sums, possibly in another order.
  CHECK(std::abs(f.theorem1.lower - le.lower) <= 1e-12 * le.upper);
  CHECK(std::abs(f.theorem1.upper - le.upper) <= 1e-12 * le.upper);
  for (const auto& [x, y] : {std::pair{&f.gradients.grad_A, &g.grad_A}, std::pair{&f.gradients.grad_B, &g.grad_B}}) {
    CHECK(std::abs(x->at_s.value - y->at_s.value) <= x->at_s.own);
    CHECK(std::abs(x->factor - y->factor) <= 1e-12);
  }
  check_encloses(f.theorem1, energy_long_double(G, k), "fused");
}

TEST_CASE("invalid arguments throw invalid_argument naming the argument") {
  const Matrix<double> G = gaussian(6, 5, 60), A = gaussian(6, 2, 61), B = gaussian(5, 2, 62);
  CHECK_THROWS_AS(gradient_products(G, B, B), invalid_argument);
  CHECK_THROWS_AS(check_gradients(G, A, B, B, B, 1.0), invalid_argument);
  CHECK_THROWS_AS(leading_energy_bounds(G, -1), invalid_argument);
  Matrix<double> bad = G;
  bad(2, 3) = INFINITY;
  CHECK_THROWS_AS(leading_energy_bounds(bad, 2), invalid_argument);
  GChecksOptions o;
  o.exact_below = 0;
  CHECK_THROWS_AS(leading_energy_bounds(Matrix<double>(gaussian(40, 50, 63).array() * NAN), 2, o), invalid_argument);
}
