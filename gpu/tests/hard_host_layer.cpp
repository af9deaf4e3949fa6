// SPDX-License-Identifier: Apache-2.0
// The host-compiled side of hard_host_layer.hpp.
#include "hard_host_layer.hpp"

#include "hard_layers.hpp"

namespace scalora::gpu_test {

HardHostLayer hard_host_layer(const scalora::test::HardLayerCase& c) {
  const scalora::test::HardLayer h = scalora::test::build_hard_layer(c);
  auto copy = [](const Matrix<double>& x) {
    HostMatrix out{int(x.rows()), int(x.cols()), std::vector<double>(std::size_t(x.size()))};
    for (Index i = 0; i < x.rows(); ++i)
      for (Index j = 0; j < x.cols(); ++j) out.v[std::size_t(i * x.cols() + j)] = x(i, j);
    return out;
  };
  HardHostLayer out;
  out.bound = h.bound;
  HostLayer& hl = out.layer;
  hl.single = c.storage == scalora::test::storage_type::float32;
  hl.lora_scale = h.bound.lora_scale;
  const Layer<double>& l = h.layer;
  hl.A = copy(l.A);
  hl.B = copy(l.B);
  hl.grad_A = copy(l.grad_A);
  hl.grad_B = copy(l.grad_B);
  if (!l.moments.empty()) {
    hl.exp_avg_A = copy(l.moments.exp_avg_A);
    hl.exp_avg_sq_A = copy(l.moments.exp_avg_sq_A);
    hl.exp_avg_B = copy(l.moments.exp_avg_B);
    hl.exp_avg_sq_B = copy(l.moments.exp_avg_sq_B);
  }
  if (l.W_pt.size() != 0) {
    hl.W = copy(l.W_pt.cast<float>().cast<double>());
  }
  return out;
}

}  // namespace scalora::gpu_test
