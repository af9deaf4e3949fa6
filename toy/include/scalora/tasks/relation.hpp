// SPDX-License-Identifier: Apache-2.0
// Rank-dial relations over K nonce items (docs/data.md section 5): Gaussian
// factors of width m, the sign relation sign(U V^T), the cosine kernel of
// Z Z^T (rank exactly m), synonym classes (rank = number of classes), the
// "distance from pre-training" shift Z1 = Z0 + Delta, and the pair hold-out.
//
// Factor entries are on the grid 2^-16 with |entry| <= 6, so every dot
// product of width m <= 1024 is computed exactly in double (at most 47
// significant bits) in any order, with or without FMA: relation values are
// identical on every platform.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "scalora/error.hpp"
#include "scalora/tasks/random.hpp"

namespace scalora::tasks {

inline constexpr int kMaxRankDial = 1024;

/// A rows x cols row-major matrix of factor entries.
struct Factors {
  int rows = 0;
  int cols = 0;
  std::vector<double> values;

  double operator()(int i, int k) const { return values[std::size_t(i) * std::size_t(cols) + std::size_t(k)]; }
  const double* row(int i) const { return values.data() + std::size_t(i) * std::size_t(cols); }
};

/// Exact dot product of row i of a and row j of b (same width).
inline double row_dot(const Factors& a, int i, const Factors& b, int j) {
  const double* x = a.row(i);
  const double* y = b.row(j);
  double s = 0;
  for (int k = 0; k < a.cols; ++k) s += x[k] * y[k];
  return s;
}

/// Approximately Gaussian factors; row i is keyed by (seed, domain, i), so
/// the first m' columns for width m > m' equal the factors for width m'
/// (nested dials).
inline Factors gaussian_factors(std::uint64_t seed, std::uint64_t domain, int rows, int cols) {
  Factors f{rows, cols, std::vector<double>(std::size_t(rows) * std::size_t(cols))};
  for (int i = 0; i < rows; ++i) {
    Stream rng(stream_key(seed, domain, std::uint64_t(i)));
    for (int k = 0; k < cols; ++k) f.values[std::size_t(i) * std::size_t(cols) + std::size_t(k)] = rng.normal();
  }
  return f;
}

/// Z1 = Z0 + 2^-s P Q^T with P (rows x r), Q (cols x r) Gaussian and
/// 2^s >= sqrt(r), re-quantised to 2^-16 (exact before rounding) and clamped
/// to [-16, 16], which keeps later dot products exact for m <= 1024.
/// rank(Z1 - Z0) <= r. r = 0 returns Z0.
inline Factors shifted_factors(const Factors& base, std::uint64_t seed, std::uint64_t domain, int r) {
  if (r <= 0) return base;
  const Factors P = gaussian_factors(seed, hash_combine(domain, 0x50), base.rows, r);
  const Factors Q = gaussian_factors(seed, hash_combine(domain, 0x51), base.cols, r);
  int s = 0;
  while ((1 << (2 * s)) < r) ++s;  // 4^s >= r, i.e. 2^s >= sqrt(r)
  const double scale = std::ldexp(1.0, -s);
  Factors out = base;
  for (int i = 0; i < base.rows; ++i)
    for (int k = 0; k < base.cols; ++k) {
      const double shifted = base(i, k) + scale * row_dot(P, i, Q, k);
      out.values[std::size_t(i) * std::size_t(base.cols) + std::size_t(k)] =
          std::clamp(std::round(shifted * 65536.0) / 65536.0, -16.0, 16.0);
    }
  return out;
}

/// Domains of the factor streams (distinct per role).
inline constexpr std::uint64_t kLeftFactors = 0x4c;   // 'L'
inline constexpr std::uint64_t kRightFactors = 0x52;  // 'R'
inline constexpr std::uint64_t kShift = 0x44;         // 'D'

/// Which geometry a relation uses.
enum class Geometry {
  base,     ///< Z0: the factors keyed by (seed, task); used by pre-training facts
  shifted,  ///< Z1 = Z0 + Delta with rank(Delta) = shift_rank; used by fine-tuning
};

/// R_ij = [u_i . v_j > 0] over K_left x K_right items, U, V of width m.
/// Sign-rank <= m; about half the entries are 1 (no bias term).
class SignRelation {
 public:
  SignRelation() = default;
  /// shift_rank < 0: no shift (U = U0); otherwise U = U0 + Delta (V unchanged),
  /// so U V^T - U0 V^T has rank <= shift_rank.
  SignRelation(std::uint64_t seed, std::uint64_t task, int left_items, int right_items, int m, int shift_rank,
               Geometry geometry = Geometry::shifted)
      : U_(gaussian_factors(seed, hash_combine(task, kLeftFactors), left_items, m)),
        V_(gaussian_factors(seed, hash_combine(task, kRightFactors), right_items, m)) {
    if (shift_rank >= 0 && geometry == Geometry::shifted)
      U_ = shifted_factors(U_, seed, hash_combine(task, kShift), shift_rank);
  }
  double score(int i, int j) const { return row_dot(U_, i, V_, j); }
  int operator()(int i, int j) const { return score(i, j) > 0 ? 1 : 0; }
  int left_items() const { return U_.rows; }
  int right_items() const { return V_.rows; }
  int width() const { return U_.cols; }
  const Factors& left() const { return U_; }
  const Factors& right() const { return V_; }

