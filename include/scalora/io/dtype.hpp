// SPDX-License-Identifier: Apache-2.0
// Element types of tensor files: the floating types F64, F32, BF16, F16 with their exact
// bit-level conversions, and the integer and boolean types (BOOL, U8 ... I64) that files
// may also hold, read and written as raw bytes only.
//
// Decoding (bits -> double) is exact for every floating type. Encoding (double -> bits)
// rounds to nearest, ties to even, in one step (never through float: no double
// rounding); a magnitude at or above max + ulp(max)/2 becomes inf; subnormals are
// produced and decoded exactly; NaN stays NaN with its sign and top payload bits, and is
// made quiet. All conversions are bit manipulations: no floating-point exceptions, no UB.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace scalora::io {

/// Element type; names as in safetensors ("F64", "I64", ...) and numpy ('<f8', '<i8', ...).
/// The first four are the floating types (is_floating): only they have values
/// (Tensor::to_matrix, value_dtype, the encoders). The others are carried as bytes.
enum class dtype { f64, f32, bf16, f16, boolean, u8, i8, u16, i16, u32, i32, u64, i64 };

/// Every dtype, floating types first.
inline constexpr dtype kDtypes[] = {dtype::f64, dtype::f32, dtype::bf16, dtype::f16, dtype::boolean,
                                    dtype::u8,  dtype::i8,  dtype::u16,  dtype::i16, dtype::u32,
                                    dtype::i32, dtype::u64, dtype::i64};

/// Bytes per element: F64 8, F32 4, BF16 and F16 2, BOOL/U8/I8 1, U16/I16 2, U32/I32 4,
/// U64/I64 8 (0 for a value outside the enum).
constexpr std::size_t element_size(dtype t) {
  switch (t) {
    case dtype::f64: return 8;
    case dtype::f32: return 4;
    case dtype::bf16: return 2;
    case dtype::f16: return 2;
    case dtype::boolean: return 1;
    case dtype::u8: return 1;
    case dtype::i8: return 1;
    case dtype::u16: return 2;
    case dtype::i16: return 2;
    case dtype::u32: return 4;
    case dtype::i32: return 4;
    case dtype::u64: return 8;
    case dtype::i64: return 8;
  }
  return 0;
}

/// True for the enumerators (a dtype cast from an arbitrary integer may be none).
constexpr bool is_valid(dtype t) { return element_size(t) != 0; }

/// True for F64, F32, BF16 and F16: the dtypes whose elements are numbers this library
/// computes with; false for BOOL and the integer dtypes (and outside the enum).
constexpr bool is_floating(dtype t) {
  return t == dtype::f64 || t == dtype::f32 || t == dtype::bf16 || t == dtype::f16;
}

/// The binary format of a floating dtype: fraction bits (the significand
/// without its hidden bit) and the exponent of the smallest normal number.
struct FloatFormat {
  int fraction_bits;
  int min_normal_exponent;
};

/// F64 (52, -1022), F32 (23, -126), BF16 (7, -126), F16 (10, -14); nullopt for
/// BOOL and the integer dtypes (and outside the enum).
constexpr std::optional<FloatFormat> float_format(dtype t) {
  switch (t) {
    case dtype::f64: return FloatFormat{52, -1022};
    case dtype::f32: return FloatFormat{23, -126};
    case dtype::bf16: return FloatFormat{7, -126};
    case dtype::f16: return FloatFormat{10, -14};
    default: return std::nullopt;
  }
}

/// epsilon (the gap between 1 and the next number, 2 u) of a floating dtype:
/// F64 2^-52, F32 2^-23, BF16 2^-7, F16 2^-10. BOOL and the integer dtypes have
/// none: NaN, a tolerance no check passes (case files refuse them for the names judged).
inline double epsilon(dtype t) {
  const auto f = float_format(t);
  return f ? std::ldexp(1.0, -f->fraction_bits) : std::numeric_limits<double>::quiet_NaN();
}

