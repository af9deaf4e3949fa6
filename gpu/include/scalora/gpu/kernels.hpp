// SPDX-License-Identifier: Apache-2.0
// The work items of a batched ScaLoRA step (spec section 7), as functors over
// a flat index space: nvcc runs them as CUDA threads, g++ as Thrust CPP/OMP
// tasks. Each functor finds its layer by binary search over per-layer offsets.
//
//   gram_tile / gram_entry   partial S^T S over a tile of 256 rows (step 2)
//   combine_entry            P, Q = sums of the partials, in tile order
//   solve_layer              M, lambda, Theorems 5 and 3, the decision (steps 3-4)
//   prepare_merge            c_k = lora_scale (1 - alpha_k beta_k) times B (or A), r x len
//   merge_chunk              W_pt += A diag(c) B^T, one read and write of W (step 5)
//   rescale_row              factors, gradients, moments (steps 6-8)
#pragma once

#include <cmath>
#include <cstdint>

#include "scalora/core/bfloat16.hpp"
#include "scalora/core/bound_decrease.hpp"
#include "scalora/core/column_solve.hpp"
#include "scalora/core/hybrid_rule.hpp"
#include "scalora/core/limits.hpp"
#include "scalora/core/moments.hpp"
#include "scalora/core/representable.hpp"
#include "scalora/core/scalar_scaling.hpp"
#include "scalora/gpu/layer.hpp"

