// SPDX-License-Identifier: Apache-2.0
// Consumer of the installed scalora::io: writes a safetensors file, reads it back, compares.
#include <iostream>
#include <scalora/io.hpp>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  using namespace scalora::io;
  Eigen::MatrixXd A(2, 3);
  A << 1, 2, 3, 4, 5, 6;
  const std::vector<Tensor> tensors = {from_matrix("A", A, dtype::bf16), from_scalar("lr", 1e-3, dtype::f64)};
  write_safetensors(argv[1], tensors, {{"format", "pt"}});
  const TensorFile f = read_safetensors(argv[1]);
  const bool same = f.tensors == tensors && f.find("A")->to_matrix<double>() == A;
  std::cout << (same ? "pass" : "FAIL") << " safetensors round trip through the installed scalora::io\n";
  return same ? 0 : 1;
}
