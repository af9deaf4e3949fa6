// SPDX-License-Identifier: Apache-2.0
// Exact decisions of Theorems 3 and 5 on binary floating-point inputs.
//
// Every float, double, long double or cpp_bin_float value is an exact dyadic
// rational m 2^e, so P = S_A^T S_A, Q = S_B^T S_B, M = P o Q, lambda and the
// aggregates p, q, s, x, y are formed exactly (integer arithmetic, no
// rounding). On them:
//   * Theorem 5: the exact rank of M; when M is nonsingular, v = M^{-1} lambda
//     exactly and "v >= 0" decided with no tolerance; when M is singular,
//     whether {v >= 0 : M v = lambda} is non-empty (exact phase-1 simplex,
//     Bland's rule) and the canonical least-change solution (decisions D5),
//     exact whenever it is >= 0;
//   * Theorem 3: the case of the table from the exact signs of C, C_A, C_B, and
//     the squared scalings a, b as exact rationals.
// Never compiled by nvcc (Boost.Multiprecision).
#pragma once

#include <algorithm>
#include <boost/multiprecision/cpp_int.hpp>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "scalora/core/scalar_scaling.hpp"
#include "scalora/linalg/types.hpp"
#include "scalora/linalg/validate.hpp"

namespace scalora::reference {

using exact_int = boost::multiprecision::cpp_int;
using exact_rational = boost::multiprecision::cpp_rational;

/// value = mantissa * 2^exponent, exactly.
struct Dyadic {
  exact_int mantissa = 0;
  long exponent = 0;
};

namespace detail {
template <class T>
exact_int integer_of(const T& integral_value) {
  if constexpr (std::is_floating_point_v<T>) {
    // |integral_value| < 2^digits <= 2^64: split into 32-bit halves.
    const bool negative = integral_value < 0;
    const T mag = negative ? -integral_value : integral_value;
    const T hi = std::floor(mag / T(4294967296.0));
    const T lo = mag - hi * T(4294967296.0);
    exact_int out = (exact_int(static_cast<unsigned long long>(hi)) << 32) + static_cast<unsigned long long>(lo);
    return negative ? exact_int(-out) : out;
  } else {
    return integral_value.template convert_to<exact_int>();
  }
}
}  // namespace detail

/// The exact dyadic value of a binary floating-point number.
/// @throws invalid_argument when x is NaN or infinite.
template <class T>
Dyadic to_dyadic(const T& x) {
  using std::frexp;
  using std::isfinite;
  using std::ldexp;
  static_assert(std::numeric_limits<T>::radix == 2, "to_dyadic needs a binary floating-point type");
  if (!isfinite(x)) throw invalid_argument("x", argument_problem::non_finite, "no exact value for a non-finite number");
  if (x == 0) return {};
  int e = 0;
  const T f = frexp(x, &e);  // x = f 2^e, 1/2 <= |f| < 1
  constexpr int digits = std::numeric_limits<T>::digits;
  return {detail::integer_of(T(ldexp(f, digits))), long(e) - digits};
}

/// The exact rational value of a dyadic.
inline exact_rational to_rational(const Dyadic& d) {
  if (d.mantissa == 0) return exact_rational(0);
  if (d.exponent >= 0) return exact_rational(exact_int(d.mantissa << unsigned(d.exponent)));
  return exact_rational(d.mantissa, exact_int(exact_int(1) << unsigned(-d.exponent)));
}

/// The exact rational value of a binary floating-point number.
template <class T>
exact_rational to_rational(const T& x) {
  return to_rational(to_dyadic(x));
}

/// The real type R nearest to an exact rational (one rounding).
template <class R>
R round_to(const exact_rational& q) {
  if constexpr (std::is_floating_point_v<R>) {
    return boost::multiprecision::numerator(q).template convert_to<R>() /
           boost::multiprecision::denominator(q).template convert_to<R>();
  } else {
    return R(q);
  }
}

/// A dense rational matrix (row-major), for the 2r x 2r systems.
class RationalMatrix {
 public:
  RationalMatrix() = default;
  RationalMatrix(Index rows, Index cols) : rows_(rows), cols_(cols), data_(std::size_t(rows * cols)) {}
  Index rows() const { return rows_; }
  Index cols() const { return cols_; }
  exact_rational& operator()(Index i, Index j) { return data_[std::size_t(i * cols_ + j)]; }
  const exact_rational& operator()(Index i, Index j) const { return data_[std::size_t(i * cols_ + j)]; }
  /// Rounded to a real matrix.
  template <class R>
  Matrix<R> rounded() const {
    Matrix<R> out(rows_, cols_);
    for (Index i = 0; i < rows_; ++i)
      for (Index j = 0; j < cols_; ++j) out(i, j) = round_to<R>((*this)(i, j));
    return out;
  }

