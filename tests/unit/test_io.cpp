// SPDX-License-Identifier: Apache-2.0
// scalora::io: Tensor helpers, round trips in every format and dtype, byte layouts of
// Python's writers (hand-written and numpy-made fixtures), integer and bool tensors,
// value_dtype of tensors and matrices, atomic writes.
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>

#include "io_numpy_fixtures.hpp"
#include "io_test_support.hpp"
#include "scalora/io/output_dir.hpp"

using namespace scalora::io;
using scalora::test::bytes_of;
using scalora::test::expect_io_error;
using scalora::test::file_bytes;
using scalora::test::put_file;
using scalora::test::ScratchDir;
namespace fx = scalora::test::numpy_fixtures;

namespace {

/// Tensor of `shape` whose element k (row-major) is k - 3.25 * (k % 3), rounded to type
/// when floating; byte b of a BOOL tensor is b % 2, of an integer one 11 b + 5 mod 256.
Tensor ramp(const std::string& name, dtype type, std::vector<std::int64_t> shape) {
  Tensor t;
  t.name = name;
  t.type = type;
  t.shape = std::move(shape);
  const std::int64_t n = t.element_count();
  t.data.resize(static_cast<std::size_t>(n) * element_size(type));
  for (std::size_t b = 0; b < t.data.size() && !is_floating(type); ++b)
    t.data[b] = static_cast<unsigned char>(type == dtype::boolean ? b % 2 : 11 * b + 5);
  for (std::int64_t k = 0; k < n && is_floating(type); ++k)
    encode_element(type, double(k) - 3.25 * double(k % 3), t.data.data() + k * element_size(type));
  return t;
}

const std::vector<std::vector<std::int64_t>> kShapes = {{}, {1}, {5}, {2, 3}, {3, 2}, {2, 3, 4}, {0, 3}, {2, 0, 2}};

/// A tensor of each shape in each dtype (BF16 left out for numpy).
std::vector<Tensor> all_tensors(bool with_bf16) {
  std::vector<Tensor> out;
  int i = 0;
  for (dtype type : kDtypes) {
    if (type == dtype::bf16 && !with_bf16) continue;
    for (const auto& shape : kShapes) out.push_back(ramp("t" + std::to_string(i++) + "." + safetensors_name(type), type, shape));
  }
  return out;
}

/// Element k of a BOOL or integer tensor: its element_size bytes as an unsigned integer.
std::uint64_t pattern(const Tensor& t, std::int64_t k) {
  const std::size_t size = element_size(t.type);
  return scalora::io::detail::load_le(t.data.data() + static_cast<std::size_t>(k) * size, static_cast<int>(size));
}

/// what() of the io_error f throws (after expect_io_error checked its id, file and tensor).
template <class F>
std::string message_of(F&& f, const std::string& tensor) {
  expect_io_error(f, io_problem::not_floating, "", tensor);
  try {
    f();
  } catch (const io_error& e) {
    return e.what();
  }
  return "";
}

std::vector<float> floats_of(const Tensor& t) {
  std::vector<float> v;
  for (std::int64_t i = 0; i < t.element_count(); ++i) v.push_back(static_cast<float>(t.value(i)));
  return v;
}

}  // namespace

TEST_CASE("epsilon and min_normal are the formats' own gaps, read from their bit patterns") {
  CHECK(epsilon(dtype::f64) == std::numeric_limits<double>::epsilon());
  CHECK(epsilon(dtype::f32) == double(std::numeric_limits<float>::epsilon()));
  CHECK(min_normal(dtype::f64) == std::numeric_limits<double>::min());
  CHECK(min_normal(dtype::f32) == double(std::numeric_limits<float>::min()));
  // BF16 and F16 through their encoders: 1 + eps is the next number after 1 (its
  // last fraction bit set), 1 + eps/2 is a tie that rounds to 1 (even); min_normal
  // has exponent field 1 and fraction 0, and the number below it is subnormal.
  CHECK(encode_bf16(1 + epsilon(dtype::bf16)) == 0x3F81);
  CHECK(encode_bf16(1 + epsilon(dtype::bf16) / 2) == 0x3F80);
  CHECK(encode_f16(1 + epsilon(dtype::f16)) == 0x3C01);
  CHECK(encode_f16(1 + epsilon(dtype::f16) / 2) == 0x3C00);
  CHECK(encode_bf16(min_normal(dtype::bf16)) == 0x0080);
  CHECK(encode_f16(min_normal(dtype::f16)) == 0x0400);
  CHECK(encode_f16(std::nextafter(min_normal(dtype::f16), 0.0)) == 0x0400);  // rounds up to the smallest normal
  CHECK(decode_f16(0x03FF) < min_normal(dtype::f16));                       // the largest subnormal
  for (dtype t : kDtypes)
    if (!is_floating(t)) {
      CHECK(std::isnan(epsilon(t)));
      CHECK(std::isnan(min_normal(t)));
    }
}

