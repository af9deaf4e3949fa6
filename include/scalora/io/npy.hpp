// SPDX-License-Identifier: Apache-2.0
// numpy .npy read/write: format versions 1.0, 2.0, 3.0; descr '<f8' '<f4' '<f2', '|b1',
// '|u1' '|i1', '<u2' '<i2' '<u4' '<i4' '<u8' '<i8' (and '>'), fortran_order True/False, any rank. Writes version 1.0 (2.0 when the header needs it)
// byte for byte as numpy 1.24's np.save does.
//
// Layout: "\x93NUMPY", major, minor, header length (u16 LE for 1.0, u32 LE for 2.0/3.0),
// the header: a Python dict literal
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and '\n' so that the data starts at a multiple of 64; then the
// elements, C order (or Fortran order when fortran_order is True), nothing after them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "scalora/io/detail/bytes.hpp"
#include "scalora/io/file.hpp"
#include "scalora/io/dtype.hpp"
#include "scalora/io/io_error.hpp"
#include "scalora/io/tensor.hpp"

namespace scalora::io {

/// Largest accepted npy header: 1 MiB (numpy itself refuses more than 10000 bytes by default).
inline constexpr std::uint64_t kNpyHeaderCap = std::uint64_t{1} << 20;

namespace detail {

/// A value of the Python literal subset numpy headers use.
struct PyValue {
  enum class Kind { string, boolean, none, integer, big_integer, other_number, tuple, list };
  Kind kind = Kind::none;
  std::string text;     // string
  bool flag = false;    // boolean
  std::int64_t integer = 0;  // integer (big_integer: beyond int64)
  std::vector<PyValue> items;  // tuple, list
};

/// Parser for the header dict: {'key': value, ...} with values str, True, False,
/// None, int (optional L suffix), tuple, list; nesting at most 8 deep. Anything else
/// is io_error bad_header naming file and tensor.
class PyDictParser {
 public:
  PyDictParser(const std::string& text, const std::string& file, const std::string& tensor)
      : s_(text), file_(file), tensor_(tensor) {}

