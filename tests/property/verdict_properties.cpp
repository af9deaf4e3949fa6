// SPDX-License-Identifier: Apache-2.0
// Property-based tests (RapidCheck) of the optimality verdict on hard layers
// (tests/support/hard_layers.hpp: near-collinear and duplicated columns, PEFT
// zero initialisation, rank-deficient G, m or n < 2r, mixed column and row
// magnitudes, near-zero decision margins, inconsistent gradients):
//   * the library's own step (scalora_step, float and double storage) is never
//     judged FAIL by compare_step (PASS or INCONCLUSIVE);
//   * the certified path and the exact path decide Theorem 5's condition and
//     Theorem 3's case identically, and every exact value lies inside its
//     certified enclosure;
//   * a wrong step (the optimum's squared scalings halved: kappa off by 2) is
//     judged FAIL wherever the budget is meaningful.
// CTest: 200 cases per property (label property), 10^4 under label long; the
// counts of pass / fail / inconclusive are printed (docs/theorems.md).
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <rapidcheck.h>

#include "hard_layers.hpp"
#include "rc_doctest.hpp"
#include "scalora/reference/compare.hpp"

using namespace scalora;
using namespace scalora::reference;
using scalora::test::HardLayerCase;

namespace {

/// The library's step on a hard layer, judged; returns the verdict.
template <class S>
verdict_status library_verdict(const scalora::test::HardLayer& h, std::string* report) {
  const Layer<S> input = scalora::cast_layer<S>(h.layer);
  Layer<S> output = input;
  StepOptions<double> so;
  so.bound = h.bound;
  const StepResult<double> res = scalora_step(output, so);
  if (res.nonfinite || res.not_representable) return verdict_status::pass;  // nothing applied
  CompareOptions co;
  co.eps_compute = 0x1p-52;  // the library accumulates float and double storage in double
  const Comparison cmp = compare_step(input, output, res.scaling.alpha, res.scaling.beta, h.bound, co);
  for (const Check& c : cmp.checks)
    if (c.status == check_status::fail || c.status == check_status::inconclusive)
      *report += std::string(to_string(c.status)) + " " + c.id + ": " + std::to_string(c.value) + " > " +
                 std::to_string(c.tolerance) + " " + c.detail + "\n";
  return cmp.status();
}

std::map<std::string, long>& tally() {
  static std::map<std::string, long> t;
  return t;
}

}  // namespace

TEST_CASE("property: the library's step never fails its verifier on hard layers") {
  rc::doctest_prop("library step: pass or inconclusive", [] {
    const HardLayerCase c = *scalora::test::gen_hard_layer_case();
    const scalora::test::HardLayer h = scalora::test::build_hard_layer(c);
    std::string report;
    const verdict_status s = c.storage == scalora::test::storage_type::float32 ? library_verdict<float>(h, &report)
                                                                               : library_verdict<double>(h, &report);
    ++tally()[std::string("library ") + to_string(s)];
    RC_TAG(to_string(s));
    if (s == verdict_status::fail) RC_FAIL(report);
  });
  MESSAGE("library verdicts: pass " << tally()["library pass"] << ", inconclusive " << tally()["library inconclusive"]
                                    << ", fail " << tally()["library fail"]);
}

TEST_CASE("property: the certified and the exact path decide alike") {
  rc::doctest_prop("certified = exact", [] {
    HardLayerCase c = *scalora::test::gen_hard_layer_case();
    c.r = std::min(c.r, 4);  // the exact path on every case: keep it quick
    const scalora::test::HardLayer h = scalora::test::build_hard_layer(c);
    const Layer<double>& l = h.layer;
    ScalingProblem certified(l.A, l.B, l.grad_A, l.grad_B, h.bound, /*allow_exact=*/false);
    ScalingProblem exact(l.A, l.B, l.grad_A, l.grad_B, h.bound);
    const ExactSystem& ex = exact.exact_system();
    const exact_rational kappa = exact.exact_kappa();
    const ExactColumnDecision d = exact_column_decision(ex, kappa);
    const ColumnFacts& cf = certified.column();
    RC_TAG(std::string("column decision by ") + to_string(cf.by));
    if (cf.by == decided_by::certified) {
      RC_ASSERT(cf.feasible == d.feasible);
      const double value = round_to<double>(exact_column_optimum(ex, d, kappa));
      RC_ASSERT(cf.optimum.value.lower() <= value);
      RC_ASSERT(value <= cf.optimum.value.upper());
    }
    const ScalarFacts& sf = certified.scalar();
    const ExactScalarDecision sd = exact_scalar_decision(ex, kappa);
    RC_TAG(std::string("scalar case by ") + to_string(sf.by));
    if (sf.by == decided_by::certified) {
      RC_ASSERT(sf.kind == sd.kind);
      RationalVector u(static_cast<std::size_t>(2 * c.r));
      const Index r = l.A.cols();
      for (Index i = 0; i < r; ++i) {
        u[std::size_t(i)] = sd.a;
        u[std::size_t(r + i)] = sd.b;
      }
      const double value = round_to<double>(exact_decrease(ex, u, kappa));
      RC_ASSERT(sf.optimum.value.lower() <= value);
      RC_ASSERT(value <= sf.optimum.value.upper());
    }
    // The applied decrease of any scaling: exact value inside the certified ball.
    const Vector<double> u = Vector<double>::Ones(2 * l.A.cols()) * 0.75;
    const double dv = round_to<double>(exact.exact_decrease_of(u));
    const Ball db = certified.decrease(u);
    RC_ASSERT(db.lower() <= dv);
    RC_ASSERT(dv <= db.upper());
  });
}

TEST_CASE("property: a step with the optimum's squared scalings halved fails where the budget is meaningful") {
  rc::doctest_prop("kappa off by 2 fails", [] {
    HardLayerCase c = *scalora::test::gen_hard_layer_case();
    const scalora::test::HardLayer h = scalora::test::build_hard_layer(c);
    const Layer<double>& l = h.layer;
    ScalingProblem P(l.A, l.B, l.grad_A, l.grad_B, h.bound);
    const ColumnFacts& cf = P.column();
    const Vector<double> u_opt = cf.feasible ? cf.optimum.u : P.scalar().optimum.u;
    RC_PRE(u_opt.allFinite());
    ImplementationModel im;
    const ScalingJudgement J = judge_scaling(P, Vector<double>(u_opt / 2), im);
    // Halving loses exactly 1/4 of the optimum's decrease; a zero optimum loses nothing.
    const bool zero = P.decrease(u_opt).upper() <= 0;
    RC_TAG(zero ? "zero optimum" : to_string(J.status));
    if (!zero && J.status == verdict_status::pass) {
      // Only possible when the other branch is an accepted target (decision
      // within resolution) and u*/2 is within its budget.
      RC_ASSERT(J.flip_possible);
    }
  });
}
