// SPDX-License-Identifier: Apache-2.0
// Test layers for the gpu checks: generated on the host (exact in the storage
// type), uploaded to device memory in row- or column-major layout, and copied
// back for the reference judgement. No Eigen, no Boost (nvcc compiles this).
#pragma once

#include <thrust/copy.h>
#include <thrust/device_vector.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "reference_check.hpp"
#include "scalora/core/bfloat16.hpp"
#include "scalora/gpu.hpp"

namespace scalora::gpu_test {

using gpu::Layer;
using gpu::MatrixRef;
using gpu::weight_format;

/// Reproducible standard normals (mt19937_64 + Box-Muller), as doubles.
inline std::vector<double> normals(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<double> out(count);
  for (double& x : out) {
    const double u1 = (double(gen() >> 11) + 0.5) / 9007199254740992.0;
    const double u2 = (double(gen() >> 11) + 0.5) / 9007199254740992.0;
    x = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  return out;
}

inline HostMatrix host_matrix(int rows, int cols, std::vector<double> v) { return HostMatrix{rows, cols, std::move(v)}; }

inline HostMatrix gaussian(int rows, int cols, std::uint64_t seed, double scale) {
  std::vector<double> v = normals(std::size_t(rows) * std::size_t(cols), seed);
  for (double& x : v) x *= scale;
  return host_matrix(rows, cols, std::move(v));
}

/// Rounds every entry to the storage type T (float or double), so that the
/// host copy holds exactly what the device holds.
template <class T>
void round_to(HostMatrix& h) {
  for (double& x : h.v) x = double(T(x));
}

/// The specification of a test layer: gradients from an explicit G = X Y^T
/// (rank k) plus noise, so grad_A = G B and grad_B = G^T A are consistent.
struct LayerSpec {
  int m = 32, n = 24, r = 4;
  std::uint64_t seed = 1;
  double a_scale = 1.0, b_scale = 0.1, g_scale = 1.0;
  int g_rank = 3;
  bool moments = true;
  weight_format w = weight_format::f32;
  double lora_scale = 1.0;
};

/// grad_A = G B, grad_B = G^T A for an explicit G (row-major m x n), in double.
inline void set_gradients(HostLayer& h, const std::vector<double>& G, int m, int n, int r) {
  h.grad_A = host_matrix(m, r, std::vector<double>(std::size_t(m) * std::size_t(r), 0.0));
  h.grad_B = host_matrix(n, r, std::vector<double>(std::size_t(n) * std::size_t(r), 0.0));
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      const double g = G[std::size_t(i) * std::size_t(n) + std::size_t(j)];
      if (g == 0) continue;
      for (int k = 0; k < r; ++k) {
        h.grad_A.v[std::size_t(i) * std::size_t(r) + std::size_t(k)] += g * h.B(j, k);
        h.grad_B.v[std::size_t(j) * std::size_t(r) + std::size_t(k)] += g * h.A(i, k);
      }
    }
}

template <class T>
HostLayer make_host_layer(const LayerSpec& s) {
  HostLayer h;
  h.single = sizeof(T) == sizeof(float);
  h.lora_scale = s.lora_scale;
  h.A = gaussian(s.m, s.r, s.seed, s.a_scale / std::sqrt(double(s.m)));
  h.B = gaussian(s.n, s.r, s.seed + 1, s.b_scale);
  round_to<T>(h.A);
  round_to<T>(h.B);
  const HostMatrix X = gaussian(s.m, s.g_rank, s.seed + 2, 1.0), Y = gaussian(s.n, s.g_rank, s.seed + 3, 1.0);
  const HostMatrix noise = gaussian(s.m, s.n, s.seed + 4, 0.1);
  std::vector<double> G(std::size_t(s.m) * std::size_t(s.n));
  for (int i = 0; i < s.m; ++i)
    for (int j = 0; j < s.n; ++j) {
      double g = noise(i, j);
      for (int k = 0; k < s.g_rank; ++k) g += X(i, k) * Y(j, k);
      G[std::size_t(i) * std::size_t(s.n) + std::size_t(j)] = s.g_scale * g;
    }
  set_gradients(h, G, s.m, s.n, s.r);
  round_to<T>(h.grad_A);
  round_to<T>(h.grad_B);
  if (s.moments) {
    h.exp_avg_A = gaussian(s.m, s.r, s.seed + 5, 0.1);
    h.exp_avg_sq_A = gaussian(s.m, s.r, s.seed + 6, 0.01);
    h.exp_avg_B = gaussian(s.n, s.r, s.seed + 7, 0.1);
    h.exp_avg_sq_B = gaussian(s.n, s.r, s.seed + 8, 0.01);
    for (HostMatrix* x : {&h.exp_avg_sq_A, &h.exp_avg_sq_B})
      for (double& v : x->v) v = std::abs(v);
    for (HostMatrix* x : {&h.exp_avg_A, &h.exp_avg_sq_A, &h.exp_avg_B, &h.exp_avg_sq_B}) round_to<T>(*x);
  }
  if (s.w != weight_format::none) {
    h.W = gaussian(s.m, s.n, s.seed + 9, 1.0);
    round_to<float>(h.W);
    if (s.w == weight_format::bf16_master) {
      h.W_bf16 = h.W;
      for (double& x : h.W_bf16.v) x = double(bf16_to_float(float_to_bf16(float(x))));
    }
  }
  return h;
}

/// One layer in device memory. Layout of the factors and of W is chosen per
/// layer (row-major like PyTorch, or column-major like Eigen).
template <class T>
struct DeviceLayer {
  int m = 0, n = 0, r = 0;
  bool factors_col_major = false, w_col_major = false;
  weight_format w = weight_format::none;
  double lora_scale = 1.0;
  thrust::device_vector<T> A, B, grad_A, grad_B, mA, vA, mB, vB;
  thrust::device_vector<float> W;
  thrust::device_vector<std::uint16_t> W16;

