// SPDX-License-Identifier: Apache-2.0
// The certified path of the reference: M, lambda and the solution of
// M v = lambda enclosed by rigorous bounds computed in double precision, so
// that most comparisons a verdict needs are decided without exact arithmetic
// (docs/numerics.md, "The reference's engine").
//
//   * Gram matrices in double by Eigen's GEMM, each column first scaled by a
//     power of 2 (exact). For any summation order, fl(x^T y) differs from
//     x^T y by at most gamma_k |x|^T |y| plus k times the underflow unit
//     (Higham, Accuracy and Stability, 2nd ed., eq. (3.5) and sec. 2.1); the
//     bound itself is evaluated in double and rounded up (inflate()).
//   * The solve is Rump's a posteriori verification (Rump, "Verification
//     methods", Acta Numerica 19, 2010, Thm 10.2 and sec. 10.5): with an
//     approximate inverse X of mid(M), C = I - X M and z = X (lambda - M v0),
//     ||C||_inf < 1 proves every M in the enclosure nonsingular and
//     |v - v0| <= |z| + |C| 1 ||z||_inf / (1 - ||C||_inf).
// Every matrix here is 2r x 2r: the cost is two m x 2r and two n x 2r GEMMs
// plus O(r^3); docs/performance.md compares it with Arb's ball solve.
#pragma once

#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "scalora/linalg/types.hpp"
#include "scalora/linalg/validate.hpp"

