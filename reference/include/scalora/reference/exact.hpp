// SPDX-License-Identifier: Apache-2.0
// Exact decisions of Theorems 3 and 5 on binary floating-point inputs.
//
// Every float, double, long double or cpp_bin_float value is an exact dyadic
// rational m 2^e, so P = S_A^T S_A, Q = S_B^T S_B, M = P o Q, lambda and the
// aggregates p, q, s, x, y are formed exactly (integer arithmetic, no
// rounding). The heavy parts run in FLINT (flint.hpp): the Gram matrices as
// one integer matrix product per factor (each column scaled to integers by
// its own power of 2), nonsingular systems by Dixon's p-adic lifting, singular
// ones by a fraction-free reduced row echelon form; the small remaining
// rational work in GMP rationals. Cost by rank: docs/performance.md. On them:
//   * Theorem 5: the exact rank of M; when M is nonsingular, v = M^{-1} lambda
//     exactly and "v >= 0" decided with no tolerance; when M is singular,
//     whether {v >= 0 : M v = lambda} is non-empty (exact phase-1 simplex,
//     Bland's rule) and the canonical least-change solution (decisions D5),
//     exact whenever it is >= 0;
//   * Theorem 3: the case of the table from the exact signs of C, C_A, C_B, and
//     the squared scalings a, b as exact rationals.
// Never compiled by nvcc (Boost.Multiprecision).
#pragma once

#include <mpfr.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>
#include <vector>

#include "scalora/core/scalar_scaling.hpp"
#include "scalora/linalg/types.hpp"
#include "scalora/linalg/validate.hpp"
#include "scalora/reference/flint.hpp"

