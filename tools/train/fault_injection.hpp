// SPDX-License-Identifier: Apache-2.0
// scalora-train --inject-fault LAYER@STEP: a planted kernel fault the next
// shadow check must catch (tests: train.planted_fault).
#pragma once

#include <string>

namespace scalora::train {

/// After the kernels' step at log step `step`, column 0 of layer `layer`'s A is
/// scaled by (1 + 2^-10) (KernelRescaler).
struct FaultInjection {
  std::string layer;  ///< empty: off
  long step = 0;
};

}  // namespace scalora::train
