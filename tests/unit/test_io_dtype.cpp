// SPDX-License-Identifier: Apache-2.0
// dtype conversions bit for bit: exhaustive F16/BF16 decode->encode, encode against a
// brute-force nearest-value reference, F32 encode against the hardware conversion; the
// dtype table (floating, integer, bool); value_dtype on crafted values and against
// encode/decode round trips.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "scalora/io/dtype.hpp"

using namespace scalora::io;

namespace {

/// The format under test: bit widths and its encode/decode functions.
struct Format {
  const char* name;
  int exp_bits;
  int mant_bits;
  std::uint16_t (*encode)(double);
  double (*decode)(std::uint16_t);
};
const Format kF16{"F16", 5, 10, encode_f16, decode_f16};
const Format kBF16{"BF16", 8, 7, encode_bf16, decode_bf16};

std::uint64_t bits(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

/// Independent decoder: the textbook formula with ldexp (exact for these formats).
double reference_value(const Format& f, std::uint32_t b) {
  const std::uint32_t frac = b & ((1u << f.mant_bits) - 1);
  const std::uint32_t e = (b >> f.mant_bits) & ((1u << f.exp_bits) - 1);
  const bool negative = (b >> (f.exp_bits + f.mant_bits)) & 1;
  const int bias = (1 << (f.exp_bits - 1)) - 1;
  double v;
  if (e == (1u << f.exp_bits) - 1)
    v = frac ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else if (e == 0)
    v = std::ldexp(double(frac), 1 - bias - f.mant_bits);
  else
    v = std::ldexp(double(frac + (1u << f.mant_bits)), int(e) - bias - f.mant_bits);
  return negative ? -v : v;
}

/// Brute force: the non-negative finite values in increasing order (their bit
/// patterns increase with them), plus 2^(emax+1) standing for inf (pattern inf_bits),
/// which is where IEEE rounding sends |x| >= max + ulp(max)/2.
struct Table {
  std::vector<double> values;
  std::vector<std::uint32_t> codes;
};
Table make_table(const Format& f) {
  Table t;
  const std::uint32_t inf_bits = ((1u << f.exp_bits) - 1) << f.mant_bits;
  for (std::uint32_t b = 0; b < inf_bits; ++b) {
    t.values.push_back(reference_value(f, b));
    t.codes.push_back(b);
  }
  const int emax = (1 << (f.exp_bits - 1)) - 1;
  t.values.push_back(std::ldexp(1.0, emax + 1));
  t.codes.push_back(inf_bits);
  return t;
}

/// Nearest table entry to x >= 0, ties to the even pattern.
std::uint32_t nearest(const Table& t, double x) {
  const auto it = std::lower_bound(t.values.begin(), t.values.end(), x);
  if (it == t.values.end()) return t.codes.back();
  const std::size_t hi = static_cast<std::size_t>(it - t.values.begin());
  if (t.values[hi] == x || hi == 0) return t.codes[hi];
  const std::size_t lo = hi - 1;
  const double below = x - t.values[lo], above = t.values[hi] - x;  // exact: neighbours within 2x
  if (below < above) return t.codes[lo];
  if (above < below) return t.codes[hi];
  return (t.codes[lo] & 1) ? t.codes[hi] : t.codes[lo];
}

void check_round_trip_all_patterns(const Format& f) {
  const std::uint32_t quiet = 1u << (f.mant_bits - 1);
  const std::uint32_t sign = 1u << (f.exp_bits + f.mant_bits);
  int checked = 0;
  for (std::uint32_t b = 0; b < 65536; ++b) {
    const double v = f.decode(static_cast<std::uint16_t>(b));
    const double r = reference_value(f, b);
    const std::uint16_t back = f.encode(v);
    if (std::isnan(r)) {
      REQUIRE_MESSAGE(std::isnan(v), f.name << " pattern " << b);
      REQUIRE_MESSAGE(std::signbit(v) == bool(b & sign), f.name << " pattern " << b);
      // quiet NaN: same sign and payload, quiet bit set
      REQUIRE_MESSAGE(back == (b | quiet), f.name << " pattern " << b << " -> " << back);
    } else {
      REQUIRE_MESSAGE(bits(v) == bits(r), f.name << " pattern " << b << " decodes to " << v);
      REQUIRE_MESSAGE(back == b, f.name << " pattern " << b << " -> " << back);
      // decoding to float is exact too
      REQUIRE_MESSAGE(double(round_to_float(v)) == v, f.name << " pattern " << b);
    }
    ++checked;
  }
  CHECK(checked == 65536);
}

void check_encode_against_brute_force(const Format& f) {
  const Table t = make_table(f);
  std::vector<double> queries;
  for (std::size_t i = 0; i + 1 < t.values.size(); ++i) {
    const double a = t.values[i], b = t.values[i + 1];
    const double mid = a + (b - a) / 2;  // exact: needs mant_bits + 2 <= 53 bits
    for (double q : {a, mid, std::nextafter(mid, 0.0), std::nextafter(mid, 1e300), std::nextafter(a, 1e300)})
      queries.push_back(q);
  }
  const double last = t.values.back();
  for (double q : {last, std::nextafter(last, 0.0), 2 * last, 1e300, std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::denorm_min(), 1e-300, 0.0})
    queries.push_back(q);
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> exponent(-160, 140);
  std::uniform_real_distribution<double> mantissa(1, 2);
  for (int i = 0; i < 100000; ++i) queries.push_back(std::ldexp(mantissa(rng), int(exponent(rng))));

  const std::uint16_t sign = static_cast<std::uint16_t>(1u << (f.exp_bits + f.mant_bits));
  std::size_t checked = 0;
  for (double q : queries) {
    const std::uint32_t expected = nearest(t, q);
    REQUIRE_MESSAGE(f.encode(q) == expected, f.name << " encode(" << q << ")");
    REQUIRE_MESSAGE(f.encode(-q) == (expected | sign), f.name << " encode(" << -q << ")");
    ++checked;
  }
  CHECK(checked > 2 * 30000);
}

}  // namespace

TEST_CASE("F16: decode then encode gives back all 65536 patterns (NaN made quiet)") {
  check_round_trip_all_patterns(kF16);
}

TEST_CASE("BF16: decode then encode gives back all 65536 patterns (NaN made quiet)") {
  check_round_trip_all_patterns(kBF16);
}

TEST_CASE("F16: encode equals the brute-force nearest value, ties to even, overflow to inf") {
  check_encode_against_brute_force(kF16);
  CHECK(encode_f16(65504.0) == 0x7bff);
  CHECK(encode_f16(65519.99) == 0x7bff);
  CHECK(encode_f16(65520.0) == 0x7c00);             // the midpoint to 2^16 rounds to inf
  CHECK(encode_f16(std::ldexp(1.0, -24)) == 0x0001);  // smallest subnormal
  CHECK(encode_f16(std::ldexp(1.0, -25)) == 0x0000);  // tie with 0: even
  CHECK(encode_f16(std::ldexp(1.5, -25)) == 0x0001);
  CHECK(encode_f16(-0.0) == 0x8000);
}

TEST_CASE("BF16: encode equals the brute-force nearest value, ties to even, overflow to inf") {
  check_encode_against_brute_force(kBF16);
  CHECK(encode_bf16(1.0) == 0x3f80);
  CHECK(encode_bf16(1.0 + 1.0 / 256) == 0x3f80);  // tie: even
  CHECK(encode_bf16(1.0 + 3.0 / 256) == 0x3f82);  // tie: even (up)
  const double max = std::ldexp(255.0, 120), half_ulp = std::ldexp(1.0, 119);
  CHECK(encode_bf16(max) == 0x7f7f);
  CHECK(encode_bf16(max + half_ulp) == 0x7f80);  // tie with 2^128: even -> inf
  CHECK(encode_bf16(std::nextafter(max + half_ulp, 0.0)) == 0x7f7f);
}

TEST_CASE("F16/BF16: double rounding is avoided (encode from double in one step)") {
  // 1 + 2^-8 + 2^-30: rounding to float first gives 1 + 2^-8 (tie), then even -> 1.0;
  // rounding once gives the value above the midpoint -> 1 + 2^-7.
  const double x = 1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -30);
  CHECK(encode_bf16(x) == 0x3f81);
  const double y = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  CHECK(encode_f16(y) == 0x3c01);
}

