// SPDX-License-Identifier: Apache-2.0
// doctest main for the gpu checks: on the CUDA backend without a device it
// prints SKIP and returns 77 (CTest SKIP_RETURN_CODE), unless only listing.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <thrust/detail/config.h>

#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
#  include <cuda_runtime.h>
#endif

int main(int argc, char** argv) {
#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
  bool listing = false;
  for (int i = 1; i < argc; ++i)
    if (std::strstr(argv[i], "list") != nullptr) listing = true;
  int devices = 0;
  if (!listing && (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0)) {
    std::puts("SKIP: no CUDA device");
    return 77;
  }
#endif
  doctest::Context context(argc, argv);
  return context.run();
}
