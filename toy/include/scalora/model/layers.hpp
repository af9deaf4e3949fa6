// SPDX-License-Identifier: Apache-2.0
// Layer norm, GELU (tanh form) and masked multi-head self-attention on d x N blocks, forward and backward.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "scalora/model/tensors.hpp"

namespace scalora::model {

/// Layer norm over the feature dimension of each column (token):
///   xhat = (x - mean(x)) / sqrt(var(x) + eps),   y = gamma o xhat + beta   (var: 1/d normalisation).
template <class T>
class LayerNorm {
 public:
  std::string name;
  Vector<T> gamma, beta;            ///< d; "weight" and "bias"
  Vector<T> grad_gamma, grad_beta;  ///< d
  T eps = T(1e-5);

  LayerNorm() = default;
  LayerNorm(std::string name_, Index d, T eps_) : name(std::move(name_)), eps(eps_) {
    gamma = Vector<T>::Ones(d);
    beta = Vector<T>::Zero(d);
    grad_gamma = Vector<T>::Zero(d);
    grad_beta = Vector<T>::Zero(d);
  }

  /// X, Y: d x N (may not alias). Keeps xhat and 1/sigma for backward().
  void forward(const Matrix<T>& X, Matrix<T>& Y) {
    using std::sqrt;
    const Index d = X.rows(), N = X.cols();
    xhat_.resize(d, N);
    rstd_.resize(N);
    Y.resize(d, N);
    for (Index j = 0; j < N; ++j) {
      const T mean = X.col(j).mean();
      xhat_.col(j) = X.col(j).array() - mean;
      const T var = xhat_.col(j).squaredNorm() / T(d);
      rstd_(j) = T(1) / sqrt(var + eps);
      xhat_.col(j) *= rstd_(j);
      Y.col(j) = xhat_.col(j).cwiseProduct(gamma) + beta;
    }
  }

  /// From dY (d x N): grad_gamma = sum_j dY o xhat, grad_beta = sum_j dY, and
  ///   dX = (1/sigma) (g - mean(g) - xhat mean(g o xhat)),  g = gamma o dY,
  /// written or added to dX.
  void backward(const Matrix<T>& dY, Matrix<T>& dX, bool accumulate) {
    const Index d = dY.rows(), N = dY.cols();
    grad_gamma.noalias() = dY.cwiseProduct(xhat_).rowwise().sum();
    grad_beta.noalias() = dY.rowwise().sum();
    if (!accumulate) dX.resize(d, N);
    g_.resize(d);
    for (Index j = 0; j < N; ++j) {
      g_ = dY.col(j).cwiseProduct(gamma);
      const T m1 = g_.mean();
      const T m2 = g_.dot(xhat_.col(j)) / T(d);
      if (accumulate)
        dX.col(j).array() += rstd_(j) * (g_.array() - m1 - xhat_.col(j).array() * m2);
      else
        dX.col(j).array() = rstd_(j) * (g_.array() - m1 - xhat_.col(j).array() * m2);
    }
  }

  void append_parameters(std::vector<Param<T>>& out) {
    out.push_back({name + ".weight", view(gamma), view(grad_gamma), false, true});
    out.push_back({name + ".bias", view(beta), view(grad_beta), false, true});
  }
  void append_tensors(std::vector<NamedTensor<T>>& out) {
    out.push_back({name + ".weight", view(gamma), true});
    out.push_back({name + ".bias", view(beta), true});
  }

 private:
  Matrix<T> xhat_;
  Vector<T> rstd_, g_;
};

/// GELU, tanh approximation (GPT-2/BERT "gelu_new"):
///   gelu(u) = u/2 (1 + tanh(c (u + a u^3))),  c = sqrt(2/pi), a = 0.044715,
///   gelu'(u) = (1 + t)/2 + u/2 (1 - t^2) c (1 + 3 a u^2),  t = tanh(c (u + a u^3)).
template <class T>
struct Gelu {
  static T c() {
    using std::acos;
    using std::sqrt;
    return sqrt(T(2) / acos(T(-1)));
  }
  static T a() { return T(0.044715); }

