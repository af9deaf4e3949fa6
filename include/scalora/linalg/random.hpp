// SPDX-License-Identifier: Apache-2.0
// Reproducible Gaussian matrices for examples, tests and benchmarks: the same
// seed gives the same bits on every platform (std::mt19937_64 is specified
// exactly; the Box-Muller transform below is ours, not the library's
// unspecified std::normal_distribution).
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

#include "scalora/linalg/types.hpp"

namespace scalora {

/// rows x cols matrix of independent standard normal values, column by column.
inline Matrix<double> gaussian_matrix(Index rows, Index cols, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  Matrix<double> out(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) {
      const double u1 = (double(gen() >> 11) + 0.5) / 9007199254740992.0;  // (0, 1)
      const double u2 = (double(gen() >> 11) + 0.5) / 9007199254740992.0;
      out(i, j) = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }
  return out;
}

}  // namespace scalora
