// SPDX-License-Identifier: Apache-2.0
// Small dense kernels on column-major arrays (n <= a few dozen): pivoted
// Cholesky, triangular solves, Gram-Schmidt. Host and device; no allocation.
//
// These serve the 2r x 2r systems of Theorem 5 (core/column_solve.hpp), which
// run once per layer and step, on the host (linalg/) and on the GPU (gpu/).
#pragma once

#include "scalora/core/scalar_traits.hpp"

namespace scalora::detail {

/// Column-major element access: a(i, j) = a[i + j * ld].
SCALORA_HD_NOWARN
template <class T>
SCALORA_HD inline T& at(T* a, int ld, int i, int j) { return a[i + j * ld]; }
SCALORA_HD_NOWARN
template <class T>
SCALORA_HD inline const T& at(const T* a, int ld, int i, int j) { return a[i + j * ld]; }

SCALORA_HD_NOWARN
template <class T>
SCALORA_HD inline void swap_values(T& a, T& b) {
  T t = a;
  a = b;
  b = t;
}

/// Cholesky with diagonal pivoting of a symmetric positive semidefinite n x n
/// matrix held in full storage (Higham, "Accuracy and Stability", Alg. 10.x).
///
/// On exit, with k the returned rank, P the permutation in perm
/// (row i of the permuted matrix is row perm[i] of the input):
///   (P a P^T)(0:k, 0:k) = L11 L11^T,  (P a P^T)(k:n, 0:k) = L21 L11^T,
/// L11 (lower, positive diagonal) and L21 are stored in the first k columns of a,
/// and a(k:n, k:n) holds the Schur complement, every diagonal entry <= tol.
/// @pre a symmetric; tol >= 0.
/// @post the factorisation above; the pivots a(i,i), i < k, are non-increasing
///       in exact arithmetic. Checked by tests/unit/test_core.cpp ("pivoted Cholesky ...").
SCALORA_HD_NOWARN
template <class T>
SCALORA_HD int pivoted_cholesky(int n, T* a, int lda, int* perm, const T& tol) {
  using std::sqrt;
  for (int i = 0; i < n; ++i) perm[i] = i;
  for (int k = 0; k < n; ++k) {
    int p = k;
    for (int i = k + 1; i < n; ++i)
      if (at(a, lda, p, p) < at(a, lda, i, i)) p = i;
    if (!(at(a, lda, p, p) > tol)) return k;
    if (p != k) {
      for (int j = 0; j < n; ++j) swap_values(at(a, lda, k, j), at(a, lda, p, j));
      for (int i = 0; i < n; ++i) swap_values(at(a, lda, i, k), at(a, lda, i, p));
      swap_values(perm[k], perm[p]);
    }
    const T pivot = sqrt(at(a, lda, k, k));
    at(a, lda, k, k) = pivot;
    for (int i = k + 1; i < n; ++i) at(a, lda, i, k) /= pivot;
    for (int j = k + 1; j < n; ++j) {
      const T ljk = at(a, lda, j, k);
      for (int i = k + 1; i < n; ++i) at(a, lda, i, j) -= at(a, lda, i, k) * ljk;
    }
  }
  return n;
}

/// Solves L x = b in place (x overwrites b); L is k x k lower triangular.
SCALORA_HD_NOWARN
template <class T>
SCALORA_HD void lower_solve(int k, const T* l, int ldl, T* b) {
  for (int i = 0; i < k; ++i) {
    T s = b[i];
    for (int j = 0; j < i; ++j) s -= at(l, ldl, i, j) * b[j];
    b[i] = s / at(l, ldl, i, i);
  }
}

/// Solves L^T x = b in place; L is k x k lower triangular.
SCALORA_HD_NOWARN
template <class T>
SCALORA_HD void lower_transpose_solve(int k, const T* l, int ldl, T* b) {
  for (int i = k - 1; i >= 0; --i) {
    T s = b[i];
    for (int j = i + 1; j < k; ++j) s -= at(l, ldl, j, i) * b[j];
    b[i] = s / at(l, ldl, i, i);
  }
}

SCALORA_HD_NOWARN
template <class T>
SCALORA_HD T dot(int n, const T* x, const T* y) {
  T s = T(0);
  for (int i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}

/// Euclidean norm with scaling, safe from overflow and underflow.
SCALORA_HD_NOWARN
template <class T>
SCALORA_HD T norm2(int n, const T* x) {
  using std::abs;
  using std::sqrt;
  T scale = T(0);
  for (int i = 0; i < n; ++i) scale = max_of(scale, T(abs(x[i])));
  if (!(scale > T(0))) return T(0);
  T s = T(0);
  for (int i = 0; i < n; ++i) {
    const T t = x[i] / scale;
    s += t * t;
  }
  return scale * sqrt(s);
}

/// Orthonormalises the columns of q (rows x cols) in place by modified
/// Gram-Schmidt with one full reorthogonalisation ("twice is enough"). A column
/// whose norm falls below drop_tol times its original norm is dropped; kept
/// columns are compacted to the front.
/// @return the number of kept columns c; q(:, 0:c) has orthonormal columns.
SCALORA_HD_NOWARN
template <class T>
SCALORA_HD int orthonormalize_columns(int rows, int cols, T* q, int ldq, const T& drop_tol) {
  int kept = 0;
  for (int j = 0; j < cols; ++j) {
    T* v = q + j * ldq;
    const T original = norm2(rows, v);
    if (!(original > T(0))) continue;
    for (int pass = 0; pass < 2; ++pass)
      for (int c = 0; c < kept; ++c) {
        const T* u = q + c * ldq;
        const T h = dot(rows, u, v);
        for (int i = 0; i < rows; ++i) v[i] -= h * u[i];
      }
    const T nv = norm2(rows, v);
    if (!(nv > drop_tol * original)) continue;
    T* dst = q + kept * ldq;
    for (int i = 0; i < rows; ++i) dst[i] = v[i] / nv;
    ++kept;
  }
  return kept;
}

}  // namespace scalora::detail
