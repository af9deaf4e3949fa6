// SPDX-License-Identifier: Apache-2.0
// Malformed tensor files: one case per class of defect; each expects io_error with the
// right problem id, naming the file and (where one is concerned) the tensor.
#include <cstdint>
#include <string>
#include <vector>

#include "io_test_support.hpp"

using namespace scalora::io;
using scalora::test::bytes_of;
using scalora::test::expect_io_error;
using scalora::test::put_file;
using scalora::test::ScratchDir;

namespace {

const std::string kFile = "case.safetensors";

/// A safetensors file: 8-byte length, header text, `data_bytes` zero bytes.
std::vector<unsigned char> st(const std::string& header, std::size_t data_bytes) {
  std::vector<unsigned char> out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<unsigned char>(std::uint64_t(header.size()) >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + data_bytes, 0);
  return out;
}

/// Parses st(header, data_bytes) and expects `problem` naming `tensor`.
void st_rejects(const std::string& header, std::size_t data_bytes, io_problem problem, const std::string& tensor) {
  const std::vector<unsigned char> b = st(header, data_bytes);
  expect_io_error([&] { parse_safetensors(b.data(), b.size(), kFile); }, problem, kFile, tensor);
}

/// Entry text for a tensor.
std::string entry(const std::string& name, const std::string& dtype, const std::string& shape, const std::string& offsets) {
  return "\"" + name + "\":{\"dtype\":" + dtype + ",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
}

const std::string kNpy = "A.npy";

/// An npy file with the given version bytes and header text (padding added), then `data_bytes` zeros.
std::vector<unsigned char> npy(const std::string& dict, std::size_t data_bytes, int major = 1, int minor = 0) {
  std::vector<unsigned char> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<unsigned char>(major),
                                    static_cast<unsigned char>(minor)};
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  std::string header = dict;
  header += std::string(64 - (8 + len_bytes + header.size() + 1) % 64, ' ') + "\n";
  for (std::size_t i = 0; i < len_bytes; ++i) out.push_back(static_cast<unsigned char>(header.size() >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + data_bytes, 0);
  return out;
}

void npy_rejects(const std::vector<unsigned char>& b, io_problem problem) {
  expect_io_error([&] { parse_npy(b.data(), b.size(), kNpy, "A"); }, problem, kNpy, "A");
}
void npy_dict_rejects(const std::string& dict, std::size_t data_bytes, io_problem problem) {
  npy_rejects(npy(dict, data_bytes), problem);
}

const std::string kNpz = "case.npz";

Tensor small(const std::string& name) {
  Tensor t;
  t.name = name;
  t.type = dtype::f32;
  t.shape = {2};
  t.data = {0, 0, 0x80, 0x3f, 0, 0, 0, 0x40};
  return t;
}

std::uint64_t le(const std::vector<unsigned char>& b, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= std::uint64_t(b[at + i]) << (8 * i);
  return v;
}
void set_le(std::vector<unsigned char>& b, std::size_t at, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b[at + i] = static_cast<unsigned char>(v >> (8 * i));
}

/// An npz (STORED unless said) of tensors A and B, and where its records are.
struct Zip {
  std::vector<unsigned char> bytes;
  std::size_t end_record = 0, directory = 0;
  std::vector<std::size_t> central;  // offsets of the central directory entries
  std::vector<std::size_t> local;    // offsets of the local headers
  explicit Zip(npz_compression c = npz_compression::stored) : bytes(serialize_npz({small("A"), small("B")}, c)) {
    end_record = bytes.size() - 22;
    directory = le(bytes, end_record + 16, 4);
    for (std::size_t p = directory; p < end_record; p += 46 + le(bytes, p + 28, 2) + le(bytes, p + 30, 2)) {
      central.push_back(p);
      local.push_back(le(bytes, p + 42, 4));
    }
  }
  std::size_t data(std::size_t member) const {
    const std::size_t l = local[member];
    return l + 30 + le(bytes, l + 26, 2) + le(bytes, l + 28, 2);
  }
  /// Recomputes member's CRC-32 in both headers (after editing its bytes).
  void fix_crc(std::size_t member) {
    const std::uint64_t size = le(bytes, central[member] + 20, 4);
    const std::uint32_t crc = scalora::io::detail::crc32_of(bytes.data() + data(member), size);
    set_le(bytes, local[member] + 14, crc, 4);
    set_le(bytes, central[member] + 16, crc, 4);
  }
  void rejects(io_problem problem, const std::string& tensor) const {
    expect_io_error([&] { parse_npz(bytes.data(), bytes.size(), kNpz); }, problem, kNpz, tensor);
  }
};

}  // namespace

