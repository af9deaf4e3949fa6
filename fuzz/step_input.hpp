// SPDX-License-Identifier: Apache-2.0
// Arbitrary bytes -> one or more layers for the step harnesses (step_core_fuzz,
// step_gpu_fuzz). Plain std::vector, no Eigen, no Thrust, so both can use it.
//
// Layout of the bytes (every read past the end gives 0, so every input decodes):
//   header     storage (float/double), mode (hybrid/scalar), L and lr, layer count
//   per layer  m, n in [1, 12], r in [1, 4] (m or n < 2r happens), what is present
//              (W_pt, moments), a per-layer exponent, then the entries one by one
//              (A, B, grad_A, grad_B, W_pt, the four moments), then an optional
//              extension block
//   entry      a selector byte: zero, small integer, +-2^e for e in [-110, 100]
//              (1e-33 .. 1e30), a repeat of the previous entry or of the previous
//              column (duplicate columns), the per-layer scale times 1 + f, or 8 raw
//              bytes as a double (NaN, Inf, subnormals, anything)
//   extension  present only when the next two bytes are kHardMagic (0xC5 0x1A);
//              otherwise nothing is read, so inputs written before it existed decode
//              as they did (checked: all 1 555 corpus files that predate it decode
//              bit for bit as before; the hard_* seeds of make_corpus.cpp use it).
//              After the magic:
//                flags      bits 0-1 near-collinear columns: none, A, B, both;
//                           bits 2-3 row scales: none, rows of A, rows of B, both;
//                           bit 4 gradients of one rank-k G; bits 5-7 unused
//                collinear  (bits 0-1 != 0) column byte j, level byte d: column
//                           1 + j mod (r - 1) of the factor(s) becomes column 0 plus
//                           2^-(d mod 64) (1 .. 1e-19) times its decoded entries, and so
//                           does that column of the gradient paired with the factor in
//                           M (grad_B for A, grad_A for B: X_j = A_j grad_B_j^T then
//                           nears X_0, cond(D M D) ~ 4^d); below the storage epsilon an
//                           exact duplicate after rounding; nothing for r = 1
//                rows       one byte per row of A (m, bit 2), then of B (n, bit 3):
//                           that row of the factor and of its gradient is multiplied
//                           by 2^(int8(byte) / 2), 2^-64 .. 2^63 (0 bytes: no change)
//                G          (bit 4) byte k: G = grad_A[:, :k'] grad_B[:, :k']^T with
//                           k' = 1 + k mod r (rank <= k' < 2r), then grad_A = lora_scale G B,
//                           grad_B = lora_scale G^T A in double from the final A and B: the
//                           gradients of one G, which the independent entries never are
//              Applied in this order: collinear, rows, G.
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
  /// Consumes the two bytes a, b only when they come next.
  bool match(std::uint8_t a, std::uint8_t b) {
    if (pos_ + 1 >= size_ || data_[pos_] != a || data_[pos_ + 1] != b) return false;
    pos_ += 2;
    return true;
  }

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

/// One decoded layer: W = W_pt + lora_scale A B^T with its gradients and optional moments.
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

/// The two bytes that open a layer's extension block.
inline constexpr std::uint8_t kHardMagic[2] = {0xC5, 0x1A};

/// Column j of X := column 0 + 2^-level * column j (near-collinear with column 0).
inline void make_collinear(HostMatrix& X, int j, int level) {
  const double delta = std::ldexp(1.0, -level);
  for (int i = 0; i < X.rows; ++i) X(i, j) = X(i, 0) + delta * X(i, j);
}

/// Row i of X *= 2^e_i.
inline void scale_rows(HostMatrix& X, const std::vector<int>& exponents) {
  for (int i = 0; i < X.rows; ++i)
    for (int j = 0; j < X.cols; ++j) X(i, j) = std::ldexp(X(i, j), exponents[std::size_t(i)]);
}

/// grad_A = lora_scale G B, grad_B = lora_scale G^T A for G = grad_A[:, :k] grad_B[:, :k]^T (m x n).
inline void gradients_of_low_rank_g(FuzzLayer& ly, int k) {
  HostMatrix G{ly.m, ly.n, std::vector<double>(std::size_t(ly.m) * std::size_t(ly.n), 0.0)};
  for (int i = 0; i < ly.m; ++i)
    for (int l = 0; l < ly.n; ++l)
      for (int t = 0; t < k; ++t) G(i, l) += ly.grad_A(i, t) * ly.grad_B(l, t);
  for (int j = 0; j < ly.r; ++j) {
    for (int i = 0; i < ly.m; ++i) {
      double acc = 0.0;
      for (int l = 0; l < ly.n; ++l) acc += G(i, l) * ly.B(l, j);
      ly.grad_A(i, j) = ly.lora_scale * acc;
    }
    for (int l = 0; l < ly.n; ++l) {
      double acc = 0.0;
      for (int i = 0; i < ly.m; ++i) acc += G(i, l) * ly.A(i, j);
      ly.grad_B(l, j) = ly.lora_scale * acc;
    }
  }
}

/// The extension block of one layer (see the layout above), if present.
inline void decode_extension(ByteReader& in, FuzzLayer& ly) {
  if (!in.match(kHardMagic[0], kHardMagic[1])) return;
  const std::uint8_t flags = in.u8();
  const unsigned collinear = flags & 3u, rows = (flags >> 2) & 3u;
  if (collinear != 0) {
    const std::uint8_t column = in.u8();
    const int level = in.u8() % 64;
    if (ly.r > 1) {
      const int j = 1 + column % (ly.r - 1);
      if (collinear & 1u) make_collinear(ly.A, j, level), make_collinear(ly.grad_B, j, level);
      if (collinear & 2u) make_collinear(ly.B, j, level), make_collinear(ly.grad_A, j, level);
    }
  }
  auto exponents = [&in](int count) {
    std::vector<int> e(static_cast<std::size_t>(count));
    for (int& x : e) x = int(static_cast<std::int8_t>(in.u8())) / 2;
    return e;
  };
  if (rows & 1u) {
    const std::vector<int> e = exponents(ly.m);
    scale_rows(ly.A, e);
    scale_rows(ly.grad_A, e);
  }
  if (rows & 2u) {
    const std::vector<int> e = exponents(ly.n);
    scale_rows(ly.B, e);
    scale_rows(ly.grad_B, e);
  }
  if (flags & 16u) gradients_of_low_rank_g(ly, 1 + in.u8() % ly.r);
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
    decode_extension(in, ly);
    step.layers.push_back(std::move(ly));
  }
  return step;
}

}  // namespace scalora::fuzz
