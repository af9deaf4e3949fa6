// SPDX-License-Identifier: Apache-2.0
// Shadow verification of the trainer's kernel steps: host copies of a live
// adapted layer in the form of the gpu checks' reference bridge
// (gpu/tests/reference_check.hpp, whose check_layer() runs the exact
// reference and compare_step() in a host-compiled library).
#pragma once

#include "reference_check.hpp"
#include "scalora/model/adapted.hpp"

namespace scalora::train {

/// Row-major double copy of a column-major float view (exact).
inline gpu_test::HostMatrix host_matrix(const MatrixView<float>& m) {
  gpu_test::HostMatrix h{int(m.rows()), int(m.cols()), std::vector<double>(std::size_t(m.size()))};
  for (Index i = 0; i < m.rows(); ++i)
    for (Index j = 0; j < m.cols(); ++j) h.v[std::size_t(i * m.cols() + j)] = double(m(i, j));
  return h;
}

/// The state a kernel step reads and writes: factors, gradients, moments (when
/// present), the float W_pt and the LoRA scale.
inline gpu_test::HostLayer host_layer(const model::AdaptedLayer<float>& a) {
  gpu_test::HostLayer h;
  h.single = true;
  h.lora_scale = double(a.scale);
  h.A = host_matrix(a.A);
  h.B = host_matrix(a.B);
  h.grad_A = host_matrix(a.grad_A);
  h.grad_B = host_matrix(a.grad_B);
  if (a.exp_avg_A.size() != 0) {
    h.exp_avg_A = host_matrix(a.exp_avg_A);
    h.exp_avg_sq_A = host_matrix(a.exp_avg_sq_A);
    h.exp_avg_B = host_matrix(a.exp_avg_B);
    h.exp_avg_sq_B = host_matrix(a.exp_avg_sq_B);
  }
  h.W = host_matrix(a.W_pt);
  return h;
}

}  // namespace scalora::train
