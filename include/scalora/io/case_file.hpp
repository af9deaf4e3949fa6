// SPDX-License-Identifier: Apache-2.0
// Case files of scalora-verify: the tensors of one ScaLoRA step of one adapted
// layer (inputs, and the outputs of the implementation under test) read by name
// and validated into a typed Case (read_case), and written from one
// (write_case: the one writer of scalora-vectors and the fuzz corpus maker).
// Names, shapes and the PEFT mapping: docs/validating.md; the file formats:
// docs/io.md.
//
// Math layout, W = W_pt + lora_scale A B^T:
//   inputs            A [m,r], B [n,r], grad_A [m,r], grad_B [n,r], L [] , lr []
//   optional inputs   lora_scale [] (s, default 1), W_pt [m,n], G [m,n],
//                     exp_avg_A, exp_avg_sq_A [m,r], exp_avg_B, exp_avg_sq_B [n,r]
//   outputs           out.A, out.B, out.W_pt, out.grad_A, out.grad_B, out.exp_avg_A,
//                     out.exp_avg_sq_A, out.exp_avg_B, out.exp_avg_sq_B (shapes of
//                     their inputs), out.alpha, out.beta ([r], or [] / [1] for one
//                     value broadcast to r)
// Scalars have shape [] or [1]. Inputs must be finite (second moments >= 0);
// outputs may hold anything finite or not (a NaN output is a failed check, not
// an unreadable case). These names must be floating tensors (F64, F32, BF16, F16);
// other names, of any dtype (an I64 "step" of an optimizer dump), are listed as
// ignored.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scalora/io/tensor_file.hpp"
#include "scalora/linalg/step.hpp"

namespace scalora::io {

/// One case: the step's inputs and whatever outputs the file holds (an empty
/// matrix or vector = absent). Values are the stored ones, exactly (every F64,
/// F32, BF16 and F16 value is a double).
struct Case {
  std::string source;  ///< the file or directory it came from
  Index m = 0, n = 0, r = 0;
  Layer<double> input;   ///< A, B, grad_A, grad_B; W_pt and moments when given
  Matrix<double> G;      ///< m x n, the gradient at W, when given
  BoundParameters<double> bound;  ///< L, lr, lora_scale (1 when absent): kappa = L lr lora_scale^2
  Layer<double> output;  ///< out.*: the state after steps 5-8, each part when given
  Vector<double> out_alpha, out_beta;  ///< r entries when given
  bool out_alpha_scalar = false, out_beta_scalar = false;  ///< given as one value
  std::map<std::string, dtype> dtypes;  ///< every tensor used, by its name in the file: its stored dtype
  /// For every name in dtypes, value_dtype of its values: the floating dtype of largest
  /// epsilon that holds each of them exactly (an F64 tensor of BF16 values is BF16;
  /// never finer than the stored dtype). The precision the values carry, whatever the
  /// container.
  std::map<std::string, dtype> value_dtypes;
  std::map<std::string, std::string> metadata;  ///< safetensors "__metadata__"
  std::optional<dtype> compute_type;   ///< metadata "scalora.compute_dtype"
  scaling_mode mode = scaling_mode::hybrid;  ///< metadata "scalora.mode": "hybrid" or "scalar"
  std::vector<std::string> ignored;  ///< names this format does not use, of any dtype (none under "out.")

