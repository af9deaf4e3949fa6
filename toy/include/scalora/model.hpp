// SPDX-License-Identifier: Apache-2.0
// Umbrella header of the toy transformer encoder with LoRA (namespace scalora::model; Eigen only).
#pragma once

#include "scalora/model/adapted.hpp"
#include "scalora/model/config.hpp"
#include "scalora/model/layers.hpp"
#include "scalora/model/linear.hpp"
#include "scalora/model/optim.hpp"
#include "scalora/model/state.hpp"
#include "scalora/model/tensors.hpp"
#include "scalora/model/transformer.hpp"
