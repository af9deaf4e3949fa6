// SPDX-License-Identifier: Apache-2.0
// Shared checks of the fuzz harnesses: a property macro that traps, and value
// comparisons that treat every NaN as equal (conversions make NaNs quiet).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "fuzz_require.hpp"
#include "scalora/io.hpp"

namespace scalora::fuzz {

/// a and b bit-identical, or both NaN.
inline bool same_value(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  std::uint64_t x, y;
  std::memcpy(&x, &a, 8);
  std::memcpy(&y, &b, 8);
  return x == y;
}

/// A BOOL or integer tensor has no values: value, scalar_value, to_matrix and
/// value_dtype throw io_error not_floating.
inline void check_not_floating(const io::Tensor& t) {
  const auto refused = [](auto f) {
    try {
      f();
    } catch (const io::io_error& e) {
      return e.problem() == io::io_problem::not_floating;
    }
    return false;
  };
  SCALORA_FUZZ_REQUIRE(refused([&] { t.to_matrix<double>(); }));
  SCALORA_FUZZ_REQUIRE(refused([&] { t.scalar_value(); }));
  SCALORA_FUZZ_REQUIRE(refused([&] { t.value(0); }));
  SCALORA_FUZZ_REQUIRE(refused([&] { io::value_dtype(t); }));
}

/// value_dtype(t) is the first of BF16, F16, F32, F64 through which every element
/// comes back unchanged when encoded and decoded (the encoders as the oracle).
inline void check_value_dtype(const io::Tensor& t) {
  io::dtype expected = io::dtype::f64;
  for (io::dtype d : {io::dtype::bf16, io::dtype::f16, io::dtype::f32}) {
    bool holds = true;
    for (std::int64_t i = 0; holds && i < t.element_count(); ++i) {
      unsigned char buf[8];
      io::encode_element(d, t.value(i), buf);
      holds = same_value(io::decode_element(d, buf), t.value(i));
    }
    if (holds) {
      expected = d;
      break;
    }
  }
  SCALORA_FUZZ_REQUIRE(io::value_dtype(t) == expected);
}

/// For a floating tensor: check_value_dtype, and at rank <= 2, to_matrix<double> then
/// from_matrix gives back every element (bit for bit, NaN up to quieting), and
/// to_matrix<float> is the rounded value. For a BOOL or integer one: check_not_floating.
inline void check_matrix_round_trip(const io::Tensor& t) {
  if (!io::is_floating(t.type)) return check_not_floating(t);
  check_value_dtype(t);
  if (t.shape.size() > 2) return;
  const Eigen::MatrixXd m = t.to_matrix<double>();
  SCALORA_FUZZ_REQUIRE(m.size() == t.element_count());
  const io::Tensor back = io::from_matrix(t.name, m, t.type);
  SCALORA_FUZZ_REQUIRE(back.data.size() == t.data.size());
  const Eigen::MatrixXf f = t.to_matrix<float>();
  for (std::int64_t i = 0; i < t.element_count(); ++i) {
    const double v = t.value(i);
    SCALORA_FUZZ_REQUIRE(same_value(back.value(i), v));
    const Eigen::Index r = m.cols() == 0 ? 0 : i / m.cols(), c = m.cols() == 0 ? 0 : i % m.cols();
    SCALORA_FUZZ_REQUIRE(same_value(m(r, c), v));
    SCALORA_FUZZ_REQUIRE(same_value(f(r, c), io::round_to_float(v)));
  }
}

}  // namespace scalora::fuzz
