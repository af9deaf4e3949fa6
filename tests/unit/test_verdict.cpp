// SPDX-License-Identifier: Apache-2.0
// The optimality verdict (reference/judgement.hpp) and its engine
// (reference/optimum.hpp: certified double and Arb enclosures, FLINT exact
// fallback): each class of step the verdict must get right, which path
// decides, and the derived budgets' structure.
#include <doctest/doctest.h>

#include "scalora/reference/compare.hpp"
#include "test_support.hpp"

using namespace scalora;
using namespace scalora::reference;

namespace {

/// A layer with gradients of one G.
struct Case {
  Matrix<double> A, B, gA, gB;
  BoundParameters<double> bound;
};

Case of_gradient(const Matrix<double>& A, const Matrix<double>& B, const Matrix<double>& G, double L, double lr) {
  return {A, B, G * B, G.transpose() * A, {L, lr, 1.0}};
}

Case worked() {  // docs/theory.md's worked example: v = M^-1 lambda > 0
  Matrix<double> G = Matrix<double>::Zero(5, 5);
  for (int i = 0; i < 5; ++i) G(i, i) = 5 - i;
  return of_gradient((Matrix<double>(5, 2) << 0, 0, 0, 0, 0, 0, 1, -1, 1, 0).finished(), (Matrix<double>(5, 2) << 1, 0, 1, -1, -1, -1, 0, 0, 0, 0).finished(), G, 1.0,
                     1.0 / 6);
}

Case random_case(Index m, Index n, Index r, std::uint64_t seed, Index g_rank) {
  const Matrix<double> G = gaussian_matrix(m, g_rank, seed) * gaussian_matrix(g_rank, n, seed + 1);
  return of_gradient(gaussian_matrix(m, r, seed + 2), gaussian_matrix(n, r, seed + 3), G, 4.0, 0.05);
}

ScalingJudgement judge(const Case& c, const Vector<double>& u, double eps = 0x1p-52,
                       scaling_rule rule = scaling_rule::paper, bool allow_exact = true) {
  ScalingProblem P(c.A, c.B, c.gA, c.gB, c.bound, allow_exact);
  ImplementationModel im;
  im.eps_compute = eps;
  return judge_scaling(P, u, im, rule);
}

bool decided_by_path(const ScalingJudgement& J, decided_by path) {
  for (const auto& d : J.decisions)
    if (d.second == path) return true;
  return false;
}

}  // namespace

TEST_CASE("verdict: the worked example's optimum passes; its squared scalings halved fail") {
  const Case c = worked();
  // Theorem 5's solution for this example: u = (1, 5, 2, 3) (docs/theory.md).
  Vector<double> u(4);
  u << 1, 5, 2, 3;
  const ScalingJudgement ok = judge(c, u);
  CHECK(ok.status == verdict_status::pass);
  CHECK(decided_by_path(ok, decided_by::certified));
  // Exact value: lambda^T v / (2 kappa) with v = kappa u: the certified ball holds it.
  ScalingProblem P(c.A, c.B, c.gA, c.gB, c.bound);
  const exact_rational exact = P.exact_decrease_of(u);
  CHECK(P.decrease(u).lower() <= round_to<double>(exact));
  CHECK(round_to<double>(exact) <= P.decrease(u).upper());
  // Halved: loses exactly 1/4 of the decrease.
  const ScalingJudgement half = judge(c, Vector<double>(u / 2));
  CHECK(half.status == verdict_status::fail);
  CHECK(half.applied.mid() == doctest::Approx(0.75 * ok.applied.mid()));
}

TEST_CASE("verdict: a bound increase and a column scaling with half Theorem 3's decrease fail") {
  const Case c = random_case(12, 10, 3, 4242, 1);  // rank-1 G
  ScalingProblem P(c.A, c.B, c.gA, c.gB, c.bound);
  const Vector<double> u_sc = P.scalar().optimum.u;
  Vector<double> up = 3 * u_sc;
  up(0) *= 1.5;
  CHECK(judge(c, up).status == verdict_status::fail);  // 2t - t^2 < 0 for t = 3: an increase
  Vector<double> half = (1 - std::sqrt(0.5)) * u_sc;
  half(1) *= 1.01;
  CHECK(judge(c, half).status == verdict_status::fail);
}

TEST_CASE("verdict: doing better than the paper's rule fails it and passes the bound rule") {
  // Search a layer whose exact decision is scalar and whose best u >= 0 beats Theorem 3.
  for (std::uint64_t seed = 1; seed < 60; ++seed) {
    const Case c = random_case(14, 12, 3, 100 * seed, 1);
    ScalingProblem P(c.A, c.B, c.gA, c.gB, c.bound);
    if (P.column().feasible) continue;
    const BoundOptimum& nn = P.nonnegative_optimum();
    if (!(nn.value.lower() > 1.001 * P.scalar().optimum.value.upper())) continue;
    CAPTURE(seed);
    const ScalingJudgement paper = judge(c, nn.u);
    CHECK(paper.status == verdict_status::fail);
    CHECK(paper.above_paper);
    CHECK(paper.reason.find("not the paper's hybrid rule") != std::string::npos);
    CHECK(judge(c, nn.u, 0x1p-52, scaling_rule::bound).status == verdict_status::pass);
    // Theorem 3's own step passes the paper rule and fails the bound rule.
    CHECK(judge(c, P.scalar().optimum.u).status == verdict_status::pass);
    CHECK(judge(c, P.scalar().optimum.u, 0x1p-52, scaling_rule::bound).status == verdict_status::fail);
    return;
  }
  FAIL("no layer with a strictly better non-negative column scaling found");
}