  bool has(const std::string& name) const { return dtypes.count(name) != 0; }
  /// True when any out.* tensor is present.
  bool has_outputs() const {
    return std::any_of(dtypes.begin(), dtypes.end(), [](const auto& kv) { return kv.first.rfind("out.", 0) == 0; });
  }
};

/// The matrices of a layer by their case-file names (an output is "out." + name):
/// A, B, grad_A, grad_B, W_pt, exp_avg_A, exp_avg_sq_A, exp_avg_B, exp_avg_sq_B.
template <class LayerT>
auto layer_parts(LayerT& l) {
  using Part = decltype(&l.A);
  return std::array<std::pair<const char*, Part>, 9>{{{"A", &l.A},
                                                      {"B", &l.B},
                                                      {"grad_A", &l.grad_A},
                                                      {"grad_B", &l.grad_B},
                                                      {"W_pt", &l.W_pt},
                                                      {"exp_avg_A", &l.moments.exp_avg_A},
                                                      {"exp_avg_sq_A", &l.moments.exp_avg_sq_A},
                                                      {"exp_avg_B", &l.moments.exp_avg_B},
                                                      {"exp_avg_sq_B", &l.moments.exp_avg_sq_B}}};
}

namespace detail {

inline std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// Reads the named tensors of one TensorFile into a Case, checking every shape
/// against m, n, r (from A and B) before converting any data.
class CaseReader {
 public:
  CaseReader(const TensorFile& file, const std::string& source) : file_(file) { c_.source = source; }

  Case read() {
    check_names();
    const Tensor& A = require("A");
    if (A.shape.size() != 2 || A.shape[0] < 1 || A.shape[1] < 1)
      fail(io_problem::shape_mismatch, "A", "expected [m, r] with m, r >= 1, got " + shape_text(A.shape));
    const Tensor& B = require("B");
    if (B.shape.size() != 2 || B.shape[0] < 1 || B.shape[1] != A.shape[1])
      fail(io_problem::shape_mismatch, "B",
           "expected [n, r] with n >= 1 and r = " + std::to_string(A.shape[1]) + " (from A), got " + shape_text(B.shape));
    c_.m = A.shape[0];
    c_.n = B.shape[0];
    c_.r = A.shape[1];
    // Shapes of everything first: a lying file fails before any large conversion.
    const std::vector<std::pair<const char*, bool>> mats = {
        {"A", true},         {"B", true},           {"grad_A", true},      {"grad_B", true},
        {"W_pt", false},     {"G", false},          {"exp_avg_A", false},  {"exp_avg_sq_A", false},
        {"exp_avg_B", false}, {"exp_avg_sq_B", false}};
    for (const auto& [name, required] : mats) {
      if (required) require(name);
      check_matrix_shape(name);
      check_matrix_shape(std::string("out.") + name);
    }
    for (const char* name : {"out.grad_A", "out.grad_B"}) check_matrix_shape(name);
    for (const char* name : {"out.alpha", "out.beta"}) check_scaling_shape(name);
    for (const char* name : {"L", "lr", "lora_scale"}) check_scalar_shape(name);

    c_.bound.L = positive_scalar("L", true);
    c_.bound.lr = positive_scalar("lr", true);
    c_.bound.lora_scale = has("lora_scale") ? positive_scalar("lora_scale", true) : 1.0;

    for (const auto& [name, part] : layer_parts(c_.input))
      *part = input_matrix(name, std::string(name).rfind("exp_avg_sq", 0) == 0);
    c_.G = input_matrix("G");
    for (const auto& [name, part] : layer_parts(c_.output)) *part = to_matrix(std::string("out.") + name);
    c_.out_alpha = output_scaling("out.alpha", c_.out_alpha_scalar);
    c_.out_beta = output_scaling("out.beta", c_.out_beta_scalar);
    read_metadata();
    return std::move(c_);
  }

