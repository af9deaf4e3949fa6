// SPDX-License-Identifier: Apache-2.0
// Case files of scalora-verify (io/case_file.hpp): every name, shape rule and error
// class, in each container (safetensors, npz, a directory of npy files).
#include <string>
#include <vector>

#include "io_test_support.hpp"
#include "scalora/io/case_file.hpp"

using namespace scalora::io;
using scalora::test::expect_io_error;
using scalora::test::ScratchDir;

namespace {

Eigen::MatrixXd ramp(Eigen::Index rows, Eigen::Index cols, double start) {
  Eigen::MatrixXd x(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j) x(i, j) = start + 0.25 * double(i * cols + j);
  return x;
}

Tensor vec(const std::string& name, const Eigen::MatrixXd& column, dtype type) {
  Tensor t = from_matrix(name, column, type);
  t.shape = {t.shape[0]};
  return t;
}

/// A complete case, m = 3, n = 2, r = 2, inputs F32, outputs F64/BF16.
std::vector<Tensor> full_case() {
  return {from_matrix("A", ramp(3, 2, -1), dtype::f32),        from_matrix("B", ramp(2, 2, 0.5), dtype::f32),
          from_matrix("grad_A", ramp(3, 2, 2), dtype::f32),    from_matrix("grad_B", ramp(2, 2, -3), dtype::f32),
          from_scalar("L", 4, dtype::f64),                     from_scalar("lr", 0.125, dtype::f32, {1}),
          from_scalar("lora_scale", 2, dtype::f32),            from_matrix("W_pt", ramp(3, 2, 1), dtype::f16),
          from_matrix("G", ramp(3, 2, 0), dtype::f32),         from_matrix("exp_avg_A", ramp(3, 2, 0), dtype::f32),
          from_matrix("exp_avg_sq_A", ramp(3, 2, 0), dtype::f32), from_matrix("out.A", ramp(3, 2, -2), dtype::bf16),
          from_matrix("out.W_pt", ramp(3, 2, 0), dtype::f64),  from_matrix("out.exp_avg_sq_A", ramp(3, 2, 1), dtype::f64),
          from_scalar("out.alpha", 1.5, dtype::f64),           vec("out.beta", ramp(2, 1, 1), dtype::f32),
          from_scalar("step", 7, dtype::f32)};
}

/// A tensor of `type` (BOOL or integer) and `shape` with every byte `fill`.
Tensor raw(const std::string& name, dtype type, std::vector<std::int64_t> shape, unsigned char fill = 1) {
  Tensor t;
  t.name = name;
  t.type = type;
  t.shape = std::move(shape);
  t.data.assign(static_cast<std::size_t>(t.byte_size()), fill);
  return t;
}

std::vector<Tensor> with(std::vector<Tensor> ts, Tensor t) {
  for (Tensor& x : ts)
    if (x.name == t.name) {
      x = std::move(t);
      return ts;
    }
  ts.push_back(std::move(t));
  return ts;
}

std::vector<Tensor> without(std::vector<Tensor> ts, const std::string& name) {
  std::vector<Tensor> out;
  for (Tensor& t : ts)
    if (t.name != name) out.push_back(std::move(t));
  return out;
}

void rejects(const std::vector<Tensor>& ts, io_problem problem, const std::string& tensor,
             const std::map<std::string, std::string>& meta = {}) {
  TensorFile f;
  f.tensors = ts;
  f.metadata = meta;
  expect_io_error([&] { case_from_tensors(f, "case.safetensors"); }, problem, "case.safetensors", tensor);
}

}  // namespace