TEST_CASE("Tensor: element count, byte size, overflow and negative dimensions") {
  Tensor t;
  t.name = "A";
  t.type = dtype::f16;
  CHECK(t.element_count() == 1);  // shape []
  t.shape = {0, 7};
  CHECK(t.element_count() == 0);
  t.shape = {3, 4, 5};
  CHECK(t.element_count() == 60);
  CHECK(t.byte_size() == 120);
  t.shape = {std::int64_t{1} << 62, 2};
  expect_io_error([&] { t.element_count(); }, io_problem::size_overflow, "", "A");
  t.shape = {std::int64_t{1} << 62};
  CHECK(t.element_count() == std::int64_t{1} << 62);
  CHECK(t.byte_size() == std::uint64_t{1} << 63);
  t.type = dtype::f64;
  expect_io_error([&] { t.byte_size(); }, io_problem::size_overflow, "", "A");  // x 8 bytes
  t.type = dtype::f16;
  t.shape = {2, -1};
  expect_io_error([&] { t.element_count(); }, io_problem::bad_shape, "", "A");
  t.shape = {2};
  t.data.resize(3);
  expect_io_error([&] { t.check_consistent(); }, io_problem::invalid_tensor, "", "A");
}

TEST_CASE("to_matrix: row-major storage becomes the same matrix in column-major Eigen") {
  Tensor t;
  t.name = "W_pt";
  t.type = dtype::f64;
  t.shape = {2, 3};
  t.data.resize(48);
  for (int k = 0; k < 6; ++k) encode_element(dtype::f64, k + 1, t.data.data() + 8 * k);  // [[1,2,3],[4,5,6]]
  const Eigen::MatrixXd m = t.to_matrix<double>();
  REQUIRE(m.rows() == 2);
  REQUIRE(m.cols() == 3);
  CHECK(m(0, 1) == 2);
  CHECK(m(1, 0) == 4);
  CHECK(m(1, 2) == 6);
  const Eigen::MatrixXf mf = t.to_matrix<float>();
  CHECK(mf(0, 2) == 3.0f);

  t.shape = {6};
  const Eigen::MatrixXd column = t.to_matrix<double>();
  CHECK(column.rows() == 6);
  CHECK(column.cols() == 1);
  CHECK(column(4, 0) == 5);

  t.shape = {1, 2, 3};
  expect_io_error([&] { t.to_matrix<double>(); }, io_problem::not_matrix, "", "W_pt");
  t.shape = {2, 2};
  expect_io_error([&] { t.to_matrix<double>(); }, io_problem::invalid_tensor, "", "W_pt");
}

TEST_CASE("from_matrix is the inverse of to_matrix and stores rows first") {
  Eigen::MatrixXd m(3, 2);
  m << 1, 2, 3, 4, 5, 6;
  const Tensor t = from_matrix("B", m, dtype::f32);
  REQUIRE(t.shape == std::vector<std::int64_t>{3, 2});
  std::vector<float> stored(6);
  std::memcpy(stored.data(), t.data.data(), 24);
  CHECK(stored == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(t.to_matrix<double>() == m);
  CHECK(from_matrix("B", t.to_matrix<float>(), dtype::f32) == t);

  // rounding to F16/BF16 is round-to-nearest-even, once
  Eigen::MatrixXd x(1, 3);
  x << 0.1, 70000.0, -1e-8;
  const Tensor h = from_matrix("h", x, dtype::f16);
  CHECK(h.value(0) == decode_f16(encode_f16(0.1)));
  CHECK(std::isinf(h.value(1)));
  CHECK(h.value(2) == 0.0);
  CHECK(std::signbit(h.value(2)));
  // F64 -> float rounds to nearest
  const Tensor d = from_matrix("d", x, dtype::f64);
  CHECK(d.to_matrix<float>()(0, 0) == 0.1f);
}

TEST_CASE("scalar_value accepts shapes [] and [1] only") {
  CHECK(from_scalar("lr", 1e-3, dtype::f64).scalar_value() == 1e-3);
  CHECK(from_scalar("L", 2.5, dtype::bf16, {1}).scalar_value() == 2.5);
  CHECK(from_scalar("L", 0.1, dtype::f32).scalar_value() == double(0.1f));
  Tensor t = ramp("L", dtype::f32, {2});
  expect_io_error([&] { t.scalar_value(); }, io_problem::not_scalar, "", "L");
  t = ramp("L", dtype::f32, {1, 1});
  expect_io_error([&] { t.scalar_value(); }, io_problem::not_scalar, "", "L");
  expect_io_error([] { from_scalar("L", 1, dtype::f32, {2}); }, io_problem::not_scalar, "", "L");
}

TEST_CASE("safetensors round trip: every dtype, ranks 0-3, empty tensors, metadata") {
  const std::vector<Tensor> tensors = all_tensors(true);
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"scalora", "case \"1\" \xc3\xa9"}};
  ScratchDir dir;
  const std::string path = dir.file("all.safetensors");
  write_safetensors(path, tensors, metadata);
  const TensorFile f = read_safetensors(path);
  CHECK(f.metadata == metadata);
  REQUIRE(f.tensors.size() == tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) CHECK_MESSAGE(f.tensors[i] == tensors[i], tensors[i].name);
  const std::vector<unsigned char> bytes = serialize_safetensors(tensors, metadata);
  CHECK(bytes == file_bytes(path));
  CHECK(parse_safetensors(bytes.data(), bytes.size(), "mem") == f);
  CHECK(f.find("t3.F64") == &f.tensors[3]);
  CHECK(f.find("nope") == nullptr);
  CHECK(dir.entries() == std::vector<std::string>{"all.safetensors"});
}

