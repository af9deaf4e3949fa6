// SPDX-License-Identifier: Apache-2.0
// Counter-based randomness for the syn-* generators: a SplitMix64 stream keyed
// by (seed, task, split, index), with our own uniform, normal and choice.
//
// Every draw is integer arithmetic or an exact dyadic conversion, so the same
// key gives the same values on every platform and compiler (no <random>
// distributions, no libm). normal() is the Irwin-Hall sum of 12 uniforms minus
// 6, on the grid 2^-16: mean -2^-17, variance 1 + O(2^-32), support [-6, 6].
#pragma once

#include <cstdint>
#include <iterator>
#include <string_view>
#include <utility>
#include <vector>

namespace scalora::tasks {

/// SplitMix64 finaliser (Stafford mix 13): a bijection on 64-bit words.
inline constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// Hash chain: combine(h, x) = mix64(h + golden * (x + 1)); order matters.
inline constexpr std::uint64_t hash_combine(std::uint64_t h, std::uint64_t x) {
  return mix64(h + 0x9e3779b97f4a7c15ULL * (x + 1));
}

/// FNV-1a 64 of a string, then mixed: stable ids for task names and domains.
inline constexpr std::uint64_t hash_string(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return mix64(h);
}

/// Key of one stream: hash chain over its components.
template <class... Parts>
constexpr std::uint64_t stream_key(std::uint64_t seed, Parts... parts) {
  std::uint64_t h = mix64(seed ^ 0x5ca10aa5ca10aa5ULL);
  ((h = hash_combine(h, static_cast<std::uint64_t>(parts))), ...);
  return h;
}

/// A SplitMix64 stream starting at a key. Copyable; draws advance it.
class Stream {
 public:
  explicit constexpr Stream(std::uint64_t key) : state_(key) {}

  /// Next 64 random bits.
  constexpr std::uint64_t next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return mix64(state_);
  }

  /// Uniform on [0, 1) with 53 random bits (exact dyadic).
  double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }

  /// Uniform on [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  /// Uniform integer in [0, n), n >= 1: x mod n, rejecting the 2^64 mod n
  /// smallest words so that every residue is equally likely.
  std::uint64_t below(std::uint64_t n) {
    if (n <= 1) return 0;
    const std::uint64_t threshold = (0 - n) % n;
    std::uint64_t x = next();
    while (x < threshold) x = next();
    return x % n;
  }

  /// Uniform int in [lo, hi] inclusive.
  int between(int lo, int hi) { return lo + int(below(std::uint64_t(hi - lo) + 1)); }

  /// true with probability p (compared on the 53-bit grid).
  bool bernoulli(double p) { return uniform() < p; }

  /// Approximately standard normal: Irwin-Hall(12) - 6 on the grid 2^-16 (exact).
  double normal() {
    std::uint64_t sum = 0;
    for (int k = 0; k < 6; ++k) {
      const std::uint64_t bits = next();
      sum += (bits >> 32) + (bits & 0xffffffffULL);
    }
    const std::int64_t grid = std::int64_t(sum >> 16) - (std::int64_t(6) << 16);
    return double(grid) * (1.0 / 65536.0);
  }

  /// A uniformly chosen element of a non-empty container.
  template <class Container>
  const auto& choice(const Container& c) {
    return c[below(std::size(c))];
  }

  /// Index drawn with probability proportional to weights (non-negative, not all 0).
  std::size_t weighted(const std::vector<double>& weights) {
    double total = 0;
    for (double w : weights) total += w;
    double u = uniform() * total;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (u < weights[i]) return i;
      u -= weights[i];
    }
    return weights.size() - 1;
  }

  /// Fisher-Yates shuffle.
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  std::uint64_t state_;
};

}  // namespace scalora::tasks
