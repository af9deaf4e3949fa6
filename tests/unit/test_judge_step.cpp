// SPDX-License-Identifier: Apache-2.0
// reference::judge_step (reference/judge_step.hpp), the judgement the kernels'
// checks and the trainer's shadow verification share: a library step passes,
// and each planted fault -- a rescaled factor off by 2^-10, a wrong reported
// scaling, a moved W_pt entry, a skipped step reported as non-finite, a
// non-finite step that wrote -- fails with the check that names it.
#include <doctest/doctest.h>

#include "scalora/reference/judge_step.hpp"
#include "test_support.hpp"

using namespace scalora;
using namespace scalora::reference;

namespace {

/// A float layer with W_pt and AdamW moments, gradients of a rank-3 G plus noise.
Layer<float> random_layer(std::uint64_t seed) {
  const Index m = 24, n = 16, r = 4;
  const Matrix<double> G = test::gaussian(m, 3, seed) * test::gaussian(3, n, seed + 1) +
                           0.1 * test::gaussian(m, n, seed + 2);
  Layer<double> l = test::layer_from_gradient<double>(test::gaussian(m, r, seed + 3) / std::sqrt(double(m)),
                                                      0.1 * test::gaussian(n, r, seed + 4), G);
  l.W_pt = test::gaussian(m, n, seed + 5);
  l.moments.exp_avg_A = 0.1 * test::gaussian(m, r, seed + 6);
  l.moments.exp_avg_sq_A = 0.01 * test::gaussian(m, r, seed + 7).cwiseAbs();
  l.moments.exp_avg_B = 0.1 * test::gaussian(n, r, seed + 8);
  l.moments.exp_avg_sq_B = 0.01 * test::gaussian(n, r, seed + 9).cwiseAbs();
  return cast_layer<float>(l);
}

struct Stepped {
  Layer<float> before, after;
  StepResult<double> result;
  BoundParameters<double> bound{4.0, 0.05, 2.0};
};

Stepped library_step(std::uint64_t seed) {
  Stepped s;
  s.before = random_layer(seed);
  s.after = s.before;
  StepOptions<double> o;
  o.bound = s.bound;
  s.result = scalora_step(s.after, o);
  return s;
}

Comparison judge(const Stepped& s, const Layer<float>& after, const StepOutcome<double>& outcome,
                 const Vector<double>& alpha, const Vector<double>& beta) {
  return judge_step(s.before, after, outcome, alpha, beta, s.bound);
}

check_status status_of(const Comparison& c, const std::string& id) {
  const Check* k = c.find(id);
  REQUIRE_MESSAGE(k != nullptr, "no check " << id);
  return k->status;
}

}  // namespace

TEST_CASE("judge_step: the library's step passes on every check, for several layers") {
  for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
    const Stepped s = library_step(seed * 17);
    const Comparison c = judge(s, s.after, s.result, s.result.scaling.alpha, s.result.scaling.beta);
    INFO(describe(c, "seed " + std::to_string(seed)));
    CHECK(c.status() == verdict_status::pass);
    CHECK(c.find("optimality") != nullptr);
    CHECK(c.find("W_unchanged") != nullptr);
    CHECK(c.find("out.exp_avg_sq_B") != nullptr);
  }
}

TEST_CASE("judge_step: planted faults fail, each in the check that names it") {
  const Stepped s = library_step(5);
  const Vector<double>& alpha = s.result.scaling.alpha;
  const Vector<double>& beta = s.result.scaling.beta;

  SUBCASE("a rescaled factor column off by 2^-10") {
    Layer<float> bad = s.after;
    bad.A.col(0) *= 1.0f + 1.0f / 1024.0f;
    const Comparison c = judge(s, bad, s.result, alpha, beta);
    CHECK(c.status() == verdict_status::fail);
    CHECK(status_of(c, "out.A") == check_status::fail);
    CHECK(describe(c, "L").find("FAIL L: out.A") != std::string::npos);
  }
  SUBCASE("the reported scalings halved (the layer as computed)") {
    const Comparison c = judge(s, s.after, s.result, Vector<double>(alpha / 2), beta);
    CHECK(c.status() == verdict_status::fail);
    CHECK(status_of(c, "optimality") == check_status::fail);
  }
  SUBCASE("a W_pt entry moved by one part in 2^10") {
    Layer<float> bad = s.after;
    bad.W_pt(3, 2) *= 1.0f + 1.0f / 1024.0f;
    const Comparison c = judge(s, bad, s.result, alpha, beta);
    CHECK(status_of(c, "W_unchanged") == check_status::fail);
  }
  SUBCASE("an exp_avg_sq column not transferred") {
    Layer<float> bad = s.after;
    bad.moments.exp_avg_sq_A.col(1) = s.before.moments.exp_avg_sq_A.col(1);
    const Comparison c = judge(s, bad, s.result, alpha, beta);
    CHECK(status_of(c, "out.exp_avg_sq_A") == check_status::fail);
  }
  SUBCASE("a finite layer reported as non-finite (the step skipped)") {
    StepOutcome<double> o = s.result;
    o.nonfinite = true;
    const Vector<double> one = Vector<double>::Ones(alpha.size());
    const Comparison c = judge(s, s.before, o, one, one);
    CHECK(c.status() == verdict_status::fail);
    CHECK(status_of(c, "outcome.nonfinite") == check_status::fail);
  }
}

TEST_CASE("judge_step: a non-finite input must leave the layer unchanged") {
  Stepped s = library_step(9);
  s.before.grad_B(0, 0) = std::numeric_limits<float>::quiet_NaN();
  StepOutcome<double> o;
  o.nonfinite = true;
  const Vector<double> one = Vector<double>::Ones(s.before.A.cols());
  const Comparison same = judge(s, s.before, o, one, one);
  CHECK(status_of(same, "outcome.unchanged") == check_status::pass);
  Layer<float> wrote = s.before;
  wrote.B(1, 1) = 0;
  const Comparison changed = judge(s, wrote, o, one, one);
  CHECK(status_of(changed, "outcome.unchanged") == check_status::fail);
  CHECK(changed.find("outcome.unchanged")->value == 1);
}
