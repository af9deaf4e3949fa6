// SPDX-License-Identifier: Apache-2.0
// Linear layer y = W x + b with optional LoRA, W = W_pt + lora_scale A B^T, and its explicit backward.
#pragma once

#include <string>
#include <vector>

#include "scalora/model/tensors.hpp"

namespace scalora::model {

/// Linear layer on d x N activation blocks (one column per token):
///   Y = W_eff X + b,   W_eff = W                (plain)
///                      W_eff = W_pt + lora_scale A B^T   (adapted; W holds W_pt)
/// Shapes: W m x n (m out, n in), b m, A m x r, B n x r, X n x N, Y m x N.
/// W_eff is re-formed on every forward from the current W_pt, A, B, so the
/// trainer may change them in place between steps; nothing derived from them
/// outlives one forward/backward pair.
template <class T>
class Linear {
 public:
  std::string name;
  Matrix<T> W;   ///< m x n; W_pt when adapted()
  Vector<T> b;   ///< m
  Matrix<T> A;   ///< m x r (output side, PEFT's lora_B); empty when not adapted
  Matrix<T> B;   ///< n x r (input side, PEFT's lora_A)
  T scale = T(0);                 ///< lora_scale (omega) = lora_alpha / r
  bool weight_trainable = true;   ///< grad_W is computed (Mode::full, the head)
  bool dense_grad = false;        ///< opt-in: grad_W = G = dl/dW_eff also when W is frozen

  Matrix<T> grad_W;  ///< m x n when weight_trainable || dense_grad
  Vector<T> grad_b;  ///< m
  Matrix<T> grad_A;  ///< m x r: lora_scale G B
  Matrix<T> grad_B;  ///< n x r: lora_scale G^T A

  Linear() = default;
  /// Plain layer (r = 0) or adapted layer (r >= 1, A = 0).
  Linear(std::string name_, Index m, Index n, Index r, T s) : name(std::move(name_)), scale(s) {
    W = Matrix<T>::Zero(m, n);
    b = Vector<T>::Zero(m);
    grad_b = Vector<T>::Zero(m);
    if (r > 0) {
      A = Matrix<T>::Zero(m, r);
      B = Matrix<T>::Zero(n, r);
      grad_A = Matrix<T>::Zero(m, r);
      grad_B = Matrix<T>::Zero(n, r);
    }
  }

  bool adapted() const { return A.size() != 0; }
  Index out_features() const { return W.rows(); }
  Index in_features() const { return W.cols(); }
  Index rank() const { return A.cols(); }

  /// W_pt + lora_scale A B^T (adapted) or W (plain), as the forward uses it.
  Matrix<T> merged_weight() const {
    Matrix<T> out;
    merge_into(out);
    return out;
  }

  /// Y = W_eff X + b. Keeps W_eff for backward().
  void forward(const Matrix<T>& X, Matrix<T>& Y) {
    const Matrix<T>& Weff = effective_weight();
    Y.resize(W.rows(), X.cols());
    Y.noalias() = Weff * X;
    Y.colwise() += b;
  }

  /// Gradients of the last forward with input X and output gradient dY (m x N):
  ///   grad_b = dY 1,  grad_W = G = dY X^T (when computed),
  ///   grad_A = scale dY (B^T X)^T,  grad_B = scale X (A^T dY)^T   -- O((m + n) r N), G never formed,
  ///   dX = W_eff^T dY, written (accumulate = false) or added (accumulate = true); dX may be null.
  void backward(const Matrix<T>& X, const Matrix<T>& dY, Matrix<T>* dX, bool accumulate = false) {
    grad_b.noalias() = dY.rowwise().sum();
    if (weight_trainable || dense_grad) grad_W.noalias() = dY * X.transpose();
    if (adapted()) {
      low_rank_.noalias() = B.transpose() * X;  // r x N
      grad_A.noalias() = scale * (dY * low_rank_.transpose());
      low_rank_.noalias() = A.transpose() * dY;  // r x N
      grad_B.noalias() = scale * (X * low_rank_.transpose());
    }
    if (dX != nullptr) {
      const Matrix<T>& Weff = adapted() ? merged_ : W;
      if (accumulate)
        dX->noalias() += Weff.transpose() * dY;
      else
        dX->noalias() = Weff.transpose() * dY;
    }
  }

  /// Appends the trainable tensors (Mode-dependent) in the stable order weight|lora_A, lora_B, bias.
  void append_parameters(std::vector<Param<T>>& out) {
    if (weight_trainable) out.push_back({name + ".weight", view(W), view(grad_W), true, false});
    if (adapted()) {
      out.push_back({name + ".lora_A", view(A), view(grad_A), true, false});
      out.push_back({name + ".lora_B", view(B), view(grad_B), true, false});
    }
    out.push_back({name + ".bias", view(b), view(grad_b), false, true});
  }

  /// Appends every stored tensor: weight (W or W_pt), lora_A, lora_B (adapted), bias.
  void append_tensors(std::vector<NamedTensor<T>>& out) {
    out.push_back({name + ".weight", view(W), false});
    if (adapted()) {
      out.push_back({name + ".lora_A", view(A), false});
      out.push_back({name + ".lora_B", view(B), false});
    }
    out.push_back({name + ".bias", view(b), true});
  }

  /// Allocates grad_W when it will be computed (after weight_trainable / dense_grad change).
  void prepare_gradients() {
    if ((weight_trainable || dense_grad) && grad_W.size() == 0) grad_W = Matrix<T>::Zero(W.rows(), W.cols());
  }

 private:
  void merge_into(Matrix<T>& out) const {
    out = W;
    if (adapted()) out.noalias() += (scale * A) * B.transpose();
  }
  const Matrix<T>& effective_weight() {
    if (!adapted()) return W;
    merge_into(merged_);
    return merged_;
  }

  Matrix<T> merged_;     // W_eff of the current forward (adapted only)
  Matrix<T> low_rank_;   // r x N scratch
};

}  // namespace scalora::model
