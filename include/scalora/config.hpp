// SPDX-License-Identifier: Apache-2.0
// Build configuration shared by every component: version, host/device markers.
#pragma once

#define SCALORA_VERSION_MAJOR 0
#define SCALORA_VERSION_MINOR 1
#define SCALORA_VERSION_PATCH 0

// SCALORA_HD marks functions that nvcc compiles for host and device (core/ only).
// SCALORA_HD_NOWARN silences nvcc's "host function called from host-device
// function" warning for templates instantiated with host-only scalars.
#if defined(__CUDACC__)
#  define SCALORA_HD __host__ __device__
#  define SCALORA_HD_NOWARN _Pragma("nv_exec_check_disable")
#else
#  define SCALORA_HD
#  define SCALORA_HD_NOWARN
#endif