namespace scalora::gpu {

inline constexpr int kTileRows = 256;  ///< rows of S_A / S_B per Gram work item
inline constexpr int kMaxRank = kMaxKernelRank;  ///< largest r a batch accepts (core/limits.hpp)

/// Where one layer's work items and workspace slices start (prefix sums over
/// the batch; computed on the host by plan_batch()).
struct LayerPlan {
  int m = 0, n = 0, r = 0, n2 = 0, nent = 0;  ///< nent = n2 (n2 + 1) / 2 packed Gram entries
  int nstat = 0;  ///< statistics per tile: nent Gram entries, then 4r column maxima
  std::int64_t tiles_a = 0, tiles_b = 0;      ///< tiles of S_A (m rows) and S_B (n rows)
  std::int64_t tile_begin = 0;     ///< gram_tile items
  std::int64_t entry_begin = 0;    ///< gram_entry items (nstat per tile); also the partials offset (doubles)
  std::int64_t combine_begin = 0;  ///< combine_entry items (2 nstat); also the P, Q offset (doubles)
  std::int64_t row_begin = 0;      ///< rescale_row items (m + n per layer)
  std::int64_t prepare_begin = 0;  ///< prepare_merge items (len per layer with a W_pt)
  std::int64_t merge_offset = 0;   ///< floats: the r x len merge factor
  std::int64_t system_offset = 0;  ///< doubles: M (n2^2), lambda, v, solver work
  std::int64_t iwork_offset = 0;   ///< ints: solver integer work
  std::int64_t scale_offset = 0;   ///< doubles: alpha (r), beta (r), merge balance tau (r)
  bool merge_along_rows = true;    ///< W's fast dimension is j (row-major W): merge buffer holds c o B^T
  std::int64_t len = 0;            ///< n if merge_along_rows else m
};

namespace detail {

SCALORA_HD inline int packed(int a, int b) { return a * (a + 1) / 2 + b; }  // a >= b

/// Largest l with key(plans[l]) <= idx (plans sorted by key).
template <class Key>
SCALORA_HD int find_layer(const LayerPlan* plans, int layers, std::int64_t idx, Key key) {
  int lo = 0, hi = layers - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (key(plans[mid]) <= idx) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

struct TileKey { SCALORA_HD std::int64_t operator()(const LayerPlan& p) const { return p.tile_begin; } };
struct EntryKey { SCALORA_HD std::int64_t operator()(const LayerPlan& p) const { return p.entry_begin; } };
struct CombineKey { SCALORA_HD std::int64_t operator()(const LayerPlan& p) const { return p.combine_begin; } };
struct RowKey { SCALORA_HD std::int64_t operator()(const LayerPlan& p) const { return p.row_begin; } };
struct PrepareKey { SCALORA_HD std::int64_t operator()(const LayerPlan& p) const { return p.prepare_begin; } };

/// Entry c of row `row` of S_A = [A, grad_A] (part_a) or S_B = [grad_B, B].
template <class T>
SCALORA_HD double gram_value(const Layer<T>& ly, bool part_a, std::int64_t row, int c) {
  const int r = ly.r;
  if (part_a) return double(c < r ? ly.A(row, c) : ly.grad_A(row, c - r));
  return double(c < r ? ly.grad_B(row, c) : ly.B(row, c - r));
}

SCALORA_HD inline bool finite(double x) { return x == x && x - x == 0.0; }

/// Column c < 4r of the maxima's matrix [A, grad_A, exp_avg_A, exp_avg_sq_A]
/// (part_a) or [grad_B, B, exp_avg_B, exp_avg_sq_B]: |entry| of row `row`
/// (0 for absent moments). The first 2r columns are those of S_A / S_B.
template <class T>
SCALORA_HD double max_column_value(const Layer<T>& ly, bool part_a, std::int64_t row, int c) {
  const int r = ly.r;
  double x;
  if (c < 2 * r) {
    x = gram_value(ly, part_a, row, c);
  } else {
    const MatrixRef<T>& mom = c < 3 * r ? (part_a ? ly.exp_avg_A : ly.exp_avg_B)
                                        : (part_a ? ly.exp_avg_sq_A : ly.exp_avg_sq_B);
    x = mom.present() ? double(mom(row, c % r)) : 0.0;
  }
  return x < 0 ? -x : x;
}

/// max(a, b), NaN-propagating (a NaN entry must not be hidden by the maximum).
SCALORA_HD inline double max_nan(double a, double b) { return (a != a || b != b) ? a + b : (a > b ? a : b); }

}  // namespace detail

/// Shared pointers of a batch in device memory.
template <class T>
struct BatchView {
  const Layer<T>* layers = nullptr;
  const LayerPlan* plans = nullptr;
  int count = 0;
  double* partials = nullptr;
  double* pq = nullptr;
  double* system = nullptr;
  int* iwork = nullptr;
  double* scales = nullptr;
  float* merge_buffer = nullptr;
  LayerOutcome* outcomes = nullptr;
};

/// Step 2, per tile: partials[tile] = packed lower triangle of sum_{rows} s s^T,
/// then the 4r column maxima of the tile (max_column_value).
template <class T>
struct gram_tile {
  BatchView<T> b;
  SCALORA_HD void operator()(std::int64_t item) const {
    using std::fabs;
    const int l = detail::find_layer(b.plans, b.count, item, detail::TileKey{});
    const LayerPlan& p = b.plans[l];
    const Layer<T>& ly = b.layers[l];
    const std::int64_t local = item - p.tile_begin;
    const bool part_a = local < p.tiles_a;
    const std::int64_t tile = part_a ? local : local - p.tiles_a;
    const std::int64_t rows = part_a ? p.m : p.n;
    const std::int64_t r0 = tile * kTileRows, r1 = r0 + kTileRows < rows ? r0 + kTileRows : rows;
    double* acc = b.partials + p.entry_begin + local * p.nstat;
    for (int e = 0; e < p.nent; ++e) acc[e] = 0.0;
    // Row `row` of S_A = [A, grad_A] is [X(row, :), Y(row, :)]; of S_B = [grad_B, B] likewise.
    const MatrixRef<T>& X = part_a ? ly.A : ly.grad_B;
    const MatrixRef<T>& Y = part_a ? ly.grad_A : ly.B;
    const MatrixRef<T>& first_moment = part_a ? ly.exp_avg_A : ly.exp_avg_B;
    const MatrixRef<T>& second_moment = part_a ? ly.exp_avg_sq_A : ly.exp_avg_sq_B;
    const bool moments = first_moment.present();
    const int r = p.r, n2 = p.n2;
    double s[2 * kMaxRank];
    for (std::int64_t row = r0; row < r1; ++row) {
      for (int k = 0; k < r; ++k) {
        s[k] = double(X(row, k));
        s[r + k] = double(Y(row, k));
      }
      for (int a = 0; a < n2; ++a) {
        double* acc_row = acc + detail::packed(a, 0);
        const double sa = s[a];
        for (int c = 0; c <= a; ++c) acc_row[c] += sa * s[c];
      }
    }
    // Column maxima, as max_column_value (gram_entry) computes them, column by
    // column over the tile (now in cache). A NaN in S_A / S_B reaches the Gram
    // entries; one among the moments is carried by `probe` (x * 0 is 0 for
    // finite x, NaN otherwise), since max() skips NaN.
    double* col_max = acc + p.nent;
    for (int k = 0; k < r; ++k) {
      double mx = 0.0, my = 0.0, mm = 0.0, mv = 0.0, probe = 0.0;
      for (std::int64_t row = r0; row < r1; ++row) {
        const double x = fabs(double(X(row, k))), y = fabs(double(Y(row, k)));
        mx = x > mx ? x : mx;
        my = y > my ? y : my;
      }
      if (moments)
        for (std::int64_t row = r0; row < r1; ++row) {
          const double f = double(first_moment(row, k)), v = double(second_moment(row, k));
          probe += f * 0.0 + v * 0.0;
          mm = fabs(f) > mm ? fabs(f) : mm;
          mv = fabs(v) > mv ? fabs(v) : mv;
        }
      col_max[k] = mx;
      col_max[r + k] = my;
      col_max[n2 + k] = mm + probe;
      col_max[n2 + r + k] = mv + probe;
    }
  }
};

/// Step 2, per (tile, entry): the same partial sums and maxima, one entry per
/// work item, accumulated in the same row order (results identical to gram_tile).
template <class T>
struct gram_entry {
  BatchView<T> b;
  SCALORA_HD void operator()(std::int64_t item) const {
    const int l = detail::find_layer(b.plans, b.count, item, detail::EntryKey{});
    const LayerPlan& p = b.plans[l];
    const Layer<T>& ly = b.layers[l];
    const std::int64_t local = item - p.entry_begin;
    const std::int64_t tile_local = local / p.nstat;
    const int e = int(local - tile_local * p.nstat);
    const bool part_a = tile_local < p.tiles_a;
    const std::int64_t tile = part_a ? tile_local : tile_local - p.tiles_a;
    const std::int64_t rows = part_a ? p.m : p.n;
    const std::int64_t r0 = tile * kTileRows, r1 = r0 + kTileRows < rows ? r0 + kTileRows : rows;
    if (e >= p.nent) {  // a column maximum
      double mx = 0.0;
      for (std::int64_t row = r0; row < r1; ++row)
        mx = detail::max_nan(mx, detail::max_column_value(ly, part_a, row, e - p.nent));
      b.partials[p.entry_begin + local] = mx;
      return;
    }
    int a = 0;
    while (detail::packed(a + 1, 0) <= e) ++a;
    const int c = e - detail::packed(a, 0);
    double acc = 0.0;
    for (std::int64_t row = r0; row < r1; ++row)
      acc += detail::gram_value(ly, part_a, row, a) * detail::gram_value(ly, part_a, row, c);
    b.partials[p.entry_begin + local] = acc;
  }
};

/// P (part A) and Q (part B), packed: sums of the tiles' partials in tile order,
/// each followed by its 4r column maxima (maxima of the tiles' maxima).
template <class T>
struct combine_entry {
  BatchView<T> b;
  SCALORA_HD void operator()(std::int64_t item) const {
    const int l = detail::find_layer(b.plans, b.count, item, detail::CombineKey{});
    const LayerPlan& p = b.plans[l];
    const std::int64_t local = item - p.combine_begin;
    const bool part_a = local < p.nstat;
    const int e = int(part_a ? local : local - p.nstat);
    const std::int64_t first = part_a ? 0 : p.tiles_a, tiles = part_a ? p.tiles_a : p.tiles_b;
    const double* partial = b.partials + p.entry_begin + first * p.nstat + e;
    double x = 0.0;
    if (e < p.nent) {
      for (std::int64_t t = 0; t < tiles; ++t) x += partial[t * p.nstat];
    } else {
      for (std::int64_t t = 0; t < tiles; ++t) x = detail::max_nan(x, partial[t * p.nstat]);
    }
    b.pq[p.combine_begin + local] = x;
  }
};

/// Decrease of the loss bound for squared scalings u (core/bound_decrease.hpp).
SCALORA_HD inline double bound_decrease(int n2, const double* M, const double* lambda, const double* u,
                                        double kappa, double lr) {
  return lr * decrease_per_lr(n2, M, lambda, u, kappa);
}

/// Steps 3-4 for one layer: M = P o Q, lambda, Theorem 5 (canonical least-change
/// solution, decisions D4-D5), Theorem 3 (D6), the hybrid rule; alpha, beta and
/// the outcome. One work item per layer.
template <class T>
struct solve_layer {
  BatchView<T> b;
  StepConfig cfg;
  SCALORA_HD void operator()(std::int64_t l) const {
    using std::abs;
    using std::sqrt;
    const LayerPlan& p = b.plans[l];
    const Layer<T>& ly = b.layers[l];
    const int r = p.r, n2 = p.n2;
    const double* P = b.pq + p.combine_begin;
    const double* Q = P + p.nstat;
    double* M = b.system + p.system_offset;
    double* lambda = M + n2 * n2;
    double* v = lambda + n2;
    double* u = v + n2;
    double* work = u + n2;
    int* iwork = b.iwork + p.iwork_offset;
    double* alpha = b.scales + p.scale_offset;
    double* beta = alpha + r;
    LayerOutcome out;

    bool ok = true;
    double sp = 0, sq = 0, ss = 0, sx = 0, sy = 0;
    for (int a = 0; a < n2; ++a) {
      for (int c = 0; c < n2; ++c) {
        const int k = a >= c ? detail::packed(a, c) : detail::packed(c, a);
        const double x = P[k] * Q[k];
        M[a + c * n2] = x;
        if (a < r && c < r) sp += x;
        else if (a < r && c >= r) sq += x;
        else if (a >= r && c >= r) ss += x;
      }
      lambda[a] = a < r ? Q[detail::packed(a, a)] : P[detail::packed(a, a)];
      (a < r ? sx : sy) += lambda[a];
      ok = ok && detail::finite(M[a + a * n2]) && detail::finite(lambda[a]);
    }
    // Column maxima (gram_tile): [A, grad_A, exp_avg_A, exp_avg_sq_A] after P,
    // [grad_B, B, exp_avg_B, exp_avg_sq_B] after Q; a NaN/Inf moment counts too.
    const double* max_a = P + p.nent;
    const double* max_b = Q + p.nent;
    for (int c = 0; c < 4 * r; ++c) ok = ok && detail::finite(max_a[c]) && detail::finite(max_b[c]);
    for (int k = 0; k < r; ++k) alpha[k] = beta[k] = beta[r + k] = 1.0;
    if (!ok) {
      out.nonfinite = true;
      b.outcomes[l] = out;
      return;
    }
    const double kappa = cfg.bound.with_lora_scale(ly.lora_scale).kappa();
    const ScalarSquares<double> sc =
        solve_scalar_system(sp, sq, ss, sx, sy, kappa, 16.0 * scalar_traits<double>::epsilon());
    out.scalar_kind = sc.kind;
    for (int k = 0; k < r; ++k) {
      u[k] = sc.a;
      u[r + k] = sc.b;
    }
    out.scalar_bound_decrease = bound_decrease(n2, M, lambda, u, kappa, cfg.bound.lr);
    bool column = false;
    if (cfg.mode == scaling_mode::hybrid) {
      const ColumnSolveInfo<double> info =
          solve_column_system(n2, M, n2, lambda, kappa, v, work, iwork, ColumnTolerances<double>::defaults(n2, p.m, p.n));
      out.method = info.method;
      out.rank = info.rank;
      out.margin = info.margin;
      out.singular_system = info.rank < n2;
      if (info.feasible()) {
        for (int a = 0; a < n2; ++a) u[a] = v[a] / kappa;
        out.column_bound_decrease = bound_decrease(n2, M, lambda, u, kappa, cfg.bound.lr);
        // The guard (core/hybrid_rule.hpp): a column scaling whose decrease is
        // below the scalar scaling's beyond rounding has not solved M v = lambda.
        double rounding = decrease_per_lr_rounding(n2, M, lambda, u, kappa);
        for (int k = 0; k < r; ++k) {
          v[k] = sc.a;  // v is free again: the scalar squares, for the rounding bound
          v[r + k] = sc.b;
        }
        rounding += decrease_per_lr_rounding(n2, M, lambda, v, kappa);
        out.column_rejected = !column_decrease_admissible(out.column_bound_decrease, out.scalar_bound_decrease,
                                                          cfg.bound.lr * rounding);
        column = !out.column_rejected;
        out.clamped = column && info.clamped;
      }
      if (!column) {
        out.scalar_fallback = true;
        for (int k = 0; k < r; ++k) {
          u[k] = sc.a;
          u[r + k] = sc.b;
        }
      }
    }
    out.applied = column ? branch::column : branch::scalar;
    out.zero_gradient = !(sx > 0.0) && !(sy > 0.0);
    for (int k = 0; k < r; ++k) {
      alpha[k] = sqrt(u[k]);
      beta[k] = sqrt(u[r + k]);
    }
    for (int a = 0; a < n2; ++a) v[a] = 1.0;  // vanilla LoRA: u = 1
    out.vanilla_bound_decrease = bound_decrease(n2, M, lambda, v, kappa, cfg.bound.lr);
    out.bound_decrease = bound_decrease(n2, M, lambda, u, kappa, cfg.bound.lr);
    ColumnMaxima<double> mx;
    mx.A = max_a;
    mx.grad_A = max_a + r;
    mx.grad_B = max_b;
    mx.B = max_b + r;
    if (ly.exp_avg_A.present()) {
      mx.exp_avg_A = max_a + 2 * r;
      mx.exp_avg_sq_A = max_a + 3 * r;
      mx.exp_avg_B = max_b + 2 * r;
      mx.exp_avg_sq_B = max_b + 3 * r;
    }
    if (!scalings_representable(r, alpha, beta, mx, ly.w_format != weight_format::none, ly.lora_scale,
                                double(scalar_traits<T>::max_finite()), double(scalar_traits<float>::max_finite()))) {
      const double vanilla = out.vanilla_bound_decrease;
      out = LayerOutcome{};  // not applied: alpha = beta = 1, nothing written
      out.not_representable = true;
      out.vanilla_bound_decrease = out.bound_decrease = vanilla;
      out.applied = branch::scalar;
      for (int k = 0; k < r; ++k) alpha[k] = beta[k] = beta[r + k] = 1.0;
      b.outcomes[l] = out;
      return;
    }
    // Merge balance: the merge forms (Y_k tau_k) (c_k X_k / tau_k) with X the
    // factor along W's fast dimension; tau_k = sqrt(|c_k| ||X_k|| / ||Y_k||)
    // gives both float operands the size sqrt(|c_k| ||X_k|| ||Y_k||), so neither
    // overflows when alpha, beta are extreme (norms: diagonals of P and Q).
    double* tau = beta + r;
    for (int k = 0; k < r; ++k) {
      const double c = ly.lora_scale * (1.0 - alpha[k] * beta[k]);
      const double na = sqrt(P[detail::packed(k, k)]), nb = sqrt(Q[detail::packed(r + k, r + k)]);
      const double nx = p.merge_along_rows ? nb : na, ny = p.merge_along_rows ? na : nb;
      const double t = sqrt(abs(c)) * sqrt(nx) / sqrt(ny);  // no underflow of |c| nx / ny
      // tau = 0 marks a column with nothing to merge (c_k = 0, X_k = 0 or
      // Y_k = 0): prepare_merge and merge_chunk then contribute exact zeros
      // (Y_k tau_k is never formed with a huge Y_k that float cannot hold).
      tau[k] = (c != 0.0 && nx > 0.0 && ny > 0.0) ? (detail::finite(t) ? t : 1.0) : 0.0;
    }
    b.outcomes[l] = out;
  }
};

/// The merge factor, r x len in float: c_k X(t, k) / tau_k with c_k =
/// s (1 - alpha_k beta_k) formed in double (decision D7), X = B (merge along
/// rows) or A, and tau_k the balance of solve_layer.
template <class T>
struct prepare_merge {
  BatchView<T> b;
  SCALORA_HD void operator()(std::int64_t item) const {
    const int l = detail::find_layer(b.plans, b.count, item, detail::PrepareKey{});
    const LayerPlan& p = b.plans[l];
    const Layer<T>& ly = b.layers[l];
    const std::int64_t t = item - p.prepare_begin;
    const double* alpha = b.scales + p.scale_offset;
    const double* beta = alpha + p.r;
    const double* tau = beta + p.r;
    float* out = b.merge_buffer + p.merge_offset;
    for (int k = 0; k < p.r; ++k) {
      const double c = ly.lora_scale * (1.0 - alpha[k] * beta[k]);
      const double x = p.merge_along_rows ? double(ly.B(t, k)) : double(ly.A(t, k));
      out[k * p.len + t] = tau[k] > 0.0 ? float(c * x / tau[k]) : 0.0f;
    }
  }
};

/// Step 5 for one layer: W_pt(i, j) += sum_k A(i, k) c_k B(j, k), for a chunk of
/// `Width` consecutive entries along W's fast dimension. Each W entry is read
/// and written once (bf16_master: the master is read and written, the bf16
/// copy written). The r-term sum is formed first, then added (as in a GEMM).
/// R > 0 fixes r at compile time (the k loop unrolls and the loop over the
/// chunk vectorises); R = 0 reads r from the plan.
template <class T, int Width, int R>
struct merge_chunk {
  Layer<T> ly;
  LayerPlan p;
  const float* factor;  ///< r x len: c o B^T / tau (along rows) or c o A^T / tau
  const double* tau;    ///< r: the balance, multiplied into the other factor
  std::int64_t chunks;  ///< ceil(len / Width)
  SCALORA_HD void operator()(std::int64_t item) const {
    constexpr int kCap = R > 0 ? R : kMaxRank;
    const int r = R > 0 ? R : p.r;
    const std::int64_t slow = item / chunks;
    const std::int64_t t0 = (item - slow * chunks) * Width;
    const int count = int(t0 + Width <= p.len ? Width : p.len - t0);
    float a[kCap];
    for (int k = 0; k < r; ++k)
      a[k] = float((p.merge_along_rows ? double(ly.A(slow, k)) : double(ly.B(slow, k))) * tau[k]);
    const float* f = factor + t0;
    const std::int64_t len = p.len;
    // W entries of this chunk: w[t * stride], t < count (stride 1 when contiguous).
    const std::int64_t i0 = p.merge_along_rows ? slow : t0, j0 = p.merge_along_rows ? t0 : slow;
    const std::int64_t stride = p.merge_along_rows ? ly.W.col_stride : ly.W.row_stride;
    float* w = &ly.W(i0, j0);
    if (ly.w_format == weight_format::bf16_master) {
      std::uint16_t* h = &ly.W_bf16(i0, j0);
      const std::int64_t hstride = p.merge_along_rows ? ly.W_bf16.col_stride : ly.W_bf16.row_stride;
      for (int t = 0; t < count; ++t) {
        float sum = 0.0f;
        for (int k = 0; k < r; ++k) sum += a[k] * f[k * len + t];
        const float x = w[t * stride] + sum;
        w[t * stride] = x;
        h[t * hstride] = float_to_bf16(x);
      }
    } else if (stride == 1) {
      for (int t = 0; t < count; ++t) {
        float sum = 0.0f;
        for (int k = 0; k < r; ++k) sum += a[k] * f[k * len + t];
        w[t] += sum;
      }
    } else {
      for (int t = 0; t < count; ++t) {
        float sum = 0.0f;
        for (int k = 0; k < r; ++k) sum += a[k] * f[k * len + t];
        w[t * stride] += sum;
      }
    }
  }
};

/// Steps 6-8 for one row of A (rows 0..m-1) or B (rows m..m+n-1): factors by
/// their own scaling, gradients and moments by the OTHER factor's (the lemmas).
/// Scalings are rounded to T first, as an implementation applies them.
template <class T>
struct rescale_row {
  BatchView<T> b;
  SCALORA_HD void operator()(std::int64_t item) const {
    const int l = detail::find_layer(b.plans, b.count, item, detail::RowKey{});
    const LayerPlan& p = b.plans[l];
    if (b.outcomes[l].nonfinite || b.outcomes[l].not_representable) return;
    const Layer<T>& ly = b.layers[l];
    const std::int64_t local = item - p.row_begin;
    const double* alpha = b.scales + p.scale_offset;
    const double* beta = alpha + p.r;
    const bool side_a = local < p.m;
    const std::int64_t i = side_a ? local : local - p.m;
    const MatrixRef<T>& X = side_a ? ly.A : ly.B;
    const MatrixRef<T>& gX = side_a ? ly.grad_A : ly.grad_B;
    const MatrixRef<T>& mX = side_a ? ly.exp_avg_A : ly.exp_avg_B;
    const MatrixRef<T>& vX = side_a ? ly.exp_avg_sq_A : ly.exp_avg_sq_B;
    for (int k = 0; k < p.r; ++k) {
      const T own = T(side_a ? alpha[k] : beta[k]);
      const T other = T(side_a ? beta[k] : alpha[k]);
      X(i, k) *= own;
      gX(i, k) *= other;
      if (mX.present()) mX(i, k) = transfer_first_moment(mX(i, k), other);
      if (vX.present()) vX(i, k) = transfer_second_moment(vX(i, k), other);
    }
  }
};

}  // namespace scalora::gpu