TEST_CASE("npy round trip: every dtype but BF16, ranks 0-3, and BF16 is refused clearly") {
  ScratchDir dir;
  for (const Tensor& t : all_tensors(false)) {
    const std::string path = dir.file(t.name + ".npy");
    write_npy(path, t);
    CHECK_MESSAGE(read_npy(path) == t, t.name);
    const std::vector<unsigned char> bytes = serialize_npy(t);
    CHECK(bytes == file_bytes(path));
    CHECK((bytes.size() - t.data.size()) % 64 == 0);  // data starts on a 64-byte boundary
    CHECK(parse_npy(bytes.data(), bytes.size(), "mem", t.name) == t);
  }
  const Tensor b = ramp("A", dtype::bf16, {2, 2});
  expect_io_error([&] { write_npy(dir.file("A.npy"), b); }, io_problem::unsupported_dtype, dir.file("A.npy"), "A");
  expect_io_error([&] { serialize_npz({b}); }, io_problem::unsupported_dtype, "", "A");
  CHECK(std::string(to_string(io_problem::unsupported_dtype)) == "unsupported_dtype");
}

TEST_CASE("npz round trip: STORED and DEFLATED, and forced ZIP64 records") {
  const std::vector<Tensor> tensors = all_tensors(false);
  ScratchDir dir;
  for (npz_compression c : {npz_compression::stored, npz_compression::deflated}) {
    const std::string path = dir.file(c == npz_compression::stored ? "s.npz" : "d.npz");
    write_npz(path, tensors, c);
    const TensorFile f = read_npz(path);
    REQUIRE(f.tensors.size() == tensors.size());
    for (std::size_t i = 0; i < tensors.size(); ++i) CHECK_MESSAGE(f.tensors[i] == tensors[i], tensors[i].name);
    CHECK(serialize_npz(tensors, c) == file_bytes(path));
  }
  for (npz_compression c : {npz_compression::stored, npz_compression::deflated}) {
    std::vector<scalora::io::detail::NpzMemberPlan> plans = scalora::io::detail::plan_npz(tensors, c, "");
    scalora::io::detail::VectorSink sink;
    scalora::io::detail::write_npz(sink, plans, tensors, c, /*force_zip64=*/true);
    const std::vector<unsigned char>& z = sink.bytes;
    CHECK(z.size() > serialize_npz(tensors, c).size());  // the ZIP64 records are there
    const TensorFile f = parse_npz(z.data(), z.size(), "zip64.npz");
    CHECK(f.tensors == tensors);
  }
  const std::vector<unsigned char> empty = serialize_npz({});
  CHECK(empty.size() == 22);  // just the end record
  CHECK(parse_npz(empty.data(), empty.size(), "empty.npz").tensors.empty());
}

TEST_CASE("read_tensor_file tells safetensors, npy and npz apart") {
  ScratchDir dir;
  const Tensor a = ramp("A", dtype::f32, {2, 3});
  write_safetensors(dir.file("x.safetensors"), {a});
  write_npy(dir.file("A.npy"), a);
  write_npz(dir.file("x.npz"), {a});
  write_npz(dir.file("empty.npz"), {});
  for (const char* name : {"x.safetensors", "A.npy", "x.npz"}) {
    const TensorFile f = read_tensor_file(dir.file(name));
    REQUIRE(f.tensors.size() == 1);
    CHECK(f.tensors[0] == a);
  }
  CHECK(read_tensor_file(dir.file("empty.npz")).tensors.empty());
  expect_io_error([&] { read_tensor_file(dir.file("missing")); }, io_problem::open_failed, dir.file("missing"), "");
}

