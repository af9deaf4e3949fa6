// SPDX-License-Identifier: Apache-2.0
// Fine-tuning and masked-LM pre-training of the toy encoder (docs/training.md).
// One optimizer step of FineTuner::step(), each phase timed by a ScopedTimer:
//   1 batch, forward and backward (dense G when diagnostics are due)
//   2 Theorem 1's bound decrease from G (diagnostics)
//   3 rescale: ScaLoRA steps 2-8 for every adapted layer through the Rescaler
//     (the production kernels, shadow-checked against the reference every K steps)
//   4 update: global gradient-norm clipping of the (rescaled) gradients
//     (decision D8), then the optimizer (AdamW or SGD) at the scheduled rate
//   5 the rank of W - W_pt(0) per layer (diagnostics)
#pragma once

#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scalora/tasks/metrics.hpp"
#include "scalora/model/adapted.hpp"
#include "scalora/model/optim.hpp"
#include "scalora/model/state.hpp"
#include "scalora/model/transformer.hpp"
#include "scalora/train/checkpoint.hpp"
#include "scalora/train/data.hpp"
#include "scalora/train/diagnostics.hpp"
#include "scalora/train/json.hpp"
#include "scalora/train/rescaler.hpp"

namespace scalora::train {

/// The loss of one optimizer step. step counts from 1 (the logs' numbering).
struct StepRecord {
  long step = 0;
  float loss = 0;
  double lr = 0;
  double grad_norm = 0;  ///< global norm before clipping (of the rescaled gradients)
};

/// One layer at one step: the rescale outcome (when it ran) and the diagnostics
/// (when due: svd_optimum is NaN and rank -1 otherwise).
struct LayerRecord {
  long step = 0;
  int layer = 0;  ///< index into FineTuner::layer_names()
  bool rescaled = false;
  StepOutcome<double> outcome;
  double svd_optimum = std::numeric_limits<double>::quiet_NaN();
  int rank = -1;
};

/// Dev-set evaluation after `step` optimizer steps.
struct EvalRecord {
  long step = 0;
  double loss = 0;
  tasks::MetricSet metrics;
};

/// Wall-clock split of one step (seconds).
struct StepTiming {
  double train = 0;        ///< forward, backward, rescale (kernels), clipping, optimizer
  double rescale = 0;      ///< the kernels' part of train
  double shadow = 0;       ///< shadow checks (not part of train)
  double diagnostics = 0;  ///< dense G, SVD optimum, ranks
};

struct StepReport {
  StepRecord record;
  std::vector<LayerRecord> layers;
  StepTiming timing;
};

namespace detail {
using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Adds the seconds of its lifetime to `total`.
class ScopedTimer {
 public:
  explicit ScopedTimer(double& total) : total_(total), start_(Clock::now()) {}
  ~ScopedTimer() { total_ += seconds_since(start_); }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  double& total_;
  Clock::time_point start_;
};

/// The optimizer of a stage: AdamW or SGD over the model's parameters.
class Optimizer {
 public:
  Optimizer(const OptimSettings& s, const std::vector<model::Param<float>>& params) : settings_(s) {
    if (s.kind == OptimizerKind::adamw)
      adamw_ = std::make_unique<model::AdamW<float>>(params, model::AdamWOptions{0.9, 0.999, 1e-8, s.weight_decay});
    else
      sgd_ = std::make_unique<model::SGD<float>>(params, model::SGDOptions{s.momentum, s.weight_decay});
  }
  void step(const std::vector<model::Param<float>>& params, double lr) {
    if (adamw_) adamw_->step(params, lr);
    else sgd_->step(params, lr);
  }
  std::int64_t step_count() const { return adamw_ ? adamw_->step_count() : sgd_->step_count(); }
  model::AdamW<float>* adamw() { return adamw_.get(); }
  model::SGD<float>* sgd() { return sgd_.get(); }
  void save_into(model::StateDict<float>& d) {
    if (adamw_) model::save_into(d, *adamw_);
    else model::save_into(d, *sgd_);
  }
  void load_from(const model::StateDict<float>& d) {
    if (adamw_) model::load_from(d, *adamw_);
    else model::load_from(d, *sgd_);
  }

