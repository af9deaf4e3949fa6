// SPDX-License-Identifier: Apache-2.0
// The range rules of docs/numerics.md ("Range: overflow and underflow"): finite
// inputs whose system or scalings leave the types' range are reported in
// the step outcome (core/step_outcome.hpp) and change nothing; the degenerate X = 0 with x > 0 keeps 1.
// The fuzzers (fuzz/step_core_fuzz.cpp) search for violations at random.
#include <cmath>
#include <limits>

#include "test_support.hpp"

using namespace scalora;
using scalora::test::gaussian;

namespace {

template <class S>
Layer<S> layer_of(double scale) {
  Layer<S> l;
  l.W_pt = (gaussian(6, 5, 1) * scale).cast<S>();
  l.A = (gaussian(6, 2, 2) * scale).cast<S>();
  l.B = (gaussian(5, 2, 3) * scale).cast<S>();
  l.grad_A = (gaussian(6, 2, 4) * scale).cast<S>();
  l.grad_B = (gaussian(5, 2, 5) * scale).cast<S>();
  l.moments.exp_avg_A = (gaussian(6, 2, 6) * scale).cast<S>();
  l.moments.exp_avg_sq_A = (gaussian(6, 2, 7) * scale).cwiseAbs().cast<S>();
  l.moments.exp_avg_B = (gaussian(5, 2, 8) * scale).cast<S>();
  l.moments.exp_avg_sq_B = (gaussian(5, 2, 9) * scale).cwiseAbs().cast<S>();
  return l;
}

template <class S>
bool unchanged(const Layer<S>& a, const Layer<S>& b) {
  return a.W_pt == b.W_pt && a.A == b.A && a.B == b.B && a.grad_A == b.grad_A && a.grad_B == b.grad_B &&
         a.moments.exp_avg_A == b.moments.exp_avg_A && a.moments.exp_avg_sq_A == b.moments.exp_avg_sq_A &&
         a.moments.exp_avg_B == b.moments.exp_avg_B && a.moments.exp_avg_sq_B == b.moments.exp_avg_sq_B;
}

}  // namespace

TEST_CASE("an overflowing system (entries 1e100: M ~ 1e400) is reported, nothing written") {
  Layer<double> l = layer_of<double>(1e100);
  const Layer<double> before = l;
  StepOptions<double> o;
  o.bound.L = 1;
  o.bound.lr = 1e-3;
  const StepResult<double> r = scalora_step(l, o);
  CHECK(r.nonfinite);
  CHECK(unchanged(l, before));
  CHECK((r.scaling.alpha.array() == 1.0).all());
  CHECK((r.scaling.beta.array() == 1.0).all());
  CHECK(std::isnan(r.bound_decrease));
}

TEST_CASE("scalings a float layer cannot hold (kappa = 1e-300) are reported and not applied") {
  Layer<float> l = layer_of<float>(1.0);
  const Layer<float> before = l;
  StepOptions<double> o;
  o.bound.L = 1e-150;
  o.bound.lr = 1e-150;  // u ~ 1 / kappa ~ 1e300: alpha ~ 1e150 > FLT_MAX
  const StepResult<double> r = scalora_step(l, o);
  CHECK(r.not_representable);
  CHECK_FALSE(r.nonfinite);
  CHECK(unchanged(l, before));
  CHECK((r.scaling.alpha.array() == 1.0).all());
  CHECK(r.bound_decrease == r.vanilla_bound_decrease);

  // The same layer in double holds them: applied, every entry finite.
  Layer<double> d = layer_of<double>(1.0);
  const StepResult<double> rd = scalora_step(d, o);
  CHECK_FALSE(rd.not_representable);
  CHECK(d.A.allFinite());
  CHECK(d.W_pt.allFinite());
  CHECK(d.moments.exp_avg_sq_B.allFinite());
}

TEST_CASE("X = Y = 0 with grad_A != 0 (gradients of no common G): the free scalings stay 1") {
  // B = 0 forces Y = G B B^T = 0 and, for a true gradient, grad_A = G B = 0;
  // here grad_A is not, so the bound is unbounded below along beta (D6).
  Layer<double> l = layer_of<double>(1.0);
  l.A.setZero();
  l.B.setZero();
  l.grad_B.setZero();
  StepOptions<double> o;
  o.bound.L = 1;
  o.bound.lr = 1e-3;
  o.mode = scaling_mode::scalar_only;
  const StepResult<double> r = scalora_step(l, o);
  CHECK(r.scaling.alpha(0) == 1.0);
  CHECK(r.scaling.beta(0) == 1.0);
  CHECK(std::isfinite(r.bound_decrease));
  CHECK(l.grad_A.allFinite());
}

