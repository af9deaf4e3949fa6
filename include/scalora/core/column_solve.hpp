// SPDX-License-Identifier: Apache-2.0
// Theorem 5 (column scaling): the 2r x 2r solve M v = lambda, the decision
// "a solution v >= 0 exists", and the canonical solution. Spec section 5.
//
// Host and device; no allocation. Works on the system built by
// linalg/scaling_system.hpp (host) or gpu/ (device).
//
// Canonical solution (docs/decisions.md, D5 "least change"): among all
// minimisers of (*) over column scalings, the one whose squared scalings
// u = v / kappa are nearest to 1 (no change):
//     v* = argmin { ||v - kappa 1||_2 : M v = lambda, v >= 0 }.
// When M is nonsingular this is M^{-1} lambda; otherwise it fixes the entries
// the bound does not determine (B = 0 initialisation: beta = 1; zero columns:
// scaling 1; duplicate columns: equal split).
#pragma once

#include "scalora/core/nnls.hpp"
#include "scalora/core/small_dense.hpp"

namespace scalora {

/// How the column solve ended.
enum class column_method : unsigned char {
  unique,          ///< M nonsingular, M^{-1} lambda >= 0
  least_change,    ///< M singular; the least-change solution of M v = lambda is >= 0
  least_distance,  ///< M singular; least change had negative entries, a QP (LDP via NNLS) found v >= 0
  infeasible,      ///< no v >= 0 solves M v = lambda: Theorem 5 does not apply
};

inline const char* to_string(column_method m) {
  switch (m) {
    case column_method::unique: return "unique";
    case column_method::least_change: return "least_change";
    case column_method::least_distance: return "least_distance";
    case column_method::infeasible: return "infeasible";
  }
  return "unknown";
}

/// D4: the production non-negativity test is tolerance-based (the reference's
/// is exact). Tolerances of the production decision, each k * epsilon of T
/// (values and reasoning: docs/numerics.md, "Column decision").
template <class T>
struct ColumnTolerances {
  T rank;          ///< pivoted Cholesky of the equilibrated M stops at pivots <= rank
  /// v_i sqrt(M_ii) >= -nonnegative * cond * max_j |v_j| sqrt(M_jj) counts as >= 0, with
  /// cond = (first pivot / last pivot) of the factorisation, an estimate of the
  /// condition number of the equilibrated M (the solve's error grows with it).
  T nonnegative;
  T nnls;          ///< dual tolerance of the NNLS inside the least-distance step
  T infeasible;    ///< LDP residual^2 <= infeasible declares {v >= 0} empty
  int max_nnls_iterations;

  SCALORA_HD static ColumnTolerances defaults(int n) {
    const T eps = scalar_traits<T>::epsilon();
    return ColumnTolerances{T(16) * T(n) * eps, T(16) * T(n) * eps, T(16) * T(n) * eps, T(n) * eps,
                            6 * n + 10};
  }
};

/// What the solve found. rank and margin describe M and lambda; v is in the
/// caller's array.
template <class T>
struct ColumnSolveInfo {
  column_method method = column_method::infeasible;
  int rank = 0;          ///< numerical rank of M
  bool clamped = false;  ///< entries within the tolerance below 0 were set to 0
  /// min_i v_i sqrt(M_ii) / max_j |v_j| sqrt(M_jj) of the least-change solution,
  /// before clamping: the signed distance of the decision from its boundary.
  T margin = T(0);
  T condition = T(1);    ///< pivot-ratio estimate of cond(D M D) on its range (>= 1)
  SCALORA_HD bool feasible() const { return method != column_method::infeasible; }
};

SCALORA_HD constexpr int column_solve_work_size(int n) {
  return 2 * n * n + 5 * n + 1 + (n + 1) * n + nnls_work_size(n + 1, n);
}
SCALORA_HD constexpr int column_solve_iwork_size(int n) { return n + nnls_iwork_size(n); }

/// Solves M v = lambda for the canonical v >= 0 (see file comment), or
/// reports that no non-negative solution exists.
///
/// M: n x n symmetric positive semidefinite (column-major, leading dim ldm),
///    n = 2r, the Hadamard Gram matrix of Theorem 5; lambda: n entries,
///    lambda in range(M); kappa = L * eta > 0 (only the canonical choice of the
///    entries M leaves free depends on it).
/// v: n outputs, valid when the result is feasible().
/// work: column_solve_work_size(n); iwork: column_solve_iwork_size(n).
///
/// Method: equilibrate (D = diag(M)^{-1/2}), pivoted Cholesky with rank
/// tolerance, particular solution plus orthonormal null-space basis Q,
/// least change v = v_p + Q Q^T (kappa 1 - v_p); if that has entries below 0
/// and M is singular, the least-distance problem min ||z|| s.t. v + Q z >= 0
/// (Lawson-Hanson ch. 23, by NNLS).
/// @post feasible => v >= 0 and M v = lambda up to rounding;
///       checked by tests/unit/test_column_solve.cpp and, against the exact
///       decision of the reference, by tests/unit/test_reference_*.cpp.
SCALORA_HD_NOWARN
template <class T>
SCALORA_HD ColumnSolveInfo<T> solve_column_system(int n, const T* m, int ldm, const T* lambda, const T& kappa, T* v,
                                                   T* work, int* iwork, const ColumnTolerances<T>& tol) {
  using std::abs;
  using std::sqrt;
  using detail::at;
  ColumnSolveInfo<T> info;

  T* a = work;             // n x n: equilibrated M, then its pivoted Cholesky factor
  T* q = a + n * n;        // n x n: null-space basis in v coordinates, then orthonormal
  T* d = q + n * n;        // n: D
  T* weight = d + n;       // n: sqrt(M_ii), 0 where M_ii = 0
  T* y = weight + n;       // n: scratch
  T* vp = y + n;           // n: particular solution
  T* fr = vp + n;          // n + 1: NNLS right-hand side
  T* e = fr + n + 1;       // (n + 1) x n: LDP matrix
  T* wnn = e + (n + 1) * n;  // n: NNLS solution
  T* nw = wnn + n;         // NNLS workspace
  int* perm = iwork;
  int* niw = perm + n;

  for (int i = 0; i < n; ++i) {
    const T mii = at(m, ldm, i, i);
    weight[i] = mii > T(0) ? sqrt(mii) : T(0);
    d[i] = mii > T(0) ? T(1) / weight[i] : T(1);
  }
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) at(a, n, i, j) = d[i] * at(m, ldm, i, j) * d[j];

