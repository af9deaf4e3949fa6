// SPDX-License-Identifier: Apache-2.0
// Argument checks at the host API: shapes, finiteness, domains. Each failure
// throws scalora::invalid_argument naming the argument (error.hpp).
#pragma once

#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "scalora/error.hpp"
#include "scalora/linalg/types.hpp"

namespace scalora::detail {

template <class T>
std::string value_string(const T& x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

inline std::string shape_string(Index rows, Index cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

template <class Derived>
void check_shape(const char* name, const Eigen::MatrixBase<Derived>& x, Index rows, Index cols, const char* why) {
  if (x.rows() != rows || x.cols() != cols)
    throw invalid_argument(name, argument_problem::shape_mismatch,
                           "expected " + shape_string(rows, cols) + " (" + why + "), got " +
                               shape_string(x.rows(), x.cols()));
}

template <class Derived>
void check_finite(const char* name, const Eigen::MatrixBase<Derived>& x) {
  using std::isfinite;
  for (Index j = 0; j < x.cols(); ++j)
    for (Index i = 0; i < x.rows(); ++i)
      if (!isfinite(x(i, j)))
        throw invalid_argument(name, argument_problem::non_finite,
                               "entry (" + std::to_string(i) + "," + std::to_string(j) + ") is " +
                                   value_string(x(i, j)));
}

template <class T>
void check_positive(const char* name, const T& value) {
  using std::isfinite;
  if (!(value > T(0)) || !isfinite(value))
    throw invalid_argument(name, argument_problem::out_of_range,
                           "must be finite and > 0, got " + value_string(value));
}

template <class T>
void check_bound_parameters(const BoundParameters<T>& p) {
  check_positive("L", p.L);
  check_positive("lr", p.lr);
  check_positive("lora_scale", p.lora_scale);
  // kappa may under- or overflow; the scalings divide by it, so 1 / kappa must
  // be finite too: kappa is required to be a normal number.
  const T kappa = p.kappa();
  check_positive("kappa = L lr lora_scale^2", kappa);
  if (kappa < std::numeric_limits<T>::min())
    throw invalid_argument("kappa = L lr lora_scale^2", argument_problem::out_of_range,
                           "must be a normal number (>= " + value_string(std::numeric_limits<T>::min()) + "), got " +
                               value_string(kappa));
}

/// A (m x r), B (n x r), grad_A (m x r), grad_B (n x r): shapes and r >= 1.
template <class DA, class DB, class DGA, class DGB>
void check_factor_shapes(const Eigen::MatrixBase<DA>& A, const Eigen::MatrixBase<DB>& B,
                         const Eigen::MatrixBase<DGA>& grad_A, const Eigen::MatrixBase<DGB>& grad_B) {
  if (A.cols() < 1)
    throw invalid_argument("A", argument_problem::out_of_range, "rank r = A.cols() must be >= 1, got 0");
  if (A.rows() < 1) throw invalid_argument("A", argument_problem::empty, "m = A.rows() must be >= 1, got 0");
  if (B.rows() < 1) throw invalid_argument("B", argument_problem::empty, "n = B.rows() must be >= 1, got 0");
  check_shape("B", B, B.rows(), A.cols(), "n x r, r = A.cols()");
  check_shape("grad_A", grad_A, A.rows(), A.cols(), "m x r, the shape of A");
  check_shape("grad_B", grad_B, B.rows(), B.cols(), "n x r, the shape of B");
}

/// Shapes as check_factor_shapes(), and every entry finite.
template <class DA, class DB, class DGA, class DGB>
void check_factors(const Eigen::MatrixBase<DA>& A, const Eigen::MatrixBase<DB>& B,
                   const Eigen::MatrixBase<DGA>& grad_A, const Eigen::MatrixBase<DGB>& grad_B) {
  check_factor_shapes(A, B, grad_A, grad_B);
  check_finite("A", A);
  check_finite("B", B);
  check_finite("grad_A", grad_A);
  check_finite("grad_B", grad_B);
}

}  // namespace scalora::detail
