// SPDX-License-Identifier: Apache-2.0
// Fuzz harness of scalora_step (include/scalora/linalg/step.hpp), float and
// double storage, hybrid and scalar-only modes. Properties:
//   * an invalid argument (NaN/Inf entry, L or lr not finite and > 0) throws
//     scalora::invalid_argument and leaves every tensor bit for bit unchanged;
//     any other exception escapes (a finding);
//   * valid arguments never throw; the status is consistent with the branch;
//   * no NaN or Inf comes out: factors, gradients, moments, W_pt, alpha, beta
//     are finite, the bound decreases are not NaN, or the step reports
//     nonfinite / status.not_representable and changed nothing.
//     W_pt may overflow only where an input entry exceeds max/2 (the
//     precondition of core/representable.hpp).
// Decoding of the bytes: step_input.hpp.
#include <cstdint>
#include <cstring>
#include <limits>

#include "fuzz_require.hpp"
#include "scalora/scalora.hpp"
#include "step_input.hpp"

namespace {

using scalora::Index;
using scalora::Matrix;
using scalora::fuzz::FuzzLayer;
using scalora::fuzz::FuzzStep;
using scalora::fuzz::HostMatrix;

template <class S>
Matrix<S> to_eigen(const HostMatrix& h) {
  Matrix<S> out(h.rows, h.cols);
  for (int i = 0; i < h.rows; ++i)
    for (int j = 0; j < h.cols; ++j) out(i, j) = S(h(i, j));  // float: out of range -> Inf
  return out;
}

template <class S>
bool same_bits(const Matrix<S>& a, const Matrix<S>& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  return a.size() == 0 || std::memcmp(a.data(), b.data(), sizeof(S) * std::size_t(a.size())) == 0;
}

template <class S>
bool same_layer(const scalora::Layer<S>& a, const scalora::Layer<S>& b) {
  return same_bits(a.W_pt, b.W_pt) && same_bits(a.A, b.A) && same_bits(a.B, b.B) && same_bits(a.grad_A, b.grad_A) &&
         same_bits(a.grad_B, b.grad_B) && same_bits(a.moments.exp_avg_A, b.moments.exp_avg_A) &&
         same_bits(a.moments.exp_avg_sq_A, b.moments.exp_avg_sq_A) &&
         same_bits(a.moments.exp_avg_B, b.moments.exp_avg_B) &&
         same_bits(a.moments.exp_avg_sq_B, b.moments.exp_avg_sq_B);
}

template <class S>
bool layer_finite(const scalora::Layer<S>& a) {
  return a.W_pt.allFinite() && a.A.allFinite() && a.B.allFinite() && a.grad_A.allFinite() && a.grad_B.allFinite() &&
         a.moments.exp_avg_A.allFinite() && a.moments.exp_avg_sq_A.allFinite() && a.moments.exp_avg_B.allFinite() &&
         a.moments.exp_avg_sq_B.allFinite();
}

template <class S>
void run(const FuzzStep& step) {
  using T = scalora::accumulate_t<S>;
  const FuzzLayer& f = step.layers.front();
  scalora::Layer<S> layer;
  layer.A = to_eigen<S>(f.A);
  layer.B = to_eigen<S>(f.B);
  layer.grad_A = to_eigen<S>(f.grad_A);
  layer.grad_B = to_eigen<S>(f.grad_B);
  if (f.has_w) layer.W_pt = to_eigen<S>(f.W_pt);
  if (f.has_moments) {
    layer.moments.exp_avg_A = to_eigen<S>(f.exp_avg_A);
    layer.moments.exp_avg_sq_A = to_eigen<S>(f.exp_avg_sq_A);
    layer.moments.exp_avg_B = to_eigen<S>(f.exp_avg_B);
    layer.moments.exp_avg_sq_B = to_eigen<S>(f.exp_avg_sq_B);
  }
  scalora::StepOptions<T> options;
  options.bound.L = T(step.L);
  options.bound.lr = T(step.lr);
  options.bound.lora_scale = T(f.lora_scale);
  options.mode = step.scalar_only ? scalora::scaling_mode::scalar_only : scalora::scaling_mode::hybrid;
  // kappa = L lr lora_scale^2 must itself be finite and normal (it may under- or overflow).
  const T kappa = options.bound.kappa();
  const bool parameters_valid = std::isfinite(options.bound.L) && options.bound.L > 0 &&
                                std::isfinite(options.bound.lr) && options.bound.lr > 0 &&
                                std::isfinite(kappa) && kappa >= std::numeric_limits<T>::min();
  const bool inputs_finite = layer_finite(layer);
  const scalora::Layer<S> before = layer;

  scalora::StepResult<T> result;
  try {
    result = scalora::scalora_step(layer, options);
  } catch (const scalora::invalid_argument&) {
    SCALORA_FUZZ_REQUIRE(!(parameters_valid && inputs_finite));
    SCALORA_FUZZ_REQUIRE(same_layer(layer, before));
    return;
  }
  SCALORA_FUZZ_REQUIRE(parameters_valid && inputs_finite);

  const Index r = layer.A.cols();
  const scalora::Scaling<T>& s = result.scaling;
  SCALORA_FUZZ_REQUIRE(s.alpha.size() == r && s.beta.size() == r);
  SCALORA_FUZZ_REQUIRE(s.applied == scalora::branch::column || s.applied == scalora::branch::scalar);
  if (step.scalar_only) SCALORA_FUZZ_REQUIRE(s.applied == scalora::branch::scalar);
  else SCALORA_FUZZ_REQUIRE((s.applied == scalora::branch::scalar) == result.scalar_fallback ||
                            result.nonfinite || result.not_representable);
  if (result.nonfinite || result.not_representable) {
    // An overflow inside M or lambda, or of a written entry: reported, nothing written.
    SCALORA_FUZZ_REQUIRE(same_layer(layer, before));
    SCALORA_FUZZ_REQUIRE((s.alpha.array() == T(1)).all() && (s.beta.array() == T(1)).all());
    return;
  }
  SCALORA_FUZZ_REQUIRE(s.alpha.allFinite() && s.beta.allFinite());
  SCALORA_FUZZ_REQUIRE((s.alpha.array() >= T(0)).all() && (s.beta.array() >= T(0)).all());
  // Reported statistics (not tensors): never NaN; +-Inf only where the true
  // value exceeds T's range (e.g. kappa tiny and lambda huge).
  SCALORA_FUZZ_REQUIRE(!std::isnan(result.bound_decrease) && !std::isnan(result.vanilla_bound_decrease) &&
                       !std::isnan(result.scalar_bound_decrease));
  const bool w_precondition =
      before.W_pt.size() == 0 || before.W_pt.cwiseAbs().maxCoeff() <= std::numeric_limits<S>::max() / 2;
  layer.W_pt.resize(w_precondition ? layer.W_pt.rows() : 0, w_precondition ? layer.W_pt.cols() : 0);
  SCALORA_FUZZ_REQUIRE(layer_finite(layer));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kFuzzMaxInput) return 0;
  const FuzzStep step = scalora::fuzz::decode_step(data, size, 1);
  if (step.use_float) run<float>(step);
  else run<double>(step);
  return 0;
}