 private:
  OptimSettings settings_;
  std::unique_ptr<model::AdamW<float>> adamw_;
  std::unique_ptr<model::SGD<float>> sgd_;
};

/// The encoder of a shape over a vocabulary (head and mode set by the caller).
inline model::Config encoder_config(const ModelShape& shape, Index vocab_size) {
  model::Config c;
  c.vocab_size = vocab_size;
  c.max_len = shape.max_len;
  c.d_model = shape.d_model;
  c.n_heads = shape.n_heads;
  c.d_ff = shape.d_ff;
  c.n_layers = shape.n_layers;
  c.init_std = shape.init_std;
  return c;
}

inline model::Schedule schedule_of(const OptimSettings& o, long total_steps) {
  return model::Schedule{o.lr, o.warmup_steps, total_steps, model::Decay::linear};
}
}  // namespace detail

/// One fine-tuning run on a tokenized task, from a pre-trained state dict or
/// from a random initialisation. Holds the model and optimizer at fixed
/// addresses (views into them stay valid): neither copyable nor movable.
class FineTuner {
 public:
  /// @param pretrained  state of a pre-trained encoder (loaded non-strictly:
  ///                    LoRA factors and the head keep their initialisation), or null.
  /// @throws invalid_argument for invalid settings or a pre-trained state of another shape.
  FineTuner(const FinetuneSettings& settings, std::shared_ptr<const TaskData> data, const ModelShape& shape,
            const model::StateDict<float>* pretrained)
      : s_(settings), data_(std::move(data)), shape_(shape), order_(data_->train.size(), settings.seed) {
    validate(s_);
    validate(shape_);
    model::Config c = detail::encoder_config(shape, data_->vocab.size());
    c.head = model::Head::sequence;
    c.n_classes = tasks::num_classes(data_->kind);
    c.mode = uses_lora(s_.method) ? model::Mode::lora : model::Mode::full;
    c.lora_rank = s_.rank;
    c.lora_alpha = s_.effective_lora_alpha();
    model_ = std::make_unique<model::Transformer<float>>(c, s_.seed);
    if (pretrained) model::load_from(*pretrained, *model_, false);
    optimizer_ = std::make_unique<detail::Optimizer>(s_.optim, model_->parameters());
    schedule_ = detail::schedule_of(s_.optim, s_.steps);
    for (model::Block<float>& blk : model_->blocks())
      for (model::Linear<float>* l : {&blk.q, &blk.k, &blk.v, &blk.o, &blk.up, &blk.down}) {
        linears_.push_back(l);
        names_.push_back(l->name);
        w0_.push_back(l->W);  // W_pt(0): the fine-tuning start
        const Vector<double> s2 = squared_singular_values(l->W.cast<double>());
        rank_tau_.push_back(rank_threshold(l->W.rows(), l->W.cols(), std::sqrt(s2.size() ? s2(0) : 0.0)));
      }
  }
  FineTuner(const FineTuner&) = delete;
  FineTuner& operator=(const FineTuner&) = delete;

  const FinetuneSettings& settings() const { return s_; }
  const TaskData& data() const { return *data_; }
  model::Transformer<float>& model() { return *model_; }
  /// Names of the logged layers ("layer0.attn.q", ..., "layer1.mlp.down"): the
  /// adapted layers in LoRA modes, every block linear in full fine-tuning.
  const std::vector<std::string>& layer_names() const { return names_; }
  long steps_done() const { return long(optimizer_->step_count()); }
  bool finished() const { return steps_done() >= s_.steps; }

