// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary bytes as a case file (safetensors, or npz when the bytes
// start like a ZIP) into case_from_tensors; what it accepts must be a consistent Case:
// shapes agree with m, n, r, inputs are finite, L, lr, lora_scale finite and > 0, every
// tensor used is floating and has a value dtype.
#include <algorithm>

#include "fuzz_support.hpp"
#include "scalora/io/case_file.hpp"

namespace {
bool shaped(const Eigen::MatrixXd& x, Eigen::Index rows, Eigen::Index cols) {
  return x.size() == 0 || (x.rows() == rows && x.cols() == cols);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sio = scalora::io;
  if (size > kFuzzMaxInput) return 0;
  sio::Case c;
  try {
    const bool zip = size >= 2 && data[0] == 'P' && data[1] == 'K';
    const sio::TensorFile file =
        zip ? sio::parse_npz(data, size, "fuzz.npz") : sio::parse_safetensors(data, size, "fuzz.safetensors");
    c = sio::case_from_tensors(file, "fuzz.case");
  } catch (const scalora::error&) {
    return 0;  // rejected with a typed error: fine
  }
  const auto m = c.m, n = c.n, r = c.r;
  SCALORA_FUZZ_REQUIRE(m >= 1 && n >= 1 && r >= 1);
  SCALORA_FUZZ_REQUIRE(c.input.A.rows() == m && c.input.A.cols() == r && c.input.B.rows() == n && c.input.B.cols() == r);
  SCALORA_FUZZ_REQUIRE(shaped(c.input.grad_A, m, r) && c.input.grad_A.size() != 0);
  SCALORA_FUZZ_REQUIRE(shaped(c.input.grad_B, n, r) && c.input.grad_B.size() != 0);
  SCALORA_FUZZ_REQUIRE(shaped(c.input.W_pt, m, n) && shaped(c.G, m, n) && shaped(c.output.W_pt, m, n));
  SCALORA_FUZZ_REQUIRE(shaped(c.output.A, m, r) && shaped(c.output.B, n, r));
  SCALORA_FUZZ_REQUIRE(shaped(c.output.moments.exp_avg_sq_A, m, r) && shaped(c.output.moments.exp_avg_sq_B, n, r));
  SCALORA_FUZZ_REQUIRE(c.out_alpha.size() == 0 || c.out_alpha.size() == r);
  SCALORA_FUZZ_REQUIRE(c.out_beta.size() == 0 || c.out_beta.size() == r);
  for (double v : {c.bound.L, c.bound.lr, c.bound.lora_scale}) SCALORA_FUZZ_REQUIRE(std::isfinite(v) && v > 0);
  SCALORA_FUZZ_REQUIRE(c.input.A.allFinite() && c.input.grad_B.allFinite() && c.input.W_pt.allFinite());
  SCALORA_FUZZ_REQUIRE(c.input.moments.exp_avg_sq_A.size() == 0 || c.input.moments.exp_avg_sq_A.minCoeff() >= 0);
  // Every tensor used is floating and has its value dtype; no ignored name is used.
  for (const auto& [name, type] : c.dtypes) {
    SCALORA_FUZZ_REQUIRE(sio::is_floating(type) && c.value_dtypes.count(name) == 1);
    SCALORA_FUZZ_REQUIRE(std::find(c.ignored.begin(), c.ignored.end(), name) == c.ignored.end());
  }
  SCALORA_FUZZ_REQUIRE(c.value_dtypes.size() == c.dtypes.size());
  // An output is only accepted with its input.
  SCALORA_FUZZ_REQUIRE(c.output.W_pt.size() == 0 || c.input.W_pt.size() != 0);
  SCALORA_FUZZ_REQUIRE(c.output.moments.exp_avg_B.size() == 0 || c.input.moments.exp_avg_B.size() != 0);
  return 0;
}
