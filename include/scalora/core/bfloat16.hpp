// SPDX-License-Identifier: Apache-2.0
// bfloat16 <-> float conversion on the bit pattern (1 sign, 8 exponent, 7
// mantissa bits: the top half of an IEEE float). Host and device, identical on
// every backend.
#pragma once

#include <cstdint>
#include <cstring>

#include "scalora/config.hpp"

namespace scalora {

/// The bits of a float (memcpy: defined behaviour, compiled to a move).
SCALORA_HD inline std::uint32_t float_bits(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

SCALORA_HD inline float float_from_bits(std::uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

/// Exact: every bfloat16 value is a float.
SCALORA_HD inline float bf16_to_float(std::uint16_t h) { return float_from_bits(std::uint32_t(h) << 16); }

/// Round to nearest, ties to even; NaN stays a quiet NaN with its sign;
/// overflow rounds to infinity as IEEE rounding does.
/// @post |bf16_to_float(float_to_bf16(x)) - x| <= 2^-8 |x| for finite results.
SCALORA_HD inline std::uint16_t float_to_bf16(float x) {
  const std::uint32_t u = float_bits(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return std::uint16_t((u >> 16) | 0x0040u);  // NaN: keep quiet
  const std::uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
  return std::uint16_t((u + rounding) >> 16);
}

}  // namespace scalora
