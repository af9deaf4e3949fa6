// SPDX-License-Identifier: Apache-2.0
// TaskGenerator: the entry point that turns a TaskConfig into examples.
// Example (split, i) depends only on (seed, task, split, i) and the knobs, so
// it regenerates alone, identically, on every platform. Label noise draws
// from its own stream: the clean examples do not change with the noise knob.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>

#include "scalora/tasks/task_cola.hpp"
#include "scalora/tasks/task_mrpc.hpp"
#include "scalora/tasks/task_nli.hpp"
#include "scalora/tasks/task_sst2.hpp"
#include "scalora/tasks/task_stsb.hpp"

namespace scalora::tasks {

class TaskGenerator {
 public:
  /// Validates and resolves the configuration (throws invalid_argument).
  explicit TaskGenerator(const TaskConfig& config) : config_(resolved(config)) {
    switch (config_.task) {
      case TaskKind::sst2:
        impl_ = std::make_shared<detail::Sst2Task>(config_);
        break;
      case TaskKind::cola:
        impl_ = std::make_shared<detail::ColaTask>(config_);
        break;
      case TaskKind::mrpc:
        impl_ = std::make_shared<detail::MrpcTask>(config_);
        break;
      case TaskKind::stsb:
        impl_ = std::make_shared<detail::StsbTask>(config_);
        break;
      case TaskKind::rte:
      case TaskKind::mnli:
        impl_ = std::make_shared<detail::NliTask>(config_);
        break;
    }
  }

  const TaskConfig& config() const { return config_; }

  /// Example `index` of `split` (any index; the split size only bounds split()).
  Example example(Split split, std::size_t index) const {
    check_split(split);
    Stream rng(stream_key(config_.seed, hash_string(task_name(config_.task)), std::uint64_t(split), index));
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      std::optional<Example> e = impl_->attempt(rng, split);
      if (!e) continue;
      add_noise(*e, split, index);
      return *e;
    }
    throw error("[scalora.tasks.generator] " + std::string(task_name(config_.task)) + ": no record routed to split " +
                split_file_stem(config_.task, split) + " after " + std::to_string(kMaxAttempts) +
                " draws (holdout_fraction too small for the items?)");
  }

  /// All examples of a split, in index order.
  std::vector<Example> split(Split s) const {
    const std::size_t n = split_size(config_, s);
    std::vector<Example> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.push_back(example(s, i));
    return out;
  }

  /// The task's internals (relation, router) for tests and diagnostics.
  const detail::TaskImpl& impl() const { return *impl_; }
  template <class Task>
  const Task& task() const {
    return dynamic_cast<const Task&>(*impl_);
  }

 private:
  static constexpr int kMaxAttempts = 100000;

  void check_split(Split s) const {
    const auto splits = task_splits(config_.task);
    if (std::find(splits.begin(), splits.end(), s) == splits.end())
      throw invalid_argument(
          "split", argument_problem::out_of_range,
          std::string(task_name(config_.task)) + " has no split " + split_file_stem(TaskKind::mnli, s));
  }

  void add_noise(Example& e, Split split, std::size_t index) const {
    if (config_.label_noise <= 0) return;
    Stream rng(stream_key(config_.seed, hash_string(task_name(config_.task)), 0x4e6f697365ULL,  // "Noise"
                          std::uint64_t(split), index));
    if (is_regression(config_.task)) {
      const double noisy = e.clean_label + config_.label_noise * rng.normal();
      e.label = detail::round_score(std::clamp(noisy, 0.0, 5.0));
      return;
    }
    if (!rng.bernoulli(config_.label_noise)) return;
    const int classes = num_classes(config_.task);
    const int clean = int(e.clean_label);
    e.label = classes == 2 ? 1 - clean : (clean + 1 + int(rng.below(std::uint64_t(classes - 1)))) % classes;
  }

  TaskConfig config_;
  std::shared_ptr<const detail::TaskImpl> impl_;
};

}  // namespace scalora::tasks