namespace scalora::reference::certified {

/// Unit roundoff of double and the smallest positive subnormal.
inline constexpr double kUnit = 0x1p-53;
inline constexpr double kTiny = 0x1p-1074;

/// gamma_k = k u / (1 - k u) of double, rounded up (k u < 1/2 assumed; +inf otherwise).
inline double gamma(double k) {
  const double ku = k * kUnit;
  if (!(ku < 0.5)) return std::numeric_limits<double>::infinity();
  return ku / (1 - ku) * (1 + 4 * kUnit);
}

/// An upper bound of a non-negative quantity that was computed in double with
/// at most `ops` roundings along any path (each relative u, no cancellation:
/// every term non-negative): value (1 + gamma_{ops+2}) plus `ops` underflow
/// units. Applied to every bound below, so bounds are rigorous despite being
/// evaluated in floating point.
inline double inflate(double value, double ops) { return value * (1 + gamma(ops + 2)) + (ops + 2) * kTiny; }

template <class Derived>
Matrix<double> inflate(const Eigen::MatrixBase<Derived>& m, double ops) {
  return m.unaryExpr([ops](double x) { return inflate(x, ops); });
}

/// An enclosure mid +- rad (rad >= 0 entrywise) of a matrix or vector.
struct EnclosedMatrix {
  Matrix<double> mid, rad;
};
struct EnclosedVector {
  Vector<double> mid, rad;
  double lower(Index i) const { return mid(i) - rad(i); }
  double upper(Index i) const { return mid(i) + rad(i); }
};

/// The exact M and lambda of Theorem 5 in scaled coordinates,
///   M = E Mh E,  lambda = E lh,  E = diag(2^f)  (f integer, exact scaling),
/// chosen so that Mh has diagonal entries in [1/4, 4): M v = lambda is
/// Mh y = lh with y = E v (same signs as v). Rows and columns with M_ii = 0
/// (a zero column in S_A or S_B: the coordinate does not enter the bound) are
/// exactly zero in Mh and flagged inactive.
struct CertifiedSystem {
  Index r = 0;
  std::vector<long> f;       ///< 2r exponents
  std::vector<bool> active;  ///< M_ii != 0
  EnclosedMatrix Mh;         ///< 2r x 2r
  EnclosedVector lh;         ///< 2r
  bool ok = false;           ///< false: a scaled quantity left double's range; use the exact path
};

namespace detail {
/// Exponent e with 2^(e-1) <= max |column| < 2^e (0 for a zero column).
inline int column_exponent(const Eigen::Ref<const Vector<double>>& c) {
  const double mx = c.cwiseAbs().maxCoeff();
  if (!(mx > 0)) return 0;
  int e = 0;
  std::frexp(mx, &e);
  return e;
}

/// Gram enclosure of the columns of S (rows x k) after scaling column j by
/// 2^-e_j (exact unless entries fall below the subnormal range, which the
/// underflow term covers): mid = fl(S'^T S'), rad >= |mid - S'^T S'|.
inline EnclosedMatrix gram_enclosure(const Matrix<double>& S, std::vector<int>& e) {
  const Index rows = S.rows(), k = S.cols();
  e.resize(std::size_t(k));
  Matrix<double> Ss(rows, k);
  std::vector<bool> zero(static_cast<std::size_t>(k));
  for (Index j = 0; j < k; ++j) {
    e[std::size_t(j)] = column_exponent(S.col(j));
    Ss.col(j) = S.col(j).unaryExpr([&](double x) { return std::ldexp(x, -e[std::size_t(j)]); });
    zero[std::size_t(j)] = S.col(j).isZero(0);
  }
  EnclosedMatrix g;
  g.mid.noalias() = Ss.transpose() * Ss;
  const Matrix<double> abs_s = Ss.cwiseAbs();
  Matrix<double> abs_gram = abs_s.transpose() * abs_s;  // sum of non-negative products
  const double k_rows = double(rows);
  g.rad.resize(k, k);
  for (Index j = 0; j < k; ++j)
    for (Index i = 0; i < k; ++i) {
      if (zero[std::size_t(i)] || zero[std::size_t(j)]) {
        g.mid(i, j) = 0;  // exactly: no product enters
        g.rad(i, j) = 0;
        continue;
      }
      // |fl - exact| <= gamma_rows |S|^T|S| (+ underflow); the computed
      // |S|^T|S| is below the exact one times (1 - gamma_rows)^-1.
      const double t = inflate(abs_gram(i, j), k_rows) ;
      g.rad(i, j) = inflate(gamma(k_rows + 1) * t + (k_rows + 2) * 2 * kTiny, 4);
    }
  return g;
}
}  // namespace detail

/// Encloses M and lambda of the layer (A m x r, B n x r, gradients alike),
/// all entries finite (checked by the caller).
inline CertifiedSystem certified_system(const Matrix<double>& A, const Matrix<double>& B, const Matrix<double>& grad_A,
                                        const Matrix<double>& grad_B) {
  const Index r = A.cols(), n2 = 2 * r;
  CertifiedSystem cs;
  cs.r = r;
  Matrix<double> SA(A.rows(), n2), SB(B.rows(), n2);
  SA << A, grad_A;
  SB << grad_B, B;
  std::vector<int> ea, eb;
  const EnclosedMatrix P = detail::gram_enclosure(SA, ea);
  const EnclosedMatrix Q = detail::gram_enclosure(SB, eb);
  // Mh0 = P' o Q' with M_ij = 2^(g_i + g_j) Mh0_ij, g_i = ea_i + eb_i.
  Matrix<double> mid = P.mid.cwiseProduct(Q.mid);
  Matrix<double> rad(n2, n2);
  for (Index j = 0; j < n2; ++j)
    for (Index i = 0; i < n2; ++i) {
      const double pq = std::abs(P.mid(i, j)) * Q.rad(i, j) + P.rad(i, j) * std::abs(Q.mid(i, j)) +
                        P.rad(i, j) * Q.rad(i, j) + kUnit * std::abs(mid(i, j));
      rad(i, j) = (P.rad(i, j) == 0 && Q.rad(i, j) == 0 && mid(i, j) == 0) ? 0.0 : inflate(pq, 4);
    }
  // lambda_i (i < r) = Q_ii = Q'_ii 2^(2 eb_i); lambda_{r+i} = P_ii = P'_ii 2^(2 ea_i).
  cs.f.resize(std::size_t(n2));
  cs.active.resize(std::size_t(n2));
  cs.Mh.mid.resize(n2, n2);
  cs.Mh.rad.resize(n2, n2);
  cs.lh.mid.resize(n2);
  cs.lh.rad.resize(n2);
  std::vector<int> shift(static_cast<std::size_t>(n2));  // extra equilibration: Mh_ii in [1/4, 4)
  for (Index i = 0; i < n2; ++i) {
    cs.active[std::size_t(i)] = mid(i, i) != 0;
    int e = 0;
    if (mid(i, i) > 0) std::frexp(std::sqrt(mid(i, i)), &e);
    shift[std::size_t(i)] = -e;
    cs.f[std::size_t(i)] = long(ea[std::size_t(i)]) + long(eb[std::size_t(i)]) + long(e);
  }
  bool ok = true;
  for (Index j = 0; j < n2; ++j)
    for (Index i = 0; i < n2; ++i) {
      const int s = shift[std::size_t(i)] + shift[std::size_t(j)];
      cs.Mh.mid(i, j) = std::ldexp(mid(i, j), s);
      cs.Mh.rad(i, j) = rad(i, j) == 0 ? 0.0 : inflate(std::ldexp(rad(i, j), s), 1);
    }
  for (Index i = 0; i < n2; ++i) {
    // lh_i = lambda_i / 2^f_i.
    const bool a_part = i < r;
    const double diag = a_part ? Q.mid(i, i) : P.mid(i, i);
    const double drad = a_part ? Q.rad(i, i) : P.rad(i, i);
    const long ee = a_part ? 2L * eb[std::size_t(i)] : 2L * ea[std::size_t(i)];
    const long s = ee - cs.f[std::size_t(i)];
    if (s > 1000 || s < -1000) ok = false;
    cs.lh.mid(i) = std::ldexp(diag, int(std::max(-2000L, std::min(2000L, s))));
    cs.lh.rad(i) = drad == 0 ? 0.0 : inflate(std::ldexp(drad, int(std::max(-2000L, std::min(2000L, s)))), 1);
  }
  ok = ok && cs.Mh.mid.allFinite() && cs.Mh.rad.allFinite() && cs.lh.mid.allFinite() && cs.lh.rad.allFinite();
  cs.ok = ok;
  return cs;
}

/// Rump's verified solve of the interval system [A] x = [b] (A = mid +- rad):
/// an enclosure of {x : A x = b, A in [A], b in [b]}, or nullopt when the
/// verification fails (some A in [A] may be singular, or the bound is too weak).
inline std::optional<EnclosedVector> verified_solve(const EnclosedMatrix& A, const EnclosedVector& b) {
  const Index n = A.mid.rows();
  if (n == 0) return EnclosedVector{Vector<double>(0), Vector<double>(0)};
  const Eigen::PartialPivLU<Matrix<double>> lu(A.mid);
  const Matrix<double> X = lu.inverse();
  if (!X.allFinite()) return std::nullopt;
  Vector<double> x0 = X * b.mid;
  x0 += X * (b.mid - A.mid * x0);  // one refinement step
  if (!x0.allFinite()) return std::nullopt;
  const double nd = double(n);
  const Matrix<double> absX = X.cwiseAbs();
  // res = b - A x0 for every A, b in the enclosures.
  const Vector<double> res_mid = b.mid - A.mid * x0;
  const Vector<double> absx0 = x0.cwiseAbs();
  Vector<double> res_rad = gamma(nd + 2) * (b.mid.cwiseAbs() + A.mid.cwiseAbs() * absx0) + b.rad + A.rad * absx0;
  res_rad = inflate(res_rad, nd + 4);
  // z = X res.
  const Vector<double> z_mid = X * res_mid;
  Vector<double> z_abs = z_mid.cwiseAbs() + gamma(nd + 1) * (absX * res_mid.cwiseAbs()) + absX * res_rad;
  z_abs = inflate(z_abs, nd + 4);
  // |C| for C = I - X A.
  Matrix<double> C = -X * A.mid;
  C.diagonal().array() += 1.0;
  Matrix<double> Cabs = C.cwiseAbs() + gamma(nd + 2) * (Matrix<double>::Identity(n, n) + absX * A.mid.cwiseAbs()) +
                        absX * A.rad;
  Cabs = inflate(Cabs, nd + 4);
  const Vector<double> crow = inflate(Cabs.rowwise().sum(), nd);
  const double rho = crow.maxCoeff();
  if (!(rho < 1) || !z_abs.allFinite()) return std::nullopt;
  const double znorm = z_abs.maxCoeff();
  const double enorm = inflate(znorm / (1 - rho), 3) * (1 + 4 * kUnit);
  EnclosedVector out;
  out.mid = x0;
  out.rad = inflate(Vector<double>(z_abs + crow * enorm), 3);
  if (!out.rad.allFinite()) return std::nullopt;
  return out;
}

/// The active part of an enclosed square system (rows and columns i with active[i]).
inline EnclosedMatrix restrict(const EnclosedMatrix& m, const std::vector<Index>& idx) {
  const Index k = Index(idx.size());
  EnclosedMatrix out{Matrix<double>(k, k), Matrix<double>(k, k)};
  for (Index j = 0; j < k; ++j)
    for (Index i = 0; i < k; ++i) {
      out.mid(i, j) = m.mid(idx[std::size_t(i)], idx[std::size_t(j)]);
      out.rad(i, j) = m.rad(idx[std::size_t(i)], idx[std::size_t(j)]);
    }
  return out;
}
inline EnclosedVector restrict(const EnclosedVector& v, const std::vector<Index>& idx) {
  const Index k = Index(idx.size());
  EnclosedVector out{Vector<double>(k), Vector<double>(k)};
  for (Index i = 0; i < k; ++i) {
    out.mid(i) = v.mid(idx[std::size_t(i)]);
    out.rad(i) = v.rad(idx[std::size_t(i)]);
  }
  return out;
}

/// Bounds on the extreme eigenvalues of every symmetric matrix in the
/// enclosure after equilibration to a unit diagonal (Weyl: each eigenvalue
/// moves by at most ||rad||_2 <= ||rad||_F, plus the eigensolver's own
/// backward error, taken as 8 n u ||A||_F).
struct EigenBounds {
  double min_lower = 0;  ///< <= the smallest eigenvalue
  double max_upper = 0;  ///< >= the largest eigenvalue
};
inline EigenBounds eigen_bounds(const EnclosedMatrix& A) {
  const Index n = A.mid.rows();
  if (n == 0) return {1, 1};
  Vector<double> d(n);
  for (Index i = 0; i < n; ++i) d(i) = A.mid(i, i) > 0 ? 1 / std::sqrt(A.mid(i, i)) : 1.0;
  const Matrix<double> S = d.asDiagonal() * A.mid * d.asDiagonal();
  const Matrix<double> Sr = d.asDiagonal() * A.rad * d.asDiagonal();
  const Eigen::SelfAdjointEigenSolver<Matrix<double>> es(Matrix<double>(0.5 * (S + S.transpose())),
                                                         Eigen::EigenvaluesOnly);
  const double asym = inflate(0.5 * (S - S.transpose()).norm(), double(n * n));
  const double err = inflate(Sr.norm() + asym + 8 * double(n) * kUnit * S.norm() + 2 * double(n) * gamma(4) * S.norm(),
                             double(n * n));
  // The equilibration by d rounds: at most 3 u relative per entry, inside err's last term.
  return {es.eigenvalues()(0) - err, es.eigenvalues()(n - 1) + err};
}

}  // namespace scalora::reference::certified