TEST_CASE("case file: every name read, shapes from A and B, dtypes recorded") {
  ScratchDir dir;
  const std::string path = dir.file("case.safetensors");
  write_safetensors(path, full_case(), {{"scalora.compute_dtype", "F64"}, {"scalora.mode", "scalar"}});
  const Case c = read_case(path);
  CHECK(c.source == path);
  CHECK(c.m == 3);
  CHECK(c.n == 2);
  CHECK(c.r == 2);
  CHECK(c.input.A == ramp(3, 2, -1));
  CHECK(c.input.grad_B == ramp(2, 2, -3));
  CHECK(c.input.W_pt == ramp(3, 2, 1));
  CHECK(c.G == ramp(3, 2, 0));
  CHECK(c.input.moments.exp_avg_sq_A == ramp(3, 2, 0));
  CHECK(c.input.moments.exp_avg_B.size() == 0);
  CHECK(c.bound.L == 4);
  CHECK(c.bound.lr == 0.125);
  CHECK(c.bound.lora_scale == 2);
  CHECK(c.output.A == ramp(3, 2, -2));  // exact in BF16
  CHECK(c.output.B.size() == 0);
  CHECK(c.out_alpha_scalar);
  CHECK(c.out_alpha == Eigen::VectorXd::Constant(2, 1.5));
  CHECK_FALSE(c.out_beta_scalar);
  CHECK(c.out_beta == ramp(2, 1, 1));
  CHECK(c.dtypes.at("out.A") == dtype::bf16);
  CHECK(c.dtypes.at("W_pt") == dtype::f16);
  CHECK(c.dtypes.at("lr") == dtype::f32);
  CHECK(c.compute_type == dtype::f64);
  CHECK(c.mode == scalora::scaling_mode::scalar_only);
  CHECK(c.ignored == std::vector<std::string>{"step"});
  CHECK(c.has_outputs());
}

TEST_CASE("case file: npz and a directory of npy files give the same case") {
  ScratchDir dir;
  std::vector<Tensor> ts;
  for (const Tensor& t : full_case())
    if (t.type != dtype::bf16) ts.push_back(t);  // numpy has no bfloat16
  write_safetensors(dir.file("c.safetensors"), ts);
  write_npz(dir.file("c.npz"), ts);
  ScratchDir npy;
  for (const Tensor& t : ts) write_npy(npy.file(t.name + ".npy"), t);
  const Case a = read_case(dir.file("c.safetensors")), b = read_case(dir.file("c.npz")), c = read_case(npy.path());
  for (const Case* x : {&b, &c}) {
    CHECK(x->input.A == a.input.A);
    CHECK(x->input.W_pt == a.input.W_pt);
    CHECK(x->output.W_pt == a.output.W_pt);
    CHECK(x->out_beta == a.out_beta);
    CHECK(x->bound.lr == a.bound.lr);
    CHECK(x->dtypes == a.dtypes);
  }
  CHECK(c.source == npy.path());
}

TEST_CASE("case file: write_case round-trips a read case in each container, dtypes and metadata kept") {
  ScratchDir dir;
  std::vector<Tensor> ts;
  for (const Tensor& t : full_case())
    if (t.type != dtype::bf16) ts.push_back(t);  // npy and npz hold no bfloat16
  write_safetensors(dir.file("orig.safetensors"), ts, {{"scalora.compute_dtype", "F32"}, {"scalora.mode", "scalar"}});
  const Case a = read_case(dir.file("orig.safetensors"));
  CaseWriteOptions how;
  for (const auto& [name, t] : a.dtypes) how.dtype_of[name] = t;  // each tensor in its stored dtype
  how.extra.push_back(from_scalar("step", 7, dtype::f32));
  ScratchDir npy;
  const std::string npy_dir = npy.path() + "/case";
  CHECK(write_case(npy_dir, a, how).size() == ts.size());  // one .npy per tensor
  CHECK(write_case(dir.file("w.safetensors"), a, how) == std::vector<std::string>{dir.file("w.safetensors")});
  CHECK(write_case(dir.file("w.npz"), a, how) == std::vector<std::string>{dir.file("w.npz")});
  for (const std::string& path : {dir.file("w.safetensors"), dir.file("w.npz"), npy_dir}) {
    const Case b = read_case(path);
    CAPTURE(path);
    const auto in_a = layer_parts(a.input), in_b = layer_parts(b.input);
    const auto out_a = layer_parts(a.output), out_b = layer_parts(b.output);
    for (std::size_t k = 0; k < in_a.size(); ++k) {
      CHECK(*in_b[k].second == *in_a[k].second);
      CHECK(*out_b[k].second == *out_a[k].second);
    }
    CHECK(b.G == a.G);
    CHECK(b.out_alpha == a.out_alpha);
    CHECK(b.out_alpha_scalar == a.out_alpha_scalar);
    CHECK(b.out_beta == a.out_beta);
    CHECK(b.out_beta_scalar == a.out_beta_scalar);
    CHECK(b.bound.L == a.bound.L);
    CHECK(b.bound.lr == a.bound.lr);
    CHECK(b.bound.lora_scale == a.bound.lora_scale);
    CHECK(b.dtypes == a.dtypes);
    CHECK(b.ignored == std::vector<std::string>{"step"});
    if (path.find(".safetensors") != std::string::npos) {
      CHECK(b.compute_type == dtype::f32);
      CHECK(b.mode == scalora::scaling_mode::scalar_only);
    }
  }
}

