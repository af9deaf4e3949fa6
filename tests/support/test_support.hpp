// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the unit tests: layers built from an explicit G, exact
// small cases, epsilon-unit comparisons, type names for doctest.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>

#include "scalora/linalg/random.hpp"
#include "scalora/scalora.hpp"

namespace scalora::test {

/// Matrix from a row-major initializer list of integers (exact in every type).
template <class T>
Matrix<T> mat(Index rows, Index cols, std::initializer_list<long> values) {
  Matrix<T> out(rows, cols);
  auto it = values.begin();
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) out(i, j) = T(*it++);
  return out;
}

/// A layer with gradients taken from an explicit G: grad_A = G B, grad_B = G^T A.
template <class T>
Layer<T> layer_from_gradient(const Matrix<T>& A, const Matrix<T>& B, const Matrix<T>& G) {
  Layer<T> l;
  l.A = A;
  l.B = B;
  l.grad_A = G * B;
  l.grad_B = G.transpose() * A;
  return l;
}

/// Deterministic standard-normal matrix (scalora::gaussian_matrix).
inline Matrix<double> gaussian(Index rows, Index cols, std::uint64_t seed) { return gaussian_matrix(rows, cols, seed); }

/// |a - b| <= k eps max(|b|, floor): the check every hand case uses, with k
/// from docs/numerics.md.
template <class T>
bool close_eps(const T& a, const T& b, double k, const T& floor = T(0)) {
  using std::abs;
  T scale = abs(b);
  if (scale < floor) scale = floor;
  return abs(a - b) <= T(k) * scalar_traits<T>::epsilon() * scale;
}

template <class T>
std::string str(const T& x) {
  std::ostringstream os;
  os.precision(20);
  os << x;
  return os.str();
}

}  // namespace scalora::test

/// CHECK that a == b within k epsilon of T relative to max(|b|, floor), with both values printed.
#define SCALORA_CHECK_EPS(a, b, k)                                                                         \
  DOCTEST_CHECK_MESSAGE(::scalora::test::close_eps((a), (b), (k)),                                       \
                        #a " = " << ::scalora::test::str(a) << ", expected " << ::scalora::test::str(b) \
                                 << " within " << (k) << " eps")
#define SCALORA_CHECK_EPS_FLOOR(a, b, k, floor)                                                            \
  DOCTEST_CHECK_MESSAGE(::scalora::test::close_eps((a), (b), (k), (floor)),                              \
                        #a " = " << ::scalora::test::str(a) << ", expected " << ::scalora::test::str(b) \
                                 << " within " << (k) << " eps (floor " << ::scalora::test::str(floor) << ")")