  std::vector<std::pair<std::string, PyValue>> parse() {
    std::vector<std::pair<std::string, PyValue>> out;
    expect('{');
    skip_space();
    while (peek() != '}') {
      PyValue key = value(0);
      if (key.kind != PyValue::Kind::string) fail("dict key is not a string");
      expect(':');
      out.emplace_back(key.text, value(0));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        skip_space();
      } else if (peek() != '}') {
        fail("expected ',' or '}'");
      }
    }
    ++pos_;
    skip_space();
    if (pos_ != s_.size()) fail("text after the dict");
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw io_error(io_problem::bad_header, file_, tensor_,
                   "header dict at byte " + std::to_string(pos_) + ": " + why);
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c || pos_ >= s_.size()) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  static bool is_word(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_'; }

  PyValue value(int depth) {
    if (depth > 8) fail("nested too deep");
    skip_space();
    PyValue v;
    const char c = peek();
    if (c == '\'' || c == '"') {
      ++pos_;
      v.kind = PyValue::Kind::string;
      while (pos_ < s_.size() && s_[pos_] != c) {
        if (s_[pos_] == '\\' || s_[pos_] == '\n') fail("escape or newline in a string");
        v.text += s_[pos_++];
      }
      if (pos_ >= s_.size()) fail("unterminated string");
      ++pos_;
    } else if (c == '(' || c == '[') {
      ++pos_;
      const char close = c == '(' ? ')' : ']';
      v.kind = c == '(' ? PyValue::Kind::tuple : PyValue::Kind::list;
      bool trailing_comma = false;
      skip_space();
      while (peek() != close) {
        v.items.push_back(value(depth + 1));
        skip_space();
        trailing_comma = false;
        if (peek() == ',') {
          ++pos_;
          trailing_comma = true;
          skip_space();
        } else if (peek() != close) {
          fail(std::string("expected ',' or '") + close + "'");
        }
      }
      ++pos_;
      // (x) without a comma is x itself, not a tuple
      if (c == '(' && v.items.size() == 1 && !trailing_comma) {
        PyValue inner = std::move(v.items[0]);
        return inner;
      }
    } else if (is_digit(c) || c == '-' || c == '+') {
      const std::size_t start = pos_;
      bool negative = false;
      if (c == '-' || c == '+') {
        negative = c == '-';
        ++pos_;
      }
      if (!is_digit(peek())) fail("sign without digits");
      v.kind = PyValue::Kind::integer;
      std::uint64_t magnitude = 0;
      while (is_digit(peek())) {
        const unsigned digit = static_cast<unsigned>(peek() - '0');
        if (magnitude > (std::uint64_t{1} << 63) / 10 || magnitude * 10 + digit > (std::uint64_t{1} << 63))
          v.kind = PyValue::Kind::big_integer;
        else
          magnitude = magnitude * 10 + digit;
        ++pos_;
      }
      if (peek() == 'L' || peek() == 'l') {
        ++pos_;  // Python 2 long suffix, written by old numpy
      } else if (peek() == '.' || peek() == 'e' || peek() == 'E' || peek() == 'j' || peek() == 'J') {
        v.kind = PyValue::Kind::other_number;
        while (is_word(peek()) || peek() == '.' || ((peek() == '+' || peek() == '-') && (s_[pos_ - 1] | 32) == 'e'))
          ++pos_;
      }
      if (is_word(peek())) fail("malformed number");
      v.text = s_.substr(start, pos_ - start);
      if (v.kind == PyValue::Kind::integer) {
        if (!negative && magnitude == (std::uint64_t{1} << 63)) v.kind = PyValue::Kind::big_integer;
        v.integer = negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
      }
    } else if (is_word(c)) {
      const std::size_t start = pos_;
      while (is_word(peek())) ++pos_;
      const std::string word = s_.substr(start, pos_ - start);
      if (word == "True" || word == "False") {
        v.kind = PyValue::Kind::boolean;
        v.flag = word == "True";
      } else if (word == "None") {
        v.kind = PyValue::Kind::none;
      } else {
        fail("unexpected name '" + printable(word) + "'");
      }
    } else {
      fail(std::string("unexpected character '") + printable(std::string(1, c)) + "'");
    }
    return v;
  }

  const std::string& s_;
  std::size_t pos_ = 0;
  const std::string& file_;
  const std::string& tensor_;
};

/// Where the array is and how it is stored.
struct NpyLayout {
  dtype type = dtype::f64;
  bool big_endian = false;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
  std::uint64_t data_offset = 0;
  std::uint64_t data_bytes = 0;
};

inline NpyLayout parse_npy_header(const ByteSource& src, const std::string& tensor) {
  const std::string& file = src.name();
  static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  unsigned char head[12] = {};
  const std::size_t have = static_cast<std::size_t>(src.size() < 12 ? src.size() : 12);
  src.read(0, have, head);
  for (std::size_t i = 0; i < 6; ++i)
    if (i >= have || head[i] != magic[i]) {
      if (i >= have) throw io_error(io_problem::truncated, file, tensor, "shorter than the npy magic");
      throw io_error(io_problem::bad_magic, file, tensor, "does not start with \\x93NUMPY");
    }
  if (have < 8) throw io_error(io_problem::truncated, file, tensor, "no format version");
  const int major = head[6], minor = head[7];
  if (minor != 0 || major < 1 || major > 3)
    throw io_error(io_problem::bad_version, file, tensor,
                   "format version " + std::to_string(major) + "." + std::to_string(minor) + " is not 1.0, 2.0 or 3.0");
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  if (have < 8 + length_bytes) throw io_error(io_problem::truncated, file, tensor, "no header length");
  const std::uint64_t header_len = load_le(head + 8, static_cast<int>(length_bytes));
  const std::uint64_t header_start = 8 + length_bytes;
  if (header_len > kNpyHeaderCap)
    throw io_error(io_problem::header_too_large, file, tensor,
                   "header length " + std::to_string(header_len) + " exceeds the 1 MiB cap");
  if (header_len > src.size() - header_start)
    throw io_error(io_problem::truncated, file, tensor,
                   "header length " + std::to_string(header_len) + " but " + std::to_string(src.size() - header_start) +
                       " bytes follow");
  const std::vector<unsigned char> raw = src.read_vector(header_start, static_cast<std::size_t>(header_len));
  const std::string text(raw.begin(), raw.end());

  NpyLayout out;
  const PyValue* descr = nullptr;
  const PyValue* fortran = nullptr;
  const PyValue* shape = nullptr;
  const auto dict = PyDictParser(text, file, tensor).parse();
  for (const auto& [key, value] : dict) {
    const PyValue** slot = key == "descr" ? &descr : key == "fortran_order" ? &fortran : key == "shape" ? &shape : nullptr;
    if (!slot) throw io_error(io_problem::bad_header, file, tensor, "unexpected key '" + printable(key) + "'");
    if (*slot) throw io_error(io_problem::bad_header, file, tensor, "key '" + key + "' appears twice");
    *slot = &value;
  }
  if (!descr || !fortran || !shape)
    throw io_error(io_problem::bad_header, file, tensor, "header needs the keys descr, fortran_order and shape");

  if (descr->kind != PyValue::Kind::string)
    throw io_error(io_problem::unknown_dtype, file, tensor, "structured descr is not supported");
  const auto type = dtype_from_numpy_descr(descr->text);
  if (!type)
    throw io_error(io_problem::unknown_dtype, file, tensor,
                   "descr '" + printable(descr->text) + "' is not one of " + dtype_names(numpy_descr) +
                       " (or '>' for big-endian)");
  out.type = type->type;
  out.big_endian = type->big_endian;

  if (fortran->kind != PyValue::Kind::boolean)
    throw io_error(io_problem::bad_header, file, tensor, "fortran_order is not True or False");
  out.fortran_order = fortran->flag;

  if (shape->kind != PyValue::Kind::tuple) throw io_error(io_problem::bad_shape, file, tensor, "shape is not a tuple");
  for (const PyValue& d : shape->items) {
    if (d.kind == PyValue::Kind::big_integer && d.text[0] != '-')
      throw io_error(io_problem::size_overflow, file, tensor, "dimension " + d.text + " too large");
    if (d.kind != PyValue::Kind::integer && d.kind != PyValue::Kind::big_integer)
      throw io_error(io_problem::bad_shape, file, tensor, "dimension is not an integer");
    if (d.kind == PyValue::Kind::big_integer || d.integer < 0)
      throw io_error(io_problem::bad_shape, file, tensor, "negative dimension " + d.text);
    out.shape.push_back(d.integer);
  }
  Tensor probe;
  probe.name = tensor;
  probe.type = out.type;
  probe.shape = out.shape;
  std::string why;
  std::uint64_t count;
  if (const auto p = tensor_problem(probe, why, count, out.data_bytes, false)) throw io_error(*p, file, tensor, why);

  out.data_offset = header_start + header_len;
  const std::uint64_t available = src.size() - out.data_offset;
  if (out.data_bytes > available)
    throw io_error(io_problem::truncated, file, tensor,
                   "array needs " + std::to_string(out.data_bytes) + " bytes, " + std::to_string(available) + " present");
  if (out.data_bytes < available)
    throw io_error(io_problem::unused_bytes, file, tensor,
                   std::to_string(available - out.data_bytes) + " bytes after the array data");
  return out;
}

/// Reorders `data` (elements of `size` bytes, Fortran order, shape `shape`) into C order.
inline std::vector<unsigned char> fortran_to_c_order(const std::vector<unsigned char>& data,
                                                     const std::vector<std::int64_t>& shape, std::size_t size) {
  const std::size_t rank = shape.size();
  std::uint64_t count = 1;
  for (std::int64_t d : shape) count *= static_cast<std::uint64_t>(d);
  if (rank < 2 || count == 0) return data;
  std::vector<std::uint64_t> stride(rank);  // Fortran strides in elements
  std::uint64_t s = 1;
  for (std::size_t j = 0; j < rank; ++j) {
    stride[j] = s;
    s *= static_cast<std::uint64_t>(shape[j]);
  }
  std::vector<unsigned char> out(data.size());
  std::vector<std::int64_t> index(rank, 0);
  std::uint64_t from = 0;  // Fortran offset of `index`
  for (std::uint64_t to = 0; to < count; ++to) {
    std::memcpy(out.data() + to * size, data.data() + from * size, size);
    for (std::size_t j = rank; j-- > 0;) {  // odometer, last index fastest
      if (++index[j] < shape[j]) {
        from += stride[j];
        break;
      }
      from -= static_cast<std::uint64_t>(index[j] - 1) * stride[j];
      index[j] = 0;
    }
  }
  return out;
}

/// Reads the array of an npy stream; `tensor` names it in errors and in the result.
inline Tensor parse_npy(const ByteSource& src, const std::string& tensor) {
  const NpyLayout layout = parse_npy_header(src, tensor);
  Tensor t;
  t.name = tensor;
  t.type = layout.type;
  t.shape = layout.shape;
  t.data = src.read_vector(layout.data_offset, static_cast<std::size_t>(layout.data_bytes));
  const std::size_t size = element_size(t.type);
  if (layout.big_endian)
    for (std::size_t i = 0; i < t.data.size(); i += size)
      for (std::size_t a = i, b = i + size - 1; a < b; ++a, --b) std::swap(t.data[a], t.data[b]);
  if (layout.fortran_order) t.data = fortran_to_c_order(t.data, t.shape, size);
  return t;
}

/// The header numpy 1.24 writes for a C-order little-endian array: magic, version
/// (1.0, or 2.0 when the header exceeds 65535 bytes), length, dict, growth spaces,
/// padding to a multiple of 64, '\n'.
inline std::vector<unsigned char> npy_header(const Tensor& t, const std::string& file) {
  const char* descr = numpy_descr(t.type);
  if (!descr)
    throw io_error(io_problem::unsupported_dtype, file, t.name,
                   std::string(is_valid(t.type) ? "BF16" : "this dtype") +
                       " has no numpy dtype; write safetensors, or convert to F32 first");
  std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < t.shape.size(); ++i) dict += (i ? ", " : "") + std::to_string(t.shape[i]);
  dict += t.shape.size() == 1 ? ",), }" : "), }";
  if (!t.shape.empty()) {  // numpy leaves room for the first axis to grow to 21 digits
    const std::size_t digits = std::to_string(t.shape[0]).size();
    if (digits < 21) dict.append(21 - digits, ' ');
  }
  const std::uint64_t text_len = dict.size() + 1;  // with the final '\n'
  int version = 1;
  std::uint64_t pad = 64 - (8 + 2 + text_len) % 64;
  if (text_len + pad > 65535) {
    version = 2;
    pad = 64 - (8 + 4 + text_len) % 64;
  }
  std::vector<unsigned char> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<unsigned char>(version), 0};
  append_le(out, text_len + pad, version == 1 ? 2 : 4);
  out.insert(out.end(), dict.begin(), dict.end());
  out.insert(out.end(), static_cast<std::size_t>(pad), ' ');
  out.push_back('\n');
  return out;
}