TEST_CASE("case file: write_case rounds to the dtypes asked and writes lora_scale only when not 1") {
  ScratchDir dir;
  Case c;
  c.input.A = ramp(3, 2, -1) / 3.0;  // not exact in F32
  c.input.B = ramp(2, 2, 0.5);
  c.input.grad_A = ramp(3, 2, 2);
  c.input.grad_B = ramp(2, 2, -3);
  c.bound = {4.0, 0.125, 1.0};
  CaseWriteOptions how;
  how.inputs = dtype::f32;
  const std::vector<Tensor> ts = case_tensors(c, how);
  for (const Tensor& t : ts) CHECK(t.name != "lora_scale");
  write_case(dir.file("c.safetensors"), c, how);
  const Case b = read_case(dir.file("c.safetensors"));
  CHECK(b.input.A == c.input.A.cast<float>().cast<double>());
  CHECK(b.dtypes.at("A") == dtype::f32);
  CHECK(b.dtypes.at("L") == dtype::f64);
  CHECK(b.bound.lora_scale == 1);
  CHECK_FALSE(b.has_outputs());
}

TEST_CASE("case file: minimal case, lora_scale defaults to 1, no outputs") {
  TensorFile f;
  for (const Tensor& t : full_case())
    if (t.name == "A" || t.name == "B" || t.name == "grad_A" || t.name == "grad_B" || t.name == "L" || t.name == "lr")
      f.tensors.push_back(t);
  const Case c = case_from_tensors(f, "min");
  CHECK(c.bound.lora_scale == 1);
  CHECK_FALSE(c.has_outputs());
  CHECK(c.input.W_pt.size() == 0);
  CHECK(c.mode == scalora::scaling_mode::hybrid);
  CHECK_FALSE(c.compute_type.has_value());
}

TEST_CASE("case file: missing tensors") {
  rejects(without(full_case(), "A"), io_problem::missing_tensor, "A");
  rejects(without(full_case(), "grad_B"), io_problem::missing_tensor, "grad_B");
  rejects(without(full_case(), "lr"), io_problem::missing_tensor, "lr");
  // An output without its input cannot be judged.
  rejects(without(full_case(), "W_pt"), io_problem::missing_tensor, "W_pt");
  rejects(without(full_case(), "exp_avg_sq_A"), io_problem::missing_tensor, "exp_avg_sq_A");
}

TEST_CASE("case file: shapes disagreeing with m, n, r") {
  rejects(with(full_case(), from_matrix("A", ramp(3, 0, 0), dtype::f32)), io_problem::shape_mismatch, "A");
  rejects(with(full_case(), from_scalar("A", 1, dtype::f32, {1})), io_problem::shape_mismatch, "A");
  rejects(with(full_case(), from_matrix("B", ramp(2, 3, 0), dtype::f32)), io_problem::shape_mismatch, "B");
  rejects(with(full_case(), from_matrix("grad_A", ramp(2, 3, 0), dtype::f32)), io_problem::shape_mismatch, "grad_A");
  rejects(with(full_case(), from_matrix("grad_B", ramp(3, 2, 0), dtype::f32)), io_problem::shape_mismatch, "grad_B");
  rejects(with(full_case(), from_matrix("W_pt", ramp(2, 3, 0), dtype::f32)), io_problem::shape_mismatch, "W_pt");
  rejects(with(full_case(), from_matrix("G", ramp(3, 3, 0), dtype::f32)), io_problem::shape_mismatch, "G");
  rejects(with(full_case(), from_matrix("out.A", ramp(3, 1, 0), dtype::f32)), io_problem::shape_mismatch, "out.A");
  rejects(with(full_case(), vec("out.alpha", ramp(3, 1, 0), dtype::f32)), io_problem::shape_mismatch,
          "out.alpha");
  Tensor rank3 = from_matrix("exp_avg_A", ramp(3, 2, 0), dtype::f32);
  rank3.shape = {3, 2, 1};
  rejects(with(full_case(), rank3), io_problem::shape_mismatch, "exp_avg_A");
  rejects(with(full_case(), from_matrix("L", ramp(2, 1, 1), dtype::f32)), io_problem::shape_mismatch, "L");
}

