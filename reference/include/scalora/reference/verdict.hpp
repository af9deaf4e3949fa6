// SPDX-License-Identifier: Apache-2.0
// The result of judging one case file (reference/verify.hpp): named checks with
// status, value and tolerance, and what the reference and the implementation
// did. Plain data, no Boost: command-line programs report it without compiling
// the reference.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "scalora/core/branch.hpp"
#include "scalora/io/dtype.hpp"
#include "scalora/linalg/step.hpp"

namespace scalora::reference {

/// pass/fail: value <= tolerance or not (NaN fails); info: context, never
/// fails; skip: the case lacks what the check needs.
enum class check_status { pass, fail, info, skip };

inline const char* to_string(check_status s) {
  switch (s) {
    case check_status::pass: return "pass";
    case check_status::fail: return "fail";
    case check_status::info: return "info";
    case check_status::skip: return "skip";
  }
  return "?";
}

/// One line of a verdict.
struct VerifyCheck {
  std::string id;    ///< stable short name: "optimality_gap", "out.exp_avg_B", "W_unchanged", ...
  std::string name;  ///< the statement checked
  check_status status = check_status::pass;
  double value = 0;      ///< measured, in `unit`
  double tolerance = 0;  ///< pass iff value <= tolerance
  std::string unit;      ///< "eps_F32" (epsilon of that dtype), "relative", ...
  std::string detail;
};

/// The ids scalora-verify can report, in report order (--tol accepts these).
inline const std::vector<std::string>& verify_check_ids() {
  static const std::vector<std::string> ids = {
      "scalings",         "branch",           "bound_value",       "squared_scalings",  "scalar_case",
      "optimality_gap",   "out.A",            "out.B",             "out.grad_A",        "out.grad_B",
      "out.exp_avg_A",    "out.exp_avg_sq_A", "out.exp_avg_B",     "out.exp_avg_sq_B",  "W_unchanged",
      "grad_A_vs_G",      "grad_B_vs_G",      "bound_decrease",    "theorem1"};
  return ids;
}

struct VerifyOptions {
  std::optional<io::dtype> compute;         ///< precision of the implementation's M, lambda, u (default: see verify.hpp)
  std::optional<scaling_mode> mode;         ///< overrides the case's metadata
  double eps_scale = 1;                     ///< multiplies every tolerance
  std::map<std::string, double> tolerance;  ///< by check id: replaces that tolerance (after eps_scale)
};

/// What the verifier found for one case.
struct Verdict {
  std::string source;
  long m = 0, n = 0, r = 0;
  double L = 0, lr = 0, lora_scale = 1;
  io::dtype compute = io::dtype::f64;
  std::string compute_reason;
  scaling_mode mode = scaling_mode::hybrid;
  std::map<std::string, io::dtype> dtypes;

  // The reference (exact decision on the stored inputs).
  branch reference_branch = branch::scalar;
  std::string reference_kind;  ///< "column" (+ solve method) or the Theorem 3 case
  long rank_M = 0;
  double margin = 0;          ///< signed distance of the column decision from its boundary
  bool reference_exact = true;
  std::vector<double> reference_alpha, reference_beta;

  // The scaling the implementation applied (empty when the case holds none).
  std::vector<double> alpha, beta;
  std::string alpha_source, beta_source;

  // Predicted decreases of the loss bound (first order); NaN where unknown.
  double decrease_vanilla = 0, decrease_scalar = 0;
  double decrease_column = std::numeric_limits<double>::quiet_NaN();
  double decrease_applied = std::numeric_limits<double>::quiet_NaN();
  double decrease_svd = std::numeric_limits<double>::quiet_NaN();

  std::vector<VerifyCheck> checks;
  std::vector<std::string> notes;
  std::vector<std::pair<std::string, double>> seconds;  ///< where the time went

  bool passed() const {
    return std::none_of(checks.begin(), checks.end(), [](const VerifyCheck& c) { return c.status == check_status::fail; });
  }
  int count(check_status s) const {
    return int(std::count_if(checks.begin(), checks.end(), [s](const VerifyCheck& c) { return c.status == s; }));
  }
};

/// The reference's outputs for a case's inputs (scalora-vectors): steps 5-8
/// with the exact decision. Values in R rounded to double; for m n > 2^20 the
/// re-split, rescaling and moment transfer run in double with the reference's
/// scalings (scalora::resplit; the multiprecision merge would take minutes),
/// within budget::resplit of the exact merge.
struct ReferenceOutputs {
  Layer<double> layer;  ///< W_pt', A', B', grad_A', grad_B', moments'
  Vector<double> alpha, beta;
  branch applied = branch::scalar;
  std::string kind;  ///< "column" or "scalar, <Theorem 3 case>"
  Index rank = 0;
};

/// epsilon (the gap between 1 and the next number, 2 u) of a tensor dtype:
/// F64 2^-52, F32 2^-23, BF16 2^-7, F16 2^-10. BOOL and the integer dtypes have none:
/// NaN, a tolerance no check passes (case files refuse them for the names judged).
inline double dtype_epsilon(io::dtype t) {
  switch (t) {
    case io::dtype::f64: return std::ldexp(1.0, -52);
    case io::dtype::f32: return std::ldexp(1.0, -23);
    case io::dtype::bf16: return std::ldexp(1.0, -7);
    case io::dtype::f16: return std::ldexp(1.0, -10);
    case io::dtype::boolean:
    case io::dtype::u8:
    case io::dtype::i8:
    case io::dtype::u16:
    case io::dtype::i16:
    case io::dtype::u32:
    case io::dtype::i32:
    case io::dtype::u64:
    case io::dtype::i64: return std::numeric_limits<double>::quiet_NaN();
  }
  return 1.0;
}

}  // namespace scalora::reference
