// SPDX-License-Identifier: Apache-2.0
// AdamW and SGD over named parameters, the learning-rate schedule and global-norm clipping.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "scalora/core/scalar_traits.hpp"
#include "scalora/error.hpp"
#include "scalora/model/tensors.hpp"

namespace scalora::model {

namespace detail {
/// Per-parameter optimizer state: one or two tensors shaped like the parameter, by name.
template <class T>
struct Slot {
  std::string name;
  Matrix<T> first, second;  // AdamW: exp_avg, exp_avg_sq; SGD: momentum_buffer (second empty)
  bool is_vector;
};

template <class T>
std::vector<Slot<T>> make_slots(const std::vector<Param<T>>& params, bool second) {
  std::vector<Slot<T>> out;
  out.reserve(params.size());
  for (const Param<T>& p : params)
    out.push_back({p.name, Matrix<T>::Zero(p.value.rows(), p.value.cols()),
                   second ? Matrix<T>::Zero(p.value.rows(), p.value.cols()) : Matrix<T>(), p.is_vector});
  return out;
}

/// The parameter list must be the one the optimizer was built for (same names, same order).
template <class T>
void check_params(const std::vector<Param<T>>& params, const std::vector<Slot<T>>& slots) {
  if (params.size() != slots.size())
    throw invalid_argument("params", argument_problem::shape_mismatch,
                           "expected " + std::to_string(slots.size()) + " parameters, got " +
                               std::to_string(params.size()));
  for (std::size_t i = 0; i < params.size(); ++i)
    if (params[i].name != slots[i].name || params[i].value.rows() != slots[i].first.rows() ||
        params[i].value.cols() != slots[i].first.cols())
      throw invalid_argument("params", argument_problem::shape_mismatch,
                             "parameter " + std::to_string(i) + " is " + params[i].name + ", expected " +
                                 slots[i].name + " of the same shape");
}

template <class T>
const Slot<T>* find_slot(const std::vector<Slot<T>>& slots, const std::string& name) {
  for (const Slot<T>& s : slots)
    if (s.name == name) return &s;
  return nullptr;
}
}  // namespace detail

/// AdamW hyper-parameters (PyTorch defaults except weight_decay, HF's GLUE default 0.01).
struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;  ///< decoupled; applied to Param::decay tensors only
};

/// AdamW (Loshchilov & Hutter), PyTorch's formulation. With step t (1 after the first step):
///   m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g o g,
///   p <- p (1 - lr wd)                             (decay tensors only)
///   p <- p - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps).
/// State: exp_avg (m), exp_avg_sq (v) per parameter by name, one step counter.
/// The step is separate from backward: callers may rescale gradients and
/// moments in place between them (ScaLoRA, docs/theory.md §8).
template <class T>
class AdamW {
 public:
  using Acc = accumulate_t<T>;

  AdamW(const std::vector<Param<T>>& params, AdamWOptions options = {})
      : opt_(options), slots_(detail::make_slots(params, true)) {}

  /// One update with learning rate lr. @throws invalid_argument if params differ from construction.
  void step(const std::vector<Param<T>>& params, double lr) {
    using std::pow;
    using std::sqrt;
    detail::check_params(params, slots_);
    ++step_;
    const T b1 = T(opt_.beta1), b2 = T(opt_.beta2), eps = T(opt_.eps);
    const Acc bc1 = Acc(1) - pow(Acc(opt_.beta1), Acc(step_));
    const Acc bc2 = Acc(1) - pow(Acc(opt_.beta2), Acc(step_));
    const T step_size = T(Acc(lr) / bc1);
    const T inv_sqrt_bc2 = T(Acc(1) / sqrt(bc2));
    const T decay = T(Acc(1) - Acc(lr) * Acc(opt_.weight_decay));
    for (std::size_t i = 0; i < params.size(); ++i) {
      const Param<T>& p = params[i];
      detail::Slot<T>& s = slots_[i];
      s.first.array() = b1 * s.first.array() + (T(1) - b1) * p.grad.array();
      s.second.array() = b2 * s.second.array() + (T(1) - b2) * p.grad.array().square();
      if (p.decay && opt_.weight_decay != 0) p.value *= decay;
      p.value.array() -= step_size * s.first.array() / (s.second.array().sqrt() * inv_sqrt_bc2 + eps);
    }
  }

  std::int64_t step_count() const { return step_; }
  const AdamWOptions& options() const { return opt_; }

  /// exp_avg / exp_avg_sq of a parameter by its name; absent view if unknown.
  MatrixView<T> exp_avg(const std::string& name) { return slot_view(name, true); }
  MatrixView<T> exp_avg_sq(const std::string& name) { return slot_view(name, false); }

  /// Checkpoint interface: "adamw.exp_avg.<param>", "adamw.exp_avg_sq.<param>", counter "adamw.step".
  std::vector<NamedTensor<T>> tensors() {
    std::vector<NamedTensor<T>> out;
    for (detail::Slot<T>& s : slots_) {
      out.push_back({"adamw.exp_avg." + s.name, view(s.first), s.is_vector});
      out.push_back({"adamw.exp_avg_sq." + s.name, view(s.second), s.is_vector});
    }
    return out;
  }
  std::vector<NamedCounter> counters() { return {{"adamw.step", &step_}}; }