 private:
  Factors U_, V_;
};

/// Symmetric similarity cos(z_i, z_j), Z of width m: the K x K kernel is
/// D^-1/2 Z Z^T D^-1/2 with D = diag(|z_i|^2), rank exactly m for K >= m
/// (Gaussian rows are in general position).
class CosineKernel {
 public:
  CosineKernel() = default;
  /// shift_rank >= 0: Z = Z0 + Delta; the kernel then moves by rank <= 2 shift_rank
  /// before normalisation.
  CosineKernel(std::uint64_t seed, std::uint64_t task, int items, int m, int shift_rank,
               Geometry geometry = Geometry::shifted)
      : Z_(gaussian_factors(seed, hash_combine(task, kLeftFactors), items, m)) {
    if (shift_rank >= 0 && geometry == Geometry::shifted)
      Z_ = shifted_factors(Z_, seed, hash_combine(task, kShift), shift_rank);
    norms_.resize(std::size_t(items));
    for (int i = 0; i < items; ++i) norms_[std::size_t(i)] = std::sqrt(row_dot(Z_, i, Z_, i));
  }
  double operator()(int i, int j) const {
    const double d = norms_[std::size_t(i)] * norms_[std::size_t(j)];
    return d > 0 ? row_dot(Z_, i, Z_, j) / d : 0.0;
  }
  int items() const { return Z_.rows; }
  int width() const { return Z_.cols; }
  const Factors& factors() const { return Z_; }

 private:
  Factors Z_;
  std::vector<double> norms_;
};

/// m equivalence classes over K items, sizes floor(K/m) or ceil(K/m):
/// R = Z Z^T with one-hot Z of width m, rank exactly m.
class SynonymClasses {
 public:
  SynonymClasses() = default;
  SynonymClasses(std::uint64_t seed, std::uint64_t task, int items, int classes) : classes_(classes) {
    std::vector<int> order(static_cast<std::size_t>(items));
    for (int i = 0; i < items; ++i) order[std::size_t(i)] = i;
    Stream rng(stream_key(seed, hash_combine(task, 0x43)));  // 'C'
    rng.shuffle(order);
    class_of_.resize(std::size_t(items));
    members_.assign(std::size_t(classes), {});
    for (int r = 0; r < items; ++r) {
      const int c = r % classes;
      class_of_[std::size_t(order[std::size_t(r)])] = c;
    }
    for (int i = 0; i < items; ++i) members_[std::size_t(class_of_[std::size_t(i)])].push_back(i);
  }
  int operator()(int i, int j) const { return class_of_[std::size_t(i)] == class_of_[std::size_t(j)] ? 1 : 0; }
  int class_of(int i) const { return class_of_[std::size_t(i)]; }
  const std::vector<int>& members(int c) const { return members_[std::size_t(c)]; }
  int items() const { return int(class_of_.size()); }
  int classes() const { return classes_; }

 private:
  int classes_ = 0;
  std::vector<int> class_of_;
  std::vector<std::vector<int>> members_;
};

/// The pairs (i, j) reserved for dev/test (matrix completion): a fixed
/// fraction, decided per pair by a hash, unordered when symmetric.
class PairHoldout {
 public:
  PairHoldout() = default;
  PairHoldout(std::uint64_t seed, std::uint64_t task, double fraction, bool symmetric)
      : seed_(seed), task_(task), fraction_(fraction), symmetric_(symmetric) {}
  bool held_out(int i, int j) const {
    if (fraction_ <= 0) return false;
    if (symmetric_ && j < i) std::swap(i, j);
    Stream rng(stream_key(seed_, hash_combine(task_, 0x48), std::uint64_t(i), std::uint64_t(j)));  // 'H'
    return rng.uniform() < fraction_;
  }
  double fraction() const { return fraction_; }

 private:
  std::uint64_t seed_ = 0, task_ = 0;
  double fraction_ = 0;
  bool symmetric_ = false;
};

}  // namespace scalora::tasks
