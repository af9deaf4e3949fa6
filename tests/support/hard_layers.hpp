// SPDX-License-Identifier: Apache-2.0
// Hard layers for tests: deterministic builders of ill-conditioned, degenerate and
// near-boundary ScaLoRA layers from a plain description, a RapidCheck generator of
// those descriptions, and long-double diagnostics of the system M v = lambda
// (equilibrated condition number and decision margin). Spec sections 4 and 5.
//
// Why: rescaling the columns of A and B changes M only by a diagonal congruence,
// which the solver's equilibration D M D (D = diag(M)^{-1/2}) cancels exactly, so
// column scales alone never make the equilibrated system hard. The knobs below
// change the geometry of X_i = A_i A_i^T G and Y_j = G B_j B_j^T instead:
//   near-collinear columns   A_j = A_0 + delta ||A_0|| e / ||e|| (e Gaussian):
//                            ||X_j - X_0|| ~ delta, cond(D M D) ~ 1 / delta^2
//                            (measured: 1e6, 1e12, 1e18, 1e24 for delta = 1e-3,
//                            1e-6, 1e-9, 1e-12 in double; tests/unit/test_hard_layers.cpp)
//   duplicated columns       A_j = A_0 bit for bit: M exactly singular
//   PEFT zero initialisation B = 0 (or A = 0): half of diag(M) is 0
//   rank-deficient G         rank G < 2r (Assumption 2 of the spec fails)
//   m or n < 2r              from the sizes
//   row scales               rows of A and B scaled by 10^-d .. 10^d: not a
//                            diagonal congruence of M, the equilibration keeps them
//   near-zero margin         G on the circle cos(theta) G_1 + sin(theta) G_2
//                            (= cos(theta) (G_1 + t G_2), t = tan(theta)), theta found
//                            by bisection so that the decision statistic of the
//                            column solve is within 1e-10 of 0, on a chosen side
//                            (gradients stored in double; float and bfloat16
//                            quantise it, see build_hard_layer).
// Column scales (not cancelled in finite precision: ranges, overflow) and
// gradient magnitudes are knobs too.
#pragma once

#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <Eigen/QR>
#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <utility>
#include <vector>

#include "hard_layer_case.hpp"
#include "scalora/core/bfloat16.hpp"
#include "scalora/linalg/random.hpp"
#include "scalora/linalg/step.hpp"

