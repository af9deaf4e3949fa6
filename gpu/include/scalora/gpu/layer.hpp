// SPDX-License-Identifier: Apache-2.0
// Device-side descriptions of the layers of a batch: strided matrix views,
// the weight's storage format, the step configuration and per-layer outcomes.
// Host and device; no Thrust, no Eigen.
#pragma once

#include <cstdint>

#include "scalora/core/branch.hpp"
#include "scalora/core/column_solve.hpp"
#include "scalora/core/scalar_scaling.hpp"
#include "scalora/core/schedule.hpp"

namespace scalora::gpu {

/// A strided view of a matrix in device memory: element (i, j) is
/// data[i * row_stride + j * col_stride]. Row-major [rows, cols] (PyTorch) has
/// row_stride = cols, col_stride = 1; column-major (Eigen) the reverse.
template <class T>
struct MatrixRef {
  T* data = nullptr;
  std::int64_t row_stride = 0;
  std::int64_t col_stride = 0;

  SCALORA_HD T& operator()(std::int64_t i, std::int64_t j) const { return data[i * row_stride + j * col_stride]; }
  SCALORA_HD bool present() const { return data != nullptr; }

  static MatrixRef row_major(T* p, std::int64_t /*rows*/, std::int64_t cols) { return {p, cols, 1}; }
  static MatrixRef col_major(T* p, std::int64_t rows, std::int64_t /*cols*/) { return {p, 1, rows}; }
};

/// How W_pt is stored.
enum class weight_format : unsigned char {
  none,         ///< no W_pt: the caller merges (or only the scalings are wanted)
  f32,          ///< W is float
  bf16_master,  ///< W_master is float (the true W_pt), W_bf16 its bfloat16 copy, rewritten by each merge
};

/// One adapted layer, W = W_pt + lora_scale A B^T, all pointers to device memory.
/// T (float or double) is the type of A, B, the gradients and the moments.
template <class T>
struct Layer {
  int m = 0, n = 0, r = 0;
  MatrixRef<T> A, B;            ///< m x r, n x r
  MatrixRef<T> grad_A, grad_B;  ///< m x r, n x r (gradients of the loss at W)
  MatrixRef<T> exp_avg_A, exp_avg_sq_A, exp_avg_B, exp_avg_sq_B;  ///< optional AdamW moments
  weight_format w_format = weight_format::none;
  MatrixRef<float> W;                ///< f32: W_pt; bf16_master: the float master of W_pt (m x n)
  MatrixRef<std::uint16_t> W_bf16;   ///< bf16_master: the bfloat16 copy (m x n)
  double lora_scale = 1.0;           ///< lora_scale (omega) = lora_alpha / r
};

/// How the Gram matrices are accumulated (identical results, different parallel grain).
enum class gram_strategy : unsigned char {
  automatic,  ///< per_entry on CUDA, per_tile on the CPU backends
  per_tile,   ///< one work item per tile of rows computes the whole packed Gram of the tile
  per_entry,  ///< one work item per (tile, Gram entry): more parallelism, for GPUs
};

/// What every layer of a call shares. kappa = L lr lora_scale^2 per layer (decisions D1, D2).
struct StepConfig {
  double L = 1.0;
  double lr = 1.0;
  scaling_mode mode = scaling_mode::hybrid;
  RescaleSchedule schedule;  ///< ScaLoRA-I: which optimizer steps rescale (D8)
  gram_strategy gram = gram_strategy::automatic;
};

/// Per-layer result of compute_scalings (numerical outcomes, never thrown).
struct LayerOutcome {
  branch applied = branch::scalar;
  column_method method = column_method::infeasible;
  scalar_case scalar_kind = scalar_case::interior;
  int rank = 0;                 ///< numerical rank of M
  bool scalar_fallback = false; ///< hybrid: no v >= 0 (or column_rejected), Theorem 3 applied
  /// The column solve's scaling predicted a bound increase, which no solution
  /// of M v = lambda does: a failed solve, the scalar scaling applied (core/hybrid_rule.hpp).
  bool column_rejected = false;
  bool zero_gradient = false;   ///< alpha = beta = 1, nothing changes
  bool clamped = false;         ///< small negative v_i set to 0
  bool nonfinite = false;       ///< a NaN/Inf reached M, lambda or the moments: the layer is left unchanged
  /// The scalings would take a written entry out of range (representable.hpp):
  /// not applied, alpha = beta = 1, the layer is left unchanged.
  bool not_representable = false;
  double margin = 0;            ///< column decision statistic (ColumnSolveInfo::margin)
  double bound_decrease = 0;    ///< predicted decrease of the loss bound, applied scaling
  double vanilla_bound_decrease = 0;
  double scalar_bound_decrease = 0;
  double column_bound_decrease = 0;  ///< 0 when infeasible
};

}  // namespace scalora::gpu
