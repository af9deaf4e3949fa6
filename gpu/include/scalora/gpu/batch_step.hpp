// SPDX-License-Identifier: Apache-2.0
// The batched ScaLoRA step (spec section 7) over layers of different shapes,
// in a handful of Thrust launches, one source for the CUDA, CPP and OMP
// backends. Extra device memory: O((m + n + r) r) per layer, allocated once.
#pragma once

#include <thrust/device_vector.h>
#include <thrust/execution_policy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "scalora/error.hpp"
#include "scalora/gpu/kernels.hpp"

namespace scalora::gpu {

/// Whether the code below was compiled for the CUDA backend.
inline constexpr bool kCudaBackend = THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA;
/// W entries per merge work item: 4 consecutive entries per CUDA thread
/// (coalesced across a warp), 1024 per CPU task (vectorisable inner loop).
inline constexpr int kMergeWidth = kCudaBackend ? 4 : 1024;

/// Launch counts of the last call of each kind (for the benchmark report).
struct LaunchCounts {
  int compute_scalings = 0;
  int merge = 0;
  int rescale = 0;
};

/// A batch of adapted layers and the workspace for their steps.
///   BatchStep<float> batch(layers);          // validates, plans, allocates once
///   batch.step(thrust::device, config, t);   // steps 2-8 when rescale_due(t)
/// or the parts: compute_scalings(), merge(), rescale(). The layers' device
/// memory must outlive the batch; Alloc allocates the workspace.
template <class T, class Alloc = thrust::device_allocator<char>>
class BatchStep {
  template <class U>
  using vec = thrust::device_vector<U, typename std::allocator_traits<Alloc>::template rebind_alloc<U>>;

 public:
  explicit BatchStep(const std::vector<Layer<T>>& layers, const Alloc& alloc = Alloc())
      : host_layers_(layers),
        layers_(alloc),
        plans_(alloc),
        doubles_(alloc),
        ints_(alloc),
        floats_(alloc),
        outcomes_(alloc) {
    if (layers.empty()) throw invalid_argument("layers", argument_problem::empty, "the batch has no layer");
    for (std::size_t l = 0; l < layers.size(); ++l) validate(layers[l], l);
    plan();
    layers_.assign(host_layers_.begin(), host_layers_.end());
    plans_.assign(host_plans_.begin(), host_plans_.end());
    doubles_.resize(std::size_t(total_doubles_));
    ints_.resize(std::size_t(total_ints_));
    floats_.resize(std::size_t(std::max<std::int64_t>(total_floats_, 1)));
    outcomes_.resize(layers.size());
  }

  int size() const { return int(host_layers_.size()); }

  /// Steps 2-4 for every layer: M, lambda, the solves and the decision.
  /// Launches: Gram partials, combine, solve (3).
  template <class Policy>
  void compute_scalings(const Policy& exec, const StepConfig& cfg) {
    if (!(cfg.bound.L > 0) || !std::isfinite(cfg.bound.L))
      throw invalid_argument("cfg.bound.L", argument_problem::out_of_range, "must be finite and > 0");
    if (!(cfg.bound.lr > 0) || !std::isfinite(cfg.bound.lr))
      throw invalid_argument("cfg.bound.lr", argument_problem::out_of_range, "must be finite and > 0");
    for (std::size_t l = 0; l < host_layers_.size(); ++l) {  // the solves divide by kappa
      const double kappa = cfg.bound.with_lora_scale(host_layers_[l].lora_scale).kappa();
      if (!(kappa >= std::numeric_limits<double>::min()) || !std::isfinite(kappa))
        throw invalid_argument("layers[" + std::to_string(l) + "].lora_scale", argument_problem::out_of_range,
                               "kappa = L lr lora_scale^2 must be a finite normal number, got " +
                                   std::to_string(kappa));
    }
    const BatchView<T> b = view();
    const bool per_entry = cfg.gram == gram_strategy::per_entry ||
                           (cfg.gram == gram_strategy::automatic && kCudaBackend);
    if (per_entry) thrust::for_each_n(exec, counting(0), total_entries_, gram_entry<T>{b});
    else thrust::for_each_n(exec, counting(0), total_tiles_, gram_tile<T>{b});
    thrust::for_each_n(exec, counting(0), total_combine_, combine_entry<T>{b});
    thrust::for_each_n(exec, counting(0), std::int64_t(size()), solve_layer<T>{b, cfg});
    last_.compute_scalings = 3;
    scalings_ready_ = true;
  }

