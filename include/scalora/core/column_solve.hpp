// SPDX-License-Identifier: Apache-2.0
// Theorem 5 (column scaling): the 2r x 2r solve M v = lambda, the decision
// "a solution v >= 0 exists", and the canonical solution. Spec section 5.
//
// Host and device; no allocation. Works on the system built by
// linalg/scaling_system.hpp (host) or gpu/ (device).
//
// Canonical solution (docs/decisions.md, D5 "least change"): among all
// minimisers of (*) over column scalings, the one whose squared scalings
// u = v / kappa are nearest to 1 (no change), each column's change weighted by
// the size of its term ||X_i||^2 = M_ii:
//     v* = argmin { sum_i M_ii (v_i - kappa)^2 : M v = lambda, v >= 0 },
// and v_i = kappa where M_ii = 0 (X_i = 0: the column does not enter (*)).
// When M is nonsingular this is M^{-1} lambda; otherwise it fixes the entries
// the bound does not determine (B = 0 initialisation: beta = 1; zero columns:
// scaling 1; duplicate columns: equal split). When rounding of the stored
// gradients puts lambda slightly outside range(M) (possible only for singular
// M), M v = lambda is read as the least-squares system min ||D (M v - lambda)||.
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
  /// Pivoted Cholesky of the equilibrated M stops at pivots <= rank: the
  /// a-priori error of computing M (below it a direction of M is not known).
  T rank;
  /// v_i sqrt(M_ii) >= -min(1/16, nonnegative * cond) * max_j |v_j| sqrt(M_jj) counts
  /// as >= 0, with cond = (first pivot / last pivot) of the factorisation, an
  /// estimate of the condition number of the equilibrated M (the solve's error
  /// grows with it).
  T nonnegative;
  T nnls;          ///< dual tolerance of the NNLS inside the least-distance step
  T infeasible;    ///< LDP residual^2 <= infeasible declares {v >= 0} empty
  int max_nnls_iterations;

  /// For M built from an m x r and an n x r factor pair (n2 = 2r): the rank
  /// tolerance is eta eps with eta = n2 (m + n + 2) + 2 n2^2, the bound on
  /// ||dM^||_2 / eps of docs/numerics.md ("Squared scalings"); m = n = 0 leaves
  /// only the solve's own term (for an exactly known M).
  SCALORA_HD static ColumnTolerances defaults(int n2, long long m = 0, long long n = 0) {
    const T eps = scalar_traits<T>::epsilon();
    const T eta = T(n2) * T(m + n + 2) + T(2) * T(n2) * T(n2);
    return ColumnTolerances{eta * eps, T(16) * T(n2) * eps, T(16) * T(n2) * eps, T(n2) * eps, 6 * n2 + 10};
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
  /// least_distance: |rho_{nq+1}| = 1 / (1 + ||z||^2 / wscale^2) of the LDP; its
  /// primal accuracy is the NNLS tolerance divided by it. 1 otherwise.
  T ldp_residual = T(1);
  /// least_distance: max |w| of the least-change point over max |w| of the
  /// solution; the LDP's errors are relative to the former. 1 otherwise.
  T ldp_scale = T(1);
  SCALORA_HD bool feasible() const { return method != column_method::infeasible; }
};

namespace detail {
SCALORA_HD constexpr int column_solve_base_work(int n) {
  return 2 * n * n + 5 * n + 1 + (n + 1) * n + nnls_work_size(n + 1, n);
}
SCALORA_HD constexpr int column_solve_base_iwork(int n) { return n + nnls_iwork_size(n); }
}  // namespace detail

/// Workspace of solve_column_system: its own, plus the particular solve's
/// scratch (a k x k normal matrix and an n-vector) and the least-change step's
/// (the null basis, its Gram matrix, an n-vector).
SCALORA_HD constexpr int column_solve_work_size(int n) { return detail::column_solve_base_work(n) + 3 * n * n + 4 * n; }
SCALORA_HD constexpr int column_solve_iwork_size(int n) { return detail::column_solve_base_iwork(n); }

