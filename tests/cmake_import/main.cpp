// SPDX-License-Identifier: Apache-2.0
// Consumer of the installed package: one library step checked against the reference.
#include <iostream>
#include <scalora/reference.hpp>

int main() {
  using namespace scalora;
  Layer<double> layer;
  const Matrix<double> G = Matrix<double>::Random(12, 10);
  layer.A = Matrix<double>::Random(12, 2);
  layer.B = Matrix<double>::Random(10, 2);
  layer.grad_A = G * layer.B;
  layer.grad_B = G.transpose() * layer.A;
  layer.W_pt = Matrix<double>::Random(12, 10);
  const Layer<double> input = layer;
  StepOptions<double> options;
  options.bound.L = 2.0;
  options.bound.lr = 0.05;
  const StepResult<double> result = scalora_step(layer, options);
  const reference::Comparison cmp =
      reference::compare_step(input, layer, result.scaling.alpha, result.scaling.beta, options.bound);
  for (const reference::Check& c : cmp.checks)
    std::cout << reference::to_string(c.status) << " " << c.id << ": " << c.value << " <= " << c.tolerance << "\n";
  return cmp.passed() ? 0 : 1;
}
