// SPDX-License-Identifier: Apache-2.0
// The constants of the loss bound (spec section 2): the one type the library,
// the kernels (gpu::StepConfig), the trainer (train::FinetuneSettings::bound())
// and the reference use. Host and device.
#pragma once

#include "scalora/config.hpp"

namespace scalora {

/// L, lr and the LoRA scale omega (lora_scale) of one layer; kappa = L lr omega^2
/// is the only combination the scalings depend on (decisions D1, D2).
///   L:          smoothness constant of the loss in W (> 0)
///   lr:         learning rate eta entering kappa (D1: the peak learning rate)
///   lora_scale: omega in W = W_pt + omega A B^T (PEFT's lora_alpha / r);
///               gradients from autograd already contain it
template <class T>
struct BoundParameters {
  T L = T(1);
  T lr = T(1);
  T lora_scale = T(1);

  /// kappa = L lr omega^2, the one place it is formed.
  SCALORA_HD T kappa() const { return kappa_as<T>(); }
  /// kappa in another arithmetic (an exact rational, a ball): U(L) U(lr) U(s) U(s).
  template <class U>
  SCALORA_HD U kappa_as() const {
    return U(L) * U(lr) * U(lora_scale) * U(lora_scale);
  }
  /// The same constants for a layer with its own LoRA scale.
  SCALORA_HD BoundParameters with_lora_scale(const T& s) const { return {L, lr, s}; }
};

}  // namespace scalora