  /// Step 5 for every layer with a W_pt: prepare c o B^T (one launch for the
  /// batch), then one merge launch per layer that changes.
  template <class Policy>
  void merge(const Policy& exec) {
    require_scalings("merge");
    const BatchView<T> b = view();
    last_.merge = 0;
    if (total_prepare_ == 0) return;
    thrust::for_each_n(exec, counting(0), total_prepare_, prepare_merge<T>{b});
    ++last_.merge;
    const std::vector<LayerOutcome> out = outcomes();
    for (int l = 0; l < size(); ++l) {
      const Layer<T>& ly = host_layers_[std::size_t(l)];
      const LayerPlan& p = host_plans_[std::size_t(l)];
      const LayerOutcome& o = out[std::size_t(l)];
      if (ly.w_format == weight_format::none || o.nonfinite || o.not_representable || o.zero_gradient)
        continue;
      const std::int64_t chunks = (p.len + kMergeWidth - 1) / kMergeWidth;
      const std::int64_t slow = p.merge_along_rows ? p.m : p.n;
      const float* factor = thrust::raw_pointer_cast(floats_.data()) + p.merge_offset;
      const double* tau = thrust::raw_pointer_cast(doubles_.data()) + scales_at_ + p.scale_offset + 2 * p.r;
      const std::int64_t items = slow * chunks;
      switch (p.r) {  // common ranks get an unrolled k loop
        case 1: thrust::for_each_n(exec, counting(0), items, merge_chunk<T, kMergeWidth, 1>{ly, p, factor, tau, chunks}); break;
        case 2: thrust::for_each_n(exec, counting(0), items, merge_chunk<T, kMergeWidth, 2>{ly, p, factor, tau, chunks}); break;
        case 4: thrust::for_each_n(exec, counting(0), items, merge_chunk<T, kMergeWidth, 4>{ly, p, factor, tau, chunks}); break;
        case 8: thrust::for_each_n(exec, counting(0), items, merge_chunk<T, kMergeWidth, 8>{ly, p, factor, tau, chunks}); break;
        case 16: thrust::for_each_n(exec, counting(0), items, merge_chunk<T, kMergeWidth, 16>{ly, p, factor, tau, chunks}); break;
        default: thrust::for_each_n(exec, counting(0), items, merge_chunk<T, kMergeWidth, 0>{ly, p, factor, tau, chunks});
      }
      ++last_.merge;
    }
  }

  /// Steps 6-8 for every layer (one launch).
  template <class Policy>
  void rescale(const Policy& exec) {
    require_scalings("rescale");
    thrust::for_each_n(exec, counting(0), total_rows_, rescale_row<T>{view()});
    last_.rescale = 1;
    scalings_ready_ = false;  // the scalings were consumed; the factors changed
  }

  /// Steps 2-8 when rescale_due(step_index, cfg.schedule) (ScaLoRA-I); returns
  /// whether it ran.
  template <class Policy>
  bool step(const Policy& exec, const StepConfig& cfg, long step_index) {
    if (!rescale_due(step_index, cfg.schedule)) return false;
    compute_scalings(exec, cfg);
    merge(exec);
    rescale(exec);
    return true;
  }

  /// Per-layer outcomes of the last compute_scalings (copied to the host).
  std::vector<LayerOutcome> outcomes() const {
    std::vector<LayerOutcome> out(static_cast<std::size_t>(size()));
    thrust::copy(outcomes_.begin(), outcomes_.end(), out.begin());
    return out;
  }
  /// alpha (first r) and beta (next r) of layer l, as computed (double).
  std::vector<double> scalings(int l) const {
    const LayerPlan& p = host_plans_.at(std::size_t(l));
    std::vector<double> out(static_cast<std::size_t>(2 * p.r));
    const auto first = doubles_.begin() + scales_at_ + p.scale_offset;
    thrust::copy(first, first + 2 * p.r, out.begin());
    return out;
  }
  /// Bytes of workspace this batch holds (excluding the layers' own tensors).
  std::size_t workspace_bytes() const {
    return std::size_t(total_doubles_) * sizeof(double) + std::size_t(total_ints_) * sizeof(int) +
           std::size_t(std::max<std::int64_t>(total_floats_, 1)) * sizeof(float) +
           host_layers_.size() * (sizeof(Layer<T>) + sizeof(LayerPlan) + sizeof(LayerOutcome));
  }
  const LaunchCounts& last_launches() const { return last_; }
  const std::vector<LayerPlan>& plans() const { return host_plans_; }

 private:
  static thrust::counting_iterator<std::int64_t> counting(std::int64_t x) {
    return thrust::counting_iterator<std::int64_t>(x);
  }

  void require_scalings(const char* what) const {
    if (!scalings_ready_)
      throw invalid_argument(what, argument_problem::out_of_range,
                             "compute_scalings() must run first (and once per rescale)");
  }