TEST_CASE("F32: encode equals the hardware conversion in range, inf beyond, NaN quiet") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(-155, 128);
  std::uniform_real_distribution<double> mantissa(1, 2);
  for (int i = 0; i < 200000; ++i) {
    const double x = std::ldexp(mantissa(rng), int(exponent(rng)));
    if (!(x < 3.4028235677973366e38)) continue;  // max + ulp/2: the hardware cast is UB beyond
    const float f = static_cast<float>(x);
    std::uint32_t fb;
    std::memcpy(&fb, &f, 4);
    REQUIRE_MESSAGE(encode_f32(x) == fb, "encode_f32(" << x << ")");
    REQUIRE(decode_f32(fb) == double(f));
  }
  CHECK(encode_f32(3.4028235677973366e38) == 0x7f800000);
  CHECK(encode_f32(std::nextafter(3.4028235677973366e38, 0.0)) == 0x7f7fffff);
  CHECK(encode_f32(-1e300) == 0xff800000);
  CHECK(encode_f32(std::ldexp(1.0, -150)) == 0);           // tie with 0: even
  CHECK(encode_f32(std::ldexp(1.25, -150)) == 1);          // above the tie
  CHECK(encode_f32(std::numeric_limits<double>::denorm_min()) == 0);
  const double nan_with_payload = [] {
    const std::uint64_t b = 0x7ff4000000000000ull;  // signalling NaN, payload in bit 50
    double x;
    std::memcpy(&x, &b, 8);
    return x;
  }();
  CHECK(encode_f32(nan_with_payload) == 0x7fe00000u);  // quiet bit + payload bit 21
  CHECK(encode_f16(-nan_with_payload) == 0xff00u);
  CHECK(encode_bf16(nan_with_payload) == 0x7fe0u);
}