/// The stem of a path: "dir/grad_A.npy" -> "grad_A".
inline std::string npy_stem(const std::string& path) {
  const std::string::size_type slash = path.rfind('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.size() > 4 && base.compare(base.size() - 4, 4, ".npy") == 0) base.resize(base.size() - 4);
  return base;
}

}  // namespace detail

/// Parses npy bytes; the result is named `tensor_name` (also used in errors).
/// @throws io_error for every malformed input.
inline Tensor parse_npy(const unsigned char* bytes, std::size_t size, const std::string& source_name,
                        const std::string& tensor_name) {
  return detail::parse_npy(detail::MemorySource(bytes, size, source_name), tensor_name);
}

/// Reads an .npy file; the tensor is named after the file ("dir/A.npy" -> "A").
inline Tensor read_npy(const std::string& path) {
  return detail::parse_npy(detail::FileSource(path), detail::npy_stem(path));
}

/// The bytes np.save writes for this array (C order, little-endian).
/// @throws io_error unsupported_dtype (BF16), invalid_tensor, ...
inline std::vector<unsigned char> serialize_npy(const Tensor& t) {
  detail::check_tensor_for_writing(t, "");
  std::vector<unsigned char> out = detail::npy_header(t, "");
  out.insert(out.end(), t.data.begin(), t.data.end());
  return out;
}

/// Writes an .npy file atomically (as write_safetensors does).
inline void write_npy(const std::string& path, const Tensor& t) {
  detail::check_tensor_for_writing(t, path);
  const std::vector<unsigned char> header = detail::npy_header(t, path);
  AtomicFile sink(path);
  sink.write(header);
  sink.write(t.data);
  sink.commit();
}

}  // namespace scalora::io
