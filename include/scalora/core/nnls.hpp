// SPDX-License-Identifier: Apache-2.0
// Non-negative least squares (Lawson-Hanson) and least-distance programming
// on small dense problems. Host and device; no allocation.
//
// Used by the column-scaling solve when M is singular (core/column_solve.hpp)
// and by the Theorem 5 checks (proofs_checks/thm5_column_scaling.cpp).
#pragma once

#include "scalora/core/small_dense.hpp"

namespace scalora {

/// Outcome of nnls().
enum class nnls_status : unsigned char {
  converged,       ///< KKT conditions hold to the tolerance
  iteration_limit  ///< stopped after max_iterations; w is feasible but may be suboptimal
};

/// Workspace sizes for nnls(rows, cols, ...).
SCALORA_HD constexpr int nnls_work_size(int rows, int cols) {
  return rows * cols + cols * cols + 2 * rows + 3 * cols;
}
SCALORA_HD constexpr int nnls_iwork_size(int cols) { return 3 * cols; }

namespace detail {

/// Least squares over the columns listed in idx[0:k] of e (rows x cols):
/// z = argmin || e(:, idx) z - f ||, by modified Gram-Schmidt QR with
/// reorthogonalisation. Columns that are numerically dependent on earlier ones
/// get z = 0. Writes z[0:k]; uses q (rows x k), r (k x k), t (rows).
/// Returns the smallest ratio ||column orthogonal to the earlier ones|| /
/// ||column|| of the kept columns (1 if none): its inverse estimates the
/// condition of the solve, whose relative error is about rows eps / ratio.
SCALORA_HD_NOWARN
template <class T>
SCALORA_HD T subset_least_squares(int rows, const T* e, int lde, const int* idx, int k, const T* f,
                                  T* z, T* q, T* r, T* t, const T& drop_tol) {
  T min_ratio = T(1);
  for (int j = 0; j < k; ++j) {
    T* v = q + j * rows;
    for (int i = 0; i < rows; ++i) v[i] = at(e, lde, i, idx[j]);
    for (int c = 0; c < k; ++c) at(r, k, c, j) = T(0);
    const T original = norm2(rows, v);
    for (int pass = 0; pass < 2; ++pass)
      for (int c = 0; c < j; ++c) {
        const T* u = q + c * rows;
        const T h = dot(rows, u, v);
        at(r, k, c, j) += h;
        for (int i = 0; i < rows; ++i) v[i] -= h * u[i];
      }
    const T nv = norm2(rows, v);
    if (nv > drop_tol * original && nv > T(0)) {
      at(r, k, j, j) = nv;
      min_ratio = nv / original < min_ratio ? nv / original : min_ratio;
      for (int i = 0; i < rows; ++i) v[i] /= nv;
    } else {
      at(r, k, j, j) = T(0);  // dependent column: its coefficient is set to 0 below
      for (int i = 0; i < rows; ++i) v[i] = T(0);
    }
  }
  for (int i = 0; i < rows; ++i) t[i] = f[i];
  for (int j = 0; j < k; ++j) z[j] = dot(rows, q + j * rows, t);
  for (int j = k - 1; j >= 0; --j) {
    if (!(at(r, k, j, j) > T(0))) {
      z[j] = T(0);
      continue;
    }
    T s = z[j];
    for (int c = j + 1; c < k; ++c) s -= at(r, k, j, c) * z[c];
    z[j] = s / at(r, k, j, j);
  }
  return min_ratio;
}

}  // namespace detail

/// Lawson-Hanson active-set NNLS:  w = argmin_{w >= 0} || E w - f ||_2.
///
/// E is rows x cols (column-major, leading dimension lde), f has rows entries.
/// tol is the dual tolerance: the loop stops when every inactive gradient
/// entry (E^T (f - E w))_j <= tol. Scale E and f to unit size and use a small
/// multiple of epsilon (docs/numerics.md, "NNLS").
/// dependency: a column whose part orthogonal to the passive set's columns is
/// below dependency times its norm counts as dependent (coefficient 0); it
/// should be the relative accuracy of E's columns (default, <= 0: 4 (rows +
/// cols) epsilon). Keeping such columns lets the subset least squares cancel
/// near-parallel columns with huge weights.
/// work: nnls_work_size(rows, cols); iwork: nnls_iwork_size(cols).
/// condition (optional out): 1 / the smallest orthogonal-part ratio of the
/// subset least squares that produced w (subset_least_squares): the solution's
/// rounding is about rows eps condition, relative to ||f||.
/// @post w >= 0; on convergence the KKT conditions of the problem hold to tol
///       (checked in tests/unit/test_core.cpp, "NNLS: KKT conditions ...", and
///       proofs_checks/thm5_column_scaling.cpp).
SCALORA_HD_NOWARN
template <class T>
SCALORA_HD nnls_status nnls(int rows, int cols, const T* e, int lde, const T* f, T* w, T* work, int* iwork,
                            const T& tol, int max_iterations, const T& dependency = T(0), T* condition = nullptr) {
  using detail::at;
  using detail::dot;
  T* q = work;                   // rows * cols
  T* r = q + rows * cols;        // cols * cols
  T* res = r + cols * cols;      // rows
  T* t = res + rows;             // rows
  T* g = t + rows;               // cols
  T* z = g + cols;               // cols
  T* zfull = z + cols;           // cols
  int* passive = iwork;          // cols: 1 if in the passive set
  int* list = passive + cols;    // cols: indices of the passive set
  int* excluded = list + cols;   // cols: 1 if refused since the last change of w
  const T drop_tol = dependency > T(0) ? dependency : T(4) * T(rows + cols) * scalar_traits<T>::epsilon();

  for (int j = 0; j < cols; ++j) {
    w[j] = T(0);
    passive[j] = 0;
    excluded[j] = 0;
  }
  if (condition) *condition = T(1);
  int iterations = 0;
  for (;;) {
    for (int i = 0; i < rows; ++i) {
      T s = f[i];
      for (int j = 0; j < cols; ++j) s -= at(e, lde, i, j) * w[j];
      res[i] = s;
    }
    int best = -1;
    T best_g = tol;
    for (int j = 0; j < cols; ++j) {
      g[j] = dot(rows, e + j * lde, res);
      if (!passive[j] && !excluded[j] && g[j] > best_g) {
        best_g = g[j];
        best = j;
      }
    }
    if (best < 0) return nnls_status::converged;
    passive[best] = 1;

    for (bool first = true;; first = false) {
      if (++iterations > max_iterations) return nnls_status::iteration_limit;
      // Gather the passive set and solve the unconstrained subproblem on it.
      int k = 0;
      for (int j = 0; j < cols; ++j)
        if (passive[j]) list[k++] = j;
      const T ratio = detail::subset_least_squares(rows, e, lde, list, k, f, z, q, r, t, drop_tol);
      for (int j = 0; j < cols; ++j) zfull[j] = T(0);
      for (int c = 0; c < k; ++c) zfull[list[c]] = z[c];

      if (first && !(zfull[best] > T(0))) {
        // Rounding made the entering column useless (Lawson-Hanson, ch. 23,
        // step 6 degeneracy): refuse it until w changes, instead of cycling.
        passive[best] = 0;
        excluded[best] = 1;
        break;
      }
      bool all_positive = true;
      for (int c = 0; c < k; ++c)
        if (!(z[c] > T(0))) all_positive = false;
      if (all_positive) {
        if (condition) *condition = T(1) / ratio;
        for (int j = 0; j < cols; ++j) {
          w[j] = zfull[j];
          excluded[j] = 0;
        }
        break;
      }
      // Step from w toward z until the first passive entry reaches zero.
      T step = T(1);
      int blocking = -1;
      for (int c = 0; c < k; ++c) {
        const int j = list[c];
        if (!(z[c] > T(0))) {
          const T denom = w[j] - z[c];
          const T s = denom > T(0) ? w[j] / denom : T(0);
          if (blocking < 0 || s < step) {
            step = s;
            blocking = j;
          }
        }
      }
      for (int j = 0; j < cols; ++j) {
        w[j] += step * (zfull[j] - w[j]);
        excluded[j] = 0;
      }
      for (int c = 0; c < k; ++c) {
        const int j = list[c];
        if (j == blocking || !(w[j] > T(0))) {
          passive[j] = 0;
          w[j] = T(0);
        }
      }
    }
  }
}

}  // namespace scalora
