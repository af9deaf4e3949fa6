// SPDX-License-Identifier: Apache-2.0
// Eigen aliases and the parameters every step needs.
#pragma once

#include <Eigen/Core>

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

/// The constants of the loss bound (spec section 2).
/// D1: lr is the PEAK learning rate (the scheduled one would blow alpha, beta up
/// during warm-up and decay). D2: with lora_scale, kappa = L lr lora_scale^2.
///   L:          smoothness constant of the loss in W (> 0)
///   lr:         learning rate eta entering kappa (D1: the peak learning rate)
///   lora_scale: omega in W = W_pt + lora_scale A B^T (PEFT's lora_alpha / r); gradients
///               from autograd already contain it
/// kappa = L * lr * lora_scale^2 is the only combination the scalings depend on.
template <class T>
struct BoundParameters {
  T L = T(1);
  T lr = T(1);
  T lora_scale = T(1);
  T kappa() const { return L * lr * lora_scale * lora_scale; }
};

}  // namespace scalora