TEST_CASE("case file: values") {
  rejects(with(full_case(), from_scalar("L", -1, dtype::f64)), io_problem::bad_value, "L");
  rejects(with(full_case(), from_scalar("lr", 0, dtype::f64)), io_problem::bad_value, "lr");
  rejects(with(full_case(), from_scalar("lr", std::nan(""), dtype::f32)), io_problem::bad_value, "lr");
  rejects(with(full_case(), from_scalar("lora_scale", INFINITY, dtype::f16)), io_problem::bad_value, "lora_scale");
  Eigen::MatrixXd a = ramp(3, 2, 0);
  a(2, 1) = NAN;
  rejects(with(full_case(), from_matrix("A", a, dtype::f32)), io_problem::bad_value, "A");
  rejects(with(full_case(), from_matrix("exp_avg_sq_A", ramp(3, 2, -1), dtype::f32)), io_problem::bad_value,
          "exp_avg_sq_A");
  // Outputs may be anything: a NaN output is a failed check, not an invalid case.
  TensorFile f;
  f.tensors = with(full_case(), from_matrix("out.A", a, dtype::f32));
  CHECK(std::isnan(case_from_tensors(f, "c").output.A(2, 1)));
  rejects(full_case(), io_problem::bad_value, "__metadata__", {{"scalora.compute_dtype", "F8"}});
  rejects(full_case(), io_problem::bad_value, "__metadata__", {{"scalora.mode", "column"}});
}

TEST_CASE("case file: an unknown out. name is an error, other unknown names are listed") {
  rejects(with(full_case(), from_matrix("out.alpah", ramp(2, 1, 0), dtype::f32)), io_problem::unknown_name,
          "out.alpah");
  rejects(with(full_case(), from_matrix("out.G", ramp(3, 2, 0), dtype::f32)), io_problem::unknown_name, "out.G");
}

TEST_CASE("case file: unknown names of any dtype are ignored and listed") {
  // An optimizer dump: PyTorch's AdamW keeps an I64 (or F32) "step"; other tools add masks, ids.
  Tensor step = raw("step", dtype::i64, {}, 0);
  step.data[0] = 7;
  std::vector<Tensor> ts = with(full_case(), step);
  ts.push_back(raw("mask", dtype::boolean, {3, 2}));
  ts.push_back(raw("token_ids", dtype::u16, {5}));
  ScratchDir dir;
  write_safetensors(dir.file("c.safetensors"), ts);
  std::vector<Tensor> no_bf16;
  for (const Tensor& t : ts)
    if (t.type != dtype::bf16) no_bf16.push_back(t);
  write_npz(dir.file("c.npz"), no_bf16);
  for (const char* name : {"c.safetensors", "c.npz"}) {
    CAPTURE(name);
    const Case c = read_case(dir.file(name));
    CHECK(c.ignored == std::vector<std::string>{"step", "mask", "token_ids"});
    CHECK_FALSE(c.has("step"));
    CHECK(c.value_dtypes.count("step") == 0);
    CHECK(c.input.A == ramp(3, 2, -1));
  }
}

