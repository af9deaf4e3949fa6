// SPDX-License-Identifier: Apache-2.0
// Per-layer diagnostics of a run (docs/training.md, "Logs"): the numerical rank
// of the accumulated update W - W_pt(0), and Theorem 1's bound decrease
// sum_{i <= 2r} sigma_i(G)^2 / (2L) from the dense layer gradient G.
#pragma once

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>

#include "scalora/linalg/types.hpp"

namespace scalora::train {

/// Squared singular values of X (m x n, double), descending, as the eigenvalues
/// of the smaller Gram matrix (X^T X or X X^T), clamped at 0.
/// Accuracy: each eigenvalue is within c k eps_d ||X||_2^2 (k = min(m, n)), so a
/// singular value is resolved down to about sqrt(k eps_d) sigma_1 = 1.2e-7 sigma_1
/// for k = 64 -- far below the rank threshold of rank_threshold() (checked there).
/// Cost: m n k + O(k^3), 0.13-0.21 ms for 64 x 64 and 256 x 64 (docs/training.md).
inline Vector<double> squared_singular_values(const Matrix<double>& X) {
  const Matrix<double> gram = X.rows() >= X.cols() ? Matrix<double>(X.transpose() * X) : Matrix<double>(X * X.transpose());
  Eigen::SelfAdjointEigenSolver<Matrix<double>> es(gram, Eigen::EigenvaluesOnly);
  Vector<double> s2 = es.eigenvalues().reverse();
  for (Index i = 0; i < s2.size(); ++i) s2(i) = std::max(0.0, s2(i));
  return s2;
}

/// Rank threshold for an update of a float weight W (m x n): a direction of
/// W - W_pt(0) counts when its singular value exceeds
///   tau = max(m, n) eps_float ||W_pt(0)||_2,
/// the default tolerance of numpy/torch matrix_rank for a float matrix of W's
/// size and norm: smaller directions are at the rounding level of storing W
/// itself. The merges of ScaLoRA round W_pt once per step; T such roundings add
/// noise of spectral norm about 0.3 sqrt(T) eps_float |w| (sqrt m + sqrt n),
/// below tau for T < max(m, n)^2 (docs/training.md, "Rank").
inline double rank_threshold(Index m, Index n, double weight_norm2) {
  return double(std::max(m, n)) * double(std::numeric_limits<float>::epsilon()) * weight_norm2;
}

/// Number of singular values above tau, from their squares (descending).
inline int numerical_rank(const Vector<double>& squared_sigma, double tau) {
  int rank = 0;
  for (Index i = 0; i < squared_sigma.size(); ++i)
    if (squared_sigma(i) > tau * tau) ++rank;
  return rank;
}

/// Theorem 1 (spec section 3): the bound decrease of the SVD optimum with rank-r
/// factors, sum_{i <= 2r} sigma_i^2 / (2L), from the squared singular values of G.
inline double svd_optimum_decrease(const Vector<double>& squared_sigma, Index r, double L) {
  const Index k = std::min<Index>(2 * r, squared_sigma.size());
  return squared_sigma.head(k).sum() / (2.0 * L);
}

}  // namespace scalora::train