TEST_CASE("safetensors byte layout: as safetensors.torch.save_file writes it") {
  // save_file({"A": tensor([1., 2.]), "B": tensor([[-0.5]])}, path, metadata={"format": "pt"}):
  // compact JSON, "__metadata__" first, entries dtype/shape/data_offsets, padded with
  // spaces to a multiple of 8, tensors laid out in header order.
  const std::string header =
      "{\"__metadata__\":{\"format\":\"pt\"},\"A\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"B\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[8,12]}}";
  REQUIRE(header.size() == 141);
  std::vector<unsigned char> expected = {144, 0, 0, 0, 0, 0, 0, 0};
  for (char c : header + "   ") expected.push_back(static_cast<unsigned char>(c));
  for (unsigned char b : {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0xbf}) expected.push_back(b);

  Eigen::MatrixXf b(1, 1);
  b << -0.5f;
  Tensor a = from_matrix("A", Eigen::Vector2f(1, 2), dtype::f32);
  a.shape = {2};
  const std::vector<Tensor> tensors = {a, from_matrix("B", b, dtype::f32)};
  CHECK(serialize_safetensors(tensors, {{"format", "pt"}}) == expected);
  const TensorFile f = parse_safetensors(expected.data(), expected.size(), "hand.safetensors");
  CHECK(f.metadata.at("format") == "pt");
  CHECK(f.tensors == tensors);

  // A header written by another tool: whitespace, keys in another order, tensors in the
  // data section in reverse order, no metadata, BF16 and F16 scalars.
  const std::string other =
      "{ \"lr\" : {\"data_offsets\": [2, 4], \"shape\": [], \"dtype\": \"F16\"},\n"
      "  \"L\" : {\"shape\": [1], \"dtype\": \"BF16\", \"data_offsets\": [0, 2]} }";
  std::vector<unsigned char> file = {static_cast<unsigned char>(other.size()), 0, 0, 0, 0, 0, 0, 0};
  file.insert(file.end(), other.begin(), other.end());
  for (unsigned char byte : {0x20, 0x41, 0x00, 0x3c}) file.push_back(byte);  // L = 10 (bf16), lr = 1 (f16)
  const TensorFile g = parse_safetensors(file.data(), file.size(), "other.safetensors");
  REQUIRE(g.tensors.size() == 2);
  CHECK(g.tensors[0].name == "lr");  // header order
  CHECK(g.tensors[0].scalar_value() == 1.0);
  CHECK(g.tensors[1].name == "L");
  CHECK(g.tensors[1].scalar_value() == 10.0);
  CHECK(g.metadata.empty());
}

TEST_CASE("npy byte layout: the header numpy writes, byte for byte") {
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  std::string header = dict + std::string(20, ' ');  // numpy's room for a 21-digit first axis
  header += std::string(64 - (10 + header.size() + 1) % 64, ' ') + "\n";
  REQUIRE((10 + header.size()) % 64 == 0);
  std::vector<unsigned char> expected = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<unsigned char>(header.size()), 0};
  expected.insert(expected.end(), header.begin(), header.end());
  const std::vector<unsigned char> a = serialize_npy(parse_npy(fx::npy_A_f4.data(), fx::npy_A_f4.size(), "A.npy", "A"));
  CHECK(std::vector<unsigned char>(a.begin(), a.begin() + 128) == expected);
  // The whole files np.save wrote for ranks 0, 1, 2, 3 in F64, F16, F32.
  for (const auto* fixture : {&fx::npy_A_f4, &fx::npy_S_f8, &fx::npy_V_f2, &fx::npy_T_f8}) {
    const Tensor t = parse_npy(fixture->data(), fixture->size(), "numpy.npy", "x");
    CHECK(serialize_npy(t) == *fixture);
  }
}

