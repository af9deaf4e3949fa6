// SPDX-License-Identifier: Apache-2.0
// scalora-vectors: writes the conformance suite of scalora-verify: case files
// covering every branch and degenerate case of the spec, with the expected
// outputs computed by the reference (exact decision), a few deliberately wrong
// cases under corrupt/, and manifest.json.
//
//   scalora-vectors DIR [--large]
//
// --large adds realistic shapes (4096 x 4096 and 4096 x 14336, r = 8; about
// 1 GB, generated on demand, never committed). --bench writes bench_verify's
// cases instead of the suite (r = 8 ... 128, 384 x 512 to 4096 x 14336; about 2 GB). Exit status: 0 written, 2 bad
// arguments, 3 a write error or out of memory (docs/validating.md, "Exit status"). Case list and format: docs/validating.md.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "scalora/io/file.hpp"
#include "scalora/io/sha256.hpp"
#include "scalora/linalg/random.hpp"
#include "scalora/linalg/step.hpp"
#include "scalora/version.hpp"
#include "verify_core.hpp"
#include "exit_status.hpp"

namespace {

using namespace scalora;
using io::dtype;
namespace fs = std::filesystem;

/// One case of the suite: inputs in double (rounded to `in` before the
/// reference sees them), which outputs to write, in which dtype and container.
struct Spec {
  std::string name, description;
  std::string expect_branch;  ///< the reference's branch this case must exercise ("" = either)
  io::Case c;                 ///< input layer, G, bound, mode
  dtype in = dtype::f64, out = dtype::f64;
  std::string container = "safetensors";  ///< safetensors, npz, npy (a directory)
  Index g_rank = 0;             ///< rank of a random G (0: 2r + 2)
  bool scalings = true;         ///< write out.alpha, out.beta
  bool scalings_as_scalar = false;  ///< as shape [] (a scalar-branch case)
  bool factors = true;          ///< write out.A, out.B
  bool flip_sign = false;       ///< apply -alpha (an optimum too: only alpha^2 is identified)
  bool optimizer_step = false;  ///< add the I64 "step" an optimizer dump has (not a case name: ignored)
  /// A planted bug (corrupt/): changes the expected outputs; the checks that must fail.
  std::function<void(io::Case&)> corrupt;
  std::vector<std::string> must_fail;
  /// The expected verdict: "pass", "fail" or "inconclusive" ("": fail when
  /// must_fail is not empty, else pass).
  std::string expect;
  std::vector<std::string> verify_args;  ///< scalora-verify options this case is judged with
  std::map<std::string, std::string> metadata;  ///< added to (or replacing) the safetensors metadata
  /// Another scaling than the reference's (verdict/ cases): sets out_alpha and
  /// out_beta from the optima of the inputs; the outputs are then recomputed
  /// for it (consistent factors, moments and W_pt: only the scaling is judged).
  std::function<void(io::Case&, const tools::Optima&)> apply;
  /// The outputs (and applied scalings) as an implementation computed them,
  /// replacing the reference's entirely (a library or float step).
  std::function<void(io::Case&)> implementation;
  /// Benchmark cases: the library's step gives the outputs and the reference's
  /// expected outputs are not computed (minutes at r = 128 in cpp_bin_float_50).
  bool library_outputs_only = false;
  /// The dtype the inputs (outputs) are written in when it differs from the
  /// precision their values carry (in, out): a bf16 model dumped as F32.
  std::optional<dtype> stored_in, stored_out;
};

/// The outputs of steps 5-8 for the case's inputs and its out_alpha, out_beta, in double.
Layer<double> outputs_for(const io::Case& c) {
  Layer<double> l = c.input;
  if (l.W_pt.size() != 0) resplit(l.W_pt, l.A, l.B, c.out_alpha, c.out_beta, c.bound.lora_scale);
  rescale_factors(l.A, l.B, c.out_alpha, c.out_beta);
  rescale_gradients(l.grad_A, l.grad_B, c.out_alpha, c.out_beta);
  if (!l.moments.empty()) transfer_moments(l.moments, c.out_alpha, c.out_beta);
  return l;
}

/// Square roots of squared scalings u (2r entries) into out_alpha, out_beta.
void set_squares(io::Case& c, const Vector<double>& u) {
  const Index r = u.size() / 2;
  c.out_alpha = u.head(r).cwiseSqrt();
  c.out_beta = u.tail(r).cwiseSqrt();
}

Matrix<double> rounded(const Matrix<double>& x, dtype t) {
  Matrix<double> y(x.rows(), x.cols());
  unsigned char buf[8];
  for (Index j = 0; j < x.cols(); ++j)
    for (Index i = 0; i < x.rows(); ++i) {
      io::encode_element(t, x(i, j), buf);
      y(i, j) = io::decode_element(t, buf);
    }
  return y;
}

/// Inputs with gradients from an explicit G: grad_A = lora_scale G B, grad_B = lora_scale G^T A (spec 2, D2).
io::Case from_gradient(const Matrix<double>& A, const Matrix<double>& B, const Matrix<double>& G, double L,
                       double lr, double s = 1) {
  io::Case c;
  c.input.A = A;
  c.input.B = B;
  c.input.grad_A = s * G * B;
  c.input.grad_B = s * G.transpose() * A;
  c.G = G;
  c.bound.L = L;
  c.bound.lr = lr;
  c.bound.lora_scale = s;
  return c;
}

/// Adds W_pt and AdamW moments as after a few steps (values only matter for the lemmas).
io::Case& with_state(io::Case& c, std::uint64_t seed) {
  const Index m = c.input.A.rows(), n = c.input.B.rows(), r = c.input.A.cols();
  c.input.W_pt = 0.5 * gaussian_matrix(m, n, seed + 100);
  AdamMoments<double>& mo = c.input.moments;
  mo.exp_avg_A = 0.1 * c.input.grad_A + 0.01 * gaussian_matrix(m, r, seed + 101);
  mo.exp_avg_B = 0.1 * c.input.grad_B + 0.01 * gaussian_matrix(n, r, seed + 102);
  mo.exp_avg_sq_A = 0.01 * c.input.grad_A.cwiseAbs2() + 1e-4 * gaussian_matrix(m, r, seed + 103).cwiseAbs2();
  mo.exp_avg_sq_B = 0.01 * c.input.grad_B.cwiseAbs2() + 1e-4 * gaussian_matrix(n, r, seed + 104).cwiseAbs2();
  return c;
}

/// A random layer: G of rank k (default 2r + 2) plus noise, A ~ N(0, 1/m), B at
/// scale b_scale. A rank-1 G makes the column condition fail about 40% of the time.
io::Case random_case(Index m, Index n, Index r, std::uint64_t seed, double b_scale, double s = 1, Index rank = 0) {
  const Index k = std::min<Index>({m, n, rank > 0 ? rank : 2 * r + 2});
  const Matrix<double> G = gaussian_matrix(m, k, seed) * gaussian_matrix(k, n, seed + 1) / std::sqrt(double(n)) +
                           0.1 * gaussian_matrix(m, n, seed + 2) / std::sqrt(double(n));
  io::Case c = from_gradient(gaussian_matrix(m, r, seed + 3) / std::sqrt(double(m)),
                             b_scale * gaussian_matrix(n, r, seed + 4) / std::sqrt(double(n)), G, 4.0, 0.05, s);
  return with_state(c, seed);
}

/// The inputs of docs/theory.md's worked example (5 x 5, r = 2, G = diag(5..1),
/// L = 1, lr = 1/6 rounded to double); no W_pt, no moments.
io::Case worked() {
  Matrix<double> G = Matrix<double>::Zero(5, 5);
  for (int i = 0; i < 5; ++i) G(i, i) = 5 - i;
  return from_gradient((Matrix<double>(5, 2) << 0, 0, 0, 0, 0, 0, 1, -1, 1, 0).finished(), (Matrix<double>(5, 2) << 1, 0, 1, -1, -1, -1, 0, 0, 0, 0).finished(), G,
                       1.0, 1.0 / 6);
}

/// docs/theory.md's worked example as the doc states it: W_pt = 0, and AdamW's
/// moments after one earlier step on the same gradients (decay rates 0.9 and
/// 0.999: exp_avg = grad / 10, exp_avg_sq = grad o grad / 1000).
io::Case worked_as_documented() {
  io::Case c = worked();
  c.input.W_pt = Matrix<double>::Zero(5, 5);
  AdamMoments<double>& mo = c.input.moments;
  mo.exp_avg_A = c.input.grad_A / 10;
  mo.exp_avg_B = c.input.grad_B / 10;
  mo.exp_avg_sq_A = c.input.grad_A.cwiseAbs2() / 1000;
  mo.exp_avg_sq_B = c.input.grad_B.cwiseAbs2() / 1000;
  return c;
}

io::Case scalar_mode(io::Case c) {
  c.mode = scaling_mode::scalar_only;
  return c;
}

/// Rounds the inputs to the case's dtype, as the file will store them.
void round_inputs(Spec& sp) {
  io::Case& c = sp.c;
  for (const auto& [name, part] : io::layer_parts(c.input))
    if (part->size()) *part = rounded(*part, sp.in);
  if (c.G.size()) c.G = rounded(c.G, sp.in);
  c.m = c.input.A.rows();
  c.n = c.input.B.rows();
  c.r = c.input.A.cols();
}

/// The library's own double step (double storage) as the implementation's outputs.
void library_double_step(io::Case& c) {
  Layer<double> l = c.input;
  StepOptions<double> so;
  so.bound = c.bound;
  const StepResult<double> res = scalora_step(l, so);
  c.out_alpha = res.scaling.alpha;
  c.out_beta = res.scaling.beta;
  c.output = l;
}

std::vector<Spec> small_suite() {
  std::vector<Spec> s;
  auto add = [&](Spec sp) { s.push_back(std::move(sp)); };
  // Random layers whose decision is searched for (seed upwards) in write().
  const auto random = [](const char* name, const char* what, const char* branch, Index m, Index n, Index r,
                         std::uint64_t seed, double b_scale, dtype in, dtype out) {
    Spec sp;
    sp.name = name;
    sp.description = what;
    sp.expect_branch = branch;
    sp.g_rank = std::string(branch) == "scalar" ? 1 : 0;
    sp.c = random_case(m, n, r, seed, b_scale, 1, sp.g_rank);
    sp.in = in;
    sp.out = out;
    return sp;
  };
  add(random("column_f64", "column branch (Theorem 5), F64, with W_pt, G, moments", "column", 24, 20, 3, 11, 1.0,
             dtype::f64, dtype::f64));
  add(random("column_f32", "column branch, F32 inputs and outputs", "column", 32, 24, 4, 31, 1.0, dtype::f32,
             dtype::f32));
  add(random("column_bf16_in_f32_out", "column branch, BF16 inputs, F32 outputs", "column", 32, 24, 4, 51, 1.0,
             dtype::bf16, dtype::f32));
  add(random("column_f32_in_bf16_out", "column branch, F32 inputs, BF16 outputs (bf16 W_pt)", "column", 32, 24, 4, 71,
             1.0, dtype::f32, dtype::bf16));
  add(random("column_f16", "column branch, F16 inputs and outputs", "column", 16, 12, 2, 91, 1.0, dtype::f16,
             dtype::f16));
  add(random("scalar_fallback_f64", "no non-negative solution of M v = lambda: Theorem 3 fallback", "scalar", 24, 20,
             3, 111, 1.0, dtype::f64, dtype::f64));
  add(random("scalar_fallback_f32", "scalar fallback, F32", "scalar", 32, 24, 4, 131, 1.0, dtype::f32, dtype::f32));
  {
    Spec sp = random("column_lora_scale_2", "column branch with lora_scale = 2 (kappa = L lr lora_scale^2, the gradients carry it)",
                     "column", 20, 16, 2, 151, 1.0, dtype::f64, dtype::f64);
    sp.c = random_case(20, 16, 2, 151, 1.0, 2.0);
    add(sp);
  }
  {
    Spec sp = random("column_inferred_f32", "column branch, no out.alpha/out.beta: scalings fitted to out.A, out.B",
                     "column", 32, 24, 4, 171, 1.0, dtype::f32, dtype::f32);
    sp.scalings = false;
    add(sp);
  }
  {
    Spec sp = random("column_sign_flipped", "alpha -> -alpha applied consistently: an optimum too (either sign)",
                     "column", 24, 20, 3, 191, 1.0, dtype::f64, dtype::f64);
    sp.flip_sign = true;
    add(sp);
  }
  {
    Spec sp = random("minimal_inputs", "only A, B, grads, L, lr in; only out.A, out.B out", "", 24, 20, 3, 211, 1.0,
                     dtype::f32, dtype::f32);
    sp.c.input.W_pt.resize(0, 0);
    sp.c.input.moments = {};
    sp.c.G.resize(0, 0);
    sp.scalings = false;
    add(sp);
  }
  {
    Spec sp = random("npz_container", "column branch in a NumPy .npz, with an I64 step (ignored)", "", 24, 20, 3, 231,
                     1.0, dtype::f32, dtype::f32);
    sp.container = "npz";
    sp.optimizer_step = true;
    add(sp);
  }
  {
    Spec sp = random("npy_directory", "a directory of <name>.npy files", "", 24, 20, 3, 251, 1.0, dtype::f64, dtype::f16);
    sp.container = "npy";
    add(sp);
  }
  // Hand cases (integers: exact in every dtype).
  const auto hand = [&](const char* name, const char* what, const char* branch, io::Case c, bool state = true) {
    Spec sp;
    sp.name = name;
    sp.description = what;
    sp.expect_branch = branch;
    sp.c = std::move(c);
    if (state) with_state(sp.c, 7);
    add(sp);
  };
  hand("worked_example", "docs/theory.md's worked example (W_pt = 0, lr = 1/6): v = M^-1 lambda > 0, unique",
       "column", worked_as_documented(), false);
  hand("scalar_fallback_hand", "v = M^{-1} lambda = [1, -1, 1, 1]: column condition fails, Theorem 3 interior",
       "scalar",
       from_gradient((Matrix<double>(2, 2) << -1, 1, 0, 1).finished(), (Matrix<double>(2, 2) << 1, 1, 0, 1).finished(), (Matrix<double>(2, 2) << -1, 1, 0, -1).finished(), 1.0, 1.0));
  hand("m_lt_2r", "m = n = 2 < 2r = 4 with M nonsingular", "column",
       from_gradient((Matrix<double>(2, 2) << 0, 1, 1, 1).finished(), (Matrix<double>(2, 2) << -1, -1, -1, 0).finished(), (Matrix<double>(2, 2) << 0, 1, -1, 1).finished(), 1.0, 1.0 / 3));
  {
    io::Case c = worked();
    c.input.B.setZero();
    c.input.grad_A.setZero();
    hand("B_zero_init", "B = 0 (grad_A = 0): beta not identified, canonical beta = 1 (D5)", "column", c);
  }
  {
    io::Case c = worked();
    c.input.A.setZero();
    c.input.grad_B.setZero();
    hand("A_zero_init_peft", "A = 0, PEFT's lora_B = 0 initialisation (grad_B = 0): alpha not identified", "column", c);
  }
  hand("duplicate_columns", "A = [a, a], B = [b, b]: singular M, least change splits equally", "column",
       from_gradient((Matrix<double>(5, 2) << 0, 0, 0, 0, 0, 0, 1, 1, 1, 1).finished(), (Matrix<double>(5, 2) << 1, 1, 1, 1, -1, -1, 0, 0, 0, 0).finished(),
                     worked().G, 1.0, 0.25));
  {
    io::Case c = worked();
    c.input.A.col(1).setZero();
    c.input.grad_B = c.G.transpose() * c.input.A;
    hand("zero_column_of_A", "rank-deficient A (zero column): its alpha is not identified", "column", c);
  }
  {
    io::Case c = worked();
    c.input.A.col(1).setZero();
    c.input.grad_B = c.G.transpose() * c.input.A;
    Spec sp;
    sp.name = "zero_column_inferred";
    sp.description = "zero column of A and no out.alpha: alpha_2 is not recoverable, the reference's is used";
    sp.expect_branch = "column";
    sp.c = with_state(c, 7);
    sp.scalings = false;
    add(sp);
  }
  hand("collinear_least_distance", "A_2 = 2 A_1: least change infeasible, least-distance optimum (alpha_1 = 0)",
       "column",
       from_gradient((Matrix<double>(5, 2) << 0, 0, 0, 0, 0, 0, 1, 2, 1, 2).finished(), (Matrix<double>(5, 2) << 1, 0, 1, -1, -1, -1, 0, 0, 0, 0).finished(),
                     worked().G, 1.0, 1.0));
  {
    io::Case c = worked();
    c.input.grad_A.setZero();
    c.input.grad_B.setZero();
    c.G.setZero();
    hand("zero_gradient", "grad_A = grad_B = 0: alpha = beta = 1, nothing changes", "", c);
  }
  // v = (0, 1/2) exactly: B parallel to G^T A (Cauchy-Schwarz equality), M nonsingular.
  const io::Case tie = from_gradient((Matrix<double>(2, 1) << 1, 0).finished(), (Matrix<double>(2, 1) << 1, 1).finished(), (Matrix<double>(2, 2) << 1, 1, 0, 1).finished(), 1.0, 1.0);
  hand("boundary_column_v_zero", "column condition at its boundary: v = (0, 1/2) exactly, alpha = 0", "column", tie);
  hand("boundary_scalar_C_A_zero", "scalar mode, Theorem 3 rows 'A off' / interior meet: C_A = 0 exactly", "scalar",
       scalar_mode(tie));
  // Theorem 3's table (scalar mode, metadata scalora.mode = scalar).
  hand("scalar_only_beta_zero", "scalar mode, Theorem 3 row 'B off' (C_A > 0, C_B <= 0): b = 0", "scalar",
       scalar_mode(from_gradient((Matrix<double>(2, 2) << 0, 1, -1, 1).finished(), (Matrix<double>(2, 2) << 0, -1, 0, 1).finished(), (Matrix<double>(2, 2) << 1, 1, 0, -1).finished(), 1.0, 1.0)));
  hand("scalar_only_alpha_zero", "scalar mode, Theorem 3 row 'A off' (C_A <= 0, C_B > 0): a = 0", "scalar",
       scalar_mode(from_gradient((Matrix<double>(2, 2) << 0, 0, 1, 0).finished(), (Matrix<double>(2, 2) << -1, 0, -1, -1).finished(), (Matrix<double>(2, 2) << -2, 1, 0, 1).finished(), 1.0, 1.0)));
  {
    Spec sp;
    sp.name = "scalar_only_interior";
    sp.description = "scalar mode, Theorem 3 interior (worked example): a = 27/11, b = 9/4; out.alpha as shape []";
    sp.expect_branch = "scalar";
    sp.c = scalar_mode(worked());
    with_state(sp.c, 7);
    sp.scalings_as_scalar = true;
    add(sp);
  }
  hand("scalar_only_collinear", "scalar mode, C = 0 (Y = 4 X): the segment's least-change point (D6)", "scalar",
       scalar_mode(from_gradient((Matrix<double>(2, 1) << 1, 0).finished(), (Matrix<double>(2, 1) << 2, 0).finished(), (Matrix<double>(2, 2) << 1, 0, 0, 0).finished(), 1.0, 1.0)));
  {
    Matrix<double> G = Matrix<double>::Zero(3, 3);
    G(0, 0) = 3;
    G(1, 1) = 2;
    G(2, 2) = 2;
    hand("svd_tie", "sigma_2r = sigma_2r+1 (Theorem 1's minimiser not unique; its value is)", "",
         from_gradient((Matrix<double>(3, 1) << 1, 1, 0).finished(), (Matrix<double>(3, 1) << 0, 1, 1).finished(), G, 1.0, 0.5));
  }

  // corrupt/: planted bugs on a column case; each must make the named checks fail.
  const auto bug = [&](const char* name, const char* what, std::vector<std::string> fails,
                       std::function<void(io::Case&)> f) {
    Spec sp = random((std::string("corrupt/") + name).c_str(), what, "column", 32, 24, 4, 31, 1.0, dtype::f32,
                     dtype::f32);
    sp.corrupt = std::move(f);
    sp.must_fail = std::move(fails);
    add(sp);
  };
  bug("merge_missing", "out.W_pt = W_pt (the re-split merge was skipped)", {"W_unchanged"},
      [](io::Case& c) { c.output.W_pt = c.input.W_pt; });
  bug("merge_wrong_sign", "W_pt' = W_pt - lora_scale A diag(1 - alpha beta) B^T", {"W_unchanged"},
      [](io::Case& c) { c.output.W_pt = 2 * c.input.W_pt - c.output.W_pt; });
  bug("moments_swapped", "A's moments scaled by alpha, B's by beta", {"out.exp_avg_A", "out.exp_avg_B"},
      [](io::Case& c) {
        c.output.moments.exp_avg_A = c.input.moments.exp_avg_A * c.out_alpha.asDiagonal();
        c.output.moments.exp_avg_B = c.input.moments.exp_avg_B * c.out_beta.asDiagonal();
      });
  bug("moments_not_transferred", "moments left as they were", {"out.exp_avg_A", "out.exp_avg_sq_B"},
      [](io::Case& c) { c.output.moments = c.input.moments; });
  bug("factor_entry_off", "one entry of out.A off by 8 ulps", {"out.A"},
      [](io::Case& c) { c.output.A(3, 1) *= 1 + 8 * std::ldexp(1.0, -23); });
  return s;
}

/// verdict/: the classes the optimality verdict must get right (docs/validating.md,
/// "Verdicts"): wrong steps that must fail, correct steps that must pass
/// (precision carried by the data, algebraically equivalent formulas,
/// ill-conditioned layers), and undecidable ones that must be inconclusive.
std::vector<Spec> verdict_suite() {
  std::vector<Spec> s;
  const auto random_spec = [](const std::string& name, const std::string& what, const char* branch, Index m, Index n,
                              Index r, std::uint64_t seed, dtype in, dtype out) {
    Spec sp;
    sp.name = "verdict/" + name;
    sp.description = what;
    sp.expect_branch = branch;
    sp.g_rank = std::string(branch) == "scalar" ? 1 : 0;
    sp.c = random_case(m, n, r, seed, 1.0, 1, sp.g_rank);
    sp.in = in;
    sp.out = out;
    return sp;
  };
  // The long property run's ill-conditioned layer (tests/unit/test_range.cpp,
  // the hybrid guard): m 4, n 1, r 2, |A| 1e-30 with cond(A) 1e8, |B| 1e10.
  io::Case guard;
  guard.input.A = (Matrix<double>(4, 2) << 2.8793852906503111e-31, -3.6614002947874924e-39, 6.9854966484189887e-31,
                             -1.4632948446549889e-38, -8.6765620203624966e-31, 7.1159775495249209e-39,
                             -3.3261092001213828e-31, -9.5954580813787424e-40).finished();
  guard.input.B = (Matrix<double>(1, 2) << -7428648714.4490261, 20113410962.722736).finished();
  guard.input.grad_A = (Matrix<double>(4, 2) << -78577280216888.422, 212751630893684.09, 240899256904055.62, -652245911871088.38,
                                  -134581142081322.05, 364384684559010.75, 227091883904529.56, -614861809037566.88).finished();
  guard.input.grad_B = (Matrix<double>(1, 2) << -2.5158221641992931e-26, 5.9404410555300378e-34).finished();
  guard.bound.L = 4;
  guard.bound.lr = 0.05;

  {
    Spec sp = random_spec("kappa_halved_fails", "squared scalings half the optimum's (kappa off by 2): 25% less decrease",
                          "column", 24, 20, 3, 11, dtype::f64, dtype::f64);
    sp.apply = [](io::Case& c, const tools::Optima& o) { set_squares(c, o.column / 2); };
    sp.must_fail = {"optimality"};
    s.push_back(sp);
  }
  {
    Spec sp;
    sp.name = "verdict/bound_increase_fails";
    sp.description = "ill-conditioned layer, a column scaling that increases the loss bound";
    sp.c = guard;
    sp.apply = [](io::Case& c, const tools::Optima& o) {
      Vector<double> u = 3 * o.scalar;
      u(0) *= 1.25;  // column-shaped
      set_squares(c, u);
    };
    sp.must_fail = {"optimality"};
    s.push_back(sp);
  }
  {
    Spec sp;
    sp.name = "verdict/column_below_scalar_fails";
    sp.description = "ill-conditioned layer, a column scaling with about half of Theorem 3's decrease";
    sp.c = guard;
    sp.apply = [](io::Case& c, const tools::Optima& o) {
      Vector<double> u = (1 - std::sqrt(0.5)) * o.scalar;  // 2t - t^2 = 1/2
      u(1) *= 1.01;
      set_squares(c, u);
    };
    sp.must_fail = {"optimality"};
    s.push_back(sp);
  }
  {
    Spec sp = random_spec("better_than_paper_fails",
                          "no v >= 0: the best non-negative column scaling applied where the paper falls back to "
                          "Theorem 3 (fails the paper rule)",
                          "scalar", 24, 20, 3, 111, dtype::f64, dtype::f64);
    sp.apply = [](io::Case& c, const tools::Optima& o) { set_squares(c, o.nonnegative); };
    sp.must_fail = {"optimality"};
    s.push_back(sp);
    sp.name = "verdict/better_than_paper_bound_rule_passes";
    sp.description = "the same step judged with --rule bound: the best non-negative column scaling passes";
    sp.must_fail.clear();
    sp.verify_args = {"--rule", "bound"};
    s.push_back(sp);
  }
  {
    Spec sp = random_spec("scalar_q_from_grad_A_passes",
                          "Theorem 3 with q = ||A^T grad_A||^2 on F32 gradients that are not exactly of one G",
                          "scalar", 32, 24, 4, 131, dtype::f32, dtype::f32);
    sp.c.mode = scaling_mode::scalar_only;
    sp.expect_branch = "scalar";
    sp.apply = [](io::Case& c, const tools::Optima&) {
      const Matrix<double>&A = c.input.A, &B = c.input.B, &gA = c.input.grad_A, &gB = c.input.grad_B;
      const double p = ((A.transpose() * A) * (gB.transpose() * gB)).trace();
      const double ss = ((B.transpose() * B) * (gA.transpose() * gA)).trace();
      const double q = (A.transpose() * gA).squaredNorm();
      const ScalarSquares<double> sq = solve_scalar_system(p, q, ss, gB.squaredNorm(), gA.squaredNorm(),
                                                           c.bound.kappa(), 16 * 0x1p-52);
      Vector<double> u(2 * c.r);
      u.head(c.r).setConstant(sq.a);
      u.tail(c.r).setConstant(sq.b);
      set_squares(c, u);
    };
    s.push_back(sp);
  }
  {
    Spec sp = random_spec("bf16_model_as_f32_passes", "a bf16 model dumped as F32: bf16 values in F32 tensors",
                          "column", 32, 24, 4, 51, dtype::bf16, dtype::bf16);
    sp.stored_in = sp.stored_out = dtype::f32;
    sp.metadata["scalora.compute_dtype"] = "";  // inferred: F32
    s.push_back(sp);
  }
  {
    Spec sp = random_spec("f32_step_as_f64_passes", "a step computed in F32 (the library in float) stored as F64",
                          "column", 32, 24, 4, 31, dtype::f32, dtype::f32);
    sp.stored_in = sp.stored_out = dtype::f64;
    sp.metadata["scalora.compute_dtype"] = "F32";
    sp.implementation = [](io::Case& c) {
      Layer<float> l = cast_layer<float>(c.input);
      // Steps 2-8 with every computation in float (the library's scalora_step
      // accumulates float inputs in double).
      const ScalingSystem<float> sys =
          scaling_system<Matrix<float>, Matrix<float>, Matrix<float>, Matrix<float>, float>(l.A, l.B, l.grad_A, l.grad_B);
      const BoundParameters<float> bound{float(c.bound.L), float(c.bound.lr), float(c.bound.lora_scale)};
      const Scaling<float> scaling =
          optimal_scaling(sys, bound.kappa(), ScalingTolerances<float>::defaults(c.r, c.m, c.n));
      if (l.W_pt.size() != 0) resplit(l.W_pt, l.A, l.B, scaling.alpha, scaling.beta, bound.lora_scale);
      rescale_factors(l.A, l.B, scaling.alpha, scaling.beta);
      rescale_gradients(l.grad_A, l.grad_B, scaling.alpha, scaling.beta);
      transfer_moments(l.moments, scaling.alpha, scaling.beta);
      c.out_alpha = scaling.alpha.cast<double>();
      c.out_beta = scaling.beta.cast<double>();
      c.output = cast_layer<double>(l);
    };
    s.push_back(sp);
  }
  {
    Spec sp = random_spec("f16_subnormal_moments_passes", "F16 second moments in F16's subnormal range, correctly rounded",
                          "column", 16, 12, 2, 91, dtype::f16, dtype::f16);
    sp.c.input.moments.exp_avg_sq_A *= 1e-4;
    sp.c.input.moments.exp_avg_sq_B *= 1e-4;
    s.push_back(sp);
  }
  {
    Spec sp;
    sp.name = "verdict/library_ill_conditioned_passes";
    sp.description = "the library's own double step on the ill-conditioned layer (the guard falls back to Theorem 3)";
    sp.c = guard;
    sp.implementation = library_double_step;
    s.push_back(sp);
  }
  {
    Spec sp;
    sp.name = "verdict/library_near_collinear_passes";
    sp.description = "the library's own double step, A's columns collinear to 1e-9 (M ill-conditioned)";
    Matrix<double> A = gaussian_matrix(12, 3, 901) / std::sqrt(12.0);
    for (Index j = 1; j < 3; ++j) A.col(j) = A.col(0) + 1e-9 * gaussian_matrix(12, 1, 902 + std::uint64_t(j));
    sp.c = from_gradient(A, gaussian_matrix(10, 3, 905) / std::sqrt(10.0),
                         gaussian_matrix(12, 10, 906) / std::sqrt(10.0), 4.0, 0.05);
    with_state(sp.c, 907);
    sp.implementation = library_double_step;
    s.push_back(sp);
  }
  {
    Spec sp = random_spec("bf16_compute_inconclusive",
                          "M computed in BF16 at m = n = 512: the budget exceeds 1/4 of the optimum's decrease",
                          "column", 512, 512, 4, 1201, dtype::f32, dtype::f32);
    sp.metadata["scalora.compute_dtype"] = "BF16";
    sp.expect = "inconclusive";
    s.push_back(sp);
  }
  {
    Spec sp;
    sp.name = "verdict/near_tie_certified_only_inconclusive";
    sp.description = "v = (0, 1/2) exactly: the certified enclosure straddles 0; --certified-only cannot decide";
    sp.c = from_gradient((Matrix<double>(2, 1) << 1, 0).finished(), (Matrix<double>(2, 1) << 1, 1).finished(), (Matrix<double>(2, 2) << 1, 1, 0, 1).finished(), 1.0, 1.0);
    with_state(sp.c, 7);
    sp.expect_branch = "column";
    sp.verify_args = {"--certified-only"};
    sp.expect = "inconclusive";
    s.push_back(sp);
  }
  return s;
}

/// The library's own double step (float storage) as the implementation's outputs.
void library_step(io::Case& c) {
  Layer<float> l = cast_layer<float>(c.input);
  StepOptions<double> so;
  so.bound = c.bound;
  const StepResult<double> res = scalora_step(l, so);
  c.out_alpha = res.scaling.alpha;
  c.out_beta = res.scaling.beta;
  c.output = cast_layer<double>(l);
}

/// --bench: the cases of bench_verify (docs/performance.md): r = 8 ... 128 on
/// 384 x 512 and 4096 x 4096, and 4096 x 14336 r = 8 with and without G; F32,
/// W_pt, AdamW moments and every output, from the library's step.
std::vector<Spec> bench_suite() {
  std::vector<Spec> s;
  auto add = [&](Index m, Index n, Index r, bool with_g) {
    Spec sp;
    sp.name = "bench_" + std::to_string(m) + "x" + std::to_string(n) + "_r" + std::to_string(r) + (with_g ? "_G" : "");
    sp.description = "benchmark case: F32, W_pt, moments, all outputs" + std::string(with_g ? ", G" : "");
    sp.c = random_case(m, n, r, 7001 + std::uint64_t(r), 0.01);
    if (!with_g) sp.c.G.resize(0, 0);
    sp.in = sp.out = dtype::f32;
    sp.metadata["scalora.compute_dtype"] = "";  // F32 inputs: compute F32 (the library accumulates in double: stricter)
    sp.library_outputs_only = true;
    sp.implementation = library_step;
    s.push_back(std::move(sp));
  };
  for (const auto& [m, n] : {std::pair<Index, Index>{384, 512}, {4096, 4096}})
    for (Index r : {8, 16, 32, 64, 128}) add(m, n, r, false);
  add(4096, 14336, 8, false);
  add(4096, 14336, 8, true);
  // The exact fallback at its most expensive: a duplicated column makes M
  // singular, which no certified solve can handle (rank, feasibility by FLINT).
  for (Index r : {16, 64}) {
    Spec sp;
    sp.name = "bench_384x512_r" + std::to_string(r) + "_duplicate";
    sp.description = "benchmark case: a duplicated column of A (M singular: the exact path decides)";
    sp.c = random_case(384, 512, r, 9001 + std::uint64_t(r), 0.01);
    sp.c.G.resize(0, 0);
    sp.c.input.A.col(1) = sp.c.input.A.col(0);
    sp.c.input.grad_B.col(1) = sp.c.input.grad_B.col(0);
    sp.in = sp.out = dtype::f32;
    sp.metadata["scalora.compute_dtype"] = "";
    sp.library_outputs_only = true;
    sp.implementation = library_step;
    s.push_back(std::move(sp));
  }
  return s;
}

std::vector<Spec> large_suite() {
  std::vector<Spec> s;
  for (const auto& [m, n] : {std::pair<Index, Index>{4096, 4096}, {4096, 14336}}) {
    Spec sp;
    sp.name = "large_" + std::to_string(m) + "x" + std::to_string(n) + "_r8";
    sp.description = "realistic shape, F32, W_pt, moments and all outputs (no G)";
    sp.c = random_case(m, n, 8, 7001, 0.01);
    sp.c.G.resize(0, 0);
    sp.in = sp.out = dtype::f32;
    s.push_back(std::move(sp));
  }
  return s;
}

/// The case as the spec stores it: outputs the spec leaves out removed, values
/// of stored_out rounded to `out` first; and how io::write_case stores it.
std::pair<io::Case, io::CaseWriteOptions> stored_case(const Spec& sp, io::Case c) {
  c.output.grad_A.resize(0, 0);
  c.output.grad_B.resize(0, 0);
  if (!sp.factors) {
    c.output.A.resize(0, 0);
    c.output.B.resize(0, 0);
  }
  if (sp.stored_out)
    for (const auto& [name, part] : io::layer_parts(c.output))
      if (part->size() != 0) *part = rounded(*part, sp.out);
  if (!sp.scalings) {
    c.out_alpha.resize(0);
    c.out_beta.resize(0);
  }
  c.out_alpha_scalar = c.out_beta_scalar = sp.scalings_as_scalar;
  io::CaseWriteOptions o;
  o.inputs = sp.stored_in.value_or(sp.in);
  o.outputs = sp.stored_out.value_or(sp.out);
  if (sp.optimizer_step) {
    io::Tensor step;
    step.name = "step";
    step.type = dtype::i64;
    step.data = {7, 0, 0, 0, 0, 0, 0, 0};  // 7, shape []
    o.extra.push_back(step);
  }
  return {std::move(c), std::move(o)};
}

std::string file_sha256(const fs::path& p) { return io::sha256_hex(io::read_file(p.string())); }

/// Computes the expected outputs, writes the case, returns its manifest entry.
nlohmann::json write(Spec sp, const fs::path& dir) {
  // Random cases: search seeds until the reference takes the branch the case is for.
  reference::ReferenceOutputs ref;
  const bool had_w = sp.c.input.W_pt.size() != 0, had_g = sp.c.G.size() != 0;
  for (int attempt = 0;; ++attempt) {
    round_inputs(sp);
    if (sp.library_outputs_only) {
      ref.layer = sp.c.input;
      ref.alpha = ref.beta = Vector<double>::Ones(sp.c.r);
      ref.kind = "library step";
      break;
    }
    ref = tools::expected_outputs(sp.c);
    if (sp.expect_branch.empty() || to_string(ref.applied) == sp.expect_branch) break;
    if (attempt == 40 || sp.c.m < 8) throw std::runtime_error(sp.name + ": the reference never took the " + sp.expect_branch + " branch");
    const io::Case fresh =
        random_case(sp.c.m, sp.c.n, sp.c.r, 1000 + 37 * std::uint64_t(attempt) + sp.name.size(), 1.0,
                    sp.c.bound.lora_scale, sp.g_rank);
    sp.c.input = fresh.input;
    sp.c.G = had_g ? fresh.G : Matrix<double>();
    if (!had_w) {
      sp.c.input.W_pt.resize(0, 0);
      sp.c.input.moments = {};
    }
  }
  io::Case& c = sp.c;
  c.output = ref.layer;
  c.out_alpha = ref.alpha;
  c.out_beta = ref.beta;
  if (sp.flip_sign) {
    // (-alpha, -beta): alpha o beta and so W_pt' are unchanged; the factors and
    // first moments change sign, the second moments do not.
    c.out_alpha = -ref.alpha;
    c.out_beta = -ref.beta;
    c.output.A = -c.output.A;
    c.output.B = -c.output.B;
    c.output.moments.exp_avg_A = -c.output.moments.exp_avg_A;
    c.output.moments.exp_avg_B = -c.output.moments.exp_avg_B;
  }
  if (sp.apply) {
    sp.apply(c, tools::optima(c));
    c.output = outputs_for(c);
  }
  if (sp.implementation) sp.implementation(c);
  if (sp.corrupt) sp.corrupt(c);
  c.metadata = {{"generator", std::string("scalora-vectors ") + version_string}, {"scalora.compute_dtype", "F64"}};
  if (c.mode == scaling_mode::scalar_only) c.metadata["scalora.mode"] = "scalar";
  for (const auto& [k, v] : sp.metadata) {
    if (v.empty()) c.metadata.erase(k);
    else c.metadata[k] = v;
  }
  c.compute_type.reset();  // the metadata above says it (or, erased, leaves it to the verifier)
  const auto [stored, how] = stored_case(sp, c);
  const std::map<std::string, std::string>& meta = stored.metadata;

  nlohmann::json e;
  fs::path file = dir / sp.name;
  fs::create_directories(file.parent_path());
  if (sp.container != "npy") file += sp.container == "npz" ? ".npz" : ".safetensors";
  const std::vector<std::string> written = io::write_case(file.string(), stored, how);
  if (sp.container == "npy") {
    for (const std::string& w : written) e["files"][fs::path(w).filename().string()] = file_sha256(w);
  } else {
    e["sha256"] = file_sha256(file);
    e["bytes"] = std::uintmax_t(fs::file_size(file));
  }
  const std::vector<io::Tensor> ts = io::case_tensors(stored, how);
  e["name"] = sp.name;
  e["file"] = fs::relative(file, dir).string();
  e["description"] = sp.description;
  e["branch"] = to_string(ref.applied);
  e["reference"] = ref.kind;
  e["rank_M"] = ref.rank;
  e["mode"] = c.mode == scaling_mode::scalar_only ? "scalar" : "hybrid";
  e["m"] = c.m;
  e["n"] = c.n;
  e["r"] = c.r;
  e["lora_scale"] = c.bound.lora_scale;
  e["dtypes"] = {{"inputs", io::safetensors_name(sp.stored_in.value_or(sp.in))},
                 {"outputs", io::safetensors_name(sp.stored_out.value_or(sp.out))},
                 {"scalings", "F64"}};
  if (sp.stored_in) e["dtypes"]["input_values"] = io::safetensors_name(sp.in);
  if (sp.stored_out) e["dtypes"]["output_values"] = io::safetensors_name(sp.out);
  e["compute_dtype"] = sp.container == "safetensors" && meta.count("scalora.compute_dtype")
                           ? meta.at("scalora.compute_dtype") + " (metadata)"
                           : "default";
  for (const io::Tensor& t : ts) e["tensors"].push_back(t.name);
  e["expect"] = !sp.expect.empty() ? sp.expect : sp.must_fail.empty() ? "pass" : "fail";
  e["must_fail"] = sp.must_fail;
  e["verify_args"] = sp.verify_args;
  e["alpha"] = std::vector<double>(c.out_alpha.data(), c.out_alpha.data() + c.out_alpha.size());
  e["beta"] = std::vector<double>(c.out_beta.data(), c.out_beta.data() + c.out_beta.size());
  std::printf("  %-34s %-7s %-28s %s\n", sp.name.c_str(), to_string(ref.applied), ref.kind.c_str(),
              e["file"].get<std::string>().c_str());
  return e;
}

int run(int argc, char** argv) {
  std::string dir;
  bool large = false, bench = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--large") large = true;
    else if (a == "--bench") bench = true;
    else if (a == "--help" || a == "-h") {
      std::printf("usage: scalora-vectors DIR [--large] [--bench]\n");
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "scalora-vectors: unknown option '%s'\nusage: scalora-vectors DIR [--large] [--bench]\n", a.c_str());
      return 2;
    } else if (dir.empty()) dir = a;
    else {
      std::fprintf(stderr, "scalora-vectors: one DIR only\n");
      return 2;
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "usage: scalora-vectors DIR [--large] [--bench]\n");
    return 2;
  }
  fs::create_directories(dir);
  std::vector<Spec> specs;
  if (bench) specs = bench_suite();
  else {
    specs = small_suite();
    for (Spec& sp : verdict_suite()) specs.push_back(std::move(sp));
  }
  if (large)
    for (Spec& sp : large_suite()) specs.push_back(std::move(sp));
  nlohmann::json manifest;
  manifest["generator"] = std::string("scalora-vectors ") + version_string;
  manifest["format"] = "docs/validating.md";
  manifest["cases"] = nlohmann::json::array();
  std::printf("scalora-vectors: writing %zu cases to %s\n", specs.size(), dir.c_str());
  for (Spec& sp : specs) manifest["cases"].push_back(write(std::move(sp), dir));
  const std::string text = manifest.dump(2) + "\n";
  io::write_file_atomically((fs::path(dir) / "manifest.json").string(), text);
  std::printf("scalora-vectors: %s/manifest.json\n", dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return scalora::tools::close_stdout("scalora-vectors", run(argc, argv));
  } catch (const std::exception& e) {  // the arguments are checked in run(): anything else is I/O or memory
    std::fprintf(stderr, "scalora-vectors: %s\n", e.what());
    return scalora::tools::kExitError;
  }
}
