// SPDX-License-Identifier: Apache-2.0
// libFuzzer target (structured): bytes -> up to 4 tensors of any dtype, rank <= 4, dims
// <= 8, arbitrary element bits and names, plus metadata; write in every format, read
// back, require equality. Also checks that encode rounds to the nearest neighbour.
#include <cstring>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "fuzz_support.hpp"

namespace {

/// Consumes the input front to back; zeros once it runs out.
struct Input {
  const std::uint8_t* p;
  std::size_t left;
  std::uint8_t byte() {
    if (left == 0) return 0;
    --left;
    return *p++;
  }
  std::string text(std::size_t max) {
    std::string s;
    const std::size_t n = byte() % (max + 1);
    for (std::size_t i = 0; i < n; ++i) s += static_cast<char>(0x20 + byte() % 95);  // printable ASCII
    return s;
  }
};

using scalora::io::dtype;

/// encode(x) is a nearest representable value: no neighbouring pattern is closer.
template <class Encode, class Decode>
void check_nearest(double x, Encode encode, Decode decode) {
  if (!std::isfinite(x)) return;
  const std::uint16_t b = encode(x);
  const double v = decode(b);
  if (!std::isfinite(v)) return;
  for (int step : {-1, 1}) {
    const std::uint16_t n = static_cast<std::uint16_t>(b + step);
    if (((n ^ b) & 0x8000) != 0) continue;  // crossed the sign bit
    const double w = decode(n);
    if (std::isfinite(w)) SCALORA_FUZZ_REQUIRE(std::fabs(v - x) <= std::fabs(w - x));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace scalora::io;
  if (size > kFuzzMaxInput) return 0;
  Input in{data, size};
  std::vector<Tensor> tensors;
  const int count = in.byte() % 5;
  bool has_bf16 = false;
  for (int i = 0; i < count; ++i) {
    Tensor t;
    t.name = "t" + std::to_string(i) + in.text(6);
    t.type = kDtypes[in.byte() % std::size(kDtypes)];
    has_bf16 = has_bf16 || t.type == dtype::bf16;
    const int rank = in.byte() % 5;
    for (int d = 0; d < rank; ++d) t.shape.push_back(in.byte() % 9);
    t.data.resize(static_cast<std::size_t>(t.byte_size()));
    for (unsigned char& b : t.data) b = in.byte();
    tensors.push_back(std::move(t));
  }
  std::map<std::string, std::string> metadata;
  const int entries = in.byte() % 3;
  for (int i = 0; i < entries; ++i) metadata[in.text(8)] = in.text(8);

  const std::vector<unsigned char> st = serialize_safetensors(tensors, metadata);
  const TensorFile from_st = parse_safetensors(st.data(), st.size(), "round trip");
  SCALORA_FUZZ_REQUIRE(from_st.tensors == tensors);
  SCALORA_FUZZ_REQUIRE(from_st.metadata == metadata);

  for (auto compression : {npz_compression::stored, npz_compression::deflated}) {
    if (has_bf16) {
      try {
        serialize_npz(tensors, compression);
        SCALORA_FUZZ_REQUIRE(!"BF16 written to npz");
      } catch (const io_error& e) {
        SCALORA_FUZZ_REQUIRE(e.problem() == io_problem::unsupported_dtype);
      }
      continue;
    }
    const std::vector<unsigned char> z = serialize_npz(tensors, compression);
    SCALORA_FUZZ_REQUIRE(parse_npz(z.data(), z.size(), "round trip").tensors == tensors);
  }
  for (const Tensor& t : tensors) {
    scalora::fuzz::check_matrix_round_trip(t);
    if (t.type == dtype::bf16) continue;
    const std::vector<unsigned char> npy = serialize_npy(t);
    SCALORA_FUZZ_REQUIRE(parse_npy(npy.data(), npy.size(), "round trip", t.name) == t);
    if (!is_floating(t.type)) continue;
    for (std::int64_t i = 0; i < t.element_count(); ++i) {
      const double x = t.value(i);
      check_nearest(x, encode_f16, decode_f16);
      check_nearest(x, encode_bf16, decode_bf16);
    }
  }
  return 0;
}