TEST_CASE("npy files written by numpy: values, Fortran order, big-endian, versions 2.0 and 3.0") {
  const auto load = [](const std::vector<unsigned char>& b) { return parse_npy(b.data(), b.size(), "numpy.npy", "x"); };
  const std::vector<float> A = {1.5f, -2.0f, 3.25f, 4.0f, 0.1f, -6.0f};
  const Tensor a = load(fx::npy_A_f4);
  CHECK(a.type == dtype::f32);
  CHECK(a.shape == std::vector<std::int64_t>{2, 3});
  CHECK(floats_of(a) == A);
  CHECK(a.to_matrix<float>()(1, 0) == 4.0f);
  for (const auto* fixture : {&fx::npy_A_big_endian, &fx::npy_A_v2, &fx::npy_A_v3}) CHECK(load(*fixture) == a);
  const Tensor af = load(fx::npy_A_fortran);
  CHECK(af.type == dtype::f64);
  CHECK(af.shape == std::vector<std::int64_t>{2, 3});
  CHECK(floats_of(af) == A);

  const Tensor t = load(fx::npy_T_f8);
  REQUIRE(t.shape == std::vector<std::int64_t>{2, 3, 4});
  for (int k = 0; k < 24; ++k) CHECK(t.value(k) == k);
  CHECK(load(fx::npy_T_fortran) == t);
  const Tensor th = load(fx::npy_T_big_endian_f2);
  CHECK(th.type == dtype::f16);
  for (int k = 0; k < 24; ++k) CHECK(th.value(k) == k);

  const Tensor s = load(fx::npy_S_f8);
  CHECK(s.shape.empty());
  CHECK(s.scalar_value() == 0.125);
  const Tensor v = load(fx::npy_V_f2);
  CHECK(v.shape == std::vector<std::int64_t>{3});
  CHECK(v.value(1) == 65504.0);
  CHECK(std::signbit(v.value(2)));
}

TEST_CASE("npy files written by numpy: BOOL and integer dtypes, byte for byte, big-endian and Fortran order") {
  const auto load = [](const std::vector<unsigned char>& b) { return parse_npy(b.data(), b.size(), "numpy.npy", "x"); };
  const std::pair<const std::vector<unsigned char>*, dtype> fixtures[] = {
      {&fx::npy_int_b1, dtype::boolean}, {&fx::npy_int_u1, dtype::u8},   {&fx::npy_int_i1, dtype::i8},
      {&fx::npy_int_u2, dtype::u16},     {&fx::npy_int_i2, dtype::i16},  {&fx::npy_int_u4, dtype::u32},
      {&fx::npy_int_i4, dtype::i32},     {&fx::npy_int_u8, dtype::u64},  {&fx::npy_int_i8, dtype::i64}};
  for (const auto& [bytes, type] : fixtures) {
    CAPTURE(safetensors_name(type));
    const Tensor t = load(*bytes);
    CHECK(t.type == type);
    REQUIRE(t.shape == std::vector<std::int64_t>{2, 3});
    // numpy wrote [[min, 0, max], [1, 7, 42]] ([[F, F, T], [T, T, T]] for bool)
    const int bits = 8 * static_cast<int>(element_size(type));
    const bool is_signed = type == dtype::i8 || type == dtype::i16 || type == dtype::i32 || type == dtype::i64;
    const std::uint64_t all_ones = bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
    std::vector<std::uint64_t> expected = {0, 0, all_ones, 1, 7, 42};
    if (type == dtype::boolean) expected = {0, 0, 1, 1, 1, 1};
    if (is_signed) expected[0] = std::uint64_t{1} << (bits - 1), expected[2] = expected[0] - 1;
    for (std::int64_t k = 0; k < 6; ++k) CHECK(pattern(t, k) == expected[static_cast<std::size_t>(k)]);
    CHECK(serialize_npy(t) == *bytes);  // what np.save writes, byte for byte
  }
  CHECK(load(fx::npy_int_i4_big_endian) == load(fx::npy_int_i4));
  CHECK(load(fx::npy_int_i2_fortran) == load(fx::npy_int_i2));

  // np.savez(A=A, step=np.int64(7), mask=...): an optimizer's step counter beside a float tensor
  const TensorFile z = parse_npz(fx::npz_with_step.data(), fx::npz_with_step.size(), "numpy.npz");
  REQUIRE(z.tensors.size() == 3);
  CHECK(z.tensors[0] == parse_npy(fx::npy_A_f4.data(), fx::npy_A_f4.size(), "", "A"));
  CHECK(z.tensors[1].name == "step");
  CHECK(z.tensors[1].type == dtype::i64);
  CHECK(z.tensors[1].shape.empty());
  CHECK(pattern(z.tensors[1], 0) == 7);
  CHECK(z.tensors[2].type == dtype::boolean);
  CHECK(z.tensors[2].shape == std::vector<std::int64_t>{2, 3});
}