 private:
  MatrixView<T> slot_view(const std::string& name, bool first) {
    auto* s = const_cast<detail::Slot<T>*>(detail::find_slot(slots_, name));
    if (s == nullptr) return absent_view<T>();
    return view(first ? s->first : s->second);
  }

  AdamWOptions opt_;
  std::vector<detail::Slot<T>> slots_;
  std::int64_t step_ = 0;
};

/// SGD hyper-parameters (PyTorch semantics, dampening 0, no Nesterov).
struct SGDOptions {
  double momentum = 0;
  double weight_decay = 0;  ///< L2 (coupled): g <- g + wd p, on Param::decay tensors only
};

/// SGD: g' = g + wd p; with momentum mu: buf <- g' (first step), buf <- mu buf + g' (later);
/// p <- p - lr buf (without momentum: p <- p - lr g').
/// State: momentum_buffer per parameter (saved when momentum != 0), one step counter.
template <class T>
class SGD {
 public:
  SGD(const std::vector<Param<T>>& params, SGDOptions options = {})
      : opt_(options), slots_(detail::make_slots(params, false)) {}

  void step(const std::vector<Param<T>>& params, double lr) {
    detail::check_params(params, slots_);
    const T mu = T(opt_.momentum), wd = T(opt_.weight_decay), eta = T(lr);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const Param<T>& p = params[i];
      g_ = p.grad;
      if (p.decay && opt_.weight_decay != 0) g_ += wd * p.value;
      if (opt_.momentum != 0) {
        Matrix<T>& buf = slots_[i].first;
        if (step_ == 0)
          buf = g_;
        else
          buf = mu * buf + g_;
        p.value -= eta * buf;
      } else {
        p.value -= eta * g_;
      }
    }
    ++step_;
  }

  std::int64_t step_count() const { return step_; }

  /// Checkpoint interface: "sgd.momentum_buffer.<param>" (with momentum), counter "sgd.step".
  std::vector<NamedTensor<T>> tensors() {
    std::vector<NamedTensor<T>> out;
    if (opt_.momentum != 0)
      for (detail::Slot<T>& s : slots_)
        out.push_back({"sgd.momentum_buffer." + s.name, view(s.first), s.is_vector});
    return out;
  }
  std::vector<NamedCounter> counters() { return {{"sgd.step", &step_}}; }

 private:
  SGDOptions opt_;
  std::vector<detail::Slot<T>> slots_;  // momentum buffers (zero and unused without momentum)
  std::int64_t step_ = 0;
  Matrix<T> g_;
};

/// Decay after warm-up (HF transformers' get_{linear,cosine}_schedule_with_warmup).
enum class Decay { constant, linear, cosine };

/// Learning rate at optimizer step `step` (0 for the first step):
///   step < warmup:  peak step / warmup
///   else, with progress = (step - warmup) / max(1, total - warmup):
///     constant: peak;  linear: peak max(0, 1 - progress);  cosine: peak max(0, (1 + cos(pi progress)) / 2).
struct Schedule {
  double peak_lr = 1e-3;
  std::int64_t warmup_steps = 0;
  std::int64_t total_steps = 1;
  Decay decay = Decay::linear;

  double lr_at(std::int64_t step) const {
    if (step < warmup_steps) return peak_lr * double(step) / double(warmup_steps);
    const double denom = double(total_steps - warmup_steps > 1 ? total_steps - warmup_steps : 1);
    const double progress = double(step - warmup_steps) / denom;
    switch (decay) {
      case Decay::constant: return peak_lr;
      case Decay::linear: return peak_lr * (progress < 1 ? 1 - progress : 0.0);
      case Decay::cosine:
        return peak_lr * (progress < 1 ? 0.5 * (1 + std::cos(3.14159265358979323846 * progress)) : 0.0);
    }
    return peak_lr;
  }
};

/// Euclidean norm of all gradients together, accumulated in accumulate_t<T>.
template <class T>
accumulate_t<T> global_grad_norm(const std::vector<Param<T>>& params) {
  using std::sqrt;
  using Acc = accumulate_t<T>;
  Acc sum = Acc(0);
  for (const Param<T>& p : params) sum += Acc(p.grad.template cast<Acc>().squaredNorm());
  return sqrt(sum);
}

/// PyTorch's clip_grad_norm_: with n = global_grad_norm, multiplies every gradient by
/// max_norm / (n + 1e-6) when that is < 1. Returns n (before clipping).
/// @throws invalid_argument if max_norm <= 0.
template <class T>
accumulate_t<T> clip_grad_norm(const std::vector<Param<T>>& params, double max_norm) {
  using Acc = accumulate_t<T>;
  if (!(max_norm > 0))
    throw invalid_argument("max_norm", argument_problem::out_of_range, "must be > 0");
  const Acc norm = global_grad_norm(params);
  const Acc coef = Acc(max_norm) / (norm + Acc(1e-6));
  if (coef < Acc(1))
    for (const Param<T>& p : params) p.grad *= T(coef);
  return norm;
}

}  // namespace scalora::model