namespace detail {
/// sum_i a_i b_i s with Neumaier's compensated summation (TwoSum on each
/// addition): exact when every product is and the sum cancels exactly.
template <class T>
SCALORA_HD T compensated_dot(int n, const T* a, const T* b, const T& s) {
  using std::abs;
  T sum = T(0), comp = T(0);
  for (int i = 0; i < n; ++i) {
    const T x = a[i] * b[i] * s;
    const T t = sum + x;
    comp += abs(sum) >= abs(x) ? T((sum - t) + x) : T((x - t) + sum);
    sum = t;
  }
  return sum + comp;
}

/// Solves G h = rhs in place for a symmetric positive definite G (n x n,
/// overwritten by its Cholesky factor).
template <class T>
SCALORA_HD void cholesky_solve(int n, T* g, T* h) {
  using std::sqrt;
  for (int j = 0; j < n; ++j) {
    T diag = at(g, n, j, j);
    for (int l = 0; l < j; ++l) diag -= at(g, n, j, l) * at(g, n, j, l);
    diag = sqrt(diag);
    at(g, n, j, j) = diag;
    for (int i = j + 1; i < n; ++i) {
      T x = at(g, n, i, j);
      for (int l = 0; l < j; ++l) x -= at(g, n, i, l) * at(g, n, j, l);
      at(g, n, i, j) = x / diag;
    }
  }
  lower_solve(n, g, n, h);
  lower_transpose_solve(n, g, n, h);
}

/// The least-squares particular solution of F F^T w = rhs in w coordinates,
/// F = [L11; L21] the rank-k pivoted Cholesky factor of the equilibrated M in
/// `a` (rows permuted by perm): y = argmin ||F y - P rhs||, L11^T w_P = y,
/// w_F = 0. When rhs is in the range this is the plain solution; otherwise its
/// projection (decision D5). scratch: k * k + n entries.
SCALORA_HD_NOWARN
template <class T>
SCALORA_HD void particular_solution(int n, int k, const T* a, const int* perm, const T* rhs, T* w, T* scratch) {
  using std::sqrt;
  T* c = scratch;      // k x k normal matrix F^T F
  T* y = c + k * k;    // n
  if (k == n) {
    for (int i = 0; i < k; ++i) y[i] = rhs[perm[i]];
    lower_solve(k, a, n, y);
  } else {
    for (int j = 0; j < k; ++j) {
      T sum_rhs = T(0);
      for (int i = j; i < n; ++i) sum_rhs += at(a, n, i, j) * rhs[perm[i]];
      y[j] = sum_rhs;
      for (int l = 0; l <= j; ++l) {
        T sum = T(0);
        for (int i = j; i < n; ++i) sum += at(a, n, i, j) * at(a, n, i, l);
        at(c, k, j, l) = at(c, k, l, j) = sum;
      }
    }
    cholesky_solve(k, c, y);  // F^T F is positive definite (L11 is nonsingular)
  }
  lower_transpose_solve(k, a, n, y);
  for (int i = 0; i < n; ++i) w[i] = T(0);
  for (int i = 0; i < k; ++i) w[perm[i]] = y[i];
}
}  // namespace detail

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
/// Method, in equilibrated coordinates w = D^{-1} v (D = diag(M)^{-1/2}):
/// pivoted Cholesky of D M D with rank tolerance, least-squares particular
/// solution w_p, orthonormal null-space basis Q, least change
/// w = w_p + Q Q^T (t - w_p) with t = kappa diag(M)^{1/2}; if that has entries
/// below 0 and M is singular, the least-distance problem min ||z|| s.t.
/// w + Q z >= 0 (Lawson-Hanson ch. 23, by NNLS). Entries of Q at rounding
/// level are set to 0 (see below).
/// @post feasible => v >= 0 and M v = lambda up to rounding;
///       checked by tests/unit/test_core.cpp ("column solve: ...") and, against
///       the exact reference, by tests/unit/test_reference_agreement_mp50.cpp
///       and tests/property/verdict_properties.cpp.
SCALORA_HD_NOWARN
template <class T>
SCALORA_HD ColumnSolveInfo<T> solve_column_system(int n, const T* m, int ldm, const T* lambda, const T& kappa, T* v,
                                                   T* work, int* iwork, const ColumnTolerances<T>& tol) {
  using std::abs;
  using std::sqrt;
  using detail::at;
  ColumnSolveInfo<T> info;

  T* a = work;             // n x n: equilibrated M, then its pivoted Cholesky factor
  T* q = a + n * n;        // n x n: null-space basis (w coordinates), then orthonormal
  T* d = q + n * n;        // n: D, later the LDP residual
  T* weight = d + n;       // n: sqrt(M_ii), 0 where M_ii = 0
  T* y = weight + n;       // n: scratch, then the solution w
  T* vp = y + n;           // n: particular solution (w coordinates)
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
  // The clamp tolerance grows with the condition estimate, capped at 1/16: an
  // entry below -1/16 of the largest is never rounding (tiny shapes in float
  // reached tau > 1 uncapped). Past the cap the solve is unreliable anyway and
  // the hybrid guard compares the result with Theorem 3's (core/hybrid_rule.hpp).
  const T nonneg_tol = detail::min_of(T(1) / T(16), T(tol.nonnegative * detail::max_of(T(1), info.condition)));

  // Particular solution, w_F = 0, v_p = D w. With D M D = F F^T (F = [L11; L21],
  // rows permuted): the least-squares solution of F F^T w = D lambda, i.e.
  // y = argmin ||F y - D lambda||, L11^T w_P = y. When lambda is in range(M)
  // (always, in exact arithmetic, for gradients of one G) this is the plain
  // solution; when rounding of stored gradients puts lambda slightly outside the
  // range of a singular M, it is its D-weighted projection (decision D5).
  // Scratch after the base workspace: [k x k normal matrix | n | equilibrated
  // rhs n | ...], then the least-change step's null basis and Gram matrix.
  T* refine = work + detail::column_solve_base_work(n);
  T* rhs_hat = refine + n * n + n;
  for (int i = 0; i < n; ++i) rhs_hat[i] = d[i] * lambda[i];
  detail::particular_solution(n, k, a, perm, rhs_hat, vp, refine);
  // Everything below works in equilibrated coordinates w = v o sqrt(diag M)
  // (w_i = |coefficient| * ||X_i||), where the least-change criterion of D5 is
  // the Euclidean distance to the target t = kappa sqrt(diag M) and the basis
  // is well scaled. Coordinates with M_ii = 0 (X_i = 0) are decoupled and keep
  // v_i = kappa (u_i = 1).
  T* wp = vp;  // particular solution in w coordinates

  // Null space of the active coordinates: free position f = k + c gives
  // w_P = -L11^{-T} L21(c, :)^T, w_f = 1 (w coordinates: no D).
  int nfree = 0;
  for (int c = 0; c < n - k; ++c) {
    if (!(weight[perm[k + c]] > T(0))) continue;  // X_f = 0: decoupled, fixed at u = 1
    T* col = q + nfree * n;
    for (int i = 0; i < n; ++i) col[i] = T(0);
    for (int i = 0; i < k; ++i) y[i] = at(a, n, k + c, i);
    detail::lower_transpose_solve(k, a, n, y);
    for (int i = 0; i < k; ++i) col[perm[i]] = -y[i];
    col[perm[k + c]] = T(1);
    ++nfree;
  }
  // The basis as computed (column f: w_P = -L11^{-T} L21(f, :)^T, w_f = 1) is
  // kept for the least-change step below; the LDP needs it orthonormal.
  T* basis = refine + n * n + 2 * n;  // n x nfree (the particular solve's scratch is free again)
  for (int c = 0; c < nfree * n; ++c) basis[c] = q[c];
  const int nq = detail::orthonormalize_columns(n, nfree, q, n, T(16) * T(n) * scalar_traits<T>::epsilon());


  // Least change: w = w_p + N h, (N^T N) h = N^T (t - w_p), t_i = kappa sqrt(M_ii),
  // with N the basis as computed (not orthonormalised) and N^T t, N^T w_p summed
  // separately with compensation. The target t can exceed the solution by 30
  // orders of magnitude on mixed-magnitude layers, and N is known only to the
  // rank tolerance: an N^T t within that uncertainty of 0 is noise (exactly 0
  // for duplicated columns of equal norm) and is dropped; kept, its rounding
  // (1e15 against a solution of 37) moved the point off the solution set by 3%
  // of the decrease (found by the property "the library's step never fails
  // its verifier": a duplicated column of B at row and column scales 1e+-8).
  T* w = y;
  for (int i = 0; i < n; ++i) w[i] = wp[i];
  if (nfree > 0 && nq == nfree) {
    T* gram = basis + n * nfree;  // nfree x nfree
    T* h = gram + nfree * nfree;   // nfree
    // Each entry of a null vector is known to about the rank tolerance times
    // its norm: entries below that are noise (0 exactly for duplicated or zero
    // columns) and are set to 0 first; then N^T t, whose error is at most that
    // accuracy times sum |t_i| over the remaining entries, is used only where
    // it exceeds it.
    for (int c = 0; c < nfree; ++c) {
      T* nc = basis + c * n;
      T norm2 = T(0);
      for (int i = 0; i < n; ++i) norm2 += nc[i] * nc[i];
      const T accuracy = tol.rank * sqrt(norm2);
      T spread = T(0);
      for (int i = 0; i < n; ++i) {
        if (abs(nc[i]) <= accuracy) nc[i] = T(0);
        else spread += weight[i] * kappa;
      }
      T toward_target = detail::compensated_dot(n, nc, weight, kappa);
      if (abs(toward_target) <= T(2) * accuracy * spread) toward_target = T(0);
      h[c] = toward_target - detail::compensated_dot(n, nc, wp, T(1));
    }
    for (int c = 0; c < nfree; ++c) {
      const T* nc = basis + c * n;
      for (int e2 = 0; e2 <= c; ++e2) {
        T sum = T(0);
        for (int i = 0; i < n; ++i) sum += nc[i] * basis[i + e2 * n];
        at(gram, nfree, c, e2) = at(gram, nfree, e2, c) = sum;
      }
    }
    detail::cholesky_solve(nfree, gram, h);
    for (int c = 0; c < nfree; ++c)
      for (int i = 0; i < n; ++i) w[i] += h[c] * basis[i + c * n];
  } else {
    for (int c = 0; c < nq; ++c) {
      const T* col = q + c * n;
      T h = T(0);
      for (int i = 0; i < n; ++i) h += col[i] * (kappa * weight[i] - wp[i]);
      for (int i = 0; i < n; ++i) w[i] += h * col[i];
    }
  }

  // Decide on w: min_i w_i / max_j |w_j| (the decision statistic, see ColumnSolveInfo::margin).
  auto margin_of = [&](const T* x) {
    T big = T(0), small = T(0);
    bool first = true;
    for (int i = 0; i < n; ++i) {
      if (!(weight[i] > T(0))) continue;
      big = detail::max_of(big, T(abs(x[i])));
      if (first || x[i] < small) small = x[i];
      first = false;
    }
    return big > T(0) ? small / big : T(0);
  };
  auto finish = [&](column_method method) {
    info.method = method;
    for (int i = 0; i < n; ++i) {
      if (!(weight[i] > T(0))) {
        v[i] = kappa;
      } else if (w[i] < T(0)) {
        v[i] = T(0);
        info.clamped = true;
      } else {
        v[i] = w[i] / weight[i];
      }
    }
    return info;
  };

  info.margin = margin_of(w);
  if (info.margin >= -nonneg_tol) return finish(k == n ? column_method::unique : column_method::least_change);
  if (nq == 0) {
    info.method = column_method::infeasible;
    return info;
  }

  // Least distance: min ||z|| s.t. w + Q z >= 0, as NNLS on E = [Q^T; h^T],
  // f = e_{nq+1}, h = -w / wscale; each column of E normalised.
  T wscale = T(0);
  for (int i = 0; i < n; ++i) wscale = detail::max_of(wscale, T(abs(w[i])));
  // A column whose Q row and slack are both at rounding level (a coordinate
  // that is 0 on the whole solution set) is a constraint 0 >= 0: it is set to
  // 0, since normalising it would turn rounding noise into a direction.
  const int rows = nq + 1;
  T cmax = T(0);
  for (int i = 0; i < n; ++i) {
    for (int c = 0; c < nq; ++c) at(e, rows, c, i) = at(q, n, i, c);
    at(e, rows, nq, i) = -w[i] / wscale;
    cmax = detail::max_of(cmax, detail::norm2(rows, e + i * rows));
  }
  for (int i = 0; i < n; ++i) {
    const T cn = detail::norm2(rows, e + i * rows);
    for (int c = 0; c < rows; ++c)
      at(e, rows, c, i) = cn > T(16) * T(n) * scalar_traits<T>::epsilon() * cmax ? at(e, rows, c, i) / cn : T(0);
  }
  for (int c = 0; c < rows; ++c) fr[c] = T(0);
  fr[nq] = T(1);
  // The null basis is known to about rank tol * cond (the perturbation of the
  // null space: the rank tolerance over the smallest resolved pivot): columns
  // of E parallel to that accuracy are dependent.
  const T dependency = detail::max_of(T(4) * T(rows + n) * scalar_traits<T>::epsilon(),
                                      T(16) * tol.rank * info.condition);
  T nnls_condition = T(1);
  const nnls_status st =
      nnls(rows, n, e, rows, fr, wnn, nw, niw, tol.nnls, tol.max_nnls_iterations, dependency, &nnls_condition);
  // Residual rho = E w - f; ||rho||^2 = 1 / (1 + ||z||^2) at the optimum.
  T* rho = d;  // D is no longer needed
  for (int c = 0; c < rows; ++c) {
    T sum = -fr[c];
    for (int i = 0; i < n; ++i) sum += at(e, rows, c, i) * wnn[i];
    rho[c] = sum;
  }
  T rho2 = T(0);
  for (int c = 0; c < rows; ++c) rho2 += rho[c] * rho[c];
  if (st != nnls_status::converged || !(rho2 > tol.infeasible) || !(rho[nq] < T(0))) {
    info.method = column_method::infeasible;
    return info;
  }
  for (int c = 0; c < nq; ++c) {
    const T zc = -rho[c] / rho[nq] * wscale;
    for (int i = 0; i < n; ++i) w[i] += zc * at(q, n, i, c);
  }
  // Feasibility is decided by rho (Lawson-Hanson ch. 23: infeasible iff
  // rho = 0). The LDP's constraint slacks are the NNLS dual residuals divided
  // by rho_{nq+1}, plus the rounding of the subset least-squares solves, which
  // on degenerate problems are ill-conditioned: violations up to sqrt(eps) of
  // wscale, the LDP's own scale (the solution may be far smaller), are
  // rounding and are clamped; larger ones report a failed solve (infeasible).
  // A passive set of nearly dependent columns makes the last subset least
  // squares lose more: its rounding, 16 rows eps condition of the NNLS, is
  // accepted too (long property run: r = 6, M of rank 6, a violation of
  // 4.9e-8 with columns independent to 4.5e-9 of their norm).
  info.ldp_residual = -rho[nq];
  using std::sqrt;
  const T ldp_tol =
      detail::max_of(detail::max_of(nonneg_tol, T(n) * T(n) * tol.nnls / (-rho[nq])),
                     detail::max_of(T(sqrt(scalar_traits<T>::epsilon())),
                                    T(16) * T(rows) * scalar_traits<T>::epsilon() * nnls_condition));
  T worst = T(0);
  for (int i = 0; i < n; ++i)
    if (weight[i] > T(0)) worst = detail::min_of(worst, w[i] / wscale);
  if (worst < -ldp_tol) {
    info.method = column_method::infeasible;
    return info;
  }
  T wmax = T(0);
  for (int i = 0; i < n; ++i)
    if (weight[i] > T(0)) wmax = detail::max_of(wmax, T(abs(w[i])));
  info.ldp_scale = wmax > T(0) ? wscale / wmax : T(1);
  return finish(column_method::least_distance);
}



}  // namespace scalora
