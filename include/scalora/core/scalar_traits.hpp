// SPDX-License-Identifier: Apache-2.0
// Per-scalar facts used by the core: machine epsilon and the accumulation type.
#pragma once

#include <cmath>
#include <limits>

#include "scalora/config.hpp"

namespace scalora {

/// scalar_traits<T>::epsilon() is the machine epsilon of T (distance from 1 to
/// the next representable number; 2^-52 for double). Tolerances throughout the
/// toolkit are written as k * epsilon() with k documented in docs/numerics.md.
///
/// D10: accumulate_type is the type the Gram matrices M and the aggregates p, q, s,
/// x, y are accumulated in: double for float inputs (docs/numerics.md, "float
/// inputs"), the input type otherwise.
template <class T>
struct scalar_traits {
  using accumulate_type = T;
  static T epsilon() { return std::numeric_limits<T>::epsilon(); }
  static T max_finite() { return std::numeric_limits<T>::max(); }
  static T quiet_nan() { return std::numeric_limits<T>::quiet_NaN(); }
};

template <>
struct scalar_traits<float> {
  using accumulate_type = double;
  SCALORA_HD static constexpr float epsilon() { return 1.1920928955078125e-7f; }  // 2^-23
  SCALORA_HD static constexpr float max_finite() { return 3.40282346638528859811704183484516925e38f; }
  SCALORA_HD static float quiet_nan() { return __builtin_nanf(""); }
};

template <>
struct scalar_traits<double> {
  using accumulate_type = double;
  SCALORA_HD static constexpr double epsilon() { return 2.220446049250313080847e-16; }  // 2^-52
  SCALORA_HD static constexpr double max_finite() { return 1.79769313486231570814527423731704357e308; }
  SCALORA_HD static double quiet_nan() { return __builtin_nan(""); }
};

template <class T>
using accumulate_t = typename scalar_traits<T>::accumulate_type;

namespace detail {
SCALORA_HD_NOWARN
template <class T>
SCALORA_HD inline T max_of(const T& a, const T& b) { return a < b ? b : a; }
SCALORA_HD_NOWARN
template <class T>
SCALORA_HD inline T min_of(const T& a, const T& b) { return b < a ? b : a; }
}  // namespace detail

}  // namespace scalora