  /// G = gelu(U); keeps t = tanh(...) in Tt for backward. All d_ff x N.
  static void forward(const Matrix<T>& U, Matrix<T>& Tt, Matrix<T>& G) {
    const T cc = c(), aa = a();
    Tt.resize(U.rows(), U.cols());
    G.resize(U.rows(), U.cols());
    Tt.array() = (cc * (U.array() + aa * U.array().cube())).tanh();
    G.array() = T(0.5) * U.array() * (T(1) + Tt.array());
  }
  /// dU = dG o gelu'(U) (dU may alias dG).
  static void backward(const Matrix<T>& U, const Matrix<T>& Tt, const Matrix<T>& dG, Matrix<T>& dU) {
    const T cc = c(), a3 = T(3) * a();
    dU.resize(U.rows(), U.cols());
    dU.array() = dG.array() * (T(0.5) * (T(1) + Tt.array()) +
                               T(0.5) * U.array() * (T(1) - Tt.array().square()) * cc *
                                   (T(1) + a3 * U.array().square()));
  }
};

/// Multi-head self-attention core with a key padding mask, on blocks of B sequences of length L
/// (token (b, i) = column b L + i). For sequence b with length l_b and head h (rows h dh .. h dh + dh):
///   Z = K_v^T Q / sqrt(dh)   (l_b x L; K_v = the l_b non-padded key columns),
///   P = softmax over each column of Z,   ctx = V_v P   (dh x L).
/// Padded keys get probability 0; padded queries are computed but feed nothing non-padded.
template <class T>
class Attention {
 public:
  /// Q, K, V: d x N; ctx: d x N. Keeps P for backward().
  void forward(const Matrix<T>& Q, const Matrix<T>& K, const Matrix<T>& V, Index L, const std::vector<Index>& len,
               Index n_heads, Matrix<T>& ctx) {
    using std::sqrt;
    const Index d = Q.rows(), N = Q.cols(), B = N / L, dh = d / n_heads;
    const T c = T(1) / sqrt(T(dh));
    P_.resize(L, N * n_heads);
    ctx.resize(d, N);
    rowvec_.resize(L);
    for (Index b = 0; b < B; ++b) {
      const Index l = len[std::size_t(b)];
      for (Index h = 0; h < n_heads; ++h) {
        auto Pb = P_.block(0, (b * n_heads + h) * L, l, L);
        Pb.noalias() = (c * K.block(h * dh, b * L, dh, l).transpose()) * Q.block(h * dh, b * L, dh, L);
        rowvec_ = Pb.colwise().maxCoeff();
        Pb.array().rowwise() -= rowvec_.array();
        Pb.array() = Pb.array().exp();
        rowvec_ = Pb.colwise().sum();
        Pb.array().rowwise() /= rowvec_.array();
        ctx.block(h * dh, b * L, dh, L).noalias() = V.block(h * dh, b * L, dh, l) * Pb;
      }
    }
  }

  /// From dctx (d x N): dQ, dK, dV (d x N; padded key columns get 0):
  ///   dV_v = dctx P^T,  dP = V_v^T dctx,  dZ = P o (dP - 1 (1^T (P o dP))),
  ///   dQ = K_v dZ / sqrt(dh),  dK_v = Q dZ^T / sqrt(dh).
  void backward(const Matrix<T>& Q, const Matrix<T>& K, const Matrix<T>& V, Index L, const std::vector<Index>& len,
                Index n_heads, const Matrix<T>& dctx, Matrix<T>& dQ, Matrix<T>& dK, Matrix<T>& dV) {
    using std::sqrt;
    const Index d = Q.rows(), N = Q.cols(), B = N / L, dh = d / n_heads;
    const T c = T(1) / sqrt(T(dh));
    dQ.resize(d, N);
    dK.resize(d, N);
    dV.resize(d, N);
    dP_.resize(L, L);
    rowvec_.resize(L);
    for (Index b = 0; b < B; ++b) {
      const Index l = len[std::size_t(b)];
      if (l < L) {
        dK.block(0, b * L + l, d, L - l).setZero();
        dV.block(0, b * L + l, d, L - l).setZero();
      }
      for (Index h = 0; h < n_heads; ++h) {
        const auto Pb = P_.block(0, (b * n_heads + h) * L, l, L);
        const auto dctx_b = dctx.block(h * dh, b * L, dh, L);
        auto dPb = dP_.block(0, 0, l, L);
        dV.block(h * dh, b * L, dh, l).noalias() = dctx_b * Pb.transpose();
        dPb.noalias() = V.block(h * dh, b * L, dh, l).transpose() * dctx_b;
        rowvec_ = Pb.cwiseProduct(dPb).colwise().sum();
        dPb.array().rowwise() -= rowvec_.array();
        dPb.array() *= Pb.array();
        dQ.block(h * dh, b * L, dh, L).noalias() = (c * K.block(h * dh, b * L, dh, l)) * dPb;
        dK.block(h * dh, b * L, dh, l).noalias() = (c * Q.block(h * dh, b * L, dh, L)) * dPb.transpose();
      }
    }
  }

 private:
  Matrix<T> P_;   // L x (N H): block (b, h) in columns (b H + h) L .. + L, top l_b rows
  Matrix<T> dP_;  // L x L scratch
  Eigen::Matrix<T, 1, Eigen::Dynamic> rowvec_;
};

}  // namespace scalora::model
