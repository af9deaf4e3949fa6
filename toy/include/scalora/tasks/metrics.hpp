// SPDX-License-Identifier: Apache-2.0
// GLUE metrics with double accumulators: accuracy, Matthews correlation,
// F1 of the positive class, Pearson and Spearman (average ranks for ties),
// and the per-task metric set (CoLA MCC; STS-B Pearson/Spearman; MRPC
// accuracy/F1; accuracy elsewhere).
//
// Degenerate cases (documented values, as in sklearn/scipy):
//   MCC = 0 when a confusion-matrix margin is 0 (e.g. constant predictions);
//   F1 = 0 when there are no true positives;
//   Pearson and Spearman are NaN when either input is constant.
// Empty inputs and length mismatches throw scalora::invalid_argument.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "scalora/error.hpp"
#include "scalora/tasks/task.hpp"

namespace scalora::tasks {

namespace detail {
template <class A, class B>
void check_pair(const std::vector<A>& predictions, const std::vector<B>& targets) {
  if (predictions.empty()) throw invalid_argument("predictions", argument_problem::empty, "no predictions to score");
  if (predictions.size() != targets.size())
    throw invalid_argument(
        "targets", argument_problem::shape_mismatch,
        std::to_string(targets.size()) + " targets for " + std::to_string(predictions.size()) + " predictions");
}
}  // namespace detail

/// Counts of a binary confusion matrix for class `positive`.
struct Confusion {
  double tp = 0, tn = 0, fp = 0, fn = 0;
};

inline Confusion confusion(const std::vector<int>& predictions, const std::vector<int>& targets, int positive = 1) {
  detail::check_pair(predictions, targets);
  Confusion c;
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    const bool p = predictions[i] == positive, t = targets[i] == positive;
    if (p && t)
      c.tp += 1;
    else if (!p && !t)
      c.tn += 1;
    else if (p)
      c.fp += 1;
    else
      c.fn += 1;
  }
  return c;
}

/// Fraction of equal entries.
inline double accuracy(const std::vector<int>& predictions, const std::vector<int>& targets) {
  detail::check_pair(predictions, targets);
  double hits = 0;
  for (std::size_t i = 0; i < predictions.size(); ++i) hits += predictions[i] == targets[i];
  return hits / double(predictions.size());
}

/// (TP TN - FP FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)); 0 when the denominator is 0.
inline double matthews_corrcoef(const Confusion& c) {
  const double den = (c.tp + c.fp) * (c.tp + c.fn) * (c.tn + c.fp) * (c.tn + c.fn);
  if (den == 0) return 0.0;
  return (c.tp * c.tn - c.fp * c.fn) / std::sqrt(den);
}
inline double matthews_corrcoef(const std::vector<int>& predictions, const std::vector<int>& targets) {
  return matthews_corrcoef(confusion(predictions, targets, 1));
}

/// F1 of class `positive`: 2 TP / (2 TP + FP + FN); 0 when TP = 0.
inline double f1_score(const Confusion& c) { return c.tp == 0 ? 0.0 : 2 * c.tp / (2 * c.tp + c.fp + c.fn); }
inline double f1_score(const std::vector<int>& predictions, const std::vector<int>& targets, int positive = 1) {
  return f1_score(confusion(predictions, targets, positive));
}

/// Pearson correlation (two-pass, centred sums); NaN when x or y is constant.
inline double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  detail::check_pair(x, y);
  const double n = double(x.size());
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx == 0 || syy == 0) return std::numeric_limits<double>::quiet_NaN();
  return sxy / std::sqrt(sxx * syy);
}

/// Ranks 1..n; tied values get the average of their ranks.
inline std::vector<double> average_ranks(const std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::vector<double> ranks(x.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    const double r = (double(i) + double(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = r;
    i = j + 1;
  }
  return ranks;
}

/// Spearman correlation: Pearson of average ranks; NaN when x or y is constant.
inline double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  detail::check_pair(x, y);
  return pearson(average_ranks(x), average_ranks(y));
}

/// The metrics GLUE reports for a task, by name, the primary one first
/// (the LoRA-paper convention: MCC for CoLA, Pearson for STS-B, accuracy elsewhere).
struct MetricSet {
  std::vector<std::pair<std::string, double>> values;
  double primary() const { return values.front().second; }
  double get(const std::string& name) const {
    for (const auto& [n, v] : values)
      if (n == name) return v;
    throw invalid_argument("name", argument_problem::out_of_range, "no metric '" + name + "'");
  }
};

/// Scores predictions against targets (class indices as doubles, or scores).
inline MetricSet evaluate(TaskKind task, const std::vector<double>& predictions, const std::vector<double>& targets) {
  detail::check_pair(predictions, targets);
  MetricSet m;
  if (is_regression(task)) {
    m.values = {{"pearson", pearson(predictions, targets)}, {"spearman", spearman(predictions, targets)}};
    return m;
  }
  std::vector<int> p(predictions.size()), t(targets.size());
  for (std::size_t i = 0; i < p.size(); ++i) {
    p[i] = int(std::lround(predictions[i]));
    t[i] = int(std::lround(targets[i]));
  }
  if (task == TaskKind::cola)
    m.values = {{"mcc", matthews_corrcoef(p, t)}, {"accuracy", accuracy(p, t)}};
  else if (task == TaskKind::mrpc)
    m.values = {{"accuracy", accuracy(p, t)}, {"f1", f1_score(p, t)}};
  else
    m.values = {{"accuracy", accuracy(p, t)}};
  return m;
}

}  // namespace scalora::tasks
