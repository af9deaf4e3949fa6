// SPDX-License-Identifier: Apache-2.0
// Theorem 5's system and Theorem 3's aggregates from (A, B, grad_A, grad_B),
// without forming the m x n gradient G. Spec sections 4 and 5.
#pragma once

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

/// Builds the system in O((m + n) r^2) flops and O((m + n) r) memory.
/// A: m x r, B: n x r, grad_A = G B: m x r, grad_B = G^T A: n x r.
/// @throws invalid_argument on shapes, r = 0 or non-finite entries.
template <class DA, class DB, class DGA, class DGB, class T = accumulate_t<typename DA::Scalar>>
ScalingSystem<T> scaling_system(const Eigen::MatrixBase<DA>& A, const Eigen::MatrixBase<DB>& B,
                                const Eigen::MatrixBase<DGA>& grad_A, const Eigen::MatrixBase<DGB>& grad_B) {
  detail::check_factors(A, B, grad_A, grad_B);
  const Index m = A.rows(), n = B.rows(), r = A.cols();
  ScalingSystem<T> sys;
  sys.r = r;
  Matrix<T> SA(m, 2 * r), SB(n, 2 * r);
  SA << A.template cast<T>(), grad_A.template cast<T>();
  SB << grad_B.template cast<T>(), B.template cast<T>();
  sys.P.setZero(2 * r, 2 * r);
  sys.Q.setZero(2 * r, 2 * r);
  sys.P.template selfadjointView<Eigen::Lower>().rankUpdate(SA.transpose());
  sys.Q.template selfadjointView<Eigen::Lower>().rankUpdate(SB.transpose());
  sys.P = sys.P.template selfadjointView<Eigen::Lower>();
  sys.Q = sys.Q.template selfadjointView<Eigen::Lower>();
  sys.finish();
  return sys;
}

}  // namespace scalora