TEST_CASE("verdict: the exact fallback decides a tie the enclosure cannot; --certified-only is inconclusive") {
  // v = (0, 1/2) exactly: the certified enclosure of v_0 straddles 0.
  const Case c = of_gradient((Matrix<double>(2, 1) << 1, 0).finished(), (Matrix<double>(2, 1) << 1, 1).finished(), (Matrix<double>(2, 2) << 1, 1, 0, 1).finished(), 1.0, 1.0);
  ScalingProblem P(c.A, c.B, c.gA, c.gB, c.bound);
  const ColumnFacts& cf = P.column();
  CHECK(cf.by == decided_by::exact);  // forced
  CHECK(cf.feasible);
  CHECK(P.exact_used());
  const Vector<double> u = cf.optimum.u;
  const ScalingJudgement J = judge(c, u);
  CHECK(J.status == verdict_status::pass);
  CHECK(decided_by_path(J, decided_by::exact));
  const ScalingJudgement Jc = judge(c, u, 0x1p-52, scaling_rule::paper, /*allow_exact=*/false);
  CHECK(Jc.status == verdict_status::inconclusive);
  CHECK(decided_by_path(Jc, decided_by::undecided));
}

TEST_CASE("verdict: a precision whose budget exceeds 1/4 of the decrease is inconclusive, never pass") {
  const Case c = random_case(512, 512, 4, 77, 10);
  ScalingProblem P(c.A, c.B, c.gA, c.gB, c.bound);
  const Vector<double> u = P.column().feasible ? P.column().optimum.u : P.scalar().optimum.u;
  CHECK(judge(c, u, 0x1p-52).status == verdict_status::pass);
  const ScalingJudgement bf16 = judge(c, u, 0x1p-7);  // M formed in bfloat16 over 512 terms
  CHECK(bf16.status == verdict_status::inconclusive);
  CHECK(bf16.reason.find("1/4") != std::string::npos);
}

TEST_CASE("verdict: budgets are derived: probabilistic <= worst case, growing with the compute epsilon") {
  const Case c = random_case(64, 48, 4, 9, 10);
  ScalingProblem P(c.A, c.B, c.gA, c.gB, c.bound);
  const Vector<double> u = P.column().feasible ? P.column().optimum.u : P.scalar().optimum.u;
  double last = 0;
  for (double eps : {0x1p-52, 0x1p-23, 0x1p-10}) {
    const ScalingJudgement J = judge(c, u, eps);
    REQUIRE(J.decisive >= 0);
    const Target& t = J.targets[std::size_t(J.decisive)];
    CHECK(t.budget.probabilistic <= t.budget.worst_case);
    CHECK(t.budget.probabilistic > last);
    last = t.budget.probabilistic;
  }
  CHECK(reference::detail::gamma_probabilistic(4096, 0x1p-24) < reference::detail::gamma_worst(4096, 0x1p-24));
  CHECK(reference::detail::gamma_probabilistic(3, 0x1p-24) == reference::detail::gamma_worst(3, 0x1p-24));  // short sums: the worst case
}

TEST_CASE("verdict: zero gradient decreases nothing, exactly, and passes") {
  Case c = worked();
  c.gA.setZero();
  c.gB.setZero();
  const ScalingJudgement J = judge(c, Vector<double>::Ones(4));
  CHECK(J.status == verdict_status::pass);
  CHECK(J.applied.lower() == 0);
  CHECK(J.applied.upper() == 0);
}

TEST_CASE("certified engine: Rump's verified solve encloses the solution, and fails on a singular enclosure") {
  certified::EnclosedMatrix A{(Matrix<double>(2, 2) << 4, 1, 1, 3).finished(), Matrix<double>::Zero(2, 2)};
  certified::EnclosedVector b{Vector<double>(2), Vector<double>::Zero(2)};
  b.mid << 1, 2;
  const auto x = certified::verified_solve(A, b);
  REQUIRE(x);
  // Exact: x = (1/11, 7/11).
  CHECK(x->lower(0) <= 1.0 / 11);
  CHECK(1.0 / 11 <= x->upper(0));
  CHECK(x->lower(1) <= 7.0 / 11);
  CHECK(7.0 / 11 <= x->upper(1));
  CHECK(x->rad.maxCoeff() < 1e-14);
  certified::EnclosedMatrix S{(Matrix<double>(2, 2) << 1, 1, 1, 1).finished(), Matrix<double>::Zero(2, 2)};
  CHECK_FALSE(certified::verified_solve(S, b));
  // An interval matrix containing a singular one: no proof.
  certified::EnclosedMatrix N{(Matrix<double>(2, 2) << 1, 0.5, 0.5, 0.26).finished(), Matrix<double>::Constant(2, 2, 0.02)};
  CHECK_FALSE(certified::verified_solve(N, b));
}
