// SPDX-License-Identifier: Apache-2.0
// ScaLoRA-I scheduling: on which optimizer steps steps 2-8 of the algorithm
// (scaling, re-split, moment transfer) run. Spec section 7; docs/decisions.md, D8.
#pragma once

#include "scalora/config.hpp"

namespace scalora {

/// D8: interval = I of ScaLoRA-I (1 = ScaLoRA, rescale every step);
/// warmup_steps: optimizer steps at the start that never rescale.
struct RescaleSchedule {
  long interval = 1;
  long warmup_steps = 0;
};

/// True when the optimizer step with 0-based index `step` rescales:
/// step >= warmup_steps and (step - warmup_steps) mod interval == 0.
/// `step` counts optimizer steps, not micro-batches: with gradient
/// accumulation, the rescale happens once per optimizer step, after the last
/// micro-batch (docs/decisions.md, D8).
/// @pre interval >= 1, warmup_steps >= 0 (checked by validate() at the host API).
SCALORA_HD inline bool rescale_due(long step, const RescaleSchedule& schedule) {
  if (step < schedule.warmup_steps) return false;
  return (step - schedule.warmup_steps) % schedule.interval == 0;
}

}  // namespace scalora