TEST_CASE("dtype names, sizes and element codecs") {
  for (dtype t : {dtype::f64, dtype::f32, dtype::bf16, dtype::f16}) {
    CHECK(dtype_from_safetensors_name(safetensors_name(t)) == t);
    unsigned char buf[8] = {};
    encode_element(t, -1.5, buf);
    CHECK(decode_element(t, buf) == -1.5);
    CHECK((buf[element_size(t) - 1] & 0x80) != 0);  // little-endian: sign in the last byte
  }
  CHECK(element_size(dtype::f64) == 8);
  CHECK(element_size(dtype::f32) == 4);
  CHECK(element_size(dtype::bf16) == 2);
  CHECK(element_size(dtype::f16) == 2);
  CHECK(!dtype_from_safetensors_name("F8_E4M3"));
  CHECK(!dtype_from_safetensors_name("C64"));
  CHECK(!dtype_from_safetensors_name("f32"));
  CHECK(!dtype_from_safetensors_name("i64"));
  CHECK(numpy_descr(dtype::bf16) == nullptr);
  CHECK(dtype_from_numpy_descr("<f2")->type == dtype::f16);
  CHECK(dtype_from_numpy_descr(">f8")->big_endian);
  CHECK(!dtype_from_numpy_descr("<f8")->big_endian);
  CHECK(!dtype_from_numpy_descr("|f1"));
  CHECK(!dtype_from_numpy_descr("|f8"));
  CHECK(!dtype_from_numpy_descr("<f16"));
}