TEST_CASE("a merge column with c_k != 0 but B_k = 0 adds exact zeros to W_pt") {
  Layer<float> l = layer_of<float>(1.0);
  l.B.col(1).setZero();
  l.A.col(0).setZero();
  const Matrix<float> W0 = l.W_pt;
  StepOptions<double> o;
  o.bound.L = 1;
  o.bound.lr = 1e-3;
  scalora_step(l, o);
  // Both columns have A_k = 0 or B_k = 0: the merge changes nothing.
  CHECK(l.W_pt == W0);
}

TEST_CASE("the hybrid guard: a column scaling below Theorem 3's decrease beyond rounding is a failed solve") {
  // core/hybrid_rule.hpp: Theorem 5's optimum is at least Theorem 3's.
  CHECK(column_decrease_admissible(3.0e8, 2.0e8, 0.0));
  CHECK(column_decrease_admissible(2.0e8, 2.0e8, 0.0));
  CHECK(column_decrease_admissible(2.0e8 - 1, 2.0e8, 1.0));      // within the rounding
  CHECK_FALSE(column_decrease_admissible(2.0e8 - 2, 2.0e8, 1.0));  // beyond it
  CHECK_FALSE(column_decrease_admissible(0.45 * 3.0e8, 3.0e8, 1e-8));  // 45% of the scalar decrease
  CHECK_FALSE(column_decrease_admissible(-4.4e17, 3.0e8, 0.0));
  CHECK_FALSE(column_decrease_admissible(std::nan(""), 3.0e8, 0.0));
  // The rounding bound of a decrease is gamma_{2 n2 + 8} (|lambda|^T |u| + kappa |u|^T |M| |u| / 2).
  const double M[4] = {2, -1, -1, 3}, lambda[2] = {1, -1}, u[2] = {0.5, 2};
  const double expected = (1 * 0.5 + 1 * 2 + 1.0 / 2 * (2 * 0.25 + 2 * 1 * 0.5 * 2 + 3 * 4)) * 12 * 0x1p-53;
  CHECK(decrease_per_lr_rounding(2, M, lambda, u, 1.0) >= expected);
  CHECK(decrease_per_lr_rounding(2, M, lambda, u, 1.0) <= 1.02 * expected);

  // The case of the long property run (kernel_properties.cu; shrunk by
  // RapidCheck): m 4, n 1, r 2, |A| 1e-30 with cond(A) 1e8, |B| 1e10, G of
  // rank 1 and size 1e5. M is singular (n = 1 < 2r) and ill-conditioned; the
  // exact decision is scalar (least-change margin -1), but the least-distance
  // solve returned a non-negative v far from M v = lambda whose decrease,
  // -4.4e17, is below the scalar scaling's 3.0e8.
  Layer<double> l;
  l.A = Matrix<double>(4, 2);
  l.A << 2.8793852906503111e-31, -3.6614002947874924e-39, 6.9854966484189887e-31, -1.4632948446549889e-38,
      -8.6765620203624966e-31, 7.1159775495249209e-39, -3.3261092001213828e-31, -9.5954580813787424e-40;
  l.B = Matrix<double>(1, 2);
  l.B << -7428648714.4490261, 20113410962.722736;
  l.grad_A = Matrix<double>(4, 2);
  l.grad_A << -78577280216888.422, 212751630893684.09, 240899256904055.62, -652245911871088.38,
      -134581142081322.05, 364384684559010.75, 227091883904529.56, -614861809037566.88;
  l.grad_B = Matrix<double>(1, 2);
  l.grad_B << -2.5158221641992931e-26, 5.9404410555300378e-34;
  StepOptions<double> options;
  options.bound.L = 4;
  options.bound.lr = 0.05;
  const StepResult<double> res = scalora_step(l, options);
  CHECK(res.scaling.applied == branch::scalar);
  CHECK(res.scalar_fallback);
  CHECK(res.column_rejected);
  CHECK(res.column_bound_decrease < 0);
  CHECK(res.bound_decrease == res.scalar_bound_decrease);
  CHECK(res.bound_decrease > 0);
  MESSAGE("column solve: " << std::string(to_string(res.scaling.column.method)) << ", rejected " << res.column_rejected
                           << ", column decrease " << res.column_bound_decrease << ", scalar "
                           << res.scalar_bound_decrease);
}
