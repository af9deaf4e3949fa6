// SPDX-License-Identifier: Apache-2.0
// Theorem 1: the optimal adapter from the SVD of G, and the lower bound
// sum_{i>2r} sigma_i^2 / (2L) that every scaling is measured against. Spec 3.
#pragma once

#include <Eigen/SVD>

#include "scalora/linalg/types.hpp"
#include "scalora/linalg/validate.hpp"

namespace scalora {

/// Result of svd_optimum(). With G = U diag(sigma) V^T (sigma descending):
///   value          = min (*) = sum_{i > 2r} sigma_i^2 / (2L)    (Eckart-Young)
///   bound_decrease = ||G||^2/(2L) - value = sum_{i <= 2r} sigma_i^2 / (2L)
///   A = (L eta)^{-1/2} U[:, 0:r],  B = (L eta)^{-1/2} V[:, r:2r]  (one minimiser;
///   columns whose singular value is beyond the numerical rank are zero: the
///   singular vectors there are arbitrary and add nothing to (*)).
/// D9: the minimiser is not unique when ties, rank_deficient or zero is set
/// (spec section 8, item 9): compare values, not vectors.
template <class T>
struct SvdOptimum {
  Vector<T> sigma;
  T value = T(0);
  T bound_decrease = T(0);
  Matrix<T> A, B;
  Index rank = 0;              ///< numerical rank of G: sigma_i > tol * sigma_1
  bool tie = false;            ///< sigma_2r = sigma_2r+1 (within tol): I, J not unique
  bool rank_deficient = false; ///< rank < 2r: the optimum is 0, adapters not unique
  bool zero = false;           ///< G = 0
};

/// Theorem 1 for G (m x n), rank r, L > 0, eta > 0. tol (relative to
/// sigma_1) decides ties and rank; default 8 max(m, n) epsilon.
/// Cost: one dense SVD, O(m n min(m, n)); an oracle, not part of the algorithm.
template <class DG, class T = typename DG::Scalar>
SvdOptimum<T> svd_optimum(const Eigen::MatrixBase<DG>& G, Index r, const T& L, const T& eta, T tol = T(-1)) {
  using std::sqrt;
  if (r < 1) throw invalid_argument("r", argument_problem::out_of_range, "rank must be >= 1, got " + std::to_string(r));
  detail::check_positive("L", L);
  detail::check_positive("eta", eta);
  detail::check_finite("G", G);
  const Index m = G.rows(), n = G.cols(), k = std::min(m, n);
  if (tol < T(0)) tol = T(8) * T(std::max(m, n)) * scalar_traits<T>::epsilon();
  Eigen::JacobiSVD<Matrix<T>> svd(Matrix<T>(G), Eigen::ComputeThinU | Eigen::ComputeThinV);
  SvdOptimum<T> out;
  out.sigma = svd.singularValues();
  const T s1 = k > 0 ? out.sigma(0) : T(0);
  out.zero = !(s1 > T(0));
  for (Index i = 0; i < k; ++i)
    if (out.sigma(i) > tol * s1) ++out.rank;
  out.rank_deficient = out.rank < 2 * r;
  if (2 * r < k) out.tie = out.sigma(2 * r - 1) - out.sigma(2 * r) <= tol * s1;
  T tail = T(0), head = T(0);
  for (Index i = 0; i < k; ++i) (i < 2 * r ? head : tail) += out.sigma(i) * out.sigma(i);
  out.value = tail / (T(2) * L);
  out.bound_decrease = head / (T(2) * L);
  const T scale = T(1) / sqrt(L * eta);
  out.A.setZero(m, r);
  out.B.setZero(n, r);
  for (Index j = 0; j < r; ++j) {
    if (j < out.rank) out.A.col(j) = scale * svd.matrixU().col(j);
    if (r + j < out.rank) out.B.col(j) = scale * svd.matrixV().col(r + j);
  }
  return out;
}

}  // namespace scalora