  template <class U>
  static std::vector<U> pack(const HostMatrix& h, bool col_major) {
    std::vector<U> out(h.v.size());
    for (int i = 0; i < h.rows; ++i)
      for (int j = 0; j < h.cols; ++j)
        out[col_major ? std::size_t(i) + std::size_t(j) * std::size_t(h.rows)
                      : std::size_t(i) * std::size_t(h.cols) + std::size_t(j)] = U(h(i, j));
    return out;
  }
  template <class U>
  static HostMatrix unpack(const thrust::device_vector<U>& d, int rows, int cols, bool col_major) {
    if (d.empty()) return {};
    std::vector<U> tmp(d.size());
    thrust::copy(d.begin(), d.end(), tmp.begin());
    HostMatrix h{rows, cols, std::vector<double>(tmp.size())};
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j)
        h.v[std::size_t(i) * std::size_t(cols) + std::size_t(j)] =
            double(tmp[col_major ? std::size_t(i) + std::size_t(j) * std::size_t(rows)
                                 : std::size_t(i) * std::size_t(cols) + std::size_t(j)]);
    return h;
  }
  template <class U>
  static void upload(thrust::device_vector<U>& d, const HostMatrix& h, bool col_major) {
    if (!h.present()) return;
    const std::vector<U> p = pack<U>(h, col_major);
    d.assign(p.begin(), p.end());
  }

  DeviceLayer(const HostLayer& h, bool factors_col_major_, bool w_col_major_)
      : m(h.A.rows), n(h.B.rows), r(h.A.cols), factors_col_major(factors_col_major_), w_col_major(w_col_major_),
        lora_scale(h.lora_scale) {
    upload(A, h.A, factors_col_major);
    upload(B, h.B, factors_col_major);
    upload(grad_A, h.grad_A, factors_col_major);
    upload(grad_B, h.grad_B, factors_col_major);
    upload(mA, h.exp_avg_A, factors_col_major);
    upload(vA, h.exp_avg_sq_A, factors_col_major);
    upload(mB, h.exp_avg_B, factors_col_major);
    upload(vB, h.exp_avg_sq_B, factors_col_major);
    if (h.W.present()) {
      w = h.W_bf16.present() ? weight_format::bf16_master : weight_format::f32;
      upload(W, h.W, w_col_major);
      if (h.W_bf16.present()) {
        std::vector<std::uint16_t> bits(h.W_bf16.v.size());
        const std::vector<float> packed = pack<float>(h.W_bf16, w_col_major);
        for (std::size_t k = 0; k < bits.size(); ++k) bits[k] = float_to_bf16(packed[k]);
        W16.assign(bits.begin(), bits.end());
      }
    }
  }

  template <class U>
  MatrixRef<U> ref(thrust::device_vector<U>& d, int rows, int cols, bool col_major) {
    if (d.empty()) return {};
    U* p = thrust::raw_pointer_cast(d.data());
    return col_major ? MatrixRef<U>::col_major(p, rows, cols) : MatrixRef<U>::row_major(p, rows, cols);
  }

  Layer<T> desc() {
    Layer<T> l;
    l.m = m;
    l.n = n;
    l.r = r;
    l.A = ref(A, m, r, factors_col_major);
    l.B = ref(B, n, r, factors_col_major);
    l.grad_A = ref(grad_A, m, r, factors_col_major);
    l.grad_B = ref(grad_B, n, r, factors_col_major);
    l.exp_avg_A = ref(mA, m, r, factors_col_major);
    l.exp_avg_sq_A = ref(vA, m, r, factors_col_major);
    l.exp_avg_B = ref(mB, n, r, factors_col_major);
    l.exp_avg_sq_B = ref(vB, n, r, factors_col_major);
    l.w_format = w;
    l.W = ref(W, m, n, w_col_major);
    l.W_bf16 = ref(W16, m, n, w_col_major);
    l.lora_scale = lora_scale;
    return l;
  }

  HostLayer download() const {
    HostLayer h;
    h.single = sizeof(T) == sizeof(float);
    h.lora_scale = lora_scale;
    h.A = unpack(A, m, r, factors_col_major);
    h.B = unpack(B, n, r, factors_col_major);
    h.grad_A = unpack(grad_A, m, r, factors_col_major);
    h.grad_B = unpack(grad_B, n, r, factors_col_major);
    h.exp_avg_A = unpack(mA, m, r, factors_col_major);
    h.exp_avg_sq_A = unpack(vA, m, r, factors_col_major);
    h.exp_avg_B = unpack(mB, n, r, factors_col_major);
    h.exp_avg_sq_B = unpack(vB, n, r, factors_col_major);
    h.W = unpack(W, m, n, w_col_major);
    if (!W16.empty()) {
      std::vector<std::uint16_t> bits(W16.size());
      thrust::copy(W16.begin(), W16.end(), bits.begin());
      h.W_bf16 = HostMatrix{m, n, std::vector<double>(bits.size())};
      for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j)
          h.W_bf16.v[std::size_t(i) * std::size_t(n) + std::size_t(j)] = double(bf16_to_float(
              bits[w_col_major ? std::size_t(i) + std::size_t(j) * std::size_t(m) : std::size_t(i) * std::size_t(n) + std::size_t(j)]));
    }
    return h;
  }
};

}  // namespace scalora::gpu_test