  /// Views of every adapted layer with the optimizer state the rescale must
  /// transfer (spec section 6): AdamW's exp_avg / exp_avg_sq; for SGD with
  /// momentum the momentum buffer in the exp_avg slot (it transforms like the
  /// first moment) and a zero matrix in the exp_avg_sq slot (0 stays 0).
  std::vector<model::AdaptedLayer<float>> adapted_layers() {
    std::vector<model::AdaptedLayer<float>> out = model::adapted_layers(*model_, optimizer_->adamw());
    if (optimizer_->sgd() && s_.optim.momentum != 0) {
      const std::vector<model::NamedTensor<float>> st = optimizer_->sgd()->tensors();
      auto buffer = [&](const std::string& name) {
        for (const model::NamedTensor<float>& t : st)
          if (t.name == "sgd.momentum_buffer." + name) return t.data;
        throw invalid_argument("optimizer", argument_problem::empty, "no momentum buffer for " + name);
      };
      zero_second_.resize(2 * out.size());
      std::vector<model::AdaptedLayer<float>> with_momentum;
      for (std::size_t k = 0; k < out.size(); ++k) {
        const model::AdaptedLayer<float>& a = out[k];
        zero_second_[2 * k] = Matrix<float>::Zero(a.A.rows(), a.A.cols());
        zero_second_[2 * k + 1] = Matrix<float>::Zero(a.B.rows(), a.B.cols());
        with_momentum.push_back({a.name, a.scale, a.W_pt, a.A, a.B, a.grad_A, a.grad_B, buffer(a.name + ".lora_A"),
                                 model::view(zero_second_[2 * k]), buffer(a.name + ".lora_B"),
                                 model::view(zero_second_[2 * k + 1]), a.G});
      }
      return with_momentum;
    }
    return out;
  }

  /// The rescaler of Method::scalora / scalora_i (not owned); required by step() for them.
  void set_rescaler(Rescaler* r) { rescaler_ = r; }

  /// One optimizer step (see the file comment): batch, forward, backward,
  /// rescale, update, with the diagnostics when due.
  /// @throws shadow_check_failure from the rescaler; invalid_argument when a ScaLoRA method has no rescaler.
  StepReport step() {
    if (rescales(s_.method) && rescaler_ == nullptr)
      throw invalid_argument("rescaler", argument_problem::empty, "ScaLoRA methods need a Rescaler");
    const long t = steps_done();
    const bool diagnostics_due = s_.diagnostics_every > 0 && (t + 1) % s_.diagnostics_every == 0;
    const bool dense_g = diagnostics_due && uses_lora(s_.method);
    StepReport res = empty_report(t);
    StepTiming& time = res.timing;
    model_->set_dense_gradients(dense_g);
    {
      const detail::ScopedTimer timer(time.train);
      const model::Batch batch =
          make_batch(data_->train, order_.indices(t, s_.batch_size), tasks::is_regression(data_->kind));
      res.record.loss = model_->forward_backward(batch);  // forward, backward
    }
    if (dense_g) {
      const detail::ScopedTimer timer(time.diagnostics);
      record_svd_optima(res);  // Theorem 1 from the dense G of this backward
    }
    if (rescales(s_.method)) {
      const double shadow_before = rescaler_->shadow_seconds();
      {
        const detail::ScopedTimer timer(time.rescale);
        record_outcomes(res, rescaler_->rescale(t));  // ScaLoRA steps 2-8 (and a shadow check when due)
      }
      time.shadow = rescaler_->shadow_seconds() - shadow_before;
      time.rescale -= time.shadow;
      time.train += time.rescale;
    }
    {
      const detail::ScopedTimer timer(time.train);
      update(t, res);  // clip, optimizer step
    }
    if (diagnostics_due) {
      const detail::ScopedTimer timer(time.diagnostics);
      for (std::size_t k = 0; k < linears_.size(); ++k) res.layers[k].rank = update_rank(k);
    }
    return res;
  }

  /// Numerical rank of W - W_pt(0) of logged layer k (diagnostics.hpp).
  int update_rank(std::size_t k) const {
    const model::Linear<float>& l = *linears_[k];
    Matrix<double> d = l.W.cast<double>() - w0_[k].cast<double>();
    if (l.adapted()) d.noalias() += double(l.scale) * (l.A.cast<double>() * l.B.cast<double>().transpose());
    return numerical_rank(squared_singular_values(d), rank_tau_[k]);
  }