TEST_CASE("case file: a name of the format stored as BOOL or an integer is not_floating, naming the dtype") {
  const auto what = [](const std::vector<Tensor>& ts, const std::string& tensor) {
    rejects(ts, io_problem::not_floating, tensor);
    TensorFile f;
    f.tensors = ts;
    try {
      case_from_tensors(f, "case.safetensors");
    } catch (const io_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string a = what(with(full_case(), raw("A", dtype::i32, {3, 2})), "A");
  CHECK(a.find("I32") != std::string::npos);
  CHECK(a.find("not a floating-point tensor") != std::string::npos);
  CHECK(what(with(full_case(), raw("L", dtype::i64, {})), "L").find("I64") != std::string::npos);
  CHECK(what(with(full_case(), raw("out.W_pt", dtype::boolean, {3, 2})), "out.W_pt").find("BOOL") !=
        std::string::npos);
  what(with(full_case(), raw("exp_avg_sq_A", dtype::u8, {3, 2})), "exp_avg_sq_A");
  what(with(full_case(), raw("out.alpha", dtype::i8, {2})), "out.alpha");
  // the checks keep their order: a misspelt out. name is still unknown_name, whatever its dtype
  rejects(with(full_case(), raw("out.alpah", dtype::i64, {2})), io_problem::unknown_name, "out.alpah");
  // and a dtype name in the metadata must be a floating one
  rejects(full_case(), io_problem::bad_value, "__metadata__", {{"scalora.compute_dtype", "I64"}});
}

TEST_CASE("case file: value_dtypes, the precision the values carry, for every tensor used") {
  std::vector<Tensor> ts = full_case();
  Eigen::MatrixXd g = ramp(3, 2, 0);
  g(1, 1) = double(0.1f);
  ts = with(ts, from_matrix("grad_A", g, dtype::f64));  // F32 values stored as F64
  Eigen::MatrixXd w = ramp(3, 2, 1);
  w(0, 0) = 1 + std::ldexp(1.0, -10);
  ts = with(ts, from_matrix("W_pt", w, dtype::f16));    // an F16-only value
  ts = with(ts, from_scalar("L", 0.1, dtype::f64));
  TensorFile f;
  f.tensors = ts;
  const Case c = case_from_tensors(f, "c");
  CHECK(c.dtypes.at("grad_A") == dtype::f64);
  CHECK(c.value_dtypes.at("grad_A") == dtype::f32);
  CHECK(c.value_dtypes.at("A") == dtype::bf16);          // quarters, stored as F32
  CHECK(c.value_dtypes.at("W_pt") == dtype::f16);
  CHECK(c.value_dtypes.at("out.W_pt") == dtype::bf16);   // F64 container
  CHECK(c.value_dtypes.at("L") == dtype::f64);
  CHECK(c.value_dtypes.at("lr") == dtype::bf16);         // 0.125 as F32
  CHECK(c.value_dtypes.at("out.alpha") == dtype::bf16);  // 1.5 as F64
  CHECK(c.value_dtypes.at("out.beta") == dtype::bf16);
  REQUIRE(c.value_dtypes.size() == c.dtypes.size());
  for (const auto& [name, type] : c.dtypes) CHECK(c.value_dtypes.count(name) == 1);
}

TEST_CASE("case file: the committed fuzz corpus parses or fails as its file name says") {
  const std::string dir = SCALORA_CASE_CORPUS;
  const std::pair<const char*, std::pair<io_problem, const char*>> bad[] = {
      {"bad_missing_grad_B", {io_problem::missing_tensor, "grad_B"}},
      {"bad_output_without_input", {io_problem::missing_tensor, "W_pt"}},
      {"bad_B_rank", {io_problem::shape_mismatch, "B"}},
      {"bad_A_rank3", {io_problem::shape_mismatch, "A"}},
      {"bad_grad_A_shape", {io_problem::shape_mismatch, "grad_A"}},
      {"bad_W_pt_shape", {io_problem::shape_mismatch, "W_pt"}},
      {"bad_L_negative", {io_problem::bad_value, "L"}},
      {"bad_lr_nan", {io_problem::bad_value, "lr"}},
      {"bad_L_shape", {io_problem::shape_mismatch, "L"}},
      {"bad_alpha_length", {io_problem::shape_mismatch, "out.alpha"}},
      {"bad_A_inf", {io_problem::bad_value, "A"}},
      {"bad_A_empty", {io_problem::shape_mismatch, "A"}},
      {"bad_second_moment", {io_problem::bad_value, "exp_avg_sq_B"}},
      {"bad_unknown_output", {io_problem::unknown_name, "out.alpah"}},
      {"bad_metadata_mode", {io_problem::bad_value, "__metadata__"}},
      {"bad_A_int32", {io_problem::not_floating, "A"}}};
  for (const auto& [name, expected] : bad) {
    CAPTURE(name);
    const std::string path = dir + "/" + name;
    expect_io_error([&] { read_case(path); }, expected.first, path, expected.second);
  }
  for (const char* name : {"valid_full", "valid_npz", "valid_minimal", "valid_step_i64"}) {
    CAPTURE(name);
    CHECK_NOTHROW(read_case(dir + "/" + name));
  }
  CHECK(read_case(dir + "/valid_step_i64").ignored == std::vector<std::string>{"note", "step"});
}