TEST_CASE("dtype table: BOOL and the integer dtypes by safetensors name and numpy descr, not floating") {
  struct Row {
    dtype type;
    const char* safetensors;
    const char* numpy;
    std::size_t size;
  };
  const Row rows[] = {{dtype::boolean, "BOOL", "|b1", 1}, {dtype::u8, "U8", "|u1", 1},   {dtype::i8, "I8", "|i1", 1},
                      {dtype::u16, "U16", "<u2", 2},      {dtype::i16, "I16", "<i2", 2}, {dtype::u32, "U32", "<u4", 4},
                      {dtype::i32, "I32", "<i4", 4},      {dtype::u64, "U64", "<u8", 8}, {dtype::i64, "I64", "<i8", 8}};
  for (const Row& r : rows) {
    CAPTURE(r.safetensors);
    CHECK_FALSE(is_floating(r.type));
    CHECK(is_valid(r.type));
    CHECK(element_size(r.type) == r.size);
    CHECK(std::string(safetensors_name(r.type)) == r.safetensors);
    CHECK(dtype_from_safetensors_name(r.safetensors) == r.type);
    CHECK(std::string(numpy_descr(r.type)) == r.numpy);
    const auto little = dtype_from_numpy_descr(r.numpy);
    REQUIRE(little);
    CHECK(little->type == r.type);
    CHECK_FALSE(little->big_endian);
    std::string big = r.numpy;
    big[0] = '>';
    REQUIRE(dtype_from_numpy_descr(big));
    CHECK(dtype_from_numpy_descr(big)->type == r.type);
    CHECK(dtype_from_numpy_descr(big)->big_endian == (r.size > 1));  // one byte has no order
    std::string bar = r.numpy;
    bar[0] = '|';
    CHECK(bool(dtype_from_numpy_descr(bar)) == (r.size == 1));  // '|' only where order does not apply
    // values are not decoded: the accessors of Tensor refuse these dtypes first
    const unsigned char seven[8] = {7};
    CHECK(std::isnan(decode_element(r.type, seven)));
  }
  for (dtype t : {dtype::f64, dtype::f32, dtype::bf16, dtype::f16}) CHECK(is_floating(t));
  CHECK(std::size(kDtypes) == 13);
  for (dtype t : kDtypes) CHECK(dtype_from_safetensors_name(safetensors_name(t)) == t);
  CHECK(!dtype_from_numpy_descr("<b2"));
  CHECK(!dtype_from_numpy_descr("<u3"));
  CHECK(!dtype_from_numpy_descr("<c8"));
  CHECK(!dtype_from_numpy_descr("|i8"));
  CHECK(!dtype_from_numpy_descr("<i16"));
  CHECK(dtype_names(safetensors_name) == "F64, F32, BF16, F16, BOOL, U8, I8, U16, I16, U32, I32, U64, I64");
  CHECK(dtype_names(numpy_descr) == "<f8, <f4, <f2, |b1, |u1, |i1, <u2, <i2, <u4, <i4, <u8, <i8");
}

