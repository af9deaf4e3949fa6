// SPDX-License-Identifier: Apache-2.0
// Hard layers (tests/support/hard_layers.hpp) for the kernels' properties: built
// with Eigen in a host-compiled translation unit (hard_host_layer.cpp), handed
// to the nvcc- or g++-compiled property test as plain host copies.
#pragma once

#include "hard_layer_case.hpp"
#include "reference_check.hpp"

namespace scalora::gpu_test {

/// A hard layer as the kernels' host copy with a float W_pt, and its bound parameters.
struct HardHostLayer {
  HostLayer layer;
  BoundParameters<double> bound;  ///< L, lr and the layer's LoRA scale
};
HardHostLayer hard_host_layer(const scalora::test::HardLayerCase& c);

}  // namespace scalora::gpu_test