namespace scalora::test {

/// What build_hard_layer produced: the layer, its bound parameters, the exact
/// gradient, and what the knobs became after clamping.
struct HardLayer {
  Layer<double> layer;            ///< every entry representable in the case's storage type
  BoundParameters<double> bound;  ///< L, lr, lora_scale (powers of two)
  Matrix<double> G;               ///< m x n; grad_A = round(lora_scale G B), grad_B = round(lora_scale G^T A)
  Vector<double> row_scale_A, row_scale_B;  ///< m, n: the row scales applied
  Vector<double> col_scale_A, col_scale_B;  ///< r: the column scales applied
  int collinear_column = -1;  ///< column made near-collinear with column 0 (-1: none)
  double delta = 0;           ///< its relative perturbation
  int duplicate_column = -1;  ///< column copied from column 0 (-1: none)
  int g_rank = 0;             ///< rank of G by construction
  /// Decision statistic of the built layer (equilibrated_margin); NaN where the
  /// active part of M is singular or lambda = 0.
  long double margin = std::numeric_limits<long double>::quiet_NaN();
  /// margin knob set and a sign change found: `margin` is on the requested side,
  /// the closest approach to 0 the search reached.
  bool margin_bracketed = false;
  /// margin_bracketed and |margin| <= hard_margin_tolerance.
  bool margin_found = false;
  double theta = 0;  ///< G = cos(theta) G_1 + sin(theta) G_2 (0 without a bracketed margin)
};

/// The target of the margin search.
inline constexpr long double hard_margin_tolerance = 1e-10L;

/// M, lambda of Theorem 5 in long double.
struct SystemLD {
  Matrix<long double> M;
  Vector<long double> lambda;
};

namespace detail {

inline std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t tag) {  // splitmix64
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * (tag + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// Rounds to float (saturating at +-max: the layer stays finite) or keeps double.
inline double round_float(double x) {
  const double big = double(std::numeric_limits<float>::max());
  return double(float(std::clamp(x, -big, big)));
}
inline double round_bf16(double x) {
  const double big = double(bf16_to_float(0x7f7fu));  // largest finite bfloat16
  return double(bf16_to_float(float_to_bf16(float(std::clamp(x, -big, big)))));
}
inline double round_storage(storage_type s, double x) { return s == storage_type::float32 ? round_float(x) : x; }

template <class F>
Matrix<double> rounded(Matrix<double> X, F round) {
  for (Index k = 0; k < X.size(); ++k) X.data()[k] = round(X.data()[k]);
  return X;
}

/// s X Y (transpose_x: s X^T Y) by plain loops in a fixed order: equal input
/// columns give bit-identical output columns (Eigen's blocked products need not).
inline Matrix<double> product(const Matrix<double>& X, bool transpose_x, const Matrix<double>& Y, double s) {
  const Index rows = transpose_x ? X.cols() : X.rows(), inner = Y.rows();
  Matrix<double> out(rows, Y.cols());
  for (Index j = 0; j < Y.cols(); ++j)
    for (Index i = 0; i < rows; ++i) {
      double acc = 0.0;
      for (Index l = 0; l < inner; ++l) acc += (transpose_x ? X(l, i) : X(i, l)) * Y(l, j);
      out(i, j) = s * acc;
    }
  return out;
}

/// 10^(d (2 p(k) / (count - 1) - 1)) for a seeded permutation p of 0..count-1:
/// spans exactly 10^-d .. 10^d (1 when count = 1 or d = 0).
inline Vector<double> spread_scales(Index count, int decades, std::uint64_t seed) {
  Vector<double> out = Vector<double>::Ones(count);
  if (count < 2 || decades == 0) return out;
  std::vector<Index> perm(static_cast<std::size_t>(count));
  for (Index k = 0; k < count; ++k) perm[std::size_t(k)] = k;
  std::mt19937_64 gen(seed);
  for (std::size_t k = perm.size() - 1; k > 0; --k) std::swap(perm[k], perm[std::size_t(gen() % (k + 1))]);
  for (Index k = 0; k < count; ++k)
    out(k) = std::pow(10.0, double(decades) * (2.0 * double(perm[std::size_t(k)]) / double(count - 1) - 1.0));
  return out;
}

/// The column index a knob names: 1 + (j - 1) mod (r - 1); -1 when r = 1.
inline int clamp_column(int j, int r) {
  if (r < 2) return -1;
  const int k = (std::max(j, 1) - 1) % (r - 1);
  return 1 + k;
}

inline bool touches_A(factor_choice f) { return f == factor_choice::A || f == factor_choice::both; }
inline bool touches_B(factor_choice f) { return f == factor_choice::B || f == factor_choice::both; }

inline void make_collinear(Matrix<double>& F, int j, double delta, std::uint64_t seed) {
  const Vector<double> e = gaussian_matrix(F.rows(), 1, seed).col(0);
  const double en = e.norm();
  if (en > 0) F.col(j) = F.col(0) + (delta * F.col(0).norm() / en) * e;
}

/// The gradients of G for the stored factors, rounded as the case says.
inline void set_gradients(Layer<double>& l, const Matrix<double>& G, double s, const HardLayerCase& c) {
  auto round = [&](double x) {
    switch (c.grad_rounding) {
      case gradient_rounding::float32: return round_float(x);
      case gradient_rounding::bfloat16: return round_bf16(x);
      case gradient_rounding::storage: break;
    }
    return round_storage(c.storage, x);
  };
  l.grad_A = rounded(product(G, false, l.B, s), round);
  l.grad_B = rounded(product(G, true, l.A, s), round);
}

}  // namespace detail

/// M = (S_A^T S_A) o (S_B^T S_B), lambda = [colnorm^2(grad_B); colnorm^2(grad_A)],
/// S_A = [A, grad_A], S_B = [grad_B, B], accumulated in long double by plain loops
/// (equal columns give equal rows of M).
template <class S>
SystemLD long_double_system(const Layer<S>& l) {
  const Index r = l.A.cols();
  auto gram = [r](const Matrix<S>& X, const Matrix<S>& Y) {
    Matrix<long double> out(2 * r, 2 * r);
    auto col = [&](Index i, Index a) { return (long double)(a < r ? X(i, a) : Y(i, a - r)); };
    for (Index a = 0; a < 2 * r; ++a)
      for (Index b = 0; b < 2 * r; ++b) {
        long double acc = 0;
        for (Index i = 0; i < X.rows(); ++i) acc += col(i, a) * col(i, b);
        out(a, b) = acc;
      }
    return out;
  };
  const Matrix<long double> P = gram(l.A, l.grad_A), Q = gram(l.grad_B, l.B);
  SystemLD sys;
  sys.M = P.cwiseProduct(Q);
  sys.lambda.resize(2 * r);
  sys.lambda.head(r) = Q.diagonal().head(r);
  sys.lambda.tail(r) = P.diagonal().tail(r);
  return sys;
}

/// The active coordinates (M_ii > 0) and D M D, D lambda on them, D = diag(M)^{-1/2}.
inline SystemLD equilibrated_active_system(const SystemLD& sys) {
  std::vector<Index> active;
  for (Index i = 0; i < sys.M.rows(); ++i)
    if (sys.M(i, i) > 0) active.push_back(i);
  const Index k = Index(active.size());
  SystemLD out;
  out.M.resize(k, k);
  out.lambda.resize(k);
  for (Index a = 0; a < k; ++a) {
    const Index i = active[std::size_t(a)];
    out.lambda(a) = sys.lambda(i) / std::sqrt(sys.M(i, i));
    for (Index b = 0; b < k; ++b) {
      const Index j = active[std::size_t(b)];
      out.M(a, b) = sys.M(i, j) / std::sqrt(sys.M(i, i) * sys.M(j, j));
    }
  }
  return out;
}

/// cond_2(D M D) on the coordinates with M_ii > 0 (D = diag(M)^{-1/2}) from M
/// alone: the ratio of its extreme eigenvalues (SelfAdjointEigenSolver in long
/// double). 1 when no coordinate is active. +inf when the smallest eigenvalue is
/// <= k eps_ld times the largest (k active coordinates): exactly singular systems
/// land there, and so do conditions beyond about 1 / (k eps_ld) ~ 1e18 / k,
/// which the entries of M in long double do not resolve. The layer overload
/// below resolves up to ~1e31.
inline long double equilibrated_condition(const SystemLD& sys) {
  const SystemLD eq = equilibrated_active_system(sys);
  const Index k = eq.M.rows();
  if (k == 0) return 1;
  const Eigen::SelfAdjointEigenSolver<Matrix<long double>> es(eq.M, Eigen::EigenvaluesOnly);
  const long double lo = es.eigenvalues()(0), hi = es.eigenvalues()(k - 1);
  if (!(lo > (long double)(k)*std::numeric_limits<long double>::epsilon() * hi))
    return std::numeric_limits<long double>::infinity();
  return hi / lo;
}

/// cond_2(D M D) on the coordinates with M_ii > 0 for a layer, the same quantity
/// as above computed without squaring: M = K^T K for the Khatri-Rao product
/// K = S_A (.) S_B (column a: S_A[:, a] kron S_B[:, a], (a kron b)^T (c kron d) =
/// (a^T c)(b^T d)), and with S_A = Q_A R_A, S_B = Q_B R_B (Householder QR in
/// long double), K = (Q_A kron Q_B)(R_A (.) R_B) has the singular values of
/// R_A (.) R_B (at most (2r)^2 x 2r). Its columns normalised to 1 are the
/// equilibration; cond(D M D) = (sigma_max / sigma_min)^2 by JacobiSVD in long
/// double. +inf when sigma_min <= 16 (m + n + 2r) eps_ld sigma_max, the rounding
/// level of the QR and the SVD (measured: sigma_min <= 3e-19 sigma_max with
/// duplicated columns): stored data that is exactly singular (duplicated
/// columns, fewer rows than columns in a block); conditions up to about 1e31 are
/// resolved. Structure that is singular only before rounding (e.g. rank G = 1
/// with n < r, where the stored gradients carry their own rounding) shows as
/// about 1 / u^2 of the storage format: ~1e32 for double, ~1e14 for float.
/// 1 when no coordinate is active.
template <class S>
long double equilibrated_condition(const Layer<S>& l) {
  const Index r = l.A.cols(), n2 = 2 * r;
  auto triangle = [n2](const Matrix<S>& X, const Matrix<S>& Y) {
    Matrix<long double> F(X.rows(), n2);
    F.leftCols(X.cols()) = X.template cast<long double>();
    F.rightCols(Y.cols()) = Y.template cast<long double>();
    const Eigen::HouseholderQR<Matrix<long double>> qr(F);
    const Index rows = std::min(F.rows(), n2);
    return Matrix<long double>(qr.matrixQR().topRows(rows).template triangularView<Eigen::Upper>());
  };
  const Matrix<long double> RA = triangle(l.A, l.grad_A), RB = triangle(l.grad_B, l.B);
  std::vector<Index> active;
  for (Index a = 0; a < n2; ++a)
    if (RA.col(a).norm() > 0 && RB.col(a).norm() > 0) active.push_back(a);
  const Index k = Index(active.size());
  if (k == 0) return 1;
  Matrix<long double> K(RA.rows() * RB.rows(), k);
  for (Index c = 0; c < k; ++c) {
    const Index a = active[std::size_t(c)];
    const Vector<long double> u = RA.col(a).normalized(), w = RB.col(a).normalized();
    for (Index j = 0; j < w.size(); ++j) K.col(c).segment(j * u.size(), u.size()) = w(j) * u;
  }
  if (K.rows() < k) return std::numeric_limits<long double>::infinity();  // rank <= rows < k
  const Eigen::JacobiSVD<Matrix<long double>> svd(K);
  const long double hi = svd.singularValues()(0), lo = svd.singularValues()(k - 1);
  const long double noise = 16 * (long double)(l.A.rows() + l.B.rows() + n2) * std::numeric_limits<long double>::epsilon();
  if (!(lo > noise * hi))
    return std::numeric_limits<long double>::infinity();
  return (hi / lo) * (hi / lo);
}

/// The decision statistic of the column solve (ColumnSolveInfo::margin):
/// min_a w_a / max_b |w_b| for the equilibrated solution (D M D) w = D lambda on
/// the active coordinates, solved with FullPivLU in long double. >= 0: a
/// non-negative solution (Theorem 5 applies); < 0: none (for nonsingular M).
/// NaN when that system is singular to long-double precision or lambda = 0.
inline long double equilibrated_margin(const SystemLD& sys) {
  const long double nan = std::numeric_limits<long double>::quiet_NaN();
  const SystemLD eq = equilibrated_active_system(sys);
  if (eq.M.rows() == 0) return nan;
  const Eigen::FullPivLU<Matrix<long double>> lu(eq.M);
  if (!lu.isInvertible()) return nan;
  const Vector<long double> w = lu.solve(eq.lambda);
  const long double top = w.cwiseAbs().maxCoeff();
  if (!(top > 0) || !std::isfinite(top)) return nan;
  return w.minCoeff() / top;
}
template <class S>
long double equilibrated_margin(const Layer<S>& l) {
  return equilibrated_margin(long_double_system(l));
}

namespace detail {
/// What the margin search reached: the closest approach to 0 on the requested side.
struct MarginSearch {
  bool bracketed = false;  ///< some sign change was bisected
  double theta = 0;
  Matrix<double> G;
  long double margin = std::numeric_limits<long double>::infinity();
};

/// The margin search of build_hard_layer (see there). `direction(attempt)` gives
/// G_2 for attempt 0, 1, ...; l's gradients are overwritten.
template <class Direction>
MarginSearch search_margin(Layer<double>& l, const Matrix<double>& G1, Direction direction, double s,
                           const HardLayerCase& c) {
  constexpr int grid = 32, attempts = 16, max_brackets = 8;
  const double pi = 3.141592653589793;
  const bool above = c.margin == margin_side::above;
  auto wanted = [above](long double mu) { return above ? mu >= 0 : mu < 0; };
  MarginSearch best;
  int brackets = 0;
  for (int attempt = 0; attempt < attempts && brackets < max_brackets; ++attempt) {
    Matrix<double> G2 = direction(attempt);
    const double norm = G2.norm();
    if (!(norm > 0) || !std::isfinite(norm)) continue;
    G2 *= G1.norm() / norm;
    auto gradient_at = [&](double theta) -> Matrix<double> { return std::cos(theta) * G1 + std::sin(theta) * G2; };
    auto margin_at = [&](double theta) {
      set_gradients(l, gradient_at(theta), s, c);
      return equilibrated_margin(l);
    };
    std::vector<long double> mu(grid + 1);
    for (int i = 0; i < grid; ++i) mu[std::size_t(i)] = margin_at(pi * i / grid);
    mu[grid] = mu[0];  // theta = pi gives -G_1: the same system as theta = 0
    for (int i = 0; i < grid && brackets < max_brackets; ++i) {
      double a = pi * i / grid, b = pi * (i + 1) / grid;  // wanted(fa) != wanted(fb)
      long double fa = mu[std::size_t(i)], fb = mu[std::size_t(i) + 1];
      if (std::isnan(fa) || std::isnan(fb) || wanted(fa) == wanted(fb)) continue;
      ++brackets;
      for (int it = 0; it < 80; ++it) {
        const double mid = 0.5 * (a + b);
        if (mid <= a || mid >= b) break;
        const long double fm = margin_at(mid);
        if (std::isnan(fm)) break;
        if (wanted(fm) == wanted(fa)) a = mid, fa = fm;
        else b = mid, fb = fm;
      }
      const long double f = wanted(fa) ? fa : fb;
      if (std::abs(f) < std::abs(best.margin)) {
        best.bracketed = true;
        best.theta = wanted(fa) ? a : b;
        best.G = gradient_at(best.theta);
        best.margin = f;
        if (std::abs(f) <= hard_margin_tolerance) return best;
      }
    }
  }
  return best;
}
}  // namespace detail

/// Builds the layer a case describes; the same case gives the same bits.
/// Order: Gaussian A (m x r), B (n x r); row scales; column scales; near-collinear
/// column; zero initialisation; rounding to storage; duplicated column; then
/// G = X Y^T (X: m x k, Y: n x k Gaussian, scaled by 2^log2_g_scale / sqrt(k)),
/// grad_A = lora_scale G B, grad_B = lora_scale G^T A from the stored factors in double, rounded
/// (gradient_rounding); margin search (below); moments from the gradients
/// (exp_avg = 0.1 grad (1 + e/2), exp_avg_sq = 0.001 grad^2 (1 + |e|/2)); W_pt.
///
/// Margin search (margin != none): G(theta) = cos(theta) G_1 + sin(theta) G_2 with
/// G_1 = X Y^T as above and G_2, scaled to ||G_1||_F, aligned with the adapter so
/// that the decision can flip (for G_2 independent of A and B the solution
/// mostly stays well inside v >= 0), in turn: G_2 = X (B C)^T, (A C) Y^T,
/// X Z^T, Z Y^T (C: r x k, Z: Gaussian), so rank G(theta) <= k. The statistic
/// of the stored layer is sampled at 32 angles of [0, pi) (theta + pi gives -G,
/// the same system); each sign change is bisected to adjacent doubles and
/// accepted when the endpoint on the requested side is within
/// hard_margin_tolerance of 0; the search stops there, after 16 directions or
/// after 8 bisected sign changes, and keeps the closest approach to 0 on the
/// requested side (theta = 0 when no sign change was found). margin_found says
/// whether the tolerance was met. Rounding the gradients to float or bfloat16
/// quantises the statistic (steps of about the format's epsilon times the
/// condition): the closest approach is then typically 1e-9 .. 1e-7 (float) or
/// 1e-5 .. 1e-3 (bfloat16); `margin` holds the value reached.
inline HardLayer build_hard_layer(const HardLayerCase& c) {
  const Index m = std::max(c.m, 1), n = std::max(c.n, 1), r = std::max(c.r, 1);
  const int rr = int(r);
  auto seed = [&](std::uint64_t tag) { return detail::mix_seed(c.seed, tag); };
  HardLayer out;
  out.bound.L = std::ldexp(1.0, c.log2_L);
  out.bound.lr = std::ldexp(1.0, c.log2_lr);
  out.bound.lora_scale = std::ldexp(1.0, c.log2_lora_scale);
  const double s = out.bound.lora_scale;
  Layer<double>& l = out.layer;

  l.A = gaussian_matrix(m, r, seed(1));
  l.B = gaussian_matrix(n, r, seed(2));
  out.row_scale_A = detail::spread_scales(m, std::max(c.row_decades, 0), seed(3));
  out.row_scale_B = detail::spread_scales(n, std::max(c.row_decades, 0), seed(4));
  out.col_scale_A = detail::spread_scales(r, std::max(c.column_decades, 0), seed(5));
  out.col_scale_B = detail::spread_scales(r, std::max(c.column_decades, 0), seed(6));
  l.A = out.row_scale_A.asDiagonal() * l.A * out.col_scale_A.asDiagonal();
  l.B = out.row_scale_B.asDiagonal() * l.B * out.col_scale_B.asDiagonal();

  if (c.collinear != factor_choice::none && r >= 2) {
    out.collinear_column = detail::clamp_column(c.collinear_column, rr);
    out.delta = std::pow(10.0, -double(c.collinear_exponent));
    if (detail::touches_A(c.collinear)) detail::make_collinear(l.A, out.collinear_column, out.delta, seed(7));
    if (detail::touches_B(c.collinear)) detail::make_collinear(l.B, out.collinear_column, out.delta, seed(8));
  }
  if (c.zero_init == zero_factor::A) l.A.setZero();
  if (c.zero_init == zero_factor::B) l.B.setZero();
  auto store = [&](double x) { return detail::round_storage(c.storage, x); };
  l.A = detail::rounded(l.A, store);
  l.B = detail::rounded(l.B, store);
  if (c.duplicate != factor_choice::none && r >= 2) {
    out.duplicate_column = detail::clamp_column(c.duplicate_column, rr);
    if (detail::touches_A(c.duplicate)) l.A.col(out.duplicate_column) = l.A.col(0);
    if (detail::touches_B(c.duplicate)) l.B.col(out.duplicate_column) = l.B.col(0);
  }

  const Index full = std::min(m, n);
  const Index k = c.g_rank <= 0 ? full : std::min({Index(c.g_rank), 2 * r - 1, full});
  out.g_rank = int(k);
  const Matrix<double> X = gaussian_matrix(m, k, seed(9)) * (std::ldexp(1.0, c.log2_g_scale) / std::sqrt(double(k)));
  const Matrix<double> Y1 = gaussian_matrix(n, k, seed(10));
  out.G = detail::product(X, false, Y1.transpose(), 1.0);
  if (c.margin != margin_side::none) {
    // The directions G_2 tried, in turn (rank G(theta) <= k for each).
    auto direction = [&](int attempt) {
      const Matrix<double> C = gaussian_matrix(r, k, seed(40 + std::uint64_t(attempt)));
      const Matrix<double> Z = gaussian_matrix(attempt % 4 == 2 ? n : m, k, seed(60 + std::uint64_t(attempt)));
      switch (attempt % 4) {
        case 0: return detail::product(X, false, (l.B * C).transpose(), 1.0);
        case 1: return detail::product(l.A * C, false, Y1.transpose(), 1.0);
        case 2: return detail::product(X, false, Z.transpose(), 1.0);
        default: return detail::product(Z, false, Y1.transpose(), 1.0);
      }
    };
    const detail::MarginSearch found = detail::search_margin(l, out.G, direction, s, c);
    if (found.bracketed) {
      out.margin_bracketed = true;
      out.theta = found.theta;
      out.G = found.G;
      out.margin_found = std::abs(found.margin) <= hard_margin_tolerance;
    }
  }
  detail::set_gradients(l, out.G, s, c);
  out.margin = equilibrated_margin(l);

  if (c.moments) {
    auto first = [&](const Matrix<double>& g, std::uint64_t tag) {
      const Matrix<double> e = gaussian_matrix(g.rows(), g.cols(), seed(tag));
      return detail::rounded(Matrix<double>(0.1 * g.cwiseProduct((1.0 + 0.5 * e.array()).matrix())), store);
    };
    auto second = [&](const Matrix<double>& g, std::uint64_t tag) {
      const Matrix<double> e = gaussian_matrix(g.rows(), g.cols(), seed(tag));
      return detail::rounded(Matrix<double>(0.001 * g.array().square() * (1.0 + 0.5 * e.array().abs())), store);
    };
    l.moments.exp_avg_A = first(l.grad_A, 20);
    l.moments.exp_avg_sq_A = second(l.grad_A, 21);
    l.moments.exp_avg_B = first(l.grad_B, 22);
    l.moments.exp_avg_sq_B = second(l.grad_B, 23);
  }
  if (c.w_pt) l.W_pt = detail::rounded(gaussian_matrix(m, n, seed(24)), store);
  return out;
}

}  // namespace scalora::test
