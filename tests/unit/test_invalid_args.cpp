// SPDX-License-Identifier: Apache-2.0
// Invalid inputs raise scalora::invalid_argument naming the argument, and
// nothing is written before the check.
#include <limits>

#include "test_support.hpp"

using namespace scalora;
using scalora::test::gaussian;

namespace {
Layer<double> valid_layer() {
  Layer<double> l;
  l.W_pt = gaussian(6, 5, 1);
  l.A = gaussian(6, 2, 2);
  l.B = gaussian(5, 2, 3);
  l.grad_A = gaussian(6, 2, 4);
  l.grad_B = gaussian(5, 2, 5);
  l.moments.exp_avg_A = gaussian(6, 2, 6);
  l.moments.exp_avg_sq_A = gaussian(6, 2, 7).cwiseAbs();
  l.moments.exp_avg_B = gaussian(5, 2, 8);
  l.moments.exp_avg_sq_B = gaussian(5, 2, 9).cwiseAbs();
  return l;
}
StepOptions<double> valid_options() {
  StepOptions<double> o;
  o.bound.L = 2;
  o.bound.lr = 1e-2;
  return o;
}

/// Equal entry by entry, NaN equal to NaN (the layer must be left as it was).
bool same(const Matrix<double>& a, const Matrix<double>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         (a.array() == b.array() || (a.array().isNaN() && b.array().isNaN())).all();
}

/// Runs the step, expects invalid_argument for `name` with `problem`, and
/// checks that the layer is untouched.
void expect_rejected(Layer<double> l, const StepOptions<double>& o, const std::string& name,
                     argument_problem problem) {
  const Layer<double> before = l;
  bool thrown = false;
  try {
    scalora_step(l, o);
  } catch (const invalid_argument& e) {
    thrown = true;
    CHECK_MESSAGE(e.argument() == name, "argument " << e.argument() << ", expected " << name);
    CHECK(e.problem() == problem);
    const std::string what = e.what();
    CHECK_MESSAGE(what.find(name) != std::string::npos, what);
    CHECK_MESSAGE(what.find("[scalora.invalid_argument.") == 0, what);
  }
  CHECK_MESSAGE(thrown, "no exception for " << name);
  CHECK(same(l.W_pt, before.W_pt));
  CHECK(same(l.A, before.A));
  CHECK(same(l.B, before.B));
  CHECK(same(l.grad_A, before.grad_A));
  CHECK(same(l.grad_B, before.grad_B));
  CHECK(same(l.moments.exp_avg_A, before.moments.exp_avg_A));
  CHECK(same(l.moments.exp_avg_sq_B, before.moments.exp_avg_sq_B));
}
}  // namespace

TEST_CASE("a valid layer passes") {
  Layer<double> l = valid_layer();
  CHECK_NOTHROW(scalora_step(l, valid_options()));
}

TEST_CASE("NaN and Inf in every matrix are rejected by name") {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  struct Target {
    const char* name;
    Matrix<double> Layer<double>::*member;
  };
  for (const Target t : {Target{"W_pt", &Layer<double>::W_pt}, Target{"A", &Layer<double>::A},
                         Target{"B", &Layer<double>::B}, Target{"grad_A", &Layer<double>::grad_A},
                         Target{"grad_B", &Layer<double>::grad_B}}) {
    for (const double bad : {nan, inf, -inf}) {
      Layer<double> l = valid_layer();
      (l.*t.member)(1, 1) = bad;
      expect_rejected(l, valid_options(), t.name, argument_problem::non_finite);
    }
  }
  Layer<double> l = valid_layer();
  l.moments.exp_avg_sq_B(0, 1) = nan;
  expect_rejected(l, valid_options(), "exp_avg_sq_B", argument_problem::non_finite);
}

TEST_CASE("mismatched shapes are rejected by name") {
  Layer<double> l = valid_layer();
  l.B = gaussian(5, 3, 3);
  expect_rejected(l, valid_options(), "B", argument_problem::shape_mismatch);
  l = valid_layer();
  l.grad_A = gaussian(6, 3, 3);
  expect_rejected(l, valid_options(), "grad_A", argument_problem::shape_mismatch);
  l = valid_layer();
  l.grad_B = gaussian(4, 2, 3);
  expect_rejected(l, valid_options(), "grad_B", argument_problem::shape_mismatch);
  l = valid_layer();
  l.W_pt = gaussian(5, 6, 3);
  expect_rejected(l, valid_options(), "W_pt", argument_problem::shape_mismatch);
  l = valid_layer();
  l.moments.exp_avg_B = gaussian(6, 2, 3);
  expect_rejected(l, valid_options(), "exp_avg_B", argument_problem::shape_mismatch);
}

TEST_CASE("kappa <= 0 (L, lr, lora_scale) and r = 0 are rejected by name") {
  StepOptions<double> o = valid_options();
  o.bound.L = 0;
  expect_rejected(valid_layer(), o, "L", argument_problem::out_of_range);
  o = valid_options();
  o.bound.lr = -1e-3;
  expect_rejected(valid_layer(), o, "lr", argument_problem::out_of_range);
  o = valid_options();
  o.bound.lora_scale = 0;
  expect_rejected(valid_layer(), o, "lora_scale", argument_problem::out_of_range);
  o = valid_options();
  o.bound.L = std::numeric_limits<double>::infinity();
  expect_rejected(valid_layer(), o, "L", argument_problem::out_of_range);
  // Each positive and finite, but kappa = L lr lora_scale^2 underflows below the
  // smallest normal (1 / kappa would overflow) or overflows.
  o = valid_options();
  o.bound.L = 1e-160;
  o.bound.lr = 1e-160;
  expect_rejected(valid_layer(), o, "kappa = L lr lora_scale^2", argument_problem::out_of_range);
  o = valid_options();
  o.bound.L = 1e160;
  o.bound.lr = 1e160;
  expect_rejected(valid_layer(), o, "kappa = L lr lora_scale^2", argument_problem::out_of_range);

  Layer<double> l;
  l.A.resize(6, 0);
  l.B.resize(5, 0);
  l.grad_A.resize(6, 0);
  l.grad_B.resize(5, 0);
  expect_rejected(l, valid_options(), "A", argument_problem::out_of_range);

  const ScalingSystem<double> sys = scaling_system(gaussian(4, 1, 1), gaussian(3, 1, 2), gaussian(4, 1, 3),
                                                   gaussian(3, 1, 4));
  CHECK_THROWS_AS(column_scaling(sys, 0.0, ScalingTolerances<double>::defaults(1)), invalid_argument);
  CHECK_THROWS_AS(svd_optimum(gaussian(3, 3, 1), 0, 1.0, 1.0), invalid_argument);
  Matrix<double> G = gaussian(3, 3, 1);
  G(2, 0) = std::numeric_limits<double>::quiet_NaN();
  try {
    svd_optimum(G, 1, 1.0, 1.0);
    FAIL("no exception");
  } catch (const invalid_argument& e) {
    CHECK(e.argument() == "G");
    CHECK(std::string(e.what()).find("(2,0)") != std::string::npos);
  }
}