/// The smallest positive normal number of a floating dtype (F64 2^-1022, F32 and
/// BF16 2^-126, F16 2^-14): below it the spacing is fixed (subnormals), so
/// relative errors get this floor. NaN for BOOL and the integer dtypes.
inline double min_normal(dtype t) {
  const auto f = float_format(t);
  return f ? std::ldexp(1.0, f->min_normal_exponent) : std::numeric_limits<double>::quiet_NaN();
}

/// safetensors dtype name: "F64", "F32", "BF16", "F16", "BOOL", "U8", "I8", "U16", "I16",
/// "U32", "I32", "U64", "I64" ("?" outside the enum).
constexpr const char* safetensors_name(dtype t) {
  switch (t) {
    case dtype::f64: return "F64";
    case dtype::f32: return "F32";
    case dtype::bf16: return "BF16";
    case dtype::f16: return "F16";
    case dtype::boolean: return "BOOL";
    case dtype::u8: return "U8";
    case dtype::i8: return "I8";
    case dtype::u16: return "U16";
    case dtype::i16: return "I16";
    case dtype::u32: return "U32";
    case dtype::i32: return "I32";
    case dtype::u64: return "U64";
    case dtype::i64: return "I64";
  }
  return "?";
}

/// Inverse of safetensors_name; nullopt for other names (F8_E4M3, C64, "f32", ...).
inline std::optional<dtype> dtype_from_safetensors_name(std::string_view name) {
  for (dtype t : kDtypes)
    if (name == safetensors_name(t)) return t;
  return std::nullopt;
}

/// Little-endian numpy descr, as numpy writes it: "<f8", "<f4", "<f2", "|b1", "|u1",
/// "|i1", "<u2", "<i2", "<u4", "<i4", "<u8", "<i8"; nullptr for BF16 (numpy has no bfloat16).
constexpr const char* numpy_descr(dtype t) {
  switch (t) {
    case dtype::f64: return "<f8";
    case dtype::f32: return "<f4";
    case dtype::f16: return "<f2";
    case dtype::bf16: return nullptr;
    case dtype::boolean: return "|b1";
    case dtype::u8: return "|u1";
    case dtype::i8: return "|i1";
    case dtype::u16: return "<u2";
    case dtype::i16: return "<i2";
    case dtype::u32: return "<u4";
    case dtype::i32: return "<i4";
    case dtype::u64: return "<u8";
    case dtype::i64: return "<i8";
  }
  return nullptr;
}

/// A numpy descr as stored: its dtype and whether the bytes are big-endian.
struct NumpyType {
  dtype type;
  bool big_endian;
};

/// The descr of numpy_descr(t) for some t, with byte order '<' or '>' ('=' counts as
/// little-endian: numpy writes '<' or '>' only), or '|' for the one-byte types (which
/// also accept '<', '>', '='); nullopt for anything else ('|f8', '<c8', '<V2', ...).
inline std::optional<NumpyType> dtype_from_numpy_descr(std::string_view descr) {
  if (descr.size() != 3) return std::nullopt;
  const char order = descr[0];
  for (dtype t : kDtypes) {
    const char* d = numpy_descr(t);
    if (!d || descr.substr(1) != std::string_view(d + 1)) continue;
    const bool one_byte = element_size(t) == 1;
    if (order == '<' || order == '=' || (order == '|' && one_byte)) return NumpyType{t, false};
    if (order == '>') return NumpyType{t, !one_byte};
    return std::nullopt;
  }
  return std::nullopt;
}

