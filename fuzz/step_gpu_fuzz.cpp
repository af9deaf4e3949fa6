// SPDX-License-Identifier: Apache-2.0
// Fuzz harness of the batched step (gpu/, Thrust CPP backend): one to three
// layers of different shapes in one BatchStep call, float or double factors,
// row- or column-major views, W as none, f32 or bf16 with an f32 master,
// moments or not. Properties:
//   * L, lr or some layer's kappa invalid: scalora::invalid_argument, nothing
//     written; valid arguments never throw;
//   * an outcome for every layer; a NaN/Inf in A, B, a gradient or a moment
//     marks the layer `nonfinite`; nonfinite or not_representable layers are
//     bit for bit unchanged (W included);
//   * otherwise every written factor, gradient and moment is finite, the
//     scalings are finite and >= 0, W is finite unless the input W had a
//     non-finite entry or one above max/2 (core/representable.hpp), and the
//     bf16 copy is the rounding of the master; the reported decreases are not NaN.
// Decoding of the bytes: step_input.hpp.
#include <thrust/execution_policy.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "fuzz_require.hpp"
#include "scalora/core/bfloat16.hpp"
#include "scalora/gpu.hpp"
#include "step_input.hpp"

namespace {

using scalora::fuzz::FuzzLayer;
using scalora::fuzz::FuzzStep;
using scalora::fuzz::HostMatrix;
using scalora::gpu::MatrixRef;
using scalora::gpu::weight_format;

/// A matrix in host memory (the CPP backend's device memory), row- or column-major.
template <class T>
struct Stored {
  int rows = 0, cols = 0;
  bool row_major = true;
  std::vector<T> v;
  void set(const HostMatrix& h, bool rm) {
    rows = h.rows;
    cols = h.cols;
    row_major = rm;
    v.assign(std::size_t(rows) * std::size_t(cols), T(0));
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) at(i, j) = T(h(i, j));
  }
  T& at(int i, int j) { return v[row_major ? std::size_t(i) * cols + j : std::size_t(j) * rows + i]; }
  MatrixRef<T> ref() {
    if (v.empty()) return MatrixRef<T>();
    return row_major ? MatrixRef<T>::row_major(v.data(), rows, cols) : MatrixRef<T>::col_major(v.data(), rows, cols);
  }
  bool all_finite() const {
    for (const T& x : v)
      if (!std::isfinite(double(x))) return false;
    return true;
  }
};

template <class T>
struct HostLayer {
  Stored<T> A, B, grad_A, grad_B, mA, vA, mB, vB;
  Stored<float> W;
  Stored<std::uint16_t> W_bf16;
  weight_format format = weight_format::none;
  double lora_scale = 1;
  int m = 0, n = 0, r = 0;

  std::vector<char> bytes() const {  // every buffer, for bit-for-bit comparison
    std::vector<char> out;
    auto add = [&](const auto& s) {
      const char* p = reinterpret_cast<const char*>(s.v.data());
      out.insert(out.end(), p, p + s.v.size() * sizeof(s.v[0]));
    };
    add(A), add(B), add(grad_A), add(grad_B), add(mA), add(vA), add(mB), add(vB), add(W), add(W_bf16);
    return out;
  }
  bool factors_finite() const {
    return A.all_finite() && B.all_finite() && grad_A.all_finite() && grad_B.all_finite() && mA.all_finite() &&
           vA.all_finite() && mB.all_finite() && vB.all_finite();
  }
};

