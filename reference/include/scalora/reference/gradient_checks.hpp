// SPDX-License-Identifier: Apache-2.0
// The checks that read G (m x n), in double: grad_A = lora_scale G B and grad_B = lora_scale G^T A
// with a derived bound on the evaluation's own rounding and the best uniform
// factor, and Theorem 1's sum_{i<=k} sigma_i(G)^2 with a certified enclosure.
// G is read in blocks of columns, never copied or transposed. Methods, bounds
// and costs: docs/numerics.md, "The checks that read G".
#pragma once

#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "scalora/error.hpp"
#include "scalora/linalg/random.hpp"
#include "scalora/linalg/types.hpp"

namespace scalora::reference {

/// A read-only view of a column-major double matrix: binds a Matrix<double>, or
/// a block of one with unit inner stride, without a copy.
using ConstMatrixRef = Eigen::Ref<const Matrix<double>>;

/// How the passes over G run, and Theorem 1's method.
struct GChecksOptions {
  /// Columns of G per block. Extra memory per thread: one m x block buffer of
  /// |G_j| (gradient products) or a block x p buffer (power iteration).
  Index block = 256;
  /// Threads, each over a contiguous range of blocks (std::thread; 1 = the
  /// calling thread only). Results differ between thread counts in the last
  /// bits (the order of the sums), never in their bounds.
  int threads = 1;
  /// Theorem 1 exactly (eigenvalues of the Gram matrix of G's short side) when
  /// min(m, n) <= exact_below or k + oversampling >= min(m, n).
  Index exact_below = 256;
  Index oversampling = 8;      ///< p = k + oversampling subspace vectors
  int power_iterations = 1;    ///< q: applications of G G^T before the last pass
  std::uint64_t seed = 20251;  ///< of the Gaussian start
};

namespace gdetail {

inline constexpr double kUnitRoundoff = std::numeric_limits<double>::epsilon() / 2;

/// gamma_n = n u / (1 - n u) (Higham 3.1): a sum of n products, in any order,
/// errs by at most gamma_n times the sum of their absolute values.
inline double gamma_n(double n) {
  const double nu = n * kUnitRoundoff;
  return nu < 0.5 ? nu / (1 - nu) : INFINITY;
}

/// The neighbours of a double: with round-to-nearest, the exact result of one
/// operation lies in [down(fl(x)), up(fl(x))]. Rounds scalar bounds outward.
inline double down(double x) { return std::nextafter(x, -INFINITY); }
inline double up(double x) { return std::nextafter(x, INFINITY); }

inline void check_shape(const char* name, const ConstMatrixRef& x, Index rows, Index cols, const char* why) {
  if (x.rows() != rows || x.cols() != cols)
    throw invalid_argument(name, argument_problem::shape_mismatch,
                           "expected " + std::to_string(rows) + "x" + std::to_string(cols) + " (" + why + "), got " +
                               std::to_string(x.rows()) + "x" + std::to_string(x.cols()));
}

[[noreturn]] inline void throw_non_finite_G() {
  throw invalid_argument("G", argument_problem::non_finite, "an entry is not finite");
}

/// Upper bound on ||Q^T Q - I||_2 for a computed Q (a x p): the Frobenius norm of
/// fl(Q^T Q) - I, plus the error of forming Q^T Q (gamma_a ||Q||_F^2) and of the norms.
inline double orthonormality_defect(const Matrix<double>& Q) {
  const Index a = Q.rows(), p = Q.cols();
  Matrix<double> D = Q.transpose() * Q;
  D.diagonal().array() -= 1.0;  // exact (Sterbenz) for diagonal entries in [1/2, 2]
  const double f = D.norm() * (1 + gamma_n(double(p * p) + 2));
  const double q2 = Q.squaredNorm() * (1 + gamma_n(double(a * p) + 1));
  return up(f + gamma_n(double(a) + 1) * q2 * (1 + 4 * kUnitRoundoff));
}

/// Orthonormal basis (a x p) of the columns of Y by Householder QR.
inline Matrix<double> orthonormal_basis(const Matrix<double>& Y) {
  const Eigen::HouseholderQR<Matrix<double>> qr(Y);
  return qr.householderQ() * Matrix<double>::Identity(Y.rows(), Y.cols());
}

/// Certified bounds on the eigenvalues of a symmetric S (a x a), sorted
/// descending, from S_hat (a double matrix) and e >= ||S - S_hat||_2.
/// With S_hat's computed eigenpairs (Q, Lambda):
///   eta >= ||Q^T Q - I||_2, rho >= ||S_hat - Q Lambda Q^T||_F;
///   lambda_i(Q Lambda Q^T) = theta_i lambda_hat_i, theta_i in [1 - eta, 1 + eta]
///   (Ostrowski), |lambda_i(S_hat) - lambda_i(Q Lambda Q^T)| <= rho (Weyl), so
///   lambda_i(S) in [theta^- lambda_hat_i - rho - e, theta^+ lambda_hat_i + rho + e].
/// The eigensolver's accuracy only widens the bounds, never invalidates them.
struct EigenBounds {
  Vector<double> lo, hi, computed;
};

inline EigenBounds certified_eigenvalues(const Matrix<double>& S_hat, double e) {
  const Index a = S_hat.rows();
  EigenBounds b;
  b.lo.resize(a);
  b.hi.resize(a);
  b.computed.resize(a);
  if (a == 0) return b;
  const Eigen::SelfAdjointEigenSolver<Matrix<double>> es(S_hat);
  if (es.info() != Eigen::Success) {
    b.lo.setConstant(-INFINITY);
    b.hi.setConstant(INFINITY);
    b.computed.setConstant(NAN);
    return b;
  }
  const Matrix<double> Q = es.eigenvectors().rowwise().reverse();
  b.computed = es.eigenvalues().reverse();
  const double eta = orthonormality_defect(Q);
  const Matrix<double> R = S_hat - Q * b.computed.asDiagonal() * Q.transpose();
  // Q Lambda Q^T in double: each entry a sum of a products and one scaling
  // (gamma_{a+1} |Q| |Lambda| |Q|^T, whose Frobenius norm is at most
  // sum_l |lambda_l| ||q_l||^2 <= (1 + eta) sum_l |lambda_l|); the subtraction
  // and the norm round by u and gamma_{a^2}.
  const double lam_abs = b.computed.cwiseAbs().sum() * (1 + gamma_n(double(a)));
  const double rho = up(R.norm() * (1 + gamma_n(double(a * a) + 4)) +
                        gamma_n(double(a) + 2) * (1 + eta) * lam_abs * (1 + 4 * kUnitRoundoff));
  const double slack = up(up(rho + e) * (1 + 2 * kUnitRoundoff));
  if (!(eta < 1) || !std::isfinite(slack)) {
    b.lo.setConstant(-INFINITY);
    b.hi.setConstant(INFINITY);
    return b;
  }
  const double t_lo = down(1 - eta), t_hi = up(1 + eta);
  for (Index i = 0; i < a; ++i) {
    const double l = b.computed(i);
    const double lo = l >= 0 ? down(t_lo * l) : down(t_hi * l);
    const double hi = l >= 0 ? up(t_hi * l) : up(t_lo * l);
    b.lo(i) = down(lo - slack);
    b.hi(i) = up(hi + slack);
  }
  return b;
}

/// Sum of x(i) for i in [from, to), rounded down (up): each addition moved one
/// ulp outward.
inline double sum_down(const Vector<double>& x, Index from, Index to) {
  double s = 0;
  for (Index i = from; i < to; ++i) s = down(s + x(i));
  return s;
}
inline double sum_up(const Vector<double>& x, Index from, Index to) {
  double s = 0;
  for (Index i = from; i < to; ++i) s = up(s + x(i));
  return s;
}

/// Columns [begin, end) of G that one thread reads, a whole number of blocks.
struct ColumnRange {
  Index begin = 0, end = 0;
};

inline std::vector<ColumnRange> column_ranges(Index n, Index block, int threads) {
  const Index blocks = (n + block - 1) / block;
  const Index t = std::max<Index>(1, std::min<Index>(std::max(1, threads), blocks));
  std::vector<ColumnRange> out;
  for (Index i = 0; i < t; ++i)
    out.push_back({std::min(n, i * blocks / t * block), std::min(n, (i + 1) * blocks / t * block)});
  return out;
}

/// f(t, range) for every range, range 0 on the calling thread; rethrows the
/// first exception after all have finished.
template <class F>
void run_ranges(const std::vector<ColumnRange>& ranges, F&& f) {
  if (ranges.size() == 1) {
    f(std::size_t(0), ranges[0]);
    return;
  }
  std::vector<std::exception_ptr> errors(ranges.size());
  std::vector<std::thread> pool;
  for (std::size_t i = 1; i < ranges.size(); ++i)
    pool.emplace_back([&, i] {
      try {
        f(i, ranges[i]);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  try {
    f(std::size_t(0), ranges[0]);
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (std::thread& th : pool) th.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace gdetail

// ---------------------------------------------------------------------------
// Results

/// The products one pass over G yields, in double (G: m x n, A: m x r, B: n x r):
///   GB = G B, abs_GB = |G| |B|         (m x r, inner dimension n)
///   GtA = G^T A, abs_GtA = |G|^T |A|   (n x r, inner dimension m)
/// Each entry is a sum of products in some order, so |fl(GB) - GB| <= gamma_n |G||B|
/// and fl(|G||B|) >= (1 - gamma_n) |G||B| (Higham 3.1); likewise with m.
struct GradientProducts {
  Matrix<double> GB, abs_GB, GtA, abs_GtA;
};

/// grad (a x r) against scale X Y, from XY = fl(X Y) and abs_XY = fl(|X||Y|) with
/// inner dimension k. With d = fl(grad - fl(scale XY)) and g = gamma_k / (1 - gamma_k),
/// the exact residual D = grad - scale X Y obeys, entry by entry,
///   |d_ij - D_ij| <= own_ij = u/(1-u) |d_ij| + |scale| abs_XY_ij (g + u (1 + 2 g)).
struct GradientResidual {
  /// ||d||_F / (|scale| ||abs_XY||_F) as evaluated; +inf for a NaN residual or a
  /// zero denominator under a non-zero residual.
  double value = 0;
  /// |value - ||D||_F / (|scale| || |X||Y| ||_F)| <= own: the evaluation's own
  /// error in the same unit, (g + u(1 + 2g)) + (u/(1-u) + gamma_k + gamma_{2N+4}) value
  /// (N = entries of grad; the last terms cover abs_XY's and the norms' rounding).
  double own = 0;
  /// max_ij (|d_ij| - own_ij)_+ / (|scale| abs_XY_ij / (1 - gamma_{k+4})): the
  /// worst entry, the evaluation's error given to the implementation.
  double entrywise = 0;
  Index worst_row = -1, worst_col = -1;
};

/// The gradient identity grad = lora_scale X Y, and the same after the best uniform factor.
struct GradientConsistency {
  GradientResidual at_s;  ///< grad against lora_scale X Y
  /// xi = <grad, lora_scale XY> / ||lora_scale XY||_F^2 (least squares; a global
  /// gradient-clipping coefficient shows up here); 0 when XY = 0 or grad is not finite.
  double factor = 0;
  /// grad against xi lora_scale X Y, relative to |xi| lora_scale || |X||Y| ||_F:
  /// equivalently grad / xi against lora_scale X Y. value +inf when factor = 0 and grad != 0.
  GradientResidual after_factor;
  Index inner = 0;  ///< k, the inner dimension
};

/// Both gradient identities: grad_A (m x r) = lora_scale G B (inner dimension n) and
/// grad_B (n x r) = lora_scale G^T A (inner dimension m).
struct GradientChecks {
  GradientConsistency grad_A, grad_B;
};

/// lower <= sum_{i<=k} sigma_i(G)^2 <= upper, certified for IEEE double with
/// round-to-nearest and no underflow in the products (entries of G above about
/// 1e-150 in magnitude; not under -ffast-math); see leading_energy_bounds.
struct LeadingEnergy {
  double lower = 0, upper = 0;
  double estimate = 0;    ///< the computed sum of the k leading Ritz values (not a bound)
  double frobenius2 = 0;  ///< ||G||_F^2 as computed
  Index k = 0;
  Index vectors = 0;      ///< p (randomized), min(m, n) (exact), 0 (no GEMM)
  int passes = 0;         ///< GEMM passes over G for Theorem 1, each 2 m n `vectors` flops
  bool exact = false;     ///< exact method (the enclosure is as wide as rounding only)
  std::string method;
};

/// Everything that reads G, from shared passes (g_checks).
struct GChecks {
  GradientChecks gradients;
  LeadingEnergy theorem1;
  int reads = 0;  ///< traversals of G
};

// ---------------------------------------------------------------------------
// The gradient identities from the products

namespace gdetail {

inline GradientResidual gradient_residual(const ConstMatrixRef& grad, const ConstMatrixRef& XY, const ConstMatrixRef& abs_XY,
                                          double scale, Index inner) {
  const double u = kUnitRoundoff, gk = gamma_n(double(inner)), g = gk / (1 - gk);
  // The bound's coefficients, raised by 8 u for the rounding of own_ij and excess themselves.
  const double own_abs = (g + u * (1 + 2 * g)) * (1 + 8 * u), own_rel = u / (1 - u) * (1 + 8 * u);
  const double den_factor = 1 - gamma_n(double(inner) + 4);
  const double as = std::abs(scale);
  GradientResidual res;
  double d2 = 0, a2 = 0;
  for (Index j = 0; j < grad.cols(); ++j)
    for (Index i = 0; i < grad.rows(); ++i) {
      const double d = grad(i, j) - scale * XY(i, j);
      const double a = as * abs_XY(i, j);
      d2 += d * d;
      a2 += a * a;
      const double ad = std::abs(d);
      const double excess = ad - (own_rel * ad + a * own_abs);
      double e = excess <= 0 ? 0.0 : (a > 0 ? excess / (a / den_factor) : INFINITY);
      if (std::isnan(e)) e = INFINITY;
      if (e > res.entrywise || (res.worst_row < 0 && std::isinf(e))) {
        res.entrywise = e;
        res.worst_row = i;
        res.worst_col = j;
      }
    }
  const double num = std::sqrt(d2), den = std::sqrt(a2);
  res.value = num == 0 ? 0.0 : (den > 0 ? num / den : INFINITY);
  if (std::isnan(res.value)) res.value = INFINITY;
  const double N = double(grad.size());
  res.own = up(own_abs + (own_rel + gk + gamma_n(2 * N + 4)) * res.value);
  return res;
}

}  // namespace gdetail

/// grad (a x r) = lora_scale X Y judged from XY = fl(X Y), abs_XY = fl(|X||Y|) with inner
/// dimension k (GradientProducts: X = G, Y = B, k = n for grad_A; X = G^T, Y = A,
/// k = m for grad_B). Cost O(a r).
/// @throws invalid_argument on shapes that disagree.
inline GradientConsistency gradient_consistency(const ConstMatrixRef& grad, const ConstMatrixRef& XY, const ConstMatrixRef& abs_XY,
                                                double lora_scale, Index inner) {
  gdetail::check_shape("XY", XY, grad.rows(), grad.cols(), "the shape of grad");
  gdetail::check_shape("abs_XY", abs_XY, grad.rows(), grad.cols(), "the shape of grad");
  GradientConsistency c;
  c.inner = inner;
  c.at_s = gdetail::gradient_residual(grad, XY, abs_XY, lora_scale, inner);
  double dot = 0, nrm = 0;
  for (Index j = 0; j < grad.cols(); ++j)
    for (Index i = 0; i < grad.rows(); ++i) {
      const double t = lora_scale * XY(i, j);
      dot += grad(i, j) * t;
      nrm += t * t;
    }
  c.factor = nrm > 0 && std::isfinite(dot) && std::isfinite(nrm) ? dot / nrm : 0.0;
  if (c.factor != 0) {
    c.after_factor = gdetail::gradient_residual(grad, XY, abs_XY, c.factor * lora_scale, inner);
  } else {
    const bool zero = grad.size() == 0 || grad.cwiseAbs().maxCoeff() == 0;
    c.after_factor.value = c.after_factor.entrywise = zero ? 0.0 : INFINITY;
  }
  return c;
}

// ---------------------------------------------------------------------------
// The passes over G

namespace gdetail {

enum class EnergyMethod { none, zero, frobenius, gram, randomized };

/// The passes behind gradient_products, leading_energy_bounds and g_checks.
/// products: A and B given. Theorem 1 (energy != nullptr):
///   zero        k = 0: nothing to read
///   frobenius   k >= min(m, n): ||G||_F^2
///   gram        S = G G^T (m <= n, in the shared pass) or G^T G (one more read)
///   randomized  q power passes, then H = Q^T G in the shared pass
/// The shared last pass computes, per block G_j (m x nb): [Q, A]^T G_j, G_j B_j,
/// |G_j| |B_j|, |A|^T |G_j|, ||G_j||_F^2 and the Gram update, as needed.
inline int g_passes(const ConstMatrixRef& G, const ConstMatrixRef* A, const ConstMatrixRef* B, Index k, const GChecksOptions& o,
                    GradientProducts* prod, LeadingEnergy* le) {
  const Index m = G.rows(), n = G.cols(), a = std::min(m, n), b = std::max(m, n);
  const Index block = std::max<Index>(1, o.block);
  const bool products = prod != nullptr;
  const Index r = products ? A->cols() : 0;
  const std::vector<ColumnRange> ranges = column_ranges(n, block, o.threads);
  const std::size_t T = ranges.size();
  int reads = 0;

  EnergyMethod method = EnergyMethod::none;
  Index p = 0;
  if (le) {
    *le = LeadingEnergy{};
    le->k = k;
    p = std::min(a, k + std::max<Index>(0, o.oversampling));
    if (k == 0) method = EnergyMethod::zero;
    else if (k >= a) method = EnergyMethod::frobenius;
    else if (a <= o.exact_below || p >= a) method = EnergyMethod::gram;
    else method = EnergyMethod::randomized;
  }
  const bool reads_norm = method == EnergyMethod::frobenius || method == EnergyMethod::gram ||
                          method == EnergyMethod::randomized;

  // Power iteration: Q <- orth(G (G^T Q)), one read each.
  Matrix<double> Q;
  if (method == EnergyMethod::randomized) {
    const int q = std::max(0, o.power_iterations);
    Q = orthonormal_basis(gaussian_matrix(m, p, o.seed));
    for (int it = 0; it < q; ++it) {
      std::vector<Matrix<double>> Y(T);
      run_ranges(ranges, [&](std::size_t t, ColumnRange cr) {
        Y[t].setZero(m, p);
        Matrix<double> Z(std::min(block, std::max<Index>(1, cr.end - cr.begin)), p);
        for (Index j0 = cr.begin; j0 < cr.end; j0 += block) {
          const Index nb = std::min(block, cr.end - j0);
          const auto Gj = G.middleCols(j0, nb);
          auto Zj = Z.topRows(nb);
          Zj.noalias() = Gj.transpose() * Q;
          Y[t].noalias() += Gj * Zj;
        }
      });
      ++reads;
      for (std::size_t t = 1; t < T; ++t) Y[0] += Y[t];
      if (!Y[0].allFinite()) {
        if (!G.allFinite()) throw_non_finite_G();
        break;  // G G^T Q overflowed: the last basis serves (any Q gives valid bounds)
      }
      Q = orthonormal_basis(Y[0]);
    }
    le->passes = 2 * q + 1;
    le->vectors = p;
  }

  // The shared pass.
  const bool gram_in_pass = method == EnergyMethod::gram && m <= n;
  Matrix<double> QA(m, (method == EnergyMethod::randomized ? p : 0) + r);
  if (method == EnergyMethod::randomized) QA.leftCols(p) = Q;
  if (products) QA.rightCols(r) = *A;
  const Index w = QA.cols();
  Matrix<double> QtG(w, n), abs_AtG(r, n), abs_A, abs_B;
  if (products) {
    abs_A = A->cwiseAbs();
    abs_B = B->cwiseAbs();
  }
  std::vector<Matrix<double>> GB(T), abs_GB(T), S(T);
  std::vector<double> g2(T, 0.0);
  if (products || reads_norm) {
    run_ranges(ranges, [&](std::size_t t, ColumnRange cr) {
      Matrix<double> abs_G;
      if (products) {
        GB[t].setZero(m, r);
        abs_GB[t].setZero(m, r);
        abs_G.resize(m, std::min(block, std::max<Index>(1, cr.end - cr.begin)));
      }
      if (gram_in_pass) S[t].setZero(a, a);
      for (Index j0 = cr.begin; j0 < cr.end; j0 += block) {
        const Index nb = std::min(block, cr.end - j0);
        const auto Gj = G.middleCols(j0, nb);
        if (w > 0) QtG.middleCols(j0, nb).noalias() = QA.transpose() * Gj;
        if (products) {
          auto abs_Gj = abs_G.leftCols(nb);
          abs_Gj = Gj.cwiseAbs();
          GB[t].noalias() += Gj * B->middleRows(j0, nb);
          abs_GB[t].noalias() += abs_Gj * abs_B.middleRows(j0, nb);
          abs_AtG.middleCols(j0, nb).noalias() = abs_A.transpose() * abs_Gj;
        }
        if (reads_norm) g2[t] += Gj.squaredNorm();
        if (gram_in_pass) S[t].selfadjointView<Eigen::Lower>().rankUpdate(Gj);
      }
    });
    ++reads;
  }
  for (std::size_t t = 1; t < T; ++t) {
    if (products) {
      GB[0] += GB[t];
      abs_GB[0] += abs_GB[t];
    }
    if (gram_in_pass) S[0] += S[t];
    g2[0] += g2[t];
  }
  if (products) {
    prod->GB = std::move(GB[0]);
    prod->abs_GB = std::move(abs_GB[0]);
    prod->GtA = QtG.bottomRows(r).transpose();
    prod->abs_GtA = abs_AtG.transpose();
  }
  if (!le) return reads;

  // Theorem 1 from the pass.
  const double g2_hat = g2[0];
  le->frobenius2 = g2_hat;
  if (reads_norm && !std::isfinite(g2_hat) && !G.allFinite()) throw_non_finite_G();
  // ||G||_F^2 is a sum of m n squares: relative gamma_{mn}.
  const double g_mn = gamma_n(double(m) * double(n) + 2);
  const double g2_up = up(g2_hat * (1 + g_mn));
  switch (method) {
    case EnergyMethod::none:
      break;
    case EnergyMethod::zero:
      le->exact = true;
      le->method = "k = 0";
      break;
    case EnergyMethod::frobenius:
      le->exact = true;
      le->method = "k >= min(m, n): ||G||_F^2";
      le->estimate = g2_hat;
      le->lower = down(g2_hat * (1 - g_mn));
      le->upper = g2_up;
      break;
    case EnergyMethod::gram: {
      le->exact = true;
      le->method = "exact: eigenvalues of the " + std::to_string(a) + " x " + std::to_string(a) + " Gram matrix";
      le->vectors = a;
      le->passes = 1;
      Matrix<double> Sg;
      if (gram_in_pass) {
        Sg = S[0];
      } else {
        Sg.setZero(a, a);
        Sg.selfadjointView<Eigen::Lower>().rankUpdate(G.transpose());
        ++reads;
      }
      Sg = Sg.selfadjointView<Eigen::Lower>();
      // ||S - fl(S)||_2 <= ||.||_F <= gamma_b || |G| |G|^T ||_F <= gamma_b ||G||_F^2.
      const double e = up(gamma_n(double(b)) * g2_up * (1 + 2 * kUnitRoundoff));
      const EigenBounds eb = certified_eigenvalues(Sg, e);
      const Vector<double> lo = eb.lo.cwiseMax(0.0), hi = eb.hi.cwiseMax(0.0);
      le->estimate = eb.computed.head(k).sum();
      le->lower = std::max(0.0, sum_down(lo, 0, k));
      le->upper = std::min(sum_up(hi, 0, k), std::max(0.0, up(g2_up - sum_down(lo, k, a))));
      le->upper = std::max(le->upper, le->lower);
      break;
    }
    case EnergyMethod::randomized: {
      le->method = "randomized subspace iteration: " + std::to_string(p) + " vectors, " +
                   std::to_string(std::max(0, o.power_iterations)) + " power iteration(s)";
      const auto H = QtG.topRows(p);
      const double eta = orthonormality_defect(Q);
      // H = Q^T G exactly vs fl: |dH| <= gamma_m |Q|^T |G|, so ||dH||_F <= gamma_m ||Q||_F ||G||_F.
      const double q_fro = up(std::sqrt(Q.squaredNorm() * (1 + gamma_n(double(m * p) + 2))));
      const double dH = up(gamma_n(double(m) + 1) * q_fro * up(std::sqrt(g2_up)) * (1 + 4 * kUnitRoundoff));
      const Matrix<double> Sh = H * H.transpose();
      const double h_fro = up(std::sqrt(H.squaredNorm() * (1 + gamma_n(double(p * n) + 2))));
      // ||H H^T - fl(Hh Hh^T)||_2 <= gamma_n ||Hh||_F^2 + (2 ||Hh||_F + dH) dH.
      const double e =
          up((gamma_n(double(n) + 1) * h_fro * h_fro + (2 * h_fro + dH) * dH) * (1 + 8 * kUnitRoundoff));
      const EigenBounds eb = certified_eigenvalues(Sh, e);
      // sigma_i(G)^2 >= sigma_i(Q^T G)^2 / ||Q||_2^2 >= lo_i / (1 + eta).
      const double scale = up(1 + eta);
      Vector<double> l(p);
      for (Index i = 0; i < p; ++i) l(i) = eb.lo(i) > 0 ? down(eb.lo(i) / scale) : 0.0;
      le->estimate = eb.computed.head(k).sum();
      le->lower = std::max(0.0, sum_down(l, 0, k));
      le->upper = std::max(le->lower, up(g2_up - sum_down(l, k, p)));
      break;
    }
  }
  return reads;
}

}  // namespace gdetail

/// GradientProducts from one pass over G in blocks of columns: per block G_j,
/// A^T G_j, G_j B_j, |G_j| |B_j| and |A|^T |G_j| (four GEMMs of width r, 8 m n r
/// flops in all). G^T is never formed (Eigen packs the transposed view).
/// Extra memory: an m x block buffer per thread, r x n for A^T G and |A|^T |G|,
/// m x r per thread for the partial sums.
/// @throws invalid_argument on shapes that disagree.
inline GradientProducts gradient_products(const ConstMatrixRef& G, const ConstMatrixRef& A, const ConstMatrixRef& B,
                                          const GChecksOptions& o = {}) {
  gdetail::check_shape("A", A, G.rows(), A.cols(), "m x r, m = rows of G");
  gdetail::check_shape("B", B, G.cols(), A.cols(), "n x r, n = columns of G, r = columns of A");
  GradientProducts p;
  gdetail::g_passes(G, &A, &B, 0, o, &p, nullptr);
  return p;
}

/// grad_A = lora_scale G B and grad_B = lora_scale G^T A from one pass over G (gradient_products,
/// then gradient_consistency for each).
/// @throws invalid_argument on shapes that disagree.
inline GradientChecks check_gradients(const ConstMatrixRef& G, const ConstMatrixRef& A, const ConstMatrixRef& B,
                                      const ConstMatrixRef& grad_A, const ConstMatrixRef& grad_B, double lora_scale,
                                      const GChecksOptions& o = {}) {
  gdetail::check_shape("grad_A", grad_A, A.rows(), A.cols(), "the shape of A");
  gdetail::check_shape("grad_B", grad_B, B.rows(), B.cols(), "the shape of B");
  const GradientProducts p = gradient_products(G, A, B, o);
  return {gradient_consistency(grad_A, p.GB, p.abs_GB, lora_scale, G.cols()),
          gradient_consistency(grad_B, p.GtA, p.abs_GtA, lora_scale, G.rows())};
}

/// sum_{i<=k} sigma_i(G)^2 (Theorem 1's optimum is this / (2L)) with a certified
/// enclosure. G: m x n, finite; k >= 0; a = min(m, n), b = max(m, n).
///   k >= a: ||G||_F^2 (relative gamma_{mn}).
///   exact (a <= exact_below, or k + oversampling >= a): S = G G^T or G^T G
///     (a x a; one pass of width a, a^2 b multiply-adds), certified_eigenvalues
///     with ||S - fl(S)||_2 <= gamma_b ||G||_F^2.
///   randomized: Q0 = orth(Gaussian m x p), q times Q = orth(G (G^T Q)) (one read,
///     two passes each), then H = Q^T G and ||G||_F^2 (one read, one pass):
///     2q + 1 passes of width p in q + 1 reads. With eta >= ||Q^T Q - I||_2 and
///     l_i a certified lower bound on lambda_i(H H^T) (certified_eigenvalues on
///     fl(H H^T), with H's rounding gamma_m ||Q||_F ||G||_F):
///       sigma_i(G)^2 >= l_i / (1 + eta)                    (sigma_i(Q^T G) <= ||Q||_2 sigma_i(G))
///       lower = sum_{i<=k} l_i / (1 + eta)                 (Ky Fan)
///       upper = ||G||_F^2 - sum_{k<i<=p} l_i / (1 + eta)   (sum_{i>k} sigma_i^2 holds at least these)
///     upper - lower is about the energy of G outside range(Q): tight when G's
///     spectrum decays within p values, up to ||G||_F^2 for a flat one.
/// @throws invalid_argument when G has a non-finite entry or k < 0.
inline LeadingEnergy leading_energy_bounds(const ConstMatrixRef& G, Index k, const GChecksOptions& o = {}) {
  if (k < 0) throw invalid_argument("k", argument_problem::out_of_range, "must be >= 0, got " + std::to_string(k));
  LeadingEnergy le;
  gdetail::g_passes(G, nullptr, nullptr, k, o, nullptr, &le);
  return le;
}

/// check_gradients and leading_energy_bounds(G, k) with the gradient products
/// computed in Theorem 1's last pass: q + 1 reads of G in all (randomized), one
/// (exact with m <= n), two (exact with m > n).
/// @throws invalid_argument on shapes that disagree, a non-finite G, k < 0.
inline GChecks g_checks(const ConstMatrixRef& G, const ConstMatrixRef& A, const ConstMatrixRef& B, const ConstMatrixRef& grad_A,
                        const ConstMatrixRef& grad_B, double lora_scale, Index k, const GChecksOptions& o = {}) {
  if (k < 0) throw invalid_argument("k", argument_problem::out_of_range, "must be >= 0, got " + std::to_string(k));
  gdetail::check_shape("A", A, G.rows(), A.cols(), "m x r, m = rows of G");
  gdetail::check_shape("B", B, G.cols(), A.cols(), "n x r, n = columns of G, r = columns of A");
  gdetail::check_shape("grad_A", grad_A, A.rows(), A.cols(), "the shape of A");
  gdetail::check_shape("grad_B", grad_B, B.rows(), B.cols(), "the shape of B");
  GChecks out;
  GradientProducts p;
  out.reads = gdetail::g_passes(G, &A, &B, k, o, &p, &out.theorem1);
  out.gradients = {gradient_consistency(grad_A, p.GB, p.abs_GB, lora_scale, G.cols()),
                   gradient_consistency(grad_B, p.GtA, p.abs_GtA, lora_scale, G.rows())};
  return out;
}

}  // namespace scalora::reference