// ---------------------------------------------------------------- safetensors

TEST_CASE("safetensors: truncated file") {
  const std::vector<unsigned char> five = {1, 0, 0, 0, 0};
  expect_io_error([&] { parse_safetensors(five.data(), five.size(), kFile); }, io_problem::truncated, kFile, "");
  std::vector<unsigned char> b = st("{}", 0);
  b[0] = 10;  // announces 10 header bytes, has 2
  expect_io_error([&] { parse_safetensors(b.data(), b.size(), kFile); }, io_problem::truncated, kFile, "");
}

TEST_CASE("safetensors: header length above the 100 MiB cap") {
  std::vector<unsigned char> b = st("{}", 0);
  set_le(b, 0, (std::uint64_t{100} << 20) + 1, 8);
  expect_io_error([&] { parse_safetensors(b.data(), b.size(), kFile); }, io_problem::header_too_large, kFile, "");
  set_le(b, 0, ~std::uint64_t{0}, 8);
  expect_io_error([&] { parse_safetensors(b.data(), b.size(), kFile); }, io_problem::header_too_large, kFile, "");
}

TEST_CASE("safetensors: header is not JSON") {
  st_rejects("{\"A\": {", 0, io_problem::bad_json, "");
  st_rejects("{\"A\":{}} x", 0, io_problem::bad_json, "");
  st_rejects(std::string("{\"\xff\":{}}"), 0, io_problem::bad_json, "");  // not UTF-8
  st_rejects("{\"A\":{\"x\":" + std::string(20, '[') + std::string(20, ']') + "}}", 0, io_problem::bad_json, "A");
  std::string long_shape = "[1";
  for (int i = 0; i < 5000; ++i) long_shape += ",1";
  st_rejects("{" + entry("A", "\"F32\"", long_shape + "]", "[0,4]") + "}", 4, io_problem::bad_json, "A");
}

TEST_CASE("safetensors: header or entry is not an object") {
  st_rejects("[1, 2]", 0, io_problem::not_object, "");
  st_rejects("7", 0, io_problem::not_object, "");
  st_rejects("{\"A\": 5}", 0, io_problem::not_object, "A");
  st_rejects("{\"A\": [\"F32\"]}", 0, io_problem::not_object, "A");
}

TEST_CASE("safetensors: duplicate tensor names and duplicate keys") {
  const std::string a = entry("A", "\"F32\"", "[1]", "[0,4]");
  st_rejects("{" + a + "," + a + "}", 4, io_problem::duplicate_name, "A");
  st_rejects("{\"A\":{\"dtype\":\"F32\",\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
             io_problem::duplicate_name, "A");
  st_rejects("{\"__metadata__\":{},\"__metadata__\":{}}", 0, io_problem::duplicate_name, "__metadata__");
}