TEST_CASE("value_dtype: the floating dtype of largest epsilon that holds the value exactly") {
  const double inf = std::numeric_limits<double>::infinity();
  SUBCASE("values every floating dtype holds are BF16 (epsilon 2^-7 > F16's 2^-10)") {
    for (double x : {0.0, -0.0, 1.0, -0.5, 3.0, 0.75, 256.0, 240.0, std::ldexp(1.0, -24)}) {
      CAPTURE(x);
      CHECK(value_dtype(x) == dtype::bf16);
    }
  }
  SUBCASE("NaN and infinities are values of every floating dtype") {
    CHECK(value_dtype(std::numeric_limits<double>::quiet_NaN()) == dtype::bf16);
    CHECK(value_dtype(-std::numeric_limits<double>::quiet_NaN()) == dtype::bf16);
    CHECK(value_dtype(inf) == dtype::bf16);
    CHECK(value_dtype(-inf) == dtype::bf16);
  }
  SUBCASE("BF16 only: beyond F16's range or below its subnormals, 8 significant bits") {
    CHECK(value_dtype(65536.0) == dtype::bf16);                        // F16 max is 65504
    CHECK(value_dtype(std::ldexp(1.0, 127)) == dtype::bf16);
    CHECK(value_dtype(std::ldexp(255.0, 120)) == dtype::bf16);         // BF16 max (2 - 2^-7) 2^127
    CHECK(value_dtype(std::ldexp(1.0, -25)) == dtype::bf16);           // half of F16's least subnormal
    CHECK(value_dtype(std::ldexp(3.0, -26)) == dtype::bf16);
    CHECK(value_dtype(std::ldexp(1.0, -133)) == dtype::bf16);          // BF16's least subnormal
    CHECK(value_dtype(std::ldexp(3.0, -132)) == dtype::bf16);
    CHECK(value_dtype(1 + std::ldexp(1.0, -7)) == dtype::bf16);
  }
  SUBCASE("F16 only: 11 significant bits within F16's range, subnormals down to 2^-24") {
    CHECK(value_dtype(1 + std::ldexp(1.0, -10)) == dtype::f16);
    CHECK(value_dtype(-(1 + std::ldexp(1.0, -8))) == dtype::f16);
    CHECK(value_dtype(65504.0) == dtype::f16);                         // F16 max: 11 bits
    CHECK(value_dtype(2049.0 / 2048) == dtype::f32);                   // 12 bits: neither
    CHECK(value_dtype(std::ldexp(1023.0, -24)) == dtype::f16);         // largest F16 subnormal
    CHECK(value_dtype(std::ldexp(1023.0, -25)) == dtype::f32);         // below F16's quantum
    CHECK(value_dtype(std::ldexp(511.0, -24)) == dtype::f16);
    CHECK(value_dtype(std::ldexp(257.0, -20)) == dtype::f16);          // 9 bits, normal in F16
  }
  SUBCASE("F32: too many bits or too far out for BF16 and F16") {
    CHECK(value_dtype(65520.0) == dtype::f32);                         // beyond F16, 12 bits
    CHECK(value_dtype(100000.0) == dtype::f32);
    CHECK(value_dtype(double(0.1f)) == dtype::f32);
    CHECK(value_dtype(double(std::numeric_limits<float>::max())) == dtype::f32);
    CHECK(value_dtype(double(std::numeric_limits<float>::min())) == dtype::bf16);    // 2^-126
    CHECK(value_dtype(double(std::numeric_limits<float>::denorm_min())) == dtype::f32);  // 2^-149
    CHECK(value_dtype(std::ldexp(3.0, -149)) == dtype::f32);
    CHECK(value_dtype(std::ldexp(1.0, -134)) == dtype::f32);           // below BF16's subnormals
    CHECK(value_dtype(1 + std::ldexp(1.0, -23)) == dtype::f32);
  }
  SUBCASE("F64: beyond F32") {
    CHECK(value_dtype(0.1) == dtype::f64);
    CHECK(value_dtype(1 + std::ldexp(1.0, -24)) == dtype::f64);
    CHECK(value_dtype(std::ldexp(1.0, 128)) == dtype::f64);            // beyond F32's exponents
    CHECK(value_dtype(std::ldexp(1.0, -150)) == dtype::f64);           // below F32's subnormals
    CHECK(value_dtype(std::numeric_limits<double>::denorm_min()) == dtype::f64);
    CHECK(value_dtype(std::numeric_limits<double>::max()) == dtype::f64);
  }
}

TEST_CASE("value_dtype agrees with encode/decode round trips: all F16 and BF16 patterns, random F32 and doubles") {
  // The oracle: the first of BF16, F16, F32 through which x comes back unchanged.
  const auto by_round_trip = [](double x) {
    const auto same = [x](double y) { return bits(y) == bits(x) || (std::isnan(x) && std::isnan(y)); };
    if (same(decode_bf16(encode_bf16(x)))) return dtype::bf16;
    if (same(decode_f16(encode_f16(x)))) return dtype::f16;
    if (same(decode_f32(encode_f32(x)))) return dtype::f32;
    return dtype::f64;
  };
  std::vector<double> values;
  for (std::uint32_t b = 0; b < 65536; ++b) {
    values.push_back(decode_f16(static_cast<std::uint16_t>(b)));
    values.push_back(decode_bf16(static_cast<std::uint16_t>(b)));
  }
  std::mt19937_64 rng(2718);
  for (int i = 0; i < 200000; ++i) {
    const std::uint64_t r = rng();
    values.push_back(decode_f32(static_cast<std::uint32_t>(r)));
    double d;
    std::memcpy(&d, &r, sizeof d);
    values.push_back(d);
    values.push_back(std::ldexp(double(r >> 53), int(r % 64) - 40));  // 11 bits at varied scales
  }
  int f16_only = 0;
  for (double x : values) {
    const dtype expected = by_round_trip(x);
    REQUIRE_MESSAGE(value_dtype(x) == expected, x);
    f16_only += expected == dtype::f16;
  }
  CHECK(f16_only > 1000);  // the F16-only set is exercised
}
