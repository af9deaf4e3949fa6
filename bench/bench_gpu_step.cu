// SPDX-License-Identifier: Apache-2.0
// Benchmarks of the batched step (gpu/), one source for the OMP, CPP and CUDA
// backends; prints a table of times and same-run ratios (docs/performance.md):
//   merge     W_pt += A diag(c) B^T on a 4096 x 4096 float W, against a
//             STREAM-style copy of the same bytes (read + write of W)
//   step      the whole step for that layer (r = 8), against the same copy
//   batch     every adapted layer of a LLaMA-2-7B-shaped model (32 blocks x
//             q, k, v, o 4096^2, gate, up 11008 x 4096, down 4096 x 11008;
//             r = 8), everything except the merges, in one call; against the
//             time those merges take at the measured merge bandwidth
//
//   bench_gpu_step.<backend> [--quick]     (--quick: smaller sizes, for a smoke run)
#include <thrust/copy.h>
#include <thrust/device_vector.h>
#include <thrust/execution_policy.h>
#include <thrust/tabulate.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "scalora/gpu.hpp"

#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
#  include <cuda_runtime.h>
#elif THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_OMP
#  include <omp.h>
#endif

namespace {

using namespace scalora;
using namespace scalora::gpu;

void sync() {
#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
  cudaDeviceSynchronize();
#endif
}

/// Median wall time of `reps` runs of f (after one warm-up), in seconds.
template <class F>
double median_seconds(int reps, F f) {
  f();
  sync();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    sync();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

/// Uniform values in [-scale, scale) from a hash of the index (any backend).
struct hashed_uniform {
  std::uint64_t seed;
  float scale;
  SCALORA_HD float operator()(std::int64_t i) const {
    std::uint64_t z = std::uint64_t(i) + seed * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return scale * (float(z >> 40) / 8388608.0f - 1.0f);
  }
};

/// One layer's tensors in device memory (factors float, row-major).
struct BenchLayer {
  int m, n, r;
  thrust::device_vector<float> A, B, gA, gB, mA, vA, mB, vB, W;
  BenchLayer(int m_, int n_, int r_, bool with_w, std::uint64_t seed) : m(m_), n(n_), r(r_) {
    auto fill = [&](thrust::device_vector<float>& v, std::size_t count, float scale) {
      v.resize(count);
      thrust::tabulate(thrust::device, v.begin(), v.end(), hashed_uniform{seed++, scale});
    };
    fill(A, std::size_t(m) * r, 0.02f);
    fill(B, std::size_t(n) * r, 0.02f);
    fill(gA, std::size_t(m) * r, 1e-3f);
    fill(gB, std::size_t(n) * r, 1e-3f);
    fill(mA, std::size_t(m) * r, 1e-4f);
    fill(vA, std::size_t(m) * r, 1e-8f);
    fill(mB, std::size_t(n) * r, 1e-4f);
    fill(vB, std::size_t(n) * r, 1e-8f);
    if (with_w) fill(W, std::size_t(m) * n, 0.05f);
  }
  Layer<float> desc() {
    auto rm = [](thrust::device_vector<float>& v, int rows, int cols) {
      return MatrixRef<float>::row_major(thrust::raw_pointer_cast(v.data()), rows, cols);
    };
    Layer<float> l;
    l.m = m;
    l.n = n;
    l.r = r;
    l.A = rm(A, m, r);
    l.B = rm(B, n, r);
    l.grad_A = rm(gA, m, r);
    l.grad_B = rm(gB, n, r);
    l.exp_avg_A = rm(mA, m, r);
    l.exp_avg_sq_A = rm(vA, m, r);
    l.exp_avg_B = rm(mB, n, r);
    l.exp_avg_sq_B = rm(vB, n, r);
    if (!W.empty()) {
      l.w_format = weight_format::f32;
      l.W = rm(W, m, n);
    }
    return l;
  }
};

/// The vector instructions the host code was compiled for (SCALORA_BENCH_NATIVE).
[[maybe_unused]] const char* instruction_set() {
#if defined(__AVX512F__)
  return "AVX-512";
#elif defined(__AVX2__) && defined(__FMA__)
  return "AVX2+FMA";
#elif defined(__AVX__)
  return "AVX";
#elif defined(__SSE2__)
  return "SSE2 (x86-64 baseline)";
#else
  return "no x86 vector extensions";
#endif
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::puts("SKIP: no CUDA device");
    return 77;
  }
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  std::printf("backend cuda: %s, %d SMs\n", prop.name, prop.multiProcessorCount);
#elif THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_OMP
  std::printf("backend omp: %d threads, %s\n", omp_get_max_threads(), instruction_set());
#else
  std::printf("backend cpp: 1 thread, %s\n", instruction_set());
#endif
  const int reps = kCudaBackend ? 20 : 5;
  const int dim = quick ? 1024 : 4096, r = 8;
  StepConfig cfg;
  cfg.bound.L = 1;
  cfg.bound.lr = 1e-3;

  // 1-2. One dim x dim float layer: merge and whole step against a copy of W.
  BenchLayer layer(dim, dim, r, true, 1);
  thrust::device_vector<float> copy_dst(layer.W.size());
  const double bytes_w = 2.0 * double(layer.W.size()) * sizeof(float);  // read + write
  const double t_copy = median_seconds(reps, [&] {
    thrust::copy(thrust::device, layer.W.begin(), layer.W.end(), copy_dst.begin());
  });
  BatchStep<float> one({layer.desc()});
  one.compute_scalings(thrust::device, cfg);
  const double t_merge = median_seconds(reps, [&] { one.merge(thrust::device); });
  const int merge_launches = one.last_launches().merge;
  const double t_step = median_seconds(reps, [&] { one.step(thrust::device, cfg, 0); });

  // 3. LLaMA-2-7B-shaped batch, everything except the merges.
  struct Shape {
    int m, n, count;
  };
  const int blocks = quick ? 2 : 32;
  const std::vector<Shape> shapes = {{4096, 4096, 4 * blocks}, {11008, 4096, 2 * blocks}, {4096, 11008, blocks}};
  std::vector<std::unique_ptr<BenchLayer>> layers;
  std::vector<Layer<float>> descs;
  double merge_elements = 0;
  std::uint64_t seed = 100;
  for (const Shape& s : shapes)
    for (int c = 0; c < s.count; ++c) {
      layers.push_back(std::make_unique<BenchLayer>(s.m, s.n, r, false, seed += 16));
      descs.push_back(layers.back()->desc());
      merge_elements += double(s.m) * double(s.n);
    }
  BatchStep<float> batch(descs);
  const double t_batch = median_seconds(kCudaBackend ? 10 : 3, [&] {
    batch.compute_scalings(thrust::device, cfg);
    batch.rescale(thrust::device);
  });
  const int batch_launches = batch.last_launches().compute_scalings + batch.last_launches().rescale;
  const double merge_bw = bytes_w / t_merge;  // bytes per second, measured above
  const double t_merges_est = 2.0 * merge_elements * sizeof(float) / merge_bw;
  int column = 0;
  for (const LayerOutcome& o : batch.outcomes()) column += o.applied == branch::column;

  std::printf("\n%-48s %12s %14s %10s %10s\n", "benchmark", "time", "bandwidth", "ratio", "target");
  std::printf("%-48s %9.3f ms %10.1f GB/s %10s %10s\n", "copy of W (read + write, STREAM-style)", t_copy * 1e3,
              bytes_w / t_copy * 1e-9, "1.00", "baseline");
  std::printf("%-48s %9.3f ms %10.1f GB/s %10.2f %10s\n", "merge W += A diag(c) B^T (bandwidth / copy's)",
              t_merge * 1e3, merge_bw * 1e-9, t_copy / t_merge, kCudaBackend ? ">= 0.80" : ">= 0.70");
  std::printf("%-48s %9.3f ms %14s %10.2f %10s\n", "whole step, r = 8 (time / copy's)", t_step * 1e3, "",
              t_step / t_copy, "<= 1.50");
  std::printf("%-48s %9.3f ms %14s %10.4f %10s\n", "batch except merges (time / merges' time)", t_batch * 1e3, "",
              t_batch / t_merges_est, "<= 0.10");
  std::printf("\nlayer %d x %d, r = %d; merge launches per call: %d\n", dim, dim, r, merge_launches);
  std::printf("batch: %zu layers (%d blocks), %.3g W entries; the merges would move %.1f GB, est. %.1f ms at "
              "%.1f GB/s;\n       %d launches per call (Gram partials, combine, solve, rescale); column branch in "
              "%d of %zu layers\n",
              descs.size(), blocks, merge_elements, 2.0 * merge_elements * sizeof(float) * 1e-9, t_merges_est * 1e3,
              merge_bw * 1e-9, batch_launches, column, descs.size());
  return 0;
}