TEST_CASE("safetensors: unknown dtype names the tensor") {
  st_rejects("{" + entry("grad_A", "\"F8_E4M3\"", "[1]", "[0,1]") + "}", 1, io_problem::unknown_dtype, "grad_A");
  st_rejects("{" + entry("grad_A", "\"C64\"", "[1]", "[0,8]") + "}", 8, io_problem::unknown_dtype, "grad_A");
  st_rejects("{" + entry("grad_A", "\"i32\"", "[1]", "[0,4]") + "}", 4, io_problem::unknown_dtype, "grad_A");
  st_rejects("{" + entry("grad_A", "32", "[1]", "[0,4]") + "}", 4, io_problem::unknown_dtype, "grad_A");
  st_rejects("{\"grad_A\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, io_problem::unknown_dtype, "grad_A");
}

TEST_CASE("safetensors: shape with negative, non-integer or missing entries") {
  st_rejects("{" + entry("B", "\"F32\"", "[-1]", "[0,4]") + "}", 4, io_problem::bad_shape, "B");
  st_rejects("{" + entry("B", "\"F32\"", "[2.0]", "[0,8]") + "}", 8, io_problem::bad_shape, "B");
  st_rejects("{" + entry("B", "\"F32\"", "[\"2\"]", "[0,8]") + "}", 8, io_problem::bad_shape, "B");
  st_rejects("{" + entry("B", "\"F32\"", "2", "[0,8]") + "}", 8, io_problem::bad_shape, "B");
  st_rejects("{\"B\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, io_problem::bad_shape, "B");
}

TEST_CASE("safetensors: element count x size overflows") {
  st_rejects("{" + entry("W", "\"F32\"", "[4294967296,4294967296]", "[0,4]") + "}", 4, io_problem::size_overflow, "W");
  st_rejects("{" + entry("W", "\"F64\"", "[2305843009213693952]", "[0,4]") + "}", 4, io_problem::size_overflow, "W");
  st_rejects("{" + entry("W", "\"F32\"", "[9223372036854775808]", "[0,4]") + "}", 4, io_problem::size_overflow, "W");
  st_rejects("{" + entry("W", "\"I64\"", "[2305843009213693952]", "[0,4]") + "}", 4, io_problem::size_overflow, "W");
  st_rejects("{" + entry("W", "\"BOOL\"", "[4294967296,4294967296]", "[0,4]") + "}", 4, io_problem::size_overflow,
             "W");
}

TEST_CASE("safetensors: data_offsets not two non-negative integers, or end < begin") {
  for (const char* offsets : {"[0]", "[0,4,8]", "[-4,0]", "[0,\"4\"]", "[0,4.0]", "{}", "[0,18446744073709551616]"})
    st_rejects("{" + entry("A", "\"F32\"", "[1]", offsets) + "}", 4, io_problem::bad_offsets, "A");
  st_rejects("{" + entry("A", "\"F32\"", "[1]", "[4,0]") + "}", 4, io_problem::bad_offsets, "A");
  st_rejects("{\"A\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, io_problem::bad_offsets, "A");
}

TEST_CASE("safetensors: data_offsets outside the data section") {
  st_rejects("{" + entry("A", "\"F32\"", "[2]", "[0,8]") + "}", 4, io_problem::offsets_out_of_range, "A");
  st_rejects("{" + entry("A", "\"F32\"", "[0]", "[9,9]") + "}", 4, io_problem::offsets_out_of_range, "A");
}

TEST_CASE("safetensors: data_offsets inconsistent with shape x dtype size") {
  st_rejects("{" + entry("A", "\"F32\"", "[2]", "[0,12]") + "}", 12, io_problem::size_mismatch, "A");
  st_rejects("{" + entry("A", "\"BF16\"", "[2]", "[0,8]") + "}", 8, io_problem::size_mismatch, "A");
  st_rejects("{" + entry("step", "\"I64\"", "[]", "[0,4]") + "}", 4, io_problem::size_mismatch, "step");
  st_rejects("{" + entry("mask", "\"BOOL\"", "[3]", "[0,6]") + "}", 6, io_problem::size_mismatch, "mask");
  st_rejects("{" + entry("ids", "\"U16\"", "[2,2]", "[0,4]") + "}", 4, io_problem::size_mismatch, "ids");
}

TEST_CASE("safetensors: overlapping tensors") {
  st_rejects("{" + entry("A", "\"F32\"", "[2]", "[0,8]") + "," + entry("B", "\"F32\"", "[2]", "[4,12]") + "}", 12,
             io_problem::overlap, "B");
  st_rejects("{" + entry("A", "\"F32\"", "[2]", "[0,8]") + "," + entry("B", "\"F32\"", "[2]", "[0,8]") + "}", 8,
             io_problem::overlap, "B");
}

TEST_CASE("safetensors: bytes that belong to no tensor") {
  st_rejects("{" + entry("A", "\"F32\"", "[1]", "[4,8]") + "}", 8, io_problem::unused_bytes, "A");
  st_rejects("{" + entry("A", "\"F32\"", "[1]", "[0,4]") + "}", 8, io_problem::unused_bytes, "");
  st_rejects("{}", 1, io_problem::unused_bytes, "");
}

TEST_CASE("safetensors: __metadata__ not an object of strings") {
  st_rejects("{\"__metadata__\":{\"step\":5}}", 0, io_problem::bad_metadata, "");
  st_rejects("{\"__metadata__\":[\"a\"]}", 0, io_problem::bad_metadata, "");
  const std::vector<unsigned char> ok = st("{\"__metadata__\":null}", 0);
  CHECK(parse_safetensors(ok.data(), ok.size(), kFile).metadata.empty());
}

TEST_CASE("safetensors: files that cannot be opened") {
  ScratchDir dir;
  expect_io_error([&] { read_safetensors(dir.file("missing.safetensors")); }, io_problem::open_failed,
                  dir.file("missing.safetensors"), "");
  expect_io_error([&] { read_safetensors(dir.path()); }, io_problem::open_failed, dir.path(), "");
  // A file cut inside the data section: the tensor's range is outside what is there.
  const std::vector<unsigned char> whole = serialize_safetensors({small("A")});
  put_file(dir.file("cut.safetensors"), std::vector<unsigned char>(whole.begin(), whole.end() - 3));
  expect_io_error([&] { read_safetensors(dir.file("cut.safetensors")); }, io_problem::offsets_out_of_range,
                  dir.file("cut.safetensors"), "A");
}

// ---------------------------------------------------------------- npy

const std::string kDictF4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";

TEST_CASE("npy: magic") {
  std::vector<unsigned char> b = npy(kDictF4, 8);
  b[1] = 'n';
  npy_rejects(b, io_problem::bad_magic);
  npy_rejects(bytes_of("PK\x03\x04 not npy"), io_problem::bad_magic);
}

TEST_CASE("npy: truncated file, header or data") {
  const std::vector<unsigned char> b = npy(kDictF4, 8);
  npy_rejects(std::vector<unsigned char>(b.begin(), b.begin() + 4), io_problem::truncated);   // inside the magic
  npy_rejects(std::vector<unsigned char>(b.begin(), b.begin() + 9), io_problem::truncated);   // inside the length
  npy_rejects(std::vector<unsigned char>(b.begin(), b.begin() + 40), io_problem::truncated);  // inside the header
  npy_rejects(std::vector<unsigned char>(b.begin(), b.end() - 1), io_problem::truncated);     // inside the data
}

TEST_CASE("npy: format version") {
  npy_rejects(npy(kDictF4, 8, 4, 0), io_problem::bad_version);
  npy_rejects(npy(kDictF4, 8, 1, 1), io_problem::bad_version);
  npy_rejects(npy(kDictF4, 8, 0, 0), io_problem::bad_version);
}

TEST_CASE("npy: header length above the 1 MiB cap") {
  std::vector<unsigned char> b = npy(kDictF4, 8, 2, 0);
  set_le(b, 8, (1u << 20) + 1, 4);
  npy_rejects(b, io_problem::header_too_large);
}

TEST_CASE("npy: header dict malformed or with the wrong keys") {
  for (const char* dict : {"not a dict", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)",
                           "{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}",
                           "{'descr': '<f4', 'fortran_order': False}",
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}",
                           "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",
                           "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}",
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} trailing",
                           "{'descr': '<f4', 'fortran_order': false, 'shape': (2,)}",
                           "{'descr': '<f4', 'fortran_order': False, 'shape': ((((((((((2,),),),),),),),),),)}",
                           "{1: 2}"})
    npy_dict_rejects(dict, 8, io_problem::bad_header);
}

