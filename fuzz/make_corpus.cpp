// SPDX-License-Identifier: Apache-2.0
// Writes the seed corpora fuzz/corpus/<target>/: valid files of each kind (our writer's
// and numpy's) and one or more invalid files per class of defect; for the step
// harnesses, hard_* seeds that use step_input.hpp's extension block (near-collinear
// columns, row scales, gradients of one low-rank G).
// Usage: scalora_make_corpus <fuzz/corpus>   (the output is committed)
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../tests/support/io_numpy_fixtures.hpp"
#include "scalora/io.hpp"
#include "scalora/io/case_file.hpp"
#include "step_input.hpp"

namespace {

using namespace scalora::io;
using Bytes = std::vector<unsigned char>;
namespace fs = std::filesystem;
namespace fx = scalora::test::numpy_fixtures;

fs::path root;

void emit(const std::string& target, const std::string& name, const Bytes& bytes) {
  fs::create_directories(root / target);
  write_file_atomically((root / target / name).string(),
                        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

/// Element k is 0.5 k - 1 for a floating dtype; the bytes of a BOOL or integer one are
/// 0, 1, 0, 1, ... (BOOL) or 7 b + 3 mod 256 at byte b.
Tensor ramp(const std::string& name, dtype type, std::vector<std::int64_t> shape) {
  Tensor t;
  t.name = name;
  t.type = type;
  t.shape = std::move(shape);
  t.data.resize(static_cast<std::size_t>(t.byte_size()));
  if (!is_floating(type)) {
    for (std::size_t b = 0; b < t.data.size(); ++b)
      t.data[b] = static_cast<unsigned char>(type == dtype::boolean ? b % 2 : 7 * b + 3);
    return t;
  }
  for (std::int64_t k = 0; k < t.element_count(); ++k)
    encode_element(type, 0.5 * double(k) - 1.0, t.data.data() + k * element_size(type));
  return t;
}

/// One tensor of each BOOL and integer dtype, named after it, of shape [2, 3].
std::vector<Tensor> integer_tensors() {
  std::vector<Tensor> out;
  for (dtype t : kDtypes)
    if (!is_floating(t)) out.push_back(ramp(safetensors_name(t), t, {2, 3}));
  return out;
}

/// Length-prefixed safetensors bytes with this header text and `data` zero bytes.
Bytes safetensors_raw(const std::string& header, std::size_t data) {
  Bytes out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<unsigned char>(std::uint64_t(header.size()) >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + data);
  return out;
}

/// npy bytes (version 1.0) with this dict text and `data` zero bytes.
Bytes npy_raw(const std::string& dict, std::size_t data) {
  std::string header = dict + std::string(63 - (10 + dict.size()) % 64, ' ') + "\n";
  Bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<unsigned char>(header.size()),
               static_cast<unsigned char>(header.size() >> 8)};
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + data);
  return out;
}

void safetensors_corpus() {
  const std::vector<Tensor> all = {ramp("A", dtype::f32, {3, 2}), ramp("B", dtype::f64, {2, 2}),
                                   ramp("L", dtype::bf16, {}), ramp("lr", dtype::f16, {1}),
                                   ramp("m", dtype::f16, {2, 3, 2}), ramp("empty", dtype::f32, {0, 4})};
  emit("safetensors", "valid_all_dtypes", serialize_safetensors(all, {{"format", "pt"}, {"step", "7"}}));
  emit("safetensors", "valid_empty", serialize_safetensors({}));
  emit("safetensors", "valid_integer_dtypes", serialize_safetensors(integer_tensors()));
  for (const Tensor& t : all) emit("safetensors", "valid_" + t.name, serialize_safetensors({t}));
  emit("safetensors", "valid_spaces_reordered",
       safetensors_raw("{ \"b\" : {\"data_offsets\":[2,4],\"shape\":[],\"dtype\":\"F16\"},\n"
                       "  \"a\" : {\"shape\":[1],\"dtype\":\"BF16\",\"data_offsets\":[0,2]} }   ",
                       4));
  const std::string a = "\"A\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
  const std::pair<const char*, Bytes> invalid[] = {
      {"bad_truncated", Bytes{8, 0, 0}},
      {"bad_header_len", safetensors_raw("{" + a + "}", 8)},  // patched below
      {"bad_json", safetensors_raw("{\"A\": {", 0)},
      {"bad_not_object", safetensors_raw("[1]", 0)},
      {"bad_entry_not_object", safetensors_raw("{\"A\": 5}", 0)},
      {"bad_duplicate", safetensors_raw("{" + a + "," + a + "}", 8)},
      {"bad_duplicate_key", safetensors_raw("{\"A\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8)},
      {"bad_dtype", safetensors_raw("{\"A\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1)},
      {"bad_shape", safetensors_raw("{\"A\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8)},
      {"bad_shape_float", safetensors_raw("{\"A\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8)},
      {"bad_overflow", safetensors_raw("{\"A\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8)},
      {"bad_offsets", safetensors_raw("{\"A\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8)},
      {"bad_offsets_range", safetensors_raw("{" + a + "}", 4)},
      {"bad_size_mismatch", safetensors_raw("{\"A\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8)},
      {"bad_overlap", safetensors_raw("{" + a + ",\"B\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)},
      {"bad_gap", safetensors_raw("{\"A\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)},
      {"bad_metadata", safetensors_raw("{\"__metadata__\":{\"a\":1}}", 0)},
      {"bad_deep", safetensors_raw("{\"A\":" + std::string(40, '[') + std::string(40, ']') + "}", 0)},
  };
  for (const auto& [name, bytes] : invalid) {
    Bytes b = bytes;
    if (std::string(name) == "bad_header_len") b[0] = 0xff, b[5] = 0x7f;
    emit("safetensors", name, b);
  }
}

void npy_corpus() {
  for (dtype t : {dtype::f64, dtype::f32, dtype::f16}) {
    const std::string n = safetensors_name(t);
    emit("npy", "valid_" + n + "_rank0", serialize_npy(ramp("x", t, {})));
    emit("npy", "valid_" + n + "_rank3", serialize_npy(ramp("x", t, {2, 3, 2})));
  }
  emit("npy", "valid_empty", serialize_npy(ramp("x", dtype::f32, {3, 0})));
  for (const Tensor& t : integer_tensors()) emit("npy", "valid_" + t.name, serialize_npy(t));
  emit("npy", "valid_big_endian_i4", npy_raw("{'descr': '>i4', 'fortran_order': True, 'shape': (2, 2), }", 16));
  emit("npy", "valid_fortran", npy_raw("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24));
  emit("npy", "valid_big_endian", npy_raw("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", 16));
  emit("npy", "valid_py2_long", npy_raw("{\"descr\": \"<f2\", \"fortran_order\": False, \"shape\": (1L,)}", 2));
  const std::pair<const char*, const Bytes*> numpy[] = {
      {"numpy_A_f4", &fx::npy_A_f4},       {"numpy_S_f8", &fx::npy_S_f8},         {"numpy_T_fortran", &fx::npy_T_fortran},
      {"numpy_A_big", &fx::npy_A_big_endian}, {"numpy_A_v2", &fx::npy_A_v2},     {"numpy_A_v3", &fx::npy_A_v3},
      {"numpy_int_b1", &fx::npy_int_b1},   {"numpy_int_i8", &fx::npy_int_i8},     {"numpy_int_u8", &fx::npy_int_u8},
      {"numpy_int_i4_big", &fx::npy_int_i4_big_endian}, {"numpy_int_i2_fortran", &fx::npy_int_i2_fortran}};
  for (const auto& [name, bytes] : numpy) emit("npy", name, *bytes);
  Bytes bad_magic = fx::npy_A_f4;
  bad_magic[0] = 'x';
  emit("npy", "bad_magic", bad_magic);
  Bytes bad_version = fx::npy_A_f4;
  bad_version[6] = 9;
  emit("npy", "bad_version", bad_version);
  Bytes bad_len = fx::npy_A_f4;
  bad_len[9] = 0xff;
  emit("npy", "bad_header_len", bad_len);
  emit("npy", "bad_truncated", Bytes(fx::npy_A_f4.begin(), fx::npy_A_f4.end() - 1));
  emit("npy", "bad_trailing", npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 5));
  emit("npy", "bad_keys", npy_raw("{'descr': '<f4', 'shape': (1,), }", 4));
  emit("npy", "bad_dtype", npy_raw("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 8));
  emit("npy", "bad_shape", npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 4));
  emit("npy", "bad_overflow", npy_raw("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }", 0));
  emit("npy", "bad_nesting", npy_raw("{'descr': '<f4', 'fortran_order': False, 'shape': ((((((((((1,),),),),),),),),),), }", 4));
}

void npz_corpus() {
  const std::vector<Tensor> ts = {ramp("A", dtype::f32, {3, 2}), ramp("grad_A", dtype::f64, {3, 2}),
                                  ramp("lr", dtype::f16, {})};
  const Bytes stored = serialize_npz(ts);
  emit("npz", "valid_stored", stored);
  emit("npz", "valid_deflated", serialize_npz(ts, npz_compression::deflated));
  emit("npz", "valid_empty", serialize_npz({}));
  emit("npz", "valid_integer_dtypes", serialize_npz(integer_tensors(), npz_compression::deflated));
  std::vector<detail::NpzMemberPlan> plans = detail::plan_npz(ts, npz_compression::stored, "");
  detail::VectorSink zip64;
  detail::write_npz(zip64, plans, ts, npz_compression::stored, true);
  emit("npz", "valid_zip64", zip64.bytes);
  emit("npz", "numpy_savez", fx::npz_stored);
  emit("npz", "numpy_savez_compressed", fx::npz_deflated);
  emit("npz", "numpy_savez_step", fx::npz_with_step);

  const std::size_t end = stored.size() - 22;
  const std::size_t dir = stored[end + 16] | (stored[end + 17] << 8);
  const auto patched = [&](std::size_t at, unsigned char value) {
    Bytes b = stored;
    b[at] = value;
    return b;
  };
  emit("npz", "bad_truncated", Bytes(stored.begin(), stored.end() - 30));
  emit("npz", "bad_entries", patched(end + 10, 0x40));
  emit("npz", "bad_central_sig", patched(dir, 'X'));
  emit("npz", "bad_method", patched(dir + 10, 12));
  emit("npz", "bad_encrypted", patched(dir + 8, 1));
  emit("npz", "bad_offset", patched(dir + 42, 0x50));
  emit("npz", "bad_crc", patched(dir + 16, stored[dir + 16] ^ 1));
  emit("npz", "bad_name", patched(dir + 47, 'x'));
  emit("npz", "bad_local_sig", patched(0, 0));
  Bytes bomb = serialize_npz(ts, npz_compression::deflated);
  const std::size_t bomb_dir = bomb[bomb.size() - 6] | (bomb[bomb.size() - 5] << 8);
  bomb[bomb_dir + 27] = 0x7f;  // declared uncompressed size ~2 GiB
  emit("npz", "bad_bomb", bomb);
}

void roundtrip_corpus() {
  std::mt19937 rng(2024);
  for (int i = 0; i < 24; ++i) {
    Bytes b(16 + 24 * i);
    for (unsigned char& c : b) c = static_cast<unsigned char>(rng());
    emit("tensor_roundtrip", "random_" + std::to_string(i), b);
  }
  emit("tensor_roundtrip", "zeros", Bytes(64, 0));
  emit("tensor_roundtrip", "nan_f16", Bytes{1, 0, 3, 1, 4, 0x01, 0x7c, 0x00, 0xfe, 0xff, 0x7f});
}

/// Entries 0.5 k - 1 in row-major order k: the values ramp() stores.
scalora::Matrix<double> ramp_values(scalora::Index rows, scalora::Index cols) {
  scalora::Matrix<double> x(rows, cols);
  for (scalora::Index i = 0; i < rows; ++i)
    for (scalora::Index j = 0; j < cols; ++j) x(i, j) = 0.5 * double(i * cols + j) - 1.0;
  return x;
}

/// Case files (scalora-verify): a full valid case, written by io's case writer
/// (case_tensors) with mixed dtypes, in each container; then one defect per
/// case-level error class, each a copy of the valid case with one tensor changed.
void case_file_corpus() {
  const std::int64_t m = 3, n = 2, r = 2;
  Case c;
  c.input.A = ramp_values(m, r);
  c.input.B = ramp_values(n, r);
  c.input.grad_A = ramp_values(m, r);
  c.input.grad_B = ramp_values(n, r);
  c.input.W_pt = ramp_values(m, n);
  c.G = ramp_values(m, n);
  c.input.moments.exp_avg_A = ramp_values(m, r);
  c.input.moments.exp_avg_sq_B = 0.5 * (ramp_values(n, r).array() + 1.0).matrix();  // 0.25 k >= 0
  c.bound = {10.0, 1e-3, 1.0};
  c.output.A = ramp_values(m, r);
  c.output.W_pt = ramp_values(m, n);
  c.output.moments.exp_avg_A = ramp_values(m, r);
  c.out_alpha = ramp_values(r, 1);
  c.out_beta = ramp_values(r, 1);
  c.out_beta_scalar = true;  // the broadcast form, shape []
  CaseWriteOptions how;
  how.inputs = how.outputs = dtype::f32;
  how.dtype_of = {{"grad_B", dtype::bf16}, {"W_pt", dtype::f16}, {"out.A", dtype::bf16}, {"out.W_pt", dtype::f16},
                  {"lr", dtype::f32}};
  how.extra.push_back(ramp("note", dtype::f32, {1}));  // not a case-format name: ignored by the reader
  std::vector<Tensor> full = case_tensors(c, how);
  const auto set = [](std::vector<Tensor>& ts, const std::string& name, Tensor t) {
    for (Tensor& x : ts)
      if (x.name == name) x = std::move(t);
  };
  const auto find = [&full](const std::string& name) {
    for (const Tensor& t : full)
      if (t.name == name) return t;
    throw std::runtime_error("case_file_corpus: no tensor " + name);
  };
  set(full, "lr", from_scalar("lr", 1e-3, dtype::f32, {1}));  // a scalar of shape [1]
  const std::map<std::string, std::string> meta = {{"scalora.compute_dtype", "F64"}, {"scalora.mode", "hybrid"}};
  emit("case_file", "valid_full", serialize_safetensors(full, meta));
  emit("case_file", "valid_npz", serialize_npz({find("A"), find("B"), find("grad_A"), find("L"), find("lr"),
                                                 find("W_pt"), find("G"), ramp("grad_B", dtype::f16, {n, r})}));
  emit("case_file", "valid_minimal",
       serialize_safetensors({find("A"), find("B"), find("grad_A"), find("grad_B"), find("L"), find("lr")}));
  std::vector<Tensor> with_step = full;
  with_step.push_back(ramp("step", dtype::i64, {}));
  emit("case_file", "valid_step_i64", serialize_safetensors(with_step, meta));
  const auto variant = [&](const char* file, const std::string& name, Tensor t) {
    std::vector<Tensor> ts = full;
    set(ts, name, std::move(t));
    emit("case_file", file, serialize_safetensors(ts, meta));
  };
  const auto without = [&](const char* file, const std::string& name) {
    std::vector<Tensor> ts;
    for (const Tensor& t : full)
      if (t.name != name) ts.push_back(t);
    emit("case_file", file, serialize_safetensors(ts, meta));
  };
  without("bad_missing_grad_B", "grad_B");
  without("bad_output_without_input", "W_pt");
  variant("bad_B_rank", "B", ramp("B", dtype::f32, {n, r + 1}));
  variant("bad_A_rank3", "A", ramp("A", dtype::f32, {m, r, 1}));
  variant("bad_grad_A_shape", "grad_A", ramp("grad_A", dtype::f32, {r, m}));
  variant("bad_W_pt_shape", "W_pt", ramp("W_pt", dtype::f16, {m, n + 1}));
  variant("bad_L_negative", "L", from_scalar("L", -1.0, dtype::f64));
  variant("bad_lr_nan", "lr", from_scalar("lr", std::nan(""), dtype::f32));
  variant("bad_L_shape", "L", ramp("L", dtype::f64, {2}));
  variant("bad_alpha_length", "out.alpha", ramp("out.alpha", dtype::f64, {r + 1}));
  Tensor inf = ramp("A", dtype::f32, {m, r});
  encode_element(dtype::f32, std::numeric_limits<double>::infinity(), inf.data.data() + 4);
  variant("bad_A_inf", "A", inf);
  variant("bad_A_empty", "A", ramp("A", dtype::f32, {m, 0}));
  variant("bad_second_moment", "exp_avg_sq_B", ramp("exp_avg_sq_B", dtype::f32, {n, r}));
  variant("bad_unknown_output", "note", ramp("out.alpah", dtype::f64, {r}));
  variant("bad_A_int32", "A", ramp("A", dtype::i32, {m, r}));
  emit("case_file", "bad_metadata_mode",
       serialize_safetensors(full, {{"scalora.compute_dtype", "F64"}, {"scalora.mode", "column"}}));
}

/// One layer in step_input.hpp's bytes: hybrid, L = lr = s = 1, entries small
/// multiples of 1/16 in [-4, 4) from a fixed sequence (B zero when zero_B), then
/// the extension block `ext` (without the magic).
Bytes step_seed(bool use_float, int m, int n, int r, bool zero_B, const Bytes& ext) {
  Bytes out = {static_cast<unsigned char>(use_float ? 1 : 0), 1, 40, 1, 40, 0};  // options, L, lr, 1 layer
  const unsigned char shape[] = {static_cast<unsigned char>(m - 1), static_cast<unsigned char>(n - 1),
                                 static_cast<unsigned char>(r - 1), 0, 4, 100};  // nothing optional, s = 1, e = 0
  out.insert(out.end(), std::begin(shape), std::end(shape));
  std::uint32_t state = 12345;
  const auto entries = [&](int count, bool zero) {
    for (int k = 0; k < count; ++k) {
      state = state * 1664525u + 1013904223u;
      out.push_back(zero ? 0 : 1);  // selector: zero or small integer
      if (!zero) out.push_back(static_cast<unsigned char>(64 + (state >> 25)));
    }
  };
  entries(m * r, false);      // A
  entries(n * r, zero_B);     // B
  entries((m + n) * r, false);  // grad_A, grad_B
  out.push_back(scalora::fuzz::kHardMagic[0]);
  out.push_back(scalora::fuzz::kHardMagic[1]);
  out.insert(out.end(), ext.begin(), ext.end());
  return out;
}

void step_corpus() {
  const int m = 10, n = 8, r = 3;
  Bytes rows;  // row exponents +-60, +-20 alternating, A's then B's
  for (int i = 0; i < m + n; ++i) rows.push_back(static_cast<unsigned char>(i % 4 == 0 ? 120 : i % 4 == 1 ? 136 : i % 4 == 2 ? 40 : 216));
  auto cat = [](Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const std::vector<std::pair<std::string, Bytes>> seeds = {
      {"hard_collinear_A_2e-10", step_seed(false, m, n, r, false, {1, 0, 10})},
      {"hard_collinear_B_2e-20", step_seed(false, m, n, r, false, {2, 1, 20})},
      {"hard_collinear_AB_2e-30_float", step_seed(true, m, n, r, false, {3, 0, 30})},
      {"hard_collinear_A_2e-40", step_seed(false, m, n, r, false, {1, 1, 40})},
      {"hard_collinear_A_2e-60_duplicate", step_seed(false, m, n, r, false, {1, 0, 60})},
      {"hard_rows_2e60", step_seed(false, m, n, r, false, cat({12}, rows))},
      {"hard_rows_2e60_float", step_seed(true, m, n, r, false, cat({12}, rows))},
      {"hard_rows_collinear_B_2e-20", step_seed(false, m, n, r, false, cat({14, 0, 20}, rows))},
      {"hard_low_rank_g_1", step_seed(false, m, n, r, false, {16, 0})},
      {"hard_low_rank_g_2_collinear_A", step_seed(false, m, n, r, false, {17, 1, 30, 1})},
      {"hard_low_rank_g_rows", step_seed(false, m, n, r, false, cat(cat({28}, rows), {2}))},
      {"hard_zero_B_low_rank_g", step_seed(false, m, n, r, true, {16, 1})},
      {"hard_small_m_low_rank_g", step_seed(false, 2, n, r, false, {16, 2})},
  };
  for (const char* target : {"step_core", "step_gpu"})
    for (const auto& [name, bytes] : seeds) emit(target, name, bytes);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
    return 2;
  }
  root = argv[1];
  safetensors_corpus();
  npy_corpus();
  npz_corpus();
  roundtrip_corpus();
  case_file_corpus();
  step_corpus();
  return 0;
}