 private:
  Index rows_ = 0, cols_ = 0;
  std::vector<exact_rational> data_;
};

using RationalVector = std::vector<exact_rational>;

/// Exact M, lambda and aggregates of one layer (see scaling_system()).
struct ExactSystem {
  Index r = 0;
  RationalMatrix M;       ///< 2r x 2r
  RationalVector lambda;  ///< 2r
  exact_rational p, q, s, x, y;
};

namespace detail {
/// A matrix column pre-split into (mantissa, exponent) pairs.
struct DyadicColumn {
  std::vector<exact_int> mantissa;
  std::vector<long> exponent;
};

template <class Derived>
std::vector<DyadicColumn> dyadic_columns(const Eigen::MatrixBase<Derived>& x) {
  std::vector<DyadicColumn> cols(std::size_t(x.cols()));
  for (Index j = 0; j < x.cols(); ++j) {
    DyadicColumn& c = cols[std::size_t(j)];
    c.mantissa.resize(std::size_t(x.rows()));
    c.exponent.resize(std::size_t(x.rows()));
    for (Index i = 0; i < x.rows(); ++i) {
      Dyadic d = to_dyadic(x(i, j));
      c.mantissa[std::size_t(i)] = std::move(d.mantissa);
      c.exponent[std::size_t(i)] = d.exponent;
    }
  }
  return cols;
}

/// Exact sum_i a_i b_i.
inline Dyadic exact_dot(const DyadicColumn& a, const DyadicColumn& b) {
  const std::size_t len = a.mantissa.size();
  long emin = std::numeric_limits<long>::max();
  for (std::size_t i = 0; i < len; ++i)
    if (a.mantissa[i] != 0 && b.mantissa[i] != 0) emin = std::min(emin, a.exponent[i] + b.exponent[i]);
  if (emin == std::numeric_limits<long>::max()) return {};
  exact_int acc = 0;
  for (std::size_t i = 0; i < len; ++i) {
    if (a.mantissa[i] == 0 || b.mantissa[i] == 0) continue;
    acc += exact_int(a.mantissa[i] * b.mantissa[i]) << unsigned(a.exponent[i] + b.exponent[i] - emin);
  }
  return {acc, emin};
}

/// Exact Gram matrix S^T S of the columns [x, y] (x, y with equal rows and cols).
template <class DX, class DY>
RationalMatrix exact_gram(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DY>& y) {
  std::vector<DyadicColumn> cols = dyadic_columns(x);
  std::vector<DyadicColumn> more = dyadic_columns(y);
  cols.insert(cols.end(), more.begin(), more.end());
  const Index k = Index(cols.size());
  RationalMatrix g(k, k);
  for (Index i = 0; i < k; ++i)
    for (Index j = 0; j <= i; ++j) {
      g(i, j) = to_rational(exact_dot(cols[std::size_t(i)], cols[std::size_t(j)]));
      g(j, i) = g(i, j);
    }
  return g;
}
}  // namespace detail

/// M, lambda, p, q, s, x, y exactly, from A (m x r), B (n x r), grad_A (m x r),
/// grad_B (n x r) in any binary floating-point type.
/// @throws invalid_argument like scalora::scaling_system().
template <class DA, class DB, class DGA, class DGB>
ExactSystem exact_scaling_system(const Eigen::MatrixBase<DA>& A, const Eigen::MatrixBase<DB>& B,
                                 const Eigen::MatrixBase<DGA>& grad_A, const Eigen::MatrixBase<DGB>& grad_B) {
  scalora::detail::check_factors(A, B, grad_A, grad_B);
  const Index r = A.cols(), n2 = 2 * r;
  const RationalMatrix P = detail::exact_gram(A, grad_A);  // S_A = [A, grad_A]
  const RationalMatrix Q = detail::exact_gram(grad_B, B);  // S_B = [grad_B, B]
  ExactSystem sys;
  sys.r = r;
  sys.M = RationalMatrix(n2, n2);
  sys.lambda.resize(std::size_t(n2));
  for (Index i = 0; i < n2; ++i)
    for (Index j = 0; j < n2; ++j) sys.M(i, j) = P(i, j) * Q(i, j);
  for (Index i = 0; i < r; ++i) {
    sys.lambda[std::size_t(i)] = Q(i, i);          // colnorm^2(grad_B)
    sys.lambda[std::size_t(r + i)] = P(r + i, r + i);  // colnorm^2(grad_A)
  }
  for (Index i = 0; i < r; ++i) {
    sys.x += sys.lambda[std::size_t(i)];
    sys.y += sys.lambda[std::size_t(r + i)];
    for (Index j = 0; j < r; ++j) {
      sys.p += sys.M(i, j);
      sys.q += sys.M(i, r + j);
      sys.s += sys.M(r + i, r + j);
    }
  }
  return sys;
}

/// Theorem 3 decided exactly: the case from the signs of C, C_A, C_B and the
/// squared scalings a = alpha^2, b = beta^2 as exact rationals, with the
/// degenerate rules of core/scalar_scaling.hpp (D6).
struct ExactScalarDecision {
  scalar_case kind = scalar_case::interior;
  exact_rational a, b;
  exact_rational C, C_A, C_B;
};

inline ExactScalarDecision exact_scalar_decision(const ExactSystem& sys, const exact_rational& kappa) {
  ExactScalarDecision d;
  const exact_rational c = 1 / kappa;
  d.C = sys.p * sys.s - sys.q * sys.q;
  d.C_A = sys.s * sys.x - sys.q * sys.y;
  d.C_B = sys.p * sys.y - sys.q * sys.x;
  if (sys.x == 0 && sys.y == 0) {
    d.kind = scalar_case::zero_gradient;
    d.a = d.b = 1;
  } else if (sys.p == 0) {  // X = 0: a is free; so is b when also Y = 0 (D6)
    d.kind = scalar_case::collinear;
    d.a = 1;
    d.b = sys.s == 0 ? exact_rational(1) : c * sys.y / sys.s;
  } else if (sys.s == 0) {
    d.kind = scalar_case::collinear;
    d.a = c * sys.x / sys.p;
    d.b = 1;
  } else if (d.C > 0) {
    if (d.C_A > 0 && d.C_B <= 0) {
      d.kind = scalar_case::beta_zero;
      d.a = c * sys.x / sys.p;
      d.b = 0;
    } else if (d.C_A <= 0 && d.C_B > 0) {
      d.kind = scalar_case::alpha_zero;
      d.a = 0;
      d.b = c * sys.y / sys.s;
    } else {
      d.kind = scalar_case::interior;
      d.a = c * d.C_A / d.C;
      d.b = c * d.C_B / d.C;
    }
  } else {
    // C = 0, Y = t X with t = q / p: optima a + t b = w = c x / p; least change.
    d.kind = scalar_case::collinear;
    const exact_rational t = sys.q / sys.p;
    const exact_rational w = c * sys.x / sys.p;
    const exact_rational mu = (w - 1 - t) / (1 + t * t);
    d.a = 1 + mu;
    d.b = 1 + mu * t;
    if (d.a < 0) {
      d.a = 0;
      d.b = w / t;
    } else if (d.b < 0) {
      d.b = 0;
      d.a = w;
    }
  }
  return d;
}

/// Reduced row echelon form of [M | rhs] in exact arithmetic.
struct ExactEchelon {
  Index rank = 0;
  std::vector<Index> pivot_columns;  ///< rank entries, increasing
  std::vector<Index> free_columns;   ///< n - rank entries
  RationalMatrix R;                  ///< rank x (n + 1): [I_P, R_F | b] up to column order
  bool consistent = true;            ///< rhs in range(M)
};

inline ExactEchelon exact_echelon(const RationalMatrix& M, const RationalVector& rhs) {
  const Index n = M.rows(), nc = M.cols();
  RationalMatrix a(n, nc + 1);
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < nc; ++j) a(i, j) = M(i, j);
    a(i, nc) = rhs[std::size_t(i)];
  }
  ExactEchelon out;
  Index row = 0;
  for (Index col = 0; col < nc && row < n; ++col) {
    Index piv = -1;
    for (Index i = row; i < n; ++i)
      if (a(i, col) != 0) {
        piv = i;
        break;
      }
    if (piv < 0) {
      out.free_columns.push_back(col);
      continue;
    }
    if (piv != row)
      for (Index j = 0; j <= nc; ++j) std::swap(a(piv, j), a(row, j));
    const exact_rational inv = 1 / a(row, col);
    for (Index j = col; j <= nc; ++j) a(row, j) *= inv;
    for (Index i = 0; i < n; ++i) {
      if (i == row || a(i, col) == 0) continue;
      const exact_rational f = a(i, col);
      for (Index j = col; j <= nc; ++j) a(i, j) -= f * a(row, j);
    }
    out.pivot_columns.push_back(col);
    ++row;
  }
  for (Index col = out.pivot_columns.empty() ? 0 : out.pivot_columns.back() + 1; col < nc; ++col)
    if (std::find(out.free_columns.begin(), out.free_columns.end(), col) == out.free_columns.end())
      out.free_columns.push_back(col);
  std::sort(out.free_columns.begin(), out.free_columns.end());
  out.rank = row;
  for (Index i = row; i < n; ++i)
    if (a(i, nc) != 0) out.consistent = false;
  out.R = RationalMatrix(row, nc + 1);
  for (Index i = 0; i < row; ++i)
    for (Index j = 0; j <= nc; ++j) out.R(i, j) = a(i, j);
  return out;
}

