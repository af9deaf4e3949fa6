// SPDX-License-Identifier: Apache-2.0
// The reference in MPFR (mpfr50) agrees with the reference in cpp_bin_float_50:
// two independent multiprecision implementations of the same exact decisions.
#include "scalora/reference.hpp"
#include "test_support.hpp"

using namespace scalora;
using namespace scalora::reference;
using scalora::test::gaussian;

TEST_CASE("mpfr50 and cpp_bin_float_50 references agree to 1e-45") {
  for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
    const Matrix<double> G = gaussian(30, 20, seed);
    Layer<double> l;
    l.A = gaussian(30, 3, seed + 10);
    l.B = 0.1 * gaussian(20, 3, seed + 20);
    l.grad_A = G * l.B;
    l.grad_B = G.transpose() * l.A;
    l.W_pt = gaussian(30, 20, seed + 30);
    StepOptions<double> o;
    o.bound.L = 3;
    o.bound.lr = 0.02;
    const ReferenceStep<mp50> a = reference::scalora_step<mp50>(l, o);
    const ReferenceStep<mpfr50> b = reference::scalora_step<mpfr50>(l, o);
    CHECK(a.scaling.applied == b.scaling.applied);
    CHECK(a.scaling.column.feasible == b.scaling.column.feasible);
    for (Index i = 0; i < 3; ++i) {
      CHECK(abs(mp50(b.scaling.alpha(i)) - a.scaling.alpha(i)) <= mp50(1e-45) * abs(a.scaling.alpha(i)));
      CHECK(abs(mp50(b.scaling.beta(i)) - a.scaling.beta(i)) <= mp50(1e-45) * abs(a.scaling.beta(i)));
    }
    mp50 worst = 0;
    for (Index i = 0; i < 30; ++i)
      for (Index j = 0; j < 20; ++j)
        worst = std::max(worst, mp50(abs(mp50(b.layer.W_pt(i, j)) - a.layer.W_pt(i, j))));
    CHECK(worst <= mp50(1e-44));
  }
}
