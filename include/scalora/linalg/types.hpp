// SPDX-License-Identifier: Apache-2.0
// Eigen aliases; the parameters every step needs (core/bound_parameters.hpp).
#pragma once

#include <Eigen/Core>

#include "scalora/core/bound_parameters.hpp"
#include "scalora/core/scalar_traits.hpp"

namespace scalora {

using Index = Eigen::Index;
template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;  // column-major
template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
/// A non-owning view of a contiguous column-major matrix; (nullptr, 0, 0) = absent.
template <class T>
using MatrixView = Eigen::Map<Matrix<T>>;

}  // namespace scalora