template <class T>
void run(const FuzzStep& step, std::uint8_t layout_bits) {
  std::vector<HostLayer<T>> host(step.layers.size());
  std::vector<scalora::gpu::Layer<T>> layers;
  for (std::size_t l = 0; l < host.size(); ++l) {
    const FuzzLayer& f = step.layers[l];
    HostLayer<T>& h = host[l];
    const bool rm = ((layout_bits >> (l % 8)) & 1u) != 0;
    h.m = f.m, h.n = f.n, h.r = f.r;
    h.lora_scale = f.lora_scale;
    h.A.set(f.A, rm);
    h.B.set(f.B, !rm);  // PEFT's lora_A.weight is B column-major
    h.grad_A.set(f.grad_A, rm);
    h.grad_B.set(f.grad_B, !rm);
    if (f.has_moments) {
      h.mA.set(f.exp_avg_A, rm), h.vA.set(f.exp_avg_sq_A, rm);
      h.mB.set(f.exp_avg_B, rm), h.vB.set(f.exp_avg_sq_B, rm);
    }
    if (f.has_w) {
      h.format = (layout_bits & 0x80u) ? weight_format::bf16_master : weight_format::f32;
      h.W.set(f.W_pt, rm);
      if (h.format == weight_format::bf16_master) {
        h.W_bf16.rows = f.m, h.W_bf16.cols = f.n, h.W_bf16.row_major = rm;
        h.W_bf16.v.resize(h.W.v.size());
        for (std::size_t i = 0; i < h.W.v.size(); ++i) h.W_bf16.v[i] = scalora::float_to_bf16(h.W.v[i]);
      }
    }
    scalora::gpu::Layer<T> d;
    d.m = f.m, d.n = f.n, d.r = f.r;
    d.A = h.A.ref(), d.B = h.B.ref(), d.grad_A = h.grad_A.ref(), d.grad_B = h.grad_B.ref();
    d.exp_avg_A = h.mA.ref(), d.exp_avg_sq_A = h.vA.ref(), d.exp_avg_B = h.mB.ref(), d.exp_avg_sq_B = h.vB.ref();
    d.w_format = h.format;
    d.W = h.W.ref();
    d.W_bf16 = h.W_bf16.ref();
    d.lora_scale = f.lora_scale;
    layers.push_back(d);
  }
  std::vector<std::vector<char>> before;
  for (const HostLayer<T>& h : host) before.push_back(h.bytes());

  scalora::gpu::StepConfig cfg;
  cfg.bound.L = step.L;
  cfg.bound.lr = step.lr;
  cfg.mode = step.scalar_only ? scalora::scaling_mode::scalar_only : scalora::scaling_mode::hybrid;
  bool valid = std::isfinite(cfg.bound.L) && cfg.bound.L > 0 && std::isfinite(cfg.bound.lr) && cfg.bound.lr > 0;
  for (const HostLayer<T>& h : host) {
    const double kappa = cfg.bound.with_lora_scale(h.lora_scale).kappa();
    valid = valid && std::isfinite(kappa) && kappa >= std::numeric_limits<double>::min();
  }

  scalora::gpu::BatchStep<T> batch(layers);
  try {
    batch.step(thrust::cpp::par, cfg, 0);
  } catch (const scalora::invalid_argument&) {
    SCALORA_FUZZ_REQUIRE(!valid);
    for (std::size_t l = 0; l < host.size(); ++l) SCALORA_FUZZ_REQUIRE(host[l].bytes() == before[l]);
    return;
  }
  SCALORA_FUZZ_REQUIRE(valid);

  const std::vector<scalora::gpu::LayerOutcome> outcomes = batch.outcomes();
  SCALORA_FUZZ_REQUIRE(outcomes.size() == host.size());
  for (std::size_t l = 0; l < host.size(); ++l) {
    const HostLayer<T>& h = host[l];
    const scalora::gpu::LayerOutcome& o = outcomes[l];
    const FuzzLayer& f = step.layers[l];
    // The input as stored: rounding to T may itself overflow to Inf.
    HostLayer<T> in;
    in.A.set(f.A, true), in.B.set(f.B, true), in.grad_A.set(f.grad_A, true), in.grad_B.set(f.grad_B, true);
    if (f.has_moments) {
      in.mA.set(f.exp_avg_A, true), in.vA.set(f.exp_avg_sq_A, true);
      in.mB.set(f.exp_avg_B, true), in.vB.set(f.exp_avg_sq_B, true);
    }
    if (!in.factors_finite()) SCALORA_FUZZ_REQUIRE(o.nonfinite);
    SCALORA_FUZZ_REQUIRE(!(o.applied == scalora::branch::column && step.scalar_only));
    if (o.nonfinite || o.not_representable) {
      SCALORA_FUZZ_REQUIRE(h.bytes() == before[l]);
      continue;
    }
    SCALORA_FUZZ_REQUIRE(!std::isnan(o.bound_decrease) && !std::isnan(o.vanilla_bound_decrease) &&
                         !std::isnan(o.scalar_bound_decrease));
    SCALORA_FUZZ_REQUIRE(h.factors_finite());
    for (double x : batch.scalings(int(l))) SCALORA_FUZZ_REQUIRE(std::isfinite(x) && x >= 0);  // alpha, beta
    if (h.format != weight_format::none) {
      bool w_precondition = true;
      for (double x : f.W_pt.v) {
        const float xf = float(x);
        w_precondition = w_precondition && std::isfinite(xf) &&
                         std::fabs(xf) <= std::numeric_limits<float>::max() / 2;
      }
      if (w_precondition) SCALORA_FUZZ_REQUIRE(h.W.all_finite());
      if (h.format == weight_format::bf16_master)
        for (std::size_t i = 0; i < h.W.v.size(); ++i) {
          const std::uint16_t expect = scalora::float_to_bf16(h.W.v[i]);
          const bool both_nan = std::isnan(h.W.v[i]) && ((h.W_bf16.v[i] & 0x7f80u) == 0x7f80u) &&
                                (h.W_bf16.v[i] & 0x007fu) != 0;
          SCALORA_FUZZ_REQUIRE(h.W_bf16.v[i] == expect || both_nan);
        }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kFuzzMaxInput) return 0;
  const FuzzStep step = scalora::fuzz::decode_step(data, size, 3);
  const std::uint8_t layout_bits = size > 0 ? data[size - 1] : 0;  // the last byte: layouts, W format
  if (step.use_float) run<float>(step, layout_bits);
  else run<double>(step, layout_bits);
  return 0;
}
