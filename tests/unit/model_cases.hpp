// SPDX-License-Identifier: Apache-2.0
// Shared fixtures of the model tests: the tiny gradient-check configuration and central finite differences.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "scalora/model.hpp"
#include "test_support.hpp"

namespace scalora::test {

using model::Batch;
using model::Config;
using model::Head;
using model::IdMatrix;
using model::Mode;
using model::Transformer;

/// The gradient-check configuration: vocab 11, L = 5, d 8, 2 heads, d_ff 12, 2 layers,
/// segments, LoRA r = 2 on all six targets (s = 2). init_std 0.5 (not BERT's 0.02) puts
/// the check at a generic point: attention far from uniform, every gradient O(1e-2..1).
inline Config tiny_config(Head head, Index n_classes, Mode mode) {
  Config c;
  c.vocab_size = 11;
  c.max_len = 5;
  c.d_model = 8;
  c.n_heads = 2;
  c.d_ff = 12;
  c.n_layers = 2;
  c.n_segments = 2;
  c.head = head;
  c.n_classes = n_classes;
  c.init_std = 0.5;
  c.mode = mode;
  c.lora_rank = 2;
  c.lora_alpha = 4;
  return c;
}

/// B = 2 sequences of L = 5: "[CLS] 5 [SEP] 7 [SEP]" (segments 0 0 0 1 1) and
/// "[CLS] 8 [SEP] [PAD] [PAD]" (length 3), with labels for every head.
inline Batch tiny_batch() {
  Batch b;
  b.tokens.resize(5, 2);
  b.tokens << 2, 2, 5, 8, 3, 3, 7, 0, 3, 0;
  b.segments.resize(5, 2);
  b.segments << 0, 0, 0, 0, 0, 0, 1, 0, 1, 0;
  b.lengths = {5, 3};
  b.labels = {1, 2};
  b.targets = {0.75, -1.25};
  b.mlm_labels = IdMatrix::Constant(5, 2, model::ignore_label);
  b.mlm_labels(1, 0) = 6;
  b.mlm_labels(3, 0) = 9;
  b.mlm_labels(1, 1) = 10;
  return b;
}

/// The tiny model with non-zero A (N(0, 1/4)) in every adapted layer, so grad_B = lora_scale G^T A != 0.
template <class T>
Transformer<T> tiny_model(const Config& c, std::uint64_t seed = 7) {
  Transformer<T> m(c, seed);
  std::uint64_t k = 100;
  for (model::Linear<T>* l : m.adapted_linears())
    l->A = (T(0.5) * gaussian_matrix(l->A.rows(), l->A.cols(), ++k).template cast<T>()).eval();
  return m;
}

/// Finite-difference check of one tensor.
struct TensorCheck {
  std::string name;
  Index size = 0;
  double grad_norm = 0;  ///< ||g||
  double error = 0;      ///< entrywise: ||g_fd - g||; directional: |d_fd - <g, D>| (||D|| = 1)
  double rel() const { return grad_norm > 0 ? error / grad_norm : error; }
};

/// Central difference of the loss along `dir` (same shape as `value`), step h:
///   (l(theta + h D) - l(theta - h D)) / (2 h)  =  <g, D> + (h^2/6) D^3 l + O(eps |l| / h).
template <class T>
T central_difference(Transformer<T>& m, const Batch& batch, MatrixView<T>& value, const Matrix<T>& dir, const T& h) {
  const Matrix<T> saved = value;
  value = saved + h * dir;
  const T plus = m.forward(batch);
  value = saved - h * dir;
  const T minus = m.forward(batch);
  value = saved;
  return (plus - minus) / (T(2) * h);
}

/// Entrywise central differences of every entry of `value` against `grad`.
template <class T>
TensorCheck entrywise_check(Transformer<T>& m, const Batch& batch, const std::string& name, MatrixView<T> value,
                            const Matrix<T>& grad, const T& h) {
  Matrix<T> fd(grad.rows(), grad.cols());
  Matrix<T> unit = Matrix<T>::Zero(grad.rows(), grad.cols());
  for (Index i = 0; i < grad.size(); ++i) {
    unit(i) = T(1);
    fd(i) = central_difference(m, batch, value, unit, h);
    unit(i) = T(0);
  }
  return {name, grad.size(), double(grad.norm()), double((fd - grad).norm())};
}

/// Directional central difference along a unit Gaussian direction D (every entry
/// weighted, so any wrong entry shows): error |d_fd - <g, D>|, relative to ||g||.
template <class T>
TensorCheck directional_check(Transformer<T>& m, const Batch& batch, const std::string& name, MatrixView<T> value,
                              const Matrix<T>& grad, const T& h, std::uint64_t seed) {
  Matrix<T> dir = gaussian_matrix(grad.rows(), grad.cols(), seed).template cast<T>();
  dir /= dir.norm();
  const T fd = central_difference(m, batch, value, dir, h);
  using std::abs;
  return {name, grad.size(), double(grad.norm()), double(abs(fd - grad.cwiseProduct(dir).sum()))};
}

/// Checks every trainable tensor, and with dense_G every adapted layer's G (against W_pt),
/// after one forward/backward. Gradients are copied first (the FD forwards keep them).
template <class T>
std::vector<TensorCheck> gradient_checks(Transformer<T>& m, const Batch& batch, const T& h, bool directional,
                                         bool dense_G) {
  m.set_dense_gradients(dense_G);
  m.forward_backward(batch);
  std::vector<TensorCheck> out;
  std::uint64_t seed = 1000;
  auto check = [&](const std::string& name, MatrixView<T> value, const Matrix<T>& grad) {
    out.push_back(directional ? directional_check(m, batch, name, value, grad, h, ++seed)
                              : entrywise_check(m, batch, name, value, grad, h));
  };
  std::vector<std::pair<model::Param<T>, Matrix<T>>> params;
  for (const model::Param<T>& p : m.parameters()) params.emplace_back(p, Matrix<T>(p.grad));
  std::vector<std::pair<model::Linear<T>*, Matrix<T>>> dense;
  if (dense_G)
    for (model::Linear<T>* l : m.adapted_linears()) dense.emplace_back(l, l->grad_W);
  for (auto& [p, g] : params) check(p.name, p.value, g);
  for (auto& [l, G] : dense) check(l->name + ".G", model::view(l->W), G);
  return out;
}

/// Names of tensors whose gradient is identically zero: the key bias b_k adds
/// q^T b_k to every score of a query, which softmax ignores.
inline bool gradient_identically_zero(const std::string& name) {
  return name.find(".attn.k.bias") != std::string::npos;
}

/// Finite-difference allowance (docs/model.md, "Tests and tolerances"): per entry the central
/// difference errs by (h^2/6)|d^3 l| (truncation) + c eps |l| / h (rounding of the two
/// losses); with |d^3 l|/6 <= K and c |l| <= K at the check point, per tensor of n entries
///   ||g_fd - g|| <= K sqrt(n) (h^2 + eps/h),   K = 16.
constexpr double kFd = 16;

inline double fd_bound(Index n, double h, double eps) { return kFd * std::sqrt(double(n)) * (h * h + eps / h); }

/// Every tensor's FD error within the allowance and its relative error <= rel_max; the
/// identically zero gradients (k bias) have ||g|| <= K N eps instead (N = 10 tokens: the
/// bias gradient is a sum of N terms that cancel). Reports the worst relative error.
inline void check_all(const std::vector<TensorCheck>& checks, double h, double eps, double rel_max,
                      const std::string& what) {
  double worst = 0;
  std::string worst_name;
  for (const TensorCheck& c : checks) {
    CHECK_MESSAGE(c.error <= fd_bound(c.size, h, eps),
                  what << " " << c.name << ": ||g_fd - g|| = " << c.error << " > " << fd_bound(c.size, h, eps));
    if (gradient_identically_zero(c.name)) {
      CHECK_MESSAGE(c.grad_norm <= kFd * 10 * eps, c.name << " gradient " << c.grad_norm);
      continue;
    }
    CHECK_MESSAGE(c.rel() <= rel_max, what << " " << c.name << ": relative error " << c.rel());
    if (c.rel() > worst) worst = c.rel(), worst_name = c.name;
  }
  MESSAGE(what << ": " << checks.size() << " tensors, worst relative error " << worst << " (" << worst_name << ")");
}

/// grad_A = lora_scale G B and grad_B = lora_scale G^T A with the dense G of the same backward. Both sides are
/// two products over N tokens and n (or m) features: |diff| <= 2 (N + n + r) eps lora_scale ||G|| ||B||
/// assuming ||dY|| ||X|| ~ ||G|| (no cancellation in G = dY X^T at a generic point).
template <class T>
void check_factor_identities(Head head, Index n_classes) {
  Transformer<T> m = tiny_model<T>(tiny_config(head, n_classes, Mode::lora));
  m.set_dense_gradients(true);
  m.forward_backward(tiny_batch());
  const T eps = scalar_traits<T>::epsilon();
  const Index N = 10;
  for (model::Linear<T>* l : m.adapted_linears()) {
    const Matrix<T>& G = l->grad_W;
    const T k = T(2 * (N + std::max(l->in_features(), l->out_features()) + l->rank()));
    const T tol_a = k * eps * l->scale * G.norm() * l->B.norm();
    const T tol_b = k * eps * l->scale * G.norm() * l->A.norm();
    const T da = (l->grad_A - l->scale * G * l->B).norm(), db = (l->grad_B - l->scale * G.transpose() * l->A).norm();
    CHECK_MESSAGE(da <= tol_a, l->name << " grad_A - lora_scale G B = " << str(da) << " > " << str(tol_a));
    CHECK_MESSAGE(db <= tol_b, l->name << " grad_B - lora_scale G^T A = " << str(db) << " > " << str(tol_b));
    CHECK(G.norm() > T(0));
    CHECK(l->grad_B.norm() > T(0));
  }
}

}  // namespace scalora::test