namespace scalora::reference {

/// value = mantissa * 2^exponent, exactly.
struct Dyadic {
  exact_int mantissa = 0;
  long exponent = 0;
};

namespace detail {
/// The exact integer value of an integral T (|value| < 2^digits), 32 bits at a time.
template <class T>
exact_int integer_of(const T& integral_value) {
  using std::floor;
  using std::ldexp;
  const bool negative = integral_value < 0;
  T mag = negative ? T(-integral_value) : integral_value;
  exact_int out = 0;
  unsigned shift = 0;
  while (mag > 0) {
    const T hi = floor(ldexp(mag, -32));
    const T lo = mag - ldexp(hi, 32);  // exact: 0 <= lo < 2^32
    out += exact_int(static_cast<unsigned long long>(lo)) << shift;
    shift += 32;
    mag = hi;
  }
  return negative ? exact_int(-out) : out;
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

namespace detail {
/// An MPFR number of a given precision, cleared on scope exit.
class MpfrNumber {
 public:
  explicit MpfrNumber(long prec) { mpfr_init2(x_, prec); }
  ~MpfrNumber() { mpfr_clear(x_); }
  MpfrNumber(const MpfrNumber&) = delete;
  MpfrNumber& operator=(const MpfrNumber&) = delete;
  mpfr_ptr get() { return x_; }

 private:
  mpfr_t x_;
};
}  // namespace detail

/// The real type R nearest to an exact rational: one rounding to nearest
/// (ties to even), subnormal results of float, double and long double
/// included (the precision is reduced to what the subnormal range holds).
template <class R>
R round_to(const exact_rational& q) {
  using limits = std::numeric_limits<R>;
  if (q == 0) return R(0);
  long prec = limits::digits;
  if constexpr (std::is_floating_point_v<R>) {
    detail::MpfrNumber probe(64);
    mpfr_set_q(probe.get(), q.backend().data(), MPFR_RNDN);
    const long e = mpfr_get_exp(probe.get());  // |q| in [2^(e-1), 2^e) up to the probe's rounding
    const long below = long(limits::min_exponent) - e;  // bits lost to the subnormal range
    if (below > 0) prec -= below;
    if (prec < 2) {  // at most the smallest subnormal: compare with half of it exactly
      const exact_rational half_min = exact_rational(1) / (exact_int(1) << unsigned(-(limits::min_exponent - limits::digits) + 1));
      const exact_rational mag = q < 0 ? exact_rational(-q) : q;
      const R tiny = limits::denorm_min();
      const R out = mag > half_min ? tiny : R(0);
      return q < 0 ? -out : out;
    }
  }
  detail::MpfrNumber x(prec);
  mpfr_set_q(x.get(), q.backend().data(), MPFR_RNDN);
  if constexpr (std::is_same_v<R, float>) {
    return mpfr_get_flt(x.get(), MPFR_RNDN);
  } else if constexpr (std::is_same_v<R, double>) {
    return mpfr_get_d(x.get(), MPFR_RNDN);
  } else if constexpr (std::is_same_v<R, long double>) {
    return mpfr_get_ld(x.get(), MPFR_RNDN);
  } else {
    // x = z 2^e exactly, z of at most `prec` bits: exact in R.
    exact_int z;
    const long e = mpfr_get_z_2exp(z.backend().data(), x.get());
    using std::ldexp;
    return R(ldexp(R(z.str()), int(e)));
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
/// The columns of [x, y] as one integer matrix: entry (i, j) = S_ij 2^(-e_j)
/// with e_j the smallest exponent of column j (each column its own power of 2,
/// so mixed magnitudes across columns cost no bits).
template <class DX, class DY>
FmpzMatrix integer_columns(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DY>& y, std::vector<long>& e) {
  const Index rows = x.rows(), k = x.cols() + y.cols();
  FmpzMatrix s{long(rows), long(k)};
  e.assign(std::size_t(k), 0);
  std::vector<Dyadic> col(static_cast<std::size_t>(rows));
  for (Index j = 0; j < k; ++j) {
    long emin = std::numeric_limits<long>::max();
    for (Index i = 0; i < rows; ++i) {
      col[std::size_t(i)] = j < x.cols() ? to_dyadic(x(i, j)) : to_dyadic(y(i, j - x.cols()));
      if (col[std::size_t(i)].mantissa != 0) emin = std::min(emin, col[std::size_t(i)].exponent);
    }
    if (emin == std::numeric_limits<long>::max()) emin = 0;
    e[std::size_t(j)] = emin;
    for (Index i = 0; i < rows; ++i) {
      const Dyadic& d = col[std::size_t(i)];
      if (d.mantissa == 0) continue;
      fmpz_set_mpz(s(long(i), long(j)), d.mantissa.backend().data());
      fmpz_mul_2exp(s(long(i), long(j)), s(long(i), long(j)), ulong(d.exponent - emin));
    }
  }
  return s;
}

/// The exact value of z 2^e.
inline exact_rational scaled_rational(const fmpz* z, long e) {
  exact_int v = to_exact(z);
  if (e >= 0) return exact_rational(exact_int(v << unsigned(e)));
  return exact_rational(v, exact_int(exact_int(1) << unsigned(-e)));
}

/// Exact Gram matrix S^T S of the columns [x, y] (x, y with equal rows):
/// one FLINT integer matrix product.
template <class DX, class DY>
RationalMatrix exact_gram(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DY>& y) {
  std::vector<long> e;
  const FmpzMatrix s = integer_columns(x, y, e);
  const long k = s.cols();
  FmpzMatrix st(k, s.rows()), g(k, k);
  fmpz_mat_transpose(st.get(), s.get());
  fmpz_mat_mul(g.get(), st.get(), s.get());
  RationalMatrix out(k, k);
  for (long i = 0; i < k; ++i)
    for (long j = 0; j <= i; ++j) {
      out(i, j) = scaled_rational(g(i, j), e[std::size_t(i)] + e[std::size_t(j)]);
      out(j, i) = out(i, j);
    }
  return out;
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

namespace detail {
inline FmpqMatrix to_fmpq(const RationalMatrix& M, const RationalVector* extra_column = nullptr) {
  FmpqMatrix a{long(M.rows()), long(M.cols()) + (extra_column ? 1 : 0)};
  for (Index i = 0; i < M.rows(); ++i) {
    for (Index j = 0; j < M.cols(); ++j) set_fmpq(a(long(i), long(j)), M(i, j));
    if (extra_column) set_fmpq(a(long(i), long(M.cols())), (*extra_column)[std::size_t(i)]);
  }
  return a;
}
}  // namespace detail

/// FLINT's reduced row echelon form of [M | rhs] (fmpq_mat_rref: fraction-free
/// elimination, then one division per row).
inline ExactEchelon exact_echelon(const RationalMatrix& M, const RationalVector& rhs) {
  const Index n = M.rows(), nc = M.cols();
  const FmpqMatrix a = detail::to_fmpq(M, &rhs);
  FmpqMatrix rr{long(n), long(nc) + 1};
  const long rk = fmpq_mat_rref(rr.get(), a.get());
  ExactEchelon out;
  std::vector<Index> rows;
  for (long i = 0; i < rk; ++i) {
    Index c = 0;
    while (c <= nc && fmpq_is_zero(rr(i, long(c)))) ++c;
    if (c == nc) out.consistent = false;  // a row 0 = nonzero
    else if (c < nc) {
      out.pivot_columns.push_back(c);
      rows.push_back(Index(i));
    }
  }
  for (Index col = 0; col < nc; ++col)
    if (std::find(out.pivot_columns.begin(), out.pivot_columns.end(), col) == out.pivot_columns.end())
      out.free_columns.push_back(col);
  out.rank = Index(out.pivot_columns.size());
  out.R = RationalMatrix(out.rank, nc + 1);
  for (Index i = 0; i < out.rank; ++i)
    for (Index j = 0; j <= nc; ++j) out.R(i, j) = to_exact(rr(long(rows[std::size_t(i)]), long(j)));
  return out;
}

/// The unique solution of M v = rhs when M is square and nonsingular (FLINT's
/// Dixon p-adic lifting, fmpq_mat_solve_dixon); nullopt when M is singular.
inline std::optional<RationalVector> exact_unique_solution(const RationalMatrix& M, const RationalVector& rhs) {
  const Index n = M.rows();
  const FmpqMatrix a = detail::to_fmpq(M);
  FmpqMatrix b{long(n), 1}, x{long(n), 1};
  for (Index i = 0; i < n; ++i) set_fmpq(b(long(i), 0), rhs[std::size_t(i)]);
  if (n == 0) return RationalVector{};
  if (!fmpq_mat_solve_dixon(x.get(), a.get(), b.get())) return std::nullopt;
  RationalVector v(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) v[std::size_t(i)] = to_exact(x(long(i), 0));
  return v;
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
  if (std::optional<RationalVector> unique = exact_unique_solution(sys.M, sys.lambda)) {  // M nonsingular
    ExactColumnDecision out;
    out.rank = n;
    out.v = std::move(*unique);
    out.min_entry = n > 0 ? *std::min_element(out.v.begin(), out.v.end()) : exact_rational(0);
    out.feasible = out.canonical_exact = out.min_entry >= 0;
    return out;
  }
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

namespace scalora::reference {

/// lambda^T u - (kappa / 2) u^T M u exactly: the decrease of the loss bound
/// for squared scalings u divided by lr / lora_scale^2 (linalg/optimal_scaling.hpp,
/// bound_decrease).
inline exact_rational exact_decrease(const ExactSystem& sys, const RationalVector& u, const exact_rational& kappa) {
  const Index n = 2 * sys.r;
  exact_rational lin = 0, quad = 0;
  for (Index i = 0; i < n; ++i) {
    if (u[std::size_t(i)] == 0) continue;
    lin += sys.lambda[std::size_t(i)] * u[std::size_t(i)];
    exact_rational row = 0;
    for (Index j = 0; j < n; ++j)
      if (u[std::size_t(j)] != 0) row += sys.M(i, j) * u[std::size_t(j)];
    quad += u[std::size_t(i)] * row;
  }
  return lin - kappa * quad / 2;
}

/// The largest decrease over all column scalings (the unconstrained optimum of
/// Theorem 5's quadratic), from the solution v of the decision:
/// v^T M v / (2 kappa) (= lambda^T v / (2 kappa) when lambda is in range(M);
/// otherwise the optimum of the least-squares-consistent system, D5).
inline exact_rational exact_column_optimum(const ExactSystem& sys, const ExactColumnDecision& d,
                                           const exact_rational& kappa) {
  const Index n = 2 * sys.r;
  exact_rational quad = 0, inactive = 0;
  if (d.consistent) {  // lambda^T v: n products instead of n^2
    exact_rational lin = 0;
    for (Index i = 0; i < n; ++i)
      if (sys.M(i, i) == 0) inactive += sys.lambda[std::size_t(i)] * d.v[std::size_t(i)] / kappa;
      else lin += sys.lambda[std::size_t(i)] * d.v[std::size_t(i)];
    return lin / (2 * kappa) + inactive;
  }
  for (Index i = 0; i < n; ++i) {
    if (sys.M(i, i) == 0) inactive += sys.lambda[std::size_t(i)] * d.v[std::size_t(i)] / kappa;  // u_i = 1 (D5)
    if (d.v[std::size_t(i)] == 0 || sys.M(i, i) == 0) continue;
    exact_rational row = 0;
    for (Index j = 0; j < n; ++j)
      if (d.v[std::size_t(j)] != 0 && sys.M(j, j) != 0) row += sys.M(i, j) * d.v[std::size_t(j)];
    quad += d.v[std::size_t(i)] * row;
  }
  return quad / (2 * kappa) + inactive;
}

}  // namespace scalora::reference

namespace scalora::reference {

/// Lemke's complementary pivoting, exactly (lexicographic ratio test, so
/// degenerate problems terminate): finds z >= 0 with w = M z + q >= 0 and
/// z^T w = 0. For positive semidefinite M it succeeds whenever the LCP has a
/// solution (Cottle, Pang, Stone, The Linear Complementarity Problem, Thm
/// 4.4.13); nullopt on ray termination (no solution).
inline std::optional<RationalVector> exact_lemke(const RationalMatrix& M, const RationalVector& q) {
  const Index n = M.rows();
  if (std::all_of(q.begin(), q.end(), [](const exact_rational& x) { return x >= 0; })) return RationalVector(std::size_t(n));
  // Columns: w_0..w_{n-1} | z_0..z_{n-1} | z0 | rhs.  Rows: w - M z - 1 z0 = q.
  const Index cols = 2 * n + 2, zc = n, z0 = 2 * n, rhs = 2 * n + 1;
  RationalMatrix t(n, cols);
  std::vector<Index> basis(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    t(i, i) = 1;
    for (Index j = 0; j < n; ++j) t(i, zc + j) = -M(i, j);
    t(i, z0) = -1;
    t(i, rhs) = q[std::size_t(i)];
    basis[std::size_t(i)] = i;
  }
  auto pivot = [&](Index row, Index col) {
    const exact_rational inv = 1 / t(row, col);
    for (Index j = 0; j < cols; ++j) t(row, j) *= inv;
    for (Index i = 0; i < n; ++i) {
      if (i == row || t(i, col) == 0) continue;
      const exact_rational f = t(i, col);
      for (Index j = 0; j < cols; ++j) t(i, j) -= f * t(row, j);
    }
    basis[std::size_t(row)] = col;
  };
  // Lexicographic minimum ratio among rows with t(i, col) > 0: compare
  // (rhs, columns of the initial basis) / t(i, col).
  auto leaving = [&](Index col) -> Index {
    Index best = -1;
    for (Index i = 0; i < n; ++i) {
      if (!(t(i, col) > 0)) continue;
      if (best < 0) {
        best = i;
        continue;
      }
      for (Index k = -1; k < n; ++k) {
        const Index c = k < 0 ? rhs : k;
        const exact_rational a = t(i, c) / t(i, col), b = t(best, c) / t(best, col);
        if (a < b) {
          best = i;
          break;
        }
        if (a > b) break;
      }
    }
    return best;
  };
  // First pivot: z0 enters, the row with the most negative q leaves.
  Index row = 0;
  for (Index i = 1; i < n; ++i)
    if (t(i, rhs) < t(row, rhs)) row = i;
  pivot(row, z0);
  Index entering = row;  // the complement of w_row is z_row
  entering = zc + entering;
  for (Index iter = 0; iter < 50 * (n + 1) * (n + 1); ++iter) {
    const Index leave = leaving(entering);
    if (leave < 0) return std::nullopt;  // ray termination
    const Index left = basis[std::size_t(leave)];
    pivot(leave, entering);
    if (left == z0) {
      RationalVector z(static_cast<std::size_t>(n));
      for (Index i = 0; i < n; ++i)
        if (basis[std::size_t(i)] >= zc && basis[std::size_t(i)] < z0) z[std::size_t(basis[std::size_t(i)] - zc)] = t(i, rhs);
      return z;
    }
    entering = left < zc ? left + zc : left - zc;  // complement of the variable that left
  }
  return std::nullopt;
}

/// The largest decrease over column scalings with u >= 0 ("bound" rule):
/// max lambda^T u - (kappa/2) u^T M u, u >= 0, exactly; its value is
/// lambda^T z / (2 kappa) at the LCP solution z = kappa u of
/// w = M z - lambda >= 0, z >= 0, z^T w = 0 (the KKT conditions), over the
/// active coordinates (M_ii != 0); an inactive one keeps u_i = 1 (D5).
struct ExactNonnegativeOptimum {
  RationalVector u;
  exact_rational value;
};

inline std::optional<ExactNonnegativeOptimum> exact_nonnegative_optimum(const ExactSystem& sys,
                                                                        const exact_rational& kappa) {
  const Index n = 2 * sys.r;
  std::vector<Index> act;
  for (Index i = 0; i < n; ++i)
    if (sys.M(i, i) != 0) act.push_back(i);
  const Index k = Index(act.size());
  RationalMatrix Ma(k, k);
  RationalVector q(static_cast<std::size_t>(k));
  for (Index i = 0; i < k; ++i) {
    q[std::size_t(i)] = -sys.lambda[std::size_t(act[std::size_t(i)])];
    for (Index j = 0; j < k; ++j) Ma(i, j) = sys.M(act[std::size_t(i)], act[std::size_t(j)]);
  }
  const std::optional<RationalVector> z = exact_lemke(Ma, q);
  if (!z) return std::nullopt;
  ExactNonnegativeOptimum out;
  out.u.assign(std::size_t(n), exact_rational(1));
  exact_rational inactive = 0;
  for (Index i = 0; i < n; ++i)
    if (sys.M(i, i) == 0) inactive += sys.lambda[std::size_t(i)];
  for (Index i = 0; i < k; ++i) {
    out.u[std::size_t(act[std::size_t(i)])] = (*z)[std::size_t(i)] / kappa;
    out.value += sys.lambda[std::size_t(act[std::size_t(i)])] * (*z)[std::size_t(i)];
  }
  out.value = out.value / (2 * kappa) + inactive;
  return out;
}

}  // namespace scalora::reference