namespace detail {

inline std::uint64_t bits_of(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
inline double double_of(std::uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}
inline float float_of(std::uint32_t b) {
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

/// Index of the highest set bit of v > 0.
inline int highest_bit(std::uint64_t v) {
  int n = 0;
  while (v >>= 1) ++n;
  return n;
}

/// Rounds x to the IEEE binary format with ExpBits exponent and MantBits stored
/// mantissa bits (MantBits <= 23), returning its bit pattern.
/// Value = sig * 2^q with sig < 2^53; the target quantum at x's binade is
/// 2^(max(e, emin) - MantBits); n = RNE(x / quantum); bits = ((max(e,emin) - emin) << M) + n,
/// which carries into the exponent field when n reaches 2^(M+1) (or 2^M from subnormal).
template <int ExpBits, int MantBits>
std::uint32_t encode_binary(double x) {
  static_assert(MantBits <= 23 && ExpBits <= 8, "narrower than double only");
  const std::uint64_t b = bits_of(x);
  const std::uint32_t sign = static_cast<std::uint32_t>(b >> 63) << (ExpBits + MantBits);
  const int exp_field = static_cast<int>((b >> 52) & 0x7ff);
  const std::uint64_t frac = b & ((std::uint64_t{1} << 52) - 1);
  const std::uint32_t inf_bits = ((std::uint32_t{1} << ExpBits) - 1) << MantBits;
  if (exp_field == 0x7ff) {
    if (frac == 0) return sign | inf_bits;
    const std::uint32_t quiet = std::uint32_t{1} << (MantBits - 1);
    return sign | inf_bits | quiet | static_cast<std::uint32_t>(frac >> (52 - MantBits));
  }
  if (exp_field == 0 && frac == 0) return sign;
  const std::uint64_t sig = exp_field == 0 ? frac : (frac | (std::uint64_t{1} << 52));
  const int q = (exp_field == 0 ? 1 : exp_field) - 1075;  // x = sig * 2^q
  const int e = q + highest_bit(sig);                       // 2^e <= |x| < 2^(e+1)
  const int emin = 2 - (1 << (ExpBits - 1));                // smallest normal exponent
  const int binade = e > emin ? e : emin;
  const int shift = binade - MantBits - q;  // >= 29 here: sig / 2^shift = |x| / quantum
  std::uint64_t n = 0;
  if (shift < 64) {
    n = sig >> shift;
    const std::uint64_t rem = sig & ((std::uint64_t{1} << shift) - 1);
    const std::uint64_t half = std::uint64_t{1} << (shift - 1);
    if (rem > half || (rem == half && (n & 1))) ++n;
  }  // else |x| < quantum / 2^11: rounds to zero
  const std::uint64_t magnitude = (static_cast<std::uint64_t>(binade - emin) << MantBits) + n;
  if (magnitude >= inf_bits) return sign | inf_bits;
  return sign | static_cast<std::uint32_t>(magnitude);
}

/// Exact value of an IEEE bit pattern with ExpBits/MantBits; NaN comes back quiet
/// with its sign and payload (shifted to the top of double's mantissa).
template <int ExpBits, int MantBits>
double decode_binary(std::uint32_t bits) {
  const std::uint64_t sign = static_cast<std::uint64_t>((bits >> (ExpBits + MantBits)) & 1) << 63;
  const std::uint32_t exp_field = (bits >> MantBits) & ((1u << ExpBits) - 1);
  const std::uint64_t frac = bits & ((std::uint32_t{1} << MantBits) - 1);
  const int bias = (1 << (ExpBits - 1)) - 1;
  if (exp_field == (1u << ExpBits) - 1) {
    const std::uint64_t payload = frac << (52 - MantBits);
    const std::uint64_t quiet = frac ? (std::uint64_t{1} << 51) : 0;
    return double_of(sign | (std::uint64_t{0x7ff} << 52) | quiet | payload);
  }
  if (exp_field == 0) {
    if (frac == 0) return double_of(sign);
    // subnormal: frac * 2^(1 - bias - MantBits); normalise into a double
    const int top = highest_bit(frac);
    const int e = top + 1 - bias - MantBits;
    const std::uint64_t mant = (frac << (52 - top)) & ((std::uint64_t{1} << 52) - 1);
    return double_of(sign | (static_cast<std::uint64_t>(e + 1023) << 52) | mant);
  }
  const std::uint64_t e = static_cast<std::uint64_t>(static_cast<int>(exp_field) - bias + 1023);
  return double_of(sign | (e << 52) | (frac << (52 - MantBits)));
}

}  // namespace detail

/// IEEE half (binary16) nearest to x, ties to even; overflow to inf; NaN made quiet.
inline std::uint16_t encode_f16(double x) { return static_cast<std::uint16_t>(detail::encode_binary<5, 10>(x)); }
/// bfloat16 nearest to x, ties to even; overflow to inf; NaN made quiet.
inline std::uint16_t encode_bf16(double x) { return static_cast<std::uint16_t>(detail::encode_binary<8, 7>(x)); }
/// IEEE single nearest to x, ties to even; overflow to inf; NaN made quiet.
inline std::uint32_t encode_f32(double x) { return detail::encode_binary<8, 23>(x); }

/// Exact value of a half; a NaN comes back quiet.
inline double decode_f16(std::uint16_t bits) { return detail::decode_binary<5, 10>(bits); }
/// Exact value of a bfloat16; a NaN comes back quiet.
inline double decode_bf16(std::uint16_t bits) { return detail::decode_binary<8, 7>(bits); }
/// Exact value of a single; a NaN comes back quiet.
inline double decode_f32(std::uint32_t bits) { return detail::decode_binary<8, 23>(bits); }

/// float nearest to x (RNE, overflow to inf); exact when x is a decoded F32/BF16/F16.
inline float round_to_float(double x) { return detail::float_of(encode_f32(x)); }

namespace detail {
/// The N little-endian bytes at p as an integer (compiles to one load on x86).
template <std::size_t N>
std::uint64_t load_le(const unsigned char* p) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < N; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}
}  // namespace detail

/// Value of one little-endian element at p (element_size(t) bytes). With t a
/// constant the switch folds away (Tensor::to_matrix decodes a whole tensor so).
/// t must be floating: BOOL and the integer dtypes have no value here (quiet NaN; the
/// Tensor accessors throw not_floating before calling this).
inline double decode_element(dtype t, const unsigned char* p) {
  switch (t) {
    case dtype::f64: return detail::double_of(detail::load_le<8>(p));
    case dtype::f32: return decode_f32(static_cast<std::uint32_t>(detail::load_le<4>(p)));
    case dtype::bf16: return decode_bf16(static_cast<std::uint16_t>(detail::load_le<2>(p)));
    case dtype::f16: return decode_f16(static_cast<std::uint16_t>(detail::load_le<2>(p)));
    case dtype::boolean:
    case dtype::u8:
    case dtype::i8:
    case dtype::u16:
    case dtype::i16:
    case dtype::u32:
    case dtype::i32:
    case dtype::u64:
    case dtype::i64: return std::numeric_limits<double>::quiet_NaN();
  }
  return 0;
}

namespace detail {
/// Calls f(decode, element_size(t)), decode(p) being decode_element(t, p) with the
/// floating dtype t fixed at compile time, so that a loop over the elements in f runs
/// without a switch per element; does nothing for BOOL and the integer dtypes.
template <class F>
void with_decoder(dtype t, F&& f) {
  switch (t) {
    case dtype::f64: f([](const unsigned char* p) { return decode_element(dtype::f64, p); }, std::size_t{8}); break;
    case dtype::f32: f([](const unsigned char* p) { return decode_element(dtype::f32, p); }, std::size_t{4}); break;
    case dtype::bf16: f([](const unsigned char* p) { return decode_element(dtype::bf16, p); }, std::size_t{2}); break;
    case dtype::f16: f([](const unsigned char* p) { return decode_element(dtype::f16, p); }, std::size_t{2}); break;
    case dtype::boolean:
    case dtype::u8:
    case dtype::i8:
    case dtype::u16:
    case dtype::i16:
    case dtype::u32:
    case dtype::i32:
    case dtype::u64:
    case dtype::i64: break;
  }
}
}  // namespace detail

/// Writes x rounded to t as element_size(t) little-endian bytes at p. t must be
/// floating: for BOOL and the integer dtypes it writes nothing (from_matrix and
/// from_scalar throw not_floating before calling this).
inline void encode_element(dtype t, double x, unsigned char* p) {
  std::uint64_t v = 0;
  switch (t) {
    case dtype::f64: v = detail::bits_of(x); break;
    case dtype::f32: v = encode_f32(x); break;
    case dtype::bf16: v = encode_bf16(x); break;
    case dtype::f16: v = encode_f16(x); break;
    case dtype::boolean:
    case dtype::u8:
    case dtype::i8:
    case dtype::u16:
    case dtype::i16:
    case dtype::u32:
    case dtype::i32:
    case dtype::u64:
    case dtype::i64: return;
  }
  const std::size_t n = element_size(t);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

namespace detail {

/// True when the normal double 2^e * (1 + frac / 2^52) is a value of the IEEE binary
/// format with exponents 1 - Emax .. Emax and MantBits stored bits, subnormals
/// included: e <= Emax, and no bit of frac is set below the format's quantum at x,
/// 2^(max(e, 1 - Emax) - MantBits).
template <int Emax, int MantBits>
constexpr bool fits_binary(int e, std::uint64_t frac) {
  constexpr int emin = 1 - Emax;
  if (e > Emax) return false;
  const int below = 52 - MantBits + (e < emin ? emin - e : 0);  // bits of frac below the quantum
  return below <= 52 && (frac & ((std::uint64_t{1} << below) - 1)) == 0;
}

/// Which of BF16, F16 and F32 hold every value added so far (value_dtype).
class ValueDtypeScan {
 public:
  /// `stored`: a floating dtype known to hold every value that will be added.
  explicit ValueDtypeScan(dtype stored = dtype::f64) : stored_(stored) {}

  void add(double x) {
    const std::uint64_t b = bits_of(x);
    const int exp_field = static_cast<int>((b >> 52) & 0x7ff);
    const std::uint64_t frac = b & ((std::uint64_t{1} << 52) - 1);
    if (exp_field == 0x7ff || (exp_field == 0 && frac == 0)) return;  // NaN, +-inf, +-0: in every floating dtype
    if (exp_field == 0) {  // a double subnormal lies below the range of the narrower dtypes
      bf16_ = f16_ = f32_ = false;
      return;
    }
    const int e = exp_field - 1023;
    bf16_ = bf16_ && fits_binary<127, 7>(e, frac);
    f16_ = f16_ && fits_binary<15, 10>(e, frac);
    f32_ = f32_ && fits_binary<127, 23>(e, frac);
  }
  /// Further values cannot change the result: the coarsest candidate left is the
  /// stored dtype (which holds them all), or none but F64 is left.
  bool settled() const {
    if (bf16_) return stored_ == dtype::bf16;
    if (f16_) return stored_ == dtype::f16;
    if (f32_) return stored_ == dtype::f32;
    return true;
  }
  /// The first of BF16, F16, F32, F64 (decreasing epsilon) that holds every value.
  dtype result() const { return bf16_ ? dtype::bf16 : f16_ ? dtype::f16 : f32_ ? dtype::f32 : dtype::f64; }

 private:
  dtype stored_;
  bool bf16_ = true, f16_ = true, f32_ = true;
};

}  // namespace detail

/// The floating dtype with the largest epsilon among those that hold x exactly:
/// BF16 (epsilon 2^-7; F32's exponent range, 8 significant bits, subnormals down to
/// 2^-133), else F16 (2^-10; |x| <= 65504, 11 significant bits, subnormals down to
/// 2^-24), else F32 (2^-23; subnormals down to 2^-149), else F64. BF16 and F16 are not
/// nested (1 + 2^-10 is F16 only, 2^20 BF16 only); a value both hold (0, 1, 0.5, ...)
/// is BF16, the coarser of the two. NaN, +-inf and +-0 are values of every floating
/// dtype (a NaN's payload is not looked at): BF16.
inline dtype value_dtype(double x) {
  detail::ValueDtypeScan scan;
  scan.add(x);
  return scan.result();
}

/// The names of every dtype as `name` spells them (skipping dtypes it has none for),
/// separated by ", " (for error messages).
inline std::string dtype_names(const char* (*name)(dtype)) {
  std::string out;
  for (dtype t : kDtypes)
    if (const char* n = name(t)) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

}  // namespace scalora::io