 private:
  [[noreturn]] void fail(io_problem p, const std::string& tensor, const std::string& why) const {
    throw io_error(p, c_.source, tensor, why);
  }
  bool has(const std::string& name) const { return file_.find(name) != nullptr; }
  const Tensor& require(const std::string& name) const {
    const Tensor* t = file_.find(name);
    if (!t) fail(io_problem::missing_tensor, name, "required tensor is absent");
    return *t;
  }
  /// Known names; an unknown "out." name is an error (a typo would skip a check).
  void check_names() {
    static const char* known[] = {"A", "B", "grad_A", "grad_B", "L", "lr", "lora_scale", "W_pt", "G",
                                  "exp_avg_A", "exp_avg_sq_A", "exp_avg_B", "exp_avg_sq_B"};
    static const char* known_out[] = {"A", "B", "W_pt", "grad_A", "grad_B", "exp_avg_A", "exp_avg_sq_A",
                                      "exp_avg_B", "exp_avg_sq_B", "alpha", "beta"};
    for (const Tensor& t : file_.tensors) {
      const bool is_out = t.name.rfind("out.", 0) == 0;
      const std::string base = is_out ? t.name.substr(4) : t.name;
      bool found = false;
      for (const char* k : is_out ? std::vector<const char*>(std::begin(known_out), std::end(known_out))
                                  : std::vector<const char*>(std::begin(known), std::end(known)))
        found = found || base == k;
      if (!found && is_out)
        fail(io_problem::unknown_name, t.name, "not an output of the case format (docs/validating.md)");
      if (!found)
        c_.ignored.push_back(t.name);
      else if (!is_floating(t.type))
        fail(io_problem::not_floating, t.name,
             std::string("not a floating-point tensor: dtype ") + safetensors_name(t.type) +
                 "; the case format needs F64, F32, BF16 or F16 here (docs/validating.md)");
    }
  }
  /// [rows, cols] a matrix tensor must have, and why.
  std::pair<std::pair<Index, Index>, std::string> expected_shape(const std::string& base) const {
    if (base == "W_pt" || base == "G") return {{c_.m, c_.n}, "[m, n]"};
    if (base == "A" || base == "grad_A" || base == "exp_avg_A" || base == "exp_avg_sq_A") return {{c_.m, c_.r}, "[m, r]"};
    return {{c_.n, c_.r}, "[n, r]"};
  }
  void check_matrix_shape(const std::string& name) const {
    const Tensor* t = file_.find(name);
    if (!t) return;
    const std::string base = name.rfind("out.", 0) == 0 ? name.substr(4) : name;
    const auto [rc, why] = expected_shape(base);
    if (t->shape.size() != 2 || t->shape[0] != rc.first || t->shape[1] != rc.second)
      fail(io_problem::shape_mismatch, name,
           "expected " + why + " = " + shape_text({rc.first, rc.second}) + " (m, r from A, n from B), got " +
               shape_text(t->shape));
    if (base != name && !has(base))
      fail(io_problem::missing_tensor, base, name + " is given but its input " + base + " is not");
  }
  void check_scaling_shape(const std::string& name) const {
    const Tensor* t = file_.find(name);
    if (!t) return;
    const bool one = t->shape.empty() || (t->shape.size() == 1 && t->shape[0] == 1);
    if (!one && !(t->shape.size() == 1 && t->shape[0] == c_.r))
      fail(io_problem::shape_mismatch, name,
           "expected [r] = [" + std::to_string(c_.r) + "] or [] (one value), got " + shape_text(t->shape));
  }
  void check_scalar_shape(const std::string& name) const {
    const Tensor* t = file_.find(name);
    if (t && !(t->shape.empty() || (t->shape.size() == 1 && t->shape[0] == 1)))
      fail(io_problem::shape_mismatch, name, "expected a scalar, shape [] or [1], got " + shape_text(t->shape));
  }
  double positive_scalar(const std::string& name, bool required) {
    const Tensor* t = required ? &require(name) : file_.find(name);
    const double v = t->scalar_value();
    if (!(v > 0) || !std::isfinite(v))
      fail(io_problem::bad_value, name, "must be finite and > 0, got " + std::to_string(v));
    c_.dtypes[name] = t->type;
    c_.value_dtypes[name] = value_dtype(v);
    return v;
  }
  Matrix<double> to_matrix(const std::string& name) {
    const Tensor* t = file_.find(name);
    if (!t) return {};
    c_.dtypes[name] = t->type;
    try {
      c_.value_dtypes[name] = value_dtype(*t);
      return t->to_matrix<double>();
    } catch (const io_error& e) {
      throw io_error(e.problem(), c_.source, name, e.what());
    }
  }
  Matrix<double> input_matrix(const std::string& name, bool nonnegative = false) {
    Matrix<double> x = to_matrix(name);
    for (Index j = 0; j < x.cols(); ++j)
      for (Index i = 0; i < x.rows(); ++i)
        if (!std::isfinite(x(i, j)) || (nonnegative && x(i, j) < 0))
          fail(io_problem::bad_value, name,
               "entry (" + std::to_string(i) + ", " + std::to_string(j) + ") is " + std::to_string(x(i, j)) +
                   (nonnegative ? "; inputs must be finite and second moments >= 0" : "; inputs must be finite"));
    return x;
  }
  Vector<double> output_scaling(const std::string& name, bool& scalar) {
    const Tensor* t = file_.find(name);
    if (!t) return {};
    c_.dtypes[name] = t->type;
    scalar = t->shape.empty() || (t->shape.size() == 1 && t->shape[0] == 1 && c_.r != 1);
    Vector<double> v(c_.r);
    for (Index i = 0; i < c_.r; ++i) v(i) = t->value(scalar ? 0 : i);
    c_.value_dtypes[name] = value_dtype(*t);
    return v;
  }
  void read_metadata() {
    c_.metadata = file_.metadata;
    if (const auto it = file_.metadata.find("scalora.compute_dtype"); it != file_.metadata.end()) {
      c_.compute_type = dtype_from_safetensors_name(it->second);
      if (!c_.compute_type || !is_floating(*c_.compute_type))
        fail(io_problem::bad_value, "__metadata__",
             "scalora.compute_dtype must be F64, F32, BF16 or F16, got '" + it->second + "'");
    }
    if (const auto it = file_.metadata.find("scalora.mode"); it != file_.metadata.end()) {
      if (it->second == "scalar") c_.mode = scaling_mode::scalar_only;
      else if (it->second != "hybrid")
        fail(io_problem::bad_value, "__metadata__", "scalora.mode must be hybrid or scalar, got '" + it->second + "'");
    }
  }

