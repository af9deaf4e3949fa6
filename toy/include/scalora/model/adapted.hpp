// SPDX-License-Identifier: Apache-2.0
// Access for the ScaLoRA trainer: views of every adapted layer's W_pt, A, B, gradients and AdamW moments.
#pragma once

#include <string>
#include <vector>

#include "scalora/linalg/step.hpp"
#include "scalora/model/optim.hpp"
#include "scalora/model/transformer.hpp"

namespace scalora::model {

/// One adapted layer, W = W_pt + lora_scale A B^T, as views into the model (and optimizer).
/// Every view is writable in place between backward() and the optimizer step
/// (docs/theory.md §9, steps 5-8). Absent views are (nullptr, 0, 0).
template <class T>
struct AdaptedLayer {
  std::string name;  ///< e.g. "layer1.attn.q", "layer0.mlp.down"
  T scale;           ///< lora_scale (omega) = lora_alpha / r
  MatrixView<T> W_pt;            ///< m x n, frozen (re-split target)
  MatrixView<T> A, B;            ///< m x r, n x r
  MatrixView<T> grad_A, grad_B;  ///< m x r, n x r: lora_scale G B, lora_scale G^T A of the last backward
  MatrixView<T> exp_avg_A, exp_avg_sq_A, exp_avg_B, exp_avg_sq_B;  ///< AdamW moments; absent without AdamW
  MatrixView<T> G;  ///< m x n dense dl/dW of the last backward with set_dense_gradients(true); else absent
};

/// The adapted layers of model in block order (q, k, v, o, mlp.up, mlp.down per block),
/// with the AdamW moments of their factors when opt is given (AdamW built from model.parameters()).
template <class T>
std::vector<AdaptedLayer<T>> adapted_layers(Transformer<T>& model, AdamW<T>* opt = nullptr) {
  std::vector<AdaptedLayer<T>> out;
  for (Linear<T>* l : model.adapted_linears()) {
    const std::string a = l->name + ".lora_A", b = l->name + ".lora_B";
    out.push_back({l->name, l->scale, view(l->W), view(l->A), view(l->B), view(l->grad_A), view(l->grad_B),
                   opt ? opt->exp_avg(a) : absent_view<T>(), opt ? opt->exp_avg_sq(a) : absent_view<T>(),
                   opt ? opt->exp_avg(b) : absent_view<T>(), opt ? opt->exp_avg_sq(b) : absent_view<T>(),
                   l->dense_grad ? view(l->grad_W) : absent_view<T>()});
  }
  return out;
}

/// A copy of an adapted layer as the owning scalora::Layer that scalora_step() takes
/// (moments copied when present).
template <class T>
Layer<T> to_layer(const AdaptedLayer<T>& a) {
  Layer<T> l;
  l.W_pt = a.W_pt;
  l.A = a.A;
  l.B = a.B;
  l.grad_A = a.grad_A;
  l.grad_B = a.grad_B;
  if (a.exp_avg_A.size() != 0) {
    l.moments.exp_avg_A = a.exp_avg_A;
    l.moments.exp_avg_sq_A = a.exp_avg_sq_A;
    l.moments.exp_avg_B = a.exp_avg_B;
    l.moments.exp_avg_sq_B = a.exp_avg_sq_B;
  }
  return l;
}

/// Writes a (stepped) scalora::Layer back into the model and optimizer views.
/// @throws invalid_argument on a shape mismatch.
template <class T>
void assign(AdaptedLayer<T>& a, const Layer<T>& l) {
  scalora::detail::check_shape("W_pt", l.W_pt, a.W_pt.rows(), a.W_pt.cols(), "the adapted layer's W_pt");
  scalora::detail::check_shape("A", l.A, a.A.rows(), a.A.cols(), "the adapted layer's A");
  scalora::detail::check_shape("B", l.B, a.B.rows(), a.B.cols(), "the adapted layer's B");
  scalora::detail::check_shape("grad_A", l.grad_A, a.A.rows(), a.A.cols(), "the adapted layer's A");
  scalora::detail::check_shape("grad_B", l.grad_B, a.B.rows(), a.B.cols(), "the adapted layer's B");
  const bool moments = a.exp_avg_A.size() != 0;
  if (moments) {
    scalora::detail::check_shape("exp_avg_A", l.moments.exp_avg_A, a.A.rows(), a.A.cols(), "the shape of A");
    scalora::detail::check_shape("exp_avg_sq_A", l.moments.exp_avg_sq_A, a.A.rows(), a.A.cols(), "the shape of A");
    scalora::detail::check_shape("exp_avg_B", l.moments.exp_avg_B, a.B.rows(), a.B.cols(), "the shape of B");
    scalora::detail::check_shape("exp_avg_sq_B", l.moments.exp_avg_sq_B, a.B.rows(), a.B.cols(), "the shape of B");
  }
  a.W_pt = l.W_pt;
  a.A = l.A;
  a.B = l.B;
  a.grad_A = l.grad_A;
  a.grad_B = l.grad_B;
  if (moments) {
    a.exp_avg_A = l.moments.exp_avg_A;
    a.exp_avg_sq_A = l.moments.exp_avg_sq_A;
    a.exp_avg_B = l.moments.exp_avg_B;
    a.exp_avg_sq_B = l.moments.exp_avg_sq_B;
  }
}

}  // namespace scalora::model
