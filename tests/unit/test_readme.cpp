// SPDX-License-Identifier: Apache-2.0
// The README's library example, verbatim between the markers, on a random layer.
#include <iostream>

#include "scalora/scalora.hpp"
#include "test_support.hpp"

TEST_CASE("the README example compiles, runs and keeps W") {
  const scalora::Matrix<double> G = scalora::gaussian_matrix(20, 16, 1);
  const scalora::Matrix<double> W_pt = scalora::gaussian_matrix(20, 16, 2);
  const scalora::Matrix<double> A = scalora::gaussian_matrix(20, 4, 3);
  const scalora::Matrix<double> B = 0.1 * scalora::gaussian_matrix(16, 4, 4);
  const scalora::Matrix<double> grad_A = G * B, grad_B = G.transpose() * A;

  // --- README example begins
  scalora::Layer<double> layer;           // W = W_pt + A B^T
  layer.W_pt = W_pt;  layer.A = A;  layer.B = B;
  layer.grad_A = grad_A;  layer.grad_B = grad_B;        // from your backward pass
  scalora::StepOptions<double> options;
  options.bound.L = 10.0;  options.bound.lr = 1e-3;     // kappa = L * lr
  scalora::StepResult<double> r = scalora::scalora_step(layer, options);  // steps 2-8, in place
  std::cout << to_string(r.scaling.applied) << " alpha " << r.scaling.alpha.transpose()
            << " beta " << r.scaling.beta.transpose() << " bound decrease " << r.bound_decrease << "\n";
  // --- README example ends

  CHECK(r.bound_decrease >= r.vanilla_bound_decrease);
  CHECK(((layer.W_pt + layer.A * layer.B.transpose()) - (W_pt + A * B.transpose())).norm() <=
        1e-13 * (W_pt + A * B.transpose()).norm());
}