TEST_CASE("safetensors: BOOL and integer tensors read from hand-written bytes, and written back the same") {
  // One tensor per dtype, named after it, shape [2]; data bytes 0, 1, 2, ... in header order.
  std::string header = "{";
  std::vector<unsigned char> data;
  for (dtype t : kDtypes) {
    if (is_floating(t)) continue;
    const std::size_t begin = data.size(), end = begin + 2 * element_size(t);
    header += std::string(header.size() > 1 ? "," : "") + "\"" + safetensors_name(t) + "\":{\"dtype\":\"" +
              safetensors_name(t) + "\",\"shape\":[2],\"data_offsets\":[" + std::to_string(begin) + "," +
              std::to_string(end) + "]}";
    while (data.size() < end) data.push_back(static_cast<unsigned char>(data.size()));
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::vector<unsigned char> file;
  for (int i = 0; i < 8; ++i) file.push_back(static_cast<unsigned char>(header.size() >> (8 * i)));
  file.insert(file.end(), header.begin(), header.end());
  file.insert(file.end(), data.begin(), data.end());

  const TensorFile f = parse_safetensors(file.data(), file.size(), "ints.safetensors");
  REQUIRE(f.tensors.size() == 9);
  std::size_t at = 0;
  for (const Tensor& t : f.tensors) {
    CAPTURE(t.name);
    CHECK(t.name == safetensors_name(t.type));
    CHECK_FALSE(is_floating(t.type));
    CHECK(t.shape == std::vector<std::int64_t>{2});
    CHECK(t.data == std::vector<unsigned char>(data.begin() + at, data.begin() + at + t.data.size()));
    at += t.data.size();
  }
  CHECK(f.find("BOOL")->data == std::vector<unsigned char>{0, 1});
  CHECK(pattern(*f.find("I64"), 1) == 0x3d3c3b3a39383736u);  // bytes 54..61, little-endian
  CHECK(serialize_safetensors(f.tensors) == file);
  const std::vector<unsigned char> npz = serialize_npz(f.tensors);  // numpy has all of them
  CHECK(parse_npz(npz.data(), npz.size(), "ints.npz").tensors == f.tensors);
}

TEST_CASE("BOOL and integer tensors have no values: not_floating names the tensor and its dtype") {
  Tensor step;
  step.name = "step";
  step.type = dtype::i64;
  step.data = {7, 0, 0, 0, 0, 0, 0, 0};
  const std::string what = message_of([&] { step.to_matrix<double>(); }, "step");
  CHECK(what.find("not a floating-point tensor") != std::string::npos);
  CHECK(what.find("I64") != std::string::npos);
  message_of([&] { step.to_matrix<float>(); }, "step");
  message_of([&] { step.scalar_value(); }, "step");
  message_of([&] { step.value(0); }, "step");
  message_of([&] { value_dtype(step); }, "step");
  step.type = dtype::boolean;
  step.data = {1};
  CHECK(message_of([&] { step.check_floating(); }, "step").find("BOOL") != std::string::npos);
  // and the encoders take floating dtypes only
  message_of([] { from_scalar("step", 7, dtype::i64); }, "step");
  message_of([] { from_matrix("ids", Eigen::MatrixXd::Ones(2, 2), dtype::u8); }, "ids");
  CHECK(std::string(to_string(io_problem::not_floating)) == "not_floating");
}

TEST_CASE("value_dtype of a tensor or a matrix: the floating dtype of largest epsilon holding every value") {
  const auto column = [](std::initializer_list<double> values) {
    Eigen::MatrixXd m(static_cast<Eigen::Index>(values.size()), 1);
    Eigen::Index i = 0;
    for (double v : values) m(i++, 0) = v;
    return m;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  // BF16 values stored as F32 or F64 carry BF16 precision
  const Eigen::MatrixXd bf = column({1, -0.5, 65536, 0, std::ldexp(3.0, -130), 1 + std::ldexp(1.0, -7)});
  CHECK(value_dtype(bf) == dtype::bf16);
  for (dtype t : {dtype::f32, dtype::f64}) CHECK(value_dtype(from_matrix("x", bf, t)) == dtype::bf16);
  // F32 values stored as F64
  const Eigen::MatrixXd f32 = column({double(0.1f), 1, double(std::numeric_limits<float>::denorm_min())});
  CHECK(value_dtype(from_matrix("x", f32, dtype::f64)) == dtype::f32);
  CHECK(value_dtype(from_matrix("x", f32, dtype::f32)) == dtype::f32);
  CHECK(value_dtype(f32.cast<float>()) == dtype::f32);
  // F16: 11 significant bits, subnormals; an F16 tensor whose values BF16 also holds is BF16
  const Eigen::MatrixXd f16 = column({1 + std::ldexp(1.0, -10), std::ldexp(1023.0, -24), 65504, -2});
  CHECK(value_dtype(f16) == dtype::f16);
  for (dtype t : {dtype::f16, dtype::f32, dtype::f64}) CHECK(value_dtype(from_matrix("x", f16, t)) == dtype::f16);
  CHECK(value_dtype(from_matrix("x", column({1, 2, 0.25}), dtype::f16)) == dtype::bf16);
  // F16-only and BF16-only values together need F32; out of F16's range
  CHECK(value_dtype(column({1 + std::ldexp(1.0, -10), 65536})) == dtype::f32);
  CHECK(value_dtype(column({65520})) == dtype::f32);
  CHECK(value_dtype(column({std::ldexp(1.0, -25), std::ldexp(1023.0, -24)})) == dtype::f32);
  // F64 values
  CHECK(value_dtype(from_matrix("x", column({0.5, 0.1}), dtype::f64)) == dtype::f64);
  CHECK(value_dtype(column({0.1, 1 + std::ldexp(1.0, -10)})) == dtype::f64);
  // NaN, inf and zeros constrain nothing; an empty tensor is BF16
  CHECK(value_dtype(column({nan, inf, -inf, -0.0})) == dtype::bf16);
  CHECK(value_dtype(from_matrix("x", column({nan, 1 + std::ldexp(1.0, -10)}), dtype::f16)) == dtype::f16);
  CHECK(value_dtype(column({nan, 0.1})) == dtype::f64);
  CHECK(value_dtype(ramp("x", dtype::f32, {0, 3})) == dtype::bf16);
  CHECK(value_dtype(Eigen::MatrixXd(0, 0)) == dtype::bf16);
  // any rank; a BF16 tensor is BF16
  CHECK(value_dtype(ramp("x", dtype::f64, {2, 3, 4})) == dtype::bf16);  // k - 3.25 (k % 3): 2 fractional bits
  CHECK(value_dtype(ramp("x", dtype::bf16, {2, 3, 4})) == dtype::bf16);
  Tensor t = ramp("x", dtype::f64, {2, 3, 4});
  encode_element(dtype::f64, 1.0 / 3, t.data.data() + 8 * 17);
  CHECK(value_dtype(t) == dtype::f64);
}

TEST_CASE("npz files written by numpy.savez and numpy.savez_compressed (ZIP64 local headers)") {
  for (const auto* fixture : {&fx::npz_stored, &fx::npz_deflated}) {
    const TensorFile f = parse_npz(fixture->data(), fixture->size(), "numpy.npz");
    REQUIRE(f.tensors.size() == 4);
    CHECK(f.tensors[0].name == "A");
    CHECK(f.tensors[1].name == "S");
    CHECK(f.tensors[2].name == "V");
    CHECK(f.tensors[3].name == "T");
    CHECK(f.tensors[0] == parse_npy(fx::npy_A_f4.data(), fx::npy_A_f4.size(), "", "A"));
    CHECK(f.tensors[1].scalar_value() == 0.125);
    CHECK(f.tensors[3].value(23) == 23);
  }
}

TEST_CASE("npy version 2.0 is written when the header exceeds 65535 bytes") {
  Tensor t;
  t.name = "deep";
  t.type = dtype::f32;
  t.shape.assign(22000, 1);  // "1, " per dimension: a 66 kB header
  t.data = {0, 0, 0x80, 0x3f};
  const std::vector<unsigned char> bytes = serialize_npy(t);
  CHECK(bytes[6] == 2);
  CHECK((bytes.size() - 4) % 64 == 0);
  CHECK(parse_npy(bytes.data(), bytes.size(), "deep.npy", "deep") == t);
}

TEST_CASE("atomic write: an invalid tensor leaves the existing file and no temporary file") {
  ScratchDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  const Tensor good = ramp("A", dtype::f32, {2, 2});
  write_safetensors(path, {good});
  const std::vector<unsigned char> before = file_bytes(path);
  Tensor bad = good;
  bad.name = "B";
  bad.data.pop_back();
  expect_io_error([&] { write_safetensors(path, {good, bad}); }, io_problem::invalid_tensor, path, "B");
  expect_io_error([&] { write_safetensors(path, {good, good}); }, io_problem::duplicate_name, path, "A");
  Tensor reserved = good;
  reserved.name = "__metadata__";
  expect_io_error([&] { write_safetensors(path, {reserved}); }, io_problem::invalid_tensor, path, "__metadata__");
  Tensor not_utf8 = good;
  not_utf8.name = "\xff";
  expect_io_error([&] { write_safetensors(path, {not_utf8}); }, io_problem::invalid_tensor, path, "\xff");
  expect_io_error([&] { write_npz(path, {good, bad}); }, io_problem::invalid_tensor, path, "B");
  expect_io_error([&] { write_npy(path, bad); }, io_problem::invalid_tensor, path, "B");
  CHECK(file_bytes(path) == before);
  CHECK(dir.entries() == std::vector<std::string>{"ckpt.safetensors"});
}

TEST_CASE("atomic write: a failure while writing leaves the existing file and removes the temporary") {
  ScratchDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  write_safetensors(path, {ramp("A", dtype::f32, {2})});
  const std::vector<unsigned char> before = file_bytes(path);
  // Files may not grow beyond 4 KiB: write() fails with EFBIG part-way through.
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit old_limit;
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  rlimit small = old_limit;
  small.rlim_cur = 4096;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  const Tensor big = ramp("W", dtype::f64, {64, 64});  // 32 KiB
  expect_io_error([&] { write_safetensors(path, {big}); }, io_problem::write_failed, path, "");
  expect_io_error([&] { write_npz(path, {big}); }, io_problem::write_failed, path, "");
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  ::signal(SIGXFSZ, old_handler);
  CHECK(file_bytes(path) == before);
  CHECK(dir.entries() == std::vector<std::string>{"ckpt.safetensors"});
}

TEST_CASE("append: a record that fails part-way is truncated back, the error gives the reason") {
  ScratchDir dir;
  const std::string path = dir.file("log.csv");
  write_file_atomically(path, "step,loss\n");
  AppendFile log(path);
  log.append("1,0.5\n");
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit old_limit;
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  rlimit small = old_limit;
  small.rlim_cur = 64;  // the next record crosses it: write() is short, then EFBIG
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  bool threw = false;
  try {
    log.append("2," + std::string(100, '7') + "\n");
  } catch (const io_error& e) {
    threw = e.problem() == io_problem::write_failed && std::string(e.what()).find("File too large") != std::string::npos;
  }
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  ::signal(SIGXFSZ, old_handler);
  CHECK(threw);
  CHECK(read_file(path) == "step,loss\n1,0.5\n");
  log.append("3,0.25\n");  // appends after the last whole record
  CHECK(read_file(path) == "step,loss\n1,0.5\n3,0.25\n");
}

TEST_CASE("directory lock: a second holder is refused naming the first; released on destruction") {
  ScratchDir dir;
  const std::string out = dir.file("run");
  std::string aside;
  {
    DirectoryLock first(out);
    bool busy = false;
    try {
      DirectoryLock second(out);  // another open file description: flock conflicts even in one process
    } catch (const io_error& e) {
      busy = e.problem() == io_problem::busy &&
             std::string(e.what()).find("pid " + std::to_string(::getpid()) + " host ") != std::string::npos;
    }
    CHECK(busy);
    CHECK(directory_entries(out).empty());  // the lock file is not content
    write_file_atomically(out + "/a.txt.tmp.1.0", "stale");
    write_file_atomically(out + "/a.txt", "old");
    CHECK(remove_stale_temporaries(out) == 1);
    aside = move_contents_aside(out);
    CHECK(read_file(aside + "/a.txt") == "old");
    CHECK(directory_entries(out).empty());
  }
  {
    DirectoryLock again(out);  // released
    CHECK(again.directory() == out);
  }
  std::filesystem::remove_all(out);
  std::filesystem::remove_all(aside);
}

TEST_CASE("atomic write: an unwritable place leaves the existing file untouched") {
  ScratchDir dir;
  const std::string path = dir.file("ckpt.npy");
  const Tensor a = ramp("A", dtype::f32, {3});
  write_npy(path, a);
  const std::vector<unsigned char> before = file_bytes(path);
  // Another writer's temporary of this pid (a reused pid) neither blocks the write nor is touched.
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  REQUIRE(::mkdir(temp.c_str(), 0700) == 0);
  write_npy(path, ramp("A", dtype::f32, {3}));
  struct stat st;
  CHECK(::stat(temp.c_str(), &st) == 0);
  REQUIRE(::rmdir(temp.c_str()) == 0);
  // A directory that does not exist.
  const std::string nowhere = dir.file("no/such/dir/x.safetensors");
  expect_io_error([&] { write_safetensors(nowhere, {a}); }, io_problem::write_failed, nowhere, "");
  // A directory without write permission (root ignores permissions: checked for others).
  if (::geteuid() != 0) {
    REQUIRE(::chmod(dir.path().c_str(), 0500) == 0);
    expect_io_error([&] { write_npy(path, ramp("A", dtype::f32, {4})); }, io_problem::write_failed, path, "");
    REQUIRE(::chmod(dir.path().c_str(), 0700) == 0);
  }
  CHECK(file_bytes(path) == before);
  CHECK(dir.entries() == std::vector<std::string>{"ckpt.npy"});
  // And a successful write replaces the file.
  write_npy(path, ramp("A", dtype::f32, {4}));
  CHECK(read_npy(path) == ramp("ckpt", dtype::f32, {4}));  // named after the file
  CHECK(dir.entries() == std::vector<std::string>{"ckpt.npy"});
}
