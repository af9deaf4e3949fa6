// SPDX-License-Identifier: Apache-2.0
// The trainer's ScaLoRA step through the production kernels: a
// scalora::train::Rescaler over scalora::gpu::BatchStep<float>, run in place
// on the model's column-major Eigen storage (Thrust CPP or OMP backend: the
// "device" memory is host memory), with shadow verification against the
// reference every K steps. This folder (tools/train) is where Thrust meets the
// Eigen model: include/scalora/train never includes Thrust, gpu/ never Eigen.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "device_layer.hpp"  // gpu_test::host_outcome
#include "scalora/gpu.hpp"
#include "scalora/train/config.hpp"
#include "scalora/train/rescaler.hpp"
#include "shadow_check.hpp"

namespace scalora::train {

/// Test hook: after the kernels' step at log step `step`, scale column 0 of
/// layer `layer`'s A by (1 + 2^-10) -- a planted kernel fault the next shadow
/// check must catch (tests: train.shadow.planted_fault).
struct FaultInjection {
  std::string layer;  ///< empty: off
  long step = 0;
};

class KernelRescaler final : public Rescaler {
 public:
  /// layers: FineTuner::adapted_layers() (views that outlive this object).
  KernelRescaler(std::vector<model::AdaptedLayer<float>> layers, const FinetuneSettings& s,
                 FaultInjection fault = {})
      : layers_(std::move(layers)), batch_(describe(layers_)), shadow_every_(s.shadow_every), fault_(std::move(fault)) {
    cfg_.L = s.L;
    cfg_.lr = s.optim.lr;  // the peak learning rate (decision D1)
    cfg_.mode = scaling_mode::hybrid;
    cfg_.schedule = RescaleSchedule{s.rescale_interval(), 0};
  }

  std::vector<RescaleOutcome> rescale(long step) override {
    if (!rescale_due(step, cfg_.schedule)) return {};
    const bool shadow = shadow_every_ > 0 && step >= next_shadow_;
    std::vector<gpu_test::HostLayer> before;
    if (shadow) {
      const auto t0 = std::chrono::steady_clock::now();
      for (const model::AdaptedLayer<float>& a : layers_) before.push_back(host_layer(a));
      shadow_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    batch_.step(thrust::device, cfg_, step);
    const std::vector<gpu::LayerOutcome> outcomes = batch_.outcomes();
    if (!fault_.layer.empty() && fault_.step == step + 1)
      for (model::AdaptedLayer<float>& a : layers_)
        if (a.name == fault_.layer) a.A.col(0) *= 1.0f + 1.0f / 1024.0f;
    if (shadow) {
      const auto t0 = std::chrono::steady_clock::now();
      for (std::size_t l = 0; l < layers_.size(); ++l) {
        const gpu_test::CheckReport rep =
            gpu_test::check_layer(layers_[l].name, before[l], host_layer(layers_[l]), gpu_test::host_outcome(batch_, int(l)),
                                  cfg_.L, cfg_.lr);
        if (!rep.passed) throw shadow_check_failure(layers_[l].name, step + 1, rep.text);
      }
      ++checks_;
      next_shadow_ = (step / shadow_every_ + 1) * shadow_every_;
      shadow_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    std::vector<RescaleOutcome> out(outcomes.size());
    for (std::size_t l = 0; l < outcomes.size(); ++l) {
      const gpu::LayerOutcome& o = outcomes[l];
      RescaleOutcome& r = out[l];
      r.column = o.applied == branch::column;
      r.scalar_fallback = o.scalar_fallback;
      r.zero_gradient = o.zero_gradient;
      r.nonfinite = o.nonfinite;
      r.not_representable = o.not_representable;
      r.applied = o.bound_decrease;
      r.vanilla = o.vanilla_bound_decrease;
      r.scalar = o.scalar_bound_decrease;
      if (r.column) r.column_optimum = o.column_bound_decrease;
    }
    return out;
  }

  long shadow_checks() const override { return checks_; }
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
