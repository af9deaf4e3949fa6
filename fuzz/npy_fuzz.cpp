// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary bytes into parse_npy; what parses must re-serialise (C
// order, little-endian, version 1.0/2.0) and re-parse to the same tensor.
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kFuzzMaxInput) return 0;
  scalora::io::Tensor parsed;
  try {
    parsed = scalora::io::parse_npy(data, size, "fuzz.npy", "x");
  } catch (const scalora::error&) {
    return 0;
  }
  const std::vector<unsigned char> bytes = scalora::io::serialize_npy(parsed);
  const scalora::io::Tensor again = scalora::io::parse_npy(bytes.data(), bytes.size(), "round trip", "x");
  SCALORA_FUZZ_REQUIRE(again == parsed);
  scalora::fuzz::check_matrix_round_trip(parsed);
  return 0;
}
