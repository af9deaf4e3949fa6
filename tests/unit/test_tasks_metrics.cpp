// SPDX-License-Identifier: Apache-2.0
// GLUE metrics against the hand-checked vectors of docs/data.md and their
// degenerate cases.
#include <doctest/doctest.h>

#include <cmath>

#include "scalora/tasks/metrics.hpp"

using namespace scalora::tasks;

namespace {
/// TP=5, TN=3, FP=1, FN=1 as prediction/target vectors.
void confusion_5_3_1_1(std::vector<int>& p, std::vector<int>& t) {
  p = {1, 1, 1, 1, 1, 0, 0, 0, 1, 0};
  t = {1, 1, 1, 1, 1, 0, 0, 0, 0, 1};
}
bool near(double a, double b, double tol = 1e-12) { return std::abs(a - b) <= tol; }
}  // namespace

TEST_CASE("accuracy, MCC and F1 match the hand-checked confusion matrix") {
  std::vector<int> p, t;
  confusion_5_3_1_1(p, t);
  const Confusion c = confusion(p, t);
  CHECK(c.tp == 5);
  CHECK(c.tn == 3);
  CHECK(c.fp == 1);
  CHECK(c.fn == 1);
  CHECK(near(accuracy(p, t), 0.8));
  CHECK(near(matthews_corrcoef(p, t), 14.0 / 24.0));
  CHECK(near(f1_score(p, t), 10.0 / 12.0));
}

TEST_CASE("Pearson and Spearman match the hand-checked vectors") {
  const std::vector<double> x{1, 2, 3, 4, 100}, y{2, 1, 4, 3, 5};
  CHECK(near(pearson(x, y), 0.717749, 5e-7));
  CHECK(near(spearman(x, y), 0.8));
}

TEST_CASE("Spearman averages the ranks of ties") {
  const std::vector<double> x{1, 2, 2, 3}, y{1, 3, 2, 4};
  const std::vector<double> r = average_ranks(x);
  CHECK(r == std::vector<double>{1, 2.5, 2.5, 4});
  CHECK(near(spearman(x, y), 0.948683, 5e-7));
  CHECK(near(spearman(x, y), 3.0 / std::sqrt(10.0)));
}

TEST_CASE("degenerate inputs give the documented values") {
  const std::vector<int> t{1, 0, 1, 1, 0};
  SUBCASE("constant predictions: MCC 0 (sklearn)") {
    CHECK(matthews_corrcoef(std::vector<int>(5, 1), t) == 0.0);
    CHECK(matthews_corrcoef(std::vector<int>(5, 0), t) == 0.0);
  }
  SUBCASE("no true positives: F1 0") { CHECK(f1_score(std::vector<int>(5, 0), t) == 0.0); }
  SUBCASE("perfect and inverted predictions: MCC 1 and -1") {
    std::vector<int> inv;
    for (int v : t) inv.push_back(1 - v);
    CHECK(near(matthews_corrcoef(t, t), 1.0));
    CHECK(near(matthews_corrcoef(inv, t), -1.0));
  }
  SUBCASE("constant input: Pearson and Spearman are NaN") {
    const std::vector<double> c(4, 2.0), y{1, 2, 3, 4};
    CHECK(std::isnan(pearson(c, y)));
    CHECK(std::isnan(pearson(y, c)));
    CHECK(std::isnan(spearman(c, y)));
  }
  SUBCASE("empty and mismatched inputs throw invalid_argument") {
    CHECK_THROWS_AS(accuracy({}, {}), scalora::invalid_argument);
    CHECK_THROWS_AS(accuracy({1, 0}, {1}), scalora::invalid_argument);
    CHECK_THROWS_AS(pearson({1.0, 2.0}, {1.0}), scalora::invalid_argument);
  }
}

TEST_CASE("evaluate() reports each task's GLUE metrics, primary first") {
  std::vector<int> p, t;
  confusion_5_3_1_1(p, t);
  const std::vector<double> pd(p.begin(), p.end()), td(t.begin(), t.end());
  const MetricSet cola = evaluate(TaskKind::cola, pd, td);
  CHECK(cola.values.front().first == "mcc");
  CHECK(near(cola.primary(), 14.0 / 24.0));
  const MetricSet mrpc = evaluate(TaskKind::mrpc, pd, td);
  CHECK(near(mrpc.primary(), 0.8));
  CHECK(near(mrpc.get("f1"), 10.0 / 12.0));
  CHECK(near(evaluate(TaskKind::rte, pd, td).primary(), 0.8));
  const MetricSet sts = evaluate(TaskKind::stsb, {1, 2, 3, 4, 100}, {2, 1, 4, 3, 5});
  CHECK(near(sts.primary(), 0.717749, 5e-7));
  CHECK(near(sts.get("spearman"), 0.8));
  CHECK_THROWS_AS(sts.get("f1"), scalora::invalid_argument);
}