  /// Mean loss and GLUE metrics on the dev split (batches of 64, no gradients kept).
  EvalRecord evaluate() {
    EvalRecord out;
    out.step = steps_done();
    const bool regression = tasks::is_regression(data_->kind);
    std::vector<double> predictions, targets;
    double loss_sum = 0;
    const std::size_t n = data_->dev.size();
    for (std::size_t first = 0; first < n; first += 64) {
      std::vector<std::size_t> which;
      for (std::size_t i = first; i < std::min(n, first + 64); ++i) which.push_back(i);
      const model::Batch b = make_batch(data_->dev, which, regression);
      loss_sum += double(model_->forward(b)) * double(which.size());
      const Matrix<float>& z = model_->logits();
      for (Index c = 0; c < z.cols(); ++c) {
        Index arg = 0;
        if (!regression) z.col(c).maxCoeff(&arg);
        predictions.push_back(regression ? double(z(0, c)) : double(arg));
        targets.push_back(data_->dev[which[std::size_t(c)]].label);
      }
    }
    out.loss = loss_sum / double(n);
    out.metrics = tasks::evaluate(data_->kind, predictions, targets);
    return out;
  }

  /// Everything a bit-identical resume needs: model and optimizer tensors and
  /// counters, W_pt(0), the settings and the data order (a function of seed and step).
  Checkpoint checkpoint() {
    Checkpoint c;
    model::save_into(c.state, *model_);
    optimizer_->save_into(c.state);
    for (std::size_t k = 0; k < names_.size(); ++k) c.state.tensors.emplace("w_pt0." + names_[k], w0_[k]);
    c.metadata["kind"] = "finetune";
    c.metadata["settings"] = nlohmann::json(s_).dump();
    c.metadata["shape"] = nlohmann::json(shape_).dump();
    c.metadata["task_name"] = data_->name;
    c.metadata["data_order"] = nlohmann::json{{"seed", order_.seed()},
                                              {"position", steps_done() * long(s_.batch_size)}}.dump();
    return c;
  }

  /// Restores a checkpoint of this run (same settings but possibly steps, same shape and task).
  /// @throws invalid_argument("checkpoint") when it belongs to another run or lacks a tensor.
  void restore(const Checkpoint& c) {
    const auto get = [&](const char* key) {
      const auto it = c.metadata.find(key);
      if (it == c.metadata.end())
        throw invalid_argument("checkpoint", argument_problem::empty, std::string("no metadata '") + key + "'");
      return it->second;
    };
    nlohmann::json stored = nlohmann::json::parse(get("settings"), nullptr, false);
    if (stored.is_object()) stored["steps"] = s_.steps;  // a resumed run may be extended
    if (get("kind") != "finetune" || stored.dump() != nlohmann::json(s_).dump() ||
        get("shape") != nlohmann::json(shape_).dump())
      throw invalid_argument("checkpoint", argument_problem::out_of_range,
                             "the checkpoint belongs to a run with other settings");
    model::load_from(c.state, *model_);
    optimizer_->load_from(c.state);
    for (std::size_t k = 0; k < names_.size(); ++k) {
      const auto it = c.state.tensors.find("w_pt0." + names_[k]);
      if (it == c.state.tensors.end() || it->second.rows() != w0_[k].rows() || it->second.cols() != w0_[k].cols())
        throw invalid_argument("checkpoint", argument_problem::empty, "no W_pt(0) for " + names_[k]);
      w0_[k] = it->second;
    }
  }

 private:
  StepReport empty_report(long t) const {
    StepReport res;
    res.record.step = t + 1;
    res.layers.resize(names_.size());
    for (std::size_t k = 0; k < names_.size(); ++k) {
      res.layers[k].step = t + 1;
      res.layers[k].layer = int(k);
    }
    return res;
  }
  void record_svd_optima(StepReport& res) const {
    for (std::size_t k = 0; k < linears_.size(); ++k)
      res.layers[k].svd_optimum =
          svd_optimum_decrease(squared_singular_values(linears_[k]->grad_W.cast<double>()), s_.rank, s_.L);
  }
  static void record_outcomes(StepReport& res, const std::vector<StepOutcome<double>>& outcomes) {
    for (std::size_t k = 0; k < outcomes.size() && k < res.layers.size(); ++k) {
      res.layers[k].rescaled = true;
      res.layers[k].outcome = outcomes[k];
    }
  }
  /// Global-norm clipping of the (rescaled) gradients (D8), then the optimizer
  /// at the scheduled learning rate.
  void update(long t, StepReport& res) {
    const std::vector<model::Param<float>> params = model_->parameters();
    res.record.grad_norm = s_.optim.clip > 0 ? double(model::clip_grad_norm(params, s_.optim.clip))
                                             : double(model::global_grad_norm(params));
    res.record.lr = schedule_.lr_at(t);
    optimizer_->step(params, res.record.lr);
  }

