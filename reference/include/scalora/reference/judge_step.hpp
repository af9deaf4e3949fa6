// SPDX-License-Identifier: Apache-2.0
// Judging one implementation's step of one layer from host copies of its
// state before and after, with the outcome record it reported: the public
// function the kernels' checks (gpu/tests/reference_check.cpp), the trainer's
// shadow verification (tools/train/shadow_check.cpp) and any caller holding
// Eigen copies of a layer share.
#pragma once

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "scalora/core/step_outcome.hpp"
#include "scalora/reference/compare.hpp"

namespace scalora::reference {

namespace detail {
template <class S>
bool all_finite(const Layer<S>& l) {
  const auto fin = [](const Matrix<S>& m) { return m.size() == 0 || m.allFinite(); };
  return fin(l.W_pt) && fin(l.A) && fin(l.B) && fin(l.grad_A) && fin(l.grad_B) && fin(l.moments.exp_avg_A) &&
         fin(l.moments.exp_avg_sq_A) && fin(l.moments.exp_avg_B) && fin(l.moments.exp_avg_sq_B);
}

/// An upper bound on log2 of the largest entry of M = (S_A^T S_A) o (S_B^T S_B)
/// (spec section 3; S_A = [A, grad_A] m x 2r, S_B = [grad_B, B] n x 2r):
/// |M_ij| <= m a^2 n b^2 with a, b the largest entries of S_A, S_B.
template <class S>
double log2_system_bound(const Layer<S>& l) {
  using std::log2;
  const double a = std::max(double(l.A.cwiseAbs().maxCoeff()), double(l.grad_A.cwiseAbs().maxCoeff()));
  const double b = std::max(double(l.B.cwiseAbs().maxCoeff()), double(l.grad_B.cwiseAbs().maxCoeff()));
  if (a == 0 || b == 0) return -HUGE_VAL;
  return log2(double(l.A.rows())) + 2 * log2(a) + log2(double(l.B.rows())) + 2 * log2(b);
}

/// Entries of `after` that differ from `before` (NaN equal to NaN).
template <class S>
double changed_entries(const Layer<S>& before, const Layer<S>& after) {
  double changed = 0;
  const auto count = [&](const Matrix<S>& x, const Matrix<S>& y) {
    if (x.rows() != y.rows() || x.cols() != y.cols()) {
      changed += double(std::max(x.size(), y.size()));
      return;
    }
    for (Index k = 0; k < x.size(); ++k)
      if (!(x.data()[k] == y.data()[k]) && !(x.data()[k] != x.data()[k] && y.data()[k] != y.data()[k])) ++changed;
  };
  count(before.W_pt, after.W_pt);
  count(before.A, after.A);
  count(before.B, after.B);
  count(before.grad_A, after.grad_A);
  count(before.grad_B, after.grad_B);
  count(before.moments.exp_avg_A, after.moments.exp_avg_A);
  count(before.moments.exp_avg_sq_A, after.moments.exp_avg_sq_A);
  count(before.moments.exp_avg_B, after.moments.exp_avg_B);
  count(before.moments.exp_avg_sq_B, after.moments.exp_avg_sq_B);
  return changed;
}
}  // namespace detail

/// Judges a step of storage type S: compare_step() of the state before ->
/// after with the applied scalings alpha, beta (r each, as the implementation
/// computed them). An outcome reporting nonfinite (NaN/Inf reached M, lambda
/// or the aggregates, computed in double) is judged first:
///   outcome.nonfinite   fails when the layer is finite and M's entries are
///                       below 2^1000 (log2_system_bound): no double
///                       computation of them overflows, the record hides a
///                       skipped step;
///   outcome.unchanged   otherwise the step must write nothing: the entries
///                       that differ from before (tolerance 0).
/// Precondition: before and after have the same parts (a W_pt in both or
/// neither, moments in both or neither).
/// Proof that it can fail: tests/unit/test_judge_step.cpp (planted faults).
template <class S>
Comparison judge_step(const Layer<S>& before, const Layer<S>& after, const StepOutcome<double>& outcome,
                      const Vector<double>& alpha, const Vector<double>& beta, const BoundParameters<double>& bound,
                      const CompareOptions& o = {}) {
  if (outcome.nonfinite) {
    Comparison cmp;
    if (detail::all_finite(before) && detail::log2_system_bound(before) < 1000) {
      cmp.checks.push_back({"outcome.nonfinite", "non-finite reported for a layer whose M cannot overflow",
                            check_status::fail, detail::log2_system_bound(before), 1000, "log2 max|M_ij| bound",
                            "the implementation skipped a step it could compute"});
    } else {
      const double changed = detail::changed_entries(before, after);
      cmp.checks.push_back({"outcome.unchanged", "a non-finite step writes nothing (entries changed)",
                            changed == 0 ? check_status::pass : check_status::fail, changed, 0, "entries", ""});
    }
    return cmp;
  }
  return compare_step(before, after, alpha, beta, bound, o);
}

/// One line per deciding check: "pass|FAIL|INCONCLUSIVE <name>: <id> <statement>
/// = <value> (tolerance <t> <unit>) <detail>".
inline std::string describe(const Comparison& cmp, const std::string& name) {
  std::ostringstream os;
  os.precision(6);
  for (const Check& c : cmp.checks) {
    if (!c.decides()) continue;
    os << (c.status == check_status::pass ? "pass " : c.status == check_status::fail ? "FAIL " : "INCONCLUSIVE ")
       << name << ": " << c.id << " " << c.name << " = " << c.value << " (tolerance " << c.tolerance << " " << c.unit
       << ") " << c.detail << "\n";
  }
  return os.str();
}

}  // namespace scalora::reference
