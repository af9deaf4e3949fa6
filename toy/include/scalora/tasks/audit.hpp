// SPDX-License-Identifier: Apache-2.0
// Shortcut audits (docs/data.md section 5.1): a logistic-regression baseline
// on shallow features must stay near the majority rate on the relational
// variants; otherwise the task has a shortcut.
//
// Features: bag_of_words (unigram presence, tagged by sentence), hypothesis
// only (unigrams of sentence 2), overlap (word overlap and lengths). The
// model is multinomial logistic regression trained by AdaGrad SGD in a
// seeded order (deterministic). syn-stsb labels are binarised at 2.5.
#pragma once

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "scalora/tasks/random.hpp"
#include "scalora/tasks/task.hpp"
#include "scalora/tasks/tokenizer.hpp"

namespace scalora::tasks {

enum class AuditFeatures { bag_of_words, hypothesis_only, overlap };

struct AuditOptions {
  int epochs = 15;
  double learning_rate = 0.2;
  std::uint64_t seed = 7;
};

struct AuditResult {
  double train_accuracy = 0;
  double eval_accuracy = 0;
  double majority_accuracy = 0;  ///< eval accuracy of the most frequent training class
  std::size_t features = 0;
  /// eval accuracy above the majority rate.
  double lift() const { return eval_accuracy - majority_accuracy; }
};

namespace detail {

using SparseRow = std::vector<std::pair<int, double>>;

class FeatureMap {
 public:
  int index(const std::string& name, bool grow) {
    const auto it = map_.find(name);
    if (it != map_.end()) return it->second;
    if (!grow) return -1;
    const int id = int(map_.size());
    map_.emplace(name, id);
    return id;
  }
  int size() const { return int(map_.size()); }

 private:
  std::unordered_map<std::string, int> map_;
};

inline SparseRow audit_features(const Example& e, AuditFeatures kind, FeatureMap& map, bool grow) {
  SparseRow row{{map.index("bias", true), 1.0}};
  const auto a = basic_tokenize(e.sentence1);
  const auto b = basic_tokenize(e.sentence2);
  auto add_words = [&](const std::vector<std::string>& words, const char* tag) {
    std::set<std::string> seen(words.begin(), words.end());
    for (const auto& w : seen) {
      const int id = map.index(std::string(tag) + w, grow);
      if (id >= 0) row.emplace_back(id, 1.0);
    }
  };
  switch (kind) {
    case AuditFeatures::bag_of_words:
      add_words(a, "1:");
      add_words(b, "2:");
      break;
    case AuditFeatures::hypothesis_only:
      add_words(b.empty() ? a : b, "h:");
      break;
    case AuditFeatures::overlap: {
      const std::set<std::string> sa(a.begin(), a.end()), sb(b.begin(), b.end());
      std::size_t shared = 0;
      for (const auto& w : sa) shared += sb.count(w);
      const double uni = double(sa.size() + sb.size() - shared);
      row.emplace_back(map.index("jaccard", true), uni > 0 ? double(shared) / uni : 0.0);
      row.emplace_back(map.index("shared_over_b", true), sb.empty() ? 0.0 : double(shared) / double(sb.size()));
      row.emplace_back(map.index("len_a", true), double(a.size()) / 20.0);
      row.emplace_back(map.index("len_b", true), double(b.size()) / 20.0);
      row.emplace_back(map.index("len_diff", true), std::abs(double(a.size()) - double(b.size())) / 20.0);
      break;
    }
  }
  return row;
}

inline int audit_class(const Example& e, TaskKind task) {
  return is_regression(task) ? (e.label >= 2.5 ? 1 : 0) : int(std::lround(e.label));
}

}  // namespace detail

/// Trains the baseline on `train` and scores it on `eval`.
inline AuditResult shortcut_audit(TaskKind task, const std::vector<Example>& train, const std::vector<Example>& eval,
                                  AuditFeatures kind, const AuditOptions& options = {}) {
  if (train.empty()) throw invalid_argument("train", argument_problem::empty, "no training examples");
  if (eval.empty()) throw invalid_argument("eval", argument_problem::empty, "no evaluation examples");
  const int C = is_regression(task) ? 2 : num_classes(task);
  detail::FeatureMap map;
  std::vector<detail::SparseRow> X;
  std::vector<int> y;
  for (const auto& e : train) {
    X.push_back(detail::audit_features(e, kind, map, true));
    y.push_back(detail::audit_class(e, task));
  }
  const int F = map.size();
  std::vector<double> W(std::size_t(C) * std::size_t(F), 0.0), G(W.size(), 1e-8);

  auto scores = [&](const detail::SparseRow& row) {
    std::vector<double> s(std::size_t(C), 0.0);
    for (int c = 0; c < C; ++c)
      for (const auto& [f, v] : row) s[std::size_t(c)] += W[std::size_t(c) * std::size_t(F) + std::size_t(f)] * v;
    return s;
  };
  auto argmax = [](const std::vector<double>& s) { return int(std::max_element(s.begin(), s.end()) - s.begin()); };

  std::vector<std::size_t> order(X.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  Stream rng(stream_key(options.seed, hash_string("audit")));
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    rng.shuffle(order);
    for (std::size_t i : order) {
      std::vector<double> s = scores(X[i]);
      const double mx = *std::max_element(s.begin(), s.end());
      double z = 0;
      for (double& v : s) z += (v = std::exp(v - mx));
      for (int c = 0; c < C; ++c) {
        const double grad_c = s[std::size_t(c)] / z - (c == y[i] ? 1.0 : 0.0);
        for (const auto& [f, v] : X[i]) {
          const std::size_t k = std::size_t(c) * std::size_t(F) + std::size_t(f);
          const double g = grad_c * v;
          G[k] += g * g;
          W[k] -= options.learning_rate * g / std::sqrt(G[k]);
        }
      }
    }
  }

  AuditResult r;
  r.features = std::size_t(F);
  std::vector<std::size_t> counts(std::size_t(C), 0);
  for (int c : y) ++counts[std::size_t(c)];
  const int majority = int(std::max_element(counts.begin(), counts.end()) - counts.begin());
  double hits = 0;
  for (std::size_t i = 0; i < X.size(); ++i) hits += argmax(scores(X[i])) == y[i];
  r.train_accuracy = hits / double(X.size());
  hits = 0;
  double majority_hits = 0;
  for (const auto& e : eval) {
    const int t = detail::audit_class(e, task);
    hits += argmax(scores(detail::audit_features(e, kind, map, false))) == t;
    majority_hits += t == majority;
  }
  r.eval_accuracy = hits / double(eval.size());
  r.majority_accuracy = majority_hits / double(eval.size());
  return r;
}

}  // namespace scalora::tasks