  static void validate(const Layer<T>& ly, std::size_t l) {
    const std::string at = "layers[" + std::to_string(l) + "]";
    auto fail = [&](const std::string& field, argument_problem pr, const std::string& what) {
      throw invalid_argument(at + "." + field, pr, what);
    };
    if (ly.m < 1 || ly.n < 1) fail("m, n", argument_problem::out_of_range, "must be >= 1");
    if (ly.r < 1 || ly.r > kMaxRank)
      fail("r", argument_problem::out_of_range, "must be in [1, " + std::to_string(kMaxRank) + "], got " + std::to_string(ly.r));
    const char* required[] = {"A", "B", "grad_A", "grad_B"};
    const MatrixRef<T>* refs[] = {&ly.A, &ly.B, &ly.grad_A, &ly.grad_B};
    for (int k = 0; k < 4; ++k)
      if (!refs[k]->present() || (refs[k]->row_stride == 0 && refs[k]->col_stride == 0))
        fail(required[k], argument_problem::empty, "no device pointer or zero strides");
    const int moments = ly.exp_avg_A.present() + ly.exp_avg_sq_A.present() + ly.exp_avg_B.present() +
                        ly.exp_avg_sq_B.present();
    if (moments != 0 && moments != 4)
      fail("exp_avg_*", argument_problem::empty, "give all four AdamW moments or none");
    if (ly.w_format != weight_format::none && !ly.W.present()) fail("W", argument_problem::empty, "missing");
    if (ly.w_format == weight_format::bf16_master && !ly.W_bf16.present())
      fail("W_bf16", argument_problem::empty, "missing (bf16_master)");
    if (!(ly.lora_scale > 0) || !std::isfinite(ly.lora_scale))
      fail("lora_scale", argument_problem::out_of_range, "must be finite and > 0");
  }

  /// Prefix sums of work items and workspace slices.
  void plan() {
    host_plans_.clear();
    std::int64_t tiles = 0, entries = 0, combine = 0, rows = 0, prepare = 0, system = 0, iwork = 0, scale = 0,
                 floats = 0;
    for (const Layer<T>& ly : host_layers_) {
      LayerPlan p;
      p.m = ly.m;
      p.n = ly.n;
      p.r = ly.r;
      p.n2 = 2 * ly.r;
      p.nent = p.n2 * (p.n2 + 1) / 2;
      p.nstat = p.nent + 4 * p.r;
      p.tiles_a = (ly.m + kTileRows - 1) / kTileRows;
      p.tiles_b = (ly.n + kTileRows - 1) / kTileRows;
      p.tile_begin = tiles;
      p.entry_begin = entries;
      p.combine_begin = combine;
      p.row_begin = rows;
      p.system_offset = system;
      p.iwork_offset = iwork;
      p.scale_offset = scale;
      // Merge along W's contiguous dimension.
      p.merge_along_rows = ly.w_format == weight_format::none ||
                           std::llabs(ly.W.col_stride) <= std::llabs(ly.W.row_stride);
      p.len = p.merge_along_rows ? ly.n : ly.m;
      p.prepare_begin = prepare;
      p.merge_offset = floats;
      tiles += p.tiles_a + p.tiles_b;
      entries += (p.tiles_a + p.tiles_b) * p.nstat;
      combine += 2 * p.nstat;
      rows += ly.m + ly.n;
      if (ly.w_format != weight_format::none) {
        prepare += p.len;
        floats += p.len * ly.r;
      }
      system += std::int64_t(p.n2) * p.n2 + 3 * p.n2 + column_solve_work_size(p.n2);
      iwork += column_solve_iwork_size(p.n2);
      scale += 3 * ly.r;
      host_plans_.push_back(p);
    }
    total_tiles_ = tiles;
    total_entries_ = entries;
    total_combine_ = combine;
    total_rows_ = rows;
    total_prepare_ = prepare;
    // doubles: partials | P, Q | systems | scalings
    partials_at_ = 0;
    pq_at_ = entries;
    system_at_ = pq_at_ + combine;
    scales_at_ = system_at_ + system;
    total_doubles_ = scales_at_ + scale;
    total_ints_ = std::max<std::int64_t>(iwork, 1);
    total_floats_ = floats;
  }

  BatchView<T> view() {
    BatchView<T> b;
    b.layers = thrust::raw_pointer_cast(layers_.data());
    b.plans = thrust::raw_pointer_cast(plans_.data());
    b.count = size();
    double* d = thrust::raw_pointer_cast(doubles_.data());
    b.partials = d + partials_at_;
    b.pq = d + pq_at_;
    b.system = d + system_at_;
    b.scales = d + scales_at_;
    b.iwork = thrust::raw_pointer_cast(ints_.data());
    b.merge_buffer = thrust::raw_pointer_cast(floats_.data());
    b.outcomes = thrust::raw_pointer_cast(outcomes_.data());
    return b;
  }

  std::vector<Layer<T>> host_layers_;
  std::vector<LayerPlan> host_plans_;
  vec<Layer<T>> layers_;
  vec<LayerPlan> plans_;
  vec<double> doubles_;
  vec<int> ints_;
  vec<float> floats_;
  vec<LayerOutcome> outcomes_;
  std::int64_t total_tiles_ = 0, total_entries_ = 0, total_combine_ = 0, total_rows_ = 0, total_prepare_ = 0;
  std::int64_t partials_at_ = 0, pq_at_ = 0, system_at_ = 0, scales_at_ = 0;
  std::int64_t total_doubles_ = 0, total_ints_ = 0, total_floats_ = 0;
  bool scalings_ready_ = false;
  LaunchCounts last_;
};

}  // namespace scalora::gpu
