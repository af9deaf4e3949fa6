// SPDX-License-Identifier: Apache-2.0
// The trainer's ScaLoRA step through the production kernels: a
// scalora::train::Rescaler over scalora::gpu::BatchStep<float>, run in place
// on the model's column-major Eigen storage (Thrust CPP or OMP backend: the
// "device" memory is host memory), with shadow verification against the
// reference every K steps. This folder (tools/train) is where Thrust meets the
// Eigen model: toy/include/scalora/train never includes Thrust, gpu/ never Eigen.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "fault_injection.hpp"
#include "scalora/gpu.hpp"
#include "scalora/train/config.hpp"
#include "scalora/train/rescaler.hpp"
#include "shadow_check.hpp"

namespace scalora::train {

class KernelRescaler final : public Rescaler {
 public:
  /// layers: FineTuner::adapted_layers() (views that outlive this object).
  KernelRescaler(std::vector<model::AdaptedLayer<float>> layers, const FinetuneSettings& s,
                 FaultInjection fault = {})
      : layers_(std::move(layers)), batch_(describe(layers_)), shadow_every_(s.shadow_every), fault_(std::move(fault)) {
    cfg_.bound = s.bound();  // L and the peak learning rate (D1); each layer's scale is its own
    cfg_.mode = scaling_mode::hybrid;
    cfg_.schedule = RescaleSchedule{s.rescale_interval(), 0};
  }

  std::vector<StepOutcome<double>> rescale(long step) override {
    if (!rescale_due(step, cfg_.schedule)) return {};
    const bool shadow = shadow_every_ > 0 && step >= next_shadow_;
    std::vector<Layer<float>> before;
    if (shadow) {
      const auto t0 = std::chrono::steady_clock::now();
      for (const model::AdaptedLayer<float>& a : layers_) before.push_back(model::to_layer(a));
      shadow_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    batch_.step(thrust::device, cfg_, step);
    const std::vector<StepOutcome<double>> outcomes = batch_.outcomes();
    if (!fault_.layer.empty() && fault_.step == step + 1)
      for (model::AdaptedLayer<float>& a : layers_)
        if (a.name == fault_.layer) a.A.col(0) *= 1.0f + 1.0f / 1024.0f;
    if (shadow) {
      const auto t0 = std::chrono::steady_clock::now();
      for (std::size_t l = 0; l < layers_.size(); ++l) {
        const model::AdaptedLayer<float>& a = layers_[l];
        const ShadowReport rep = shadow_check(a.name, before[l], model::to_layer(a), outcomes[l], batch_.scalings(int(l)),
                                              cfg_.bound.with_lora_scale(double(a.scale)));
        if (rep.failed) throw shadow_check_failure(a.name, step + 1, rep.text);
      }
      ++checks_;
      next_shadow_ = (step / shadow_every_ + 1) * shadow_every_;
      shadow_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    return outcomes;
  }

  long shadow_checks() const override { return checks_; }
  long next_shadow_step() const override { return next_shadow_; }
  void set_next_shadow_step(long step) override { next_shadow_ = step; }
  double shadow_seconds() const override { return shadow_seconds_; }
  /// Bytes of kernel workspace (the O((m + n + r) r) per layer of docs/gpu.md).
  std::size_t workspace_bytes() const { return batch_.workspace_bytes(); }

 private:
  static std::vector<gpu::Layer<float>> describe(std::vector<model::AdaptedLayer<float>>& layers) {
    if (layers.empty()) throw invalid_argument("layers", argument_problem::empty, "the model has no adapted layer");
    std::vector<gpu::Layer<float>> out;
    for (model::AdaptedLayer<float>& a : layers) {
      using Ref = gpu::MatrixRef<float>;
      gpu::Layer<float> l;
      l.m = int(a.A.rows());
      l.n = int(a.B.rows());
      l.r = int(a.A.cols());
      l.A = Ref::col_major(a.A.data(), a.A.rows(), a.A.cols());
      l.B = Ref::col_major(a.B.data(), a.B.rows(), a.B.cols());
      l.grad_A = Ref::col_major(a.grad_A.data(), a.grad_A.rows(), a.grad_A.cols());
      l.grad_B = Ref::col_major(a.grad_B.data(), a.grad_B.rows(), a.grad_B.cols());
      if (a.exp_avg_A.size() != 0) {
        l.exp_avg_A = Ref::col_major(a.exp_avg_A.data(), a.A.rows(), a.A.cols());
        l.exp_avg_sq_A = Ref::col_major(a.exp_avg_sq_A.data(), a.A.rows(), a.A.cols());
        l.exp_avg_B = Ref::col_major(a.exp_avg_B.data(), a.B.rows(), a.B.cols());
        l.exp_avg_sq_B = Ref::col_major(a.exp_avg_sq_B.data(), a.B.rows(), a.B.cols());
      }
      l.w_format = gpu::weight_format::f32;
      l.W = Ref::col_major(a.W_pt.data(), a.W_pt.rows(), a.W_pt.cols());
      l.lora_scale = double(a.scale);
      out.push_back(l);
    }
    return out;
  }

  std::vector<model::AdaptedLayer<float>> layers_;
  gpu::BatchStep<float> batch_;
  gpu::StepConfig cfg_;
  long shadow_every_ = 0;
  long next_shadow_ = 0;
  long checks_ = 0;
  double shadow_seconds_ = 0;
  FaultInjection fault_;
};

}  // namespace scalora::train
