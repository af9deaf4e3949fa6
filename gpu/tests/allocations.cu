// SPDX-License-Identifier: Apache-2.0
// The batched step allocates no m x n temporary: every device allocation goes
// through a counting allocator (the workspace and any Thrust temporary via the
// execution policy), and the total stays O((m + n + r) r) per layer.
#include <doctest/doctest.h>

#include <thrust/device_allocator.h>

#include "device_layer.hpp"

using namespace scalora;
using namespace scalora::gpu_test;

namespace {

struct AllocationLog {
  std::size_t calls = 0, bytes = 0, largest = 0;
};

/// thrust::device_allocator that records every allocation.
template <class T>
struct counting_allocator : thrust::device_allocator<T> {
  using base = thrust::device_allocator<T>;
  template <class U>
  struct rebind {
    using other = counting_allocator<U>;
  };
  AllocationLog* log = nullptr;
  counting_allocator() = default;
  explicit counting_allocator(AllocationLog* l) : log(l) {}
  template <class U>
  counting_allocator(const counting_allocator<U>& o) : base(o), log(o.log) {}
  typename base::pointer allocate(typename base::size_type n) {
    if (log) {
      ++log->calls;
      log->bytes += n * sizeof(T);
      log->largest = std::max(log->largest, std::size_t(n * sizeof(T)));
    }
    return base::allocate(n);
  }
};

}  // namespace

TEST_CASE("extra device memory is O((m + n + r) r) per layer, no m x n temporary") {
  const int shapes[][3] = {{1024, 768, 8}, {2048, 512, 8}, {512, 2048, 4}};
  std::vector<HostLayer> hosts;
  std::uint64_t seed = 1;
  for (const auto& sh : shapes) {
    LayerSpec s;
    s.m = sh[0];
    s.n = sh[1];
    s.r = sh[2];
    s.seed = seed += 10;
    hosts.push_back(make_host_layer<float>(s));
  }
  std::vector<std::unique_ptr<DeviceLayer<float>>> dev;
  std::vector<gpu::Layer<float>> descs;
  for (const HostLayer& h : hosts) {
    dev.push_back(std::make_unique<DeviceLayer<float>>(h, false, false));
    descs.push_back(dev.back()->desc());
  }
  AllocationLog log;
  counting_allocator<char> alloc(&log);
  gpu::BatchStep<float, counting_allocator<char>> batch(descs, alloc);
  gpu::StepConfig cfg;
  for (long t = 0; t < 3; ++t) batch.step(thrust::device(alloc), cfg, t);

  std::size_t budget = 0, smallest_w = ~std::size_t(0);
  for (const auto& sh : shapes) {
    const std::size_t m = std::size_t(sh[0]), n = std::size_t(sh[1]), r = std::size_t(sh[2]);
    // Per layer: partial Grams (tiles x (2r)(2r+1)/2 doubles), P and Q, the 2r x 2r
    // system and solver work, scalings, and the r x len float merge factor.
    budget += 8 * ((m + n + r) * r) * 4;
    smallest_w = std::min(smallest_w, m * n * sizeof(float));
  }
  MESSAGE("allocations " << log.calls << ", bytes " << log.bytes << ", largest " << log.largest << ", budget "
                         << budget << ", smallest m x n float " << smallest_w);
  CHECK(log.calls > 0);
  // Everything allocated is the batch's workspace: no hidden temporaries.
  CHECK(log.bytes == batch.workspace_bytes());
  CHECK(log.bytes <= budget);
  CHECK(log.largest < smallest_w / 4);
}