  const TensorFile& file_;
  Case c_;
};

}  // namespace detail

/// The case held by the tensors of `file` (read from `source`, named in errors).
/// @throws io_error missing_tensor, shape_mismatch, bad_value, unknown_name,
/// not_floating (a case-format name of BOOL or integer dtype; other names of any dtype
/// are listed in Case::ignored), and not_scalar, invalid_tensor from the tensors;
/// naming `source` and the tensor.
inline Case case_from_tensors(const TensorFile& file, const std::string& source) {
  return detail::CaseReader(file, source).read();
}

/// Reads a case: a safetensors or npz file (read_tensor_file), or a directory
/// of "<name>.npy" files (other files in it are ignored).
/// @throws io_error as the readers and case_from_tensors.
inline Case read_case(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return case_from_tensors(read_tensor_file(path), path);
  TensorFile file;
  std::vector<fs::path> members;
  for (const auto& entry : fs::directory_iterator(path, ec))
    if (entry.is_regular_file() && entry.path().extension() == ".npy") members.push_back(entry.path());
  if (ec) throw io_error(io_problem::open_failed, path, "", ec.message());
  std::sort(members.begin(), members.end());
  for (const fs::path& p : members) file.tensors.push_back(read_npy(p.string()));
  return case_from_tensors(file, path);
}

// ---------------------------------------------------------------- writing

/// How write_case() stores a Case. Values are converted to each tensor's dtype
/// (round to nearest even); a Case whose values the dtype holds exactly (as
/// read_case returns them) round-trips unchanged.
struct CaseWriteOptions {
  dtype inputs = dtype::f64;    ///< A, B, grad_A, grad_B, W_pt, G and the moments
  dtype outputs = dtype::f64;   ///< out.* matrices
  dtype scalars = dtype::f64;   ///< L, lr, lora_scale
  dtype scalings = dtype::f64;  ///< out.alpha, out.beta
  std::map<std::string, dtype> dtype_of;  ///< per-name overrides ("grad_B" -> BF16, "out.W_pt" -> F16)
  bool write_unit_lora_scale = false;  ///< also write lora_scale when it is 1 (the default it reads as)
  std::vector<Tensor> extra;  ///< further tensors, written as given (an optimizer's I64 "step")
};

/// The tensors of a case in the case format (docs/validating.md): every
/// present input and output part, G, L, lr, lora_scale (when != 1 or asked),
/// out.alpha, out.beta (one value of shape [] when c.out_alpha_scalar /
/// c.out_beta_scalar: the broadcast form), then o.extra. out.grad_A and
/// out.grad_B are written when present (the format defines them).
inline std::vector<Tensor> case_tensors(const Case& c, const CaseWriteOptions& o = {}) {
  const auto type_of = [&](const std::string& name, dtype fallback) {
    const auto it = o.dtype_of.find(name);
    return it == o.dtype_of.end() ? fallback : it->second;
  };
  std::vector<Tensor> ts;
  for (const auto& [name, part] : layer_parts(c.input))
    if (part->size() != 0) ts.push_back(from_matrix(name, *part, type_of(name, o.inputs)));
  if (c.G.size() != 0) ts.push_back(from_matrix("G", c.G, type_of("G", o.inputs)));
  ts.push_back(from_scalar("L", c.bound.L, type_of("L", o.scalars)));
  ts.push_back(from_scalar("lr", c.bound.lr, type_of("lr", o.scalars)));
  if (c.bound.lora_scale != 1 || o.write_unit_lora_scale)
    ts.push_back(from_scalar("lora_scale", c.bound.lora_scale, type_of("lora_scale", o.scalars)));
  for (const auto& [name, part] : layer_parts(c.output)) {
    const std::string out = std::string("out.") + name;
    if (part->size() != 0) ts.push_back(from_matrix(out, *part, type_of(out, o.outputs)));
  }
  const struct {
    const char* name;
    const Vector<double>& v;
    bool one_value;
  } scalings[] = {{"out.alpha", c.out_alpha, c.out_alpha_scalar}, {"out.beta", c.out_beta, c.out_beta_scalar}};
  for (const auto& [name, v, one_value] : scalings) {
    if (v.size() == 0) continue;
    const dtype t = type_of(name, o.scalings);
    if (one_value) {
      ts.push_back(from_scalar(name, v(0), t));
    } else {
      Tensor x = from_matrix(name, v, t);
      x.shape = {v.size()};
      ts.push_back(std::move(x));
    }
  }
  for (const Tensor& t : o.extra) ts.push_back(t);
  return ts;
}

/// The safetensors metadata of a case: c.metadata, then scalora.compute_dtype
/// (c.compute_type) and scalora.mode ("scalar" for scalar_only) when set.
inline std::map<std::string, std::string> case_metadata(const Case& c) {
  std::map<std::string, std::string> meta = c.metadata;
  if (c.compute_type) meta["scalora.compute_dtype"] = safetensors_name(*c.compute_type);
  if (c.mode == scaling_mode::scalar_only) meta["scalora.mode"] = "scalar";
  return meta;
}

/// Writes a case atomically: "<path>.safetensors" (with case_metadata), ".npz",
/// or, for any other path, a directory of "<name>.npy" files (created; the
/// metadata is not representable there). Returns the files written.
/// @throws io_error(write_failed) naming the file; invalid_tensor for an
/// inconsistent Case.
inline std::vector<std::string> write_case(const std::string& path, const Case& c, const CaseWriteOptions& o = {}) {
  namespace fs = std::filesystem;
  const std::vector<Tensor> ts = case_tensors(c, o);
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".safetensors") {
    write_safetensors(path, ts, case_metadata(c));
    return {path};
  }
  if (ext == ".npz") {
    write_npz(path, ts);
    return {path};
  }
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) throw io_error(io_problem::write_failed, path, "", "cannot create the directory: " + ec.message());
  std::vector<std::string> files;
  for (const Tensor& t : ts) {
    files.push_back((fs::path(path) / (t.name + ".npy")).string());
    write_npy(files.back(), t);
  }
  return files;
}

}  // namespace scalora::io