/// Exact feasibility of {y >= 0 : R y <= b} (k constraints, d variables) by
/// phase-1 simplex with Bland's rule (terminates; exact, so no tolerance).
inline bool exact_polyhedron_nonempty(const RationalMatrix& R, const RationalVector& b) {
  const Index k = R.rows(), d = R.cols();
  // Rows: R y + s = b, flipped where b < 0 and given an artificial variable.
  std::vector<Index> art_row;
  for (Index i = 0; i < k; ++i)
    if (b[std::size_t(i)] < 0) art_row.push_back(i);
  const Index na = Index(art_row.size());
  if (na == 0) return true;  // y = 0 is feasible
  const Index nv = d + k + na;  // y, s, artificials
  RationalMatrix t(k + 1, nv + 1);  // last row: phase-1 objective (reduced costs), last col: rhs
  std::vector<Index> basis(static_cast<std::size_t>(k));
  Index ai = 0;
  for (Index i = 0; i < k; ++i) {
    const bool flip = b[std::size_t(i)] < 0;
    const int sg = flip ? -1 : 1;
    for (Index j = 0; j < d; ++j) t(i, j) = sg * R(i, j);
    t(i, d + i) = sg;
    t(i, nv) = sg * b[std::size_t(i)];
    if (flip) {
      t(i, d + k + ai) = 1;
      basis[std::size_t(i)] = d + k + ai;
      ++ai;
    } else {
      basis[std::size_t(i)] = d + i;
    }
  }
  // Objective: minimise sum of artificials; reduced costs = -(sum of artificial rows).
  for (Index i = 0; i < k; ++i)
    if (b[std::size_t(i)] < 0)
      for (Index j = 0; j <= nv; ++j)
        if (j < d + k || j == nv) t(k, j) -= t(i, j);
  for (;;) {
    Index enter = -1;
    for (Index j = 0; j < nv; ++j)
      if (t(k, j) < 0) {
        enter = j;  // Bland: smallest index with negative reduced cost
        break;
      }
    if (enter < 0) break;
    Index leave = -1;
    exact_rational best;
    for (Index i = 0; i < k; ++i) {
      if (!(t(i, enter) > 0)) continue;
      const exact_rational ratio = t(i, nv) / t(i, enter);
      if (leave < 0 || ratio < best || (ratio == best && basis[std::size_t(i)] < basis[std::size_t(leave)])) {
        leave = i;
        best = ratio;
      }
    }
    if (leave < 0) break;  // unbounded direction cannot occur in phase 1 (objective >= 0)
    const exact_rational inv = 1 / t(leave, enter);
    for (Index j = 0; j <= nv; ++j) t(leave, j) *= inv;
    for (Index i = 0; i <= k; ++i) {
      if (i == leave || t(i, enter) == 0) continue;
      const exact_rational f = t(i, enter);
      for (Index j = 0; j <= nv; ++j) t(i, j) -= f * t(leave, j);
    }
    basis[std::size_t(leave)] = enter;
  }
  return t(k, nv) == 0;  // minimal sum of artificials (negated) is 0
}

