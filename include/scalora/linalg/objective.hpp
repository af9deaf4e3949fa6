// SPDX-License-Identifier: Apache-2.0
// The objective (*) and the exact one-step increment, from an explicit G.
// Spec section 2. For teaching and checking: O(m n r) per call.
//
// These functions state the theory for W = W_pt + A B^T (lora_scale 1).
#pragma once

#include "scalora/linalg/types.hpp"
#include "scalora/linalg/validate.hpp"

namespace scalora {

/// (*)(A~, B~) = (L / 2) || G / L - eta A~ A~^T G - eta G B~ B~^T ||_F^2
///            = (L eta^2 / 2) || c G - A~ A~^T G - G B~ B~^T ||_F^2,  c = 1 / (L eta).
/// The first-order loss bound after one gradient step from (A~, B~) is
/// l(W) - ||G||^2 / (2L) + (*).
/// G: m x n, A~: m x r, B~: n x r.
template <class DG, class DA, class DB, class T = typename DG::Scalar>
T objective(const Eigen::MatrixBase<DG>& G, const Eigen::MatrixBase<DA>& A_t, const Eigen::MatrixBase<DB>& B_t,
            const T& L, const T& eta) {
  detail::check_shape("A~", A_t, G.rows(), A_t.cols(), "m x r, m = G.rows()");
  detail::check_shape("B~", B_t, G.cols(), A_t.cols(), "n x r, n = G.cols(), r = A~.cols()");
  const Matrix<T> R = G / L - eta * (A_t * (A_t.transpose() * G)) - eta * ((G * B_t) * B_t.transpose());
  return L / T(2) * R.squaredNorm();
}

/// The exact increment of the product after one gradient step from (A~, B~):
///   A~' = A~ - eta G B~,  B~' = B~ - eta G^T A~,
///   Delta = A~' B~'^T - A~ B~^T = -eta (G B~ B~^T + A~ A~^T G) + eta^2 G B~ A~^T G.
/// The paper's bound keeps the first-order part only.
template <class DG, class DA, class DB, class T = typename DG::Scalar>
Matrix<T> exact_increment(const Eigen::MatrixBase<DG>& G, const Eigen::MatrixBase<DA>& A_t,
                          const Eigen::MatrixBase<DB>& B_t, const T& eta) {
  detail::check_shape("A~", A_t, G.rows(), A_t.cols(), "m x r, m = G.rows()");
  detail::check_shape("B~", B_t, G.cols(), A_t.cols(), "n x r, n = G.cols(), r = A~.cols()");
  const Matrix<T> GB = G * B_t;
  const Matrix<T> AG = A_t.transpose() * G;
  return -eta * (GB * B_t.transpose() + A_t * AG) + eta * eta * (GB * AG);
}

}  // namespace scalora