  FinetuneSettings s_;
  std::shared_ptr<const TaskData> data_;
  ModelShape shape_;
  BatchOrder order_;
  std::unique_ptr<model::Transformer<float>> model_;
  std::unique_ptr<detail::Optimizer> optimizer_;
  model::Schedule schedule_;
  Rescaler* rescaler_ = nullptr;
  std::vector<model::Linear<float>*> linears_;
  std::vector<std::string> names_;
  std::vector<Matrix<float>> w0_;
  std::vector<double> rank_tau_;
  std::vector<Matrix<float>> zero_second_;
};

/// Masked-LM evaluation: mean loss and accuracy over the masked positions.
struct MlmEval {
  long step = 0;
  double loss = 0;
  double accuracy = 0;
};

/// Masked-LM pre-training of the encoder (full model, tied decoder) on the
/// embedded grammar text (tasks::PretrainCorpus) with the closed syn-* vocabulary.
class Pretrainer {
 public:
  explicit Pretrainer(const PretrainSettings& p)
      : p_(p), vocab_(tasks::Vocabulary::synthetic()), data_((validate(p), p), vocab_) {
    model::Config c = detail::encoder_config(p.shape, vocab_.size());
    c.head = model::Head::masked_lm;
    c.mode = model::Mode::full;
    model_ = std::make_unique<model::Transformer<float>>(c, p.seed);
    optimizer_ = std::make_unique<detail::Optimizer>(p.optim, model_->parameters());
    schedule_ = detail::schedule_of(p.optim, p.steps);
    held_out_ = data_.held_out(64);
  }

  long steps_done() const { return long(optimizer_->step_count()); }
  bool finished() const { return steps_done() >= p_.steps; }

  StepRecord step() {
    const long t = steps_done();
    StepRecord r;
    r.step = t + 1;
    r.loss = model_->forward_backward(data_.batch(t, p_.batch_size));
    const std::vector<model::Param<float>> params = model_->parameters();
    r.grad_norm = p_.optim.clip > 0 ? double(model::clip_grad_norm(params, p_.optim.clip))
                                    : double(model::global_grad_norm(params));
    r.lr = schedule_.lr_at(t);
    optimizer_->step(params, r.lr);
    return r;
  }

  MlmEval evaluate() {
    MlmEval e;
    e.step = steps_done();
    double loss = 0, hits = 0, count = 0;
    for (const model::Batch& b : held_out_) {
      const double l = double(model_->forward(b));
      const Matrix<float>& z = model_->logits();
      Index m = 0;
      for (Index c = 0; c < b.batch_size(); ++c)
        for (Index i = 0; i < b.seq_len(); ++i) {
          if (b.mlm_labels(i, c) == model::ignore_label) continue;
          Index arg = 0;
          z.col(m++).maxCoeff(&arg);
          hits += arg == b.mlm_labels(i, c) ? 1 : 0;
        }
      loss += l * double(m);
      count += double(m);
    }
    e.loss = count > 0 ? loss / count : 0;
    e.accuracy = count > 0 ? hits / count : 0;
    return e;
  }

  /// The pre-trained encoder (no optimizer state: fine-tuning starts its own).
  Checkpoint checkpoint() {
    Checkpoint c;
    model::save_into(c.state, *model_);
    c.metadata["kind"] = "pretrain";
    c.metadata["settings"] = nlohmann::json(p_).dump();
    c.metadata["cache_key"] = cache_text(p_);
    return c;
  }

 private:
  PretrainSettings p_;
  tasks::Vocabulary vocab_;
  PretrainData data_;
  std::unique_ptr<model::Transformer<float>> model_;
  std::unique_ptr<detail::Optimizer> optimizer_;
  model::Schedule schedule_;
  std::vector<model::Batch> held_out_;
};

}  // namespace scalora::train
