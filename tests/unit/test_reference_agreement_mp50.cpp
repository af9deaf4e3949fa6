// SPDX-License-Identifier: Apache-2.0
// Double and float results of scalora_step against the reference (exact
// decisions, values in cpp_bin_float_50), within the budgets of
// reference/budget.hpp (derived in docs/numerics.md).
#include "scalora/reference.hpp"
#include "scalora/reference/compare.hpp"
#include <map>
#include <sstream>

#include "test_support.hpp"

using namespace scalora;
using namespace scalora::reference;
using scalora::test::gaussian;

namespace {

struct Shape {
  Index m, n, r;
};

/// Layer with gradients from an explicit G = X Y^T + noise (rank-k signal), factors
/// of given magnitudes, and AdamW moments.
template <class S>
Layer<S> make_layer(Shape sh, std::uint64_t seed, double a_scale, double b_scale, double g_scale) {
  const Matrix<double> G =
      g_scale * (gaussian(sh.m, 3, seed) * gaussian(sh.n, 3, seed + 1).transpose() + 0.1 * gaussian(sh.m, sh.n, seed + 2));
  Layer<double> l;
  l.A = a_scale * gaussian(sh.m, sh.r, seed + 3);
  l.B = b_scale * gaussian(sh.n, sh.r, seed + 4);
  l.grad_A = G * l.B;
  l.grad_B = G.transpose() * l.A;
  l.W_pt = gaussian(sh.m, sh.n, seed + 5);
  l.moments.exp_avg_A = g_scale * gaussian(sh.m, sh.r, seed + 6);
  l.moments.exp_avg_sq_A = g_scale * g_scale * gaussian(sh.m, sh.r, seed + 7).cwiseAbs();
  l.moments.exp_avg_B = g_scale * gaussian(sh.n, sh.r, seed + 8);
  l.moments.exp_avg_sq_B = g_scale * g_scale * gaussian(sh.n, sh.r, seed + 9).cwiseAbs();
  return cast_layer<S>(l);
}

struct Tally {
  int column = 0, scalar = 0;
  double worst_u_ratio = 0;                // measured error / budget
  std::map<std::string, double> worst;     // worst value of each check
  std::string report() const {
    std::ostringstream os;
    os << "column " << column << ", scalar " << scalar << ", worst optimality shortfall / budget " << worst_u_ratio;
    for (const auto& [name, value] : worst) os << "\n  worst " << name << ": " << value;
    return os.str();
  }
};

/// Runs the step and the reference on one layer and requires every check of
/// compare_step (reference/compare.hpp) to pass.
template <class S>
void check_agreement(const Layer<S>& input, const BoundParameters<accumulate_t<S>>& bp, Tally& tally,
                     const std::string& name) {
  using Acc = accumulate_t<S>;
  CAPTURE(name);
  Layer<S> layer = input;
  StepOptions<Acc> o;
  o.bound = bp;
  const StepResult<Acc> res = scalora_step(layer, o);
  const BoundParameters<double> bpd{double(bp.L), double(bp.lr), double(bp.lora_scale)};
  const Comparison cmp = compare_step(input, layer, res.scaling.alpha.template cast<double>().eval(),
                                      res.scaling.beta.template cast<double>().eval(), bpd);
  // The library's step passes its judge (inconclusive would need an ill-conditioned M; none here).
  for (const Check& c : cmp.checks)
    if (c.decides())
      CHECK_MESSAGE(c.status == check_status::pass, c.id << ": " << c.value << " > tolerance " << c.tolerance << " "
                                                          << c.detail);
  (res.scaling.applied == branch::column ? tally.column : tally.scalar)++;
  for (const Check& c : cmp.checks)
    if (c.decides()) tally.worst[c.id] = std::max(tally.worst[c.id], c.value);
  if (const Check* u = cmp.find("optimality"); u && u->tolerance > 0)
    tally.worst_u_ratio = std::max(tally.worst_u_ratio, u->value / u->tolerance);
}

}  // namespace

TEST_CASE_TEMPLATE("float and double steps agree with the reference", S, double, float) {
  Tally tally;
  const std::vector<Shape> shapes = {{64, 48, 4}, {40, 40, 8}, {5, 3, 4}, {3, 9, 2}, {96, 80, 1}};
  BoundParameters<accumulate_t<S>> bp;
  bp.L = 4;
  bp.lr = 0.05;
  std::uint64_t seed = 1000;
  for (const Shape& sh : shapes)
    for (double b_scale : {1e-2, 1.0})
      for (int rep = 0; rep < 4; ++rep) {
        seed += 17;
        check_agreement(make_layer<S>(sh, seed, 1.0, b_scale, 1.0), bp, tally,
                        "shape " + std::to_string(sh.m) + "x" + std::to_string(sh.n) + " r" + std::to_string(sh.r) +
                            " seed " + std::to_string(seed));
      }
  // Both branches must be exercised for the test to mean anything.
  CHECK(tally.column > 0);
  CHECK(tally.scalar > 0);
  MESSAGE(tally.report());
}

TEST_CASE("double steps agree with the reference at magnitudes 1e-30 and 1e30") {
  Tally tally;
  BoundParameters<double> bp;
  bp.L = 2;
  bp.lr = 1e-3;
  std::uint64_t seed = 5000;
  for (double a_scale : {1e-30, 1.0, 1e30})
    for (double g_scale : {1e-30, 1e30}) {
      seed += 31;
      check_agreement(make_layer<double>({24, 20, 3}, seed, a_scale, 1e-2, g_scale), bp, tally,
                      "A scale " + std::to_string(a_scale) + " G scale " + std::to_string(g_scale));
    }
  MESSAGE(tally.report());
}

TEST_CASE("double steps agree with the reference on ill-conditioned factors") {
  Tally tally;
  BoundParameters<double> bp;
  bp.L = 1;
  bp.lr = 1e-2;
  for (double cond_a : {1e3, 1e6}) {
    Layer<double> l = make_layer<double>({50, 30, 4}, 77, 1.0, 1e-1, 1.0);
    // Columns of A with geometric scales: cond(A) ~ cond_a.
    for (Index j = 0; j < 4; ++j) l.A.col(j) *= std::pow(cond_a, -double(j) / 3);
    const Matrix<double> G = gaussian(50, 30, 78);
    l.grad_A = G * l.B;
    l.grad_B = G.transpose() * l.A;
    check_agreement(l, bp, tally, "cond(A) " + std::to_string(cond_a));
  }
  MESSAGE(tally.report());
}
