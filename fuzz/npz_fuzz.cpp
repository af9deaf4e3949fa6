// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary bytes into parse_npz; what parses must re-serialise, STORED
// and DEFLATED, and re-parse to the same tensors.
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kFuzzMaxInput) return 0;
  scalora::io::TensorFile parsed;
  try {
    parsed = scalora::io::parse_npz(data, size, "fuzz.npz");
  } catch (const scalora::error&) {
    return 0;
  }
  for (auto compression : {scalora::io::npz_compression::stored, scalora::io::npz_compression::deflated}) {
    const std::vector<unsigned char> bytes = scalora::io::serialize_npz(parsed.tensors, compression);
    const scalora::io::TensorFile again = scalora::io::parse_npz(bytes.data(), bytes.size(), "round trip");
    SCALORA_FUZZ_REQUIRE(again == parsed);
  }
  return 0;
}
