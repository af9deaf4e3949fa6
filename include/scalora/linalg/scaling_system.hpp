// SPDX-License-Identifier: Apache-2.0
// Theorem 5's system and Theorem 3's aggregates from (A, B, grad_A, grad_B),
// without forming the m x n gradient G. Spec sections 4 and 5.
#pragma once

#include <algorithm>

#include "scalora/linalg/types.hpp"
#include "scalora/linalg/validate.hpp"

namespace scalora {

/// M and lambda of Theorem 5 and the aggregates p, q, s, x, y of Theorem 3.
///
///   S_A = [A, grad_A] (m x 2r),  S_B = [grad_B, B] (n x 2r)
///   P = S_A^T S_A,  Q = S_B^T S_B,  M = P o Q  (2r x 2r, PSD: Schur product)
///   lambda = [colnorm^2(grad_B); colnorm^2(grad_A)] = [diag(Q)_{0:r}; diag(P)_{r:2r}]
///   p = sum M_AA = ||A A^T G||^2,  q = sum M_AB = ||A^T G B||^2,
///   s = sum M_BB = ||G B B^T||^2,  x = sum lambda_A = ||grad_B||^2,
///   y = sum lambda_B = ||grad_A||^2.
/// M is the Gram matrix of {A_i A_i^T G} u {G B_j B_j^T} and lambda_i = <X_i, G>
/// (checked with G in tests/unit/test_theorems_*.cpp and proofs_checks/).
/// T is the accumulation type (double for float inputs; docs/numerics.md).
template <class T>
struct ScalingSystem {
  Index r = 0;
  Matrix<T> P, Q, M;
  Vector<T> lambda;
  T p = T(0), q = T(0), s = T(0), x = T(0), y = T(0);

  /// Builds the aggregates from M and lambda (used after filling P, Q).
  void finish() {
    M = P.cwiseProduct(Q);
    lambda.resize(2 * r);
    lambda.head(r) = Q.diagonal().head(r);
    lambda.tail(r) = P.diagonal().tail(r);
    p = M.topLeftCorner(r, r).sum();
    q = M.topRightCorner(r, r).sum();
    s = M.bottomRightCorner(r, r).sum();
    x = lambda.head(r).sum();
    y = lambda.tail(r).sum();
  }
};

namespace detail {
/// G += S^T S for S = [X, Y] (rows x 2r), accumulated in T over row chunks of
/// 256: the scratch (256 x 2r) stays in cache and below malloc's mmap threshold.
/// Any summation order satisfies the gamma_rows bound of docs/numerics.md.
/// Entries are checked for NaN/Inf chunk by chunk while in cache (x_name,
/// y_name name the arguments in the exception).
template <class T, class DX, class DY>
void accumulate_gram(Matrix<T>& gram, const Eigen::MatrixBase<DX>& X, const char* x_name,
                     const Eigen::MatrixBase<DY>& Y, const char* y_name) {
  constexpr Index chunk = 256;
  const Index rows = X.rows(), r = X.cols();
  Matrix<T> S(std::min(chunk, rows), 2 * r);
  gram.setZero(2 * r, 2 * r);
  for (Index start = 0; start < rows; start += chunk) {
    const Index len = std::min(chunk, rows - start);
    S.topLeftCorner(len, r) = X.middleRows(start, len).template cast<T>();
    S.topRightCorner(len, r) = Y.middleRows(start, len).template cast<T>();
    if (!S.topRows(len).allFinite()) {
      check_finite(x_name, X);  // throws, naming the first bad entry
      check_finite(y_name, Y);
    }
    gram.template selfadjointView<Eigen::Lower>().rankUpdate(S.topRows(len).transpose());
  }
  gram = gram.template selfadjointView<Eigen::Lower>();
}
}  // namespace detail

/// Builds the system in O((m + n) r^2) flops and O(r^2) extra memory.
/// A: m x r, B: n x r, grad_A = G B: m x r, grad_B = G^T A: n x r.
/// @throws invalid_argument on shapes, r = 0 or non-finite entries.
template <class DA, class DB, class DGA, class DGB, class T = accumulate_t<typename DA::Scalar>>
ScalingSystem<T> scaling_system(const Eigen::MatrixBase<DA>& A, const Eigen::MatrixBase<DB>& B,
                                const Eigen::MatrixBase<DGA>& grad_A, const Eigen::MatrixBase<DGB>& grad_B) {
  detail::check_factor_shapes(A, B, grad_A, grad_B);
  ScalingSystem<T> sys;
  sys.r = A.cols();
  detail::accumulate_gram(sys.P, A, "A", grad_A, "grad_A");  // S_A = [A, grad_A]
  detail::accumulate_gram(sys.Q, grad_B, "grad_B", B, "B");  // S_B = [grad_B, B]
  sys.finish();
  return sys;
}

}  // namespace scalora
