// SPDX-License-Identifier: Apache-2.0
// Device-side descriptions of the layers of a batch: strided matrix views,
// the weight's storage format, the step configuration and per-layer outcomes.
// Host and device; no Thrust, no Eigen.
#pragma once

#include <cstdint>

#include "scalora/core/bound_parameters.hpp"
#include "scalora/core/branch.hpp"
#include "scalora/core/column_solve.hpp"
#include "scalora/core/scalar_scaling.hpp"
#include "scalora/core/schedule.hpp"
#include "scalora/core/step_outcome.hpp"

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

/// What every layer of a call shares. bound: L and lr (D1); each layer's own
/// lora_scale replaces bound.lora_scale, so kappa = bound.with_lora_scale(lora_scale).kappa() (D2).
struct StepConfig {
  BoundParameters<double> bound;
  scaling_mode mode = scaling_mode::hybrid;
  RescaleSchedule schedule;  ///< ScaLoRA-I: which optimizer steps rescale (D8)
  gram_strategy gram = gram_strategy::automatic;
};

/// Per-layer result of compute_scalings: the outcome record shared with the
/// library and the trainer (core/step_outcome.hpp; numerical outcomes, never thrown).
using LayerOutcome = StepOutcome<double>;

}  // namespace scalora::gpu