TEST_CASE("npy: dtypes other than the float, integer and bool ones, and BF16 stand-ins") {
  npy_dict_rejects("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16, io_problem::unknown_dtype);
  npy_dict_rejects("{'descr': '|i4', 'fortran_order': False, 'shape': (2,), }", 8, io_problem::unknown_dtype);
  npy_dict_rejects("{'descr': '<u3', 'fortran_order': False, 'shape': (2,), }", 6, io_problem::unknown_dtype);
  npy_dict_rejects("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (2,), }", 16, io_problem::unknown_dtype);
  npy_dict_rejects("{'descr': '<V2', 'fortran_order': False, 'shape': (2,), }", 4, io_problem::unknown_dtype);
  npy_dict_rejects("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8, io_problem::unknown_dtype);
  npy_dict_rejects("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 8, io_problem::unknown_dtype);
}

TEST_CASE("npy: shape negative, non-integer or not a tuple") {
  npy_dict_rejects("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", 8, io_problem::bad_shape);
  npy_dict_rejects("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,), }", 8, io_problem::bad_shape);
  npy_dict_rejects("{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", 8, io_problem::bad_shape);
  npy_dict_rejects("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", 8, io_problem::bad_shape);
  npy_dict_rejects("{'descr': '<f4', 'fortran_order': False, 'shape': ('2',), }", 8, io_problem::bad_shape);
  npy_dict_rejects("{'descr': '<f4', 'fortran_order': False, 'shape': (-99999999999999999999,), }", 8,
                   io_problem::bad_shape);
}

TEST_CASE("npy: integer and bool data of the wrong length") {
  npy_dict_rejects("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", 8, io_problem::truncated);
  npy_dict_rejects("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", 24, io_problem::unused_bytes);
  npy_dict_rejects("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", 2, io_problem::truncated);
  npy_dict_rejects("{'descr': '>u2', 'fortran_order': True, 'shape': (2, 2), }", 9, io_problem::unused_bytes);
}

TEST_CASE("npy: element count x size overflows") {
  npy_dict_rejects("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 8,
                   io_problem::size_overflow);
  npy_dict_rejects("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }", 8,
                   io_problem::size_overflow);
  npy_dict_rejects("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }", 8,
                   io_problem::size_overflow);
}

TEST_CASE("npy: bytes after the array data") {
  npy_dict_rejects(kDictF4, 9, io_problem::unused_bytes);
}

TEST_CASE("npy: Python 2 long suffix and double quotes are accepted") {
  const std::vector<unsigned char> b = npy("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1L, 2L)}", 8);
  const Tensor t = parse_npy(b.data(), b.size(), kNpy, "A");
  CHECK(t.shape == std::vector<std::int64_t>{1, 2});
}

// ---------------------------------------------------------------- npz

TEST_CASE("npz: not a ZIP, or cut before the end record") {
  npy_rejects(bytes_of("x"), io_problem::bad_magic);  // the npy reader's view of junk
  const std::vector<unsigned char> junk = bytes_of(std::string(100, 'x'));
  expect_io_error([&] { parse_npz(junk.data(), junk.size(), kNpz); }, io_problem::bad_zip, kNpz, "");
  const Zip z;
  const std::vector<unsigned char> cut(z.bytes.begin(), z.bytes.end() - 5);
  expect_io_error([&] { parse_npz(cut.data(), cut.size(), kNpz); }, io_problem::bad_zip, kNpz, "");
  const std::vector<unsigned char> tiny = {'P', 'K', 5, 6};
  expect_io_error([&] { parse_npz(tiny.data(), tiny.size(), kNpz); }, io_problem::truncated, kNpz, "");
}

TEST_CASE("npz: truncated central directory") {
  Zip z;
  set_le(z.bytes, z.end_record + 8, 9, 2);  // 9 entries announced, room for 2
  set_le(z.bytes, z.end_record + 10, 9, 2);
  z.rejects(io_problem::truncated, "");
  Zip y;
  set_le(y.bytes, y.central[1] + 28, 200, 2);  // the last entry's name runs past the directory
  y.rejects(io_problem::truncated, "");
  Zip w;
  set_le(w.bytes, w.end_record + 12, le(w.bytes, w.end_record + 12, 4) + 1, 4);  // directory past its end
  w.rejects(io_problem::bad_zip, "");
}

TEST_CASE("npz: bad record signatures and names") {
  Zip z;
  z.bytes[z.central[1]] = 'X';
  z.rejects(io_problem::bad_zip, "");
  Zip y;
  y.bytes[y.local[1] + 1] = 'X';
  y.rejects(io_problem::bad_zip, "B");
  Zip x;
  x.bytes[x.local[1] + 30] = 'C';  // local name "C.npy", directory says "B.npy"
  x.rejects(io_problem::bad_zip, "B");
}

TEST_CASE("npz: member offsets outside the archive") {
  Zip z;
  set_le(z.bytes, z.central[1] + 42, z.directory + 100, 4);
  z.rejects(io_problem::offsets_out_of_range, "B");
  Zip y;
  set_le(y.bytes, y.central[1] + 20, 1000, 4);  // compressed size runs into the directory
  set_le(y.bytes, y.central[1] + 24, 1000, 4);
  y.rejects(io_problem::offsets_out_of_range, "B");
}

TEST_CASE("npz: overlapping members") {
  Zip z;
  set_le(z.bytes, z.central[1] + 42, z.local[0], 4);
  set_le(z.bytes, z.central[1] + 46, 'A', 1);  // keep names consistent with the shared local header...
  z.rejects(io_problem::duplicate_name, "A");  // ...which then duplicates A
  Zip y;
  // B's entry pointing into the middle of A's data: its "local header" is A's bytes.
  set_le(y.bytes, y.central[1] + 42, y.local[0] + 1, 4);
  expect_io_error([&] { parse_npz(y.bytes.data(), y.bytes.size(), kNpz); }, io_problem::bad_zip, kNpz, "B");
  // Two different names whose ranges overlap: A's compressed size reaching into B.
  Zip x;
  const std::uint64_t a_size = le(x.bytes, x.central[0] + 20, 4);
  set_le(x.bytes, x.central[0] + 20, a_size + 40, 4);
  set_le(x.bytes, x.central[0] + 24, a_size + 40, 4);
  x.rejects(io_problem::overlap, "B");
}

TEST_CASE("npz: duplicate member names") {
  Zip z;
  z.bytes[z.central[1] + 46] = 'A';
  z.bytes[z.local[1] + 30] = 'A';
  z.rejects(io_problem::duplicate_name, "A");
}

TEST_CASE("npz: unsupported compression and features") {
  Zip z;
  set_le(z.bytes, z.central[0] + 10, 12, 2);  // BZIP2
  z.rejects(io_problem::unsupported_compression, "A");
  Zip y;
  set_le(y.bytes, y.central[1] + 8, 1, 2);  // encrypted
  y.rejects(io_problem::unsupported_feature, "B");
  Zip x;
  set_le(x.bytes, x.end_record + 4, 1, 2);  // disk 1
  x.rejects(io_problem::unsupported_feature, "");
}

TEST_CASE("npz: CRC-32 mismatch") {
  Zip z;
  z.bytes[z.data(1) + 130] ^= 1;  // a data byte of B
  z.rejects(io_problem::crc_mismatch, "B");
  Zip y(npz_compression::deflated);
  set_le(y.bytes, y.central[0] + 16, le(y.bytes, y.central[0] + 16, 4) ^ 1, 4);
  y.rejects(io_problem::crc_mismatch, "A");
}

TEST_CASE("npz: corrupt DEFLATE stream or wrong declared size") {
  Zip z(npz_compression::deflated);
  const std::size_t size = le(z.bytes, z.central[1] + 20, 4);
  for (std::size_t i = 0; i < size; ++i) z.bytes[z.data(1) + i] = 0xff;
  z.rejects(io_problem::decompress_failed, "B");
  Zip y(npz_compression::deflated);
  set_le(y.bytes, y.central[0] + 24, le(y.bytes, y.central[0] + 24, 4) + 1, 4);
  y.rejects(io_problem::decompress_failed, "A");
  Zip x(npz_compression::deflated);
  set_le(x.bytes, x.central[0] + 24, le(x.bytes, x.central[0] + 24, 4) - 1, 4);
  x.rejects(io_problem::decompress_failed, "A");
  Zip w(npz_compression::deflated);
  set_le(w.bytes, w.central[0] + 24, 0xfffffffe, 4);  // a zip bomb's claim: refused before allocating
  w.rejects(io_problem::bad_zip, "A");
}

TEST_CASE("npz: members that are not .npy") {
  Zip z;
  const std::size_t name = z.central[1] + 46;
  z.bytes[name + 2] = 't';  // "B.tpy"
  z.bytes[z.local[1] + 32] = 't';
  z.rejects(io_problem::not_npy_member, "B.tpy");
}

TEST_CASE("npz: a malformed npy inside a member names the member") {
  Zip z;
  const std::size_t header = z.data(1);
  REQUIRE(z.bytes[header + 21] == '<');
  z.bytes[header + 22] = 'c';  // "'<f4'" -> "'<c4'"
  z.fix_crc(1);
  z.rejects(io_problem::unknown_dtype, "B");
  Zip y(npz_compression::stored);
  set_le(y.bytes, y.local[0], 0, 4);
  y.rejects(io_problem::bad_zip, "A");
}

// ---------------------------------------------------------------- values

TEST_CASE("values of a BOOL or integer tensor: not_floating names the tensor") {
  Zip z;
  const std::size_t header = z.data(1);
  z.bytes[header + 22] = 'i';  // member B: "'<f4'" -> "'<i4'", a valid npy
  z.fix_crc(1);
  const TensorFile f = parse_npz(z.bytes.data(), z.bytes.size(), kNpz);
  const Tensor& b = *f.find("B");
  CHECK(b.type == dtype::i32);
  expect_io_error([&] { b.to_matrix<double>(); }, io_problem::not_floating, "", "B");
  expect_io_error([&] { b.value(1); }, io_problem::not_floating, "", "B");
  CHECK(f.find("A")->value(1) == 2.0f);
}
