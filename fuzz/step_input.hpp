// SPDX-License-Identifier: Apache-2.0
// Arbitrary bytes -> one or more layers for the step harnesses (step_core_fuzz,
// step_gpu_fuzz). Plain std::vector, no Eigen, no Thrust, so both can use it.
//
// Layout of the bytes (every read past the end gives 0, so every input decodes):
//   header     storage (float/double), mode (hybrid/scalar), L and lr, layer count
//   per layer  m, n in [1, 12], r in [1, 4] (m or n < 2r happens), what is present
//              (W_pt, moments), a per-layer exponent, then the entries one by one
//   entry      a selector byte: zero, small integer, +-2^e for e in [-110, 100]
//              (1e-33 .. 1e30), a repeat of the previous entry or of the previous
//              column (duplicate columns), the per-layer scale times 1 + f, or 8 raw
//              bytes as a double (NaN, Inf, subnormals, anything)
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace scalora::fuzz {

/// Sequential reader over the fuzzer's bytes; reads past the end return 0.
class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t(u8()) << (8 * i);
    return v;
  }
  /// lo + (byte mod (hi - lo + 1)).
  int bounded(int lo, int hi) { return lo + int(u8() % unsigned(hi - lo + 1)); }
  bool flag() { return (u8() & 1u) != 0; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

/// A row-major rows x cols matrix of doubles (the decoded value; the harness
/// rounds it to its storage type).
struct HostMatrix {
  int rows = 0, cols = 0;
  std::vector<double> v;
  double& operator()(int i, int j) { return v[std::size_t(i) * std::size_t(cols) + std::size_t(j)]; }
  double operator()(int i, int j) const { return v[std::size_t(i) * std::size_t(cols) + std::size_t(j)]; }
  bool all_finite() const {
    for (double x : v)
      if (!std::isfinite(x)) return false;
    return true;
  }
};

/// One decoded layer: W = W_pt + s A B^T with its gradients and optional moments.
struct FuzzLayer {
  int m = 1, n = 1, r = 1;
  HostMatrix A, B, grad_A, grad_B;
  bool has_w = false, has_moments = false;
  HostMatrix W_pt;                                         // m x n when has_w
  HostMatrix exp_avg_A, exp_avg_sq_A, exp_avg_B, exp_avg_sq_B;  // when has_moments
  double lora_scale = 1.0;
};

struct FuzzStep {
  bool use_float = false;  ///< storage float (accumulation double) or double
  bool scalar_only = false;
  double L = 1.0, lr = 1.0;
  std::vector<FuzzLayer> layers;
};

/// +-2^e for e in [lo, hi] from two bytes.
inline double signed_power_of_two(ByteReader& in, int lo, int hi) {
  const std::uint8_t s = in.u8();
  const double x = std::ldexp(1.0, in.bounded(lo, hi));
  return (s & 1u) ? -x : x;
}

/// Entries of a rows x cols matrix, in the order (i, j) row by row.
inline HostMatrix decode_matrix(ByteReader& in, int rows, int cols, int layer_exponent) {
  HostMatrix out{rows, cols, std::vector<double>(std::size_t(rows) * std::size_t(cols), 0.0)};
  double previous = 0.0;
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      double x = 0.0;
      switch (in.u8() % 8) {
        case 0: x = 0.0; break;
        case 1: x = double(int(in.u8()) - 128) / 16.0; break;
        case 2: x = signed_power_of_two(in, -110, 100); break;
        case 3: x = previous; break;
        case 4: x = j > 0 ? out(i, j - 1) : previous; break;  // duplicate columns
        case 5: {
          const std::uint64_t bits = in.u64();
          std::memcpy(&x, &bits, sizeof x);
          break;
        }
        default: {
          const double f = double(in.u8()) / 256.0;
          const double s = (in.u8() & 1u) ? -1.0 : 1.0;
          x = s * std::ldexp(1.0 + f, layer_exponent);
          break;
        }
      }
      out(i, j) = previous = x;
    }
  return out;
}

inline FuzzStep decode_step(const std::uint8_t* data, std::size_t size, int max_layers) {
  ByteReader in(data, size);
  FuzzStep step;
  const std::uint8_t options = in.u8();
  step.use_float = (options & 1u) != 0;
  step.scalar_only = (options & 2u) != 0;
  // L and lr: powers of two in [2^-40, 2^40]; with probability 1/16 raw bits
  // (zero, negative, NaN, Inf: the step must throw, naming the argument).
  auto parameter = [&] {
    if ((in.u8() & 15u) == 0) {
      const std::uint64_t bits = in.u64();
      double x;
      std::memcpy(&x, &bits, sizeof x);
      return x;
    }
    return std::ldexp(1.0, in.bounded(-40, 40));
  };
  step.L = parameter();
  step.lr = parameter();
  const int count = in.bounded(1, max_layers);
  for (int l = 0; l < count; ++l) {
    FuzzLayer ly;
    ly.m = in.bounded(1, 12);
    ly.n = in.bounded(1, 12);
    ly.r = in.bounded(1, 4);
    const std::uint8_t present = in.u8();
    ly.has_w = (present & 1u) != 0;
    ly.has_moments = (present & 2u) != 0;
    ly.lora_scale = std::ldexp(1.0, in.bounded(-4, 4));
    const int e = in.bounded(-100, 100);
    ly.A = decode_matrix(in, ly.m, ly.r, e);
    ly.B = decode_matrix(in, ly.n, ly.r, e);
    ly.grad_A = decode_matrix(in, ly.m, ly.r, e);
    ly.grad_B = decode_matrix(in, ly.n, ly.r, e);
    if (ly.has_w) ly.W_pt = decode_matrix(in, ly.m, ly.n, e);
    if (ly.has_moments) {
      ly.exp_avg_A = decode_matrix(in, ly.m, ly.r, e);
      ly.exp_avg_sq_A = decode_matrix(in, ly.m, ly.r, e);
      ly.exp_avg_B = decode_matrix(in, ly.n, ly.r, e);
      ly.exp_avg_sq_B = decode_matrix(in, ly.n, ly.r, e);
    }
    step.layers.push_back(std::move(ly));
  }
  return step;
}

}  // namespace scalora::fuzz