/// Theorem 5 decided exactly.
struct ExactColumnDecision {
  Index rank = 0;             ///< exact rank of M
  bool consistent = true;     ///< lambda in range(M); false: decided on the least-squares system (D5)
  bool feasible = false;      ///< some v >= 0 solves M v = lambda
  bool canonical_exact = false;  ///< v below is the exact canonical solution
  /// The canonical solution when canonical_exact (weighted least change, D5);
  /// otherwise the least-change solution (which then has a negative entry).
  RationalVector v;
  exact_rational min_entry;   ///< min_i v_i of the least-change solution
};

/// Decides Theorem 5's condition exactly and returns the canonical v when it
/// is exact (always when M is nonsingular, and when the least-change solution
/// is >= 0). kappa > 0 enters only the least-change choice.
inline ExactColumnDecision exact_column_decision(const ExactSystem& sys, const exact_rational& kappa) {
  const Index n = 2 * sys.r;
  ExactEchelon ech = exact_echelon(sys.M, sys.lambda);
  ExactColumnDecision out;
  out.consistent = ech.consistent;
  if (!ech.consistent) {
    // lambda outside range(M) (stored gradients not of one G): the D-weighted
    // least-squares system M D^2 M v = M D^2 lambda, D^2 = diag(1/M_ii) (1 where
    // M_ii = 0), as the production solve does (decision D5). Same null space.
    RationalMatrix M2(n, n);
    RationalVector l2(static_cast<std::size_t>(n));
    for (Index i = 0; i < n; ++i)
      for (Index k = 0; k < n; ++k) {
        const exact_rational w = sys.M(k, k) != 0 ? exact_rational(1 / sys.M(k, k)) : exact_rational(1);
        const exact_rational t = sys.M(i, k) * w;
        if (t == 0) continue;
        for (Index j = 0; j < n; ++j) M2(i, j) += t * sys.M(k, j);
        l2[std::size_t(i)] += t * sys.lambda[std::size_t(k)];
      }
    ech = exact_echelon(M2, l2);
  }
  out.rank = ech.rank;
  // Particular solution: v_P = b, v_F = 0.
  RationalVector vp(static_cast<std::size_t>(n));
  for (Index i = 0; i < ech.rank; ++i) vp[std::size_t(ech.pivot_columns[std::size_t(i)])] = ech.R(i, n);
  // Null basis over the active coordinates (M_ii != 0): for free column f,
  // N_f[f] = 1, N_f[pivot_i] = -R(i, f). An inactive coordinate (X_i = 0) has a
  // zero column: it is free, decoupled, and fixed at v_i = kappa.
  std::vector<Index> free_active;
  for (Index f : ech.free_columns)
    if (sys.M(f, f) != 0) free_active.push_back(f);
  const Index d = Index(free_active.size());
  RationalMatrix N(n, d);
  for (Index c = 0; c < d; ++c) {
    const Index f = free_active[std::size_t(c)];
    N(f, c) = 1;
    for (Index i = 0; i < ech.rank; ++i) N(ech.pivot_columns[std::size_t(i)], c) = -ech.R(i, f);
  }
  // Weighted least change: v = vp + N z, (N^T W N) z = N^T W (kappa 1 - vp), W = diag(M_ii).
  RationalVector v = vp;
  if (d > 0) {
    RationalMatrix NtN(d, d);
    RationalVector rhs(static_cast<std::size_t>(d));
    for (Index a = 0; a < d; ++a) {
      for (Index b = 0; b < d; ++b)
        for (Index i = 0; i < n; ++i) NtN(a, b) += N(i, a) * sys.M(i, i) * N(i, b);
      for (Index i = 0; i < n; ++i) rhs[std::size_t(a)] += N(i, a) * sys.M(i, i) * (kappa - vp[std::size_t(i)]);
    }
    const ExactEchelon zs = exact_echelon(NtN, rhs);  // N^T W N is nonsingular
    for (Index a = 0; a < d; ++a) {
      const exact_rational& z = zs.R(a, d);
      for (Index i = 0; i < n; ++i) v[std::size_t(i)] += N(i, a) * z;
    }
  }
  for (Index i = 0; i < n; ++i)
    if (sys.M(i, i) == 0) v[std::size_t(i)] = kappa;
  out.min_entry = n > 0 ? *std::min_element(v.begin(), v.end()) : exact_rational(0);
  out.v = v;
  if (out.min_entry >= 0) {
    out.feasible = true;
    out.canonical_exact = true;
    return out;
  }
  if (d == 0) return out;  // unique solution with a negative entry
  // Feasibility of {v_F >= 0 : v_P = b - R_F v_F >= 0}.
  RationalMatrix RF(ech.rank, d);
  RationalVector b(static_cast<std::size_t>(ech.rank));
  for (Index i = 0; i < ech.rank; ++i) {
    for (Index c = 0; c < d; ++c) RF(i, c) = ech.R(i, free_active[std::size_t(c)]);
    b[std::size_t(i)] = ech.R(i, n);
  }
  out.feasible = exact_polyhedron_nonempty(RF, b);
  return out;
}

}  // namespace scalora::reference