  const int k = detail::pivoted_cholesky(n, a, n, perm, tol.rank);
  info.rank = k;
  if (k > 0) info.condition = (a[0] / at(a, n, k - 1, k - 1)) * (a[0] / at(a, n, k - 1, k - 1));
  const T nonneg_tol = tol.nonnegative * detail::max_of(T(1), info.condition);

  // Particular solution: L11 L11^T w_P = (D lambda)_P, w_F = 0, v_p = D w.
  for (int i = 0; i < k; ++i) y[i] = d[perm[i]] * lambda[perm[i]];
  detail::lower_solve(k, a, n, y);
  detail::lower_transpose_solve(k, a, n, y);
  for (int i = 0; i < n; ++i) vp[i] = T(0);
  for (int i = 0; i < k; ++i) vp[perm[i]] = d[perm[i]] * y[i];

  // Null space: free position f = k + c gives w_P = -L11^{-T} L21(c, :)^T, w_f = 1.
  const int nfree = n - k;
  for (int c = 0; c < nfree; ++c) {
    T* col = q + c * n;
    for (int i = 0; i < n; ++i) col[i] = T(0);
    for (int i = 0; i < k; ++i) y[i] = at(a, n, k + c, i);
    detail::lower_transpose_solve(k, a, n, y);
    for (int i = 0; i < k; ++i) col[perm[i]] = -d[perm[i]] * y[i];
    col[perm[k + c]] = d[perm[k + c]];
  }
  const int nq = detail::orthonormalize_columns(n, nfree, q, n, T(16) * T(n) * scalar_traits<T>::epsilon());

  // Least change: v = v_p + Q Q^T (kappa 1 - v_p).
  for (int i = 0; i < n; ++i) v[i] = vp[i];
  for (int c = 0; c < nq; ++c) {
    const T* col = q + c * n;
    T h = T(0);
    for (int i = 0; i < n; ++i) h += col[i] * (kappa - vp[i]);
    for (int i = 0; i < n; ++i) v[i] += h * col[i];
  }

  // Decide on equilibrated magnitudes v_i sqrt(M_ii) = |coefficient| * ||X_i||.
  auto margin_of = [&](const T* x) {
    T big = T(0), small = T(0);
    bool first = true;
    for (int i = 0; i < n; ++i) {
      const T s = x[i] * weight[i];
      big = detail::max_of(big, T(abs(s)));
      if (first || s < small) small = s;
      first = false;
    }
    return big > T(0) ? small / big : T(0);
  };
  auto clamp_negatives = [&]() {
    for (int i = 0; i < n; ++i)
      if (v[i] < T(0)) {
        v[i] = T(0);
        info.clamped = true;
      }
  };

  info.margin = margin_of(v);
  if (info.margin >= -nonneg_tol) {
    info.method = k == n ? column_method::unique : column_method::least_change;
    clamp_negatives();
    return info;
  }
  if (nq == 0) {
    info.method = column_method::infeasible;
    return info;
  }

  // Least distance: min ||z|| s.t. v + Q z >= 0, as NNLS on E = [Q^T; h^T],
  // f = e_{nq+1}, h = -v / vscale; each column of E normalised.
  T vscale = T(0);
  for (int i = 0; i < n; ++i) vscale = detail::max_of(vscale, T(abs(v[i])));
  const int rows = nq + 1;
  for (int i = 0; i < n; ++i) {
    for (int c = 0; c < nq; ++c) at(e, rows, c, i) = at(q, n, i, c);
    at(e, rows, nq, i) = -v[i] / vscale;
    const T cn = detail::norm2(rows, e + i * rows);
    if (cn > T(0))
      for (int c = 0; c < rows; ++c) at(e, rows, c, i) /= cn;
  }
  for (int c = 0; c < rows; ++c) fr[c] = T(0);
  fr[nq] = T(1);
  const nnls_status st = nnls(rows, n, e, rows, fr, wnn, nw, niw, tol.nnls, tol.max_nnls_iterations);
  // Residual rho = E w - f; ||rho||^2 = 1 / (1 + ||z||^2) at the optimum.
  for (int c = 0; c < rows; ++c) {
    T s = -fr[c];
    for (int i = 0; i < n; ++i) s += at(e, rows, c, i) * wnn[i];
    y[c] = s;
  }
  T rho2 = T(0);
  for (int c = 0; c < rows; ++c) rho2 += y[c] * y[c];
  if (st != nnls_status::converged || !(rho2 > tol.infeasible) || !(y[nq] < T(0))) {
    info.method = column_method::infeasible;
    return info;
  }
  for (int c = 0; c < nq; ++c) {
    const T zc = -y[c] / y[nq] * vscale;
    for (int i = 0; i < n; ++i) v[i] += zc * at(q, n, i, c);
  }
  if (margin_of(v) < -nonneg_tol) {
    info.method = column_method::infeasible;
    return info;
  }
  info.method = column_method::least_distance;
  clamp_negatives();
  return info;
}

}  // namespace scalora
