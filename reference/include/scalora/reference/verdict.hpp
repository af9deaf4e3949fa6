// SPDX-License-Identifier: Apache-2.0
// The records of a judgement (reference/compare.hpp, reference/verify.hpp):
// one check record for every check the toolkit makes, the verdict of one case
// file, and the options of scalora-verify. Plain data, no Boost: command-line
// programs report them without compiling the reference.
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

/// Outcome of a judgement: the step is right, wrong, or the certified
/// computation could not tell at the stated precision.
enum class verdict_status : unsigned char { pass, fail, inconclusive };

inline const char* to_string(verdict_status s) {
  switch (s) {
    case verdict_status::pass: return "pass";
    case verdict_status::fail: return "fail";
    case verdict_status::inconclusive: return "inconclusive";
  }
  return "?";
}

/// Which optimum an applied scaling is held to (reference/judgement.hpp):
/// paper  the paper's hybrid rule: Theorem 5's column optimum when the exact
///        decision finds v >= 0, otherwise Theorem 3's scalar optimum; doing
///        better than that rule (e.g. the best non-negative column scaling where
///        the paper falls back) fails it (default);
/// bound  the best decrease over all column scalings with u >= 0.
enum class scaling_rule : unsigned char { paper, bound };

inline const char* to_string(scaling_rule r) { return r == scaling_rule::paper ? "paper" : "bound"; }

/// pass / fail / inconclusive: the check's verdict; info: context, never
/// decides; skip: the case lacks what the check needs.
enum class check_status : unsigned char { pass, fail, inconclusive, info, skip };

inline const char* to_string(check_status s) {
  switch (s) {
    case check_status::pass: return "pass";
    case check_status::fail: return "fail";
    case check_status::inconclusive: return "inconclusive";
    case check_status::info: return "info";
    case check_status::skip: return "skip";
  }
  return "?";
}

/// One check: a statement, its measured value and tolerance in `unit`.
struct Check {
  std::string id;    ///< stable short name: "optimality", "out.exp_avg_B", "W_unchanged", ...
  std::string name;  ///< the statement checked
  check_status status = check_status::pass;
  double value = 0;      ///< measured, in `unit`
  double tolerance = 0;  ///< pass iff value <= tolerance (for pass/fail checks)
  std::string unit;      ///< "eps_F32" (epsilon of that dtype), "relative", ...
  std::string detail;
  bool decides() const { return status == check_status::pass || status == check_status::fail || status == check_status::inconclusive; }
};

/// The overall status of a list of checks: fail if one fails, else
/// inconclusive if one is, else pass.
inline verdict_status overall(const std::vector<Check>& checks) {
  if (std::any_of(checks.begin(), checks.end(), [](const Check& c) { return c.status == check_status::fail; }))
    return verdict_status::fail;
  if (std::any_of(checks.begin(), checks.end(), [](const Check& c) { return c.status == check_status::inconclusive; }))
    return verdict_status::inconclusive;
  return verdict_status::pass;
}

/// The checks of one computed step (compare_step, verify_case).
struct Comparison {
  std::vector<Check> checks;
  verdict_status status() const { return overall(checks); }
  bool passed() const { return status() == verdict_status::pass; }
  const Check* find(const std::string& id) const {
    for (const Check& c : checks)
      if (c.id == id) return &c;
    return nullptr;
  }
};

/// The ids scalora-verify can report, in report order (--tol accepts the pass/fail ones).
inline const std::vector<std::string>& verify_check_ids() {
  static const std::vector<std::string> ids = {
      "optimality",       "scalings",         "branch",            "squared_scalings",  "bound_decrease",
      "out.A",            "out.B",            "out.grad_A",        "out.grad_B",        "out.exp_avg_A",
      "out.exp_avg_sq_A", "out.exp_avg_B",    "out.exp_avg_sq_B",  "W_unchanged",       "grad_A_vs_G",
      "grad_B_vs_G",      "theorem1"};
  return ids;
}

struct VerifyOptions {
  std::optional<io::dtype> compute;         ///< precision of the implementation's M, lambda, u (default: see verify.hpp)
  std::optional<scaling_mode> mode;         ///< overrides the case's metadata
  scaling_rule rule = scaling_rule::paper;  ///< which optimum the applied scaling is held to
  bool certified_only = false;              ///< no exact fallback: undecided comparisons are inconclusive
  double eps_scale = 1;                     ///< multiplies every tolerance of the pass/fail checks
  std::map<std::string, double> tolerance;  ///< by check id: replaces that tolerance (after eps_scale)
};

/// What the verifier found for one case.
struct Verdict {
  std::string source;
  long m = 0, n = 0, r = 0;
  BoundParameters<double> bound{0, 0, 1};  ///< the case's L, lr, lora_scale
  io::dtype compute = io::dtype::f64;
  std::string compute_reason;
  scaling_mode mode = scaling_mode::hybrid;
  scaling_rule rule = scaling_rule::paper;
  std::map<std::string, io::dtype> dtypes;         ///< as stored
  std::map<std::string, io::dtype> value_dtypes;   ///< the precision the values carry (inferred)

  // The exact decision.
  branch reference_branch = branch::scalar;
  std::string reference_kind;  ///< "column" or "scalar, <Theorem 3 case>"
  long rank_M = 0;
  double margin = 0;           ///< signed distance of the column decision from its boundary
  bool flip_possible = false;  ///< the decision is within the compute precision's resolution of its boundary
  std::vector<double> reference_alpha, reference_beta;  ///< the rule's optimum (double)

  // The scaling the implementation applied (empty when the case holds none).
  std::vector<double> alpha, beta;
  std::string alpha_source, beta_source;

  // Decreases of the loss bound (first order, loss units); NaN where unknown.
  double decrease_vanilla = 0, decrease_scalar = 0;
  double decrease_column = std::numeric_limits<double>::quiet_NaN();  ///< unconstrained column optimum
  double decrease_applied = std::numeric_limits<double>::quiet_NaN();
  double decrease_target = std::numeric_limits<double>::quiet_NaN();  ///< the optimum that decided
  double decrease_svd = std::numeric_limits<double>::quiet_NaN();

  std::vector<Check> checks;
  std::vector<std::string> notes;
  /// Which path decided each comparison of the optimality verdict: (what, "certified"/"exact"/"undecided").
  std::vector<std::pair<std::string, std::string>> decisions;
  std::vector<std::pair<std::string, double>> seconds;  ///< where the time went

  verdict_status status() const { return overall(checks); }
  bool passed() const { return status() == verdict_status::pass; }
  int count(check_status s) const {
    return int(std::count_if(checks.begin(), checks.end(), [s](const Check& c) { return c.status == s; }));
  }
  /// The first failing (else inconclusive) check: what decided the verdict.
  const Check* decisive() const {
    for (check_status s : {check_status::fail, check_status::inconclusive})
      for (const Check& c : checks)
        if (c.status == s) return &c;
    return nullptr;
  }
};

/// The reference's outputs for a case's inputs (scalora-vectors): steps 5-8
/// with the exact decision's canonical scaling (decisions D5), in double.
struct ReferenceOutputs {
  Layer<double> layer;  ///< W_pt', A', B', grad_A', grad_B', moments'
  Vector<double> alpha, beta;
  branch applied = branch::scalar;
  std::string kind;  ///< "column" or "scalar, <Theorem 3 case>"
  Index rank = 0;
};

}  // namespace scalora::reference
