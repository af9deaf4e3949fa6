// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary bytes into parse_safetensors; what parses must re-serialise
// and re-parse to the same tensors and metadata.
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kFuzzMaxInput) return 0;
  scalora::io::TensorFile parsed;
  try {
    parsed = scalora::io::parse_safetensors(data, size, "fuzz.safetensors");
  } catch (const scalora::error&) {
    return 0;  // rejected with a typed error: fine
  }
  const std::vector<unsigned char> bytes = scalora::io::serialize_safetensors(parsed.tensors, parsed.metadata);
  const scalora::io::TensorFile again = scalora::io::parse_safetensors(bytes.data(), bytes.size(), "round trip");
  SCALORA_FUZZ_REQUIRE(again == parsed);
  for (const scalora::io::Tensor& t : parsed.tensors) scalora::fuzz::check_matrix_round_trip(t);
  return 0;
}
