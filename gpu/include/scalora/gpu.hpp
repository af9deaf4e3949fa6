// SPDX-License-Identifier: Apache-2.0
// Umbrella header of scalora::gpu: the batched ScaLoRA step as Thrust
// kernels. nvcc compiles it for CUDA; g++/clang++ for Thrust's CPP or OMP
// backend, which needs THRUST_DEVICE_SYSTEM defined (CMake: scalora::thrust_cpp,
// scalora::thrust_omp). Includes core/ only: never Eigen, never Boost.
#pragma once

#if !defined(__CUDACC__) && !defined(THRUST_DEVICE_SYSTEM)
#  error "scalora/gpu.hpp: define THRUST_DEVICE_SYSTEM (THRUST_DEVICE_SYSTEM_CPP or _OMP) when not compiling with nvcc"
#endif

#include "scalora/gpu/batch_step.hpp"
#include "scalora/gpu/kernels.hpp"
#include "scalora/gpu/layer.hpp"
